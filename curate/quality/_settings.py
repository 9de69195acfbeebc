"""Helpers shared by the quality blocks: per-language model maps and per-language settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

import pyarrow as pa

from curate.languages.labels import normalize_label
from curate.quality.errors import QualityConfigError, QualityModelNotFoundError

T = TypeVar("T")


def lang_key(label: str) -> str:
    """A YAML language key (``pt``, ``por_Latn``, ``__label__por_Latn``) as the ``xxx_Scrp`` key of ``lang``."""
    return normalize_label(str(label))


def lang_map(values: Mapping[str, T] | None, setting: str) -> dict[str, T]:
    """``{label: value}`` with every label normalised; two labels naming one language is an error."""
    out: dict[str, T] = {}
    for label, value in (values or {}).items():
        key = lang_key(label)
        if key in out:
            raise QualityConfigError(f"{setting}: {label!r} and another entry both mean {key}; keep one")
        out[key] = value
    return out


def check_file(path: str, setting: str, what: str) -> str:
    """``path`` with ``~`` expanded, or :class:`QualityModelNotFoundError` naming the setting to fix."""
    full = os.path.expanduser(str(path))
    if "://" in full:
        raise QualityConfigError(
            f"{setting}: {path!r} is a URL; {what} files are memory-mapped and must be local paths that every "
            "worker can read (copy the file to local or shared storage first)"
        )
    if not os.path.isfile(full):
        raise QualityModelNotFoundError(f"{setting}: {what} file {path!r} does not exist; fix the path "
                                        "(models are never downloaded at run time, see the README, 'Where to get models')")
    return full


def per_language(value: T | Mapping[str, T] | None, lang: str, per_lang: Mapping[str, T] | None = None) -> T | None:
    """A setting that is one value for all languages or a ``{lang: value}`` map (``per_lang`` wins)."""
    if per_lang is not None and lang in per_lang:
        return per_lang[lang]
    if isinstance(value, Mapping):
        return value.get(lang)
    return value


def set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """``table`` with column ``name`` replaced by (or appended as) ``values``."""
    idx = table.schema.get_field_index(name)
    return table.set_column(idx, name, values) if idx >= 0 else table.append_column(name, values)
