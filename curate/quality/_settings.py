"""Helpers shared by the quality blocks: per-language model maps and per-language settings."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TypeVar

import pyarrow as pa

from curate.languages.labels import normalize_label
from curate.models.resolve import is_url, resolve_model
from curate.quality.errors import QualityConfigError, QualityModelNotFoundError

T = TypeVar("T")
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
    """``path`` with ``~`` expanded, or :class:`QualityModelNotFoundError` naming the setting to fix; a URL
    (``hf://``, ``s3://``, ``https://``, ...) is kept as it is and resolved through the model cache later
    (:func:`resolve_setting`), on the driver in ``preflight`` and once per worker process."""
    if is_url(str(path)):
        return str(path)
    full = os.path.expanduser(str(path))
    if not os.path.isfile(full):
        raise QualityModelNotFoundError(f"{setting}: {what} file {path!r} does not exist; fix the path or give "
                                        "a URL (hf://, s3://, https://; see the README, 'Where to get models')")
    return full


def check_sha256(value: str | None, setting: str) -> str | None:
    """A ``*_sha256`` pin, lower-cased, or :class:`QualityConfigError` when it is not 64 hex digits."""
    if value is None:
        return None
    pin = str(value).strip().lower()
    if not _SHA256.fullmatch(pin):
        raise QualityConfigError(f"{setting}: {value!r} is not a sha256 (64 hex digits); copy it from "
                                 "`curate models list` or `sha256sum MODEL`")
    return pin


def check_pins(pins: Mapping[str, str] | None, models: Mapping[str, str], setting: str) -> dict[str, str]:
    """``{lang: sha256}`` pins of a ``{lang: model}`` map; a pin for a language without a model is an error."""
    out: dict[str, str] = {}
    for key, value in lang_map(pins, setting).items():
        if key not in models:
            raise QualityConfigError(f"{setting}.{key}: no model for {key} to pin; pin only languages of "
                                     f"{setting.removesuffix('_sha256')}")
        out[key] = check_sha256(value, f"{setting}.{key}") or ""
    return out


def resolve_setting(spec: str, sha256: str | None, setting: str) -> str:
    """The local file of a model setting: a local path as checked by :func:`check_file` (untouched unless
    pinned), a URL through the model cache (fetched when online; offline, from the cache or an error saying
    ``curate models fetch``). Once per process per setting (``resolve_model``'s cache)."""
    if not is_url(spec) and not sha256:
        return spec
    return resolve_model(spec, sha256, what=setting)


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
