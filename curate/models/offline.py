"""Offline mode: ``curate --offline`` or ``CURATE_OFFLINE=1`` (seen by every worker and, forwarded, every Ray node)."""

from __future__ import annotations

import os

OFFLINE_ENV = "CURATE_OFFLINE"


def offline() -> bool:
    """Whether models may come from the local cache only (never the network)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
