"""Close-relative groups: languages a second opinion may only swap inside when it is clearly surer.

Between close relatives (Serbian/Croatian/Bosnian, Danish/Norwegian, Malay/Indonesian, ...) every language
identifier is unsure, and two models disagree often, each right part of the time. CLD2's confidence (the share of
the text's bytes it gives its language) is no guide there: 0.99 for right and wrong moves alike. fastText's own
probabilities are: inside a group a move is only made when fastText's lead of its top language over the second
opinion's language is below ``margin`` (default 0.4), i.e. when fastText itself holds the two close.

Measured on the project's own data (benchmarks/langid_relatives.py, RESULTS.md "langid_relatives"): on the
74,141 lingua sentences the second opinion without the check broke 672 answers lid.176 had right (564 inside a
group) and fixed 11,799; with the check (and the BCMS rule below) it breaks 283 and fixes 11,356, accuracy
0.9509 -> 0.9502. On the 7,413 ten-sentence documents: 13 broken -> 1, accuracy 0.9790 -> 0.9765 (the
documents the BCMS rule no longer moves from Croatian to Bosnian). The check trades a few fixes for much less
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


# Groups where a second opinion may only move towards some languages, with their own margin. BCMS: CLD2 has no
# reliable Serbian in Latin script, calling it Croatian or Bosnian, so its hrv/bos answers on Latin text are no
# evidence against fastText's Serbian (they broke right srp_Latn answers), and between Croatian and Bosnian it
# is no better than fastText; its Serbian answer is, when fastText holds Serbian close. Margin 0.2 chosen on
# lingua's sentences (Serbian transliterated to Latin, Croatian, Bosnian; sentences and 10-sentence documents:
# the best mean accuracy of the three languages over no move, 0.1 ... 0.4 and 1.0), reported on real Serbian
# (Latin), Croatian and Bosnian text it was not chosen on: the gettext catalogs of the machine's Debian
# packages (benchmarks/langid_relatives.py, RESULTS.md "langid_relatives").
ONLY_TOWARDS: dict[str, tuple[frozenset[str], float]] = {"bcms": (frozenset({"srp"}), 0.2)}


def groups_of(a: str, b: str) -> list[str]:
    """The close-relative groups holding two different languages (``srp_Latn``, ``hrv_Latn`` -> ``["bcms"]``)."""
    ca, cb = split_key(a)[0], split_key(b)[0]
    return [] if ca == cb else [name for name, members in GROUPS.items() if ca in members and cb in members]


def related(a: str, b: str) -> bool:
    """Whether two keys (``srp_Latn``, ``hrv_Latn``) are different languages of one close-relative group."""
    return bool(groups_of(a, b))


def may_move(first: str, first_score: float, first_probs: dict[str, float], second: str,
             margin: float = DEFAULT_MARGIN) -> bool:
    """Whether a second opinion ``second`` may replace ``first`` (fastText's answer, ``first_score``).

    Outside a group always (the caller has already checked the second opinion's own confidence); inside one
    only when fastText's lead over ``second``'s language (its probability in ``first_probs``, keyed by ISO
    639-3 code; 0 when not among them) is below ``margin`` and, in a group of :data:`ONLY_TOWARDS`, only towards
    its languages and below its own margin. A ``margin`` of 1.0 or more turns the check off, for every group.
    """
    groups = groups_of(first, second)
    if not groups or margin >= 1.0:
        return True
    code = split_key(second)[0]
    limit = margin
    for group in groups:
        if group in ONLY_TOWARDS:
            targets, own = ONLY_TOWARDS[group]
            if code not in targets:
                return False
            limit = min(limit, own)
    return first_score - first_probs.get(code, 0.0) < limit
