"""Interoperability with other data-processing toolkits (datatrove).

Nothing here imports datatrove at import time: :class:`DatatroveStep` needs it (``pip install
'curate-corpus[datatrove]'``). The readers of datatrove's outputs are input formats, in
``curate/io/datatrove_readers.py``.
"""

from __future__ import annotations

from curate.interop.datatrove_block import DatatroveMissingError, DatatroveStep, DatatroveStepError

__all__ = ["DatatroveMissingError", "DatatroveStep", "DatatroveStepError"]
