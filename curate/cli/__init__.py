"""The ``curate`` command line: every command, and the only layer that imports the executors' callers.

``main`` is named here because the console script (``curate = "curate.cli:main"`` in pyproject.toml) and
``python -m curate.cli`` start from this package.
"""

from curate.cli.main import main

__all__ = ["main"]
