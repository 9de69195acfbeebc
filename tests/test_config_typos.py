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


# --- every level (issue 23): reader options, nested block settings, language overrides, storage options

NESTED = """\
input:
  paths: [x.warc.gz]
  options:
    max_byts: 100
output: o
overrides:
  eng_Latn:
    language_scor: 0.5
storage:
  s3:
    endpont_url: http://127.0.0.1:9000
    config_kwargs:
      read_timout: 5
      retries: {max_atempts: 2}
pipeline:
  - extract: {}
  - rehydrate:
      budget:
        unti: documents
        targets: {eng_Latn: 10}
"""
# (the typo, its line, the key it should have been, a key of the same level that the message must list, a key of
# another level that it must not)
NESTED_TYPOS = [
    ("max_byts", 4, "max_bytes", "html_only", "paths"),
    ("language_scor", 8, "language_score", "stopwords", "eng_Latn"),
    ("endpont_url", 11, "endpoint_url", "client_kwargs", "s3"),
    ("read_timout", 13, "read_timeout", "connect_timeout", "endpoint_url"),
    ("max_atempts", 14, "max_attempts", "mode", "read_timeout"),
    ("unti", 19, "unit", "targets", "materialize"),
]


def _only(typo: str) -> str:
    """NESTED with every typo but ``typo`` corrected."""
    text = NESTED
    for other, _, fixed, _, _ in NESTED_TYPOS:
        if other != typo:
            text = text.replace(other, fixed)
    return text


@pytest.mark.parametrize(("typo", "line", "fixed", "sibling", "foreign"), NESTED_TYPOS)
def test_nested_typo_names_line_closest_key_and_its_own_level(typo: str, line: int, fixed: str, sibling: str,
                                                              foreign: str) -> None:
    pytest.importorskip("s3fs", reason="the storage typos are checked against s3fs's options (the s3 extra)")
    with pytest.raises(PipelineConfigError) as info:
        parse_pipeline(_only(typo), "my.yaml")
    message = str(info.value)
    assert message.startswith(f"my.yaml:{line}:"), message
    assert f"did you mean {fixed!r}?" in message, message
    listed = [k.strip(" ;.") for k in message.split("allowed", 1)[1].split(":", 1)[1].split(",")]
    assert sibling in listed and foreign not in listed, message


def test_corrected_nested_file_loads() -> None:
    pytest.importorskip("s3fs", reason="the storage options are checked against s3fs's (the s3 extra)")
    config = parse_pipeline(_only("none"), "my.yaml")
    assert config.input.options == {"max_bytes": 100}
    assert config.storage["s3"]["config_kwargs"]["retries"] == {"max_attempts": 2}


def test_reader_option_of_another_format_and_batch_size_are_refused() -> None:
    text = GOOD.replace("  paths: [x.warc.gz]\n", "  paths: [x.warc.gz]\n  options: {text_key: body}\n")
    with pytest.raises(PipelineConfigError, match=r"my.yaml:3: input.options .*warc reader.*: unknown key "
                                                  r"'text_key'.*allowed here: max_bytes, html_only, captures$"):
        parse_pipeline(text, "my.yaml")
    # a folder can hold any format: a JSONL reader's key is fine with format auto...
    parse_pipeline(text.replace("[x.warc.gz]", "[crawl/]"), "my.yaml")
    # ...but not with a format that has no such setting
    with pytest.raises(PipelineConfigError, match="unknown key 'text_key'"):
        parse_pipeline(text.replace("[x.warc.gz]", "[crawl/]\n  format: warc"), "my.yaml")
    with pytest.raises(PipelineConfigError, match=r"my.yaml:3: input.options.batch_size: .*input.batch_size"):
        parse_pipeline(text.replace("text_key: body", "batch_size: 10"), "my.yaml")
    with pytest.raises(PipelineConfigError, match=r"my.yaml:3: input.options.max_bytes: .*got 'ten'"):
        parse_pipeline(text.replace("text_key: body", "max_bytes: ten"), "my.yaml")


def test_override_of_an_unknown_language_points_at_its_line() -> None:
    text = GOOD + "overrides:\n  eng_Latn: {language_score: 0.5}\n  qqqqq: {language_score: 0.5}\n"
    with pytest.raises(PipelineConfigError, match=r"my.yaml:13: overrides: .*'qqqqq'"):
        parse_pipeline(text, "my.yaml")


def test_reader_option_typo_is_refused_by_plan_and_run_before_work(tmp_path, shared_data) -> None:
    """The CLI, as a user meets it: one line naming the file, line and key; nothing written."""
    from pipeline_helpers import run_cli

    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(f"input:\n  paths: [{shared_data / 'warc' / 'cc-single-response.warc.gz'}]\n"
                        f"  options: {{max_byts: 100}}\noutput: {tmp_path / 'out'}\npipeline:\n  - extract: {{}}\n")
    for command in ("plan", "run"):
        done = run_cli(command, str(pipeline), timeout=120)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{pipeline}:3:" in lines[0] and "did you mean 'max_bytes'?" in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_reader_option_no_input_file_uses_is_refused_before_work(tmp_path, shared_data) -> None:
    """format auto on a folder: ``text_key`` passes the file check (a folder may hold JSONL), but the folder holds
    only WARCs: the run refuses before writing anything, instead of ignoring the setting."""
    from curate import run

    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "a.warc.gz").write_bytes((shared_data / "warc" / "cc-single-response.warc.gz").read_bytes())
    text = (f"input:\n  paths: [{folder}]\n  options: {{text_key: body}}\noutput: {tmp_path / 'out'}\n"
            "pipeline:\n  - extract: {}\n")
    config = parse_pipeline(text, "my.yaml")
    with pytest.raises(PipelineConfigError, match=r"my.yaml: input.options.text_key: .*inputs are warc"):
        run(config, executor="local", workers=1)
    assert not (tmp_path / "out").exists()
