"""The partitioned shuffle (runs -> merged group files -> partition-major index) and its request counts.

Every partition read back equals the rows sent to it, in writer order, whatever the grouping; a reader
makes one index read and one read per group file holding its rows; a merge task reads each run in
``ceil(size / read_block)`` requests; a rerun after a lost group rebuilds the same bytes.
"""

from __future__ import annotations

import fsspec
import numpy as np
import pyarrow as pa
import pytest

from curate.shuffle import partitioned_shuffle as shuffle
from curate.shuffle.partfile import RUN_BATCH_BYTES, decode_counts, run_bytes
from curate.shuffle.workdir import Workdir
from curate.storage import request_counter as rc

SCHEMA = pa.schema([("a", pa.int64()), ("s", pa.string())])


def serial_map(fn, items):
    return [fn(x) for x in items]


def writer_tables(rng: np.random.Generator, writers: int, partitions: int) -> list[tuple[pa.Table, np.ndarray]]:
    out = []
    for w in range(writers):
        n = int(rng.integers(0, 400)) if w % 3 else 0  # every third writer has nothing to send
        a = np.arange(n, dtype=np.int64) + w * 10_000
        s = pa.array([f"w{w}-{i}" * int(rng.integers(1, 4)) for i in range(n)], pa.string())
        out.append((pa.table([pa.array(a), s], schema=SCHEMA), rng.integers(0, partitions, n)))
    return out


@pytest.mark.parametrize("writers,partitions,target_read", [(1, 1, 1 << 20), (7, 5, 1 << 20), (23, 9, 64),
                                                            (40, 3, 1)])
def test_every_partition_reads_back_its_rows_in_writer_order(writers, partitions, target_read):
    rng = np.random.default_rng(writers * 100 + partitions)
    wd = Workdir(f"memory://shuffle-{writers}-{partitions}-{target_read}")
    data = writer_tables(rng, writers, partitions)
    sizes = [shuffle.write(wd, "s", w, t, d, partitions) for w, (t, d) in enumerate(data)]
    plan = shuffle.ShufflePlan(target_read=target_read)
    ref = shuffle.merge(serial_map, wd, "s", partitions, sizes, plan)
    assert ref.groups == len(shuffle.plan_groups(sizes, partitions, plan))
    if target_read <= 64:
        assert ref.groups > 1  # the small target makes several groups: the index spans them
    for p in range(partitions):
        want = pa.concat_tables([t.filter(pa.array(d == p)) for t, d in data])
        got = shuffle.read(wd, ref, p, SCHEMA)
        assert got.equals(want), p
    assert not wd.exists("s", "runs")  # runs are deleted once the index exists
    wd.remove()


def test_groups_hold_enough_bytes_for_large_reads_and_respect_disk_and_memory():
    rng = np.random.default_rng(0)
    for _ in range(200):
        sizes = rng.integers(1, 5000, int(rng.integers(1, 300))).tolist()
        partitions = int(rng.integers(1, 50))
        plan = shuffle.ShufflePlan(target_read=int(rng.integers(1, 400)), merge_disk=int(rng.integers(5000, 10**6)),
                                   merge_memory=int(rng.integers(1, 40)) * RUN_BATCH_BYTES)
        groups = shuffle.plan_groups(sizes, partitions, plan)
        assert [lo for lo, _ in groups] == [0, *[hi for _, hi in groups[:-1]]] and groups[-1][1] == len(sizes)
        bytes_of = [sum(sizes[lo:hi]) for lo, hi in groups]
        most = plan.merge_memory // RUN_BATCH_BYTES
        assert all(hi - lo <= most for lo, hi in groups)
        want = min(plan.target_read * partitions, plan.merge_disk)
        if len(groups) > 1 and all(hi - lo < most for lo, hi in groups) and max(sizes) * 2 < want:
            assert min(bytes_of) >= 0.5 * want  # about equal groups, none far below the target
    assert shuffle.plan_groups([], 10) == []
    # one dump's keys shuffle with the defaults: ~900 runs of 11.7 MB per group, ~100 groups, reads >= 1 MiB
    groups = shuffle.plan_groups([11_700_000] * 90_000, 10_000)
    assert 95 <= len(groups) <= 105 and 90_000 * 11_700_000 / len(groups) / 10_000 >= 2**20


