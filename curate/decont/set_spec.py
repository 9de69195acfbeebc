"""What a team names as an evaluation set: a path (file, glob or folder, any fsspec URL) and how to read it.

In YAML and on the command line a set is a path, or a mapping with the path and what cannot be guessed::

    sets:
      - ../evals/xquad/*.json                       # SQuAD layout; language from each file name (xquad.de.json)
      - {path: mmlu.jsonl, name: mmlu, lang: en, fields: [question, choices, answer]}
      - {path: hf/belebele/, lang_field: flores_code, splits: [test]}

``name`` defaults to the file or folder name without its language part; ``lang`` (any label form, ``de`` or
``deu_Latn``) to the language code ending the file name, else a per-row ``lang_field`` (detected: ``lang``,
``language``, ``locale``), else ``und``; ``fields`` to every text field of a row that is not an identifier;
``splits`` of a Hugging Face style folder to every split but ``train``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curate.decont.errors import EvalSetError

_KEYS = ("path", "name", "lang", "fields", "id_field", "lang_field", "splits")


@dataclass(frozen=True)
class SetSpec:
    path: str
    name: str | None = None
    lang: str | None = None
    fields: tuple[str, ...] = ()
    id_field: str | None = None
    lang_field: str | None = None
    splits: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        for key in _KEYS[1:]:
            value = getattr(self, key)
            if value:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise EvalSetError(f"{where}: {key} must be a name or a list of names, got {value!r}")


def parse_set_specs(sets: Any) -> list[SetSpec]:
    """Validated :class:`SetSpec` for each entry of a ``sets`` setting."""
    if isinstance(sets, (str, Mapping)):
        sets = [sets]
    if not isinstance(sets, (list, tuple)) or not sets:
        raise EvalSetError("decontaminate: sets must be a list of paths (or {path: ..., name: ...} mappings)")
    out = []
    for i, entry in enumerate(sets):
        where = f"sets[{i}]"
        if isinstance(entry, str):
            out.append(SetSpec(path=entry))
            continue
        if not isinstance(entry, Mapping) or "path" not in entry:
            raise EvalSetError(f"{where}: give a path, or a mapping with a path; got {entry!r}")
        unknown = sorted(set(entry) - set(_KEYS))
        if unknown:
            raise EvalSetError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(_KEYS)}")
        for key in ("path", "name", "lang", "id_field", "lang_field"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise EvalSetError(f"{where}: {key} must be a string, got {entry[key]!r}")
        out.append(SetSpec(
            path=entry["path"], name=entry.get("name"), lang=entry.get("lang"),
            fields=_strings(entry.get("fields"), "fields", where), id_field=entry.get("id_field"),
            lang_field=entry.get("lang_field"), splits=_strings(entry.get("splits"), "splits", where),
        ))
    return out


def clean_set_name(name: str) -> str:
    """A set name usable in ``drop_reason`` (``decontaminate:<set>``): no colons or spaces."""
    return re.sub(r"[\s:]+", "_", name.strip()) or "set"
