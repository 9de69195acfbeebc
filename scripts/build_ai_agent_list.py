#!/usr/bin/env python3
"""Build curate's packaged AI-crawler lists (``curate/optout/data/ai_agents.json``) from the ai.robots.txt catalogue.

Input: ``robots.json`` of ai-robots-txt/ai.robots.txt (MIT; snapshot of 2026-08-22 in
``../shared/data/robots/ai-robots-txt``): per user-agent token its operator, whether it respects robots.txt, its
function and a description. Read here, once, when the list is built; curate never reads it at run time.

Output lists (user-agent tokens as the catalogue spells them; tokens equal but for case are kept once):

* ``ai-all``: every agent of the catalogue.
* ``ai``: the training-relevant ones, the agents whose robots.txt rules say whether a site's pages may go into
  a training corpus. An agent is in when the catalogue

  1. files it under "AI Data Scrapers" / "AI data scraper" (its category for crawlers that collect data for AI), or
  2. says in its function or description that what it fetches trains models or builds data sets ("train",
     "training", "dataset", "machine learning", "LLM training"), or
  3. is one of the documented training crawlers that the vendors name as the training opt-out
     (``VENDOR_TRAINING_AGENTS``: GPTBot, ClaudeBot, anthropic-ai, Google-Extended, Applebot-Extended, CCBot,
     Bytespider, meta-externalagent, cohere-training-data-crawler, ...), whatever the catalogue's wording;

  and it is not a user-initiated fetcher (categories "AI Assistants", "AI Agents", "AI Coding Agents", or a
  description of fetches on a user's request): blocking ChatGPT-User or Perplexity-User says "do not fetch
  for my users", not "do not train on my pages". AI search crawlers (OAI-SearchBot, PerplexityBot) are out for
  the same reason unless rule 2 or 3 holds. Teams that read every AI-crawler block as an opt-out use ``ai-all``.

Usage::

    .venv/bin/python scripts/build_ai_agent_list.py [--catalogue robots.json] [--out PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOGUE = REPO_ROOT.parent / "shared" / "data" / "robots" / "ai-robots-txt" / "robots.json"
DEFAULT_OUT = REPO_ROOT / "curate" / "optout" / "data" / "ai_agents.json"
SNAPSHOT = "2026-08-22"  # of the catalogue copy read here (../shared/data/README.md)
SOURCE = "https://github.com/ai-robots-txt/ai.robots.txt (robots.json, MIT)"

# the vendors' own documented training opt-out tokens (OpenAI, Anthropic, Google, Apple, Common Crawl,
# ByteDance, Meta, Cohere docs); rule 3 above
VENDOR_TRAINING_AGENTS = frozenset({
    "gptbot", "claudebot", "anthropic-ai", "google-extended", "applebot-extended", "ccbot", "bytespider",
    "meta-externalagent", "cohere-training-data-crawler", "ai2bot", "ai2bot-dolma", "facebookbot",
})
TRAINING_WORDS = re.compile(r"\btrain(?:s|ed|ing)?\b|\bdata ?sets?\b|\bmachine learning\b|\bLLM training\b", re.I)
USER_FETCHER_CATEGORIES = frozenset({"AI Assistants", "AI Agents", "AI Coding Agents"})
USER_FETCH_WORDS = re.compile(r"user[- ]initiated|on behalf of (?:its )?users|user prompts|when users ask|"
                              r"user actions|in response to user", re.I)


def classify(agent: str, entry: dict[str, Any]) -> tuple[bool, str]:
    """(in the ``ai`` list?, the rule that decided)."""
    function, description = entry.get("function", ""), entry.get("description", "")
    if function in USER_FETCHER_CATEGORIES or USER_FETCH_WORDS.search(f"{function} {description}"):
        return False, f"user-initiated fetcher ({function})"
    if agent.lower() in VENDOR_TRAINING_AGENTS:
        return True, "vendor-documented training crawler"
    if function.lower().rstrip("s.") == "ai data scraper":
        return True, "catalogue category: AI Data Scrapers"
    if TRAINING_WORDS.search(f"{function} {description}"):
        return True, "catalogue text: data used for training / data sets"
    return False, f"not training-relevant ({function})"


def build(catalogue: dict[str, dict[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    everyone: list[dict[str, Any]] = []
    for agent in catalogue:  # the catalogue's order
        if agent.lower() in seen:
            continue
        seen.add(agent.lower())
        entry = catalogue[agent]
        training, why = classify(agent, entry)
        everyone.append({"agent": agent, "training": training, "why": why,
                         "function": entry.get("function", ""),
                         "operator": re.sub(r"\]\(.*?\)", "]", entry.get("operator", ""))[:120]})
    return {
        "version": SNAPSHOT,
        "source": SOURCE,
        "snapshot": SNAPSHOT,
        "criterion": "ai: catalogue category 'AI Data Scrapers', or data used for training / data sets per the "
                     "catalogue, or a vendor-documented training crawler; never a user-initiated fetcher. "
                     "ai-all: every catalogue agent. See scripts/build_ai_agent_list.py.",
        "lists": {"ai": [a["agent"] for a in everyone if a["training"]],
                  "ai-all": [a["agent"] for a in everyone]},
        "agents": everyone,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalogue", type=Path, default=DEFAULT_CATALOGUE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if the packaged list differs from a rebuild")
    args = parser.parse_args(argv)
    built = build(json.loads(args.catalogue.read_text(encoding="utf-8")))
    text = json.dumps(built, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{args.out} differs from a rebuild: rerun without --check")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    lists = built["lists"]
    print(f"wrote {args.out}: ai {len(lists['ai'])} agents, ai-all {len(lists['ai-all'])}")
    for a in built["agents"]:
        print(f"  {'+' if a['training'] else '-'} {a['agent']:<32} {a['why']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
