"""The opt-out table: one row per host, what its newest robots.txt capture says to each named agent.

Built by ``curate optout build`` (``curate/cli/optout_command.py`` reads the captures); read by the ``optout``
step. Columns:

==================  ==========================================================================================
``host``            lower-case host name, no port (the table is sorted by it)
``url``, ``date``   the robots.txt capture that decided (``WARC-Date``; the newest capture wins)
``status``          ``ok`` (groups found), ``no_rules`` (none for anyone), ``empty``, ``html`` (a web page served
                    as robots.txt: parsed all the same, its lines are no directives), ``unparsable`` (binary,
                    undecodable), ``not_found`` (HTTP 4xx), ``unreachable`` (5xx, 429), ``redirect`` (not
                    followed to a capture)
``http_status``     the capture's HTTP status (null for a robots.txt file from a folder)
``redirected_to``   the URL whose capture decided, when the robots.txt redirected (RFC 9309 section 2.3.1.2)
``disallowed``      the agents for which the site root ``/`` is disallowed
``verdicts``        per agent: ``allowed`` (root), ``group`` (user-agent token of the group that applied, ``*``),
                    ``rule`` (the line that decided, or a reason in parentheses: ``(HTTP 404: no robots.txt)``)
``rules``           the lines of the groups that apply to the agents, when one of them holds a Disallow rule:
                    what ``scope: path`` evaluates per URL (null: every path is allowed to every agent)
``captures``        captures of the host seen; ``bytes``: size of the deciding robots.txt; ``source``: file#offset
==================  ==========================================================================================

What a status means (Koster et al., RFC 9309, 2022): 2xx is parsed; 4xx means no robots.txt, so everything is
allowed (section 2.3.1.3); 5xx means unreachable, so everything is disallowed (section 2.3.1.4; ``unreachable:
allow`` reverses it) unless an earlier capture with an answer exists, which is used as the RFC's cached copy
(section 2.4); 429 is unreachable too, as for Google's crawler; a file that is not text at all is allowed
(``unparsable: disallow`` reverses it); a redirect is followed through the captures, up to 5 hops.
The agent list and these settings are in the file's metadata (``curate.optout``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import CurateError
from curate.optout.robots_rules import RobotsRules

META_KEY = b"curate.optout"
MAX_REDIRECTS = 5  # RFC 9309 section 2.3.1.2: follow at least five
VERDICT_TYPE = pa.struct([("agent", pa.string()), ("allowed", pa.bool_()), ("group", pa.string()),
                          ("rule", pa.string())])
TABLE_SCHEMA = pa.schema([
    ("host", pa.string()), ("url", pa.string()), ("date", pa.string()), ("status", pa.string()),
    ("http_status", pa.int16()), ("redirected_to", pa.string()), ("disallowed", pa.list_(pa.string())),
    ("verdicts", pa.list_(VERDICT_TYPE)), ("rules", pa.string()), ("captures", pa.int32()),
    ("bytes", pa.int64()), ("source", pa.string()),
])
# one capture, before the newest per host is chosen: the table's columns plus its input order and redirect
CAPTURE_SCHEMA = pa.schema([*TABLE_SCHEMA, ("order", pa.int64()), ("location", pa.string())])
DEFINITE = frozenset({"ok", "no_rules", "empty", "html", "unparsable", "not_found"})
_HTML_STARTS = ("<!doctype", "<html", "<?xml", "<head", "<body")


class OptoutTableError(CurateError, ValueError):
    """An opt-out table is missing, unreadable or built for other agents."""


@dataclass(frozen=True)
class Policy:
    """How captures without rules count: ``unreachable`` (5xx) and ``unparsable`` files."""

    unreachable: Literal["disallow", "allow"] = "disallow"
    unparsable: Literal["allow", "disallow"] = "allow"


@dataclass
class CaptureParser:
    """Turns one robots.txt capture into a :data:`CAPTURE_SCHEMA` row for ``agents``."""

    agents: list[str]
    policy: Policy = field(default_factory=Policy)

    def row(self, host: str, url: str, date: str | None, order: int, source: str, http_status: int | None,
            location: str | None, body: str | None) -> dict[str, Any]:
        status, verdicts, rules = self._verdicts(http_status, body)
        return {
            "host": host, "url": url, "date": date, "status": status, "http_status": http_status,
            "redirected_to": None, "disallowed": [v["agent"] for v in verdicts if not v["allowed"]],
            "verdicts": verdicts, "rules": rules, "captures": 1,
            "bytes": len(body.encode("utf-8", "surrogatepass")) if body else 0, "source": source,
            "order": order, "location": urljoin(url, location) if status == "redirect" and location else None,
        }

    def _all(self, allowed: bool, rule: str) -> list[dict[str, Any]]:
        return [{"agent": a, "allowed": allowed, "group": None, "rule": rule} for a in self.agents]

    def _verdicts(self, http_status: int | None, body: str | None) -> tuple[str, list[dict[str, Any]], str | None]:
        if http_status is not None and not 200 <= http_status < 300:
            if 300 <= http_status < 400:
                return "redirect", self._all(True, f"(HTTP {http_status}: redirect not followed)"), None
            if http_status == 429 or http_status >= 500:
                allowed = self.policy.unreachable == "allow"
                return "unreachable", self._all(allowed, f"(HTTP {http_status}: unreachable)"), None
            if 400 <= http_status < 500:
                return "not_found", self._all(True, f"(HTTP {http_status}: no robots.txt)"), None
        if body is None or not body.strip():
            return "empty", self._all(True, "(empty robots.txt)"), None
        if _binary(body):
            return "unparsable", self._all(self.policy.unparsable == "allow", "(unparsable: not text)"), None
        try:
            rules = RobotsRules.parse(body)
        except Exception as exc:  # noqa: BLE001 - a parser failure is this capture's status, never a crash
            return "unparsable", self._all(self.policy.unparsable == "allow",
                                           f"(unparsable: {type(exc).__name__})"), None
        verdicts = [{"agent": v.agent, "allowed": v.allowed, "group": v.group, "rule": v.rule}
                    for v in (rules.verdict(a) for a in self.agents)]
        head = body[:1024].lstrip().lower()
        if head.startswith(_HTML_STARTS) or "<html" in head:
            status = "html"
        else:
            status = "ok" if rules.has_groups else "no_rules"
        text = rules.reduced_text(self.agents) if rules.has_disallow(self.agents) else None
        return status, verdicts, text


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_robots(raw: bytes) -> str:
    """A robots.txt file's bytes as text: UTF-8 (RFC 9309 section 2.3), or the UTF-16 its byte-order mark names
    (real files are served so); bytes that do not decode become U+FFFD, so their lines match nothing."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom):].decode(codec, "replace")
    return raw.decode("utf-8", "replace")


