"""One dump added to a dedup index: what a run knows of the index, and the commit of its new version.

``open_run`` (in the step's ``prepare``): the index's latest version is the *base* the run deduplicates
against; the run's documents are numbered after every document ever added (dense, shard then row), its key
partitions and node partitions are the index's (fixed when the index was created), and the index lock is
taken for the run. A dump already in the index is refused, except the dump of the latest version run again
(inputs changed): it then replaces its own version, deduplicated against the version before it.

``commit`` (in the step's ``finish``, after the run's last stage): the filters' outcome of every document
the run kept (did it survive the stage the dedup step opened?), then the version's files under
``data/<version>-<run>/`` (the run's keys and docs shuffles, the labels and clusters segments, the updates
of earlier dumps' outputs) and its manifest, created last: the commit. Every step is resumable (markers) and
deterministic, so a rerun after a kill writes the same files and commits.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks import columns as C
from curate.dedup.components import read_results
from curate.dedup.index_store import FORMAT, DedupIndex, DedupIndexError
from curate.dedup.index_tables import CLUSTER_SCHEMA, UPDATE_SCHEMA, counted_lang
from curate.dedup.star_contraction import node_partition
from curate.dedup.star_rounds import MapFn
from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partitioned_shuffle import ShufflePlan, ShuffleRef
from curate.shuffle.workdir import Workdir


@dataclass
class IndexRun:
    """What a run against an index needs to know (recorded in the step's workdir manifest: a resumed run and
    its ``finish`` read it back)."""

    url: str
    dump: str
    run: str
    out_dir: str
    base_version: int  # 0: the index was empty
    version: int  # the version this run commits
    partitions: int
    node_partitions: int
    first_node: int
    shard_rows: list[int] = field(default_factory=list)

    def starts(self) -> list[int]:
        """The number of each shard's first document."""
        return (self.first_node + np.r_[0, np.cumsum(self.shard_rows)[:-1]]).astype(int).tolist() \
            if self.shard_rows else []

    def base(self) -> dict[str, Any] | None:
        return DedupIndex(self.url).manifest(self.base_version) if self.base_version else None

    def record(self) -> dict[str, Any]:
        return asdict(self)


# a dump's name becomes a file name in the index (its updates): a plain name, never a path
SAFE_DUMP = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def index_setting(value: str | dict[str, Any] | None) -> dict[str, str] | None:
    """``index: URL`` or ``index: {url: URL, dump: NAME}`` -> {"url", "dump"} (dump "" = the output folder's name)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"url": value}
    unknown = sorted(set(value) - {"url", "dump"})
    if unknown or not value.get("url"):
        raise ValueError(f"index: expected a URL or {{url: URL, dump: NAME}}, got {value!r}")
    dump = str(value.get("dump") or "")
    if dump and not SAFE_DUMP.fullmatch(dump):
        raise ValueError(f"index: dump {dump!r} is no plain name (letters, digits, '.', '_', '-'; not starting "
                         "with '.'): it names files in the index")
    return {"url": str(value["url"]).rstrip("/"), "dump": dump}


def run_id(url: str, dump: str, out_dir: str) -> str:
    return hashlib.sha256(f"{url}\n{dump}\n{out_dir}".encode()).hexdigest()[:16]


def open_run(setting: dict[str, str], block: str, settings: dict[str, Any], out_dir: str, shard_rows: list[int],
             partitions: tuple[int, int]) -> IndexRun:
    """The run's view of the index (see the module doc); takes the index lock for the run."""
    index = DedupIndex(setting["url"])
    dump = dump_name(setting, out_dir)
    run = run_id(index.url, dump, out_dir)
    latest = index.manifest()
    base = latest
    if latest is not None:
        check_settings(latest, block, settings, index.url)
        if replaces_own_version(latest, dump, run, index.url):
            base = index.manifest(latest["parent"]) if latest["parent"] else None
    index.lock(run, "add", dump, out_dir).acquire()
    parts, nodes = (int(base["partitions"]), int(base["node_partitions"])) if base else partitions
    return IndexRun(url=index.url, dump=dump, run=run, out_dir=out_dir,
                    base_version=int(base["version"]) if base else 0,
                    version=(int(latest["version"]) if latest else 0) + 1, partitions=parts, node_partitions=nodes,
                    first_node=int(latest["next_node"]) if latest else 0, shard_rows=[int(r) for r in shard_rows])


def dump_name(setting: dict[str, str], out_dir: str) -> str:
    """The dump a run adds: its ``dump`` setting, else its output folder's name."""
    name = setting["dump"] or os.path.basename(out_dir.rstrip("/")) or "dump"
    if not SAFE_DUMP.fullmatch(name):
        raise DedupIndexError(f"the output folder's name {name!r} cannot name a dump of a dedup index (it names "
                              "files in the index); name the dump: index: {url: ..., dump: NAME}")
    return name


