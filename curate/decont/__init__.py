"""Benchmark decontamination: exact n-gram overlap between documents and the evaluation sets a team names.

One module per concern: :mod:`.char_table` and :mod:`.normalizer` (the normal form, vectorised), :mod:`.tokens`
and :mod:`.run_segmenter` (words; segmenters for scripts written without spaces), :mod:`.ngram_hash` and
:mod:`.text_ngrams` (64-bit n-gram hashes), :mod:`.set_spec` and :mod:`.set_loader` (evaluation sets),
:mod:`.index_builder`, :mod:`.index_files`, :mod:`.hash_lookup`, :mod:`.decont_index` and :mod:`.index_cache`
(the index), :mod:`.matcher` (exact matching), the block :mod:`.decontaminate_block` (``decontaminate``), and
:mod:`.report` / :mod:`.report_section` (what a run found). Nothing is imported here, so that ``curate report``
reads its section without loading the tables.
"""
