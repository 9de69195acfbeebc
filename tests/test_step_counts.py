"""StepCounts: the batch counter (add_rows) against the per-row one (add), and in = out + removed + errored."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curate.stats.step_counts import StepCounts


def test_add_rows_counts_what_add_counts():
    rng = np.random.default_rng(3)
    n = 500
    langs = rng.choice(["eng_Latn", "deu_Latn", "cmn_Hani", "und"], n).tolist()
    nbytes = rng.integers(0, 5000, n)
    kinds = [("out", None), ("removed", "gopher_repetition"), ("removed", "duplicate_of"), ("errored", "timeout")]
    outcome = [kinds[k] for k in rng.choice(4, n, p=[0.7, 0.15, 0.1, 0.05])]
    per_row, batch = StepCounts(), StepCounts()
    for lo in range(0, n, 128):  # several batches accumulate
        hi = min(lo + 128, n)
        per_row.add(langs[lo:hi], outcome[lo:hi], nbytes[lo:hi].tolist())
        rows = np.array([i - lo for i in range(lo, hi) if outcome[i][0] != "out"], dtype=np.int64)
        batch.add_rows(pa.array(langs[lo:hi]), nbytes[lo:hi], rows, [outcome[lo + i] for i in rows.tolist()])
    assert batch.to_dict() == per_row.to_dict()
    for lang, c in batch.to_dict().items():
        assert c["in"] == c["out"] + sum(c["removed"].values()) + sum(c["errored"].values()), lang
        assert c["bytes_in"] == c["bytes_out"] + sum(c["bytes_removed"].values()) + sum(
            int(nbytes[i]) for i in range(n) if langs[i] == lang and outcome[i][0] == "errored")


def test_add_rows_empty_batch_and_all_kept():
    counts = StepCounts()
    counts.add_rows(pa.array([], pa.string()), np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    assert counts.to_dict() == {}
    counts.add_rows(pa.array(["fra_Latn"] * 3), np.array([1, 2, 3]), np.zeros(0, np.int64), [])
    assert counts.to_dict()["fra_Latn"]["in"] == 3 and counts.to_dict()["fra_Latn"]["bytes_out"] == 6
