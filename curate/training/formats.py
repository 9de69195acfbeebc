"""The token-shard formats ``curate tokenize --format`` knows, by name."""

from __future__ import annotations

from curate.training.datatrove_format import DatatroveFormat
from curate.training.megatron_format import MegatronFormat
from curate.training.numpy_format import NumpyFormat
from curate.training.shard_format import ShardFormat

FORMATS: dict[str, ShardFormat] = {f.name: f for f in (MegatronFormat(), DatatroveFormat(), NumpyFormat())}
