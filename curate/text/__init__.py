"""Shared text utilities (public): character classes and vectorised word / n-gram statistics.

A low-level package: filters, formatters and langid's calibration use it without importing each other.
"""
