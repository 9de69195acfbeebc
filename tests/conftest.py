"""Shared test fixtures: where the real data lives (../shared/data by default), and the skip policy of a full
run (tests/skip_policy.py: under CURATE_STRICT_TESTS=1, set by `make test`, a skip for anything but an optional
extra or a missing machine capability fails)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from skip_policy import (  # noqa: F401 - the fixture and hooks are registered by being names of this module
    REPO_ROOT,
    pytest_make_collect_report,
    pytest_runtest_makereport,
    shared_data,
    shared_data_dir,
)

# Tests talk to loopback only: botocore must never probe the cloud instance-metadata address for
# credentials, and an s3:// URL without an endpoint goes to a closed loopback port, not to AWS.
# (Tests with an object store pass their own endpoint.) Subprocesses inherit both.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


@pytest.fixture(scope="session")
def quickstart_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart pipeline's finished output (the embedded sample crawl: 14 languages, rehydration
    ``weight`` 1 and 10), run once per session for the tests of what comes after a run (tokenize, export)."""
    from curate import load_pipeline, run  # the package under test, imported when a test asks for this

    out = tmp_path_factory.mktemp("quickstart") / "out"
    run(load_pipeline(str(REPO_ROOT / "pipelines" / "quickstart.yaml")), output=str(out), workers=2)
    return out
