#!/usr/bin/env python3
"""Build ``curate/samples/quickstart.warc.gz``, the small multilingual crawl of the quickstart.

Every word of the sample was written for this project (see ``scripts/quickstart_texts.json``);
nothing is copied from the web. The output is byte-for-byte reproducible: WARC-Date values come
from a fixed crawl clock, WARC-Record-IDs are UUIDv5 of a fixed namespace and the record's key,
and every record is its own gzip member written by warcio (zlib's gzip header carries no time).

    .venv/bin/python scripts/build_quickstart_sample.py            # (re)build the sample
    .venv/bin/python scripts/build_quickstart_sample.py --check    # fail if the file is stale

Needs ``warcio`` (a dev dependency). The crawl imitates a Common Crawl WARC: a ``warcinfo``
record first, then a ``request`` record before every ``response``, plus one ``revisit`` and one
``metadata`` record, and a few unusual responses (PDF, PNG, empty body, windows-1252 page, a
response without a Content-Type header).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import random
import struct
import sys
import uuid
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "scripts" / "quickstart_texts.json"
OUT = ROOT / "curate" / "samples" / "quickstart.warc.gz"
WARC_FILENAME = "quickstart.warc.gz"

# Fixed inputs of the build: change them and the file changes.
NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-5c7a-9e10-2b4d6f8a0c12")
CRAWL_START = datetime(2024, 11, 3, 4, 12, 7, tzinfo=timezone.utc)
SHUFFLE_SEED = 20241103
USER_AGENT = "curate-quickstart/1.0 (synthetic sample crawl; no real site was fetched)"
SERVERS = ("nginx", "Apache", "cloudflare", "LiteSpeed", "nginx/1.24.0", "Apache/2.4.58 (Debian)")


# --------------------------------------------------------------------------- helpers


def record_id(key: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(NAMESPACE, 'quickstart/' + key)}>"


def warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def stable_int(text: str, modulo: int) -> int:
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:4], "big") % modulo


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in text)
    out = "-".join(part for part in out.split("-") if part)
    return out or "section"


def ip_for(host: str) -> str:
    prefixes = ("192.0.2", "198.51.100", "203.0.113")
    return f"{prefixes[stable_int(host, 3)]}.{10 + stable_int(host + '#', 240)}"


# --------------------------------------------------------------------------- binary payloads


def make_png(width: int = 16, height: int = 16) -> bytes:
    """A tiny RGB gradient PNG (a favicon-sized logo)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows += bytes((40 + 12 * x, 120 + 6 * y, 200 - 8 * x))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(spec: dict) -> bytes:
    """A one-page PDF 1.4 with Helvetica text; xref offsets are computed, so readers accept it."""
    lines = [f"BT /F1 16 Tf 72 780 Td ({pdf_escape(spec['title'])}) Tj ET"]
    y = 750
    for line in spec["lines"]:
        lines.append(f"BT /F1 10 Tf 72 {y} Td ({pdf_escape(line)}) Tj ET")
        y -= 16
    content = ("\n".join(lines) + "\n").encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        (
            f"<< /Title ({pdf_escape(spec['title'])}) /Author ({pdf_escape(spec['author'])}) "
            f"/Producer (curate quickstart builder) /CreationDate ({spec['created']}) >>"
        ).encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --------------------------------------------------------------------------- HTML rendering


def render_blocks(blocks: list) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(f"<p>{escape(block, quote=False)}</p>")
        elif "h2" in block:
            parts.append(f"<h2>{escape(block['h2'], quote=False)}</h2>")
        elif "h3" in block:
            parts.append(f"<h3>{escape(block['h3'], quote=False)}</h3>")
        elif "ul" in block or "ol" in block:
            tag = "ul" if "ul" in block else "ol"
            items = "".join(f"<li>{escape(item, quote=False)}</li>" for item in block[tag])
            parts.append(f"<{tag}>{items}</{tag}>")
        elif "links" in block:
            items = "".join(
                f'<li><a href="{escape(href)}">{escape(text, quote=False)}</a></li>'
                for text, href in block["links"]
            )
            parts.append(f'<ul class="link-list">{items}</ul>')
        elif "quote" in block:
            parts.append(f"<blockquote><p>{escape(block['quote'], quote=False)}</p></blockquote>")
        else:
            raise ValueError(f"unknown block {block!r}")
    return "\n".join(parts)


