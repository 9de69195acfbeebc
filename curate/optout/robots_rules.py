"""One robots.txt: protego's answers, and which group and which rule gave them.

The answers (may agent A fetch URL U?) are protego's (Scrapy's RFC 9309 parser: groups, most specific
user-agent, longest match with Allow winning ties, ``*`` and ``$`` wildcards; Koster et al., RFC 9309, 2022).
protego's public API says yes or no but not why, so the file is read a second time, line by line, with
protego's own grouping rules (a user-agent line after a rule line opens a group, groups naming the same agent
merge, rule lines before any user-agent are ignored, protego's lenient spellings). That reading gives:

- the group that applied to an agent (the user-agent token, or ``*``): which tokens apply to an agent is asked
  of protego itself on a two-line robots.txt per token (public API, cached), the longest applying token wins;
- the rule that decided for the site root (``Disallow: /``): among that group's rules, the longest pattern
  that matches ``/``, Allow winning a tie (RFC 9309 section 2.2.2). It is reported only when it gives protego's
  answer; otherwise the rule is ``None`` and :attr:`RobotsRules.undetermined` counts it;
- :meth:`RobotsRules.reduced_text`: the original lines of only the groups that apply to the named agents,
  which protego answers exactly like the whole file for those agents (the ``optout`` step's ``scope: path``
  keeps this much per host, not the whole file; checked on the 4,231 real files of the tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from protego import Protego

UA, ALLOW, DISALLOW, SITEWIDE, OTHER = "user-agent", "allow", "disallow", "sitewide", "other"
# protego's accepted spellings of each directive (they are lenient with misspellings; so is this reading)
_FIELDS = {
    **dict.fromkeys(("user-agent", "useragent", "user agent"), UA),
    "allow": ALLOW,
    **dict.fromkeys(("disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"), DISALLOW),
    **dict.fromkeys(("sitemap", "sitemaps", "site-map", "host"), SITEWIDE),
    **dict.fromkeys(("crawl-delay", "crawl delay", "request-rate", "request rate", "visit-time", "visit time"),
                    OTHER),
}
_ROOT_PROBE = "https://robots.invalid/"


@dataclass(frozen=True, slots=True)
class AgentVerdict:
    """For one agent and the site root: protego's answer, the group token that applied (``None``: no group
    did, everything is allowed) and the deciding rule line (``None``: none matched, or undetermined)."""

    agent: str
    allowed: bool
    group: str | None
    rule: str | None


def _directive(line: str) -> tuple[str, str] | None:
    """(kind, value) of one comment-free, stripped, non-empty line, read as protego reads it."""
    field: str | None = None
    value = ""
    if ":" in line:
        field, raw = line.split(":", 1)
        field, value = field.strip().lower(), raw.strip()
        if field in _FIELDS:
            return _FIELDS[field], value
        if not raw or raw[0].isspace():
            return OTHER, value
    words = line.split()
    for n in (1, 2):
        candidate = " ".join(words[:n]).lower()
        if candidate in _FIELDS:
            return _FIELDS[candidate], " ".join(words[n:])
    return None if field is None else (OTHER, value)


def token_applies(token: str, agent: str) -> bool:
    """Whether protego applies a group named ``token`` to ``agent``: never when the token is no part of the agent's
    name (protego looks the token up in it), else asked of protego itself."""
    return token == "*" or (token in agent.strip().lower() and _asked(token, agent))


@lru_cache(maxsize=65_536)
def _asked(token: str, agent: str) -> bool:
    return not Protego.parse(f"User-agent: {token}\nDisallow: /\n").can_fetch(_ROOT_PROBE, agent)


def _root_pattern(value: str) -> re.Pattern[str] | None:
    """The pattern as a regex over the path ``/``, or None when it cannot match ``/`` (most cannot)."""
    if not value or value[0] not in "/*" or value.rstrip("$").strip("/*"):
        return None  # a pattern with any other character needs more than "/"
    dollar = value.endswith("$")
    core = re.sub(r"\*+", "*", value[:-1] if dollar else value)
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in core) + ("$" if dollar else ""))


@dataclass
class _Group:
    tokens: list[str]
    lines: list[str]  # the original lines, user-agent lines included
    rules: list[tuple[str, str, str]]  # (kind, value, original line)


class RobotsRules:
    """A parsed robots.txt. ``RobotsRules.parse(text)`` never raises on text (protego does not either)."""

    undetermined = 0  # verdicts whose deciding rule this reading could not tell (class-wide counter)

    def __init__(self, parser: Protego, groups: list[_Group]) -> None:
        self.parser = parser
        self.groups = groups
        self.tokens: dict[str, list[int]] = {}  # token -> indices of its groups, in order of first appearance
        self._root_rules: dict[str, tuple[int, bool, str] | None] = {}
        self._groups_of: dict[str, str | None] = {}
        for i, group in enumerate(groups):
            for token in group.tokens:
                self.tokens.setdefault(token, []).append(i)

    @classmethod
    def parse(cls, text: str) -> RobotsRules:
        return cls(Protego.parse(text), _groups(text))

    @property
    def has_groups(self) -> bool:
        return bool(self.tokens)

    def can_fetch(self, url: str, agent: str) -> bool:
        return self.parser.can_fetch(url, agent)

    def group_for(self, agent: str) -> str | None:
        """The user-agent token of the group that applies to ``agent`` (protego's rule: the longest token that
        applies, ``*`` last); None when no group does."""
        if agent not in self._groups_of:
            best, score = None, 0
            for token in self.tokens:
                s = 1 if token == "*" else len(token)
                if s > score and token_applies(token, agent):
                    best, score = token, s
            self._groups_of[agent] = best
        return self._groups_of[agent]

    def verdict(self, agent: str) -> AgentVerdict:
        allowed = self.parser.can_fetch(_ROOT_PROBE, agent)
        token = self.group_for(agent)
        if token is None:
            return AgentVerdict(agent, allowed, None, None)
        best = self._root_rule(token)
        derived = True if best is None else best[1]
        if derived != allowed:
            RobotsRules.undetermined += 1
            return AgentVerdict(agent, allowed, token, None)
        return AgentVerdict(agent, allowed, token, None if best is None else best[2])

    def _root_rule(self, token: str) -> tuple[int, bool, str] | None:
        """(priority, allow, line) of the rule of ``token``'s groups that decides for ``/``; None: no rule matches."""
        if token not in self._root_rules:
            best: tuple[int, bool, str] | None = None
            for i in self.tokens[token]:
                for kind, value, line in self.groups[i].rules:
                    priority = _root_priority(kind, value)
                    if priority is not None and (best is None or (priority, kind == ALLOW) > best[:2]):
                        best = (priority, kind == ALLOW, line)
            self._root_rules[token] = best
        return self._root_rules[token]

    def has_disallow(self, agents: list[str]) -> bool:
        """Whether any of these agents' groups holds a Disallow rule (else every path is allowed to them)."""
        tokens = {t for t in (self.group_for(a) for a in agents) if t is not None}
        return any(kind == DISALLOW for t in tokens for i in self.tokens[t] for kind, _, _ in self.groups[i].rules)

    def reduced_text(self, agents: list[str]) -> str:
        """The original lines of the groups that apply to ``agents``: protego answers them as the whole file."""
        tokens = {t for t in (self.group_for(a) for a in agents) if t is not None}
        keep = sorted({i for t in tokens for i in self.tokens[t]})
        return "\n".join(line for i in keep for line in self.groups[i].lines) + ("\n" if keep else "")


