"""Arrow columns from free-form metadata values, with one type per column for a reader's or block's life.

Metadata dicts (datatrove's ``Document.metadata``, JSON lines) carry whatever Python values their producer put
there. Turned into Arrow per batch, the same key could come out ``int64`` in one batch and ``double`` or
``string`` in the next, and the shard's batches would no longer concatenate into one Parquet file. So the type of
a column is fixed the first time it has a value (or declared up front) and kept; a later value that does not fit
is reported (its row becomes an error the caller counts) instead of being silently converted: pyarrow itself
would truncate 2.5 to 2 in an ``int64`` column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa


def parse_type(name: str, key: str = "") -> pa.DataType:
    """A pyarrow type from a YAML-friendly name: ``string``, ``int64``, ``float64``/``double``, ``bool``, ...."""
    try:
        return pa.type_for_alias(name)
    except ValueError:
        where = f" for {key!r}" if key else ""
        raise ValueError(
            f"unknown column type {name!r}{where}; use a pyarrow type name such as string, int64, float64, bool"
        ) from None


def _scalar_kind(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "nested"


_KIND_TYPES = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string()}
# which Python kinds each fixed scalar type accepts without losing anything
_ACCEPTS = {pa.bool_(): {"bool"}, pa.int64(): {"int"}, pa.float64(): {"int", "float"}, pa.string(): {"str"}}


class ColumnTypes:
    """Remembers one Arrow type per column name; :meth:`build` makes arrays of that type."""

    def __init__(self, declared: Mapping[str, pa.DataType] | None = None) -> None:
        self.types: dict[str, pa.DataType] = dict(declared or {})

    def _infer(self, values: Sequence[Any]) -> pa.DataType | None:
        kinds = {_scalar_kind(v) for v in values if v is not None}
        if not kinds:
            return None
        if kinds <= {"int", "float"}:
            return pa.float64() if "float" in kinds else pa.int64()
        if len(kinds) == 1 and "nested" not in kinds:
            return _KIND_TYPES[next(iter(kinds))]
        if kinds == {"nested"}:
            try:
                return pa.array(values).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                pass
        # mixed kinds: the first value decides, the others are misfits
        first = next(v for v in values if v is not None)
        kind = _scalar_kind(first)
        return _KIND_TYPES[kind] if kind in _KIND_TYPES else pa.array([first]).type

    def build(self, name: str, values: list[Any]) -> tuple[pa.Array, list[int]]:
        """The column as an array, plus the row indices whose value did not fit its type (set to null)."""
        dtype = self.types.get(name)
        if dtype is None:
            dtype = self._infer(values)
            if dtype is None:  # no value yet: nulls, type decided by a later batch
                return pa.nulls(len(values)), []
            self.types[name] = dtype
        accepts = _ACCEPTS.get(dtype)
        if accepts is not None:
            bad = [i for i, v in enumerate(values) if v is not None and _scalar_kind(v) not in accepts]
        else:
            try:
                return pa.array(values, type=dtype), []
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                bad = [i for i, v in enumerate(values) if v is not None and not _fits(v, dtype)]
        values = list(values)
        if bad:
            for i in bad:
                values[i] = None
        try:
            return pa.array(values, type=dtype), bad
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
        # a value of the right kind that still does not convert (an int past int64): find it the slow way
        more = [i for i, v in enumerate(values) if v is not None and not _fits(v, dtype)]
        for i in more:
            values[i] = None
        return pa.array(values, type=dtype), sorted(bad + more)


def _fits(value: Any, dtype: pa.DataType) -> bool:
    try:
        pa.array([value], type=dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return False
    return True


def misfit_message(name: str, dtype: pa.DataType | None, value: Any) -> str:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return (f"metadata {name!r} is {dtype} in earlier rows but {type(value).__name__} here ({shown}); "
            "declare its type, or read metadata as one JSON column")
