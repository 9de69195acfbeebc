"""The quality blocks' models by URL: through the model cache, pinned, offline from the cache, fetched per pipeline.

Models the test makes from real text (the lingua corpus's English sentences, shared data): a fastText quality
classifier (``curate train-quality``'s trainer; fluent sentences vs the same sentences with their words shuffled,
segmented with ``spacy:en`` so that its sidecar matters) and a trigram ARPA model (``arpa_builder``). They are
served, sidecar included, by an HTTP server the test starts on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import functools
import json
import random
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import run_cli, write_pipeline

from curate.blocks.base import BlockContext
from curate.cli.main import main
from curate.models.cache import ModelCache, sha256_of
from curate.models.errors import ModelUnavailableError
from curate.quality import fasttext_build
from curate.quality.arpa_builder import build_arpa
from curate.quality.errors import QualityConfigError
from curate.quality.fasttext_quality import FastTextQualityFilter, read_sidecar
from curate.quality.fasttext_training import train_quality_classifier
from curate.quality.kenlm_perplexity import KenLMPerplexity
from curate.quality.perplexity_scorer import PerplexityScorer


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


def _shuffle(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    rng.shuffle(words)
    return " ".join(words)


@pytest.fixture(scope="module")
def sentences(shared_data: Path) -> list[str]:
    with open(shared_data / "langid" / "lingua_sentences.jsonl", encoding="utf-8") as fh:
        sents = [rec["text"] for rec in map(json.loads, fh) if rec["iso639_1"] == "en"]
    return sents[:1000]


@pytest.fixture(scope="module")
def served(sentences: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``quality.bin`` (+ its sidecar ``quality.bin.json``) and ``en.arpa``."""
    if fasttext_build.fasttext_build() != "full":
        pytest.skip("training needs the full fastText build: pip install --no-deps --force-reinstall "
                    "fasttext-numpy2-wheel")
    folder = tmp_path_factory.mktemp("served")
    rng = random.Random(3)
    fluent = [" ".join(sentences[i:i + 3]) for i in range(0, 600, 3)]
    train_quality_classifier(fluent, [_shuffle(d, rng) for d in fluent], str(folder / "quality.bin"), "eng_Latn",
                             segment="spacy:en", epoch=10, lr=0.5, dim=16, bucket=20_000)
    tokenize = PerplexityScorer("unused", tokenizer="spacy:en")
    lines = [line.split() for s in sentences[:900] for line in tokenize.token_lines(s)]
    (folder / "en.arpa").write_text(build_arpa(lines, order=3), encoding="utf-8")
    return folder


@pytest.fixture()
def server(served: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))  # free port
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture()
def docs(sentences: list[str]) -> pa.Table:
    rng = random.Random(4)
    texts = [" ".join(sentences[i:i + 3]) for i in range(900, 1000, 5)]
    texts += [_shuffle(t, rng) for t in texts]
    return pa.table({"text": texts, "lang": ["eng_Latn"] * len(texts)})