def page_description(page: dict) -> str:
    if page.get("description"):
        return page["description"]
    if page.get("lead"):
        return page["lead"]
    for block in page.get("body", []):
        if isinstance(block, str):
            return block[:160]
    return page["title"]


def render_main(page: dict, c: dict) -> str:
    """The article element: the only part of the page a main-content extractor should keep."""
    kind = page["kind"]
    e = lambda s: escape(s, quote=False)  # noqa: E731
    out = [f"<h1>{e(page['title'])}</h1>"]
    if kind == "listing":  # archive, tag and directory pages: no byline, just whatever the list holds
        out.append(render_blocks(page["body"]))
        return "\n".join(out)
    if kind == "forum":
        out.append(f'<p class="thread-meta">{e(page.get("board", ""))}</p>')
        for n, post in enumerate(page["posts"], start=1):
            texts = post["text"] if isinstance(post["text"], list) else [post["text"]]
            count = 3 + stable_int(post["user"], 900)
            year = 2012 + stable_int(post["user"] + "y", 12)
            body = "\n".join(f"<p>{e(t)}</p>" for t in texts)
            out.append(
                f'<div class="post" id="post-{n}">\n'
                f'<div class="post-author"><strong>{e(post["user"])}</strong> '
                f'<span class="joined">{e(c["joined"])}: {year}</span> '
                f'<span class="count">{e(c["posts_label"])}: {count}</span></div>\n'
                f'<div class="post-body"><time datetime="{post["date"]}">{post["date"]}</time>\n{body}</div>\n'
                f'<div class="post-actions"><a href="#reply">{e(c["reply"])}</a> '
                f'<a href="#quote-{n}">{e(c["quote"])}</a></div>\n</div>'
            )
        return "\n".join(out)
    out.append(
        f'<p class="byline">{e(c["by"])} <span class="author">{e(page["author"])}</span> &middot; '
        f'{e(c["published"])} <time datetime="{page["date"]}">{page["date"]}</time></p>'
    )
    if kind == "product":
        out.append(
            f'<div class="buybox"><p class="price">{e(c["price"])}: <strong>{e(page["price"])}</strong></p>'
            f'<p class="stock">{e(c["in_stock"])}</p>'
            f'<button class="add-to-cart" type="button">{e(c["add_to_cart"])}</button></div>'
        )
    if page.get("lead"):
        out.append(f'<p class="lead"><strong>{e(page["lead"])}</strong></p>')
    out.append(render_blocks(page["body"]))
    if kind == "product":
        rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in page["specs"])
        out.append(f'<h2>{e(c["specs"])}</h2>\n<table class="specs">{rows}</table>')
        out.append(f"<h2>{e(c['reviews'])}</h2>")
        for review in page.get("reviews", []):
            stars = "&#9733;" * review["rating"] + "&#9734;" * (5 - review["rating"])
            out.append(
                f'<div class="review"><p class="review-head"><strong>{e(review["user"])}</strong> '
                f'<span class="stars">{stars}</span></p><p>{e(review["text"])}</p></div>'
            )
    return "\n".join(out)


