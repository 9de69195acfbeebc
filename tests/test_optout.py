"""Opt-outs (issue 27): the robots.txt table, the ``optout`` step and the page-level signals, on real data.

- the table built from the 4,231 real robots.txt files of ../shared/data/robots agrees with protego (the
  reference parser, run here on each file) for CCBot and for an agent only ``*`` groups cover, at the site
  root and at paths taken from each file's own rules; BOM, HTML-served and the 1.4 MB file are handled;
- a WARC of robots.txt captures written here (warcio) for hosts of the shared WARCs: the step removes exactly
  the documents of the hosts whose newest capture disallows an ``ai`` agent (redirects, 404, 503, an older
  capture overruled by a newer one, BOM + CRLF, HTML and binary captures);
- ``noai`` / ``X-Robots-Tag`` / TDM signals planted in real pages are read by the reader and honoured.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from archive_builders import real_pages
from pipeline_helpers import run_cli, write_pipeline
from protego import Protego
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from curate import run
from curate.blocks.base import BlockContext
from curate.cli import optout_build
from curate.cli.optout_command import build_table
from curate.config.pipeline_config import load_pipeline
from curate.executors.local import LocalExecutor
from curate.io.page_signals import page_signals
from curate.io.read_counts import ReadCounts
from curate.io.warc_reader import WarcReader
from curate.optout.agent_lists import packaged_lists, resolve_agents
from curate.optout.host_partition import host_partitions
from curate.optout.optout_block import OptOut
from curate.optout.robots_rules import RobotsRules
from curate.optout.robots_table import CaptureParser

STAR_ONLY = "NoSuchCrawlerXyz"  # named by none of the 4,231 files (checked below): only `*` groups cover it
AGENTS = ("CCBot", STAR_ONLY)


def _decode(raw: bytes) -> str:
    """The test's own reading of a robots.txt file: UTF-8 (RFC 9309), unless a byte-order mark says UTF-16."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            return raw[len(bom):].decode(codec, "replace")
    return raw.decode("utf-8", "replace")


def _host(name: str) -> str:
    host, _, port = name.rpartition("_")
    return host if host and port.isdigit() else name


@pytest.fixture(scope="module")
def real_robots(tmp_path_factory, shared_data: Path):
    folder = shared_data / "robots" / "protego_test_data"
    out = tmp_path_factory.mktemp("robots") / "optout.parquet"
    summary = build_table([str(folder)], ",".join(AGENTS), str(out), workers=2)
    files = {_host(p.name): p.read_bytes() for p in sorted(folder.iterdir())}
    parsers = {host: Protego.parse(_decode(raw)) for host, raw in files.items()}  # the reference answers
    return files, pq.read_table(out), out, summary, parsers


def test_table_agrees_with_protego_at_the_root_of_4231_real_files(real_robots) -> None:
    files, table, _, summary, parsers = real_robots
    assert len(files) == 4231 and table.num_rows == 4231 and summary["hosts"] == 4231
    assert not any(STAR_ONLY.lower().encode() in raw.lower() for raw in files.values())
    rows = {r["host"]: r for r in table.to_pylist()}
    disagree = []
    for host, raw in files.items():
        parser = parsers[host]
        for verdict in rows[host]["verdicts"]:
            expected = parser.can_fetch(f"https://{host}/", verdict["agent"])
            if verdict["allowed"] != expected:
                disagree.append((host, verdict["agent"]))
            if not verdict["allowed"]:  # a disallowed root always names the line that did it
                assert verdict["rule"], (host, verdict)
                if verdict["group"] is not None:
                    pattern = verdict["rule"].split(": ", 1)[1]
                    assert pattern in _decode(raw), (host, verdict)
            if verdict["agent"] == STAR_ONLY:
                assert verdict["group"] in ("*", None), (host, verdict)
        assert rows[host]["disallowed"] == [v["agent"] for v in rows[host]["verdicts"] if not v["allowed"]]
    assert disagree == []
    # a few files name CCBot; its group is theirs, everyone else's is `*`
    named = {h for h, raw in files.items() if re.search(rb"(?im)^\s*user-?agent\s*:\s*ccbot\s*(#.*)?$", raw)}
    assert len(named) >= 30
    ccbot = {h for h, r in rows.items() if r["verdicts"][0]["group"] == "ccbot"}
    assert named <= ccbot
    disallowed = sum(1 for r in rows.values() if not r["verdicts"][1]["allowed"])
    assert 40 <= disallowed <= 200  # the `*` groups that disallow the root (55 of these files)