def replaces_own_version(latest: dict[str, Any], dump: str, run: str, url: str) -> bool:
    """True when ``run`` is the latest version's own run, rerun (changed inputs): it replaces that version.
    A dump already in the index otherwise is refused."""
    if dump not in [d["name"] for d in latest["dumps"]]:
        return False
    op = latest.get("operation", {})
    if op.get("kind") == "add" and op.get("dump") == dump and op.get("run") == run:
        return True
    raise DedupIndexError(
        f"dump {dump!r} is already in dedup index {url} (added by {latest_op(latest, dump)}); name this run's "
        f"dump otherwise (index: {{url: ..., dump: NAME}}), or drop it first: `curate index drop {url} {dump}`")


def check_run(setting: dict[str, str], block: str, settings: dict[str, Any], out_dir: str) -> None:
    """What :func:`open_run` would refuse, checked before any work (the runner's preflight): other settings,
    a dump already in the index, the lock held by another run."""
    index = DedupIndex(setting["url"])
    dump = dump_name(setting, out_dir)
    run = run_id(index.url, dump, out_dir)
    latest = index.manifest()
    if latest is not None:
        check_settings(latest, block, settings, index.url)
        if any(d.get("run") == run for d in latest["dumps"]):
            return  # this run committed already: rerun, it finds its work done (or, inputs changed, prepares)
        replaces_own_version(latest, dump, run, index.url)
    index.lock(run, "add", dump, out_dir).refuse_if_held_by_another()


def latest_op(manifest: dict[str, Any], dump: str) -> str:
    for d in manifest["dumps"]:
        if d["name"] == dump:
            return f"the run writing to {d.get('out_dir') or '?'}, version {d['version']}"
    return "?"


def check_settings(manifest: dict[str, Any], block: str, settings: dict[str, Any], url: str) -> None:
    if manifest["block"] != block or manifest["settings"] != settings:
        theirs = {"block": manifest["block"], **manifest["settings"]}
        ours = {"block": block, **settings}
        differ = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise DedupIndexError(f"dedup index {url} was built with other settings ({', '.join(differ)}: "
                              f"{ {k: theirs.get(k) for k in differ} }, this step has "
                              f"{ {k: ours.get(k) for k in differ} }); use another index or the same settings")


# -- commit -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeTask:
    """Shard ``index`` of the run: a cluster row for each document it kept, with the filters' outcome."""

    workdir: str
    index: int
    shard_id: str
    path: str  # the rows the dedup step read (its stage's input)
    survivors: tuple[str, ...]  # files of the rows that survived the stage
    first_node: int
    node_partitions: int
    writer: int


def outcome_task(task: OutcomeTask) -> dict[str, Any]:
    wd = Workdir(task.workdir)
    marker = ("ix", "outcomes", f"shard-{task.index:06d}.done")
    if wd.exists(*marker):
        return wd.read_json(*marker)
    if task.path:
        with fsspec.open(task.path, "rb") as f:
            table = pq.read_table(f, columns=[C.ID, C.LANG] if C.LANG in pq.read_schema(f).names else [C.ID])
    else:
        table = pa.table({C.ID: pa.array([], pa.string())})
    n = table.num_rows
    ids = table.column(C.ID).cast(pa.string()).combine_chunks()
    langs = (table.column(C.LANG).cast(pa.string()).combine_chunks() if C.LANG in table.column_names
             else pa.nulls(n, pa.string()))
    langs = pc.fill_null(langs, C.UNKNOWN_LANG)  # as the dedup step's docs table has it
    keep = np.ones(n, bool)
    size = np.ones(n, np.int64)
    res = read_results(wd, task.shard_id)
    if res.num_rows:
        rows = res.column("row").to_numpy()
        keep[rows] = res.column("keep").to_numpy(zero_copy_only=False)
        size[rows] = res.column("cluster_size").to_numpy()
    survived: set[str] = set()
    for path in task.survivors:
        with fsspec.open(path, "rb") as f:
            survived.update(pq.read_table(f, columns=[C.ID]).column(C.ID).cast(pa.string()).to_pylist())
    at = np.flatnonzero(keep)
    kept_ids = ids.take(pa.array(at))
    filtered = ~pc.is_in(kept_ids, value_set=pa.array(sorted(survived), pa.string())).to_numpy(zero_copy_only=False)
    cid = task.first_node + at
    table = pa.table([pa.array(cid), pa.array(size[at]), kept_ids, langs.take(pa.array(at)), pa.array(filtered),
                      pa.array(np.ones(len(at), bool)), pa.array(np.full(len(at), -1, np.int64))],
                     schema=CLUSTER_SCHEMA)
    run_bytes = shuffle.write(wd, "ix/clusters", task.writer, table, node_partition(cid, task.node_partitions),
                              task.node_partitions)
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for lang, s, f in zip(counted_lang(langs.take(pa.array(at))).to_pylist(), size[at].tolist(), filtered.tolist(),
                          strict=True):
        bucket = counts.setdefault(lang, {"kept": {}, "removed": {}})["removed" if f else "kept"]
        bucket[str(s)] = bucket.get(str(s), 0) + 1
    info = {"run_bytes": run_bytes, "kept": int(len(at)), "filtered": int(filtered.sum()), "rehydrate": counts,
            "langs": dict(Counter(langs.to_pylist()))}
    wd.write_json(info, *marker)
    return info


