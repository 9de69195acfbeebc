"""A user's own datatrove steps, named by import path in the datatrove interop tests (needs datatrove)."""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter


class ShoutingFilter(BaseFilter):
    """Drops documents with too many upper-case letters; annotates every document it sees."""

    name = "shouting"

    def __init__(self, max_upper_ratio: float = 0.3) -> None:
        super().__init__()
        self.max_upper_ratio = max_upper_ratio

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        letters = [c for c in doc.text if c.isalpha()]
        ratio = sum(c.isupper() for c in letters) / max(1, len(letters))
        doc.metadata["upper_ratio"] = ratio  # a float for every document
        doc.metadata["n_lines"] = doc.text.count("\n") + 1  # an int
        doc.metadata["has_digits"] = any(c.isdigit() for c in doc.text)  # a bool
        if ratio > self.max_upper_ratio:
            return False, "too_loud"
        if "xyzzy" in doc.text:
            return False  # no reason: curate names it after the class
        return True
