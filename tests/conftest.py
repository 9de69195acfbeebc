"""Shared test fixtures: where the real data lives (../shared/data by default)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Tests talk to loopback only: botocore must never probe the cloud instance-metadata address for
# credentials, and an s3:// URL without an endpoint goes to a closed loopback port, not to AWS.
# (Tests with an object store pass their own endpoint.) Subprocesses inherit both.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


def shared_data_dir() -> Path:
    return Path(os.environ.get("CURATE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data of ../shared/data; tests that need it skip when it is absent."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        pytest.skip(f"shared data not found at {path} (set CURATE_SHARED_DATA to the data folder)")
    return path


@pytest.fixture(scope="session")
def quickstart_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart pipeline's finished output (the embedded sample crawl: 14 languages, rehydration
    ``weight`` 1 and 10), run once per session for the tests of what comes after a run (tokenize, export)."""
    from curate import load_pipeline, run  # the package under test, imported when a test asks for this

    out = tmp_path_factory.mktemp("quickstart") / "out"
    run(load_pipeline(str(REPO_ROOT / "pipelines" / "quickstart.yaml")), output=str(out), workers=2)
    return out
