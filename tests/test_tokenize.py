"""``curate tokenize`` (issue 25): token shards of the quickstart output, read back by the real readers.

The tokenizer is a real byte-level BPE trained here with Hugging Face ``tokenizers``; megatron-core's
``IndexedDataset`` and datatrove's ``DatatroveFolderDataset`` read the shards; decoding every document gives
back the Parquet texts (NFC-normalised, as the tokenizer normalises), each ``weight`` times.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pipeline_helpers import run_cli
from training_helpers import corpus_by_lang, corpus_texts, megatron_documents, train_tokenizer

from curate.executors.local import LocalExecutor
from curate.pipeline.executor import Executor
from curate.training.tokenize_run import TokenizeSettings, tokenize_corpus
from curate.training.tokenizer_file import TokenizerRef


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


@pytest.fixture(scope="module")
def tok(tokenizer: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizer))


def _tokenize(corpus: Path, dest: Path, tokenizer: Path, fmt: str, workers: int = 1, executor: Executor | None = None,
              **settings) -> dict:
    owned = executor is None
    executor = executor or LocalExecutor(workers=workers, progress=False)
    try:
        result = tokenize_corpus(str(corpus), str(dest), TokenizeSettings(TokenizerRef(str(tokenizer)), fmt,
                                                                          **settings), executor)
    finally:
        if owned:
            executor.close()
    return result.manifest


def _datatrove_documents(dest: Path) -> list[np.ndarray]:
    docs = []
    for ds in sorted(dest.glob("shard-*.ds")):
        tokens = np.fromfile(ds, dtype="<u2")
        ends = np.fromfile(f"{ds}.index", dtype="<u8").astype(np.int64)
        docs += [tokens[s:e] for s, e in zip(np.concatenate(([0], ends[:-1])), ends, strict=True)]
    return docs


def _numpy_documents(dest: Path) -> list[np.ndarray]:
    docs = []
    for tokens_file in sorted(dest.glob("shard-*.tokens.npy")):
        tokens = np.load(tokens_file, mmap_mode="r")
        offsets = np.load(str(tokens_file).replace(".tokens.npy", ".offsets.npy"), mmap_mode="r")
        assert isinstance(tokens, np.memmap) and tokens.dtype == np.uint16 and offsets.dtype == np.int64
        docs += [np.asarray(tokens[offsets[i]:offsets[i + 1]]) for i in range(offsets.size - 1)]
    return docs


READERS = {"megatron": lambda dest: [d for p in sorted(dest.glob("shard-*.idx"))
                                     for d in megatron_documents(p.with_suffix(""))],
           "datatrove": _datatrove_documents, "numpy": _numpy_documents}


def _digests(dest: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dest.glob("shard-*"))}


@pytest.mark.parametrize("fmt", ["megatron", "datatrove", "numpy"])
def test_every_format_decodes_to_the_corpus_texts_each_weight_times(quickstart_output: Path, tokenizer: Path, tok,
                                                                    tmp_path: Path, fmt: str) -> None:
    if fmt == "megatron":
        pytest.importorskip("megatron.core", reason="megatron-core is in the dev extra")
    manifest = _tokenize(quickstart_output, tmp_path / fmt, tokenizer, fmt, seq_len=128, shard_tokens=30_000)
    eos = tok.token_to_id("<|endoftext|>")
    docs = READERS[fmt](tmp_path / fmt)
    assert all(int(d[-1]) == eos and eos not in d[:-1].tolist() for d in docs)  # one EOS, at the end, no BOS
    decoded = Counter(tok.decode(d[:-1].tolist()) for d in docs)
    assert decoded == corpus_texts(quickstart_output, tok.normalizer.normalize_str)
    assert sum(decoded.values()) > len(decoded)  # the quickstart has weight-10 documents: copies were made
    # the manifest counts what the files hold, per shard and per language
    sizes = [int(d.size) for d in docs]
    assert manifest["totals"]["tokens"] == sum(sizes) and manifest["totals"]["documents"] == len(docs)
    assert manifest["totals"]["shards"] > 1
    assert sum(e["tokens_out"] for e in manifest["languages"].values()) == sum(sizes)
    assert sum(s["tokens"] for s in manifest["shards"]) == sum(sizes)
    by_lang = {lang: sum(len(tok.encode(t).ids) + 1 for t, w in rows for _ in range(w))
               for lang, rows in corpus_by_lang(quickstart_output).items()}
    assert {lang: e["tokens_out"] for lang, e in manifest["languages"].items()} == by_lang
    assert manifest["dumps"] == {"unknown": {"documents": len(docs), "tokens": sum(sizes)}}  # not a CC dump


def test_datatrove_dataset_class_reads_windows_and_document_positions(quickstart_output: Path, tokenizer: Path,
                                                                      tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="datatrove's dataset class needs torch (dev extra)")
    from datatrove.utils.dataset import DatatroveFolderDataset

    _tokenize(quickstart_output, tmp_path / "dt", tokenizer, "datatrove", seq_len=64, shard_tokens=30_000)
    seq = 64
    ds = DatatroveFolderDataset(str(tmp_path / "dt"), seq_len=seq, token_size=2, return_positions=True)
    files = sorted((tmp_path / "dt").glob("shard-*.ds"))
    assert [Path(f.file_path).name for f in ds.files] == [f.name for f in files]
    expected_windows = []
    for f in files:  # the reader cuts each file into windows of seq + 1 tokens; the rest of a file is not read
        tokens = np.fromfile(f, dtype="<u2")
        ends = np.fromfile(f"{f}.index", dtype="<u8").astype(np.int64)
        for w in range(tokens.size // (seq + 1)):
            start = w * (seq + 1)
            positions = np.zeros(seq + 1, dtype=np.int64)
            for i in range(1, seq + 1):  # restart at every document end inside the window
                positions[i] = 0 if (start + i) in set(ends.tolist()) else positions[i - 1] + 1
            expected_windows.append((tokens[start:start + seq + 1], positions))
    assert len(ds) == len(expected_windows) > 10
    for i, (tokens, positions) in enumerate(expected_windows):
        item = ds[i]
        assert item["input_ids"].numpy().tolist() == tokens.tolist()
        assert item["positions"].numpy().tolist() == positions.tolist()
    meta = (files[0].parent / f"{files[0].name}.metadata").read_text().splitlines()
    assert meta[0].endswith("|2") and int(meta[1]) == np.fromfile(files[0], dtype="<u2").size


def test_mixture_targets_land_within_one_document(quickstart_output: Path, tokenizer: Path, tmp_path: Path) -> None:
    base = _tokenize(quickstart_output, tmp_path / "base", tokenizer, "numpy")["languages"]
    # up-sample Swahili 3.5x, down-sample English to a third, keep German as weighted, drop the rest
    targets = {"swh_Latn": int(base["swh_Latn"]["weighted_tokens"] * 3.5),
               "eng_Latn": base["eng_Latn"]["weighted_tokens"] // 3}
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"targets:\n  swh_Latn: {targets['swh_Latn']}\n  eng_Latn: {targets['eng_Latn']}\n"
                   "share:\n  deu_Latn: 0.5\ntotal: 20000\n")
    manifest = _tokenize(quickstart_output, tmp_path / "mixed", tokenizer, "numpy", mixture=str(mix), seed=3)
    langs = manifest["languages"]
    targets["deu_Latn"] = 10_000
    for lang, target in targets.items():
        longest = max(len(d) for d in _lang_docs(tmp_path / "mixed", manifest, lang))
        assert abs(langs[lang]["tokens_out"] - target) <= longest, (lang, langs[lang], target)
        assert langs[lang]["mode"] == "target"
    assert langs["fra_Latn"]["mode"] == "dropped" and langs["fra_Latn"]["tokens_out"] == 0
    written = {lang for s in manifest["shards"] for lang in s["languages"]}
    assert written == set(targets)
    assert manifest["totals"]["tokens"] == sum(int(d.size) for d in _numpy_documents(tmp_path / "mixed"))


def _lang_docs(dest: Path, manifest: dict, lang: str) -> list[np.ndarray]:
    """Documents of one language: those the manifest counts under it (checked through their decoded text)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(manifest["tokenizer"]["spec"])
    corpus = {tok.normalizer.normalize_str(t) for t, _ in corpus_by_lang(Path(manifest["corpus"]))[lang]}
    return [d for d in _numpy_documents(dest) if tok.decode(d[:-1].tolist()) in corpus]


