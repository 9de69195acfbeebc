"""Close-relative groups: languages a second opinion may only swap inside when it is clearly surer.

Between close relatives (Serbian/Croatian/Bosnian, Danish/Norwegian, Malay/Indonesian, ...) every language
identifier is unsure, and two models disagree often, each right part of the time. CLD2's confidence (the share of
the text's bytes it gives its language) is no guide there: 0.99 for right and wrong moves alike. fastText's own
probabilities are: inside a group a move is only made when fastText's lead of its top language over the second
opinion's language is below ``margin`` (default 0.4), i.e. when fastText itself holds the two close.

Measured on the project's own data (benchmarks/langid_relatives.py, RESULTS.md "langid_relatives"): on the
74,141 lingua sentences the second opinion without the check broke 672 answers lid.176 had right (564 inside a
group) and fixed 11,799; with the check (and the BCMS rule below) it breaks 492 (384 inside a group; lid.176's ``sh``
moved to Bosnian, Croatian or Serbian counts as a break there) and fixes 11,489, accuracy
0.9509 -> 0.9492. On the 7,413 ten-sentence documents: 13 broken -> 11, accuracy 0.9790 both. The check trades a
few fixes for much less churn between relatives; a margin of 1.0 turns it off.

Groups are by ISO 639-3 code (any script). A language may sit in several groups (Serbian is BCMS and South
Slavic Cyrillic). The list is curate's: the confusions measured above plus the pairs GlotLID's and FineWeb2's
authors name as hard (BCMS, Scandinavian, Malay/Indonesian, Persian varieties).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class GroupRule:
    """A group's own rule on top of the margin: fastText answers a second opinion never moves away from
    (``keep``), languages it may move towards only under a lead below their own margin (``towards``), and
    whether those are the only moves allowed (``only_towards``)."""

    keep: frozenset[str] = frozenset()
    towards: Mapping[str, float] = field(default_factory=dict)
    only_towards: bool = False


# BCMS: CLD2 has no reliable Serbian in Latin script: on Latin Serbian it says Croatian or Bosnian, so its hrv/bos
# answers are no evidence against fastText's Serbian: on lingua's sentences, allowing such moves under the group
# margin, or at CLD2 confidences of 0.9 and more, broke more right Serbian than it fixed Croatian and Bosnian, and
# under leads of 0.02 ... 0.2 it moved the three languages' mean accuracy by -0.011 ... +0.001 (issue 23).
# fastText's Serbian is kept. Its Serbian answer is evidence, when fastText holds Serbian close: lead below 0.3.
# Between Croatian, Bosnian and lid.176's ``sh`` the group's margin applies, as before the rule. Chosen on lingua's
# sentences (Serbian transliterated to Latin, Croatian, Bosnian; one and ten sentences per document: the best mean
# of the three languages' strict accuracy over "towards Serbian" margins 0.1 ... 0.4 and 1.0), reported on real
# Serbian (Latin), Croatian and Bosnian text it was not chosen on: the gettext catalogs of the machine's Debian
# packages (benchmarks/langid_relatives.py, RESULTS.md "langid_relatives", where the rules tried are compared).
GROUP_RULES: dict[str, GroupRule] = {"bcms": GroupRule(keep=frozenset({"srp"}), towards={"srp": 0.3})}


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
    639-3 code; 0 when not among them) is below ``margin`` and, in a group of :data:`GROUP_RULES`, never away
    from a language it keeps, towards its ``towards`` languages only below their own margin (and towards no
    other with ``only_towards``). A ``margin`` of 1.0 or more turns the check off, for every group.
    """
    groups = groups_of(first, second)
    if not groups or margin >= 1.0:
        return True
    have, code = split_key(first)[0], split_key(second)[0]
    limit = margin
    for group in groups:
        rule = GROUP_RULES.get(group)
        if rule is None:
            continue
        if have in rule.keep or (rule.only_towards and code not in rule.towards):
            return False
        limit = min(limit, rule.towards.get(code, limit))
    return first_score - first_probs.get(code, 0.0) < limit
