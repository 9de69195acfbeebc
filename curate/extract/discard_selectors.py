"""Boilerplate containers by class, id and style: trafilatura's discard rules, written as one CSS selector.

Trafilatura (Barbaresi, ACL 2021 demo; ``trafilatura/xpaths.py``, version 2.x) removes, inside the content it has
found, the ``div``/``section``/``span``/``p`` and list elements whose id or class names sharing, navigation,
newsletters, related stories, teasers, comments, footers, bylines and other page furniture
(``OVERALL_DISCARD_XPATH``, ``TEASER_DISCARD_XPATH``, ``DISCARD_IMAGE_ELEMENTS``), the hidden ones, and with
``favor_precision`` (FineWeb's setting) also ``header`` elements and "bottom"/"link" containers
(``PRECISION_DISCARD_XPATH``). The same vocabulary is written here as a CSS selector for resiliparse's
``skip_elements`` (lexbor's selector engine, C++), so it costs a fraction of a millisecond per page instead of an
lxml parse and XPath pass. Regular-expression tests become substring (``*=``), prefix (``^=``) or word (``~=``)
matches, case-insensitive. Nothing here was chosen on curate's gold pages.

``GUARD``: an element that holds three sibling paragraphs is a content wrapper whatever its class says, and is
kept. When the list still removes most of a page's main content (a wrapper named e.g. ``post-meta``), the
``balanced`` engine renders the page without it (:mod:`balanced_engine`).
"""

from __future__ import annotations

_TAGS = "div,section,span,p,ul,ol,li"
_ID_CONTAINS = (
    "social", "viral", "newsletter", "syndication", "tags", "sidebar", "banner", "breadcrumb", "bread-crumb",
    "button", "author", "footer", "share", "nav", "menu", "related", "message-container", "premium", "cookie",
    "teaser", "reader-comments", "akismet",
)
_ID_STARTS = ("shar", "ad-", "jp-", "dpsp-content", "reply-", "bottom")
_CLASS_CONTAINS = (
    "social", "viral", "newsletter", "syndication", "tags", "sidebar", "banner", "breadcrumb", "bread-crumb",
    "button", "author", "subnav", "avigation", "navbar", "navbox", "menu", "bar", "-ad-", "dfpad", "outbrain",
    "taboola", "criteo", "paid-content", "paidcontent", "widget", "footer", "byline", "share-", "sociable",
    "embedded", "embed", "tag-list", "consent", "modal-content", "permission", "elated", "next-", "-stories",
    "most-popular", "more-on", "meta", "rating", "attachment", "timestamp", "user-info", "user-profile", "-icon",
    "article-infos", "message-container", "slide", "viewport", "overlay", "options", "expand", "obfuscated",
    "blurred", "factbox", "cookie", "teaser", "caption", "comments-title", "nocomments", "-reply-", "akismet",
    "suggest-links", "-hide-", "hide-print", "noprint", "notloaded",
)
_CLASS_STARTS = ("shar", "nav", "post-nav", "ad-", "hide-", "reply-", "bottom")
_CLASS_WORDS = ("ad", "hidden", "hide", "link")
_OTHER = ("[aria-hidden=true]", "[style*='display:none']", "[style*='display: none']", "[style*=border i]",
          "[role*=nav i]", "[id=link i]")

GUARD = ":not(:has(p ~ p ~ p))"


def _attributes() -> list[str]:
    return ([f"[id*={t!r} i]" for t in _ID_CONTAINS] + [f"[id^={t!r} i]" for t in _ID_STARTS]
            + [f"[class*={t!r} i]" for t in _CLASS_CONTAINS] + [f"[class^={t!r} i]" for t in _CLASS_STARTS]
            + [f"[class~={t!r} i]" for t in _CLASS_WORDS] + list(_OTHER))


DISCARD: tuple[str, ...] = (
    f":is({_TAGS}):is({','.join(_attributes())}){GUARD}",
    f"header{GUARD}",
)