def test_weighted_copies_are_spread_never_adjacent_and_workers_do_not_change_the_bytes(
        quickstart_output: Path, tokenizer: Path, tok, tmp_path: Path) -> None:
    settings = {"shard_tokens": 4_000, "task_bytes": 20_000, "seed": 7}  # ~25 shards, several encode tasks
    one = _tokenize(quickstart_output, tmp_path / "w1", tokenizer, "megatron", workers=1, **settings)
    four = _tokenize(quickstart_output, tmp_path / "w4", tokenizer, "megatron", workers=4, **settings)
    assert _digests(tmp_path / "w1") == _digests(tmp_path / "w4") and len(_digests(tmp_path / "w1")) > 20
    assert one["shards"] == four["shards"]
    # the whole dataset in shard order: each weight-k text k times, no two copies side by side
    order = [tok.decode(d[:-1].tolist()) for p in sorted((tmp_path / "w1").glob("shard-*.idx"))
             for d in megatron_documents(p.with_suffix(""))]
    counts = Counter(order)
    assert counts == corpus_texts(quickstart_output, tok.normalizer.normalize_str)
    assert max(counts.values()) == 10
    assert all(a != b for a, b in zip(order[:-1], order[1:], strict=True))
    heavy = [t for t, n in counts.items() if n == 10]
    for text in heavy:  # spread across the dataset: one copy in each tenth (the key strata), give or take
        where = [i for i, t in enumerate(order) if t == text]
        assert min(np.diff(where)) >= len(order) // 40
    # another seed, another order of the same documents
    other = _tokenize(quickstart_output, tmp_path / "seed8", tokenizer, "megatron", **{**settings, "seed": 8})
    assert other["totals"] == one["totals"] and _digests(tmp_path / "seed8") != _digests(tmp_path / "w1")