def render_page(page: dict, chrome: dict, url: str) -> str:
    c = chrome[page["lang"]]
    e = lambda s: escape(s, quote=False)  # noqa: E731
    a = lambda s: escape(s, quote=True)  # noqa: E731
    site = page["site"]
    layout = page.get("layout", "a")
    charset = page.get("encoding", "utf-8")
    asset = hashlib.sha1(page["site"].encode("utf-8")).hexdigest()[:8]
    nav = "".join(f'<li><a href="/{slug(item)}/">{e(item)}</a></li>' for item in page["nav"])
    related = "".join(
        f'<li><a href="/{slug(page["section"])}/{n}-{stable_int(title, 99999)}">{e(title)}</a></li>'
        for n, title in enumerate(page.get("related", []), start=1)
    )
    footer_links = " ".join(f'<a href="/{slug(link)}">{e(link)}</a>' for link in c["footer_links"])
    if charset.lower() == "utf-8":
        meta_charset = '<meta charset="utf-8">'
    else:
        meta_charset = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    head = f"""<!DOCTYPE html>
<html lang="{page["lang_tag"]}" dir="{c["dir"]}">
<head>
{meta_charset}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(page["title"])} | {e(site)}</title>
<meta name="description" content="{a(page_description(page))}">
<meta property="og:title" content="{a(page["title"])}">
<meta property="og:site_name" content="{a(site)}">
<meta property="og:type" content="{"product" if page["kind"] == "product" else "article"}">
<meta property="og:url" content="{a(url)}">
<link rel="canonical" href="{a(page.get("canonical", url))}">
<link rel="icon" href="/favicon.png">
<link rel="stylesheet" href="/assets/css/main.{asset}.css">
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag('js',new Date());gtag('config','G-{asset.upper()}');</script>
</head>"""
    cookie = f"""<div id="cookie-consent" class="cookie-banner" role="dialog" aria-live="polite">
<p>{e(c["cookie_text"])}</p>
<button type="button" class="btn btn-primary" data-consent="all">{e(c["cookie_accept"])}</button>
<button type="button" class="btn" data-consent="necessary">{e(c["cookie_reject"])}</button>
<a href="/privacy#cookies">{e(c["cookie_settings"])}</a>
</div>"""
    main = render_main(page, c)
    newsletter = f"""<div class="newsletter">
<h3>{e(c["newsletter_title"])}</h3>
<p>{e(c["newsletter_text"])}</p>
<form action="/newsletter" method="post"><input type="email" name="email" placeholder="{a(c["email_placeholder"])}"><button type="submit">{e(c["newsletter_button"])}</button></form>
</div>"""
    share = (
        f'<div class="share"><span>{e(c["share"])}:</span> <a href="#share-facebook">Facebook</a> '
        f'<a href="#share-x">X</a> <a href="#share-whatsapp">WhatsApp</a> <a href="#share-mail">E-mail</a></div>'
    )
    if layout == "a":
        body = f"""<body class="kind-{page["kind"]}">
<a class="skip-link" href="#content">{e(c["skip"])}</a>
{cookie}
<header class="site-header">
<div class="container">
<a class="logo" href="/">{e(site)}</a>
<nav class="main-nav" aria-label="{a(c["menu"])}"><ul><li><a href="/">{e(c["home"])}</a></li>{nav}</ul></nav>
<form class="search" action="/search" role="search"><input type="search" name="q" placeholder="{a(c["search"])}"><button type="submit">{e(c["search"])}</button></form>
</div>
</header>
<main id="content" class="container">
<nav class="breadcrumb"><a href="/">{e(c["home"])}</a> &rsaquo; <a href="/{slug(page["section"])}/">{e(page["section"])}</a></nav>
<article class="entry">
{main}
{share}
</article>
<aside class="sidebar">
<h2>{e(c["related"])}</h2>
<ul class="related">{related}</ul>
{newsletter}
</aside>
</main>
<footer class="site-footer">
<div class="container">
<p class="tagline">{e(page["tagline"])}</p>
<p class="footer-links">{footer_links}</p>
<p class="copyright">&copy; 2024 {e(site)}. {e(c["rights"])}</p>
<a class="to-top" href="#content">{e(c["back_to_top"])}</a>
</div>
</footer>
<script src="/assets/js/app.{asset}.js" defer></script>
</body>
</html>
"""
    else:
        body = f"""<body>
<div id="page" class="site layout-b">
<div class="topbar"><a href="/account/login">{e(c["login"])}</a> | <a href="/{slug(c["footer_links"][1])}">{e(c["footer_links"][1])}</a></div>
<div class="masthead"><div class="brand"><a href="/"><img src="/favicon.png" alt="" width="16" height="16"> {e(site)}</a><span class="claim">{e(page["tagline"])}</span></div>
<div class="menu-toggle">{e(c["menu"])}</div>
<ul class="menu"><li><a href="/">{e(c["home"])}</a></li>{nav}</ul></div>
<div class="columns">
<div class="col-main" role="main">
<div class="post-wrap">
{main}
</div>
{share}
</div>
<div class="col-side">
<div class="widget"><h4>{e(c["related"])}</h4><ul>{related}</ul></div>
<div class="widget">{newsletter}</div>
<div class="widget"><h4>{e(c["follow"])}</h4><a href="#facebook">Facebook</a> <a href="#instagram">Instagram</a> <a href="#youtube">YouTube</a></div>
</div>
</div>
<div class="footer-widgets"><p>{footer_links}</p></div>
<div class="site-info">&copy; 2024 {e(site)} &middot; {e(c["rights"])}</div>
</div>
{cookie}
<script src="/wp-includes/js/jquery.min.js?ver=3.7.1"></script>
</body>
</html>
"""
    return head + "\n" + body


