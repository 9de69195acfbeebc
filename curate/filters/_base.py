"""Per-language batch filtering: every row is judged with its own language's parameters.

Rows are grouped by their ``lang`` key; each group's thresholds, stopwords and word tokenizer
come from the language table (``ctx.languages``: the pipeline's table with its overrides; the
packaged default table when it is None). One pass over the batch, no job per language.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa

from curate.blocks.base import BlockContext, BlockOutput, Filter
from curate.blocks.columns import LANG, TEXT, UNKNOWN_LANG
from curate.languages.language_config import LanguageConfig
from curate.languages.table import load_language_table

_default_table: Any = None


def default_languages() -> Any:
    """The packaged language table (loaded once)."""
    global _default_table
    if _default_table is None:
        _default_table = load_language_table()
    return _default_table


def language_config(languages: Any, key: str) -> LanguageConfig:
    """The table's config for ``key``; a default config when the table has none."""
    cfg = None
    if languages is not None:
        getter = getattr(languages, "get", None)
        cfg = getter(key) if getter is not None else None
    return cfg if cfg is not None else LanguageConfig(key=key)


def pick(setting: Any, table_value: Any) -> Any:
    """A block setting given in YAML wins for every language; None means "per-language value"."""
    return table_value if setting is None else setting


def group_rows(langs: list[str | None]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(langs):
        groups[lang or UNKNOWN_LANG].append(i)
    return groups


class LanguageAwareFilter(Filter):
    """Base of the per-language filters: subclasses implement :meth:`params` and :meth:`judge`.

    ``params(cfg)`` turns a language's config into whatever ``judge`` needs (computed once per
    language and batch); ``judge(text, params, row, batch)`` returns the rule name that removes
    the document, or None to keep it (``batch`` is what :meth:`prepare_batch` returned). An exception in ``judge`` marks that row as errored (with the
    message) instead of failing the batch.
    """

    def params(self, cfg: LanguageConfig) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def judge(self, text: str, params: Any, row: int, batch: Any) -> str | None:  # pragma: no cover
        raise NotImplementedError

    def prepare_batch(self, table: pa.Table) -> Any:
        """Hook: per-batch state for ``judge`` (e.g. the ``lang_score`` column); kept off ``self``
        so one block instance can serve concurrent batches."""
        return None

    def _run(
        self, table: pa.Table, ctx: BlockContext | None
    ) -> tuple[np.ndarray, list[str | None], list[str | None], Any]:
        """(keep, reasons, errors, batch state) for every row of ``table``."""
        n = table.num_rows
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        errors: list[str | None] = [None] * n
        batch = self.prepare_batch(table)
        if n == 0:
            return keep, reasons, errors, batch
        texts = table.column(TEXT).to_pylist() if TEXT in table.column_names else [""] * n
        langs = table.column(LANG).to_pylist() if LANG in table.column_names else [UNKNOWN_LANG] * n
        languages = ctx.languages if ctx is not None and ctx.languages is not None else default_languages()
        for lang, rows in group_rows(langs).items():
            params = self.params(language_config(languages, lang))
            judge = self.judge
            for i in rows:
                try:
                    reason = judge(texts[i] or "", params, i, batch)
                except Exception as exc:  # one bad document never kills the batch
                    keep[i] = False
                    errors[i] = f"{type(exc).__name__}: {exc}"
                    continue
                if reason is not None:
                    keep[i] = False
                    reasons[i] = reason
        return keep, reasons, errors, batch

    def filter(self, table: pa.Table, ctx: BlockContext | None = None) -> tuple[np.ndarray, list[str | None]]:
        keep, reasons, errors, _ = self._run(table, ctx)
        # without an errors channel, an errored row reads as removed by rule "error"
        return keep, [r if e is None else "error" for r, e in zip(reasons, errors, strict=True)]

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        keep, reasons, errors, _ = self._run(table, ctx)
        return BlockOutput(
            table=table, keep=keep, reasons=reasons, errors=errors if any(e is not None for e in errors) else None
        )
