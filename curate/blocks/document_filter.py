"""Write a custom filter as a plain per-document function.

    @curate.document_filter
    def no_lorem(text: str, max_hits: int = 0) -> bool | str:
        return text.lower().count("lorem ipsum") <= max_hits or "lorem_ipsum"

The function returns True to keep, or False / a reason string to remove. It may also take
``lang`` (the document's ``xxx_Scrp``), ``config`` (its :class:`LanguageConfig`) and ``row``
(the whole row as a dict). Its other keyword arguments are settings from YAML. It becomes a
:class:`Filter` with counters, timing, removed-row routing and per-language parameters. A call that raises
errors its own document (counted, kept in ``_removed`` with the message), never the rest of the batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from curate.blocks.base import BlockContext, BlockOutput, Filter
from curate.blocks.columns import LANG, TEXT

_INJECTED = ("text", "lang", "config", "row")


def document_filter(func: Callable[..., bool | str] | None = None, *, name: str | None = None) -> Any:
    def wrap(fn: Callable[..., bool | str]) -> type[Filter]:
        sig = inspect.signature(fn)
        wants = {p for p in _INJECTED if p in sig.parameters}
        settings = [p for p in sig.parameters.values() if p.name not in _INJECTED]

        def __init__(self: Any, **kwargs: Any) -> None:
            bound = inspect.Signature(settings).bind(**kwargs)
            bound.apply_defaults()
            self.settings = dict(bound.arguments)

        def decide(self: Any, table: pa.Table, ctx: BlockContext) -> tuple[np.ndarray, list[str | None],
                                                                           list[str | None]]:
            """Per document: kept, the removal reason, the error (a call that raised errors its document only)."""
            texts = table.column(TEXT).to_pylist()
            langs = table.column(LANG).to_pylist() if LANG in table.column_names else [None] * len(texts)
            rows = table.to_pylist() if "row" in wants else None
            keep = np.ones(len(texts), dtype=bool)
            reasons: list[str | None] = [None] * len(texts)
            errors: list[str | None] = [None] * len(texts)
            for i, text in enumerate(texts):
                extra: dict[str, Any] = {}
                if "text" in wants:
                    extra["text"] = text or ""
                if "lang" in wants:
                    extra["lang"] = langs[i]
                if "config" in wants:
                    extra["config"] = ctx.languages.get(langs[i]) if ctx.languages is not None else None
                if "row" in wants and rows is not None:
                    extra["row"] = rows[i]
                try:
                    verdict = fn(**extra, **self.settings)
                except Exception as exc:  # noqa: BLE001 - the user's function failing on one document
                    keep[i] = False
                    errors[i] = f"{type(exc).__name__}: {exc}"[:500]
                    continue
                if verdict is True:
                    continue
                keep[i] = False
                reasons[i] = verdict if isinstance(verdict, str) and verdict else fn.__name__
            return keep, reasons, errors

        def filter(self: Any, table: pa.Table, ctx: BlockContext) -> tuple[np.ndarray, list[str | None]]:
            keep, reasons, errors = decide(self, table, ctx)
            failed = next((e for e in errors if e is not None), None)
            if failed is not None:  # the Filter contract has no errors: called directly, the first one raises
                raise ValueError(f"{fn.__name__}: {failed}")
            return keep, reasons

        def process(self: Any, table: pa.Table, ctx: BlockContext) -> BlockOutput:
            keep, reasons, errors = decide(self, table, ctx)
            return BlockOutput(table=table, keep=keep, reasons=reasons,
                               errors=errors if any(e is not None for e in errors) else None)

        cls = type(
            fn.__name__,
            (Filter,),
            {
                "name": name or fn.__name__,
                "__init__": __init__,
                "filter": filter,
                "process": process,
                "__doc__": fn.__doc__,
                "__module__": fn.__module__,
                "__qualname__": fn.__qualname__,
                "__signature__": inspect.Signature(settings),
            },
        )
        cls.__wrapped__ = fn  # type: ignore[attr-defined]
        return cls

    return wrap(func) if func is not None else wrap
