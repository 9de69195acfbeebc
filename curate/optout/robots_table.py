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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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


# what the driver holds per capture while it chooses (~150 bytes); the verdicts stay in the capture files
COMPACT_COLUMNS = ("host", "url", "date", "status", "http_status", "order", "location")


def choose_newest(compact: pa.Table) -> pa.Table:
    """Which capture decides for each host, from the :data:`COMPACT_COLUMNS` of every capture: redirects are
    followed through the captures, then the newest capture with an answer wins (ties: the later input); a host
    with only unreachable or unresolved captures keeps its newest. One row per host, sorted by host: ``ident``
    (the host's deciding capture: its URL and date), ``answer`` (the capture whose verdicts decide: the same, or
    where its redirects led), ``captures`` (of the host) and ``redirected_to``."""
    empty = pa.table({"ident": pa.array([], pa.int64()), "answer": pa.array([], pa.int64()),
                      "captures": pa.array([], pa.int32()), "redirected_to": pa.array([], pa.string())})
    if compact.num_rows == 0:
        return empty
    compact = compact.combine_chunks()
    answer, targets = _follow_redirects(compact)
    answers = pa.array(answer, pa.int64())
    robots = pc.equal(pc.utf8_lower(pc.fill_null(_paths(compact.column("url")), "")), "/robots.txt")
    keyed = pa.table({
        "host": compact.column("host"),
        # the answer's status decides: a redirect that led to an answer is one
        "definite": pc.is_in(pc.take(compact.column("status"), answers), value_set=pa.array(sorted(DEFINITE))),
        "sort_date": pc.fill_null(compact.column("date"), ""),  # no date ("" sorts first) loses to any date
        "order": compact.column("order"), "ident": pa.array(range(compact.num_rows), pa.int64()),
    }).filter(robots)
    if keyed.num_rows == 0:
        return empty
    ranked = keyed.take(pc.sort_indices(keyed, sort_keys=[("host", "ascending"), ("definite", "descending"),
                                                          ("sort_date", "descending"), ("order", "descending")]))
    hosts = ranked.column("host").combine_chunks()
    starts = np.flatnonzero(np.r_[True, (pc.not_equal(hosts.slice(1), hosts.slice(0, len(hosts) - 1))
                                          .to_numpy(zero_copy_only=False) if len(hosts) > 1 else [])])
    counts = np.diff(np.r_[starts, len(hosts)]).astype(np.int32)
    ident = ranked.column("ident").to_numpy()[starts]
    return pa.table({"ident": pa.array(ident, pa.int64()), "answer": pc.take(answers, pa.array(ident)),
                     "captures": pa.array(counts, pa.int32()),
                     "redirected_to": pa.array([targets[i] for i in ident.tolist()], pa.string())})


def gather(winners: pa.Table, compact: pa.Table, files: Sequence[str]) -> Iterator[pa.Table]:
    """The table's rows, a capture file at a time (:data:`TABLE_SCHEMA`): the answer's verdicts with the
    deciding capture's host, URL, date and status. Rows come grouped by the file of their answer."""
    compact = compact.combine_chunks()
    answer = winners.column("answer").to_numpy()
    file_of = compact.column("file").to_numpy()[answer]
    row_of = compact.column("row").to_numpy()[answer]
    for f, path in enumerate(files):
        sel = np.flatnonzero(file_of == f)
        if not len(sel):
            continue
        with fsspec.open(path, "rb") as handle:
            rows = pq.read_table(handle).take(pa.array(row_of[sel]))
        ident = pa.array(winners.column("ident").to_numpy()[sel])
        for name in ("host", "url", "date", "http_status"):
            rows = rows.set_column(rows.schema.get_field_index(name), name, pc.take(compact.column(name), ident))
        for name in ("captures", "redirected_to"):
            rows = rows.set_column(rows.schema.get_field_index(name), name, winners.column(name).take(pa.array(sel)))
        yield rows.select(TABLE_SCHEMA.names).cast(TABLE_SCHEMA)


def _paths(urls: pa.ChunkedArray | pa.Array) -> pa.Array:
    found = pc.extract_regex(urls, r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*(?P<path>[^?#]*)")
    return pc.struct_field(found, "path")


def _follow_redirects(compact: pa.Table) -> tuple[list[int], list[str | None]]:
    """Per capture, the capture whose answer it takes (itself, or the newest capture of the URL its redirects
    lead to, up to :data:`MAX_REDIRECTS` hops) and that capture's URL when it redirected."""
    n = compact.num_rows
    status = compact.column("status").to_pylist()
    answer = list(range(n))
    targets: list[str | None] = [None] * n
    redirects = [i for i, s in enumerate(status) if s == "redirect"]
    if not redirects:
        return answer, targets
    locations = compact.column("location").to_pylist()
    wanted = {locations[i] for i in redirects if locations[i]}
    urls = compact.column("url").to_pylist()
    dates = compact.column("date").to_pylist()
    orders = compact.column("order").to_pylist()
    newest: dict[str, int] = {}
    for i, url in enumerate(urls):
        if url not in wanted:
            continue
        j = newest.get(url)
        if j is None or (dates[i] or "", orders[i]) > (dates[j] or "", orders[j]):
            newest[url] = i
    for i in redirects:
        j, hops, seen = i, 0, {i}
        while status[j] == "redirect" and hops < MAX_REDIRECTS and locations[j] in newest:
            j = newest[locations[j]]
            hops += 1
            if j in seen:
                break
            seen.add(j)
        if status[j] != "redirect":
            answer[i], targets[i] = j, urls[j]
    return answer, targets


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
