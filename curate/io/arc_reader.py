"""ARC reader: the Internet Archive's format before WARC (Common Crawl 2008-2012, national libraries).

ARC v1 (Internet Archive, "ARC File Format", 1996): each record is one header line
``URL IP-address Archive-date Content-type Archive-length``, the archived HTTP response, then a
newline; a ``filedesc://`` version block may open the file (Common Crawl's 2008 ARC files have
none). Plain, per-record gzip or one gzip member for the whole file. warcio parses the records
(``arc2warc``: the 14-digit archive date becomes the same ISO form as ``WARC-Date``); damage is
resynced at the next ARC header line or gzip member, as for WARC.
"""

from __future__ import annotations

from typing import ClassVar

from curate.io.warc_reader import WarcReader


class ArcReader(WarcReader):
    """Same settings and rows as :class:`WarcReader`; ``source`` is ``file#offset``."""

    name: ClassVar[str] = "arc"
    suffixes: ClassVar[tuple[str, ...]] = (".arc", ".arc.gz")
    fast_path: ClassVar[bool] = False  # FastWARC reads WARC only
