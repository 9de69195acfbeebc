"""The one progress report both executors use, as it reads in a log (not a terminal)."""

from __future__ import annotations

import io
import re

from curate.executors.progress import Progress


def test_log_lines_count_tasks_and_docs_and_end_with_a_final_line() -> None:
    log = io.StringIO()  # not a terminal: lines, no bar
    progress = Progress(3, "stage 0", stream=log, log_every=0.0)
    progress.update({"read": {"emitted": 1200}})
    progress.update({"read": {"emitted": 34}})
    progress.tick()
    progress.update({"read": {"emitted": 0}})
    progress.close()
    lines = log.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == ["stage 0: 1/3 tasks", "stage 0: 2/3 tasks", "stage 0: 2/3 tasks",
                                                      "stage 0: 3/3 tasks", "stage 0: 3/3 tasks"]
    assert re.fullmatch(r"stage 0: 2/3 tasks, 1,234 docs, [\d,]+ docs/s, ETA \d\d:\d\d:\d\d", lines[1])
    assert re.fullmatch(r"stage 0: 3/3 tasks, 1,234 docs, [\d,]+ docs/s, [\d.]+ s", lines[-1])


def test_disabled_or_empty_progress_writes_nothing() -> None:
    log = io.StringIO()
    quiet = Progress(2, "stage 0", enabled=False, stream=log, log_every=0.0)
    quiet.update({"read": {"emitted": 5}})
    quiet.close()
    Progress(0, "dedup", stream=log).close()
    assert log.getvalue() == ""
