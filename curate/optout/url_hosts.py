"""Hosts and registered domains of URLs, column at a time.

The host is the URL's authority without user info and port, lower-cased (one Arrow regex over the column).
The registered domain (``news.bbc.co.uk`` -> ``bbc.co.uk``) follows the Public Suffix List as bundled with
``tldextract`` (its snapshot, read offline: ``suffix_list_urls=()``, and ``cache_dir=None``, so nothing is
fetched or written). The list's private section is included, so ``alice.blogspot.com`` and
``bob.github.io`` are domains of their own (their owners differ), as the PSL intends. IP addresses and names
without a public suffix are their own domain.
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
import tldextract

_HOST = r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?(?P<host>\[[^\]/?#]*\]|[^:/?#]*)"


def url_hosts(urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The lower-case host of each URL (null for a missing or host-less URL), trailing dot removed."""
    if isinstance(urls, pa.ChunkedArray):
        urls = urls.combine_chunks() if urls.num_chunks else pa.array([], pa.string())
    if len(urls) == 0:
        return pa.array([], pa.string())
    found = pc.struct_field(pc.extract_regex(urls.cast(pa.string()), _HOST), "host")
    hosts = pc.utf8_rtrim(pc.utf8_lower(found), characters=".")
    return pc.if_else(pc.equal(hosts, ""), pa.scalar(None, pa.string()), hosts)


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True,
                                 include_psl_private_domains=True)


@lru_cache(maxsize=200_000)
def registered_domain(host: str) -> str:
    """``news.bbc.co.uk`` -> ``bbc.co.uk``; a host without a public suffix (an IP, ``localhost``) is itself."""
    parts = _extractor().extract_str(host)
    return parts.top_domain_under_public_suffix or host


def registered_domains(hosts: pa.Array) -> pa.Array:
    """:func:`registered_domain` of each host (null stays null); one look-up per distinct host of the batch."""
    if len(hosts) == 0:
        return pa.array([], pa.string())
    encoded = pc.dictionary_encode(hosts)
    domains = pa.array([None if h is None else registered_domain(h) for h in encoded.dictionary.to_pylist()],
                       pa.string())
    return pc.take(domains, encoded.indices)
