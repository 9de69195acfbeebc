"""Loading KenLM language models once per worker process, with a pure-Python fallback for ARPA files.

``load_language_model(path)`` returns an object with ``score(sentence, bos=True, eos=True) -> log10``:
``kenlm.Model`` when the ``kenlm`` package is installed (ARPA or KenLM binary, memory-mapped;
``load_method`` POPULATE as CCNet's ``DocLM`` uses), else :class:`~curate.quality.arpa_model.ArpaModel`
for ARPA files. A KenLM binary file without the ``kenlm`` package is an actionable error.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Any, Literal

from curate.quality.arpa_model import ArpaModel, is_arpa
from curate.quality.errors import KenLMUnavailableError, QualityConfigError

Backend = Literal["auto", "kenlm", "python"]


def kenlm_available() -> bool:
    return importlib.util.find_spec("kenlm") is not None


def load_language_model(path: str, backend: Backend = "auto") -> Any:
    """The n-gram model at ``path``, loaded once per process and backend (again if the file changed)."""
    st = os.stat(path)
    return _load(path, backend, st.st_mtime_ns, st.st_size)


def check_loadable(path: str, backend: Backend = "auto") -> bool:
    """Whether ``path`` needs the ``kenlm`` package (False: the pure-Python ARPA scorer reads it); raises
    :class:`KenLMUnavailableError` saying what to install when it needs ``kenlm`` and that is missing.
    Reads only the file's first line: cheap enough for ``preflight``."""
    if backend == "python" or (backend == "auto" and not kenlm_available()):
        if not is_arpa(path):
            raise KenLMUnavailableError(
                f"{path!r} is not an ARPA text file (a KenLM binary?) and the `kenlm` package is not installed: "
                "`pip install kenlm` (builds from source, needs a C++ compiler and cmake), or point the block "
                "at the ARPA version of the model"
            )
        return False
    if not kenlm_available():
        raise KenLMUnavailableError("backend 'kenlm' was requested but the `kenlm` package is not installed: "
                                    "`pip install kenlm` (or use backend 'auto' for ARPA files)")
    return True


@lru_cache(maxsize=32)
def _load(path: str, backend: Backend, _mtime_ns: int, _size: int) -> Any:
    if not check_loadable(path, backend):
        return ArpaModel(path)
    # optional extra (curate-corpus[quality]): imported only when a KenLM model is used
    import kenlm

    config = kenlm.Config()
    config.load_method = 2  # POPULATE, as cc_net perplexity.DocLM
    try:
        return kenlm.Model(path, config)
    except (OSError, RuntimeError) as exc:
        raise QualityConfigError(f"KenLM could not load {path!r}: {exc}") from exc
