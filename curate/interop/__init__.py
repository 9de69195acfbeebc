"""Interoperability with other data-processing toolkits (datatrove).

Nothing here imports datatrove at import time: :class:`DatatroveStep` needs it (``pip install
'curate-corpus[datatrove]'``), the readers of datatrove's outputs do not.
"""

from __future__ import annotations

from curate.interop.datatrove_block import DatatroveMissingError, DatatroveStep, DatatroveStepError
from curate.interop.datatrove_readers import DatatroveJsonlReader, DatatroveParquetReader

__all__ = [
    "DatatroveJsonlReader", "DatatroveMissingError", "DatatroveParquetReader", "DatatroveStep", "DatatroveStepError",
]
