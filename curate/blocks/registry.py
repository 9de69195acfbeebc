"""Find blocks by YAML name (``gopher_quality``) or by import path (``mypkg.filters:MyFilter``)."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from curate.blocks.base import Block
from curate.errors import CurateError

# name -> "module:Class"; imported only when a pipeline uses the block
BUILTIN_BLOCKS: dict[str, str] = {
    "extract": "curate.extract.extract_block:Extract",
    "langid": "curate.langid.langid_block:LanguageId",
    "language_score": "curate.filters.language_score:LanguageScoreFilter",
    "gopher_repetition": "curate.filters.gopher_repetition:GopherRepetitionFilter",
    "fineweb_quality": "curate.filters.fineweb_quality:FineWebQualityFilter",
    "gopher_quality": "curate.filters.gopher_quality:GopherQualityFilter",
    "c4": "curate.filters.c4_quality:C4QualityFilter",
    "url_filter": "curate.filters.url_filter:URLFilter",
    "ftfy": "curate.formatters.ftfy_fixer:FtfyFormatter",
    "pii": "curate.formatters.pii_formatter:PIIFormatter",
    "symbol_lines": "curate.formatters.symbol_lines:SymbolLinesFormatter",
    "minhash": "curate.dedup.minhash_block:MinHashDedup",
    "exact_dedup": "curate.dedup.exact_block:ExactDedup",
    "rehydrate": "curate.rehydrate.rehydrate_block:Rehydrate",
    "datatrove": "curate.interop.datatrove_block:DatatroveStep",
    "fasttext_quality": "curate.quality.fasttext_quality:FastTextQualityFilter",
    "kenlm_perplexity": "curate.quality.kenlm_perplexity:KenLMPerplexity",
    "optout": "curate.optout.optout_block:OptOut",
    "domain_cap": "curate.optout.domain_cap:DomainCap",
    "decontaminate": "curate.decont.decontaminate_block:Decontaminate",
}


class UnknownBlockError(CurateError, LookupError):
    """A pipeline names a block that is neither built in nor importable."""


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r}") from exc


def resolve_block(name: str) -> type[Block]:
    """The block class for a YAML step name."""
    if name in BUILTIN_BLOCKS:
        target = BUILTIN_BLOCKS[name]
    elif ":" in name:
        target = name
    else:
        raise UnknownBlockError(
            f"unknown block {name!r}; built-in blocks: {', '.join(sorted(BUILTIN_BLOCKS))}; "
            "user blocks are named by import path, e.g. 'mypkg.filters:MyFilter'"
        )
    try:
        obj = _import(target)
    except (ImportError, ModuleNotFoundError) as exc:
        raise UnknownBlockError(f"block {name!r} could not be imported ({exc})") from exc
    if not (inspect.isclass(obj) and issubclass(obj, Block)):
        raise UnknownBlockError(
            f"{name!r} is not a curate block (a Block subclass, or a function decorated with "
            "@curate.document_filter)"
        )
    return obj
