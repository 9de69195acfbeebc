"""Unknown and missing keys of one mapping in a pipeline file, named with the closest allowed key.

Checked before the schema's own validation so that a typo in a required key (``outptu:``) is
reported as the typo it is, at its line, and not as a missing ``output``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from curate.config.yaml_source import PipelineConfigError, YamlSource


def closest(key: str, allowed: Iterable[str]) -> str | None:
    """The allowed key a typo most likely meant (difflib ratio >= 0.6), or None."""
    matches = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None


def check_keys(src: YamlSource, loc: tuple[str | int, ...], mapping: Mapping[str, Any], allowed: list[str],
               required: list[str], label: str, allowed_text: str | None = None, noun: str = "key") -> None:
    """Raise :class:`PipelineConfigError` for the first unknown key (with its closest allowed key),
    then for the first missing required key."""
    listing = allowed_text if allowed_text is not None else ", ".join(allowed) or "(no settings)"
    missing = [k for k in required if k not in mapping]
    for key in mapping:
        if key in allowed:
            continue
        # a missing required key is the likeliest meaning of a typo; then any allowed key
        guess = closest(key, missing) or closest(key, allowed)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        allowed_label = "allowed here" if noun == "key" else "allowed"
        raise PipelineConfigError(f"{src.where(loc + (key,))}: {label}unknown {noun} {key!r}{hint}; "
                                  f"{allowed_label}: {listing}")
    if missing:
        where = src.where(loc) if loc else src.path
        scope = f"under {'.'.join(str(p) for p in loc)}" if loc else "at the top level"
        raise PipelineConfigError(f"{where}: {label}required {noun} {missing[0]!r} is missing {scope}")
