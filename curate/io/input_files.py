"""Expand the pipeline's ``input.paths`` (files, folders, globs; local or fsspec URLs) into shards."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from fsspec.core import url_to_fs

from curate.errors import CurateError
from curate.io.arc_reader import ArcReader
from curate.io.datatrove_readers import DatatroveJsonlReader, DatatroveParquetReader
from curate.io.format_sniffer import FormatSniffer
from curate.io.jsonl_reader import JsonlReader
from curate.io.parquet_reader import ParquetReader
from curate.io.reader_base import Reader
from curate.io.sample_paths import PackageSamplesFileSystem
from curate.io.wacz_reader import WaczReader
from curate.io.warc_reader import WarcReader

READERS: dict[str, type[Reader]] = {
    r.name: r
    for r in (WarcReader, WaczReader, ArcReader, JsonlReader, ParquetReader, DatatroveJsonlReader,
              DatatroveParquetReader)
}


class InputError(CurateError, ValueError):
    """An input path matched nothing, or its format cannot be told from its name."""


@dataclass(frozen=True)
class Shard:
    """One unit of parallel work: one input file.

    ``size`` and ``version`` (ETag, generation or modification time, from the fsspec listing) make
    the shard's identity with its path: ``shard_id`` is a digest of the three, so it is the same for
    an unchanged file whatever files are added or removed around it, and a new one for a changed
    file. Completion markers use it. Output files are named by ``name``, a digest of the path alone: a
    copy of the same files at the same paths (another clone, another machine, a re-download with new
    modification times) gives the same file names, and a changed file's output replaces its old one.
    """

    index: int
    path: str
    format: str
    size: int | None = None
    version: str = ""

    @property
    def shard_id(self) -> str:
        identity = json.dumps([self.path, self.size, self.version])
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return hashlib.sha256(json.dumps([self.path]).encode()).hexdigest()[:16]


# fsspec listing keys that change when an object's content changes, best first (s3, gcs, azure, hf, local)
_VERSION_KEYS = ("ETag", "etag", "VersionId", "generation", "version_id", "blob_id", "mtime", "LastModified",
                 "last_modified", "updated", "created")


def file_version(info: dict[str, Any]) -> str:
    """The content version of one listed file: its ETag or equivalent, else its modification time."""
    for key in _VERSION_KEYS:
        value = info.get(key)
        if value is not None and value != "":
            return f"{key}={value}"
    return ""


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


@dataclass(frozen=True)
class SkippedInput:
    """A path a folder or glob in ``input.paths`` matched that is not read, and why (``reason`` is a key)."""

    path: str
    reason: str


SKIP_REASONS = {
    "folder": "a folder, not a file (a folder in input.paths is searched for input files)",
    "wat_metadata": "WAT metadata (JSON about each record, no page text); name the file itself in input.paths "
                    "to read it anyway",
    "unknown_format": "no input format curate reads ends its name (set input.format to read such files)",
    "listed_twice": "an earlier input path matched it too: it is read once",
}
# Common Crawl's WAT files end in .warc.wat.gz: metadata, which a folder or glob of crawl files often holds
_WAT_SUFFIXES = (".wat", ".wat.gz", ".wat.zst")


def _is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def expand_paths(paths: list[str], fmt: str = "auto", check_exists: bool = True,
                 skipped: list[SkippedInput] | None = None) -> list[Shard]:
    """Files in a fixed (sorted) order so shard ids are stable across reruns.

    With ``check_exists=False`` (``curate plan`` on a remote URL with no network), plain file
    paths are taken as given. What a folder or glob matched but is not read (folders, WAT metadata,
    files of no known format) is appended to ``skipped``, sorted, with the reason.
    """
    files: list[tuple[str, dict[str, Any]]] = []  # (path, listing info)
    seen: set[str] = set()
    for path in paths:
        if not check_exists and not _is_glob(path):
            files.append((path, {}))
            continue
        fs, fs_path = url_to_fs(path)
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        prefix = "" if protocol in ("file", "local") else f"{protocol}://"
        # one listing with details per input path: sizes and versions come with it
        passed: list[SkippedInput] = []
        if _is_glob(fs_path):
            listed = fs.glob(fs_path, detail=True)
            matched = _files(fs, listed, prefix, fmt, passed, by_suffix=False)
        elif fs.isdir(fs_path):
            listed = fs.find(fs_path, detail=True, withdirs=True)
            matched = _files(fs, listed, prefix, fmt, passed, by_suffix=True)
        elif fs.exists(fs_path):
            listed = {fs_path: fs.info(fs_path)}
            matched = [fs_path]
        else:
            raise InputError(f"input path {path!r} does not exist; check input.paths in the pipeline file")
        if not matched:
            why = f" it could read (not read: {describe_skipped(passed)})" if passed else ""
            raise InputError(f"input path {path!r} matched no files{why}; check input.paths in the pipeline file")
        if skipped is not None:
            skipped.extend(passed)
        for p in matched:
            name = _listed_name(fs, p, prefix)
            if name in seen:
                if skipped is not None:
                    skipped.append(SkippedInput(name, "listed_twice"))
                continue
            seen.add(name)
            files.append((name, listed[p]))
    return [Shard(index=i, path=p, format=reader_for_path(p, fmt), size=info.get("size"),
                  version=file_version(info)) for i, (p, info) in enumerate(files)]


def describe_skipped(skipped: list[SkippedInput], listed: int = 3) -> str:
    """One line: how many paths were not read for each reason, with the first few paths."""
    parts = []
    for reason in sorted({s.reason for s in skipped}):
        paths = [s.path for s in skipped if s.reason == reason]
        more = f", ... {len(paths) - listed} more" if len(paths) > listed else ""
        parts.append(f"{len(paths)} {reason} ({', '.join(paths[:listed])}{more}: {SKIP_REASONS[reason]})")
    return "; ".join(parts)


def skipped_summary(skipped: list[SkippedInput], listed: int = 20) -> dict[str, dict[str, Any]]:
    """Per reason: how many paths and the first ``listed`` of them (for ``stats.json``)."""
    out: dict[str, dict[str, Any]] = {}
    for s in skipped:
        entry = out.setdefault(s.reason, {"count": 0, "paths": []})
        entry["count"] += 1
        if len(entry["paths"]) < listed:
            entry["paths"].append(s.path)
    return dict(sorted(out.items()))


def _files(fs: Any, listed: dict[str, dict[str, Any]], prefix: str, fmt: str, skipped: list[SkippedInput],
           by_suffix: bool) -> list[str]:
    """The files of a listing that are read, sorted; the others go to ``skipped``, each with its reason."""
    files = []
    for path in sorted(listed):
        reason = None
        if listed[path].get("type") == "directory":
            # in a folder's listing only a folder named like an input file would be mistaken for one
            reason = "folder" if (not by_suffix or _has_known_suffix(path)) else None
            if reason is None:
                continue
        elif by_suffix and fmt == "auto" and path.lower().endswith(_WAT_SUFFIXES):
            reason = "wat_metadata"
        elif by_suffix and fmt == "auto" and not _has_known_suffix(path):
            reason = "unknown_format"
        if reason is None:
            files.append(path)
        else:
            skipped.append(SkippedInput(_listed_name(fs, path, prefix), reason))
    return files


def _listed_name(fs: Any, path: str, prefix: str) -> str:
    """A listed path under the name the user's URL scheme gives it (``s3://...``, ``curate://...``)."""
    if isinstance(fs, PackageSamplesFileSystem):  # lists package files by their local paths
        return fs.unstrip_protocol(path)
    return prefix + path if prefix and not path.startswith(prefix) else path


def _has_known_suffix(path: str) -> bool:
    lower = path.lower()
    return any(lower.endswith(r.suffixes) for r in READERS.values())
