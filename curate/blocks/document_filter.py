"""Write a custom filter as a plain per-document function.

    @curate.document_filter
    def no_lorem(text: str, max_hits: int = 0) -> bool | str:
        return text.lower().count("lorem ipsum") <= max_hits or "lorem_ipsum"

The function returns True to keep, or False / a reason string to remove. It may also take
``lang`` (the document's ``xxx_Scrp``), ``config`` (its :class:`LanguageConfig`) and ``row``
(the whole row as a dict). Its other keyword arguments are settings from YAML. It becomes a
:class:`Filter` with counters, timing, removed-row routing and per-language parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from curate.blocks.base import BlockContext, Filter
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

        def filter(self: Any, table: pa.Table, ctx: BlockContext) -> tuple[np.ndarray, list[str | None]]:
            texts = table.column(TEXT).to_pylist()
            langs = table.column(LANG).to_pylist() if LANG in table.column_names else [None] * len(texts)
            rows = table.to_pylist() if "row" in wants else None
            keep = np.ones(len(texts), dtype=bool)
            reasons: list[str | None] = [None] * len(texts)
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
                verdict = fn(**extra, **self.settings)
                if verdict is True:
                    continue
                keep[i] = False
                reasons[i] = verdict if isinstance(verdict, str) and verdict else fn.__name__
            return keep, reasons

        cls = type(
            fn.__name__,
            (Filter,),
            {
                "name": name or fn.__name__,
                "__init__": __init__,
                "filter": filter,
                "__doc__": fn.__doc__,
                "__module__": fn.__module__,
                "__qualname__": fn.__qualname__,
                "__signature__": inspect.Signature(settings),
            },
        )
        cls.__wrapped__ = fn  # type: ignore[attr-defined]
        return cls

    return wrap(func) if func is not None else wrap
