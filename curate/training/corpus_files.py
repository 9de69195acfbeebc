"""The kept documents of a finished run: ``OUT/<lang>/*.parquet``, listed in a fixed order and grouped into
tasks by size.

Groups are runs of consecutive files (sorted by path) of about ``task_bytes`` each, a file never split: they
depend on the files alone, never on the number of workers, so the shards come out the same under any
executor. Folders starting with ``_`` (removed documents, statistics, markers) are not the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

import fsspec

from curate.training.errors import TokenizeError


@dataclass(frozen=True)
class CorpusFile:
    index: int  # position in the sorted listing: the tie-break of the shuffle, whatever the grouping
    lang: str
    path: str  # as fsspec understands it, with the protocol
    size: int


def list_corpus(out_dir: str) -> list[CorpusFile]:
    fs, root = fsspec.core.url_to_fs(out_dir)
    root = root.rstrip("/")
    if not fs.exists(f"{root}/_stats/stats.json"):
        raise TokenizeError(f"{out_dir} is not the output of a finished curate run (no _stats/stats.json); "
                            "give the output folder of `curate run`")
    found = fs.glob(f"{root}/*/*.parquet", detail=True)
    entries = []
    for path, info in found.items():
        lang = path[len(root) + 1:].split("/", 1)[0]
        if lang.startswith("_"):
            continue
        entries.append((path, lang, int(info.get("size") or 0)))
    entries.sort()
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    prefix = "" if protocol in ("file", "local") else f"{protocol}://"
    return [CorpusFile(i, lang, prefix + path, size) for i, (path, lang, size) in enumerate(entries)]


def group_files(files: list[CorpusFile], task_bytes: int) -> list[list[CorpusFile]]:
    """Consecutive runs of ``files`` of at least ``task_bytes`` each (the last may be smaller)."""
    groups: list[list[CorpusFile]] = []
    current: list[CorpusFile] = []
    size = 0
    for f in files:
        current.append(f)
        size += f.size
        if size >= task_bytes:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    return groups
