"""Per-block, per-language counters: in = out + removed (by reason) + errored (by kind)."""

from __future__ import annotations

from collections import Counter
from typing import Any


def error_kind(message: str) -> str:
    """The stable part of an error message, used as its counter key ("timeout", "ValueError")."""
    return message.split(":", 1)[0].strip() or "error"


class StepCounts:
    def __init__(self) -> None:
        self.langs: dict[str, dict[str, Any]] = {}

    def _lang(self, lang: str) -> dict[str, Any]:
        if lang not in self.langs:
            self.langs[lang] = {"in": 0, "out": 0, "removed": Counter(), "errored": Counter()}
        return self.langs[lang]

    def add(self, langs_in: list[str], outcome: list[tuple[str, str | None]]) -> None:
        """``outcome`` per row: ("out", None) | ("removed", reason) | ("errored", kind); ``langs_in`` per
        row is the language the row is counted under (after the block, so langid's own output
        is counted under the detected language)."""
        for lang, (what, why) in zip(langs_in, outcome, strict=True):
            entry = self._lang(lang)
            entry["in"] += 1
            if what == "out":
                entry["out"] += 1
            else:
                entry[what][why] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            lang: {"in": v["in"], "out": v["out"], "removed": dict(sorted(v["removed"].items())),
                   "errored": dict(sorted(v["errored"].items()))}
            for lang, v in sorted(self.langs.items())
        }


def merge_step_dicts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {lang: {"in": v["in"], "out": v["out"], "removed": dict(v["removed"]), "errored": dict(v["errored"])}
           for lang, v in a.items()}
    for lang, v in b.items():
        entry = out.setdefault(lang, {"in": 0, "out": 0, "removed": {}, "errored": {}})
        entry["in"] += v["in"]
        entry["out"] += v["out"]
        for key in ("removed", "errored"):
            for reason, n in v[key].items():
                entry[key][reason] = entry[key].get(reason, 0) + n
    return {lang: out[lang] for lang in sorted(out)}
