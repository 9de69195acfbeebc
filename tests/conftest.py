"""Shared test fixtures: where the real data lives (../shared/data by default)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    return Path(os.environ.get("CURATE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data of ../shared/data; tests that need it skip when it is absent."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        pytest.skip(f"shared data not found at {path} (set CURATE_SHARED_DATA to the data folder)")
    return path
