"""The public API of ``import curate``: every name it lists resolves, and importing one module of the package does
not load the rest (the extraction process starts once per worker; its start-up is counted in the extract step's
overhead, benchmarks/RESULTS.md "extraction_overhead")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import curate
from curate.blocks.base import Filter
from curate.config.pipeline_config import PipelineConfig, load_pipeline
from curate.executors.entry import run


def test_every_public_name_resolves() -> None:
    for name in curate.__all__:
        assert getattr(curate, name) is not None, name
    assert curate.run is run and curate.load_pipeline is load_pipeline and curate.Filter is Filter
    assert curate.Pipeline is PipelineConfig
    assert set(curate.__all__) <= set(dir(curate))
    with pytest.raises(AttributeError, match="no attribute 'Pipelines'"):
        _ = curate.Pipelines


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_extraction_process_loads_only_what_it_runs() -> None:
    loaded = _modules_after("import curate.extract.extraction_process")
    assert "curate.extract.balanced_engine" in loaded
    heavy = {"curate.pipeline.run", "curate.config.pipeline_config", "curate.executors.entry", "pyarrow", "polars",
             "fsspec", "trafilatura"}
    assert not heavy & loaded, f"loaded at start-up of the extraction process: {sorted(heavy & loaded)}"


def test_import_curate_alone_is_light_and_a_name_loads_its_module() -> None:
    assert "curate.executors.entry" not in _modules_after("import curate")
    assert "curate.executors.entry" in _modules_after("import curate\ncurate.run")
    assert "curate.blocks.document_filter" in _modules_after("from curate import document_filter")
