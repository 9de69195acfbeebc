"""Filter blocks: per-language quality filtering (FineWeb2 recipe) and URL block lists.

YAML name -> class (reference):

- ``language_score`` -> :class:`LanguageScoreFilter` (FineWeb2 per-language LID threshold)
- ``gopher_repetition`` -> :class:`GopherRepetitionFilter` (Gopher Table A1 + FineWeb2 thresholds)
- ``fineweb_quality`` -> :class:`FineWebQualityFilter` (FineWeb heuristics + FineWeb2 thresholds)
- ``gopher_quality`` -> :class:`GopherQualityFilter` (Gopher quality filtering + FineWeb2 thresholds)
- ``c4`` -> :class:`C4QualityFilter` (C4, Raffel et al. 2020 §2.2; optional, FineWeb2 does not use it)
- ``url_filter`` -> :class:`URLFilter` (user block lists; FineWeb/RefinedWeb scheme)

Each per-language block judges every row with its own language's thresholds, stopwords and word
tokenizer (``curate.tokenizers``) in one pass; words are tokenized once per document and shared.
"""

from curate.filters.c4_quality import C4QualityFilter
from curate.filters.fineweb_quality import FineWebQualityFilter
from curate.filters.gopher_quality import GopherQualityFilter
from curate.filters.gopher_repetition import GopherRepetitionFilter
from curate.filters.language_score import LanguageScoreFilter
from curate.filters.url_filter import URLFilter

FILTERS = {
    cls.name: cls
    for cls in (
        LanguageScoreFilter,
        GopherRepetitionFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        C4QualityFilter,
        URLFilter,
    )
}

__all__ = [
    "FILTERS",
    "C4QualityFilter",
    "FineWebQualityFilter",
    "GopherQualityFilter",
    "GopherRepetitionFilter",
    "LanguageScoreFilter",
    "URLFilter",
]
