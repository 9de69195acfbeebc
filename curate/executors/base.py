"""What an executor does: run a picklable function over items in parallel, results in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Executor:
    name = ""

    def map(self, fn: Callable[[Any], Any], items: list[Any], desc: str = "") -> list[Any]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass
