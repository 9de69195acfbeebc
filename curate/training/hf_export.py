"""``curate export hf OUT DEST``: a finished run as a Hugging Face dataset folder, FineWeb2's layout.

``DEST/data/<lang>/train-XXXXX-of-YYYYY.parquet`` (each about ``max_file_bytes`` of the corpus's Parquet,
one language's schema unified across its files), ``DEST/README.md`` (the dataset card,
:mod:`curate.training.dataset_card`), ``DEST/pipeline.yaml`` (the run's pipeline, from
``OUT/_stats/pipeline.yaml``) and ``DEST/stats.json`` (the run's statistics). The files are tasks on the
executor; a rerun skips the files already there. Publishing is an upload of the folder (see the card).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from ruamel.yaml import YAML

from curate.pipeline.executor import Executor
from curate.stats.run_record import read_run_stats
from curate.storage.atomic import write_text_atomic
from curate.training.corpus_files import CorpusFile, list_corpus
from curate.training.dataset_card import dataset_card
from curate.training.errors import TokenizeError
from curate.training.export_files import ExportFileTask, export_file


@dataclass
class ExportResult:
    dest: str
    languages: dict[str, dict[str, Any]]
    files: int


def _chunks(files: list[CorpusFile], max_bytes: int) -> list[list[CorpusFile]]:
    out: list[list[CorpusFile]] = [[]]
    size = 0
    for f in files:
        if out[-1] and size + f.size > max_bytes:
            out.append([])
            size = 0
        out[-1].append(f)
        size += f.size
    return out if out[0] else []


def _schema(files: list[CorpusFile]) -> pa.Schema:
    schemas = []
    for f in files:
        with fsspec.open(f.path, "rb") as handle:
            schemas.append(pq.read_schema(handle))
    return pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()


def _read_text(path: str) -> str | None:
    fs, p = fsspec.core.url_to_fs(path)
    if not fs.exists(p):
        return None
    with fs.open(p, "r", encoding="utf-8") as handle:
        return handle.read()


def export_hf(corpus: str, dest: str, executor: Executor, name: str | None = None, license_id: str = "odc-by",
              max_file_bytes: int = 500 * 2**20) -> ExportResult:
    corpus = corpus.rstrip("/") if "://" in corpus else os.path.abspath(corpus)
    dest = dest.rstrip("/") if "://" in dest else os.path.abspath(dest)
    files = list_corpus(corpus)
    if not files:
        raise TokenizeError(f"{corpus} has no kept documents (no <lang>/*.parquet) to export")
    stats: dict[str, Any] = dict(read_run_stats(corpus))
    by_lang: dict[str, list[CorpusFile]] = {}
    for f in files:
        by_lang.setdefault(f.lang, []).append(f)
    tasks = []
    for lang in sorted(by_lang):
        chunks = _chunks(by_lang[lang], max_file_bytes)
        schema = _schema(by_lang[lang])
        tasks += [ExportFileTask(lang, tuple(f.path for f in chunk),
                                 f"{dest}/data/{lang}/train-{i:05d}-of-{len(chunks):05d}.parquet", schema)
                  for i, chunk in enumerate(chunks)]
    langs: dict[str, dict[str, Any]] = {}
    for task, counts in zip(tasks, executor.map(export_file, tasks, desc="export:hf"), strict=True):
        entry = langs.setdefault(task.lang, {"rows": 0, "weighted_rows": 0, "files": 0})
        entry["rows"] += counts["rows"]
        entry["weighted_rows"] += counts["weighted_rows"]
        entry["files"] += 1
    pipeline_text = _read_text(f"{corpus}/_stats/pipeline.yaml")
    record = YAML(typ="safe", pure=True).load(pipeline_text) if pipeline_text else None
    title = name or str(stats.get("pipeline") or os.path.basename(corpus))
    write_text_atomic(f"{dest}/README.md", dataset_card(title, license_id, langs, stats, pipeline_text, record))
    if pipeline_text:
        write_text_atomic(f"{dest}/pipeline.yaml", pipeline_text)
    stats_text = _read_text(f"{corpus}/_stats/stats.json")
    if stats_text:
        write_text_atomic(f"{dest}/stats.json", stats_text)
    return ExportResult(dest, langs, len(tasks))
