"""Evaluation sets -> items: SQuAD-style JSON, JSON / JSONL / Parquet / Arrow rows, Hugging Face style folders.

An item is one evaluation example (a question with its answers and passage, a multiple-choice question with its
choices); it has one or more text fields, each indexed on its own. SQuAD layout (``data[].paragraphs[].context``,
``.qas[].question``, ``.qas[].answers[].text``; XQuAD, MLQA, SQuAD) gives one item per question with fields
``question``, ``answers`` and ``context``. Rows (JSONL, a JSON list, Parquet, Arrow files of ``save_to_disk``)
give one item per row: the fields named in the set's ``fields`` (dotted for nested ones: ``answers.text``), else
every string, list of strings or nested mapping of strings that is not an identifier, a language, a URL or a number.
A folder is read recursively (sorted), its ``train`` split left out unless ``splits`` names it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from curate.decont.errors import EvalSetError
from curate.decont.set_spec import SetSpec, clean_set_name
from curate.languages.labels import UND, normalize_label

_EXTENSIONS = (".json", ".jsonl", ".ndjson", ".parquet", ".arrow")
_COMPRESSED = (".gz", ".bz2", ".zst", ".xz")
_SPLIT = re.compile(r"(?:^|[/_.-])(train|training|validation|valid|dev|test|eval)(?=[/_.-]|$)", re.IGNORECASE)
_ID_KEYS = ("id", "qid", "uid", "idx", "question_id", "example_id", "task_id", "doc_id")
_LANG_KEYS = ("lang", "language", "locale", "lang_code", "language_code")
# identifiers, languages, URLs, numbers; short metadata strings ("subject": "law") are harmless: fewer than n tokens
_NOT_TEXT = re.compile(
    r"(^|_)(id|ids|idx|index|url|uri|link|split|lang|language|locale|license|hash|date|time|timestamp|label|num|"
    r"number|start|end|score)s?$", re.IGNORECASE)
_ROW_LISTS = ("data", "rows", "examples", "instances", "questions", "items")


@dataclass(frozen=True)
class EvalItem:
    """One evaluation example: its set, id, language (``xxx_Scrp`` or ``und``) and text fields."""

    set: str
    item: str
    lang: str
    fields: tuple[tuple[str, str], ...]


def _stem(path: str) -> str:
    name = posixpath.basename(path.rstrip("/"))
    for ext in _COMPRESSED:
        if name.endswith(ext):
            name = name[: -len(ext)]
    for ext in _EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def name_language(path: str) -> tuple[str, str]:
    """(name, language) from a file name whose last part is a language code: ``xquad.de.json`` ->
    ("xquad", "deu_Latn"); ("<stem>", "und") otherwise."""
    stem = _stem(path)
    head, sep, last = max((stem.rpartition(c) for c in "._-"), key=lambda p: len(p[0]))
    if sep and re.fullmatch(r"[A-Za-z]{2,3}(_[A-Za-z]{4})?|[A-Za-z]{2,3}-[A-Za-z]{2,4}", last):
        lang = normalize_label(last)
        if lang.split("_")[0] != UND:
            return head, lang
    return stem, UND


def _split_of(relative: str) -> str | None:
    found = _SPLIT.findall(relative)
    return found[-1].lower() if found else None


def set_files(spec: SetSpec) -> list[str]:
    """The data files of a set, sorted, as URLs fsspec opens; the ``train`` split left out unless named."""
    fs, root = fsspec.core.url_to_fs(spec.path)
    protocol = spec.path.split("://", 1)[0] + "://" if "://" in spec.path else ""
    if any(c in root for c in "*?["):
        paths = sorted(fs.glob(root))
        base = root.split("*", 1)[0].rsplit("/", 1)[0]
    elif fs.isdir(root):
        paths = sorted(fs.find(root))
        base = root
    elif fs.exists(root):
        return [spec.path]
    else:
        raise EvalSetError(f"evaluation set {spec.path}: no such file or folder")
    keep = []
    wanted = {s.lower() for s in spec.splits}
    for path in paths:
        name = path.lower()
        if name.endswith(_COMPRESSED):
            name = name.rsplit(".", 1)[0]
        if not name.endswith(_EXTENSIONS):
            continue
        split = _split_of(path[len(base):])
        if wanted and split not in wanted:
            continue
        if not wanted and split in ("train", "training"):
            continue
        keep.append(protocol + path if protocol and not path.startswith(protocol) else path)
    if not keep:
        raise EvalSetError(f"evaluation set {spec.path}: no .json, .jsonl, .parquet or .arrow file in it"
                           + (f" for splits {', '.join(spec.splits)}" if spec.splits else " (train split left out)"))
    return keep


def default_set_name(spec: SetSpec, files: list[str]) -> str:
    if spec.name:
        return clean_set_name(spec.name)
    names = {name_language(f)[0] for f in files}
    if len(files) == 1 or len(names) == 1:
        return clean_set_name(names.pop())
    return clean_set_name(posixpath.basename(spec.path.split("*", 1)[0].rstrip("/")) or names.pop())


def _rows_from_json(data: Any, where: str) -> Iterator[dict[str, Any]] | None:
    if isinstance(data, list):
        return (r for r in data if isinstance(r, Mapping))
    if isinstance(data, Mapping):
        for key in _ROW_LISTS:
            value = data.get(key)
            if isinstance(value, list) and value and isinstance(value[0], Mapping):
                return iter(value)
    return None


def _is_squad(data: Any) -> bool:
    return (isinstance(data, Mapping) and isinstance(data.get("data"), list) and bool(data["data"])
            and isinstance(data["data"][0], Mapping) and "paragraphs" in data["data"][0])


def _texts(value: Any, name: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.strip():
            yield name, value.strip()
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _texts(v, name)
    elif isinstance(value, Mapping):
        for key, v in value.items():
            if not _NOT_TEXT.search(str(key)):
                yield from _texts(v, f"{name}.{key}")


def _get(row: Mapping[str, Any], dotted: str) -> Any:
    value: Any = row
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list):
            value = [v.get(part) for v in value if isinstance(v, Mapping)]
        else:
            return None
    return value


def _dedup(fields: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    seen: set[str] = set()
    out = []
    for name, text in fields:
        if text not in seen:
            seen.add(text)
            out.append((name, text))
    return tuple(out)


class _Reader:
    """Turns one file's rows into items (state: the set's name, language rule and row counter)."""

    def __init__(self, spec: SetSpec, set_name: str, path: str) -> None:
        self.spec = spec
        self.set_name = set_name
        self.path = path
        self.stem = _stem(path)
        file_lang = name_language(path)[1]
        self.lang = normalize_label(spec.lang) if spec.lang else file_lang

    def _row_lang(self, row: Mapping[str, Any]) -> str:
        if self.lang != UND:
            return self.lang
        keys = (self.spec.lang_field,) if self.spec.lang_field else _LANG_KEYS
        for key in keys:
            value = row.get(key) if key else None
            if isinstance(value, str) and value:
                return normalize_label(value)
        return UND

    def item(self, row: Mapping[str, Any], number: int) -> EvalItem | None:
        spec = self.spec
        ident = None
        for key in (spec.id_field,) if spec.id_field else _ID_KEYS:
            if key and row.get(key) is not None:
                ident = str(row[key])
                break
        if spec.fields:
            fields = [t for name in spec.fields for t in _texts(_get(row, name), name)]
        else:
            skip = {spec.lang_field, spec.id_field, *_ID_KEYS}
            fields = [t for key, value in row.items() if key not in skip and not _NOT_TEXT.search(str(key))
                      for t in _texts(value, str(key))]
        if not fields:
            return None
        return EvalItem(self.set_name, ident or f"{self.stem}:{number}", self._row_lang(row), _dedup(fields))

    def squad(self, data: Mapping[str, Any]) -> Iterator[EvalItem]:
        wanted = set(self.spec.fields)
        number = 0
        for article in data["data"]:
            for paragraph in article.get("paragraphs", ()):
                context = str(paragraph.get("context", "")).strip()
                for qa in paragraph.get("qas", ()):
                    fields = [("question", str(qa.get("question", "")).strip())]
                    fields += [("answers", str(a.get("text", "")).strip()) for a in qa.get("answers", ())
                               if isinstance(a, Mapping)]
                    fields.append(("context", context))
                    fields = [(n, t) for n, t in fields if t and (not wanted or n in wanted)]
                    if fields:
                        yield EvalItem(self.set_name, str(qa.get("id") or f"{self.stem}:{number}"),
                                       self.lang, _dedup(fields))
                    number += 1


def _read_file(reader: _Reader) -> Iterator[EvalItem]:
    path = reader.path
    low = path.lower()
    if low.endswith(".parquet"):
        with fsspec.open(path, "rb") as fh:
            rows = pq.read_table(fh).to_pylist()
    elif low.endswith(".arrow"):
        with fsspec.open(path, "rb") as fh:
            try:
                rows = ipc.open_stream(fh).read_all().to_pylist()
            except pa.ArrowInvalid:
                fh.seek(0)
                rows = ipc.open_file(fh).read_all().to_pylist()
    else:
        with fsspec.open(path, "rt", encoding="utf-8-sig", compression="infer") as fh:
            text = fh.read()
        stripped = text.lstrip()
        rows = None
        if stripped.startswith(("{", "[")) and not low.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = None  # maybe JSON lines after all
            if data is not None:
                if _is_squad(data):
                    yield from reader.squad(data)
                    return
                found = _rows_from_json(data, path)
                if found is None:
                    raise EvalSetError(f"evaluation set file {path}: JSON without SQuAD 'data[].paragraphs' or a "
                                       "list of rows ('data', 'rows', 'examples', ...); convert it to JSONL")
                rows = list(found)
        if rows is None:
            rows = []
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvalSetError(f"evaluation set file {path}, line {number}: not JSON ({exc.msg}); fix or "
                                       "remove the line") from None
                if isinstance(row, Mapping):
                    rows.append(row)
    for number, row in enumerate(rows):
        item = reader.item(row, number)
        if item is not None:
            yield item


def load_set(spec: SetSpec) -> tuple[str, list[EvalItem]]:
    """(set name, items) of one evaluation set, in file and row order."""
    files = set_files(spec)
    name = default_set_name(spec, files)
    items: list[EvalItem] = []
    for path in files:
        try:
            items.extend(_read_file(_Reader(spec, name, path)))
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            raise EvalSetError(f"evaluation set file {path}: cannot read it ({type(exc).__name__}: {exc})") from None
    if not items:
        raise EvalSetError(f"evaluation set {spec.path}: no item with a text field"
                           + (f" among {', '.join(spec.fields)}" if spec.fields else "")
                           + "; name the fields with {path: ..., fields: [question, answer]}")
    return name, items
