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
