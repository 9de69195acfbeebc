"""A typo in any key of a pipeline file names the file, the line and the closest allowed key."""

from __future__ import annotations

import pytest

from curate.config.pipeline_config import parse_pipeline
from curate.config.yaml_source import PipelineConfigError

GOOD = """\
input:
  paths: [x.warc.gz]
output: o
executor:
  workers: 2
writer:
  row_group_rows: 100
pipeline:
  - extract:
      engine: resiliparse
"""


@pytest.mark.parametrize(("typo", "fixed", "line"), [
    ("outptu: o", "output", 3),             # a required key: reported as the typo, not as "missing output"
    ("  pahts: [x.warc.gz]", "paths", 2),   # required key one level down
    ("  wrkers: 2", "workers", 5),
    ("  row_grup_rows: 100", "row_group_rows", 7),
    ("      engien: resiliparse", "engine", 10),  # a block's setting
    ("pipelin:", "pipeline", 8),
])
def test_typo_names_file_line_and_closest_key(typo: str, fixed: str, line: int) -> None:
    lines = GOOD.splitlines()
    lines[line - 1] = typo
    text = "\n".join(lines) + "\n"
    with pytest.raises(PipelineConfigError) as info:
        parse_pipeline(text, "my.yaml")
    message = str(info.value)
    assert message.startswith(f"my.yaml:{line}:"), message
    assert f"did you mean {fixed!r}?" in message, message
    assert typo.split(":")[0].strip() in message


def test_missing_required_key_without_a_typo_is_named() -> None:
    with pytest.raises(PipelineConfigError) as info:
        parse_pipeline(GOOD.replace("output: o\n", ""), "my.yaml")
    assert "required key 'output' is missing" in str(info.value)


def test_valid_file_still_loads() -> None:
    config = parse_pipeline(GOOD, "my.yaml")
    assert config.output == "o" and config.executor.workers == 2