def test_requests_per_reader_and_per_merge_are_what_the_layout_promises():
    rng = np.random.default_rng(3)
    writers, partitions = 12, 6
    wd = Workdir("counting::memory://shuffle-requests")
    data = writer_tables(rng, writers, partitions)
    sizes = [shuffle.write(wd, "s", w, t, d, partitions) for w, (t, d) in enumerate(data)]
    plan = shuffle.ShufflePlan(target_read=200)
    groups = shuffle.plan_groups(sizes, partitions, plan)
    assert len(groups) > 2
    before = rc.snapshot()
    counted = []

    def counting_map(fn, items):
        out = [rc.CountedCall(fn)(x) for x in items]
        counted.extend((fn.__name__, item, c) for item, (_, c) in zip(items, out, strict=True))
        return [r for r, _ in out]

    ref = shuffle.merge(counting_map, wd, "s", partitions, sizes, plan)
    for name, item, c in counted:
        if name == "merge_task":  # each run fetched whole, in one request; nothing else read
            assert c.get("get", 0) == len(item.sizes) and c.get("get_bytes", 0) == sum(item.sizes)
            assert c.get("head", 0) == 0 and c.get("list", 0) == 0
        else:  # the index: one read per group's offsets
            assert c.get("get", 0) == len(groups) and c.get("meta_get", 0) == len(groups)
    for p in range(partitions):
        start = rc.snapshot()
        t = shuffle.read(wd, ref, p, SCHEMA)
        c = rc.difference(rc.snapshot(), start)
        want_groups = sum(1 for lo, hi in groups if any((data[w][1] == p).any() for w in range(lo, hi)))
        assert c.get("get", 0) == 1 + want_groups and c.get("meta_get", 0) == 1
        assert c.get("head", 0) == 0 and c.get("list", 0) == 0
        assert t.num_rows == sum(int((d == p).sum()) for _, d in data)
    assert rc.requests(rc.difference(rc.snapshot(), before)) > 0
    wd.remove()


def test_a_lost_group_is_rebuilt_identically(tmp_path):
    rng = np.random.default_rng(9)
    wd = Workdir(str(tmp_path / "w"))
    partitions = 4
    data = writer_tables(rng, 9, partitions)
    sizes = [shuffle.write(wd, "s", w, t, d, partitions) for w, (t, d) in enumerate(data)]
    plan = shuffle.ShufflePlan(target_read=100)
    # merge without deleting runs: as if killed between the groups and the index
    groups = shuffle.plan_groups(sizes, partitions, plan)
    shuffle.merge_task(shuffle.MergeTask(wd.url, "s", 0, 0, tuple(sizes[: groups[0][1]]), partitions))
    first = (tmp_path / "w" / "s" / "groups" / "group-00000.arrow").read_bytes()
    ref = shuffle.merge(serial_map, wd, "s", partitions, sizes, plan)  # skips group 0, does the rest
    assert (tmp_path / "w" / "s" / "groups" / "group-00000.arrow").read_bytes() == first
    fresh = Workdir(str(tmp_path / "fresh"))
    sizes2 = [shuffle.write(fresh, "s", w, t, d, partitions) for w, (t, d) in enumerate(data)]
    assert sizes2 == sizes
    shuffle.merge(serial_map, fresh, "s", partitions, sizes2, plan)
    for name in ["partitions.index", *sorted(p.name for p in (tmp_path / "w" / "s" / "groups").iterdir())]:
        sub = "" if name.endswith(".index") else "groups"
        a = (tmp_path / "w" / "s" / sub / name).read_bytes()
        b = (tmp_path / "fresh" / "s" / sub / name).read_bytes()
        assert a == b, name
    assert ref.groups == len(groups)


def test_run_keeps_counts_per_destination_and_refuses_bad_destinations():
    t = pa.table([pa.array([1, 2, 3], pa.int64()), pa.array(["a", "b", "c"])], schema=SCHEMA)
    data = run_bytes(t, np.array([2, 0, 2]), 3)
    reader = pa.ipc.open_stream(pa.py_buffer(data))
    assert decode_counts(reader.schema.metadata[b"curate.counts"]).tolist() == [1, 0, 2]
    assert reader.read_all().column("a").to_pylist() == [2, 1, 3]  # stable by destination
    with pytest.raises(ValueError):
        run_bytes(t, np.array([0, 3, 1]), 3)


def test_counting_filesystem_counts_ranged_reads_and_writes():
    fs = fsspec.filesystem("counting", target_protocol="memory")
    before = rc.snapshot()
    fs.pipe_file("/c/x.bin", b"0123456789" * 100)
    assert fs.cat_file("/c/x.bin", start=10, end=30) == b"0123456789" * 2
    with fs.open("/c/x.bin", "rb", block_size=256) as f:
        assert sum(len(f.read(100)) for _ in range(10)) == 1000
    c = rc.difference(rc.snapshot(), before)
    assert c["put"] == 1 and c["put_bytes"] == 1000
    # the open asked the size once; ten reads of 100 bytes made fewer, larger requests (read-ahead blocks)
    assert c["head"] == 1 and 1 + 3 <= c["get"] <= 1 + 5
    assert rc.median_read(c) >= 256
