"""The contract the runner needs from an executor (implemented in curate/executors/): run a picklable
function over items in parallel, results in order, and run a check once on every node (the preflight)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Executor:
    name = ""

    def map(self, fn: Callable[[Any], Any], items: list[Any], desc: str = "") -> list[Any]:  # pragma: no cover
        raise NotImplementedError

    def node_count(self) -> int:
        """Machines the tasks may run on (1 for a local pool)."""
        return 1

    def on_every_node(self, fn: Callable[[Any], Any], item: Any) -> list[tuple[str, Any]]:
        """``fn(item)`` once per node, as ``(node name, result)``; locally, in this process (the pool's
        workers share its machine, files and environment)."""
        return [("local", fn(item))]

    def close(self) -> None:
        pass
