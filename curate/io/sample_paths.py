"""``curate://samples/...`` names data shipped inside the package (the embedded quickstart crawl)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_SCHEME = "curate://"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def resolve_sample_path(path: str) -> str:
    if path.startswith(PACKAGE_SCHEME):
        return str(PACKAGE_ROOT / path[len(PACKAGE_SCHEME):])
    return path
