"""The language table: every per-language setting, keyed by ``xxx_Scrp`` (see the README, "Languages").

Built from FineWeb2's per-language figures (huggingface/fineweb-2, Apache-2.0) by
``scripts/build_language_table.py`` and shipped as ``data/languages.json``; loading needs nothing outside the
package. Keys are the rows of FineWeb2's ``tokenizer_assignment.csv`` (2,176 valid ones, covering the 1,929 configs).

Where each field comes from (``LanguageConfig.source`` names it per field):

* thresholds and stopwords — ``fineweb2:configs/<key>.yml``, copied verbatim;
* no config (e.g. ``hbs_Latn``, ``und_Adlm``, any key not in the table) — ``default:<Script> median``: the
  field-wise median of that script's FineWeb2 configs, n-gram fractions per n, rounded to 3 decimals;
  ``line_punct_thr`` is -1 (off) when at least half of those configs have it off, else the median of the
  enabled thresholds; stopwords are empty, which the stopword rule must read as "off". Scripts without any
  config use the median of all 1,929 configs (``default:all-configs median``).
  ``eng_Latn`` (FineWeb2 has no English config) gets the FineWeb English recipe: the ``LanguageConfig``
  defaults plus Gopher's 8 stopwords;
* ``tokenizer`` / ``proxy`` — ``tokenizer_assignment.csv``. ``type`` -> tokenizer string: SpaCyTokenizer ->
  ``spacy:<tok_code>`` (``xx`` = spaCy's multi-language rules), StanzaTokenizer -> ``stanza:<tok_code>``,
  IndicNLPTokenizer -> ``indicnlp:<tok_code>``, ThaiTokenizer -> ``thai``, KhmerTokenizer -> ``khmer``,
  LaoTokenizer -> ``lao``, BurmeseTokenizer -> ``burmese``, TibetanTokenizer -> ``tibetan``, KiwiTokenizer ->
  ``korean``, WhitespaceTokenizer -> ``whitespace``. When the CSV's ``proxy`` column is TRUE (the strings
  TRUE/FALSE are parsed strictly), ``proxy`` is the language whose tokenizer stands in: ``tok_code``, or for the
  dedicated segmenters th/km/lo/my/bo/ko; empty for a whitespace proxy. Rows without a type get the most
  common tokenizer of their script's configs (``whitespace`` for scripts without configs);
* ``tier`` / ``words`` — ``language-distribution.csv``, words of the released subset (train + test):
  ``high`` >= 1,000,000,000 words (55 keys: enough text for a dedicated model), ``mid`` >= 100,000,000 (55),
  ``low`` >= 1,000,000 (285), ``extreme-low`` below that, i.e. about one Bible translation or less (1,534,
  including 59 configs with no released subset, counted as 0 words). Keys without any FineWeb2 count
  (e.g. ``eng_Latn``, ``hbs_Latn``) are ``unknown``.

``with_overrides`` layers user values (YAML ``overrides:``) on top; their source is ``override:yaml``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import fields, replace
from functools import lru_cache
from importlib.resources import files
from typing import Any

from curate.errors import CurateError
from curate.languages.labels import UND, normalize_label, split_key
from curate.languages.language_config import LanguageConfig

TIERS = ("high", "mid", "low", "extreme-low", "unknown")
THRESHOLD_FIELDS = (
    "language_score",
    "dup_line_frac",
    "top_n_grams",
    "dup_n_grams",
    "line_punct_thr",
    "new_line_ratio",
    "min_avg_word_length",
    "max_avg_word_length",
    "max_non_alpha_words_ratio",
    "stopwords",
)
_NUMBER_FIELDS = frozenset(THRESHOLD_FIELDS) - {"top_n_grams", "dup_n_grams", "stopwords"}
_TEXT_FIELDS = frozenset({"name", "tokenizer", "proxy"})
# key and script are the identity of a row; source is bookkeeping
OVERRIDABLE_FIELDS = tuple(f.name for f in fields(LanguageConfig) if f.name not in ("key", "script", "source"))

_CSV = "fineweb2:tokenizer_assignment.csv"
_DIST = "fineweb2:language-distribution.csv"


class LanguageTableError(CurateError, ValueError):
    """A bad language-table request, e.g. an override with a wrong field name or value."""


class UnknownFieldError(LanguageTableError):
    """An override names a field the language table does not have."""

    def __init__(self, field: str, key: str, allowed: tuple[str, ...] = OVERRIDABLE_FIELDS) -> None:
        self.field = field
        self.key = key
        self.allowed = allowed
        super().__init__(
            f"unknown language setting {field!r} in overrides for {key}; allowed: {', '.join(allowed)}"
        )


class LanguageTable:
    """Immutable map ``xxx_Scrp`` -> ``LanguageConfig``, with per-script defaults for every other key."""

    def __init__(self, languages: Mapping[str, LanguageConfig], script_defaults: Mapping[str, LanguageConfig]):
        self._languages = dict(languages)
        self._keys = sorted(self._languages)
        self._defaults = dict(script_defaults)  # script -> default row; "*" = scripts without configs
        self._fallbacks: dict[str, LanguageConfig] = {}

    def __len__(self) -> int:
        return len(self._languages)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and normalize_label(label) in self._languages

    def keys(self) -> list[str]:
        """The keys with a row of their own (sorted); ``get`` also answers for any other key."""
        return list(self._keys)

    def get(self, key: str) -> LanguageConfig:
        """Settings for a language; ``key`` may be any label form (``pt``, ``__label__por_Latn``, ...).

        Keys without a row get the default of their script, with ``source`` saying so. Never raises.
        """
        k = normalize_label(key)
        row = self._languages.get(k)
        if row is not None:
            return row
        cached = self._fallbacks.get(k)
        if cached is None:
            _, script = split_key(k)
            base = self.default_for_script(script)
            cached = replace(base, key=k, script=script, name="", source=dict(base.source))
            self._fallbacks[k] = cached
        return cached

    def default_for_script(self, script: str) -> LanguageConfig:
        """The per-script default row (median of the script's FineWeb2 configs), or the all-configs one."""
        return self._defaults.get(script) or self._defaults["*"]

    def scripts(self) -> list[str]:
        """Scripts with a FineWeb2-derived default (those with at least one config)."""
        return sorted(s for s in self._defaults if s != "*")

    def search(self, script: str | None = None, name: str | None = None, tier: str | None = None) -> list[LanguageConfig]:
        """Rows matching all given filters: exact script (case-insensitive), name substring
        (case-insensitive; the key matches too), exact tier. Sorted by key."""
        if tier is not None and tier not in TIERS:
            raise LanguageTableError(f"unknown tier {tier!r}; tiers: {', '.join(TIERS)}")
        out = []
        for key in self.keys():
            row = self._languages[key]
            if script is not None and row.script.lower() != script.lower():
                continue
            if name is not None and name.lower() not in row.name.lower() and name.lower() not in key.lower():
                continue
            if tier is not None and row.tier != tier:
                continue
            out.append(row)
        return out

    def with_overrides(
        self, overrides: Mapping[str, Mapping[str, Any]], source: str = "override:yaml"
    ) -> LanguageTable:
        """A new table with ``{language: {field: value}}`` applied; this one is unchanged.

        Languages may be given in any label form; one not in the table is added on top of its script default.
        Raises ``UnknownFieldError`` for a field that does not exist and ``LanguageTableError`` for a value of
        the wrong type or an unresolvable language.
        """
        if not isinstance(overrides, Mapping):
            raise LanguageTableError(f"overrides must map language -> {{setting: value}}, got {type(overrides).__name__}")
        languages = dict(self._languages)
        for label, changes in overrides.items():
            key = _resolve_override_key(label)
            if not isinstance(changes, Mapping):
                raise LanguageTableError(
                    f"overrides for {key} must map setting -> value, got {type(changes).__name__}"
                )
            base = languages.get(key) or self.get(key)
            values: dict[str, Any] = {}
            for field, value in changes.items():
                if field not in OVERRIDABLE_FIELDS:
                    raise UnknownFieldError(str(field), key)
                values[field] = _coerce(key, field, value)
            src = dict(base.source)
            src.update({f: source for f in values})
            languages[key] = replace(base, **values, source=src)
        return LanguageTable(languages, self._defaults)


def _resolve_override_key(label: object) -> str:
    key = normalize_label(label)  # type: ignore[arg-type]
    if split_key(key)[0] == UND and not (isinstance(label, str) and UND in label.lower()):
        raise LanguageTableError(f"overrides: cannot resolve language {label!r} to an xxx_Scrp key")
    return key


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _coerce(key: str, field: str, value: Any) -> Any:
    """Check an override value and bring it to the dataclass's shape (YAML gives lists, we keep tuples)."""

    def bad(expected: str) -> LanguageTableError:
        return LanguageTableError(f"overrides for {key}: {field} must be {expected}, got {value!r}")

    if field in _NUMBER_FIELDS:
        if not _is_number(value):
            raise bad("a number")
        return value
    if field in ("top_n_grams", "dup_n_grams"):
        pairs = list(value.items()) if isinstance(value, Mapping) else value
        if not isinstance(pairs, (list, tuple)):
            raise bad("a list of [n, fraction] pairs or a mapping n -> fraction")
        out = []
        for pair in pairs:
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise bad("a list of [n, fraction] pairs or a mapping n -> fraction")
            n, frac = pair
            if isinstance(n, str) and n.isdigit():
                n = int(n)
            if not (isinstance(n, int) and not isinstance(n, bool) and n > 0 and _is_number(frac)):
                raise bad("a list of [n, fraction] pairs or a mapping n -> fraction")
            out.append((n, frac))
        return tuple(sorted(out))
    if field == "stopwords":
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise bad("a list of words")
        if not all(isinstance(w, str) for w in value):
            raise bad("a list of words")
        return tuple(value)
    if field in _TEXT_FIELDS:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if field == "tier":
        if value not in TIERS:
            raise bad(f"one of {', '.join(TIERS)}")
        return value
    if field == "words":
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise bad("a non-negative integer or null")
        return value
    raise UnknownFieldError(field, key)  # a dataclass field added without a rule here


def _unpack(row: list[Any], layout: list[str], top_n: list[int], dup_n: list[int]) -> dict[str, Any]:
    values = dict(zip(layout, row, strict=True))
    values["top_n_grams"] = tuple(zip(top_n, values["top_n_grams"], strict=True))
    values["dup_n_grams"] = tuple(zip(dup_n, values["dup_n_grams"], strict=True))
    values["stopwords"] = tuple(values["stopwords"])
    return values


def _default_row(script: str, entry: Mapping[str, Any], unpack: Any) -> LanguageConfig:
    label = "all-configs" if script == "*" else script
    n = entry["n_configs"]
    cfg_src = f"default:{label} median ({n} config{'s' if n != 1 else ''})"
    src = {f: cfg_src for f in THRESHOLD_FIELDS}
    src["stopwords"] = "default:none (stopword rule off)"
    tok_src = f"default:{label} most common tokenizer" if script != "*" else "default:whitespace (no config in this script)"
    src.update(
        tokenizer=tok_src,
        proxy=tok_src,
        tier="default:no FineWeb2 word count",
        words="default:no FineWeb2 word count",
    )
    return LanguageConfig(
        key=UND if script == "*" else f"{UND}_{script}",
        name=f"default for {label} script" if script != "*" else "default for scripts without configs",
        script="" if script == "*" else script,
        **unpack(entry["config"]),
        tokenizer=entry["tokenizer"],
        proxy="",
        tier="unknown",
        source=src,
        words=None,
    )


@lru_cache(maxsize=1)
def load_language_table() -> LanguageTable:
    """The shipped table (``data/languages.json``); loaded once per process."""
    data = json.loads((files("curate.languages") / "data" / "languages.json").read_text(encoding="utf-8"))
    layout, top_n, dup_n = data["config_layout"], data["top_n"], data["dup_n"]

    def unpack(row: list[Any]) -> dict[str, Any]:
        return _unpack(row, layout, top_n, dup_n)

    defaults = {s: _default_row(s, e, unpack) for s, e in data["script_defaults"].items()}
    languages: dict[str, LanguageConfig] = {}
    for key, entry in data["languages"].items():
        _, script = split_key(key)
        base = defaults.get(script) or defaults["*"]
        extra = entry.get("src", {})
        src = dict(base.source)
        if "config" in entry:
            cfg = unpack(entry["config"])
            cfg_src = extra.get("config", f"fineweb2:configs/{key}.yml")
            src.update({f: cfg_src for f in THRESHOLD_FIELDS})
        else:
            cfg = {f: getattr(base, f) for f in THRESHOLD_FIELDS}
        tok_src = extra.get("tokenizer", _CSV)
        tier_src = extra.get("tier", _DIST)
        src.update(name=_CSV, script="key", tokenizer=tok_src, proxy=tok_src, tier=tier_src)
        src["words"] = _DIST if "words" in entry else tier_src
        languages[key] = LanguageConfig(
            key=key,
            name=entry["name"],
            script=script,
            **cfg,
            tokenizer=entry["tokenizer"],
            proxy=entry.get("proxy", ""),
            tier=entry["tier"],
            source=src,
            words=entry.get("words"),
        )
    return LanguageTable(languages, defaults)

