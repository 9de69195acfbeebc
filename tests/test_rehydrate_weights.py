"""Rehydration weights (FineWeb2 duplication-aware upsampling): hand-computed cases + published parity.

The parity tests read FineWeb2's published ``misc/rehydration`` files (huggingface/fineweb-2,
Apache-2.0) from the shared data folder and skip when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curate.rehydrate import (
    FINEWEB2_FIXED_TABLE,
    choose_tail_threshold,
    compress_repetitions,
    compute_repetitions,
    expected_documents,
    load_distribution,
    lookup_repetitions,
    normalize_table,
    raw_repetitions,
    removal_distribution,
    repetition_table,
    repetitions_for_sizes,
    repetitions_from_distribution,
    repetitions_from_rates,
    smooth_edges_kept,
)
from curate.rehydrate.parity import (
    HALF_TIE,
    SHORT_SERIES,
    UNEXPLAINED,
    counts_from_distribution,
    load_published,
    mismatch_reason,
    parity,
)

# ---------------------------------------------------------------------------------------------
# Hand-computed cases
# ---------------------------------------------------------------------------------------------

# Sizes 1..7, 100 representatives each except size 1 (1000): rates 70, 20, 10, 30, 60, 80, 90 %.
KEPT = {1: 300, 2: 80, 3: 90, 4: 70, 5: 40, 6: 20, 7: 10}
REMOVED = {1: 700, 2: 20, 3: 10, 4: 30, 5: 60, 6: 80, 7: 90}


def test_compute_repetitions_hand_computed() -> None:
    # R = 990 / 1600 = 61.875 % (count-weighted; the plain mean of the rates is 51.43 %), r_min = 10.
    # raw = 1 + 9 (r - R) / (10 - R) for r < R:
    #   size 1: 70 >= R -> 1;  2: 1 + 9 * 41.875/51.875 = 8.2651;  3: 10;  4: 6.5301;
    #   5: 60 < R -> 1.3253 (it would be 1 with the unweighted R);  6, 7: >= R -> 1
    # 5-wide average on sizes 3..5 (sizes 1, 2, 6, 7 are edges, kept as they are):
    #   3: (1 + 8.2651 + 10 + 6.5301 + 1.3253) / 5 = 5.4241;  4: (8.2651 + ... + 1) / 5 = 5.4241;
    #   5: (10 + 6.5301 + 1.3253 + 1 + 1) / 5 = 3.9711
    # rounded: [1, 8, 5, 5, 4, 1, 1] -> change points:
    assert compute_repetitions(KEPT, REMOVED) == {1: 1, 2: 8, 3: 5, 5: 4, 6: 1}


def test_removal_distribution_matches_published_format() -> None:
    dist = removal_distribution(KEPT, REMOVED)
    assert dist == {
        "cluster_sizes": [1, 2, 3, 4, 5, 6],
        "cluster_removal_rates": [70.0, 20.0, 10.0, 30.0, 60.0, 80.0],
        "cluster_post_filtering_doc_counts": [300, 80, 90, 70, 40, 20],
        "tail_threshold": 7,  # 1600 clusters: at most 1.6 may be larger than the threshold
        "tail_removal_rate": 90.0,
        "tail_post_filtering_doc_counts": 10,
        "global_removal_rate": 61.875,
    }
    json.dumps(dist)  # plain Python types, writable as FineWeb2's {lang}.json
    assert repetitions_from_distribution(dist) == compute_repetitions(KEPT, REMOVED)


def test_raw_repetitions_linear_between_global_and_lowest_rate() -> None:
    raw = raw_repetitions([80.0, 20.0, 50.0, 35.0, 60.0], global_rate=50.0, max_reps=10)
    # at/above R -> 1; lowest rate (20) -> M; 35 is halfway from 50 to 20 -> 1 + 9 / 2
    np.testing.assert_allclose(raw, [1.0, 10.0, 1.0, 5.5, 1.0])


def test_smoothing_window_and_edges() -> None:
    np.testing.assert_allclose(smooth_edges_kept([0, 0, 10, 0, 0, 0, 0]), [0, 0, 2, 2, 2, 0, 0])
    # the first/last two cells keep their value even when a neighbour is large
    np.testing.assert_allclose(smooth_edges_kept([10, 0, 0, 0, 0, 0, 20]), [10, 0, 2, 0, 4, 0, 20])
    np.testing.assert_allclose(smooth_edges_kept([1, 5, 9], window=1), [1, 5, 9])
    np.testing.assert_allclose(smooth_edges_kept([0, 3, 0, 0, 3], window=3), [0, 1, 1, 1, 3])


def test_smoothing_short_series_default_and_fineweb2_artefact() -> None:
    # fewer bins than the window: every bin is an edge bin, nothing is averaged
    np.testing.assert_allclose(smooth_edges_kept([1, 1, 10, 1]), [1, 1, 10, 1])
    # FineWeb2's tables: the 3rd cell holds sum / 5 = 13 / 5 and the 4th gets the 3rd's value
    np.testing.assert_allclose(smooth_edges_kept([1, 1, 10, 1], fineweb2_short_series=True), [1, 1, 2.6, 10])
    np.testing.assert_allclose(smooth_edges_kept([10, 2.5, 1], fineweb2_short_series=True), [10, 2.5, 2.7])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_fineweb2_short_series_replays_their_steps(n: int) -> None:
    values = np.random.default_rng(n).uniform(1, 10, n)
    # oracle: the steps of FineWeb2's published snippet, applied literally
    ref = np.convolve(values, np.ones(5) / 5, mode="same")
    ref[:2] = values[:2]
    ref[-2:] = values[-2:]
    np.testing.assert_array_equal(smooth_edges_kept(values, fineweb2_short_series=True), ref[:n])


def test_rounding_is_half_to_even() -> None:
    # M = 4, R = 50, r_min = 0: a 25 % bin gets exactly 1 + 3 * 0.5 = 2.5 -> 2 (half-up would say 3)
    reps = repetitions_from_rates([0, 25, 25, 25, 25, 25, 25], global_rate=50, max_reps=4)
    # raw [4, 2.5 x 6]; average at index 2 = (4 + 4 * 2.5) / 5 = 2.8 -> 3; elsewhere 2.5 -> 2
    assert reps.tolist() == [4, 2, 3, 2, 2, 2, 2]


def test_no_upsampling_cases() -> None:
    assert compute_repetitions(KEPT, REMOVED, max_reps=1) == {1: 1}
    # equal rates everywhere: r(s) = R for all s
    assert compute_repetitions({1: 5, 2: 5, 3: 5}, {1: 5, 2: 5, 3: 5}) == {1: 1}
    assert compute_repetitions({1: 5, 2: 9}, {}) == {1: 1}  # nothing removed
    assert compute_repetitions({}, {}) == {1: 1}
    assert compute_repetitions({1: 0}, {2: 0}) == {1: 1}


def test_tail_threshold_is_the_999th_percentile() -> None:
    # 1000 clusters: at most 1 may be larger than the threshold
    assert choose_tail_threshold([1, 2, 3, 10], [990, 5, 4, 1]) == 3
    assert choose_tail_threshold([1, 2, 3], [998, 1, 1]) == 2
    assert choose_tail_threshold([1, 2, 3], [997, 2, 1]) == 2  # exactly 1 larger than 2 still qualifies
    assert choose_tail_threshold([1, 2, 3], [996, 2, 2]) == 3
    assert choose_tail_threshold([1, 2, 3], [10, 10, 10], tail_fraction=0.0) == 3
    assert choose_tail_threshold([1, 4, 9], [1, 1, 1], tail_fraction=0.5) == 4


def test_tail_bin_merges_large_sizes() -> None:
    kept = {1: 900, 2: 50, 3: 10, 4: 1, 50: 2, 900: 0}
    removed = {1: 30, 2: 2, 3: 1, 4: 3, 50: 0, 900: 1}
    # 1000 clusters; larger than size 3: 4 + 2 + 1 = 7 > 1; larger than 4: 3; than 50: 1 -> t = 50
    dist = removal_distribution(kept, removed)
    assert dist["tail_threshold"] == 50
    assert dist["cluster_sizes"] == [1, 2, 3, 4]
    assert dist["tail_post_filtering_doc_counts"] == 2
    assert dist["tail_removal_rate"] == pytest.approx(100 / 3)
    explicit = removal_distribution(kept, removed, tail_threshold=3)
    assert explicit["cluster_sizes"] == [1, 2]
    assert explicit["tail_post_filtering_doc_counts"] == 13
    assert explicit["tail_removal_rate"] == pytest.approx(500 / 18)
    none = removal_distribution(kept, removed, tail_threshold=10_000)
    assert none["tail_threshold"] is None and none["cluster_sizes"] == [1, 2, 3, 4, 50, 900]
    # R over everything, tail included: 37 / 1000
    assert dist["global_removal_rate"] == pytest.approx(3.7)
    # bins 1, 2, 3, 4, tail(50): rates 3.23, 3.85, 9.09, 75, 33.3 %; R = 3.7: only size 1 is below
    # R and it is r_min -> raw [10, 1, 1, 1, 1]; the middle bin averages 14 / 5 = 2.8 -> 3
    assert compute_repetitions(kept, removed) == {1: 10, 2: 1, 3: 3, 4: 1}


def test_sizes_without_documents_are_skipped_and_gaps_do_not_count() -> None:
    # size 3 never occurs: the window runs over bins in order, and size 3 inherits size 2's value
    kept = {1: 10, 2: 10, 4: 10, 5: 10, 6: 10, 7: 10}
    removed = {1: 10, 2: 10, 3: 0, 4: 0, 5: 10, 6: 10, 7: 10}
    dist = removal_distribution(kept, removed, tail_fraction=0.0)
    assert dist["cluster_sizes"] == [1, 2, 4, 5, 6]
    assert dist["tail_threshold"] == 7  # tail_fraction=0: the tail bin is just the largest size
    # R = 50 / 110; raw over bins (1, 2, 4, 5, 6, 7) = [1, 1, 10, 1, 1, 1]; the windows at bins
    # 4 and 5 both hold the 10: 14 / 5 = 2.8 -> 3; bins 1, 2, 6, 7 are edges
    table = compute_repetitions(kept, removed, tail_fraction=0.0)
    assert table == {1: 1, 4: 3, 6: 1}
    assert lookup_repetitions(table, 3) == 1


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        compute_repetitions({0: 1}, {})
    with pytest.raises(ValueError):
        compute_repetitions({1: -1}, {})
    with pytest.raises(ValueError):
        compute_repetitions(KEPT, REMOVED, max_reps=0)
    with pytest.raises(ValueError):
        compute_repetitions(KEPT, REMOVED, window=4)
    with pytest.raises(ValueError):
        compute_repetitions(KEPT, REMOVED, tail_fraction=1.0)
    with pytest.raises(ValueError):
        repetitions_from_rates([1.0, float("nan")], 0.5)
    with pytest.raises(ValueError):
        removal_distribution({}, {})


# ---------------------------------------------------------------------------------------------
# Tables: fixed, user, lookup
# ---------------------------------------------------------------------------------------------

def test_fixed_table_lookup_largest_key_at_or_below() -> None:
    sizes = [1, 2, 3, 4, 5, 99, 100, 999, 1000, 10**6]
    expected = [1, 2, 3, 3, 5, 5, 8, 8, 1, 1]
    assert repetitions_for_sizes(FINEWEB2_FIXED_TABLE, sizes).tolist() == expected
    assert [lookup_repetitions(FINEWEB2_FIXED_TABLE, s) for s in sizes] == expected
    assert repetition_table("fixed") == dict(FINEWEB2_FIXED_TABLE)


def test_user_tables() -> None:
    table = normalize_table({"10": 4, "1": 1, "3": 2})  # JSON keys, any order
    assert list(table.items()) == [(1, 1), (3, 2), (10, 4)]
    assert repetition_table({"10": 4, "1": 1, "3": 2}) == table
    assert lookup_repetitions({2: 3}, 1) == 1  # below the smallest key: one copy
    assert repetitions_for_sizes(table, np.array([[1, 2], [9, 11]])).tolist() == [[1, 1], [2, 4]]
    for bad in ({}, {0: 1}, {1: 0}, {1: 1.5}, {"x": 1}, {1: True}):
        with pytest.raises(ValueError):
            normalize_table(bad)
    with pytest.raises(ValueError):
        repetitions_for_sizes(table, [0, 1])
    with pytest.raises(ValueError):
        repetition_table("rates")  # needs counts
    with pytest.raises(ValueError):
        repetition_table("nope")
    assert repetition_table("rates", KEPT, REMOVED, max_reps=3, tail_fraction=0.0) == compute_repetitions(
        KEPT, REMOVED, 3, tail_fraction=0.0
    )


def test_compress_and_expected_documents() -> None:
    assert compress_repetitions([1, 2, 4, 7, 9], [1, 1, 3, 3, 1]) == {1: 1, 4: 3, 9: 1}
    assert compress_repetitions([], []) == {1: 1}
    with pytest.raises(ValueError):
        compress_repetitions([2, 1], [1, 1])
    # 10 x 1 + 5 x 2 (size 2) + 2 x 3 (size 4 -> key 3) + 1 x 1 (size 1000)
    assert expected_documents(FINEWEB2_FIXED_TABLE, {1: 10, 2: 5, 4: 2, 1000: 1}) == 27


# ---------------------------------------------------------------------------------------------
# Parity with FineWeb2's published tables
# ---------------------------------------------------------------------------------------------

def _dist(rates: list[float], global_rate: float) -> dict:
    return {
        "cluster_sizes": list(range(1, len(rates))), "cluster_removal_rates": rates[:-1],
        "cluster_post_filtering_doc_counts": [1] * (len(rates) - 1), "tail_threshold": len(rates),
        "tail_removal_rate": rates[-1], "tail_post_filtering_doc_counts": 1, "global_removal_rate": global_rate,
    }


def test_mismatch_reasons() -> None:
    dist = _dist([0, 25, 25, 25, 25, 25, 25], 50.0)  # M = 4: see test_rounding_is_half_to_even
    assert repetitions_from_distribution(dist, 4) == {1: 4, 2: 2, 3: 3, 4: 2}
    assert mismatch_reason(dist, {1: 4, 2: 2, 3: 3, 4: 2}, 4) is None
    assert mismatch_reason(dist, {1: 4, 2: 2, 3: 3, 5: 2}, 4) == HALF_TIE  # size 4 sits on 2.5
    assert mismatch_reason(dist, {1: 4, 2: 2, 3: 4, 4: 2}, 4) == UNEXPLAINED  # size 3 is 2.8
    short = _dist([50, 50, 0, 50], 40.0)
    fineweb2 = repetitions_from_distribution(short, 10, fineweb2_short_series=True)
    assert fineweb2 == {1: 1, 3: 3, 4: 10} and repetitions_from_distribution(short, 10) == {1: 1, 3: 10, 4: 1}
    assert mismatch_reason(short, fineweb2, 10) == SHORT_SERIES
    assert mismatch_reason(short, fineweb2, 10, fineweb2_short_series=True) is None


# Exact matches measured on the 1,856 published languages, excluding float .5 ties (whose rounding
# depends on the numpy build; none flip on the reference machine, numpy 2.4 / x86-64).
# Default mode: the only differences are the 6-9 languages with fewer bins than the window.
FLOORS_DEFAULT = {3: 1850, 4: 1849, 5: 1848, 6: 1847, 7: 1847, 8: 1847, 9: 1847, 10: 1847}
FLOORS_FINEWEB2 = dict.fromkeys(range(3, 11), 1856)


@pytest.fixture(scope="module")
def published(shared_data: Path):
    return load_published(shared_data / "fineweb2" / "rehydration")


def _bins(dist: dict) -> int:
    return len(dist["cluster_sizes"]) + 1


@pytest.mark.parametrize("fineweb2_short_series", [False, True], ids=["default", "fineweb2_artefact"])
def test_published_tables_reproduced(published, fineweb2_short_series: bool) -> None:
    dists, tables = published
    assert len(dists) == 1856
    floors = FLOORS_FINEWEB2 if fineweb2_short_series else FLOORS_DEFAULT
    for m in range(3, 11):
        row = parity(dists, tables[m], m, fineweb2_short_series=fineweb2_short_series)
        assert row.languages == 1856
        by_reason = row.by_reason
        assert set(by_reason) <= {SHORT_SERIES, HALF_TIE}, f"M={m}: {by_reason}"
        ties = len(by_reason.get(HALF_TIE, []))
        assert row.exact + ties >= floors[m], f"M={m}: {row.exact} exact, {by_reason}"
        # every "short series" language really has fewer bins than the window
        assert all(_bins(dists[lang]) < 5 for lang in by_reason.get(SHORT_SERIES, []))
        if m == 10:
            assert row.exact >= 1840


def test_short_series_languages_are_the_only_default_differences(published) -> None:
    dists, tables = published
    short = {lang for lang, d in dists.items() if _bins(d) < 5}
    assert len(short) == 12  # 3 with 2 bins (unaffected), 3 with 3, 6 with 4
    row = parity(dists, tables[10], 10)
    assert set(row.mismatches) <= short
    assert len(row.mismatches) == 9


def test_counts_path_rebuilds_published_distributions_and_tables(published) -> None:
    """From counts alone (tail threshold chosen by us, R weighted by counts) we get their files back."""
    dists, tables = published
    mismatched_dists, mismatched_tables = [], []
    for lang, dist in dists.items():
        kept, removed = counts_from_distribution(dist)
        if removal_distribution(kept, removed) != dist:  # bit-for-bit rates, threshold, global rate
            mismatched_dists.append(lang)
        if compute_repetitions(kept, removed, 10, fineweb2_short_series=True) != tables[10][lang]:
            mismatched_tables.append(lang)
    assert mismatched_dists == []
    assert mismatched_tables == []


def test_expected_documents_match_published_dataset_sizes(published, shared_data: Path) -> None:
    """The lookup rule (largest key <= size) reproduces FineWeb2's resulting_ds_sizes.json."""
    dists, tables = published
    path = shared_data / "fineweb2" / "rehydration" / "weights" / "resulting_ds_sizes.json"
    sizes = json.loads(path.read_text())
    wrong = []
    for m in range(3, 11):
        for lang, dist in dists.items():
            kept = dict(zip(dist["cluster_sizes"], dist["cluster_post_filtering_doc_counts"], strict=True))
            kept[dist["tail_threshold"]] = dist["tail_post_filtering_doc_counts"]
            if expected_documents(tables[m][lang], kept) != sizes[str(m)][lang]:
                wrong.append((m, lang))
    assert wrong == []


def test_load_distribution(shared_data: Path) -> None:
    dist = load_distribution(shared_data / "fineweb2" / "rehydration" / "distributions" / "ita_Latn.json")
    # ita_Latn in the published up_to_10_reps.json. FineWeb2's rehydration README quotes an earlier
    # version of it (75: 4 and 123: 3 where the file, and we, have 76: 4 and 122: 3).
    assert repetitions_from_distribution(dist) == {
        1: 1, 2: 3, 3: 4, 4: 5, 5: 6, 7: 7, 8: 8, 11: 9, 17: 10, 26: 9, 31: 8, 46: 7, 52: 6, 63: 5,
        76: 4, 96: 3, 118: 2, 122: 3, 125: 2, 145: 1,
    }
    with pytest.raises(ValueError):
        load_distribution(shared_data / "fineweb2" / "rehydration" / "weights" / "up_to_10_reps.json")
