"""A Parquet text column as valid UTF-8 strings, with the rows that are not named."""

from __future__ import annotations

import pyarrow as pa


class TextColumn:
    """Casts a column to ``string``; rows holding invalid UTF-8 become null and are listed.

    Arrow does not check UTF-8 when reading Parquet (``BYTE_ARRAY`` from other writers can hold
    anything); one full validation per batch is cheap, and only a failing batch is checked row by row.
    """

    def __init__(self, column: pa.Array) -> None:
        self.column = column

    def strings(self) -> tuple[pa.Array, list[int]]:
        col = self.column
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            try:
                col.validate(full=True)
                return col.cast(pa.string()), []
            except pa.ArrowInvalid:
                col = col.view(pa.binary() if pa.types.is_string(col.type) else pa.large_binary())
        elif not (pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)):
            return col.cast(pa.string()), []  # numbers and the like: Arrow formats them
        try:
            return col.cast(pa.string()), []  # binary cast validates UTF-8
        except pa.ArrowInvalid:
            pass
        values: list[str | None] = []
        bad: list[int] = []
        for i, raw in enumerate(col.to_pylist()):
            if raw is None:
                values.append(None)
                continue
            try:
                values.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                values.append(None)
                bad.append(i)
        return pa.array(values, pa.string()), bad
