"""The ``optout`` step: remove documents whose site or page opts out of AI training.

Two kinds of signal, each a removal reason of its own:

- **robots.txt, retroactively** (``robots:<agent>``): the host's newest robots.txt capture in an opt-out table
  (``curate optout build``) disallows one of the step's agents. Common Crawl fetched each page under the
  robots.txt of its crawl date; sites that block AI crawlers since are still in every older dump. Apertus
  (Swiss AI, tech report 2025, appendix B) removed every domain whose robots.txt of January 2025 blocks the AI
  crawlers, back through all dumps; ``scope: host`` does that (the site root decides for the whole host),
  ``scope: path`` removes only the pages whose URL the rules disallow (RFC 9309 matching, by protego).
  A host without a capture in the table is kept (no robots.txt known).
- **page-level signals** (``page_signals: true``), read by the WARC reader into ``robots_tag``,
  ``tdm_reservation`` and ``tdm_policy`` (:mod:`curate.io.page_signals`): a ``noai`` directive in
  ``X-Robots-Tag`` or ``<meta name="robots">``, general or for one of the agents (``noai``,
  ``noai:gptbot``; ``directives`` lists which directives count), and a TDM reservation
  (``tdm_reservation``: W3C TDMRep, ``tdm-reservation: 1``), which the EU DSM directive's article 4(3)
  opt-out is read from.

``agents``: a packaged list (``ai``, ``ai-all``: :mod:`curate.optout.agent_lists`), agents, or both; by default
the table's own. Per language the step counts the removed documents, bytes and words by reason
(``words_removed``; ``tokens_removed`` too when the run counts tokens, ``writer: {tokenizer: ...}``) and the
registered domains they came from (``removed_domain:<domain>``: bounded by the
opted-out hosts of the table), which ``curate report`` shows.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.blocks.base import BlockContext, Filter
from curate.blocks.columns import ROBOTS_TAG, TDM_RESERVATION, URL
from curate.optout.agent_lists import resolve_agents
from curate.optout.removal_stats import removal_stats
from curate.optout.table_index import TableIndex, table_agents, table_index
from curate.optout.url_hosts import url_hosts


class OptOut(Filter):
    name: ClassVar[str] = "optout"

    def __init__(self, table: str | None = None, agents: str | list[str] | None = None,
                 scope: Literal["host", "path"] = "host", page_signals: bool = True,
                 directives: list[str] | None = None, tdm: bool = True, report_domains: bool = True) -> None:
        if scope not in ("host", "path"):
            raise ValueError(f"scope must be 'host' or 'path', not {scope!r}")
        if table is None and not page_signals:
            raise ValueError("optout needs a table (robots.txt opt-outs) or page_signals: true (or both)")
        # a local table by its absolute path: workers may run in another folder (Ray's do)
        self.table = os.path.abspath(table) if table and "://" not in table else table
        self.agents = agents
        self.scope = scope
        self.page_signals = page_signals
        self.directives = [d.strip().lower() for d in (directives if directives is not None else ["noai"])]
        self.tdm = tdm
        self.report_domains = report_domains
        self._agents: tuple[str, ...] | None = None
        self._stats: tuple[int, dict[str, dict[str, int]]] | None = None

    def preflight(self) -> None:
        if self.table is not None:
            self._index()  # raises OptoutTableError naming the file and what to do

    def _index(self) -> TableIndex:
        assert self.table is not None
        if self._agents is None:
            self._agents = tuple(table_agents(self.table) if self.agents is None else resolve_agents(self.agents))
        return table_index(self.table, self._agents, self.scope)

    def _page_agents(self) -> set[str]:
        if self.agents is not None:
            return {a.lower() for a in resolve_agents(self.agents)}
        if self.table is not None:
            return {a.lower() for a in self._index().agents}
        return {a.lower() for a in resolve_agents("ai-all")}

    def filter(self, table: pa.Table, ctx: BlockContext) -> tuple[np.ndarray, list[str | None]]:
        self._stats = None  # never another batch's counters, even when this one fails
        n = table.num_rows
        reasons: list[str | None] = [None] * n
        if n == 0:
            return np.ones(0, dtype=bool), reasons
        urls = table.column(URL) if URL in table.column_names else pa.nulls(n, pa.string())
        if self.table is not None:
            self._robots(table, url_hosts(urls), reasons)
        if self.page_signals:
            self._page(table, reasons)
        keep = np.fromiter((r is None for r in reasons), dtype=bool, count=n)
        self._stats = (id(table), removal_stats(table, keep, self.report_domains, ctx.tokenizer))
        return keep, reasons

    def batch_stats(self, table: pa.Table) -> dict[str, dict[str, int]]:
        if self._stats is None or self._stats[0] != id(table):
            return {}
        return self._stats[1]

    def _robots(self, table: pa.Table, hosts: pa.Array, reasons: list[str | None]) -> None:
        index = self._index()
        found = pc.index_in(hosts, value_set=index.hosts)
        for i, j in _hits(found):
            reasons[i] = f"robots:{index.reasons[j]}"
        if self.scope == "path" and len(index.rule_hosts):
            urls = table.column(URL).to_pylist()
            for i, j in _hits(pc.index_in(hosts, value_set=index.rule_hosts)):
                if reasons[i] is None:
                    agent = index.path_verdict(j, urls[i])
                    if agent is not None:
                        reasons[i] = f"robots:{agent}"

    def _page(self, table: pa.Table, reasons: list[str | None]) -> None:
        names = table.column_names
        if ROBOTS_TAG in names and self.directives:
            tags = table.column(ROBOTS_TAG)
            if tags.null_count < len(tags):
                agents = self._page_agents()
                for i, value in enumerate(tags.to_pylist()):
                    if value is None or reasons[i] is not None:
                        continue
                    reasons[i] = _robots_tag_reason(value, self.directives, agents)
        if self.tdm and TDM_RESERVATION in names:
            reserved = pc.fill_null(pc.equal(table.column(TDM_RESERVATION), 1), False)
            for i in np.flatnonzero(reserved.to_numpy(zero_copy_only=False)).tolist():
                if reasons[i] is None:
                    reasons[i] = "tdm_reservation"

    def describe(self) -> dict[str, Any]:
        return {"table": self.table, "agents": self.agents, "scope": self.scope, "page_signals": self.page_signals,
                "directives": self.directives, "tdm": self.tdm, "report_domains": self.report_domains}


def _hits(found: pa.Array) -> list[tuple[int, int]]:
    """(row, index into the value set) of the rows ``pc.index_in`` found."""
    if found.null_count == len(found):
        return []
    rows = np.flatnonzero(pc.is_valid(found).to_numpy(zero_copy_only=False))
    return list(zip(rows.tolist(), pc.take(found, pa.array(rows)).to_pylist(), strict=True))


def _robots_tag_reason(value: str, directives: list[str], agents: set[str]) -> str | None:
    for entry in value.split(","):
        agent, colon, directive = entry.rpartition(":")
        if directive in directives and (not colon or agent in agents):
            return f"{directive}:{agent}" if colon else directive
    return None