def add_counts(into: dict[str, dict[str, Any]], more: dict[str, dict[str, Any]], nested: bool) -> None:
    """Sum ``{lang: {size: n}}`` (or, ``nested``, ``{lang: {kept|removed: {size: n}}}``) into ``into``; zero
    entries are dropped."""
    for lang, d in more.items():
        if nested:
            entry = into.setdefault(lang, {"kept": {}, "removed": {}})
            for what, sizes in d.items():
                add_counts(entry, {what: sizes}, nested=False)
            continue
        entry = into.setdefault(lang, {})
        for s, c in d.items():
            entry[str(s)] = int(entry.get(str(s), 0)) + int(c)
            if entry[str(s)] == 0:
                del entry[str(s)]
        into[lang] = dict(sorted(entry.items(), key=lambda kv: int(kv[0])))
    for lang in [k for k, v in into.items() if not v or (nested and not any(v.values()))]:
        del into[lang]


def commit(run: MapFn, wd: Workdir, ix: IndexRun, block: str, settings: dict[str, Any], shards: list[tuple[str, str]],
           outputs: list[tuple[str, list[str]]], record: dict[str, Any], earlier: dict[str, Any],
           plan: ShufflePlan | None = None) -> dict[str, Any]:
    """Write version ``ix.version`` (see the module doc); returns its manifest. ``record`` is what the step
    recorded at its barrier (``clusters.done``); ``earlier``: the run's global steps' statistics (the
    rehydration tables of this run are kept with the version)."""
    index = DedupIndex(ix.url)
    latest = index.manifest()
    if latest is not None and int(latest["version"]) >= ix.version:
        done = index.manifest(ix.version)
        if done and done.get("operation", {}).get("run") == ix.run:
            return done  # committed already (a rerun of a finished run)
        raise DedupIndexError(f"dedup index {ix.url} moved to version {latest['version']} since this run's dedup "
                              f"step read version {ix.base_version} (it was unlocked by hand?); rerun with --overwrite")
    lock = index.lock(ix.run, "add", ix.dump, ix.out_dir).acquire()
    base = ix.base()
    nodes = ix.node_partitions
    starts = ix.starts()
    tasks = [OutcomeTask(wd.url, i, sid, path, tuple(files), starts[i], nodes, nodes + i)
             for i, ((sid, path), (_, files)) in enumerate(zip(shards, outputs, strict=True))]
    kept = run(outcome_task, tasks)
    runs = record["index"]["runs"]
    labels = shuffle.merge(run, wd, "ix/labels", nodes, runs["label"], plan)
    clusters = shuffle.merge(run, wd, "ix/clusters", nodes, runs["cluster"] + [int(i["run_bytes"]) for i in kept],
                             plan)
    dumps_before = base["dumps"] if base else []
    updates = shuffle.merge(run, wd, "ix/updates", max(len(dumps_before), 1), runs["update"], plan)
    uid = f"data/v{ix.version:06d}-{ix.run}"
    refs = record["refs"]
    keys_ref = index.copy_shuffle(wd, ShuffleRef(**refs["keys"]), f"{uid}/keys")
    docs_ref = index.copy_shuffle(wd, ShuffleRef(**refs["docs"]), f"{uid}/docs")
    label_ref = index.copy_shuffle(wd, labels, f"{uid}/labels")
    cluster_ref = index.copy_shuffle(wd, clusters, f"{uid}/clusters")
    written = []
    for k, d in enumerate(dumps_before):
        table = shuffle.read(wd, updates, k, UPDATE_SCHEMA)
        if table.num_rows:
            path = f"{uid}/updates/{d['name']}.parquet"
            index.wd.write_parquet(table, *path.split("/"))
            written.append({"dump": d["name"], "version": ix.version, "path": path, "rows": table.num_rows})
    rehydrate_counts: dict[str, Any] = {}
    add_counts(rehydrate_counts, (base or {}).get("rehydrate_counts", {}), nested=True)
    add_counts(rehydrate_counts, record["index"]["rehydrate"], nested=True)
    for info in kept:
        add_counts(rehydrate_counts, info["rehydrate"], nested=True)
    langs: Counter[str] = Counter()
    for info in kept:
        langs.update(info["langs"])
    dump = {"name": ix.dump, "run": ix.run, "version": ix.version, "out_dir": ix.out_dir, "first_node": ix.first_node,
            "documents": int(sum(ix.shard_rows)), "shards": len(shards), "kept": sum(int(i["kept"]) for i in kept),
            "languages": dict(sorted(langs.items())), "keys": keys_ref.__dict__, "docs": docs_ref.__dict__}
    dumps = [*dumps_before, dump]
    manifest = {
        "format": FORMAT, "version": ix.version, "parent": ix.base_version, "block": block, "settings": settings,
        "partitions": ix.partitions, "node_partitions": nodes,
        "operation": {"kind": "add", "dump": ix.dump, "run": ix.run, "out_dir": ix.out_dir},
        "next_node": ix.first_node + int(sum(ix.shard_rows)),
        "dumps": dumps,
        "documents": sum(int(d["documents"]) for d in dumps),
        "labels": [*(base["labels"] if base else []), label_ref.__dict__],
        "clusters": [*(base["clusters"] if base else []), cluster_ref.__dict__],
        "forwards": int((base or {}).get("forwards", 0)) + int(record["index"]["retracted"]),
        "updates": [*(base["updates"] if base else []), *written],
        "clusters_by_lang": record["corpus"],
        "rehydrate_counts": rehydrate_counts,
        "rehydrate": rehydrate_tables(earlier),
    }
    index.commit(manifest)
    lock.release()
    return manifest