def test_url_models_score_as_local_ones_and_are_pinned(
        served: Path, server: tuple[str, ThreadingHTTPServer], docs: pa.Table, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = server
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    local_clf, local_lm = str(served / "quality.bin"), str(served / "en.arpa")
    assert read_sidecar(local_clf)["segment"] == "spacy:en"
    ctx = BlockContext()

    by_path = FastTextQualityFilter(model=local_clf, mode="score").process(docs, ctx).table
    by_url_block = FastTextQualityFilter(model=f"{base}/quality.bin", mode="score",
                                         model_sha256=sha256_of(local_clf))
    by_url_block.preflight()  # fetches the model and its sidecar into the cache
    by_url = by_url_block.process(docs, ctx).table
    assert by_url.column("quality_score").to_pylist() == by_path.column("quality_score").to_pylist()
    # the sidecar's segmentation is what makes them equal: without it the scores differ
    unsegmented = FastTextQualityFilter(model=local_clf, mode="score", segment="none").process(docs, ctx).table
    assert unsegmented.column("quality_score").to_pylist() != by_path.column("quality_score").to_pylist()
    scores = np.array(by_path.column("quality_score").to_pylist())
    assert np.mean(scores[:20] > scores[20:]) >= 0.8  # a working classifier: fluent above shuffled
    cached = {e.url for e in ModelCache().entries()}
    assert cached == {f"{base}/quality.bin", f"{base}/quality.bin.json"}

    lm_path = KenLMPerplexity(models={"eng_Latn": local_lm}, tokenizer="spacy:en").process(docs, ctx).table
    lm_block = KenLMPerplexity(models={"en": f"{base}/en.arpa"}, tokenizer="spacy:en",
                               models_sha256={"en": sha256_of(local_lm)})
    lm_block.preflight()
    lm_url = lm_block.process(docs, ctx).table
    assert lm_url.column("perplexity").to_pylist() == lm_path.column("perplexity").to_pylist()
    assert all(v > 1 for v in lm_url.column("perplexity").to_pylist())

    # a wrong pin is refused, by URL and by path; a pin that is no sha256 at all is a config error
    with pytest.raises(ModelUnavailableError, match="pins"):
        KenLMPerplexity(models={"eng_Latn": f"{base}/en.arpa"}, models_sha256={"eng_Latn": "0" * 64}).preflight()
    with pytest.raises(ModelUnavailableError, match="pinned sha256"):
        FastTextQualityFilter(model=local_clf, model_sha256="ab" * 32).preflight()
    with pytest.raises(QualityConfigError, match="64 hex"):
        FastTextQualityFilter(model=local_clf, model_sha256="abc")
    with pytest.raises(QualityConfigError, match="no model for deu_Latn"):
        KenLMPerplexity(models={"eng_Latn": local_lm}, models_sha256={"de": "0" * 64})

    # offline with an empty cache: preflight fails, naming the model and `curate models fetch`
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ModelUnavailableError, match=rf"kenlm_perplexity\.models\.eng_Latn {base}/en\.arpa is "
                                                    r"not in the model cache.*curate models fetch"):
        KenLMPerplexity(models={"eng_Latn": f"{base}/en.arpa"}).preflight()
    with pytest.raises(ModelUnavailableError, match=r"curate models fetch http://127\.0\.0\.1:\d+/quality\.bin"):
        FastTextQualityFilter(model=f"{base}/quality.bin").preflight()


def test_a_model_without_sidecar_and_offline_sidecars(
        served: Path, server: tuple[str, ThreadingHTTPServer], docs: pa.Table, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = server
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    # the ARPA file served as if it were a classifier without a sidecar: the 404 means "trained elsewhere"
    no_sidecar = FastTextQualityFilter(model=f"{base}/en.arpa", mode="score")
    assert no_sidecar._segment_spec(f"{base}/en.arpa", "eng_Latn", BlockContext()) is None
    (tmp_path / "in.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    cfg = write_pipeline(tmp_path / "p.yaml", [str(tmp_path / "in.jsonl")], tmp_path / "out",
                         [{"fasttext_quality": {"model": f"{base}/en.arpa"}}])
    assert main(["models", "fetch", "--pipeline", str(cfg)]) == 0
    printed = capsys.readouterr().out
    assert f"absent  {base}/en.arpa.json (optional: a model trained elsewhere" in printed
    assert f"fetched {base}/en.arpa" in printed
    # offline, the model cached but not its sidecar: an error saying how, never a silently unsegmented score
    ModelCache().fetch(f"{base}/quality.bin")
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError, match=r"quality\.bin\.json is not in the model cache.*segment"):
        FastTextQualityFilter(model=f"{base}/quality.bin").preflight()
    explicit = FastTextQualityFilter(model=f"{base}/quality.bin", segment="spacy:en", mode="score")
    explicit.preflight()  # with the segmentation given, no sidecar is needed
    local = FastTextQualityFilter(model=str(served / "quality.bin"), mode="score").process(docs, BlockContext())
    assert (explicit.process(docs, BlockContext()).table.column("quality_score").to_pylist()
            == local.table.column("quality_score").to_pylist())


