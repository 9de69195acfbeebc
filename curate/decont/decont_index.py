"""An opened decontamination index: exact n-gram lookup plus the evaluation texts to check hits against.

Opened once per process and path (:func:`open_index`), read-only; the arrays are memory-mapped (see
:mod:`curate.decont.index_files`). The evaluation texts are loaded on the first hit, and a text's tokens are
computed again from its text (the same normal form and tokenizer as at build time) when a hit needs checking.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curate.decont.errors import DecontIndexError
from curate.decont.hash_lookup import HashLookup
from curate.decont.index_files import ARRAYS, load_array, load_texts, local_file, read_manifest
from curate.decont.ngram_hash import HASH_SCHEME
from curate.decont.run_segmenter import RunSegmenter
from curate.decont.tokens import tokenize

NORMAL_FORM = "nfkc+thai-lao-am/lower1/cf-removed/punct-symbols-separate; v1"
MAX_TOKEN_CACHE = 20_000


@dataclass(frozen=True)
class TextInfo:
    text_id: int
    lang: str
    tokens: int
    items: list[dict[str, str]]  # [{set, item, field}]

    @property
    def set(self) -> str:
        return self.items[0]["set"]

    @property
    def item(self) -> str:
        return self.items[0]["item"]

    @property
    def field(self) -> str:
        return self.items[0]["field"]


class DecontIndex:
    """Lookup (``words``, ``refs``, ``chars``) and evaluation texts (a ``texts`` table, memory-mapped, read lazily)."""

    def __init__(self, manifest: dict[str, Any], words: HashLookup, refs: np.ndarray, chars: HashLookup,
                 texts: Any, path: str = "<memory>") -> None:
        self.manifest = manifest
        self.path = path
        self.n = int(manifest["n"])
        self.words = words
        self.refs = refs
        self.chars = chars
        self._texts = texts  # a pa.Table, or a callable returning one
        self._columns: dict[str, pa.Array] | None = None
        self._tokens: dict[int, list[str]] = {}
        self._segmenter = RunSegmenter()
        self._lock = threading.Lock()

    @property
    def has_runs(self) -> bool:
        return bool(self.chars.hashes.size)

    def _column(self, name: str) -> pa.Array:
        if self._columns is None:
            table = self._texts() if callable(self._texts) else self._texts
            self._columns = {c: table.column(c).combine_chunks() for c in ("lang", "text", "tokens", "items")}
        return self._columns[name]

    def texts(self) -> list[str]:
        """Every evaluation text, in text id order."""
        return self._column("text").to_pylist()

    def text_lengths(self) -> np.ndarray:
        """Tokens of every evaluation text, in text id order."""
        return self._column("tokens").to_numpy()

    def text_items(self) -> list[list[dict[str, str]]]:
        """Per evaluation text, the items holding it (set, item, field), in text id order."""
        return self._column("items").to_pylist()

    def info(self, text_id: int) -> TextInfo:
        return TextInfo(text_id, self._column("lang")[text_id].as_py(), self._column("tokens")[text_id].as_py(),
                        self._column("items")[text_id].as_py())

    def text_tokens(self, ids: list[int]) -> dict[int, list[str]]:
        """Token strings of evaluation texts ``ids`` (normal form, the tokenizer of the text's language)."""
        with self._lock:
            missing = [i for i in dict.fromkeys(ids) if i not in self._tokens]
            if missing:
                texts, langs = self._column("text"), self._column("lang")
                batch, tokens = tokenize([texts[i].as_py() for i in missing], [langs[i].as_py() for i in missing],
                                         self._segmenter)
                if len(self._tokens) + len(missing) > MAX_TOKEN_CACHE:
                    self._tokens.clear()
                for k, text_id in enumerate(missing):
                    lo, hi = int(tokens.offsets[k]), int(tokens.offsets[k + 1])
                    self._tokens[text_id] = [batch.text(int(s), int(e))
                                             for s, e in zip(tokens.starts[lo:hi], tokens.ends[lo:hi], strict=True)]
            return {i: self._tokens[i] for i in ids}

    @classmethod
    def from_arrays(cls, manifest: dict[str, Any], arrays: dict[str, np.ndarray], texts: Any,
                    path: str = "<memory>") -> DecontIndex:
        return cls(manifest, HashLookup(arrays["words"], arrays["words_bitmap"]), arrays["refs"],
                   HashLookup(arrays["chars"], arrays["chars_bitmap"]), texts, path)


def check_compatible(manifest: dict[str, Any], path: str) -> None:
    """Refuse an index whose hashes this process would compute differently."""
    here = {"unicode": unicodedata.unidata_version, "hash": HASH_SCHEME, "normal_form": NORMAL_FORM}
    for key, value in here.items():
        if manifest.get(key) != value:
            raise DecontIndexError(
                f"decontamination index {path} was built with {key} {manifest.get(key)!r}, this process has "
                f"{value!r} (another Python or curate version); rebuild the index here with `curate decont index`")


_OPEN: dict[str, DecontIndex] = {}
_OPEN_LOCK = threading.Lock()


def open_index(path: str) -> DecontIndex:
    """The index at ``path`` (local folder or fsspec URL), checked and mapped once per process."""
    with _OPEN_LOCK:
        index = _OPEN.get(path)
        if index is None:
            manifest = read_manifest(path)
            check_compatible(manifest, path)
            for name, meta in sorted(manifest["files"].items()):  # damage is found now, not at the first hit
                local_file(path, name, meta["sha256"])
            arrays = {name: load_array(path, manifest, name) for name in ARRAYS}
            index = _OPEN[path] = DecontIndex.from_arrays(manifest, arrays, lambda: load_texts(path, manifest), path)
        return index
