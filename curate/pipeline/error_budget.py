"""The error budget: a step whose documents fail too often stops the run instead of ending "successfully".

Errors (a block raising on a batch or a row) are counted per step and language, and the rows go to
``_removed`` with their message, as always. On top, after every stage:

- per shard and step: errored > max(``min_errors``, ``max_error_rate`` x the step's input in that shard);
- per run and step: the same test over all shards of the stage;
- a step with input whose *every* document errored fails whatever the floor (a broken model or setting).

``min_errors`` (default 10) keeps one bad record in a 10-document shard from failing a run; the 1%
default rate follows the usual web-crawl tolerance (a few malformed records per WARC). Exceeding the budget
raises :class:`ErrorBudgetExceeded` naming the step, the shard and the first error message.
"""

from __future__ import annotations

from typing import Any

from curate.errors import CurateError


class ErrorBudgetExceeded(CurateError):
    """Too many documents of a step errored: the run stops with the step, shard and first error."""


def _totals(step: dict[str, Any]) -> tuple[int, int]:
    docs_in = sum(int(v.get("in", 0)) for v in step.values())
    errored = sum(sum(v.get("errored", {}).values()) for v in step.values())
    return docs_in, errored


def _over(errored: int, docs_in: int, rate: float, floor: int) -> bool:
    return errored > max(floor, rate * docs_in) or (docs_in > 0 and errored == docs_in)


def check_error_budget(results: list[dict[str, Any]], names: list[str], rate: float, floor: int) -> None:
    """Raise when a step of this stage's shard results is over budget (see the module docstring)."""
    run: dict[str, list[int]] = {}
    first: dict[str, tuple[str, str]] = {}
    for r in results:
        for index, step in r.get("steps", {}).items():
            docs_in, errored = _totals(step)
            total = run.setdefault(index, [0, 0])
            total[0] += docs_in
            total[1] += errored
            message = r.get("first_errors", {}).get(index, "")
            if errored and index not in first:
                first[index] = (r["shard"], message)
            if errored > max(floor, rate * docs_in):
                raise ErrorBudgetExceeded(_message(names, index, r["shard"], errored, docs_in, rate, floor, message))
    for index, (docs_in, errored) in sorted(run.items(), key=lambda kv: int(kv[0])):
        if _over(errored, docs_in, rate, floor):
            shard, message = first[index]
            raise ErrorBudgetExceeded(_message(names, index, shard, errored, docs_in, rate, floor, message,
                                               scope="over the run"))


def _message(names: list[str], index: str, shard: str, errored: int, docs_in: int, rate: float, floor: int,
             message: str, scope: str = "in one shard") -> str:
    name = names[int(index)] if int(index) < len(names) else index
    return (f"step {int(index)} ({name}): {errored} of {docs_in} documents errored {scope} (budget: "
            f"max_error_rate {rate:g}, at least min_errors {floor}); first error in shard {shard}: "
            f"{message or '(see _removed)'}. Fix the cause, or raise max_error_rate in the pipeline file; "
            "rows that errored are in _removed with their message")
