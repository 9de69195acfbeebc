"""The language table and labels: per-language settings keyed by ``xxx_Scrp``, read by every block layer.

A low-level package (it imports only ``curate.errors``), so filters, dedup, rehydrate, quality and langid all use
it without importing each other.
"""