def _paths(text: str) -> list[str]:
    """The site root, a page no rule names, and up to three paths from the file's own rules."""
    found = []
    for value in re.findall(r"(?im)^\s*(?:dis)?allow\s*:\s*(/\S*)", text)[:3]:
        found.append(value.replace("*", "x").rstrip("$") or "/")
    return ["/", "/some/page.html", *found]


def test_path_scope_step_agrees_with_protego_on_paths_from_each_files_rules(real_robots) -> None:
    files, _, path, _, parsers = real_robots
    urls, expected = [], {a: [] for a in AGENTS}
    for host, raw in files.items():
        parser = parsers[host]
        for p in _paths(_decode(raw)):
            url = f"https://{host}{p}"
            urls.append(url)
            for agent in AGENTS:
                expected[agent].append(not parser.can_fetch(url, agent))
    batch = pa.table({"url": pa.array(urls, pa.string())})
    for agent in AGENTS:
        keep, reasons = OptOut(table=str(path), agents=[agent], scope="path", page_signals=False).filter(
            batch, BlockContext())
        removed = [not k for k in keep.tolist()]
        wrong = [u for u, r, e in zip(urls, removed, expected[agent], strict=True) if r != e]
        assert wrong == [], (agent, wrong[:5])
        assert sum(removed) > 100  # the rules do bite
        assert {r for r in reasons if r} == {f"robots:{agent}"}
    # host scope: a whole host when its root is disallowed
    keep, _ = OptOut(table=str(path), agents=[STAR_ONLY], page_signals=False).filter(batch, BlockContext())
    roots = {u.split("/")[2] for u, e in zip(urls, expected[STAR_ONLY], strict=True) if e and u.endswith("/")
             and u.count("/") == 3}
    assert {u.split("/")[2] for u, k in zip(urls, keep.tolist(), strict=True) if not k} == roots


def test_bom_html_and_the_largest_file_are_read_not_refused(real_robots) -> None:
    files, table, _, _, _ = real_robots
    rows = {r["host"]: r for r in table.to_pylist()}
    boms = [h for h, raw in files.items() if raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE))]
    assert len(boms) >= 60
    assert all(rows[h]["status"] != "unparsable" for h in boms)  # some are HTML pages with a BOM: "html"
    assert sum(rows[h]["status"] == "ok" for h in boms) >= 40
    # a UTF-16 file (store.usps.com) is read as text: its `*` group applies
    assert rows["store.usps.com"]["verdicts"][1]["group"] == "*"
    html = [h for h, raw in files.items() if _decode(raw).lstrip()[:15].lower().startswith(("<!doctype", "<html"))]
    assert len(html) >= 120
    assert all(rows[h]["status"] == "html" and rows[h]["disallowed"] == [] for h in html)
    biggest = max(files, key=lambda h: len(files[h]))
    assert biggest == "www.hermes.com" and len(files[biggest]) > 1_300_000
    assert rows[biggest]["status"] == "html" and rows[biggest]["bytes"] == len(files[biggest])
    statuses = {r["status"] for r in rows.values()}
    assert statuses <= {"ok", "no_rules", "empty", "html", "unparsable"}
    assert rows["www.pch.com"]["status"] == "unparsable"  # an icon file served as robots.txt: allowed (RFC)
    assert rows["www.pch.com"]["disallowed"] == []


# --- a WARC of robots.txt captures for hosts of the shared WARCs --------------------------------------------

