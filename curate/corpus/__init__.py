"""A corpus that grows dump by dump: every dump's output as the dedup index now sees it, and the index
operations that need more than the dedup layer (a dump dropped: its rehydration tables computed again).

:func:`corpus_parts` (``curate index view``), :func:`drop_dump` (``curate index drop``) and
:func:`corpus_report` (``curate report --index``).
"""

from curate.corpus.corpus_report import corpus_report
from curate.corpus.corpus_view import VIEW_SCHEMA, corpus_parts, corpus_rows
from curate.corpus.index_drop import drop_dump

__all__ = ["VIEW_SCHEMA", "corpus_parts", "corpus_report", "corpus_rows", "drop_dump"]