def _binary(body: str) -> bool:
    """Not text: NUL bytes, or mostly control characters / replacement characters in its first 4 KB."""
    head = body[:4096]
    if "\x00" in head:
        return True
    odd = sum(1 for c in head if (c < " " and c not in "\t\r\n\f") or c == "\ufffd")
    return odd > len(head) * 0.3


def choose_newest(captures: pa.Table, policy: Policy) -> pa.Table:
    """One row per host from :data:`CAPTURE_SCHEMA` rows: redirects followed through the captures, then the
    newest capture with an answer wins (ties: the later input); a host with only unreachable or unresolved
    captures keeps its newest. Sorted by host; :data:`TABLE_SCHEMA`."""
    if captures.num_rows == 0:
        return TABLE_SCHEMA.empty_table()
    captures = captures.combine_chunks()
    captures = _follow_redirects(captures, policy)
    robots = pc.equal(pc.utf8_lower(pc.fill_null(_paths(captures.column("url")), "")), "/robots.txt")
    captures = captures.filter(robots)
    if captures.num_rows == 0:
        return TABLE_SCHEMA.empty_table()
    definite = pc.is_in(captures.column("status"), value_set=pa.array(sorted(DEFINITE)))
    # a capture without a date ("" sorts first) loses to any dated one
    keyed = captures.append_column("definite", definite).append_column(
        "sort_date", pc.fill_null(captures.column("date"), ""))
    order = pc.sort_indices(keyed, sort_keys=[("host", "ascending"), ("definite", "descending"),
                                               ("sort_date", "descending"), ("order", "descending")])
    ranked = keyed.take(order)
    hosts = ranked.column("host").combine_chunks()
    first = pc.not_equal(hosts.slice(1), hosts.slice(0, len(hosts) - 1)) if len(hosts) > 1 else pa.array([],
                                                                                                            pa.bool_())
    keep = pa.concat_arrays([pa.array([True]), first.cast(pa.bool_())])
    counts = pc.value_counts(hosts)
    per_host = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True))
    winners = ranked.filter(keep)
    n = pa.array([per_host[h] for h in winners.column("host").to_pylist()], pa.int32())
    winners = winners.set_column(winners.schema.get_field_index("captures"), "captures", n)
    return winners.select(TABLE_SCHEMA.names).cast(TABLE_SCHEMA)


