"""What the ``optout`` step keeps of an opt-out table in memory: only the hosts that opt out.

Streamed from the Parquet file a row group at a time, so the peak is the opted-out hosts, not the table:

- ``scope: host``: the hosts whose site root is disallowed to one of the step's agents, with the first such
  agent (in the step's order): one Arrow string array, looked up a batch at a time (``pc.index_in``);
- ``scope: path``: also the hosts that disallow some paths to one of the agents, with their ``rules`` (the
  lines of the groups that apply, see :meth:`curate.optout.robots_rules.RobotsRules.reduced_text`), parsed
  with protego when a document of the host comes, and cached per worker.

Loaded once per worker process and table file (keyed by path, size and modification time).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from curate.optout.robots_rules import RobotsRules
from curate.optout.robots_table import OptoutTableError, read_metadata, unknown_agents

RULES_CACHE = 4096  # parsed robots.txt per worker (a shard's hosts come together in Common Crawl's files)


class TableIndex:
    """Lookups for one table, one agent list and one scope."""

    def __init__(self, path: str, agents: tuple[str, ...], scope: str) -> None:
        self.path, self.agents, self.scope = path, agents, scope
        wanted = {a.lower(): i for i, a in enumerate(agents)}
        hosts: list[str] = []
        reasons: list[str] = []
        rule_hosts: list[str] = []
        rule_texts: list[str] = []
        with fsspec.open(path, "rb") as handle:
            pfile = pq.ParquetFile(handle)
            self.metadata = read_metadata(pfile.schema_arrow, path)
            missing = unknown_agents(agents, self.metadata["agents"])
            if missing:
                raise OptoutTableError(f"{path} was built without the agents {', '.join(missing)}; rebuild it with "
                                       f"`curate optout build ... --agents {','.join(agents)}` or name fewer agents")
            columns = ["host", "disallowed"] + (["rules"] if scope == "path" else [])
            for batch in pfile.iter_batches(columns=columns, batch_size=65_536):
                values = batch.to_pydict()
                texts = values.get("rules") or [None] * batch.num_rows
                for host, disallowed, text in zip(values["host"], values["disallowed"], texts, strict=True):
                    if scope == "path" and text is not None:
                        rule_hosts.append(host)
                        rule_texts.append(text)
                        continue
                    hits = [wanted[a.lower()] for a in disallowed or () if a.lower() in wanted]
                    if hits:
                        hosts.append(host)
                        reasons.append(agents[min(hits)])
        self.hosts = pa.array(hosts, pa.string())
        self.reasons = reasons
        self.rule_hosts = pa.array(rule_hosts, pa.string())
        self.rule_texts = rule_texts
        self._parsed: OrderedDict[int, tuple[RobotsRules, list[str]]] = OrderedDict()

    @property
    def size(self) -> int:
        return len(self.hosts) + len(self.rule_hosts)

    def path_verdict(self, index: int, url: str) -> str | None:
        """The first agent (step order) that may not fetch ``url``, by the rules of ``rule_hosts[index]``."""
        entry = self._parsed.get(index)
        if entry is None:
            rules = RobotsRules.parse(self.rule_texts[index])
            # agents answered by the same group get the same answer: ask protego once per group
            seen: dict[str | None, str] = {}
            for agent in self.agents:
                seen.setdefault(rules.group_for(agent), agent)
            entry = (rules, [a for g, a in seen.items() if g is not None])
            self._parsed[index] = entry
            if len(self._parsed) > RULES_CACHE:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(index)
        rules, representatives = entry
        blocked = [a for a in representatives if not rules.can_fetch(url, a)]
        if not blocked:
            return None
        # the first agent of the step's list whose group is one that blocks
        groups = {rules.group_for(a) for a in blocked}
        return next(a for a in self.agents if rules.group_for(a) in groups)


def _identity(path: str) -> str:
    try:
        fs, fs_path = fsspec.core.url_to_fs(path)
        info = fs.info(fs_path)
    except (FileNotFoundError, OSError) as exc:
        raise OptoutTableError(f"opt-out table {path} cannot be read ({exc}); build it with `curate optout build "
                               "ROBOTS_WARCS... --out TABLE.parquet`") from exc
    return f"{info.get('size')}:{info.get('mtime') or info.get('ETag') or info.get('LastModified')}"


@lru_cache(maxsize=8)
def _agents_of(path: str, identity: str) -> tuple[str, ...]:
    with fsspec.open(path, "rb") as handle:
        return tuple(read_metadata(pq.ParquetFile(handle).schema_arrow, path)["agents"])


def table_agents(path: str) -> tuple[str, ...]:
    """The agents a table was built for (from its metadata)."""
    return _agents_of(path, _identity(path))


@lru_cache(maxsize=4)
def _load(path: str, identity: str, agents: tuple[str, ...], scope: str) -> TableIndex:
    return TableIndex(path, agents, scope)


def table_index(path: str, agents: tuple[str, ...], scope: str) -> TableIndex:
    """The index of ``path``, built once per worker process (and again when the file changes)."""
    return _load(path, _identity(path), agents, scope)
