"""Per-block, per-language counters: in = out + removed (by reason) + errored (by kind)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa


def error_kind(message: str) -> str:
    """The stable part of an error message, used as its counter key ("timeout", "ValueError")."""
    return message.split(":", 1)[0].strip() or "error"


class StepCounts:
    def __init__(self) -> None:
        self.langs: dict[str, dict[str, Any]] = {}
        self.first_error: str | None = None  # the first error message seen (the error budget names it)

    def _lang(self, lang: str) -> dict[str, Any]:
        if lang not in self.langs:
            self.langs[lang] = {"in": 0, "out": 0, "removed": Counter(), "errored": Counter(),
                                "bytes_in": 0, "bytes_out": 0, "bytes_removed": Counter(), "extra": Counter()}
        return self.langs[lang]

    def add(self, langs_in: list[str], outcome: list[tuple[str, str | None]], nbytes: list[int] | None = None) -> None:
        """``outcome`` per row: ("out", None) | ("removed", reason) | ("errored", kind); ``langs_in`` per
        row is the language the row is counted under (after the block, so langid's own output
        is counted under the detected language). ``nbytes``: UTF-8 bytes of each row's text."""
        sizes = nbytes if nbytes is not None else [0] * len(langs_in)
        for lang, (what, why), size in zip(langs_in, outcome, sizes, strict=True):
            entry = self._lang(lang)
            entry["in"] += 1
            entry["bytes_in"] += size
            if what == "out":
                entry["out"] += 1
                entry["bytes_out"] += size
            else:
                entry[what][why] += 1
                if what == "removed":
                    entry["bytes_removed"][why] += size

    def add_rows(self, langs: pa.Array, nbytes: np.ndarray, rows: np.ndarray,
                 outcomes: list[tuple[str, str]]) -> None:
        """Count a batch: every row is "out" except ``rows``, whose ``outcomes`` (one each) are ("removed",
        reason) or ("errored", kind). ``langs``: each row's language (strings, no nulls). Same counters as
        :meth:`add`, with array work for the rows that go on and a Python step only per dropped row."""
        n = len(langs)
        if n == 0:
            return
        encoded = langs.dictionary_encode()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        names = encoded.dictionary.to_pylist()
        k = len(names)
        nbytes = np.asarray(nbytes, dtype=np.int64)
        is_out = np.ones(n, dtype=bool)
        is_out[rows] = False
        # float64 weights are exact below 2**53 bytes per language and batch
        n_in, n_out = np.bincount(codes, minlength=k), np.bincount(codes[is_out], minlength=k)
        b_in = np.bincount(codes, weights=nbytes, minlength=k)
        b_out = np.bincount(codes[is_out], weights=nbytes[is_out], minlength=k)
        for j, lang in enumerate(names):
            entry = self._lang(lang)
            entry["in"] += int(n_in[j])
            entry["out"] += int(n_out[j])
            entry["bytes_in"] += int(b_in[j])
            entry["bytes_out"] += int(b_out[j])
        # dropped rows are few: one dict step each
        for code, (what, why), size in zip(codes[rows].tolist(), outcomes, nbytes[rows].tolist(), strict=True):
            entry = self._lang(names[code])
            entry[what][why] += 1
            if what == "removed":
                entry["bytes_removed"][why] += size

    def add_extra(self, extra: dict[str, dict[str, int]]) -> None:
        for lang, metrics in extra.items():
            self._lang(lang)["extra"].update(metrics)

    def to_dict(self) -> dict[str, Any]:
        return {
            lang: {"in": v["in"], "out": v["out"], "removed": dict(sorted(v["removed"].items())),
                   "errored": dict(sorted(v["errored"].items())), "bytes_in": v["bytes_in"],
                   "bytes_out": v["bytes_out"], "bytes_removed": dict(sorted(v["bytes_removed"].items())),
                   "extra": dict(sorted(v["extra"].items()))}
            for lang, v in sorted(self.langs.items())
        }


_COUNTERS = ("removed", "errored", "bytes_removed", "extra")
_SUMS = ("in", "out", "bytes_in", "bytes_out")


def merge_step_dicts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for source in (a, b):
        for lang, v in source.items():
            entry = out.setdefault(lang, {**{k: 0 for k in _SUMS}, **{k: {} for k in _COUNTERS}})
            for key in _SUMS:
                entry[key] += v.get(key, 0)
            for key in _COUNTERS:
                for reason, n in v.get(key, {}).items():
                    entry[key][reason] = entry[key].get(reason, 0) + n
    return {lang: {**out[lang], **{k: dict(sorted(out[lang][k].items())) for k in _COUNTERS}}
            for lang in sorted(out)}
