"""One line of a JSON-lines input parsed to an object, or counted as a ``bad_json`` error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from curate.io.read_counts import ReadCounts


def json_object_line(line: str | bytes, path: str, line_no: int, counts: ReadCounts,
                     loads: Callable[[str | bytes], Any] = json.loads) -> dict[str, Any] | None:
    """The line's JSON object; None (and one counted error naming file and line) when it is not one."""
    try:
        obj = loads(line)
        if not isinstance(obj, dict):
            raise ValueError("line is not a JSON object")
    except ValueError as exc:  # json's and orjson's decode errors are ValueErrors
        counts.error("bad_json", f"{path}:{line_no}: not a JSON object ({exc}); fix or drop the line")
        return None
    return obj
