"""Normalise any language-ID label to the ``xxx_Scrp`` key (ISO 639-3 + ISO 15924) of FineWeb2's configs.

Accepted forms (the ``__label__`` prefix of fastText models is optional, case does not matter):

* fastText lid.176 labels: ``__label__pt`` / ``pt`` -> ``por_Latn``, ``zh`` -> ``cmn_Hani``, ``als`` -> ``gsw_Latn``;
* GlotLID / OpenLID labels and keys that are already normalised: ``__label__por_Latn`` -> ``por_Latn``
  (passed through, only the case is fixed: ``POR_LATN`` -> ``por_Latn``);
* ISO 639-1 codes (``nb`` -> ``nob_Latn``), deprecated ones (``iw`` -> ``heb_Hebr``), ISO 639-2/B codes
  (``ger`` -> ``deu_Latn``), ISO 639-3 codes (``swh`` -> ``swh_Latn``, the script FineWeb2 marks as default),
  ISO 639-3 macrolanguage codes (``zho`` -> ``cmn_Hani``);
* BCP-47 style tags: ``pt-BR`` -> ``por_Latn``, ``sr-Latn`` -> ``srp_Latn``, ``zh-Hant`` -> ``cmn_Hani``
  (regions are ignored; Hans/Hant fold into Hani, Hira/Kana/Hrkt into Jpan, Kore into Hang, as in FineWeb2,
  when FineWeb2 has no row for the exact pair).

A bare code is read as a lid.176 label first: ``als`` is Alemannic there (Wikipedia's code), so write
``als_Latn`` for Tosk Albanian. Fallback, never an exception: a label that cannot be resolved becomes ``und``,
or ``und_<Script>`` when a script is known (from the label or the ``script`` hint); an unknown but well-formed
3-letter code with a known script becomes ``<code>_<Script>``. The language table then gives such keys the
default of their script.

The maps live in ``data/labels.json``, built by ``scripts/build_language_table.py`` from FineWeb2's
``tokenizer_assignment.csv`` (huggingface/fineweb-2, Apache-2.0) plus the hand-made lid.176 choices documented
in that script (also shipped as ``lid176_notes``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

UND = "und"

_KEY_RE = re.compile(r"^([a-z]{3})_([A-Z][a-z]{3})$")
_PREFIX = "__label__"


@dataclass(frozen=True)
class LabelMaps:
    """The label data of ``data/labels.json``."""

    lid176: dict[str, str]  # lid.176 label -> key
    lid176_notes: dict[str, str]  # lid.176 label -> why it maps where it does (deliberate choices only)
    iso639_1: dict[str, str]  # ISO 639-1 -> key
    aliases: dict[str, str]  # ISO 639-2/B, deprecated 639-1, 639-3 macrolanguage codes -> key
    codes: dict[str, list[str]]  # ISO 639-3 -> scripts with a FineWeb2 row, default first
    script_aliases: dict[str, str]  # ISO 15924 subtag -> the script FineWeb2 keys use


@lru_cache(maxsize=1)
def label_maps() -> LabelMaps:
    data = json.loads((files("curate.langid") / "data" / "labels.json").read_text(encoding="utf-8"))
    return LabelMaps(
        lid176=data["lid176"],
        lid176_notes=data["lid176_notes"],
        iso639_1=data["iso639_1"],
        aliases=data["aliases"],
        codes=data["codes"],
        script_aliases=data["script_aliases"],
    )


def lid176_labels() -> tuple[str, ...]:
    """The 176 labels of fastText's lid.176 model, without the ``__label__`` prefix."""
    return tuple(sorted(label_maps().lid176))


def split_key(key: str) -> tuple[str, str]:
    """``"por_Latn"`` -> ``("por", "Latn")``; ``"und"`` -> ``("und", "")``."""
    code, _, script = key.partition("_")
    return code, script


def _norm_script(raw: str | None) -> str:
    if not raw or len(raw) != 4 or not raw.isascii() or not raw.isalpha():
        return ""
    return raw.title()


def _known_script(code: str, script: str) -> str | None:
    """``script`` (or the script FineWeb2 folds it into: Hant -> Hani) if FineWeb2 has ``code`` in it."""
    known = label_maps().codes.get(code, ())
    if script in known:
        return script
    folded = label_maps().script_aliases.get(script)
    return folded if folded in known else None


def _with_script(key: str, script: str) -> str:
    """Prefer the same language in ``script`` when FineWeb2 knows that pairing (``srp_Cyrl`` + Latn -> srp_Latn)."""
    code, _ = split_key(key)
    known = _known_script(code, script) if script else None
    return f"{code}_{known}" if known else key


def normalize_label(raw: str, script: str | None = None) -> str:
    """Turn a language-ID label into an ``xxx_Scrp`` key; see the module docstring. Never raises.

    ``script`` is an optional ISO 15924 hint (e.g. the dominant script of the text): when the label names no
    script and FineWeb2 has this language in that script, that key is returned (``sr`` + ``Latn`` ->
    ``srp_Latn``); otherwise the hint only decides the fallback ``und_<Script>``.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):  # None, NaN, ... from a sloppy upstream column
        return UND
    return _normalize(raw, script if isinstance(script, str) else None)


@lru_cache(maxsize=16384)  # a corpus has few distinct labels; this runs once per distinct (label, script)
def _normalize(raw: str, script: str | None) -> str:
    text = raw.strip()
    if text[: len(_PREFIX)].lower() == _PREFIX:
        text = text[len(_PREFIX):]
    parts = text.replace("-", "_").split("_")
    maps = label_maps()
    code = parts[0].lower()
    # script subtag inside the label wins over the hint; regions (pt-BR) and other subtags are ignored
    subtag = next((s for s in map(_norm_script, parts[1:]) if s), "")
    hint = subtag or _norm_script(script)

    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        return f"{UND}_{hint}" if hint else UND  # not a language code at all ("", "not a language", "123")
    if subtag and len(code) == 3:
        # already a key (GlotLID/OpenLID style): pass through with the case fixed; a script FineWeb2 folds
        # (cmn_Hans -> cmn_Hani) only when the exact pair is unknown, so FineWeb2's und_Hira stays
        return f"{code}_{_known_script(code, subtag) or subtag}"

    key = maps.lid176.get(code) or maps.aliases.get(code) or maps.iso639_1.get(code)
    if key is None and code in maps.codes:
        key = f"{code}_{maps.codes[code][0]}"
    if key is not None:
        return _with_script(key, hint)
    if len(code) == 3 and code != UND and hint:
        return f"{code}_{hint}"
    return f"{UND}_{hint}" if hint else UND