class _KilledAt(LocalExecutor):
    """Stops the run (as a kill would) when the named pass starts, after a first pass left its files."""

    def __init__(self, stop_at: str) -> None:
        super().__init__(workers=1, progress=False)
        self.stop_at = stop_at

    def map(self, fn, items, desc=""):
        if desc == f"tokenize:{self.stop_at}":
            raise KeyboardInterrupt
        return super().map(fn, items, desc)


@pytest.mark.parametrize("stop_at", ["scatter", "write"])
def test_an_interrupted_run_resumes_to_the_same_bytes(quickstart_output: Path, tokenizer: Path, tmp_path: Path,
                                                      stop_at: str) -> None:
    settings = {"shard_tokens": 20_000, "task_bytes": 30_000}
    _tokenize(quickstart_output, tmp_path / "clean", tokenizer, "datatrove", **settings)
    with pytest.raises(KeyboardInterrupt):
        _tokenize(quickstart_output, tmp_path / "resumed", tokenizer, "datatrove", executor=_KilledAt(stop_at),
                  **settings)
    (tmp_path / "resumed" / "shard-00000.ds.0123.tmp").write_bytes(b"half a file")  # what a kill -9 leaves
    executor = LocalExecutor(workers=1, progress=False)
    result = tokenize_corpus(str(quickstart_output), str(tmp_path / "resumed"), TokenizeSettings(
        TokenizerRef(str(tokenizer)), "datatrove", **settings), executor)
    assert result.skipped_tasks > 0 and result.ran_tasks > 0
    assert _digests(tmp_path / "resumed") == _digests(tmp_path / "clean")
    again = tokenize_corpus(str(quickstart_output), str(tmp_path / "resumed"), TokenizeSettings(
        TokenizerRef(str(tokenizer)), "datatrove", **settings), executor)
    assert again.ran_tasks == 0 and _digests(tmp_path / "resumed") == _digests(tmp_path / "clean")
    assert not list((tmp_path / "resumed").glob("_work"))


def test_long_documents_split_into_seq_len_pieces(quickstart_output: Path, tokenizer: Path, tok,
                                                  tmp_path: Path) -> None:
    pytest.importorskip("megatron.core", reason="megatron-core is in the dev extra")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from megatron.core.datasets.indexed_dataset import IndexedDataset
    manifest = _tokenize(quickstart_output, tmp_path / "split", tokenizer, "megatron", seq_len=100,
                         long_documents="split")
    ds = IndexedDataset(str(tmp_path / "split" / "shard-00000"))
    assert int(ds.sequence_lengths.max()) == 100 and len(ds) > manifest["totals"]["documents"]
    assert manifest["totals"]["sequences"] == len(ds)
    docs = megatron_documents(tmp_path / "split" / "shard-00000")  # the pieces of a document, joined again
    assert Counter(tok.decode(d[:-1].tolist()) for d in docs) == corpus_texts(quickstart_output,
                                                                              tok.normalizer.normalize_str)
    assert sum(e["longer_than_seq_len"] for e in manifest["languages"].values()) > 0


def test_token_counts_reach_stats_report_and_html(quickstart_output: Path, tokenizer: Path, tmp_path: Path) -> None:
    manifest = _tokenize(quickstart_output, tmp_path / "dest", tokenizer, "numpy")
    stats = json.loads((quickstart_output / "_stats" / "stats.json").read_text())
    entry = stats["tokenize"][str(tmp_path / "dest")]
    assert entry["languages"]["swh_Latn"]["tokens_out"] == manifest["languages"]["swh_Latn"]["tokens_out"] > 0
    report = run_cli("report", str(quickstart_output))
    assert report.returncode == 0, report.stderr
    assert f"tokens [numpy -> {tmp_path / 'dest'}]" in report.stdout
    swh = next(line for line in report.stdout.splitlines() if line.strip().startswith("swh_Latn") and "weights" in line)
    assert swh.split()[-1] == "weights"
    html = (quickstart_output / "report.html").read_text()
    assert "Tokens per language" in html and "swh_Latn" in html


