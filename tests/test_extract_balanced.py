"""The ``balanced`` extraction engine and its block model; every engine scored on the gold pages against floors.

The floors are the out-of-sample figures of benchmarks/extraction_quality.py (RESULTS.md, "extraction_quality")
minus noise, rounded down to 0.01: two binomial standard errors of the measured share for the snippet measures
(475 to 1,425 snippets per set and kind), two standard errors of the page mean for token F1 (per-page F1 spread
0.1-0.2). Not tuned: a floor is where a real regression shows, not where an engine happens to be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from extraction_gold import GoldPage, gold_sets, normalise, score
from pipeline_helpers import run_cli, write_pipeline

from curate.extract.balanced_engine import BalancedEngine, main_content_blocks, parse, tree_blocks
from curate.extract.block_classifier import BlockClassifier, BlockModelError, shipped_classifier
from curate.extract.block_features import NAMES, BlockFeatures
from curate.extract.block_training import TREES, label_blocks, page_data, train_block_model
from curate.extract.block_trees import TreeStage, flatten
from curate.extract.discard_selectors import DISCARD
from curate.extract.engines import ENGINES, balanced_text, resiliparse_text, trafilatura_text
from curate.extract.extract_block import Extract
from curate.extract.minimal_html_blocks import TAG_INDEX, MinimalHtmlBlocks

REPO = Path(__file__).resolve().parent.parent

# (set, engine) -> (gold found, boilerplate absent, token F1) floors; see the module docstring
FLOORS = {  # measured: page types 0.768/0.901/0.728, 0.859/0.588/0.748, 0.800/0.887/0.791; articles
    # 0.940/0.980/0.956, 0.973/0.881/0.929; readability 0.852/0.955/0.924, 0.927/0.839/0.948
    ("page_types", "trafilatura"): (0.72, 0.87, 0.67),
    ("page_types", "resiliparse"): (0.82, 0.54, 0.69),
    ("page_types", "balanced"): (0.76, 0.85, 0.73),
    ("articles", "trafilatura"): (0.92, 0.97, 0.94),
    ("articles", "resiliparse"): (0.96, 0.86, 0.91),
    ("readability", "trafilatura"): (0.82, 0.93, 0.89),
    ("readability", "resiliparse"): (0.90, 0.81, 0.92),
}
# the balanced engine on a gold set its shipped model was trained on is scored by a model trained on the other set
# (measured: articles 0.948/0.972/0.966, readability 0.825/0.970/0.950)
CROSS_FLOORS = {"articles": (0.93, 0.96, 0.95), "readability": (0.79, 0.95, 0.92)}


@pytest.fixture(scope="module")
def sets(shared_data: Path) -> dict[str, list[GoldPage]]:
    return gold_sets(shared_data)


def _assert_floor(name: str, pages: list[GoldPage], texts: list[str], floor: tuple[float, float, float]) -> None:
    s = score(pages, texts)
    got = (round(s.found, 3), round(s.absent, 3), round(s.f1_mean, 3))
    assert all(g >= f for g, f in zip(got, floor, strict=True)), f"{name}: {got} below the floors {floor}"


@pytest.mark.slow  # trafilatura on 385 pages: ~10 s on an idle core
@pytest.mark.parametrize("gold_set", ["page_types", "articles", "readability"])
def test_engines_hold_their_out_of_sample_floors(sets: dict[str, list[GoldPage]], gold_set: str) -> None:
    pages = sets[gold_set]
    engines = {"trafilatura": lambda p: trafilatura_text(p.html), "resiliparse": lambda p: resiliparse_text(p.html),
               "balanced": lambda p: balanced_text(p.html.encode("utf-8"))}
    for name, run in engines.items():
        if (gold_set, name) in FLOORS:
            _assert_floor(f"{name} on {gold_set}", pages, [run(p) for p in pages], FLOORS[(gold_set, name)])


@pytest.mark.slow  # two block models trained on 130 and 181 pages
def test_balanced_trained_on_one_set_holds_its_floor_on_the_other(sets: dict[str, list[GoldPage]]) -> None:
    data = {k: [page_data(main_content_blocks(p.html), p.gold) for p in sets[k]] for k in ("articles", "readability")}
    for target, source in (("articles", "readability"), ("readability", "articles")):
        engine = BalancedEngine(BlockClassifier(train_block_model(data[source], trained_on=source)))
        texts = [engine(p.html.encode("utf-8")) for p in sets[target]]
        _assert_floor(f"balanced trained on {source}, scored on {target}", sets[target], texts, CROSS_FLOORS[target])


@pytest.mark.slow  # ~1 min: the training script on the 311 pages of shared/data/extraction
def test_shipped_model_is_what_the_training_script_writes(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "train_extraction_model.py"), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "CURATE_SHARED_DATA": str(shared_data)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    new = json.loads(out.read_text())
    shipped = json.loads((REPO / "curate" / "extract" / "data" / "block_model.json").read_text())
    for stage in ("stage1", "stage2"):  # float results of L-BFGS: equal up to the machine's arithmetic
        for key in ("mean", "scale", "coef", "intercept"):
            np.testing.assert_allclose(new[stage][key], shipped[stage][key], rtol=1e-4, atol=1e-6)
    assert {k: v for k, v in new.items() if not k.startswith("stage")} == {
        k: v for k, v in shipped.items() if not k.startswith("stage")}


# (set) -> (share of the gold snippets in resiliparse's main content that the discard list keeps, share of its
# boilerplate snippets that the list removes), floors as in the module docstring (measured: articles 0.995 of
# 1,298 / 0.490 of 147; readability 0.965 of 761 / 0.384 of 99)
DISCARD_FLOORS = {"articles": (0.99, 0.40), "readability": (0.95, 0.29)}


@pytest.mark.parametrize("gold_set", sorted(DISCARD_FLOORS))
def test_discard_list_removes_boilerplate_and_keeps_the_main_text(sets: dict[str, list[GoldPage]],
                                                                   gold_set: str) -> None:
    kept = [0, 0]  # gold snippets: in the main content without the list, and with it
    left = [0, 0]  # boilerplate snippets: the same
    for page in sets[gold_set]:
        before = normalise(" ".join(tree_blocks(parse(page.html), post_meta=False).texts))
        after = normalise(" ".join(main_content_blocks(page.html).texts))
        for snippets, counts in ((page.with_snippets, kept), (page.without_snippets, left)):
            for snippet in map(normalise, snippets):
                counts[0] += snippet in before
                counts[1] += snippet in before and snippet in after
    gold_floor, removed_floor = DISCARD_FLOORS[gold_set]
    assert kept[1] / kept[0] >= gold_floor, (gold_set, kept)
    assert 1 - left[1] / left[0] >= removed_floor, (gold_set, left)


def test_discard_list_that_hits_the_content_wrapper_is_not_applied(sets: dict[str, list[GoldPage]]) -> None:
    # a Blogger page: its posts sit in <div class="widget Blog">, which the list's "widget" names
    page = next(p for p in sets["readability"] if p.url.endswith("/blogger/page.html"))
    assert not tree_blocks(parse(page.html), post_meta=False, skip_elements=DISCARD).texts
    text = normalise(" ".join(main_content_blocks(page.html).texts))
    assert sum(normalise(s) in text for s in page.with_snippets) == len(page.with_snippets) == 8


def test_minimal_html_becomes_blocks_with_their_links_and_kinds() -> None:
    markup = ("<h2>Title <a href=\"/x\">here</a></h2>\n\n<p>First &amp; <a href=\"/a\">linked</a> words.<br>"
              "Same paragraph.</p>\nplain line one\n<a href=\"/h\">Home</a> | <a href=\"/c\">Contact</a>\n"
              "<ul>\n  <li>item one</li>\n  <li><a href=\"/2\">two</a></li>\n</ul>\n<pre>code\n  indented"
              "</pre>")
    b = MinimalHtmlBlocks()(markup)
    assert b.texts == ["Title here", "First & linked words. Same paragraph.", "plain line one", "Home | Contact",
                       "item one", "two", "code\n  indented"]
    assert [b.tags[i] for i in (0, 1, 2, 4, 6)] == [TAG_INDEX[t] for t in ("h2", "p", "div", "li", "pre")]
    assert b.link_chars[:4] == [4, 6, 0, 11] and b.links[:4] == [1, 1, 0, 2]
    assert b.in_list == [False, False, False, False, True, True, False]


def test_features_are_finite_and_named(sets: dict[str, list[GoldPage]]) -> None:
    page = sets["articles"][1]  # a 14-block article
    x = BlockFeatures()(main_content_blocks(page.html))
    assert x.shape[1] == len(NAMES) and len(x) > 5
    assert np.isfinite(x).all()
    assert BlockFeatures()(MinimalHtmlBlocks()("")).shape == (0, len(NAMES))


def test_labels_need_a_whole_gold_line_for_short_blocks() -> None:
    gold = "Share prices fell sharply on Monday after the announcement of the merger.\nMarkets"
    y = label_blocks(["Share", "Markets", "Share prices fell sharply on Monday", "Subscribe to our newsletter"], gold)
    assert y.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_a_model_for_other_features_is_refused() -> None:
    model = dict(shipped_classifier().model)
    model["features"] = list(NAMES[:-1])
    with pytest.raises(BlockModelError, match="retrain"):
        BlockClassifier(model)


@pytest.mark.parametrize("kind", ["logistic", "trees"])
def test_training_is_deterministic(sets: dict[str, list[GoldPage]], kind: str) -> None:
    pages = [page_data(main_content_blocks(p.html), p.gold) for p in sets["readability"][:40]]
    a, b = (json.dumps(train_block_model(pages, trained_on="t", kind=kind)) for _ in range(2))
    assert a == b


def test_tree_stages_equal_lightgbm_on_real_blocks(sets: dict[str, list[GoldPage]]) -> None:
    # the experiments' tree model (benchmarks/extraction_block_variants.py) is evaluated with numpy: it must give
    # LightGBM's own probabilities, on blocks of pages it was not trained on
    lightgbm = pytest.importorskip("lightgbm", reason="the dev extra (lightgbm) is not installed")
    pages = [page_data(main_content_blocks(p.html), p.gold) for p in sets["readability"][:60]]
    model = lightgbm.LGBMClassifier(**TREES).fit(np.vstack([p.x for p in pages]),
                                                 np.concatenate([p.y for p in pages]))
    stage = TreeStage(flatten(model.booster_.dump_model()))
    assert stage.depth >= 3  # real trees, not stumps
    for page in sets["articles"][:40]:
        x = BlockFeatures()(main_content_blocks(page.html))
        if len(x):
            np.testing.assert_allclose(stage(x), model.predict_proba(x)[:, 1], rtol=1e-12, atol=1e-12)


def test_precise_engine_is_gone_with_a_clear_message() -> None:
    assert "precise" not in ENGINES
    with pytest.raises(ValueError, match="did not hold on unseen pages"):
        Extract(engine="precise")


def _run_yaml(tmp_path: Path, warc: Path, steps: list[dict]) -> list[Path]:
    """``curate run`` of ``steps`` on one WARC (one worker); the kept Parquet files (not _removed/)."""
    out = tmp_path / "out"
    proc = run_cli("run", str(write_pipeline(tmp_path / "p.yaml", [str(warc)], out, steps)), "--workers", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [p for p in out.glob("*/*.parquet") if not p.parent.name.startswith("_")]


def test_balanced_engine_from_yaml_writes_parquet(shared_data: Path, tmp_path: Path) -> None:
    files = _run_yaml(tmp_path, shared_data / "warc" / "cc-main-2020-34-multilingual.warc.gz",
                      [{"extract": {"engine": "balanced"}}, {"langid": {}}])
    texts = [t for p in files for t in pq.read_table(p).column("text").to_pylist()]
    assert len(texts) >= 10 and all(texts)
    assert {"deu_Latn", "rus_Cyrl"} <= {p.parent.name for p in files}  # the multilingual pages keep their languages


def test_keep_threshold_from_yaml_reaches_the_extraction_process(sets: dict[str, list[GoldPage]],
                                                                  shared_data: Path, tmp_path: Path) -> None:
    """``extract: {engine: balanced, keep_threshold: 0.8}`` on the real article WARC: each page's text is what the
    engine gives at 0.8 in this process, and a stricter threshold keeps less than the model's own."""
    files = _run_yaml(tmp_path, shared_data / "extraction" / "scrapinghub_aeb_pages.warc.gz",
                      [{"extract": {"engine": "balanced", "keep_threshold": 0.8}}])
    got = {u: t for p in files for u, t in zip(*pq.read_table(p, columns=["url", "text"]).to_pydict().values(),
                                               strict=True)}
    strict, default = BalancedEngine(threshold=0.8), BalancedEngine()
    pages = sets["articles"]
    expected = {p.url: strict(p.html.encode("utf-8")) for p in pages}
    assert len(got) >= 150
    assert all(got[u] == expected[u] for u in got)
    assert sum(map(len, expected.values())) < 0.99 * sum(len(default(p.html.encode("utf-8"))) for p in pages)


@pytest.mark.parametrize(("engine", "threshold", "message"), [
    ("trafilatura", 0.7, "keep_threshold applies to engine: balanced only"),
    ("balanced", 1.5, "between 0 and 1"),
    ("balanced", "high", "between 0 and 1"),
])
def test_a_wrong_keep_threshold_is_refused_naming_it(engine: str, threshold: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Extract(engine=engine, keep_threshold=threshold)  # type: ignore[arg-type]
