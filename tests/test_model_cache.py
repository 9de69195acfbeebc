"""Models as checksummed assets: fetched from a URL into the cache, used offline, refused when missing.

The model is a small fastText classifier the test trains with GlotLID-style labels (``__label__srp_Latn``), served
by an HTTP server the test starts on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import run_cli, write_pipeline
from test_langid_scripts import TEXTS

from curate.blocks.base import BlockContext
from curate.cli.main import main
from curate.langid.langid_block import LanguageId
from curate.models.cache import ModelCache, sha256_of
from curate.models.errors import ModelUnavailableError
from curate.models.resolve import resolve_model

LABELS = ("srp_Latn", "srp_Cyrl", "uzn_Latn", "uzn_Cyrl", "pan_Guru", "pnb_Arab")


@pytest.fixture(scope="module")
def glotlid_style_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fasttext = pytest.importorskip("fasttext")
    if not hasattr(fasttext, "train_supervised"):
        pytest.skip("the predict-only fasttext build is installed; `make test` installs the full one")
    folder = tmp_path_factory.mktemp("model")
    lines = []
    for key in LABELS:
        words = TEXTS[key].split()
        lines += [f"__label__{key} " + " ".join(words[i:i + 8]) for i in range(0, len(words), 4)] * 5
    (folder / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    served = folder / "served"
    served.mkdir()
    # in a fresh interpreter: a library loaded by extraction tests in this process (one built with fast-math
    # floating-point flags) makes fastText's training diverge to NaN
    code = ("import fasttext, sys; fasttext.train_supervised(input=sys.argv[1], epoch=50, lr=0.2, dim=16, minn=2, "
            "maxn=4, bucket=20_000, thread=1, seed=7, verbose=0).save_model(sys.argv[2])")
    subprocess.run([sys.executable, "-c", code, str(folder / "train.txt"), str(served / "tiny-glotlid.bin")],
                   check=True, timeout=300)
    return served / "tiny-glotlid.bin"


@pytest.fixture()
def server(glotlid_style_model: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(glotlid_style_model.parent))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # a free port picked by the OS
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{glotlid_style_model.name}"
    try:
        yield url, httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _stop(httpd: ThreadingHTTPServer) -> None:
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.slow
def test_model_by_url_works_offline_from_the_cache_and_fails_clearly_without(
        tmp_path: Path, server: tuple[str, ThreadingHTTPServer], glotlid_style_model: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, httpd = server
    cache = tmp_path / "cache"
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(cache))
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    sha = sha256_of(str(glotlid_style_model))
    fetched = run_cli("models", "fetch", url, "--sha256", sha)
    assert fetched.returncode == 0, fetched.stderr
    assert sha in fetched.stdout and "fetched" in fetched.stdout
    listed = run_cli("models", "list")
    assert url in listed.stdout and sha in listed.stdout
    _stop(httpd)  # the network is gone from here on

    steps = [{"extract": {"engine": "trafilatura"}},
             {"langid": {"model": url, "model_sha256": sha, "second_opinion": "none"}}]
    cfg = write_pipeline(tmp_path / "p.yaml", ["curate://samples/quickstart.warc.gz"], tmp_path / "out", steps,
                         executor={"type": "local", "workers": 1})
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    LanguageId(model=url, model_sha256=sha).preflight()
    done = run_cli("run", str(cfg))  # own process (CURATE_OFFLINE=1 in its environment)
    assert done.returncode == 0, done.stderr[-2000:]
    langs = set(json.loads((tmp_path / "out" / "_stats" / "stats.json").read_text())["output"])
    assert langs and langs <= set(LABELS), langs  # the model's own keys, trusted as they are
    table = pq.read_table(next((tmp_path / "out").glob("*/*.parquet")))
    assert set(table.column("lang").to_pylist()) <= set(LABELS)
    verified = run_cli("models", "verify")
    assert verified.returncode == 0 and "1 of 1 cached models verified" in verified.stdout

    # without the cache: preflight fails before any work, saying how to get the file; so does a run
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelUnavailableError, match=r"curate models fetch http://127\.0\.0\.1"):
        LanguageId(model=url).preflight()
    failed = run_cli("--offline", "run", str(cfg), "--output", str(tmp_path / "out2"))
    kept = list((tmp_path / "out2").glob("*/*.parquet"))
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "curate models fetch" in failed.stderr and "Traceback" not in failed.stderr, failed.stderr[-2000:]
    assert not [p for p in kept if not p.parent.name.startswith("_")]  # no language partition was written


def test_cache_checks_checksums(tmp_path: Path, server: tuple[str, ThreadingHTTPServer],
                                glotlid_style_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = server
    monkeypatch.setenv("CURATE_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    with pytest.raises(ModelUnavailableError, match="pins"):
        ModelCache().fetch(url, "0" * 64)
    assert ModelCache().entries() == []  # nothing half-written is left
    # online, a URL model is fetched on first use and then predicts with its own GlotLID-style labels
    block = LanguageId(model=url, second_opinion="none")
    out = block.process(pa.table({"text": [TEXTS["pnb_Arab"], TEXTS["srp_Latn"]]}), BlockContext()).table
    assert out.column("lang").to_pylist() == ["pnb_Arab", "srp_Latn"]
    entry = ModelCache().lookup(url)
    assert entry is not None and entry.sha256 == sha256_of(str(glotlid_style_model))
    Path(entry.path).write_bytes(b"tampered")
    assert main(["models", "verify"]) == 1
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        LanguageId(model=str(tmp_path / "nope.bin"), model_sha256="ab" * 32).preflight()
    # offline, a file:// URL is still a local file: it goes into the cache without any network
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    local = f"file://{glotlid_style_model}"
    assert resolve_model(local) == ModelCache().lookup(local).path  # type: ignore[union-attr]
    with pytest.raises(ModelUnavailableError, match="runs offline"):
        resolve_model(url.replace("tiny", "other"))
    with pytest.raises(ModelUnavailableError, match="runs offline"):  # even with the server up: no request
        ModelCache(str(tmp_path / "cache2")).fetch(url)


def test_langs_model_on_a_glotlid_style_model(glotlid_style_model: Path) -> None:
    done = run_cli("langs", "--model", str(glotlid_style_model))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{glotlid_style_model}: 6 labels -> 6 keys (6 in the language table)")
    assert "fineweb2" in done.stdout.splitlines()[0]  # a model of the user's own: FineWeb2's thresholds
    for key in LABELS:
        assert f"\n{key} " in done.stdout
    assert "cannot reach " in done.stdout and "deu_Latn" in done.stdout.split("cannot reach ")[1]
