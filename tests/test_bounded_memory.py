"""Output written in row groups as rows come, the same bytes whatever the batch boundaries, and
oversize documents skipped by a byte check before any step (issue 13)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import parquet_digests, write_pipeline

from curate import run
from curate.config.pipeline_config import load_pipeline
from curate.io.parquet_output import ParquetOutput
from curate.io.row_group_writer import RowGroupWriter


def _sentences(shared: Path, n: int) -> list[dict]:
    rows = []
    with (shared / "langid" / "lingua_sentences.jsonl").open() as handle:
        for line in handle:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def _table(rows: list[dict]) -> pa.Table:
    return pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                     "lang": ["und"] * len(rows)})


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("batch", [1, 7, 100, 999])
def test_same_rows_give_the_same_bytes_whatever_the_batches(tmp_path: Path, shared_data: Path, batch: int) -> None:
    table = _table(_sentences(shared_data, 1000))
    reference = tmp_path / "ref.parquet"
    writer = RowGroupWriter(str(reference), row_group_rows=128, row_group_bytes=6_000)
    writer.add(table)
    writer.close()
    out = tmp_path / f"batched-{batch}.parquet"
    writer = RowGroupWriter(str(out), row_group_rows=128, row_group_bytes=6_000)
    for start in range(0, table.num_rows, batch):
        writer.add(table.slice(start, batch))
    writer.close()
    assert _digest(out) == _digest(reference)
    meta = pq.ParquetFile(out).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(sizes) == 1000 and max(sizes) <= 128 and meta.num_row_groups > 1000 // 128  # cut by bytes too
    assert pq.read_table(out).equals(table)


def test_rows_are_flushed_as_they_come(tmp_path: Path, shared_data: Path) -> None:
    table = _table(_sentences(shared_data, 2000))
    output = ParquetOutput(str(tmp_path), "part.parquet", partition_by_lang=True, row_group_rows=100)
    for start in range(0, 2000, 250):
        output.add(table.slice(start, 250))
        # on disk already (under the temporary name), not held: at most one row group in memory
        assert (tmp_path / "und" / "part.parquet.seg0.tmp").stat().st_size > 0
    written = output.close()
    assert written["und"]["documents"] == 2000
    assert pq.ParquetFile(tmp_path / "und" / "part.parquet").metadata.num_row_groups == 20
    assert not list(tmp_path.rglob("*.tmp"))


def test_rows_of_different_columns_share_one_file(tmp_path: Path, shared_data: Path) -> None:
    rows = _sentences(shared_data, 300)
    first = _table(rows[:100])
    second = _table(rows[100:200]).append_column("lang_score", pa.array([0.5] * 100))
    third = _table(rows[200:])
    path = tmp_path / "mixed.parquet"
    writer = RowGroupWriter(str(path), row_group_rows=64)
    for part in (first, second, third):
        writer.add(part)
    assert writer.close() == 300
    back = pq.read_table(path)
    assert back.column_names == ["id", "text", "lang", "lang_score"]
    assert back.column("id").to_pylist() == [r["id"] for r in rows]
    assert back.column("lang_score").null_count == 200
    assert not list(tmp_path.rglob("*.tmp"))


def test_oversize_document_is_skipped_and_counted_before_any_step(tmp_path: Path, shared_data: Path) -> None:
    rows = _sentences(shared_data, 50)
    # one document of ~3 MB of real sentences, over a 1 MB limit
    huge = {"id": "huge", "text": " ".join(r["text"] for r in _sentences(shared_data, 30_000))}
    assert len(huge["text"].encode()) > 1_000_000
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in [*rows[:25], huge, *rows[25:]]))
    steps = [{"langid": {}}, {"gopher_quality": {}}]
    cfg = write_pipeline(tmp_path / "p.yaml", [str(source)], tmp_path / "out", steps,
                         executor={"type": "local", "workers": 1})
    text = (tmp_path / "p.yaml").read_text().replace("  paths:", "  max_text_bytes: 1000000\n  paths:")
    cfg.write_text(text)
    result = run(load_pipeline(str(cfg)))
    read = result.stats["read"]
    assert read["skipped"] == {"text_too_large": 1}
    assert read["records"] == 51 and read["emitted"] == 50
    assert sum(e["in"] for e in result.stats["languages"].values()) == 50


def test_pipeline_output_independent_of_batch_size(tmp_path: Path, shared_data: Path) -> None:
    inputs = [str(shared_data / "warc" / "cc-main-2020-34-multilingual.warc.gz")]
    steps = [{"extract": {"engine": "resiliparse"}}, {"langid": {}}]
    digests = []
    for batch in (3, 256):
        cfg = write_pipeline(tmp_path / f"p{batch}.yaml", inputs, tmp_path / f"out{batch}", steps,
                             executor={"type": "local", "workers": 1},
                             writer={"row_group_rows": 4})
        text = (tmp_path / f"p{batch}.yaml").read_text().replace("  paths:", f"  batch_size: {batch}\n  paths:")
        cfg.write_text(text)
        run(load_pipeline(str(cfg)))
        digests.append({k: v for k, v in parquet_digests(tmp_path / f"out{batch}").items()
                        if not k.startswith("_stats")})
    assert digests[0] == digests[1]
