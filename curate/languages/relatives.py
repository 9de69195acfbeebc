"""Close-relative groups: languages a second opinion may only swap inside when it is clearly surer.

Between close relatives (Serbian/Croatian/Bosnian, Danish/Norwegian, Malay/Indonesian, ...) every language
identifier is unsure, and two models disagree often, each right part of the time. CLD2's confidence (the share of
the text's bytes it gives its language) is no guide there: 0.99 for right and wrong moves alike. fastText's own
probabilities are: inside a group a move is only made when fastText's lead of its top language over the second
opinion's language is below ``margin`` (default 0.4), i.e. when fastText itself holds the two close.

Measured on the project's own data (benchmarks/langid_relatives.py, RESULTS.md "langid_relatives"): on the
74,141 lingua sentences the second opinion broke 672 answers lid.176 had right (564 inside a group) and fixed
11,799; with the check it breaks 518 (410 inside a group) and fixes 11,610, accuracy 0.9509 -> 0.9505. On the
7,413 ten-sentence documents: 13 broken -> 11, accuracy 0.9790 both. The check trades a few fixes for much less
churn between relatives; a margin of 1.0 turns it off.

Groups are by ISO 639-3 code (any script). A language may sit in several groups (Serbian is BCMS and South
Slavic Cyrillic). The list is curate's: the confusions measured above plus the pairs GlotLID's and FineWeb2's
authors name as hard (BCMS, Scandinavian, Malay/Indonesian, Persian varieties).
"""

from __future__ import annotations

from curate.languages.labels import split_key

GROUPS: dict[str, frozenset[str]] = {
    "bcms": frozenset({"srp", "hrv", "bos", "cnr", "hbs"}),
    "south-slavic-cyrillic": frozenset({"srp", "bul", "mkd"}),
    "scandinavian": frozenset({"dan", "nob", "nno", "nor", "swe"}),
    "malay-indonesian": frozenset({"zsm", "msa", "ind", "min", "mly"}),
    "persian": frozenset({"fas", "pes", "prs", "tgk", "aiq"}),
    "czech-slovak": frozenset({"ces", "slk"}),
    "dutch-afrikaans": frozenset({"nld", "afr"}),
    "east-slavic": frozenset({"rus", "ukr", "bel", "rue"}),
    "nguni": frozenset({"zul", "xho", "ssw", "nbl"}),
    "sotho-tswana": frozenset({"sot", "tsn", "nso"}),
    "galician-portuguese": frozenset({"glg", "por"}),
    "catalan-occitan": frozenset({"cat", "oci"}),
    "hindi-belt": frozenset({"hin", "mar", "npi", "mai", "bho", "awa", "mag"}),
    "gaelic": frozenset({"gle", "gla"}),
}
DEFAULT_MARGIN = 0.4


def related(a: str, b: str) -> bool:
    """Whether two keys (``srp_Latn``, ``hrv_Latn``) are different languages of one close-relative group."""
    ca, cb = split_key(a)[0], split_key(b)[0]
    return ca != cb and any(ca in members and cb in members for members in GROUPS.values())


def may_move(first: str, first_score: float, first_probs: dict[str, float], second: str,
             margin: float = DEFAULT_MARGIN) -> bool:
    """Whether a second opinion ``second`` may replace ``first`` (fastText's answer, ``first_score``).

    Outside a group always (the caller has already checked the second opinion's own confidence); inside one
    only when fastText's lead over ``second``'s language (its probability in ``first_probs``, keyed by ISO
    639-3 code; 0 when not among them) is below ``margin``.
    """
    if not related(first, second):
        return True
    return first_score - first_probs.get(split_key(second)[0], 0.0) < margin
