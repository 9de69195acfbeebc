"""``curate langs [CODE] [--script S] [--name N] [--tier T]``: browse the language table.

Without CODE: one line per matching language (key, name, script, tier, language_score, tokenizer).
With CODE (any label form: ``pt``, ``__label__zh``, ``por_Latn``, ``sr-Latn``): every setting of that language
and where it came from. With ``--model M`` (a fastText file, a URL through the model cache, or ``lid176`` for
the packaged model): the keys that model can emit (each label's key, and for labels that leave the script open
the key in every script the text may give it) with the ``language_score`` the pipeline applies for it, and
the table keys it cannot reach (documents in those languages come out under another key). Settings are FineWeb2's (huggingface/fineweb-2, Apache-2.0) unless the source says
otherwise.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from typing import Any, TextIO

from curate.langid.fasttext_model import model_labels
from curate.langid.langid_block import LanguageId
from curate.langid.language_scores import load_score_set
from curate.languages.labels import UND, label_maps, model_keys, normalize_label, split_key
from curate.languages.language_config import LanguageConfig
from curate.languages.table import TIERS, load_language_table

_COLUMNS = ("key", "name", "script", "tier", "language_score", "tokenizer")
_NAME_WIDTH = 32


def run_langs(
    code: str | None = None,
    script: str | None = None,
    name: str | None = None,
    tier: str | None = None,
    out: TextIO | None = None,
    model: str | None = None,
) -> int:
    """Print the table (or one language's settings). Returns 0, or 1 when nothing matches / bad input."""
    out = out or sys.stdout
    if model:
        return _show_model(model, out, script=script, name=name, tier=tier)
    if code:
        return _show_language(code, out)
    if tier is not None and tier not in TIERS:
        print(f"unknown tier {tier!r}; tiers: {', '.join(TIERS)}", file=sys.stderr)
        return 1
    rows = load_language_table().search(script=script, name=name, tier=tier)
    if not rows:
        print("no language matches", file=sys.stderr)
        return 1
    _print_table(rows, out)
    return 0


def _print_table(rows: list[LanguageConfig], out: TextIO) -> None:
    cells = [[_cell(r, c) for c in _COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(_COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)).rstrip(), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)
    print(f"{len(rows)} language{'s' if len(rows) != 1 else ''}", file=out)


def _cell(row: LanguageConfig, column: str) -> str:
    value = getattr(row, column)
    text = _fmt(value)
    if column == "name" and len(text) > _NAME_WIDTH:
        text = text[: _NAME_WIDTH - 1] + "…"
    return text


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return " ".join(f"{n}:{frac}" for n, frac in value)  # n-gram thresholds
    if isinstance(value, tuple):
        return " ".join(value) if value else "(none)"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000:
        return f"{value:,}"
    return str(value)


def _show_language(code: str, out: TextIO) -> int:
    key = normalize_label(code)
    if split_key(key)[0] == UND and UND not in code.lower():
        print(f"cannot resolve {code!r} to a language (try a name: curate langs --name ...)", file=sys.stderr)
        return 1
    table = load_language_table()
    row = table.get(key)
    print(f"{row.key}  {row.name or '(no name)'}", file=out)
    if key != code:
        print(f"  label {code!r} normalises to {key}", file=out)
    labels = sorted(lab for lab, k in label_maps().lid176.items() if k == key)
    if labels:
        print(f"  lid.176 label{'s' if len(labels) > 1 else ''}: {', '.join(labels)}", file=out)
        for lab in labels:
            note = label_maps().lid176_notes.get(lab)
            if note:
                print(f"    {lab}: {note}", file=out)
    if key not in table.keys():
        print(f"  not in the table: using the default for script {row.script or '(none)'}", file=out)
    lid = load_score_set("lid176")
    if key in lid.scores:
        print(f"  language_score with lid.176 (the packaged model): {lid.scores[key]}   [{lid.source}]", file=out)
    names = [f.name for f in fields(LanguageConfig) if f.name not in ("key", "source")]
    width = max(map(len, names))
    for field in names:
        value = _fmt(getattr(row, field))
        src = row.source.get(field, "")
        print(f"  {field.ljust(width)}  {value}" + (f"   [{src}]" if src else ""), file=out)
    return 0


def _show_model(model: str, out: TextIO, script: str | None, name: str | None, tier: str | None) -> int:
    block = LanguageId(model=None if model == "lid176" else model)
    labels = model_labels(block.model_path())
    scores = load_score_set(block.score_set())
    table = load_language_table()
    emits = model_keys(labels)
    known = set(table.keys())
    wanted = {r.key for r in table.search(script=script, name=name, tier=tier)}
    filtered = script is not None or name is not None or tier is not None
    rows = [table.get(k) for k in emits if not filtered or k in wanted]
    print(f"{model}: {len(labels)} labels -> {len(emits)} keys ({len(set(emits) & known)} in the language table); "
          f"language_score thresholds: {block.score_set()} ({scores.source})", file=out)
    print("\ncan emit:", file=out)
    cells = [[r.key, _cell(r, "name"), r.script or "-", r.tier,
              str(scores.threshold(r.key, r.language_score)), "" if r.key in known else "no row: script default"]
             for r in rows]
    header = ["key", "name", "script", "tier", "language_score", "note"]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), file=out)
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip(), file=out)
    unreachable = [k for k in table.keys() if k not in set(emits) and (not filtered or k in wanted)]
    print(f"\ncannot reach {len(unreachable)} table key{'s' if len(unreachable) != 1 else ''}"
          f"{' (matching the filters)' if filtered else ''}:", file=out)
    for i in range(0, len(unreachable), 10):
        print("  " + " ".join(unreachable[i:i + 10]), file=out)
    return 0
