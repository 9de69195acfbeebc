"""``curate calibrate langid RUN_OUTPUT``: FineWeb2-style ``language_score`` thresholds from a finished run.

Reads the ``lang``, ``lang_score`` and (when there) ``lang_model`` columns of every Parquet file of the run: the
language partitions (``OUT/<key>/part-*.parquet``) and the removed rows (``OUT/_removed/``), so documents the
``language_score`` filter already dropped count too, as in FineWeb2, whose thresholds came from the scores
*before* filtering. Rows another model decided (``lang_model`` other than ``fasttext``, e.g. CLD2's share of
bytes) are left out: their scores are on another scale. Scores accumulate in a bounded histogram per language
(:class:`curate.langid.score_calibration.ScoreHistogram`), one Parquet row group at a time, so memory does not
grow with the run. The output is YAML for the pipeline's ``overrides:``, one ``language_score`` per key.
"""

from __future__ import annotations

from collections.abc import Iterator

import fsspec
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.blocks.columns import LANG, LANG_MODEL, LANG_SCORE
from curate.errors import CurateError
from curate.langid.score_calibration import MIN_DOCUMENTS, LanguageScoreStats, ScoreHistogram

FASTTEXT = "fasttext"


class RunScoresError(CurateError, ValueError):
    """The folder is not a run output with language-ID scores."""


def _parquet_files(out_dir: str) -> tuple[fsspec.AbstractFileSystem, list[str]]:
    fs, root = fsspec.core.url_to_fs(out_dir)
    if not fs.isdir(root):
        raise RunScoresError(f"{out_dir} is not a folder; give the output folder of a `curate run`")
    files = sorted(p for p in fs.glob(f"{root.rstrip('/')}/**/*.parquet")
                   if "/_markers/" not in p and "/_stats/" not in p and "/_work/" not in p)
    return fs, files


def _batches(fs: fsspec.AbstractFileSystem, path: str) -> Iterator[tuple[list[str], np.ndarray]]:
    with fs.open(path, "rb") as handle:
        pfile = pq.ParquetFile(handle)
        names = set(pfile.schema_arrow.names)
        if not {LANG, LANG_SCORE} <= names:
            return  # e.g. rows removed before language ID: no score
        columns = [LANG, LANG_SCORE] + ([LANG_MODEL] if LANG_MODEL in names else [])
        for batch in pfile.iter_batches(columns=columns, batch_size=65_536):
            ok = pc.is_valid(batch.column(LANG_SCORE))
            if LANG_MODEL in columns:
                ok = pc.and_(ok, pc.equal(pc.fill_null(batch.column(LANG_MODEL), FASTTEXT), FASTTEXT))
            kept = batch.filter(ok)
            yield kept.column(LANG).to_pylist(), kept.column(LANG_SCORE).to_numpy(zero_copy_only=False)


def run_score_stats(out_dir: str, min_documents: int = MIN_DOCUMENTS) -> tuple[list[LanguageScoreStats], int]:
    """Per language with at least ``min_documents`` scored rows: count, median, std, threshold; and the
    number of Parquet files read."""
    fs, files = _parquet_files(out_dir)
    hist = ScoreHistogram()
    for path in files:
        for langs, scores in _batches(fs, path):
            if langs:
                hist.add(langs, scores)
    if not files:
        raise RunScoresError(f"no Parquet files under {out_dir}; is it the output of a finished `curate run`?")
    return [s for s in hist.stats(min_documents) if not s.key.startswith("und")], len(files)


def format_overrides(stats: list[LanguageScoreStats], out_dir: str, files: int) -> str:
    lines = [f"# language_score thresholds from {out_dir} ({files} Parquet files), FineWeb2's rule",
             "# max(0.3, min(0.9, median - std)) of each language's fastText scores (arXiv:2506.20920);",
             "# paste under `overrides:` of the pipeline that runs the same model"]
    for s in stats:
        lines.append(f"{s.key}:  # {s.documents} documents, median {s.median}, std {s.std}")
        lines.append(f"  language_score: {s.threshold}")
    if not stats:
        lines.append("{}  # no language had enough scored documents (see --min-documents)")
    return "\n".join(lines) + "\n"
