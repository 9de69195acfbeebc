"""Where the shared data is, and which skips a full test run (`make test`, CI) allows.

A test may skip for an optional extra that `make` does not install (``lingua``), a system capability the
machine lacks (a browser, ``/proc``, root to mount a filesystem), and, on a user's fresh clone, for the shared
data being absent. Under ``CURATE_STRICT_TESTS=1`` (set by `make test`, which CI runs) every other skip, the
missing shared data included, is a failure: a skip must never hide a curate module that failed to import, a
package `make` installs, or data CI has. tests/conftest.py imports the hooks and the fixture from here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STRICT_ENV = "CURATE_STRICT_TESTS"
# the skips a strict run allows: optional extras `make` leaves out and capabilities of the machine
ALLOWED_SKIPS = (
    re.compile(r"curate-corpus\[lingua\]"),  # the lingua extra: not installed by `make`
    re.compile(r"chromium not installed"),  # a Debian package, installed by `make test` only as root
    re.compile(r"/proc\b"),  # Linux's process table
    re.compile(r"mount(ing)? a (small )?tmpfs"),  # a real full disk needs root (CAP_SYS_ADMIN)
)


def strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def shared_data_dir() -> Path:
    return Path(os.environ.get("CURATE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data of ../shared/data; tests that need it skip when it is absent (fail when strict)."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        message = f"shared data not found at {path} (set CURATE_SHARED_DATA to the data folder)"
        if strict():
            pytest.fail(f"{message}; {STRICT_ENV}=1 (make test, CI) requires it", pytrace=False)
        pytest.skip(message)
    return path


def skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _enforce(report: pytest.CollectReport | pytest.TestReport) -> None:
    if not (strict() and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = skip_reason(report)
    if any(p.search(reason) for p in ALLOWED_SKIPS):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped ({reason}), but {STRICT_ENV}=1 (make test, CI) allows skips only for an optional "
                       "extra make does not install or a capability the machine lacks (tests/skip_policy.py)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    _enforce(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    outcome = yield
    _enforce(outcome.get_result())
