"""A block that raises on one document errors that document only, not its batch (issue 23).

Real documents: 3,000 lingua sentences (one document each, JSONL, batches of 1,024) and the records of a real
WARC. The filters of ``tests/failing_blocks.py`` raise on the documents whose id hashes to 0 mod 20 (5%):
``raises_on_some`` is a ``@curate.document_filter`` (one call per document), ``BatchRaisesOnSome`` a batch
``Filter`` that raises when its batch holds one of them (the runner then narrows the batch down).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from failing_blocks import raises_on
from pipeline_helpers import write_pipeline

from curate import run
from curate.blocks.base import Block, BlockContext, BlockOutput
from curate.config.pipeline_config import load_pipeline
from curate.executors.local import LocalExecutor
from curate.pipeline.batch_errors import process_isolating

SENTENCES = 3000


def _jsonl(shared_data: Path, tmp_path: Path) -> Path:
    path = tmp_path / "sentences.jsonl"
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as src, \
            open(path, "w", encoding="utf-8") as out:
        for i, line in zip(range(SENTENCES), src, strict=False):
            row = json.loads(line)
            out.write(json.dumps({"id": row["id"], "text": row["text"], "n": i}) + "\n")
    return path


def _run(cfg: Path):
    executor = LocalExecutor(workers=1, progress=False)
    try:
        return run(load_pipeline(str(cfg)), executor=executor)
    finally:
        executor.close()


@pytest.mark.parametrize("block", ["failing_blocks:raises_on_some", "failing_blocks:BatchRaisesOnSome"])
def test_raising_document_errors_itself_only(shared_data: Path, tmp_path: Path, block: str) -> None:
    src = _jsonl(shared_data, tmp_path)
    ids = [json.loads(line)["id"] for line in src.read_text(encoding="utf-8").splitlines()]
    bad = {i for i in ids if raises_on(i)}
    assert 0.03 < len(bad) / len(ids) < 0.07  # about 5%
    out = tmp_path / "out"
    cfg = write_pipeline(tmp_path / "p.yaml", [str(src)], out, [{block: {}}], max_error_rate=0.10)
    _run(cfg)  # 5% errors, budget 10%: the run passes
    counts = _step_counts(out, 0)
    assert counts["in"] == len(ids)
    assert counts["errored"] == len(bad)
    assert counts["in"] == counts["out"] + counts["removed"] + counts["errored"], counts
    kept = pl.read_parquet(_kept_files(out))
    removed = pl.read_parquet(list((out / "_removed").rglob("*.parquet")))
    assert set(kept["id"].to_list()) == set(ids) - bad  # every good document kept
    assert set(removed["id"].to_list()) == bad  # exactly the raising ones errored, each with its own message
    for doc_id, reason in zip(removed["id"].to_list(), removed["drop_reason"].to_list(), strict=True):
        assert reason.endswith(f"ValueError: cannot score document {doc_id}"), reason


def _kept_files(out: Path) -> list[Path]:
    return [p for p in out.glob("*/*.parquet") if not p.parent.name.startswith("_")]


def _step_counts(out: Path, index: int) -> dict[str, int]:
    stats = json.loads((out / "_stats" / "stats.json").read_text())
    totals = {"in": 0, "out": 0, "removed": 0, "errored": 0}
    for lang in stats["steps"][index]["langs"].values():
        totals["in"] += lang["in"]
        totals["out"] += lang["out"]
        totals["removed"] += sum(lang.get("removed", {}).values())
        totals["errored"] += sum(lang.get("errored", {}).values())
    return totals


def test_raising_document_in_a_warc_batch(shared_data: Path, tmp_path: Path) -> None:
    """The same on a real WARC (batches of 256 records), after extraction."""
    out = tmp_path / "out"
    steps = [{"extract": {"engine": "resiliparse"}}, {"failing_blocks:raises_on_some": {}}]
    cfg = write_pipeline(tmp_path / "p.yaml", [str(shared_data / "warc" / "wayback-snapshot-topic-02.warc.gz")],
                         out, steps, max_error_rate=0.2, min_errors=10)  # 127 documents: 5% +- noise
    _run(cfg)
    counts = _step_counts(out, 1)
    kept = pl.read_parquet(_kept_files(out))
    removed = pl.read_parquet(list((out / "_removed").rglob("*stage0.parquet")))
    errored = removed.filter(pl.col("drop_stage") == "failing_blocks:raises_on_some")
    assert counts["in"] > 50 and 0 < counts["errored"] < counts["in"]
    assert not [i for i in kept["id"].to_list() if raises_on(i)]
    assert sorted(errored["id"].to_list()) == sorted(i for i in errored["id"].to_list() if raises_on(i))
    assert counts["errored"] == errored.height and counts["out"] == kept.height
    assert counts["in"] == counts["out"] + counts["removed"] + counts["errored"], counts


class _Scores(Block):
    """Adds a column; raises on any batch holding a negative number; emits two rows for the number 7."""

    def process(self, table: pa.Table, ctx: BlockContext) -> BlockOutput:
        values = table.column("n").to_pylist()
        if any(v < 0 for v in values):
            raise ArithmeticError(f"negative in {values}")
        origin = [i for i, v in enumerate(values) for _ in range(2 if v == 7 else 1)]
        out = table.take(origin).append_column("score", pa.array([v * 2 for v in table.take(origin)["n"].to_pylist()]))
        return BlockOutput(table=out, keep=[v != 3 for v in out["n"].to_pylist()],
                           reasons=[None if v != 3 else "three" for v in out["n"].to_pylist()], origin=origin)


def test_isolated_batch_keeps_the_blocks_answer_for_every_other_row() -> None:
    values = [5, -1, 3, 7, 8, -2, 9, 10, 11]
    out = process_isolating(_Scores(), pa.table({"n": values}), BlockContext())
    assert out.table.column_names == ["n", "score"]  # the block's columns, in its order
    assert out.table["n"].to_pylist() == [5, -1, 3, 7, 7, 8, -2, 9, 10, 11]
    assert out.table["score"].to_pylist() == [10, None, 6, 14, 14, 16, None, 18, 20, 22]
    assert list(out.origin) == [0, 1, 2, 3, 3, 4, 5, 6, 7, 8]
    assert [e is not None for e in out.errors] == [v < 0 for v in out.table["n"].to_pylist()]
    assert out.errors[1] == "ArithmeticError: negative in [-1]"
    assert list(out.keep) == [True, True, False, True, True, True, True, True, True, True]
    assert out.reasons[2] == "three"
