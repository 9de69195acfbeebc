"""URL block lists: domains, exact URLs, banned words and sub-words in the URL.

The first filter of FineWeb (Penedo et al. 2024, arXiv:2406.17557, base filtering: URL filtering
with a blocklist to remove adult content) and so of FineWeb2's input; RefinedWeb
(Penedo et al. 2023, arXiv:2306.01116, URL filtering of its pipeline) describes the scheme: a domain blocklist plus
scores from banned words in the URL. The rule set follows datatrove's ``URLFilter``; no list
ships with curate — the user supplies them inline or as files (one entry a line, ``#`` comments,
any fsspec path):

========================  =====================================================================
rule (reason)             removes when
========================  =====================================================================
``blocked_domain``        the URL's host or one of its parent domains is listed
                          (``example.com`` blocks ``www.example.com`` and ``a.b.example.com``)
``blocked_url``           the URL is listed (compared without scheme, ``www.`` and trailing ``/``)
``banned_word``           a word of the URL (split on non-word characters, lower-cased) is listed
``soft_banned_words``     at least ``soft_word_threshold`` distinct soft-banned words occur
``banned_subword``        a listed string occurs in the URL reduced to lower-case letters/digits
========================  =====================================================================

Rows without a URL are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import fsspec
import pyarrow as pa

from curate.blocks.columns import URL
from curate.filters._base import LanguageAwareFilter
from curate.languages.language_config import LanguageConfig

_NON_WORD = re.compile(r"[\W_]+")


def _read_lists(inline: Iterable[str] | str | None, files: Iterable[str] | str | None) -> list[str]:
    items: list[str] = []
    if isinstance(inline, str):
        inline = [inline]
    items.extend(inline or ())
    if isinstance(files, str):
        files = [files]
    for path in files or ():
        with fsspec.open(path, "rt", encoding="utf-8") as f:
            items.extend(f.read().splitlines())
    return [s.strip() for s in items if s.strip() and not s.strip().startswith("#")]


def _url_key(url: str) -> str:
    url = url.strip()
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url)
    url = re.sub(r"^www\.", "", url, flags=re.IGNORECASE)
    # host part is case-insensitive, the path is not
    host, sep, rest = url.partition("/")
    return (host.lower() + sep + rest).rstrip("/")


def _squash(text: str) -> str:
    return _NON_WORD.sub("", text).lower()


class URLFilter(LanguageAwareFilter):
    """Remove documents by URL: user block lists of domains, URLs and words (RefinedWeb scheme)."""

    name: ClassVar[str] = "url_filter"

    def __init__(
        self,
        blocked_domains: list[str] | None = None,
        blocked_domains_file: list[str] | str | None = None,
        blocked_urls: list[str] | None = None,
        blocked_urls_file: list[str] | str | None = None,
        banned_words: list[str] | None = None,
        banned_words_file: list[str] | str | None = None,
        soft_banned_words: list[str] | None = None,
        soft_banned_words_file: list[str] | str | None = None,
        soft_word_threshold: int = 2,
        banned_subwords: list[str] | None = None,
        banned_subwords_file: list[str] | str | None = None,
    ) -> None:
        self.blocked_domains = blocked_domains
        self.blocked_domains_file = blocked_domains_file
        self.blocked_urls = blocked_urls
        self.blocked_urls_file = blocked_urls_file
        self.banned_words = banned_words
        self.banned_words_file = banned_words_file
        self.soft_banned_words = soft_banned_words
        self.soft_banned_words_file = soft_banned_words_file
        self.soft_word_threshold = soft_word_threshold
        self.banned_subwords = banned_subwords
        self.banned_subwords_file = banned_subwords_file
        self._lists: dict[str, Any] | None = None  # loaded lazily, once per worker

    def _load(self) -> dict[str, Any]:
        if self._lists is None:
            domains = {d.lower().lstrip(".").removeprefix("www.") for d in
                       _read_lists(self.blocked_domains, self.blocked_domains_file)}
            subwords = sorted({_squash(w) for w in _read_lists(self.banned_subwords, self.banned_subwords_file)}
                              - {""}, key=len, reverse=True)
            self._lists = {
                "domains": frozenset(domains),
                "urls": frozenset(_url_key(u) for u in _read_lists(self.blocked_urls, self.blocked_urls_file)),
                "words": frozenset(_squash(w) for w in _read_lists(self.banned_words, self.banned_words_file)),
                "soft": frozenset(_squash(w) for w in
                                  _read_lists(self.soft_banned_words, self.soft_banned_words_file)),
                "subwords": re.compile("|".join(map(re.escape, subwords))) if subwords else None,
            }
        return self._lists

    def prepare_batch(self, table: pa.Table) -> list[Any]:
        self._load()
        return table.column(URL).to_pylist() if URL in table.column_names else [None] * table.num_rows

    def params(self, cfg: LanguageConfig) -> None:
        return None

    def judge(self, text: str, params: None, row: int, batch: list[Any]) -> str | None:
        url = batch[row]
        if not url:
            return None
        lists = self._load()
        if lists["domains"]:
            try:
                host = (urlsplit(url if "//" in url else "//" + url).hostname or "").rstrip(".")
            except ValueError:
                host = ""
            labels = host.split(".")
            for i in range(len(labels)):
                if ".".join(labels[i:]) in lists["domains"]:
                    return "blocked_domain"
        if lists["urls"] and _url_key(url) in lists["urls"]:
            return "blocked_url"
        if lists["words"] or lists["soft"]:
            words = set(_NON_WORD.split(url.lower()))
            if not lists["words"].isdisjoint(words):
                return "banned_word"
            if lists["soft"] and len(lists["soft"] & words) >= self.soft_word_threshold:
                return "soft_banned_words"
        if lists["subwords"] is not None and lists["subwords"].search(_squash(url)):
            return "banned_subword"
        return None