@pytest.mark.slow
def test_pipeline_by_url_matches_local_paths_and_runs_offline_after_fetch_pipeline(
        served: Path, server: tuple[str, ThreadingHTTPServer], sentences: list[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    base, httpd = server
    rng = random.Random(5)
    texts = [" ".join(sentences[i:i + 4]) for i in range(900, 1000, 4)]
    texts += [_shuffle(t, rng) for t in texts[:10]]
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)),
                   encoding="utf-8")

    def pipeline(name: str, clf: str, lm: str, pins: bool) -> Path:
        ft: dict = {"models": {"eng_Latn": clf}, "mode": "score"}
        km: dict = {"models": {"eng_Latn": lm}, "tokenizer": "spacy:en"}
        if pins:
            ft["models_sha256"] = {"eng_Latn": sha256_of(str(served / "quality.bin"))}
            km["models_sha256"] = {"eng_Latn": sha256_of(str(served / "en.arpa"))}
        steps = [{"langid": {"second_opinion": "none"}}, {"fasttext_quality": ft}, {"kenlm_perplexity": km}]
        return write_pipeline(tmp_path / f"{name}.yaml", [str(src)], tmp_path / name, steps,
                              executor={"type": "local", "workers": 1})

    def scores(name: str) -> dict[str, tuple]:
        table = pa.concat_tables([pq.read_table(p) for p in sorted((tmp_path / name / "eng_Latn").glob("*.parquet"))])
        return {i: (q, p) for i, q, p in zip(table.column("id").to_pylist(), table.column("quality_score").to_pylist(),
                                             table.column("perplexity").to_pylist(), strict=True)}

    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    local = pipeline("local", str(served / "quality.bin"), str(served / "en.arpa"), pins=False)
    remote = pipeline("remote", f"{base}/quality.bin", f"{base}/en.arpa", pins=True)
    done = run_cli("run", str(local))
    assert done.returncode == 0, done.stderr[-2000:]
    expected = scores("local")
    assert len(expected) == len(texts) and all(q is not None and p > 1 for q, p in expected.values())

    # offline with an empty cache: fails before any work, naming the model and `curate models fetch`
    failed = run_cli("--offline", "run", str(remote))
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "Traceback" not in failed.stderr and "curate models fetch" in failed.stderr, failed.stderr[-2000:]
    assert f"{base}/quality.bin" in failed.stderr or f"{base}/en.arpa" in failed.stderr
    assert not list((tmp_path / "remote").glob("*/*.parquet"))

    # one command fills the cache with every model of the pipeline (and the classifier's sidecar)
    fetched = run_cli("models", "fetch", "--pipeline", str(remote))
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert {e.url for e in ModelCache().entries()} == {f"{base}/quality.bin", f"{base}/quality.bin.json",
                                                        f"{base}/en.arpa"}
    assert "fasttext_quality.models.eng_Latn:" in fetched.stdout and "kenlm_perplexity.models.eng_Latn:" in fetched.stdout
    httpd.shutdown()  # the network is gone from here on
    httpd.server_close()
    done = run_cli("--offline", "run", str(remote))
    assert done.returncode == 0, done.stderr[-2000:]
    assert scores("remote") == expected


def test_sentencepiece_model_and_calibration_by_url(
        served: Path, server: tuple[str, ThreadingHTTPServer], sentences: list[str], docs: pa.Table, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    spm = pytest.importorskip("sentencepiece")
    base, _ = server
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    sp_file = served / "en.sp.model"
    if not sp_file.exists():
        corpus = tmp_path / "corpus.txt"
        corpus.write_text("\n".join(sentences[:900]), encoding="utf-8")
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(served / "en.sp"), vocab_size=500,
                                       model_type="unigram", minloglevel=2)
    lm = str(served / "en.arpa")
    local = KenLMPerplexity(models={"eng_Latn": lm}, sentencepiece_models={"eng_Latn": str(sp_file)})
    remote = KenLMPerplexity(models={"eng_Latn": lm}, sentencepiece_models={"eng_Latn": f"{base}/en.sp.model"},
                             sentencepiece_models_sha256={"eng_Latn": sha256_of(str(sp_file))})
    remote.preflight()
    assert [r.spec for r in remote.model_refs()] == [lm, f"{base}/en.sp.model"]
    ppl = remote.process(docs, BlockContext()).table.column("perplexity").to_pylist()
    assert ppl == local.process(docs, BlockContext()).table.column("perplexity").to_pylist()
    with pytest.raises(ModelUnavailableError, match="pins"):
        KenLMPerplexity(models={"eng_Latn": lm}, sentencepiece_models={"eng_Latn": f"{base}/en.sp.model"},
                        sentencepiece_models_sha256={"eng_Latn": "1" * 64}).preflight()

    # curate calibrate-perplexity takes the model by URL too
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"text": s}) + "\n" for s in sentences[900:]), encoding="utf-8")
    assert main(["calibrate-perplexity", "--lang", "en", "--model", f"{base}/en.arpa", "--tokenizer", "spacy:en",
                 "--reference", str(ref)]) == 0
    assert f"eng_Latn: {base}/en.arpa" in capsys.readouterr().out
