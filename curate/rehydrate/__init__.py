"""Rehydration: duplication-aware upsampling of deduplicated documents (FineWeb2 scheme).

``compute_repetitions`` turns per-cluster-size kept/removed counts into a repetition table,
``repetitions_for_sizes`` applies a table to documents' cluster sizes. See the README, "Rehydration and per-language budgets".
"""

from curate.rehydrate.tables import (
    FINEWEB2_FIXED_TABLE,
    RepetitionTable,
    compress_repetitions,
    expected_documents,
    load_weight_tables,
    lookup_repetitions,
    normalize_table,
    repetitions_for_sizes,
)
from curate.rehydrate.weights import (
    DEFAULT_MAX_REPS,
    DEFAULT_TAIL_FRACTION,
    DEFAULT_WINDOW,
    choose_tail_threshold,
    compute_repetitions,
    load_distribution,
    raw_repetitions,
    removal_distribution,
    repetition_table,
    repetitions_from_distribution,
    repetitions_from_rates,
    smooth_edges_kept,
)

__all__ = [
    "DEFAULT_MAX_REPS",
    "DEFAULT_TAIL_FRACTION",
    "DEFAULT_WINDOW",
    "FINEWEB2_FIXED_TABLE",
    "RepetitionTable",
    "choose_tail_threshold",
    "compress_repetitions",
    "compute_repetitions",
    "expected_documents",
    "load_distribution",
    "load_weight_tables",
    "lookup_repetitions",
    "normalize_table",
    "raw_repetitions",
    "removal_distribution",
    "repetition_table",
    "repetitions_for_sizes",
    "repetitions_from_distribution",
    "repetitions_from_rates",
    "smooth_edges_kept",
]