def rehydrate_tables(earlier: dict[str, Any]) -> dict[str, Any] | None:
    """The run's rehydration tables per language (the ``rehydrate`` step's statistics), kept with the version so
    that the earlier dumps' weights can be read off them (:mod:`curate.corpus.corpus_view`)."""
    for key in sorted(earlier, key=lambda k: int(k.split(":")[0]) if k.split(":")[0].isdigit() else 0):
        stats = earlier[key]
        if key.endswith(":rehydrate") and isinstance(stats, dict) and "languages" in stats:
            return {"settings": stats.get("corpus", {}).get("settings", {}),
                    "default_table": stats.get("default_table"),
                    "tables": {lang: e.get("table", {}) for lang, e in sorted(stats["languages"].items())}}
    return None


def corpus_counts(base: dict[str, Any] | None, recorded: dict[str, Any], stats: dict[str, dict[int, int]]
                  ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, dict[str, int]]]]:
    """The corpus after the run: cluster sizes per language (the base's, minus the clusters the run touched,
    plus the run's clusters: ``stats``), and the filters' outcomes per language and cluster size of every
    cluster whose kept document is an earlier one (rehydration adds this run's from its own stage)."""
    corpus: dict[str, dict[str, int]] = {}
    add_counts(corpus, (base or {}).get("clusters_by_lang", {}), nested=False)
    add_counts(corpus, recorded["dist"], nested=False)
    add_counts(corpus, {lang: {str(s): c for s, c in d.items()} for lang, d in stats.items()}, nested=False)
    rehydrate: dict[str, dict[str, dict[str, int]]] = {}
    add_counts(rehydrate, (base or {}).get("rehydrate_counts", {}), nested=True)
    add_counts(rehydrate, recorded["rehydrate"], nested=True)
    return dict(sorted(corpus.items())), dict(sorted(rehydrate.items()))


def index_summary(ix: IndexRun, record: dict[str, Any]) -> dict[str, Any]:
    """The step's statistics about the index (``<step>_index`` in stats.json)."""
    base = ix.base()
    names = [d["name"] for d in base["dumps"]] if base else []
    recorded = record["index"]
    touched = {names[int(k)]: v for k, v in recorded["touched_by_dump"].items() if int(k) < len(names)}
    corpus = record["corpus"]
    return {
        "url": ix.url, "dump": ix.dump, "version": ix.version, "base_version": ix.base_version,
        "dumps": [*names, ix.dump],
        "documents": sum(int(s) * int(c) for d in corpus.values() for s, c in d.items()),
        "clusters": sum(int(c) for d in corpus.values() for c in d.values()),
        # this run: the earlier clusters its documents joined, and their kept documents it made duplicates
        "earlier_clusters_touched": int(recorded["touched"]), "earlier_kept_now_duplicates": int(recorded["retracted"]),
        "earlier_clusters_touched_by_dump": touched,
        "lookup": record.get("lookup", {}),
        "rehydrate_base": record["rehydrate_base"],
    }
