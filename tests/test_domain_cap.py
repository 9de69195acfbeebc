"""``domain_cap`` (issue 27): at most K documents per registered domain, the same ones whatever the sharding.

Real WARCs of ../shared/data (web.archive.org and www.archive.org make one registered domain of 219 pages);
the same records are run with 1 and 4 workers and re-split into other files (their gzip members dealt
round-robin into six new WARCs): the kept documents are the same, and each domain keeps min(K, its pages).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tldextract
from pipeline_helpers import parquet_digests, write_pipeline
from real_records import gzip_members

from curate import run
from curate.blocks.base import BlockContext, GlobalJob
from curate.config.pipeline_config import load_pipeline
from curate.optout.domain_cap import DomainCap

INPUTS = ("wayback-snapshot-topic-02.warc.gz", "ia-2008-crawl-example.warc.gz", "wget-crawl-sample-0000.warc.gz",
          "wget-crawl-sample-0001.warc.gz")
K = 3
_PSL = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


def _domain(url: str) -> str:
    return _PSL(url).top_domain_under_public_suffix


def _run(tmp: Path, name: str, inputs: list[str], workers: int) -> tuple[pa.Table, pa.Table, Path]:
    out = tmp / name
    cfg = write_pipeline(tmp / f"{name}.yaml", inputs, out,
                         [{"domain_cap": {"max_docs": K, "by": "registered_domain"}}],
                         executor={"type": "local", "workers": workers})
    run(load_pipeline(str(cfg)))
    kept = pa.concat_tables([pq.read_table(p, columns=["id", "url"]) for p in out.glob("*/part-*.parquet")])
    removed = pa.concat_tables([pq.read_table(p, columns=["id", "url", "drop_reason"])
                                for p in (out / "_removed").rglob("*.parquet")])
    return kept, removed, out


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_data: Path):
    tmp = tmp_path_factory.mktemp("cap")
    originals = [shared_data / "warc" / n for n in INPUTS]
    members = [m for path in originals for m in gzip_members(path)]
    resplit = []
    for i in range(6):  # every record of the four files, dealt into six others
        path = tmp / f"resplit-{i}.warc.gz"
        path.write_bytes(b"".join(members[i::6]))
        resplit.append(str(path))
    return {
        "one": _run(tmp, "one", [str(p) for p in originals], workers=1),
        "four": _run(tmp, "four", [str(p) for p in originals], workers=4),
        "resplit": _run(tmp, "resplit", resplit, workers=2),
    }


def test_same_kept_documents_with_1_and_4_workers_and_other_shards(runs) -> None:
    kept = {name: set(k.column("id").to_pylist()) for name, (k, _, _) in runs.items()}
    assert kept["one"] == kept["four"] == kept["resplit"]
    assert parquet_digests(runs["one"][2]) == parquet_digests(runs["four"][2])  # same bytes, too


def test_each_domain_keeps_min_k_of_its_documents(runs) -> None:
    kept, removed, _ = runs["one"]
    total = Counter(_domain(u) for u in kept.column("url").to_pylist() + removed.column("url").to_pylist())
    left = Counter(_domain(u) for u in kept.column("url").to_pylist())
    assert total["archive.org"] == 219 and total["github.io"] == 0  # PSL private section: each blog its own
    assert {d: left[d] for d in total} == {d: min(K, n) for d, n in total.items()}
    reasons = Counter(removed.column("drop_reason").to_pylist())
    assert reasons["domain_cap:over_cap:archive.org"] == 219 - K
    assert sum(reasons.values()) == sum(n - K for n in total.values() if n > K)


def _shard(tmp: Path, name: str, rows: list[tuple[str, str, str]]) -> str:
    path = tmp / f"{name}.parquet"
    ids, urls, langs = zip(*rows, strict=True) if rows else ((), (), ())
    pq.write_table(pa.table({"id": list(ids), "url": list(urls), "lang": list(langs)},
                            schema=pa.schema([("id", pa.string()), ("url", pa.string()), ("lang", pa.string())])),
                   path)
    return str(path)


@pytest.mark.parametrize("partitions", [1, 3])
def test_cap_is_per_language_and_bounded_buffers_give_the_same_answer(tmp_path: Path, partitions: int) -> None:
    # 40 documents of one site in two languages, 5 without a URL, spread unevenly over 4 shards (one empty)
    rows = [(f"doc-{i}", f"https://s{i % 3}.example.com/{i}", "deu_Latn" if i % 4 else "fra_Latn") for i in range(40)]
    rows += [(f"nourl-{i}", None, "deu_Latn") for i in range(5)]
    shards = [("a", _shard(tmp_path, "a", rows[:30])), ("b", _shard(tmp_path, "b", rows[30:41])),
              ("c", _shard(tmp_path, "c", [])), ("d", _shard(tmp_path, "d", rows[41:]))]
    step = DomainCap(max_docs=4, partitions=partitions)
    step.buffer_rows = 3  # compact after every shard: the bounded merge must give the same thresholds
    step.group_rows = 40 if partitions == 3 else 1  # shards combined in groups of 3 (3 partitions), or not
    job = GlobalJob(shards=shards, workdir=str(tmp_path / "work"), map=lambda fn, items: [fn(i) for i in items])
    step.prepare(job)
    assert job.stats["domain_cap"]["capped_keys"] == {"deu_Latn": 1, "fra_Latn": 1}
    assert (tmp_path / "work" / "groups").exists() == (partitions == 3)
    kept: Counter[str] = Counter()
    for name, path in shards:
        table = pq.read_table(path)
        out = step.process(table, BlockContext(shard=name))
        for lang, url, keep in zip(table.column("lang").to_pylist(), table.column("url").to_pylist(),
                                   out.keep.tolist(), strict=True):
            if keep:
                kept[(lang, url is None)] += 1
    assert kept == {("deu_Latn", False): 4, ("fra_Latn", False): 4, ("deu_Latn", True): 5}
    # rerunning prepare reuses the finished phases (markers) and gives the same answer
    again = DomainCap(max_docs=4, partitions=partitions)
    again.prepare(GlobalJob(shards=shards, workdir=str(tmp_path / "work"), map=lambda fn, items: 1 / 0))
    assert again._workdir == step._workdir
