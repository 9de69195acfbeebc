"""`make test` fails when a skip hides something CI has (issue 23): a pytest run with CURATE_STRICT_TESTS=1
turns every skip into a failure but those of optional extras and machine capabilities (tests/skip_policy.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline_helpers import REPO

SKIPPING = '''
import pytest

def test_curate_module_missing():
    pytest.importorskip("curate.no_such_module")

def test_optional_extra():
    pytest.skip("the optional extra curate-corpus[lingua] is not installed")

def test_needs_shared_data(shared_data):
    assert shared_data.exists()

def test_passes():
    assert True
'''
MODULE_SKIP = '''
import pytest

pytest.skip("feature not in curate yet", allow_module_level=True)

def test_never_runs():
    assert False
'''


def _pytest(folder: Path, strict: bool, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests"), "CURATE_SHARED_DATA": str(data)}
    env.pop("CURATE_STRICT_TESTS", None)
    if strict:
        env["CURATE_STRICT_TESTS"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "skip_policy", "-p", "no:cacheprovider",
                           str(folder)], capture_output=True, text=True, env=env, cwd=folder, timeout=120)


def test_strict_run_fails_on_skips_that_hide_curate_code_or_data(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_skipping.py").write_text(SKIPPING)
    absent = tmp_path / "no-shared-data"
    relaxed = _pytest(tests, strict=False, data=absent)  # a user's fresh clone: skips, exit 0
    assert relaxed.returncode == 0 and "1 passed, 3 skipped" in relaxed.stdout, relaxed.stdout
    strict = _pytest(tests, strict=True, data=absent)
    # the missing module fails; the missing data fails the fixture (an error); the optional extra still skips
    assert strict.returncode == 1 and "1 failed, 1 passed, 1 skipped, 1 error" in strict.stdout, strict.stdout
    assert "curate.no_such_module" in strict.stdout and "shared data not found" in strict.stdout
    # with the data present only the skip that hides missing code fails
    data = tmp_path / "data"
    data.mkdir()
    (data / "README.md").write_text("data")
    strict = _pytest(tests, strict=True, data=data)
    assert strict.returncode == 1 and "1 failed, 2 passed, 1 skipped" in strict.stdout, strict.stdout


def test_strict_run_fails_on_a_module_level_skip(tmp_path: Path) -> None:
    (tmp_path / "test_module_skip.py").write_text(MODULE_SKIP)
    assert _pytest(tmp_path, strict=False, data=tmp_path).returncode == 5  # pytest: no test collected
    strict = _pytest(tmp_path, strict=True, data=tmp_path)
    assert strict.returncode != 0 and "feature not in curate yet" in strict.stdout, strict.stdout
    assert "error" in strict.stdout.splitlines()[-1], strict.stdout


def test_make_test_runs_strict() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "CURATE_STRICT_TESTS=1" in recipe and "pytest" in recipe