def _paths(urls: pa.ChunkedArray) -> pa.Array:
    found = pc.extract_regex(urls, r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*(?P<path>[^?#]*)")
    return pc.struct_field(found, "path")


def _follow_redirects(captures: pa.Table, policy: Policy) -> pa.Table:
    """Redirect captures take the answer of the capture their Location leads to (newest capture of that URL)."""
    status = captures.column("status").to_pylist()
    redirects = [i for i, s in enumerate(status) if s == "redirect"]
    if not redirects:
        return captures
    urls = captures.column("url").to_pylist()
    dates = captures.column("date").to_pylist()
    orders = captures.column("order").to_pylist()
    locations = captures.column("location").to_pylist()
    newest: dict[str, int] = {}
    for i, url in enumerate(urls):
        j = newest.get(url)
        if j is None or (dates[i] or "", orders[i]) > (dates[j] or "", orders[j]):
            newest[url] = i
    take = list(range(captures.num_rows))
    targets: list[str | None] = [None] * captures.num_rows
    for i in redirects:
        j, hops, seen = i, 0, {i}
        while status[j] == "redirect" and hops < MAX_REDIRECTS and locations[j] in newest:
            j = newest[locations[j]]
            hops += 1
            if j in seen:
                break
            seen.add(j)
        if status[j] != "redirect":
            take[i], targets[i] = j, urls[j]
    answers = captures.take(pa.array(take))
    # the answer's verdict columns, the redirecting capture's identity
    out = answers
    for name in ("host", "url", "date", "order", "source", "http_status"):
        out = out.set_column(out.schema.get_field_index(name), name, captures.column(name))
    return out.set_column(out.schema.get_field_index("redirected_to"), "redirected_to", pa.array(targets, pa.string()))


def table_metadata(agents: Sequence[str], agent_spec: str, list_version: str, policy: Policy,
                   inputs: int, captures: int) -> dict[bytes, bytes]:
    return {META_KEY: json.dumps({
        "agents": list(agents), "agent_spec": agent_spec, "agent_list_version": list_version,
        "unreachable": policy.unreachable, "unparsable": policy.unparsable, "inputs": inputs,
        "captures": captures}, sort_keys=True).encode()}


def read_metadata(schema: pa.Schema, path: str) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise OptoutTableError(f"{path} is no opt-out table (no {META_KEY.decode()} metadata); build one with "
                               "`curate optout build ... --out TABLE.parquet`")
    return json.loads(raw)


def unknown_agents(wanted: Iterable[str], built: Iterable[str]) -> list[str]:
    have = {a.lower() for a in built}
    return [a for a in wanted if a.lower() not in have]