# --------------------------------------------------------------------------- the crawl


def apply_edits(page: dict, edits: list) -> dict:
    """A near duplicate: the same article with a handful of words changed."""
    text = json.dumps(page, ensure_ascii=False)
    for old, new in edits:
        old_json, new_json = (
            json.dumps(old, ensure_ascii=False)[1:-1],
            json.dumps(new, ensure_ascii=False)[1:-1],
        )
        if old_json not in text:
            raise ValueError(f"near-duplicate edit {old!r} not found in {page['id']}")
        text = text.replace(old_json, new_json, 1)
    return json.loads(text)


def lang_tag(lang: str) -> str:
    return {"zh": "zh-Hans", "pt": "pt-BR", "sw": "sw", "mi": "mi"}.get(lang, lang)


def build_fetches(data: dict) -> list[dict]:
    """Every HTTP fetch of the crawl, in crawl order (a fixed shuffle, like a CC segment)."""
    chrome = data["chrome"]
    by_id = {}
    fetches = []

    def html_fetch(page: dict, url: str, key: str, role: str) -> dict:
        page = dict(page, lang_tag=lang_tag(page["lang"]))
        charset = page.get("encoding", "utf-8")
        body = render_page(page, chrome, url).encode(charset)
        ctype = (
            None
            if page.get("no_content_type")
            else f"text/html; charset={'UTF-8' if charset == 'utf-8' else charset}"
        )
        return {
            "key": key,
            "url": url,
            "lang": page["lang"],
            "role": role,
            "body": body,
            "ctype": ctype,
            "ident": "text/html",
            "page": page,
        }

    for page in data["pages"]:
        by_id[page["id"]] = page
        fetches.append(html_fetch(page, page["url"], page["id"], "page"))

    for dup in data["near_duplicates"]:
        base = apply_edits(by_id[dup["of"]], dup.get("replace", []))
        page = dict(base, **{k: v for k, v in dup.items() if k not in ("of", "replace")})
        page.pop("canonical", None)
        fetches.append(html_fetch(page, page["url"], dup["id"], "near_duplicate"))

    first = {f["key"]: f for f in fetches}
    for n, dup in enumerate(data["exact_duplicates"], start=1):
        original = first[dup["of"]]
        # same bytes at another URL (a tracking parameter, an AMP mirror): canonical still points home
        fetches.append(dict(original, key=f"exact-dup-{n}", url=dup["url"], role="exact_duplicate"))

    for page in data["low_quality"]:
        page = dict(page)
        page.setdefault("lead", "")
        fetches.append(html_fetch(page, page["url"], page["id"], "low_quality"))

    special = data["special"]
    pdf = special["pdf"]
    fetches.append(
        {
            "key": "pdf",
            "url": pdf["url"],
            "lang": "en",
            "role": "pdf",
            "body": make_pdf(pdf),
            "ctype": "application/pdf",
            "ident": "application/pdf",
        }
    )
    fetches.append(
        {
            "key": "png",
            "url": special["png_url"],
            "lang": "",
            "role": "png",
            "body": make_png(),
            "ctype": "image/png",
            "ident": "image/png",
        }
    )
    fetches.append(
        {
            "key": "empty",
            "url": special["empty_url"],
            "lang": "",
            "role": "empty",
            "body": b"",
            "ctype": "text/html; charset=UTF-8",
            "ident": None,
        }
    )

    random.Random(SHUFFLE_SEED).shuffle(fetches)
    return fetches


