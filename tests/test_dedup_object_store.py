"""Dedup on a real S3-compatible store (SeaweedFS on loopback): requests per phase grow as shards + partitions.

The ``minhash`` step runs at two sizes with its work folder on ``counting::s3://...`` (the request-counting
wrapper of :mod:`curate.storage.request_counter` over s3fs). Every task's requests are counted by phase. From
6 shards x 3 partitions to 24 x 12, shards x partitions grows 16-fold and shards + partitions 4-fold: the
requests of every phase must follow the second (each task's requests stay flat), and the decisions must be
those of a run on local disk.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from dedup_harness import RequestsByPhase, decisions, run_step, split_table, write_shards  # noqa: E402

from curate.dedup import MinHashDedup  # noqa: E402
from curate.storage import request_counter as rc  # noqa: E402

pytestmark = pytest.mark.slow
BUCKET = "curate-dedup-requests"


@pytest.fixture(scope="module")
def store():
    from object_store import store_with_bucket

    yield from store_with_bucket(BUCKET)


def corpus(shards: int, per_shard: int = 15) -> pa.Table:
    """Short texts from a small vocabulary, a fifth of them copies or one-word edits of earlier ones."""
    rng = np.random.default_rng(shards)
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(600)]
    texts: list[str] = []
    for i in range(shards * per_shard):
        if i and rng.random() < 0.2:
            t = texts[int(rng.integers(i))].split()
            t[int(rng.integers(len(t)))] = "edited"
            texts.append(" ".join(t))
        else:
            texts.append(" ".join(rng.choice(words, int(rng.integers(12, 30)))))
    return pa.table({"id": [f"d{i:05d}" for i in range(len(texts))], "text": texts, "lang": ["en"] * len(texts)})


def phase_name(phase: str) -> str:
    return re.sub(r"-\d+$", "", phase)  # one name for every round of a components phase


def measured(store, tmp_path: Path, shards: int, partitions: int) -> tuple[dict, dict]:
    import os

    os.environ.update(store.env())
    tables = split_table(corpus(shards), shards)
    inputs = write_shards(tables, tmp_path / f"in-{shards}")
    counting = RequestsByPhase()
    step = MinHashDedup(partitions=partitions, tokenizer="whitespace")
    outputs, _ = run_step(step, inputs, f"counting::s3://{BUCKET}/work-{shards}x{partitions}", counting)
    local, _ = run_step(MinHashDedup(partitions=partitions, tokenizer="whitespace"), inputs, tmp_path / f"w{shards}")
    assert decisions(outputs) == decisions(local)
    per_phase: dict[str, dict] = {}
    for phase, item, counts in counting.tasks:
        entry = per_phase.setdefault(phase_name(phase), {"units": 0})
        # the work a task does: a merge task's runs, an index task's groups, else one partition or shard
        entry["units"] += len(item.sizes) if hasattr(item, "sizes") else getattr(item, "groups", 1)
        rc.add(entry, counts)
    return per_phase, {"removed": sum(1 for v in decisions(outputs).values() if not v[0])}


def test_requests_per_phase_grow_with_shards_plus_partitions_on_s3(store, tmp_path, monkeypatch):
    small, s_info = measured(store, tmp_path, 6, 3)
    large, l_info = measured(store, tmp_path, 24, 12)
    assert s_info["removed"] > 3 and l_info["removed"] > 10  # real duplicates went through every phase
    # per unit of work (a shard, a partition, a merged run, a group), whatever the number of phases (rounds
    # grow with the graph): flat, where writers x readers reads would grow it 4-fold here
    per_small = sum(rc.requests(p) for p in small.values()) / sum(p["units"] for p in small.values())
    per_large = sum(rc.requests(p) for p in large.values()) / sum(p["units"] for p in large.values())
    assert per_large <= 1.3 * per_small, (per_small, per_large)
    for name, p in large.items():
        assert p.get("list", 0) == 0, name  # no task lists a folder
        if name not in small:
            continue
        per_unit_small = rc.requests(small[name]) / small[name]["units"]
        per_unit_large = rc.requests(p) / p["units"]
        # the requests per shard, partition, merged run or group do not grow with the writers or readers
        assert per_unit_large <= 1.5 * per_unit_small + 2, (name, per_unit_small, per_unit_large)
