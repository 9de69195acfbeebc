"""The opt-out table: one row per host, what its newest robots.txt capture says to each named agent.

Built by ``curate optout build`` (``curate/cli/optout_command.py`` reads the captures); read by the ``optout``
step. Columns:

==================  ==========================================================================================
``host``            lower-case host name, no port (one row per host)
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
``captures``        captures of the host seen; ``bytes``: size of the deciding robots.txt; ``source``: its
                    file#offset (a redirect's target's)
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
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import CurateError
from curate.optout.host_partition import host_hashes
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


PARSED_CACHE = 1024  # robots.txt bodies whose verdicts a parser remembers (many sites serve the same file)
CACHED_BODY = 64 * 1024  # larger bodies are parsed each time


@dataclass
class CaptureParser:
    """Turns one robots.txt capture into a :data:`CAPTURE_SCHEMA` row for ``agents``. The verdicts of a 2xx
    body are a function of its text alone: identical files (a platform's default robots.txt) are parsed once
    while they stay among the last :data:`PARSED_CACHE`."""

    agents: list[str]
    policy: Policy = field(default_factory=Policy)
    _parsed: OrderedDict[str, tuple[str, list[dict[str, Any]], str | None]] = field(
        default_factory=OrderedDict, repr=False)

    def row(self, host: str, url: str, date: str | None, order: int, source: str, http_status: int | None,
            location: str | None, body: str | None) -> dict[str, Any]:
        status, verdicts, rules = self._remembered(http_status, body)
        return {
            "host": host, "url": url, "date": date, "status": status, "http_status": http_status,
            "redirected_to": None, "disallowed": [v["agent"] for v in verdicts if not v["allowed"]],
            "verdicts": verdicts, "rules": rules, "captures": 1,
            "bytes": len(body.encode("utf-8", "surrogatepass")) if body else 0, "source": source,
            "order": order, "location": urljoin(url, location) if status == "redirect" and location else None,
        }

    def _remembered(self, http_status: int | None, body: str | None
                    ) -> tuple[str, list[dict[str, Any]], str | None]:
        if not body or len(body) > CACHED_BODY or (http_status is not None and not 200 <= http_status < 300):
            return self._verdicts(http_status, body)
        found = self._parsed.get(body)
        if found is None:
            found = self._parsed[body] = self._verdicts(http_status, body)
            if len(self._parsed) > PARSED_CACHE:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(body)
        return found

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


def robots_urls(urls: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which URLs are a site's robots.txt (path ``/robots.txt``, any case): only those captures decide for a
    host; the others (pages redirects led to) can only be answers."""
    return pc.fill_null(pc.equal(pc.utf8_lower(pc.fill_null(_paths(urls), "")), "/robots.txt"),
                        False).to_numpy(zero_copy_only=False)


def group_starts(keys: pa.Array) -> np.ndarray:
    """Where each run of equal values of a sorted array starts."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    differs = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1)).to_numpy(zero_copy_only=False)
    return np.flatnonzero(np.r_[True, differs])


def newest_by_url(captures: pa.Table) -> pa.Table:
    """The newest capture of each URL (latest date, no date oldest; ties: the later input), sorted by URL: what a
    redirect to that URL leads to (RFC 9309 section 2.3.1.2, as the crawler would have seen it last)."""
    captures = captures.filter(pc.is_valid(captures.column("url")))
    ranked = captures.take(pc.sort_indices(pa.table({
        "url": captures.column("url"), "sort_date": pc.fill_null(captures.column("date"), ""),
        "order": captures.column("order")}), sort_keys=[("url", "ascending"), ("sort_date", "descending"),
                                                        ("order", "descending")]))
    return ranked.take(pa.array(group_starts(ranked.column("url").combine_chunks())))


ANSWER_FIELDS = ("status", "disallowed", "verdicts", "rules", "bytes", "source")


def choose_per_host(captures: pa.Table, answers: pa.Table) -> pa.Table:
    """One partition's table rows (:data:`TABLE_SCHEMA`, one per host) from all captures of its hosts and the
    answers their redirects led to (``origin``: the redirect's ``order``; ``url`` and the
    :data:`ANSWER_FIELDS` of the capture that answered, found by the redirect rounds wherever it was).

    The newest capture with an answer wins (ties: the later input); a redirect that led to an answer is one;
    a host with only unreachable or unresolved captures keeps its newest. Only captures of ``/robots.txt``
    compete. The row: the winner's host, URL, date and HTTP status, the answer's verdicts; ``captures`` sums
    the competing rows' (a table built before counts its own); rows sorted by (hash of the host's site key,
    host) (:mod:`curate.optout.host_partition`)."""
    captures = captures.combine_chunks()
    n = captures.num_rows
    if n == 0:
        return TABLE_SCHEMA.empty_table()
    found = pc.index_in(captures.column("order"), value_set=answers.column("origin"))
    redirected = pc.fill_null(pc.and_(pc.is_valid(found), pc.equal(captures.column("status"), "redirect")), False)
    redirected = redirected.to_numpy(zero_copy_only=False)
    # each capture's answer: its own fields (index i) or the answer's (index n + j)
    pick = np.arange(n, dtype=np.int64)
    pick[redirected] = n + pc.take(found, pa.array(np.flatnonzero(redirected))).to_numpy(zero_copy_only=False)
    own = captures.select(ANSWER_FIELDS).append_column("target", captures.column("redirected_to"))
    theirs = answers.select(ANSWER_FIELDS).append_column("target", answers.column("url")).cast(own.schema)
    answered = pa.concat_tables([own, theirs]).combine_chunks().take(pa.array(pick))
    robots = robots_urls(captures.column("url"))
    keyed = pa.table({
        "host": captures.column("host"),
        "definite": pc.is_in(answered.column("status"), value_set=pa.array(sorted(DEFINITE))),
        "sort_date": pc.fill_null(captures.column("date"), ""),  # no date ("" sorts first) loses to any date
        "order": captures.column("order"), "ident": pa.array(np.arange(n), pa.int64()),
        "captures": pc.fill_null(captures.column("captures"), 1),
    }).filter(pa.array(robots))
    if keyed.num_rows == 0:
        return TABLE_SCHEMA.empty_table()
    ranked = keyed.take(pc.sort_indices(keyed, sort_keys=[("host", "ascending"), ("definite", "descending"),
                                                          ("sort_date", "descending"), ("order", "descending")]))
    starts = group_starts(ranked.column("host").combine_chunks())
    winners = pa.array(ranked.column("ident").to_numpy()[starts])
    counts = np.add.reduceat(ranked.column("captures").to_numpy(), starts).astype(np.int32)
    chosen = answered.take(winners)
    rows = pa.table({
        **{name: pc.take(captures.column(name), winners) for name in ("host", "url", "date", "http_status")},
        "redirected_to": chosen.column("target"),
        **{name: chosen.column(name) for name in ANSWER_FIELDS},
        "captures": pa.array(counts, pa.int32()),
    })
    hosts = rows.column("host")
    order = pc.sort_indices(pa.table({"hash": pa.array(host_hashes(hosts.to_pylist()), pa.uint64()),
                                      "host": hosts}), sort_keys=[("hash", "ascending"), ("host", "ascending")])
    return rows.take(order).select(TABLE_SCHEMA.names).cast(TABLE_SCHEMA)


def _paths(urls: pa.ChunkedArray | pa.Array) -> pa.Array:
    found = pc.extract_regex(urls, r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*(?P<path>[^?#]*)")
    return pc.struct_field(found, "path")


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
