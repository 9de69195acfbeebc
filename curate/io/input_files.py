"""Expand the pipeline's ``input.paths`` (files, folders, globs; local or fsspec URLs) into shards."""

from __future__ import annotations

from dataclasses import dataclass

from fsspec.core import url_to_fs

from curate.errors import CurateError
from curate.interop.datatrove_readers import DatatroveJsonlReader, DatatroveParquetReader
from curate.io.arc_reader import ArcReader
from curate.io.format_sniffer import FormatSniffer
from curate.io.jsonl_reader import JsonlReader
from curate.io.parquet_reader import ParquetReader
from curate.io.reader_base import Reader
from curate.io.warc_reader import WarcReader

READERS: dict[str, type[Reader]] = {
    r.name: r
    for r in (WarcReader, ArcReader, JsonlReader, ParquetReader, DatatroveJsonlReader, DatatroveParquetReader)
}


class InputError(CurateError, ValueError):
    """An input path matched nothing, or its format cannot be told from its name."""


@dataclass(frozen=True)
class Shard:
    """One unit of parallel work: one input file."""

    index: int
    path: str
    format: str

    @property
    def shard_id(self) -> str:
        return f"{self.index:05d}"


def reader_for_path(path: str, fmt: str = "auto") -> str:
    if fmt != "auto":
        if fmt not in READERS:
            raise InputError(f"unknown input format {fmt!r}; allowed: auto, {', '.join(sorted(READERS))}")
        return fmt
    lower = path.lower()
    # the longest matching ending wins: ".warc.gz" also ends in ".arc.gz"
    matches = [(len(s), name) for name, reader in READERS.items() for s in reader.suffixes if lower.endswith(s)]
    if matches:
        return max(matches)[1]
    try:
        return FormatSniffer().sniff(path)  # the name says nothing: the first bytes do
    except OSError as exc:
        raise InputError(f"cannot tell the format of {path!r} from its name, and opening it to look failed "
                         f"({exc}); set input.format to one of {sorted(READERS)}") from exc


def _is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def expand_paths(paths: list[str], fmt: str = "auto", check_exists: bool = True) -> list[Shard]:
    """Files in a fixed (sorted) order so shard ids are stable across reruns.

    With ``check_exists=False`` (``curate plan`` on a remote URL with no network), plain file
    paths are taken as given.
    """
    files: list[str] = []
    for path in paths:
        if not check_exists and not _is_glob(path):
            files.append(path)
            continue
        fs, fs_path = url_to_fs(path)
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        prefix = "" if protocol in ("file", "local") else f"{protocol}://"
        if _is_glob(fs_path):
            matched = sorted(fs.glob(fs_path))
        elif fs.isdir(fs_path):
            matched = sorted(p for p in fs.find(fs_path) if _has_known_suffix(p) or fmt != "auto")
        elif fs.exists(fs_path):
            matched = [fs_path]
        else:
            raise InputError(f"input path {path!r} does not exist; check input.paths in the pipeline file")
        if not matched:
            raise InputError(f"input path {path!r} matched no files; check input.paths in the pipeline file")
        files.extend(prefix + p if prefix and not p.startswith(prefix) else p for p in matched)
    return [Shard(index=i, path=p, format=reader_for_path(p, fmt)) for i, p in enumerate(files)]


def _has_known_suffix(path: str) -> bool:
    lower = path.lower()
    return any(lower.endswith(r.suffixes) for r in READERS.values())
