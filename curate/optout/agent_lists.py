"""The crawler user-agent lists an opt-out is checked for: packaged, versioned lists, or the user's own.

``ai`` (training-relevant AI crawlers) and ``ai-all`` (every AI crawler) are derived from the
ai-robots-txt/ai.robots.txt catalogue (``robots.json``, MIT; snapshot of 2026-08-22) by
``scripts/build_ai_agent_list.py``, which states the criterion; the list file
(``curate/optout/data/ai_agents.json``) is committed and read here, the catalogue never is. A setting is a
list name, a comma-separated string of agents, a list of agents, or a mix (``ai,MyBot``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from curate.errors import CurateError


class AgentListError(CurateError, ValueError):
    """An agent setting names nothing usable."""


@lru_cache(maxsize=1)
def packaged_lists() -> dict[str, Any]:
    """The packaged list file: ``version``, ``source``, ``criterion``, ``lists`` (name -> agents), ``agents``."""
    return json.loads(resources.files("curate.optout").joinpath("data/ai_agents.json").read_text("utf-8"))


def list_version() -> str:
    return str(packaged_lists()["version"])


def resolve_agents(spec: str | list[str]) -> list[str]:
    """``"ai"`` / ``"ai-all"`` / ``"GPTBot,CCBot"`` / ``["ai", "MyBot"]`` -> agents, in order, each once
    (compared without case, as robots.txt matching is)."""
    items = spec.split(",") if isinstance(spec, str) else [str(s) for s in spec]
    lists = packaged_lists()["lists"]
    out: list[str] = []
    seen: set[str] = set()
    for item in (s.strip() for s in items):
        if not item:
            continue
        for agent in lists.get(item.lower(), [item]):
            if agent.lower() not in seen:
                seen.add(agent.lower())
                out.append(agent)
    if not out:
        raise AgentListError(f"no user-agent in {spec!r}: name a list ({', '.join(sorted(lists))}) or agents, "
                             "e.g. 'GPTBot,CCBot'")
    for agent in out:
        if any(c in agent for c in "\r\n#:"):
            raise AgentListError(f"user-agent {agent!r} holds a character robots.txt cannot name (newline, '#', ':')")
    return out
