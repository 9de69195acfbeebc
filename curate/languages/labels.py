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

Script from the text. A label that names no script (lid.176's ``sr``, CLD2's ``uz``) leaves it open; the
``script`` hint (the text's dominant script, :func:`curate.langid.script.dominant_script`) then decides it:

* the labels in :data:`SCRIPT_CHOICES` (Serbian, Serbo-Croatian, Uzbek, Azerbaijani, Kurdish, Punjabi,
  Sindhi, Mongolian, Tajik, Malay, ...) map each script to a key chosen per label, documented there; a
  script can also change the language where the script is what tells two ISO 639-3 languages apart
  (Kurdish in Arabic script is Sorani ``ckb_Arab``, Punjabi in Arabic script is Western Punjabi
  ``pnb_Arab``, Azerbaijani in Arabic script is South Azerbaijani ``azb_Arab``);
* every other label whose language FineWeb2 has in several scripts gets the text's script when FineWeb2
  has that pair (``hi`` on Latin text -> ``hin_Latn``, ``tt`` -> ``tat_Latn``), else its default script;
* a label that names its script (GlotLID's ``srp_Latn``, BCP-47 ``sr-Latn``) is trusted: the hint is ignored.

Which script the text is in, among those its label allows (:func:`label_scripts`), is decided by
:func:`curate.langid.script.scripts_among` (Latin only with a two-thirds majority, as web pages in other scripts
carry Latin boilerplate).

:func:`script_is_open` says whether a label is of the first two kinds, so callers compute the text's script
only for those.

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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

UND = "und"

# Labels that name no script, per script of the text -> key. Scripts not listed fall back to the label's
# default key. Each entry is a deliberate choice:
SCRIPT_CHOICES: dict[str, dict[str, str]] = {
    # Serbian: official Cyrillic, Latin as common on the web; both FineWeb2 keys exist
    "sr": {"Cyrl": "srp_Cyrl", "Latn": "srp_Latn"},
    # Serbo-Croatian macrolanguage (sh.wikipedia): Latin mostly, Cyrillic for Serbian-leaning text
    "sh": {"Latn": "hbs_Latn", "Cyrl": "hbs_Cyrl"},
    # Uzbek: Northern Uzbek in Latin (official since 1992) or Cyrillic; in Arabic script it is
    # Southern (Afghan) Uzbek, uzs_Arab
    "uz": {"Latn": "uzn_Latn", "Cyrl": "uzn_Cyrl", "Arab": "uzs_Arab"},
    # Azerbaijani: North Azerbaijani in Latin (or Soviet-era Cyrillic); in Arabic script South Azerbaijani
    # (Iran), which lid.176 also has as azb
    "az": {"Latn": "azj_Latn", "Cyrl": "azj_Cyrl", "Arab": "azb_Arab"},
    "azb": {"Arab": "azb_Arab", "Latn": "azj_Latn", "Cyrl": "azj_Cyrl"},
    # Kurdish: Kurmanji in Latin (Turkey, Syria) or Cyrillic (former USSR); in Arabic script it is Sorani
    # (Iraq, Iran), ckb_Arab, which lid.176 also labels ckb
    "ku": {"Latn": "kmr_Latn", "Cyrl": "kmr_Cyrl", "Arab": "ckb_Arab"},
    "ckb": {"Arab": "ckb_Arab", "Latn": "kmr_Latn", "Cyrl": "kmr_Cyrl"},
    # Punjabi: Gurmukhi (India) is pan_Guru; Shahmukhi, the Arabic script of Pakistan, is Western Punjabi
    # pnb_Arab (lid.176's pnb); romanised Punjabi pan_Latn
    "pa": {"Guru": "pan_Guru", "Arab": "pnb_Arab", "Latn": "pan_Latn"},
    "pnb": {"Arab": "pnb_Arab", "Guru": "pan_Guru", "Latn": "pan_Latn"},
    # Sindhi: Arabic (Pakistan), Devanagari (India), Latin; all three FineWeb2 keys exist
    "sd": {"Arab": "snd_Arab", "Deva": "snd_Deva", "Latn": "snd_Latn"},
    # Mongolian: Khalkha in Cyrillic; in the traditional Mongolian script (Inner Mongolia) khk_Mong, a key
    # FineWeb2 has no row for (it gets the Mong script default)
    "mn": {"Cyrl": "khk_Cyrl", "Mong": "khk_Mong"},
    # Tajik: Cyrillic; Perso-Arabic or Latin Tajik keep the language (tgk_Arab / tgk_Latn, no FineWeb2 row)
    "tg": {"Cyrl": "tgk_Cyrl", "Arab": "tgk_Arab", "Latn": "tgk_Latn"},
    # Malay: Rumi (Latin) or Jawi (Arabic); both FineWeb2 keys exist
    "ms": {"Latn": "zsm_Latn", "Arab": "zsm_Arab"},
    # Kazakh and Kyrgyz: Cyrillic, Latin (Kazakhstan's new alphabet) or Arabic (China); no FineWeb2 row
    # but Cyrillic, so the others get their script's default
    "kk": {"Cyrl": "kaz_Cyrl", "Latn": "kaz_Latn", "Arab": "kaz_Arab"},
    "ky": {"Cyrl": "kir_Cyrl", "Latn": "kir_Latn", "Arab": "kir_Arab"},
    # Uyghur: Arabic, Cyrillic or Latin; all FineWeb2 keys
    "ug": {"Arab": "uig_Arab", "Cyrl": "uig_Cyrl", "Latn": "uig_Latn"},
    # Turkmen: Latin, Cyrillic, Arabic; all FineWeb2 keys
    "tk": {"Latn": "tuk_Latn", "Cyrl": "tuk_Cyrl", "Arab": "tuk_Arab"},
    # Konkani: Devanagari (official) or Latin (Goa's Romi Konkani)
    "gom": {"Deva": "gom_Deva", "Latn": "gom_Latn"},
}

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
    data = json.loads((files("curate.languages") / "data" / "labels.json").read_text(encoding="utf-8"))
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


def model_keys(labels: Iterable[str]) -> list[str]:
    """Every key a model with these labels can emit: each label's key and, for a label that leaves the
    script open, its key in each script it may take from the text. Sorted."""
    keys: set[str] = set()
    maps = label_maps()
    for label in labels:
        key = normalize_label(label)
        keys.add(key)
        if script_is_open(label):
            code = label.removeprefix(_PREFIX).lower()
            scripts = set(SCRIPT_CHOICES.get(code, {})) | set(maps.codes.get(split_key(key)[0], ()))
            keys.update(normalize_label(label, script) for script in scripts)
    return sorted(keys)


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


def script_is_open(raw: str) -> bool:
    """Whether ``raw`` names no script while its language is written in several: then the text's script
    decides the key (pass it as ``normalize_label(raw, script)``)."""
    return _script_is_open(raw) if isinstance(raw, str) else False


@lru_cache(maxsize=16384)
def _script_is_open(raw: str) -> bool:
    text = raw.strip()
    if text[: len(_PREFIX)].lower() == _PREFIX:
        text = text[len(_PREFIX):]
    parts = text.replace("-", "_").split("_")
    if any(_norm_script(p) for p in parts[1:]):
        return False  # the label names its script: trusted
    if parts[0].lower() in SCRIPT_CHOICES:
        return True
    code, _ = split_key(_normalize(raw, None))
    return len(label_maps().codes.get(code, ())) > 1


def label_scripts(raw: str) -> tuple[str, ...]:
    """The scripts the text may give an open label (see :func:`script_is_open`): its :data:`SCRIPT_CHOICES`, else
    the scripts FineWeb2 has its language in; default script first. Empty for a label that is not open."""
    return _label_scripts(raw) if isinstance(raw, str) else ()


@lru_cache(maxsize=16384)
def _label_scripts(raw: str) -> tuple[str, ...]:
    if not _script_is_open(raw):
        return ()
    code = raw.strip()
    if code[: len(_PREFIX)].lower() == _PREFIX:
        code = code[len(_PREFIX):]
    code = code.replace("-", "_").split("_")[0].lower()
    default = split_key(_normalize(raw, None))[1]
    scripts = [default, *SCRIPT_CHOICES.get(code, {}), *label_maps().codes.get(split_key(_normalize(raw, None))[0], ())]
    return tuple(dict.fromkeys(s for s in scripts if s))


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

    if not subtag and hint and hint in SCRIPT_CHOICES.get(code, {}):
        return SCRIPT_CHOICES[code][hint]
    key = maps.lid176.get(code) or maps.aliases.get(code) or maps.iso639_1.get(code)
    if key is None and code in maps.codes:
        key = f"{code}_{maps.codes[code][0]}"
    if key is not None:
        return _with_script(key, hint)
    if len(code) == 3 and code != UND and hint:
        return f"{code}_{hint}"
    return f"{UND}_{hint}" if hint else UND