def test_bad_input_gets_one_line_messages(quickstart_output: Path, tokenizer: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "1.0", "model": {"type": "nothing"}}')
    args = [str(quickstart_output), "--format", "numpy", "--out", str(tmp_path / "d")]
    res = run_cli("tokenize", *args, "--tokenizer", str(broken))
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert f"tokenizer {broken} does not load" in res.stderr and "tokenizer.json" in res.stderr
    res = run_cli("tokenize", *args, "--tokenizer", str(tmp_path / "missing.json"))
    assert res.returncode == 1 and "does not exist" in res.stderr
    mix = tmp_path / "mix.yaml"
    mix.write_text("targets:\n  swh_Latn: 1000\n  swa_Latn: 5\n")
    res = run_cli("tokenize", *args, "--tokenizer", str(tokenizer), "--mixture", str(mix))
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert f"{mix}:3: targets: language 'swa_Latn' is not in" in res.stderr and "did you mean 'swh_Latn'" in res.stderr
    mix.write_text("target:\n  swh_Latn: 1000\n")
    res = run_cli("tokenize", *args, "--tokenizer", str(tokenizer), "--mixture", str(mix))
    assert f"{mix}:1: mixture: unknown key 'target' (did you mean 'targets'?)" in res.stderr
    res = run_cli("tokenize", *args, "--tokenizer", str(tokenizer), "--eos", "<|nope|>")
    assert res.returncode == 1 and "--eos '<|nope|>' is not in the tokenizer's vocabulary" in res.stderr
    res = run_cli("tokenize", str(tmp_path), "--format", "numpy", "--out", str(tmp_path / "d"), "--tokenizer",
                  str(tokenizer))
    assert res.returncode == 1 and "is not the output of a finished curate run" in res.stderr
    assert not (tmp_path / "d").exists()  # nothing was written before the checks


def test_the_common_crawl_dump_comes_from_the_source_path() -> None:
    import pyarrow as pa

    from curate.training.encode_task import _dumps

    table = pa.table({"source": ["s3://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/1/warc/x.warc.gz",
                                 "curate://samples/quickstart.warc.gz", None]})
    assert _dumps(table) == ["CC-MAIN-2024-22", "unknown", "unknown"]


def test_tokenizer_by_url_goes_through_the_pinned_model_cache(tokenizer: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from curate.models.cache import sha256_of
    from curate.training.errors import TokenizerLoadError

    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "cache"))
    url, pin = tokenizer.as_uri(), sha256_of(str(tokenizer))
    ref = TokenizerRef(url, pin)
    assert ref.load().get_vocab_size() == 3000
    assert ref.local_path().startswith(str(tmp_path / "cache" / pin))  # fetched into the cache, by content
    other = tmp_path / "other.json"
    other.write_bytes(tokenizer.read_bytes())
    with pytest.raises(TokenizerLoadError, match="but the pipeline pins 0000"):
        TokenizerRef(other.as_uri(), "0" * 64).local_path()
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    with pytest.raises(TokenizerLoadError, match="curate models fetch"):
        TokenizerRef("https://example.invalid/tokenizer.json").local_path()


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_gives_the_same_bytes(shared_data: Path, tokenizer: Path, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from curate import run
    from curate.config.pipeline_config import parse_pipeline

    lines = (shared_data / "langid" / "lingua_sentences.jsonl").read_text(encoding="utf-8").split("\n")[:30_000]
    rows = [json.loads(line) for line in lines]
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": " ".join(r["text"] for r in rows[i:i + 10])}) + "\n"
                            for i in range(0, len(rows), 10)), encoding="utf-8")
    corpus = tmp_path / "corpus"
    run(parse_pipeline(json.dumps({"name": "k", "input": {"paths": [str(docs)]}, "output": str(corpus),
                                   "pipeline": [{"langid": {}}]})), workers=1)
    args = [sys.executable, "-m", "curate.cli", "tokenize", str(corpus), "--tokenizer", str(tokenizer), "--format",
            "numpy", "--task-bytes", "20000", "--shard-tokens", "200000", "--workers", "1"]
    clean = subprocess.run([*args, "--out", str(tmp_path / "clean")], capture_output=True, text=True, timeout=600)
    assert clean.returncode == 0, clean.stderr[-2000:]
    proc = subprocess.Popen([*args, "--out", str(tmp_path / "killed")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((tmp_path / "killed").glob("_markers/*/encode-*.json"))) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "manifest.json").exists()  # killed before the end
    rerun = subprocess.run([*args, "--out", str(tmp_path / "killed")], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "already done" in rerun.stdout and "resumed" in rerun.stdout
    assert _digests(tmp_path / "killed") == _digests(tmp_path / "clean")
    assert json.loads((tmp_path / "killed" / "manifest.json").read_text())["totals"] == \
        json.loads((tmp_path / "clean" / "manifest.json").read_text())["totals"]