def _root_priority(kind: str, value: str) -> int | None:
    """protego's priority of a rule that matches ``/`` (its pattern length), None when it does not match."""
    if kind == ALLOW and value.endswith("/index.html") and value.startswith("/") and "*" not in value:
        return 2 if value == "/index.html" else None  # protego reads "Allow: /index.html" as "Allow: /$" too
    pattern = _root_pattern(value)
    if pattern is None or pattern.match("/") is None:
        return None
    return len(value)


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    previous: str | None = None
    for raw in text.splitlines():
        line = raw
        hash_pos = line.find("#")
        if hash_pos != -1:
            line = line[:hash_pos]
        line = line.strip()
        if not line:
            continue
        parsed = _directive(line)
        if parsed is None:
            continue
        kind, value = parsed
        if kind == UA and previous is not None and previous != UA:
            current = None  # a user-agent line after a rule line opens a new group
        if kind == SITEWIDE:
            continue  # site-wide: no part of any group, and no effect on grouping
        previous = kind
        if kind == UA:
            if current is None:
                current = _Group([], [], [])
                groups.append(current)
            token = value.strip().lower()
            if token:
                current.tokens.append(token)
                if token != "*" and "*" in token and token.replace("*", ""):
                    current.tokens.append(token.replace("*", ""))  # protego drops wildcards inside a name
        elif current is None:
            continue  # a rule before any user-agent line applies to no one
        elif value and kind in (ALLOW, DISALLOW):
            current.rules.append((kind, value, f"{kind.capitalize()}: {value}"))
        current.lines.append(raw)  # empty rules too: they end the group for the next user-agent line
    return groups