def write_crawl(data: dict, out: io.BufferedIOBase) -> Counter:
    writer = WARCWriter(out, gzip=True, warc_version="1.0")
    counts: Counter = Counter()
    clock = CRAWL_START

    def emit(
        rtype: str,
        key: str,
        uri: str,
        moment: datetime,
        headers: list,
        payload: bytes = b"",
        http: StatusAndHeaders | None = None,
        content_type: str | None = None,
    ) -> None:
        warc_headers = [
            ("WARC-Type", rtype),
            ("WARC-Date", warc_date(moment)),
            ("WARC-Record-ID", record_id(key)),
            ("Content-Length", "0"),
        ]
        if content_type:
            warc_headers.append(("Content-Type", content_type))
        warc_headers += headers
        record = writer.create_warc_record(
            uri,
            rtype,
            payload=io.BytesIO(payload),
            length=len(payload),
            warc_headers_dict=dict(warc_headers),
            http_headers=http,
            warc_content_type=content_type or "",
        )
        writer.write_record(record)
        counts[rtype] += 1

    info_id = record_id("warcinfo")
    info = "".join(f"{k}: {v}\r\n" for k, v in data["warcinfo"].items()).encode("utf-8")
    emit(
        "warcinfo",
        "warcinfo",
        "",
        clock,
        [("WARC-Filename", WARC_FILENAME)],
        info,
        content_type="application/warc-fields",
    )

    fetches = build_fetches(data)
    revisit_of = data["special"]["revisit_of"]
    metadata_for = data["special"]["metadata_for"]
    response_dates: dict[str, tuple[str, datetime, bytes]] = {}

    def fetch(item: dict, moment: datetime) -> None:
        url = item["url"]
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lang = item.get("lang") or "en"
        req = StatusAndHeaders(
            f"GET {path or '/'} HTTP/1.1",
            [
                ("User-Agent", USER_AGENT),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", "en-US,en;q=0.5" if lang == "en" else f"{lang},en;q=0.5"),
                ("Accept-Encoding", "br,gzip"),
                ("Host", parts.netloc),
                ("Connection", "Keep-Alive"),
            ],
            is_http_request=True,
        )
        req_id, resp_id = record_id(item["key"] + "/request"), record_id(item["key"] + "/response")
        ip = ip_for(parts.netloc)
        emit(
            "request",
            item["key"] + "/request",
            url,
            moment,
            [("WARC-Warcinfo-ID", info_id), ("WARC-IP-Address", ip), ("WARC-Target-URI", url)],
            http=req,
            content_type="application/http; msgtype=request",
        )
        server = SERVERS[stable_int(parts.netloc, len(SERVERS))]
        http_headers = [("Date", http_date(moment)), ("Server", server)]
        if item["ctype"]:
            http_headers.append(("Content-Type", item["ctype"]))
        http_headers.append(("Content-Length", str(len(item["body"]))))
        page_date = item.get("page", {}).get("date")
        if page_date:
            modified = datetime.fromisoformat(page_date).replace(hour=9, tzinfo=timezone.utc)
            http_headers.append(("Last-Modified", http_date(modified)))
        http_headers += [("Cache-Control", "max-age=600"), ("Vary", "Accept-Encoding")]
        if stable_int(url, 3) == 0 and item["body"] and item["ident"] == "text/html":
            # CC keeps the decoded payload and renames the encoding header, as here
            http_headers.append(("X-Crawler-Content-Encoding", "gzip"))
        if stable_int(url + "c", 4) == 0:
            http_headers.append(
                ("Set-Cookie", f"sid={hashlib.sha1(url.encode()).hexdigest()[:20]}; Path=/; HttpOnly")
            )
        http_headers.append(("Connection", "close"))
        resp = StatusAndHeaders("200 OK", http_headers, protocol="HTTP/1.1")
        extra = [
            ("WARC-Warcinfo-ID", info_id),
            ("WARC-Concurrent-To", req_id),
            ("WARC-IP-Address", ip),
            ("WARC-Target-URI", url),
        ]
        if item["ident"]:
            extra.append(("WARC-Identified-Payload-Type", item["ident"]))
        emit(
            "response",
            item["key"] + "/response",
            url,
            moment,
            extra,
            item["body"],
            http=resp,
            content_type="application/http; msgtype=response",
        )
        response_dates[item["key"]] = (resp_id, moment, item["body"])
        if item["key"] == metadata_for:
            fields = data["special"]["metadata_fields"]
            meta = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
            emit(
                "metadata",
                item["key"] + "/metadata",
                url,
                moment,
                [("WARC-Warcinfo-ID", info_id), ("WARC-Concurrent-To", resp_id), ("WARC-Target-URI", url)],
                meta,
                content_type="application/warc-fields",
            )

    for n, item in enumerate(fetches):
        clock = CRAWL_START + timedelta(seconds=11 + 23 * n + stable_int(item["key"], 17))
        fetch(item, clock)

    # a later re-fetch of an unchanged page: recorded as a revisit (identical payload digest)
    original = next(f for f in fetches if f["key"] == revisit_of)
    orig_id, orig_moment, orig_body = response_dates[revisit_of]
    moment = clock + timedelta(minutes=47)
    url = original["url"]
    parts = urlsplit(url)
    req = StatusAndHeaders(
        f"GET {parts.path} HTTP/1.1",
        [
            ("User-Agent", USER_AGENT),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("Accept-Language", "en-US,en;q=0.5"),
            ("Accept-Encoding", "br,gzip"),
            ("Host", parts.netloc),
            ("Connection", "Keep-Alive"),
        ],
        is_http_request=True,
    )
    emit(
        "request",
        "revisit/request",
        url,
        moment,
        [("WARC-Warcinfo-ID", info_id), ("WARC-IP-Address", ip_for(parts.netloc)), ("WARC-Target-URI", url)],
        http=req,
        content_type="application/http; msgtype=request",
    )
    http = StatusAndHeaders(
        "200 OK",
        [
            ("Date", http_date(moment)),
            ("Server", SERVERS[stable_int(parts.netloc, len(SERVERS))]),
            ("Content-Type", original["ctype"]),
            ("Content-Length", str(len(orig_body))),
            ("Connection", "close"),
        ],
        protocol="HTTP/1.1",
    )
    emit(
        "revisit",
        "revisit",
        url,
        moment,
        [
            ("WARC-Warcinfo-ID", info_id),
            ("WARC-Concurrent-To", record_id("revisit/request")),
            ("WARC-IP-Address", ip_for(parts.netloc)),
            ("WARC-Target-URI", url),
            ("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),
            ("WARC-Refers-To", orig_id),
            ("WARC-Refers-To-Target-URI", url),
            ("WARC-Refers-To-Date", warc_date(orig_moment)),
            ("WARC-Payload-Digest", sha1_b32(orig_body)),
        ],
        b"",
        http=http,
        content_type="application/http; msgtype=response",
    )
    return counts


def build() -> bytes:
    data = json.loads(TEXTS.read_text(encoding="utf-8"))
    buffer = io.BytesIO()
    write_crawl(data, buffer)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed sample is not what the build gives"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    payload = build()
    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        if current == payload:
            print(f"{args.out} is up to date ({len(payload)} bytes)")
            return 0
        # another zlib build may compress differently; the records themselves are what must match
        if current and gzip.decompress(current) == gzip.decompress(payload):
            print(f"{args.out} has the same records (this zlib compresses them to other bytes)")
            return 0
        print(f"{args.out} is stale: rebuild with scripts/build_quickstart_sample.py", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(payload)
    print(f"wrote {args.out} ({len(payload)} bytes, sha256 {hashlib.sha256(payload).hexdigest()[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
