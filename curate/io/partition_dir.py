"""The folder of one language's rows: a name made safe, whatever ``lang`` a block set.

A language key is data (any block may set ``lang``), and a folder name built from it must never
leave the output (``../../x``, ``/x``), land at its root (``..``, ``.``), take one of curate's own
folders (``_stats``, ``_work``: a leading ``_`` or ``.`` also hides a folder from pyarrow and polars
datasets) or clash with another key. A key of 1 to 64 ASCII letters, digits, ``_`` and ``-`` that
starts with a letter or digit (``eng_Latn``, ``und``, ``en-US``) is its own folder; any other key
is written under ``@<readable part>-<12 hex digits of its SHA-256>`` (``../../x`` ->
``@______x-…``): ``@`` starts no plain key, so no two keys share a folder. The rows keep the key
itself in their ``lang`` column, and the statistics count them under it.
"""

from __future__ import annotations

import hashlib
import re

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def partition_dir(lang: str) -> str:
    """The folder name (one path component, never ``.``, ``..`` or empty) for rows of ``lang``."""
    if _PLAIN.fullmatch(lang):
        return lang
    digest = hashlib.sha256(lang.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"@{_UNSAFE.sub('_', lang)[:40]}-{digest}"