INPUTS = ("wget-crawl-sample-0000.warc.gz", "wget-crawl-sample-0001.warc.gz", "ia-2008-crawl-example.warc.gz")
# host -> captures (url, HTTP status, body, date, extra headers); what the newest says decides
CAPTURES: dict[str, list[tuple[str, str, bytes, str, list[tuple[str, str]]]]] = {
    "www.archive.org": [("http://www.archive.org/robots.txt", "200 OK",
                         b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n", "2025-01-01", [])],
    "maria-antoniak.github.io": [
        ("https://maria-antoniak.github.io/robots.txt", "200 OK", b"User-agent: *\nAllow: /\n", "2020-01-01", []),
        ("https://maria-antoniak.github.io/robots.txt", "200 OK", b"User-agent: *\nDisallow: /\n", "2025-01-01", [])],
    "kyleclo.com": [
        ("http://kyleclo.com/robots.txt", "200 OK", b"User-agent: *\nDisallow: /\n", "2020-01-01", []),
        ("http://kyleclo.com/robots.txt", "200 OK", b"# open again\nUser-agent: *\nDisallow:\n", "2025-01-01", [])],
    "soldaini.net": [("http://soldaini.net/robots.txt", "301 Moved Permanently", b"", "2025-01-01",
                      [("Location", "https://www.soldaini.net/robots.txt")]),
                     ("https://www.soldaini.net/robots.txt", "200 OK", b"User-agent: CCBot\nDisallow: /\n",
                      "2025-01-01", [])],
    "commoncrawl.org": [("https://commoncrawl.org/robots.txt", "404 Not Found", b"not here", "2025-01-01", [])],
    "creativecommons.org": [("https://creativecommons.org/robots.txt", "503 Service Unavailable", b"", "2025-01-01",
                             [])],
    "allenai.org": [
        ("https://allenai.org/robots.txt", "200 OK", b"User-agent: Google-Extended\nDisallow: /\n", "2024-01-01",
         []),
        ("https://allenai.org/robots.txt", "503 Service Unavailable", b"", "2025-01-01", [])],
    "prior.allenai.org": [("https://prior.allenai.org/robots.txt", "200 OK",
                           b"\xef\xbb\xbf<!DOCTYPE html><html><body>User-agent: * Disallow: /</body></html>",
                           "2025-01-01", [])],
    "tomhoper.github.io": [("https://tomhoper.github.io/robots.txt", "200 OK", bytes(range(256)) * 4,
                            "2025-01-01", [])],
    "www.hideout.com.br": [("http://www.hideout.com.br/robots.txt", "200 OK",
                            b"\xef\xbb\xbfUser-agent: ClaudeBot\r\nDisallow: /\r\n", "2025-01-01", [])],
    "joe.cat": [("https://joe.cat/robots.txt", "200 OK", b"User-agent: ChatGPT-User\nDisallow: /\n", "2025-01-01",
                 [])],  # a user-initiated fetcher: not in the `ai` list, kept
}
FIRST = resolve_agents("ai")[0]  # the reason names the first agent of the list a `*` group disallows
EXPECTED = {"www.archive.org": "GPTBot", "maria-antoniak.github.io": FIRST, "soldaini.net": "CCBot",
            "creativecommons.org": FIRST, "allenai.org": "Google-Extended", "www.hideout.com.br": "ClaudeBot"}


def _robots_warc(path: Path, captures: dict = CAPTURES) -> Path:
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for entries in captures.values():
            for url, status, body, date, headers in entries:
                http = StatusAndHeaders(status, [("Content-Type", "text/plain"), *headers], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=http,
                    warc_headers_dict={"WARC-Date": f"{date}T00:00:00Z"}))
    return path


@pytest.fixture(scope="module")
def warc_table(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("warc_table")
    out = tmp / "optout.parquet"
    result = run_cli("optout", "build", str(_robots_warc(tmp / "robots.warc.gz")), "--agents", "ai", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "hosts disallowing the site root" in result.stdout
    return tmp, out


def test_table_from_a_warc_follows_dates_redirects_and_statuses(warc_table) -> None:
    _, out = warc_table
    rows = {r["host"]: r for r in pq.read_table(out).to_pylist()}
    meta = json.loads(pq.read_schema(out).metadata[b"curate.optout"])
    assert meta["agents"] == resolve_agents("ai") and meta["agent_list_version"] == packaged_lists()["version"]
    status = {h: r["status"] for h, r in rows.items()}
    assert status["commoncrawl.org"] == "not_found" and status["creativecommons.org"] == "unreachable"
    assert status["prior.allenai.org"] == "html" and status["tomhoper.github.io"] == "unparsable"
    assert rows["allenai.org"]["date"].startswith("2024")  # the 503 of 2025 falls back to the answer of 2024
    assert rows["allenai.org"]["captures"] == 2
    assert rows["soldaini.net"]["redirected_to"] == "https://www.soldaini.net/robots.txt"
    assert rows["www.archive.org"]["disallowed"] == ["GPTBot"]
    gpt = next(v for v in rows["www.archive.org"]["verdicts"] if v["agent"] == "GPTBot")
    assert gpt == {"agent": "GPTBot", "allowed": False, "group": "gptbot", "rule": "Disallow: /"}
    hideout = next(v for v in rows["www.hideout.com.br"]["verdicts"] if v["agent"] == "ClaudeBot")
    assert hideout["allowed"] is False and hideout["group"] == "claudebot"
    blocked = {h for h, r in rows.items() if r["disallowed"]}
    assert blocked == set(EXPECTED) | {"www.soldaini.net"}


def test_optout_step_removes_exactly_the_opted_out_hosts_documents(warc_table, shared_data: Path) -> None:
    tmp, table = warc_table
    inputs = [str(shared_data / "warc" / n) for n in INPUTS]
    cfg = write_pipeline(tmp / "p.yaml", inputs, tmp / "out", [{"optout": {"table": str(table), "agents": "ai"}}])
    result = run(load_pipeline(str(cfg)))
    kept = pa.concat_tables([pq.read_table(p) for p in (tmp / "out").glob("*/part-*.parquet")])
    removed = pa.concat_tables([pq.read_table(p) for p in (tmp / "out" / "_removed").rglob("*.parquet")])
    host = re.compile(r"^[a-z]+://([^/:]+)")
    kept_hosts = {host.match(u).group(1) for u in kept.column("url").to_pylist()}
    by_host: dict[str, set[str]] = {}
    for url, reason in zip(removed.column("url").to_pylist(), removed.column("drop_reason").to_pylist(), strict=True):
        by_host.setdefault(host.match(url).group(1), set()).add(reason)
    assert by_host == {h: {f"optout:robots:{a}"} for h, a in EXPECTED.items()}
    assert not kept_hosts & set(EXPECTED)
    assert {"kyleclo.com", "commoncrawl.org", "prior.allenai.org", "tomhoper.github.io", "joe.cat"} <= kept_hosts
    lang = result.stats["languages"]["und"]
    assert lang["removed_by"] == {"optout:robots": removed.num_rows}
    assert removed.num_rows == 91 + 6 + 3 + 4 + 4 + 1
    # the report says how much and from which domains
    report = run_cli("report", str(tmp / "out"))
    assert "opt-outs [0:optout]" in report.stdout and "archive.org 91" in report.stdout


def test_path_scope_removes_only_the_disallowed_pages(tmp_path: Path, shared_data: Path) -> None:
    robots = b"User-agent: GPTBot\nDisallow: /details/\nAllow: /details/*.php$\nDisallow: /iathreads\n"
    warc = _robots_warc(tmp_path / "r.warc.gz", {"www.archive.org": [
        ("http://www.archive.org/robots.txt", "200 OK", robots, "2025-01-01", [])]})
    table = tmp_path / "t.parquet"
    build_table([str(warc)], "GPTBot,CCBot", str(table))
    source = shared_data / "warc" / "ia-2008-crawl-example.warc.gz"
    urls = [u for t in WarcReader().read(str(source), ReadCounts()) for u in t.column("url").to_pylist()]
    parser = Protego.parse(robots.decode())
    expected = {u for u in urls if not parser.can_fetch(u, "GPTBot")}
    assert 20 < len(expected) < 91  # some of www.archive.org's pages, not all
    batch = pa.table({"url": pa.array(urls, pa.string())})
    keep, reasons = OptOut(table=str(table), scope="path", page_signals=False).filter(batch, BlockContext())
    assert {u for u, k in zip(urls, keep.tolist(), strict=True) if not k} == expected
    assert {r for r in reasons if r} == {"robots:GPTBot"}


# --- page-level signals planted in real pages ------------------------------------------------------------

def _plant(html: bytes, tag: bytes) -> bytes:
    at = html.lower().find(b"<head")
    at = html.find(b">", at) + 1
    return html[:at] + tag + html[at:]


# (extra response headers, tag planted in the head, expected drop reason or None)
PLANTED = [
    ([("X-Robots-Tag", "noai, noimageai")], b"", "noai"),
    ([], b'<meta name="robots" content="noindex, NoAI">', "noai"),
    ([], b"<META CONTENT='noai' NAME='GPTBot'>", "noai:gptbot"),
    ([("X-Robots-Tag", "otherbot: noai")], b"", None),  # an agent not in the list
    ([("X-Robots-Tag", "googlebot: noindex")], b'<meta name="robots" content="noimageai">', None),
    ([("tdm-reservation", "1"), ("tdm-policy", "https://example.com/policy.json")], b"", "tdm_reservation"),
    ([], b'<meta name="tdm-reservation" content="1">', "tdm_reservation"),
    ([("tdm-reservation", "0")], b'<meta name="tdm-reservation" content="1">', None),  # the header wins
    ([], b"", None),
]


@pytest.fixture(scope="module")
def planted_warc(tmp_path_factory, shared_data: Path) -> Path:
    # real pages that carry no robots or TDM meta of their own: what the reader finds is what was planted
    pages = [p for p in real_pages(shared_data, n=60)
             if not re.search(rb"(?i)robots|tdm-|noai", p.html)][:len(PLANTED)]
    assert len(pages) == len(PLANTED)
    path = tmp_path_factory.mktemp("planted") / "planted.warc.gz"
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for page, (headers, tag, _) in zip(pages, PLANTED, strict=True):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(page.url, "response", payload=io.BytesIO(
                _plant(page.html, tag)), http_headers=http))
    return path


def test_reader_carries_the_signals_as_columns(planted_warc: Path) -> None:
    rows = [r for t in WarcReader().read(str(planted_warc), ReadCounts()) for r in t.to_pylist()]
    assert len(rows) == len(PLANTED)
    assert rows[0]["robots_tag"] == "noai,noimageai"
    assert rows[1]["robots_tag"] == "noai,noindex"
    assert rows[2]["robots_tag"] == "gptbot:noai"
    assert rows[3]["robots_tag"] == "otherbot:noai"
    assert rows[4]["robots_tag"] == "googlebot:noindex,noimageai"
    assert (rows[5]["tdm_reservation"], rows[5]["tdm_policy"]) == (1, "https://example.com/policy.json")
    assert rows[6]["tdm_reservation"] == 1 and rows[7]["tdm_reservation"] == 0
    assert rows[8]["robots_tag"] is None and rows[8]["tdm_reservation"] is None


def test_page_signals_planted_in_real_pages_are_honoured(planted_warc: Path, tmp_path: Path) -> None:
    cfg = write_pipeline(tmp_path / "p.yaml", [str(planted_warc)], tmp_path / "out",
                         [{"optout": {"agents": "ai"}}])
    run(load_pipeline(str(cfg)))
    removed = pa.concat_tables([pq.read_table(p) for p in (tmp_path / "out" / "_removed").rglob("*.parquet")])
    got = dict(zip(removed.column("url").to_pylist(), removed.column("drop_reason").to_pylist(), strict=True))
    rows = [r for t in WarcReader().read(str(planted_warc), ReadCounts()) for r in t.to_pylist()]
    expected = {r["url"]: f"optout:{reason}" for r, (_, _, reason) in zip(rows, PLANTED, strict=True) if reason}
    assert got == expected


def test_page_signal_parsing_edge_cases() -> None:
    head = b"<html><head>" + b"<meta name=x>" * 2000 + b'<meta name="robots" content="noai"></head>'
    assert page_signals(head).robots_tag == "noai"  # deep in a long head
    late = b"<html><head></head><body><meta name='robots' content='noai'>"
    assert page_signals(late).robots_tag is None  # after the head: not a page-level signal
    assert page_signals(b"\x00\xff" * 1000).robots_tag is None
    header = "noindex, max-snippet: 20, unavailable_after: 25 Jun 2010 15:00:00 PST\nBingbot: noai, nofollow"
    assert page_signals(None, header).robots_tag == "bingbot:noai,bingbot:nofollow,noindex"


# --- pieces ---------------------------------------------------------------------------------------------

def test_deciding_rule_is_the_longest_match_with_allow_winning_ties() -> None:
    text = "User-agent: *\nDisallow: /\nAllow: /$\n\nUser-agent: gptbot\nDisallow: /*\nAllow: /\n\nUser-agent: x\n"
    rules = RobotsRules.parse(text)
    star, gpt = rules.verdict("SomeBot"), rules.verdict("GPTBot")
    assert (star.allowed, star.group, star.rule) == (True, "*", "Allow: /$")
    assert (gpt.allowed, gpt.group, gpt.rule) == (False, "gptbot", "Disallow: /*")  # "/*" is longer than "/"
    assert RobotsRules.parse("Disallow: /\n").verdict("GPTBot").group is None  # a rule without a group


def test_statuses_follow_rfc_9309_and_can_be_configured() -> None:
    parser = CaptureParser(["GPTBot"])
    assert parser.row("h", "http://h/robots.txt", None, 0, "", 404, None, "x")["disallowed"] == []
    assert parser.row("h", "http://h/robots.txt", None, 0, "", 503, None, None)["disallowed"] == ["GPTBot"]
    assert parser.row("h", "http://h/robots.txt", None, 0, "", 429, None, None)["status"] == "unreachable"
    assert parser.row("h", "http://h/robots.txt", None, 0, "", 200, None, "\x00\x01" * 50)["status"] == "unparsable"
    strict = CaptureParser(["GPTBot"], policy=type(parser.policy)(unreachable="allow", unparsable="disallow"))
    assert strict.row("h", "http://h/robots.txt", None, 0, "", 503, None, None)["disallowed"] == []
    assert strict.row("h", "http://h/robots.txt", None, 0, "", 200, None, "\x00" * 9)["disallowed"] == ["GPTBot"]


def test_packaged_agent_list_is_dated_sourced_and_training_only(shared_data: Path) -> None:
    lists = packaged_lists()
    assert lists["version"] == "2026-08-22" and "ai.robots.txt" in lists["source"]
    ai = resolve_agents("ai")
    for agent in ("GPTBot", "CCBot", "ClaudeBot", "anthropic-ai", "Google-Extended", "Applebot-Extended",
                  "Bytespider", "meta-externalagent"):
        assert agent in ai
    for agent in ("ChatGPT-User", "Claude-User", "Perplexity-User"):  # user-initiated fetchers
        assert agent not in ai and agent in resolve_agents("ai-all")
    assert resolve_agents("ai, MyBot, gptbot")[-1] == "MyBot" and len(resolve_agents("ai,MyBot")) == len(ai) + 1
    catalogue = shared_data / "robots" / "ai-robots-txt" / "robots.json"
    script = Path(__file__).resolve().parent.parent / "scripts" / "build_ai_agent_list.py"
    check = subprocess.run([sys.executable, str(script), "--catalogue", str(catalogue), "--check"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "up to date" in check.stdout  # the packaged list is what the script builds


def test_missing_table_or_unknown_agents_fail_before_work(tmp_path: Path, warc_table, shared_data: Path) -> None:
    _, table = warc_table
    real_input = shared_data / "warc" / "cc-single-response.warc.gz"
    cfg = write_pipeline(tmp_path / "p.yaml", [str(real_input)], tmp_path / "out",
                         [{"optout": {"table": str(tmp_path / "nope.parquet")}}])
    result = run_cli("run", str(cfg))
    assert result.returncode != 0 and "nope.parquet" in result.stderr and "curate optout build" in result.stderr
    with pytest.raises(Exception, match="rebuild it"):
        OptOut(table=str(table), agents="SomeOtherBot").preflight()


def test_tables_grow_dump_by_dump_the_newest_capture_winning(tmp_path: Path) -> None:
    old = _robots_warc(tmp_path / "2024.warc.gz", {
        "a.example": [("https://a.example/robots.txt", "200 OK", b"User-agent: GPTBot\nDisallow: /\n", "2024-03-01", [])],
        "b.example": [("https://b.example/robots.txt", "200 OK", b"User-agent: *\nAllow: /\n", "2024-03-01", [])]})
    new = _robots_warc(tmp_path / "2025.warc.gz", {
        "b.example": [("https://b.example/robots.txt", "200 OK", b"User-agent: GPTBot\nDisallow: /\n", "2025-03-01",
                       [])]})
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.example").write_bytes(b"User-agent: *\nAllow: /\n")  # undated: loses to any dated capture
    (folder / "c.example_443").write_bytes(b"User-agent: *\nDisallow: /\n")
    build_table([str(old)], "GPTBot,CCBot", str(tmp_path / "t2024.parquet"))
    build_table([str(tmp_path / "t2024.parquet"), str(new), str(folder)], "GPTBot,CCBot", str(tmp_path / "t.parquet"))
    rows = {r["host"]: r for r in pq.read_table(tmp_path / "t.parquet").to_pylist()}
    assert rows["a.example"]["disallowed"] == ["GPTBot"] and rows["a.example"]["date"].startswith("2024")
    assert rows["b.example"]["disallowed"] == ["GPTBot"] and rows["b.example"]["captures"] == 2
    assert rows["c.example"]["disallowed"] == ["GPTBot", "CCBot"] and rows["c.example"]["url"].startswith("https://")
    # a dated folder wins over the 2024 capture
    dated = tmp_path / "t4.parquet"
    result = run_cli("optout", "build", str(tmp_path / "t2024.parquet"), str(folder), "--agents", "GPTBot,CCBot",
                     "--date", "2025-01-01T00:00:00Z", "--out", str(dated))
    assert result.returncode == 0, result.stderr
    assert {r["host"]: r["disallowed"] for r in pq.read_table(dated).to_pylist()}["a.example"] == []
    # a table built for other agents is refused, naming it
    refused = run_cli("optout", "build", str(tmp_path / "t2024.parquet"), "--agents", "ai", "--out",
                      str(tmp_path / "x.parquet"))
    assert refused.returncode == 1 and "t2024.parquet" in refused.stderr and "rebuild" in refused.stderr


def _tokenizer(path: Path, shared_data: Path) -> Path:
    """A small BPE tokenizer trained here on real pages' text (offline): counts differ from words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    texts = [re.sub(rb"<[^>]*>", b" ", p.html).decode("utf-8", "replace") for p in real_pages(shared_data, n=40)]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"]))
    tok.save(str(path))
    return path


@pytest.mark.slow
def test_report_counts_removed_documents_words_tokens_and_domains_per_language(warc_table, shared_data: Path
                                                                              ) -> None:
    tmp, table = warc_table
    inputs = [str(shared_data / "warc" / n) for n in INPUTS]
    steps = [{"extract": {"engine": "resiliparse"}}, {"langid": {}},
             {"optout": {"table": str(table), "agents": "ai"}},
             {"domain_cap": {"max_docs": 2, "by": "registered_domain"}}]
    tok_path = _tokenizer(tmp / "tokenizer.json", shared_data)
    cfg = write_pipeline(tmp / "lang.yaml", inputs, tmp / "lang", steps, executor={"type": "local", "workers": 2},
                         writer={"tokenizer": str(tok_path)})
    result = run(load_pipeline(str(cfg)))
    optout = next(s for s in result.stats["steps"] if s["name"] == "optout")
    eng = optout["langs"]["eng_Latn"]
    removed = pa.concat_tables([pq.read_table(p) for p in (tmp / "lang" / "_removed" / "eng_Latn").glob("*.parquet")])
    mine = removed.filter(pa.compute.starts_with(removed.column("drop_reason"), "optout:"))
    words = sum(len(t.split()) for t in mine.column("text").to_pylist())
    from tokenizers import Tokenizer
    tokens = sum(len(e.ids) for e in Tokenizer.from_file(str(tok_path)).encode_batch(
        mine.column("text").to_pylist(), add_special_tokens=False))
    assert eng["removed"]["robots"] == mine.num_rows > 50
    assert eng["extra"]["words_removed"] == words and eng["extra"]["removed_domain:archive.org"] > 50
    assert eng["extra"]["tokens_removed"] == tokens > words  # a 400-piece vocabulary splits words
    report = run_cli("report", str(tmp / "lang"))
    section = report.stdout.split("opt-outs [2:optout]", 1)[1]
    assert "eng_Latn" in section and f"{mine.num_rows} docs" in section and "archive.org" in section
    assert "words, tokens; top domains" in section and " tokens " in section.split("eng_Latn", 1)[1].split("\n")[0]
    assert "opt-outs [3:domain_cap]" in report.stdout and "over_cap" in report.stdout
    assert "<th>tokens</th>" in (tmp / "lang" / "report.html").read_text()


# --- the partitioned build: redirects across partitions, workers, partitions, resume ------------------------

def _moved(url: str, to: str) -> tuple[str, str, bytes, str, list[tuple[str, str]]]:
    return (url, "301 Moved Permanently", b"", "2025-01-01", [("Location", to)])


def _robots(host: str, body: bytes) -> tuple[str, str, bytes, str, list[tuple[str, str]]]:
    return (f"https://{host}/robots.txt", "200 OK", body, "2025-01-01", [])


GPT, CC, CLAUDE = b"User-agent: GPTBot\nDisallow: /\n", b"User-agent: CCBot\nDisallow: /\n", \
    b"User-agent: ClaudeBot\nDisallow: /\n"
# chains whose hops land in other partitions (the hosts' partitions at P=7 are checked in the test)
REDIRECTS = {
    "a.example": [_moved("http://a.example/robots.txt", "https://a.example/robots.txt"),
                  _moved("https://a.example/robots.txt", "https://www.a.example/robots.txt")],
    "www.a.example": [_robots("www.a.example", CLAUDE)],
    "moved.example": [_moved("https://moved.example/robots.txt", "https://far.example/robots.txt")],
    "far.example": [_robots("far.example", CC)],
    "c1.example": [_moved("https://c1.example/robots.txt", "https://h2.example/robots.txt")],
    "h2.example": [_moved("https://h2.example/robots.txt", "https://h0.example/robots.txt")],
    "h0.example": [_moved("https://h0.example/robots.txt", "https://h1.example/robots.txt")],
    "h1.example": [_robots("h1.example", GPT)],
    # five hops reach an answer (RFC 9309 section 2.3.1.2: at least five); six do not
    "five.example": [_moved("https://five.example/robots.txt", "https://h3.example/robots.txt")],
    **{f"h{i}.example": [_moved(f"https://h{i}.example/robots.txt", f"https://h{i + 1}.example/robots.txt")]
       for i in (3, 4, 5, 6)},
    "h7.example": [_robots("h7.example", GPT)],
    "six.example": [_moved("https://six.example/robots.txt", "https://five.example/robots.txt")],
    "loop1.example": [_moved("https://loop1.example/robots.txt", "https://loop2.example/robots.txt")],
    "loop2.example": [_moved("https://loop2.example/robots.txt", "https://loop1.example/robots.txt")],
    "nowhere.example": [_moved("https://nowhere.example/robots.txt", "https://missing.example/robots.txt")],
}


class _StopAt(LocalExecutor):
    """Stops the build (as a kill would) when the named pass starts, after the earlier passes left their files."""

    def __init__(self, stop_at: str) -> None:
        super().__init__(workers=1, progress=False)
        self.stop_at = stop_at

    def map(self, fn, items, desc=""):
        if desc == self.stop_at:
            raise KeyboardInterrupt
        return super().map(fn, items, desc)


@pytest.fixture(scope="module")
def redirect_warcs(tmp_path_factory) -> list[str]:
    tmp = tmp_path_factory.mktemp("redirects")
    hosts = list(REDIRECTS)
    # three archives: a chain's captures are read by different tasks
    return [str(_robots_warc(tmp / f"r{i}.warc.gz", {h: REDIRECTS[h] for h in hosts[i::3]})) for i in range(3)]


def test_redirects_are_followed_across_partitions_and_the_bytes_do_not_depend_on_workers_or_partitions(
        redirect_warcs, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(optout_build, "ROW_GROUP", 4)  # row groups cut across the parts of 7 partitions
    chain = ["c1.example", "h2.example", "h0.example", "h1.example"]
    parts = host_partitions(chain, 7).tolist()
    assert all(a != b for a, b in zip(parts, parts[1:], strict=False)), parts  # each hop leaves its partition
    agents = "GPTBot,CCBot,ClaudeBot"
    one = build_table(redirect_warcs, agents, str(tmp_path / "one.parquet"), workers=1, partitions=1)
    many = build_table(redirect_warcs, agents, str(tmp_path / "many.parquet"), workers=4, partitions=7)
    assert one["redirect_rounds"] == 1 and many["redirect_rounds"] >= 3
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "many.parquet").read_bytes()
    groups = pq.ParquetFile(tmp_path / "many.parquet").metadata
    assert groups.num_rows == len(REDIRECTS) == 18
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [4, 4, 4, 4, 2]
    assert not list(tmp_path.glob("*.work"))  # the work folders are gone
    rows = {r["host"]: r for r in pq.read_table(tmp_path / "many.parquet").to_pylist()}
    assert {h: r["disallowed"] for h, r in rows.items() if r["disallowed"]} == {
        "a.example": ["ClaudeBot"], "www.a.example": ["ClaudeBot"], "moved.example": ["CCBot"],
        "far.example": ["CCBot"], "c1.example": ["GPTBot"], "h2.example": ["GPTBot"], "h0.example": ["GPTBot"],
        "h1.example": ["GPTBot"], "five.example": ["GPTBot"], **{f"h{i}.example": ["GPTBot"] for i in range(3, 8)}}
    assert rows["a.example"]["redirected_to"] == "https://www.a.example/robots.txt"
    assert rows["a.example"]["captures"] == 2 and rows["a.example"]["http_status"] == 301
    assert rows["c1.example"]["redirected_to"] == "https://h1.example/robots.txt"
    assert rows["five.example"]["redirected_to"] == "https://h7.example/robots.txt"
    for host in ("six.example", "loop1.example", "loop2.example", "nowhere.example"):  # chains without an answer
        assert rows[host]["status"] == "redirect" and rows[host]["redirected_to"] is None, host
    assert "missing.example" not in rows


@pytest.mark.parametrize("stop_at", ["optout:redirects-2", "optout:table"])
def test_an_interrupted_build_resumes_to_the_same_bytes(redirect_warcs, tmp_path: Path, stop_at: str) -> None:
    clean = build_table(redirect_warcs, "ai", str(tmp_path / "clean.parquet"), partitions=7)
    with pytest.raises(KeyboardInterrupt):
        build_table(redirect_warcs, "ai", str(tmp_path / "t.parquet"), partitions=7, executor=_StopAt(stop_at))
    assert not (tmp_path / "t.parquet").exists() and list((tmp_path / "t.parquet.work").glob("*/markers/*.json"))
    resumed = build_table(redirect_warcs, "ai", str(tmp_path / "t.parquet"), partitions=7)
    assert resumed["tasks_skipped"] > 0 and resumed["tasks_run"] > 0
    assert resumed["tasks_skipped"] + resumed["tasks_run"] == clean["tasks_run"]
    assert (tmp_path / "t.parquet").read_bytes() == (tmp_path / "clean.parquet").read_bytes()
    assert not (tmp_path / "t.parquet.work").exists()
