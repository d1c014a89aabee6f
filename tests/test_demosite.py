"""The offline demo news site: real server, real httpx, feedparser and trafilatura."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import lxml.html
import pytest
import trafilatura

from demosite import truth
from demosite.server import DemoSite
from demosite.site import BOILERPLATE, article_url, load_corpus, outlet_articles, sources_toml

PACKAGE = Path(__file__).resolve().parent.parent / "demosite"
SHARED_DATA = PACKAGE.parent.parent / "shared" / "data"
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
CORPUS = load_corpus()
HOSTS = [o["host"] for o in CORPUS["outlets"]]


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite() as demo:
        yield demo


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def fetch(site: DemoSite, client: httpx.Client, url: str, **headers: str) -> httpx.Response:
    """GET an outlet URL through the local server, keeping the outlet's Host header."""
    parts = urlsplit(url)
    target = f"http://{site.resolve_map[parts.hostname]}{parts.path}"
    if parts.query:
        target += f"?{parts.query}"
    return client.get(target, headers={"Host": parts.hostname, **headers})


def squash(text: str) -> str:
    return " ".join(text.split())


def canonical_urls(host: str) -> set[str]:
    return {article_url(a) for a in outlet_articles(CORPUS, host)}


def sitemap_entries(site: DemoSite, client: httpx.Client, host: str) -> dict[str, ET.Element]:
    """loc -> <url> element for every URL reachable from the robots.txt Sitemap lines."""
    robots = fetch(site, client, f"http://{host}/robots.txt").text
    todo = re.findall(r"^Sitemap:\s*(\S+)", robots, flags=re.M)
    assert todo, robots
    entries: dict[str, ET.Element] = {}
    while todo:
        resp = fetch(site, client, todo.pop())
        assert resp.status_code == 200
        root = ET.fromstring(resp.content)
        if root.tag == f"{{{NS['sm']}}}sitemapindex":
            todo += [loc.text for loc in root.findall("sm:sitemap/sm:loc", NS)]
        else:
            assert root.tag == f"{{{NS['sm']}}}urlset"
            for url in root.findall("sm:url", NS):
                entries[url.findtext("sm:loc", namespaces=NS)] = url
    return entries


def feed_entries(site: DemoSite, client: httpx.Client, host: str) -> list:
    outlet = next(o for o in CORPUS["outlets"] if o["host"] == host)
    resp = fetch(site, client, f"http://{host}{outlet['feed']['path']}")
    assert resp.status_code == 200
    parsed = feedparser.parse(resp.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if outlet["feed"]["format"] == "atom" else "rss20")
    return parsed.entries


@pytest.mark.parametrize("host", HOSTS)
def test_feed_lists_every_article_of_the_outlet(site, client, host):
    entries = feed_entries(site, client, host)
    links = {e.link.split("?", 1)[0] for e in entries}
    assert links == canonical_urls(host)
    for e in entries:
        assert e.title and e.published_parsed and e.link.startswith(f"http://{host}/")


@pytest.mark.parametrize("host", HOSTS)
def test_news_sitemaps_list_every_article_with_news_metadata(site, client, host):
    entries = sitemap_entries(site, client, host)
    assert set(entries) == canonical_urls(host)
    titles = {a["path"]: a["title"] for a in outlet_articles(CORPUS, host)}
    for loc, url in entries.items():
        news = url.find("news:news", NS)
        assert news is not None
        assert news.findtext("news:title", namespaces=NS) == titles[urlsplit(loc).path]
        stamp = news.findtext("news:publication_date", namespaces=NS)
        assert datetime.fromisoformat(stamp).tzinfo is not None


def test_at_least_one_outlet_uses_atom_and_one_a_sitemap_index(site, client):
    formats = {o["feed"]["format"] for o in CORPUS["outlets"]}
    assert formats == {"rss", "atom"}
    indexed = [o["host"] for o in CORPUS["outlets"] if o["sitemap_index"]]
    assert indexed
    resp = fetch(site, client, f"http://{indexed[0]}/robots.txt")
    assert "sitemap_index.xml" in resp.text and "Allow: /" in resp.text


def test_two_urls_of_one_article_are_discoverable_and_canonicalised(site, client):
    [planted] = [a for a in truth.expected_articles() if a.alternate_urls]
    [tracked] = planted.alternate_urls
    assert "utm_source=rss" in tracked
    feed_links = {e.link for e in feed_entries(site, client, planted.outlet)}
    assert tracked in feed_links and planted.canonical_url not in feed_links
    assert planted.canonical_url in sitemap_entries(site, client, planted.outlet)
    clean, dirty = (fetch(site, client, u) for u in (planted.canonical_url, tracked))
    assert clean.status_code == dirty.status_code == 200
    assert clean.content == dirty.content
    doc = lxml.html.fromstring(dirty.content)
    assert doc.xpath('string(//link[@rel="canonical"]/@href)') == planted.canonical_url


def test_conditional_get_answers_304(site, client):
    url = "http://outlet-b.test/sitemap_index.xml"
    first = fetch(site, client, url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert fetch(site, client, url, **{"If-None-Match": etag}).status_code == 304
    assert fetch(site, client, url, **{"If-Modified-Since": modified}).status_code == 304
    older = format_datetime(datetime(2001, 1, 1).astimezone(), usegmt=False)
    assert fetch(site, client, url, **{"If-Modified-Since": older}).status_code == 200
    assert fetch(site, client, url, **{"If-None-Match": '"other"'}).status_code == 200
    for host in HOSTS:  # every feed has validators too
        outlet = next(o for o in CORPUS["outlets"] if o["host"] == host)
        feed_url = f"http://{host}{outlet['feed']['path']}"
        etag = fetch(site, client, feed_url).headers["ETag"]
        again = fetch(site, client, feed_url, **{"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    not_modified = [(host, path) for _, host, path, status in site.request_log if status == 304]
    assert ("outlet-b.test", "/sitemap_index.xml") in not_modified


@pytest.mark.parametrize("article", CORPUS["articles"], ids=lambda a: a["slug"][:30])
def test_article_page_metadata(site, client, article):
    resp = fetch(site, client, article_url(article))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    doc = lxml.html.fromstring(resp.content)
    outlet = next(o for o in CORPUS["outlets"] if o["host"] == article["outlet"])
    assert doc.get("lang") == outlet.get("language", "en")
    assert article["title"] in doc.findtext(".//title")
    assert doc.xpath('string(//meta[@property="og:title"]/@content)') == article["title"]
    assert doc.xpath('string(//meta[@name="author"]/@content)') == article["author"]
    stamp = doc.xpath('string(//meta[@property="article:published_time"]/@content)')
    assert datetime.fromisoformat(stamp) == datetime.fromisoformat(article["published"])
    assert doc.xpath('string(//link[@rel="canonical"]/@href)') == article_url(article)
    meta = trafilatura.bare_extraction(resp.text, with_metadata=True, include_comments=False)
    assert (meta.title, meta.author, meta.date) == (
        article["title"],
        article["author"],
        article["published"][:10],
    )


@pytest.mark.parametrize("article", CORPUS["articles"], ids=lambda a: a["slug"][:30])
def test_extraction_keeps_the_text_and_drops_the_boilerplate(site, client, article):
    html = fetch(site, client, article_url(article)).text
    text = trafilatura.extract(html, include_comments=False)
    assert text
    for paragraph in article["paragraphs"]:
        assert paragraph in text
    page_text = squash(lxml.html.fromstring(html).text_content())
    for marker in BOILERPLATE[article["outlet"]]:
        assert marker in page_text  # the boilerplate is really on the page...
        assert marker not in squash(text)  # ...and is not taken for article text
    others = [a["title"] for a in CORPUS["articles"] if a is not article]
    assert not [t for t in others if t in text]  # related-links lists are dropped too


def test_comments_are_marked_up_as_comments(site, client):
    """trafilatura's default (include_comments=True) finds the comment section: call it with
    include_comments=False to keep readers' comments out of the article text."""
    article = outlet_articles(CORPUS, "outlet-a.test")[0]
    html = fetch(site, client, article_url(article)).text
    assert "Great reporting, thanks for keeping us informed." in trafilatura.extract(html)


@pytest.mark.parametrize("host", HOSTS)
def test_front_page_is_a_list_of_links_not_an_article(site, client, host):
    doc = lxml.html.fromstring(fetch(site, client, f"http://{host}/").content)
    hrefs = {h for h in doc.xpath("//a/@href") if h != "/"}
    assert {urlsplit(u).path for u in canonical_urls(host)} <= hrefs
    assert not doc.xpath('//meta[@property="og:type" and @content="article"]')
    assert not doc.xpath("//p[string-length(normalize-space()) > 200]")


def test_unknown_host_or_path_is_404(site, client):
    assert fetch(site, client, "http://outlet-a.test/no-such-page").status_code == 404
    resp = client.get(f"http://127.0.0.1:{site.port}/", headers={"Host": "elsewhere.test"})
    assert resp.status_code == 404
    assert sorted(site.resolve_map) == site.hosts == HOSTS


def test_fault_hook_can_answer_instead_of_the_site(client):
    def fail_feed(handler, host, path):
        if path == "/feed.xml":
            handler.send_response(503)
            handler.send_header("Retry-After", "1")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return True
        return False

    with DemoSite(fault=fail_feed) as demo:
        feed = fetch(demo, client, "http://outlet-a.test/feed.xml")
        front = fetch(demo, client, "http://outlet-a.test/")
        log = demo.request_log
    assert (feed.status_code, feed.headers["Retry-After"], front.status_code) == (503, "1", 200)
    assert [(h, p, s) for _, h, p, s in log] == [
        ("outlet-a.test", "/feed.xml", 503),
        ("outlet-a.test", "/", 200),
    ]


def test_fault_hook_can_drop_the_connection(client):
    def reset(handler, host, path):
        handler.close_connection = True
        handler.connection.close()
        return True

    with DemoSite(fault=reset) as demo:
        with pytest.raises(httpx.TransportError):
            fetch(demo, client, "http://outlet-c.test/robots.txt")
        assert [(h, p, s) for _, h, p, s in demo.request_log] == [
            ("outlet-c.test", "/robots.txt", None)
        ]


def test_head_request_sends_headers_only(site, client):
    url = f"http://127.0.0.1:{site.port}/feed.xml"
    head = client.head(url, headers={"Host": "outlet-a.test"})
    get = client.get(url, headers={"Host": "outlet-a.test"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(get.content))
    assert head.headers["ETag"] == get.headers["ETag"]


def test_request_log_records_concurrent_requests():
    with DemoSite() as demo:
        paths = [a["path"] for a in outlet_articles(CORPUS, "outlet-c.test")] * 5

        def worker(chunk: list[str]) -> None:
            with httpx.Client() as c:
                for p in chunk:
                    r = c.get(f"http://127.0.0.1:{demo.port}{p}", headers={"Host": "outlet-c.test"})
                    assert r.status_code == 200

        threads = [threading.Thread(target=worker, args=(paths[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = demo.request_log
    assert len(log) == len(paths)
    assert sorted(p for _, _, p, _ in log) == sorted(paths)
    assert all(s == 200 for *_, s in log)


def test_planted_structure():
    articles = truth.expected_articles()
    assert len({a.outlet for a in articles}) >= 4
    assert len({a.canonical_url for a in articles}) == len(articles)
    events = truth.planted_events()
    seed = events["armenia_azerbaijan_brussels_talks"]
    # The English seed pair and a Russian and a German report of the same talks (#27).
    assert len(seed) == 4 and len({urlsplit(u).hostname for u in seed}) == 4
    assert {a.language for a in articles if a.canonical_url in seed} == {"en", "ru", "de"}
    reports = {a.planted_event for a in articles if a.kind == "report"}
    assert len(reports) >= 4
    for label in reports:
        hosts = [urlsplit(u).hostname for u in events[label]]
        assert 2 <= len(hosts) <= 4 and len(set(hosts)) == len(hosts)
    assert sum(1 for a in articles if a.kind == "single") >= 4
    [copy] = [a for a in articles if a.copy_of_url]
    original = next(a for a in articles if a.canonical_url == copy.copy_of_url)
    assert copy.kind == original.kind == "wire" and copy.planted_event == original.planted_event
    assert copy.outlet != original.outlet and copy.title != original.title
    assert original.published < copy.published
    [copy_rec] = [a for a in CORPUS["articles"] if a["copy_of"]]
    original_rec = next(a for a in CORPUS["articles"] if a["slug"] == copy_rec["copy_of"])
    pairs = zip(original_rec["paragraphs"], copy_rec["paragraphs"], strict=True)
    changed = [i for i, (x, y) in enumerate(pairs) if x != y]
    assert len(changed) == 1  # one trivially edited sentence, the rest verbatim
    assert set(truth.planted_groups()) >= set(events)


def test_every_text_keeps_its_attribution():
    for a in CORPUS["articles"]:
        attribution = a["attribution"]
        assert attribution["dataset"] and attribution["licence"]
        assert "pac_partisan" not in attribution["dataset"].lower()
        if "seed" not in attribution["dataset"] and "newsmon demo" not in attribution["dataset"]:
            assert attribution["source_url"].startswith("http")
            assert "Apache-2.0" in attribution["licence"]
        assert a["kind"] in {"report", "wire", "single"}
        assert (a["planted_event"] is None) == (a["kind"] == "single")
        assert datetime.fromisoformat(a["published"]).tzinfo is not None


def test_committed_sources_toml_matches_the_corpus():
    import tomllib

    committed = (PACKAGE / "sources.toml").read_text(encoding="utf-8")
    assert committed == sources_toml()
    sources = tomllib.loads(committed)["source"]
    assert [s["name"] for s in sources] == [o["name"] for o in CORPUS["outlets"]]
    assert all(s["feeds"] and s["sitemaps"] for s in sources)
    assert [s["language"] for s in sources] == [o.get("language", "en") for o in CORPUS["outlets"]]
    assert {"ru", "de"} <= {s["language"] for s in sources}  # non-English outlets (#27)
    moved = tomllib.loads(sources_toml(base="http://127.0.0.1:9/{host}"))["source"]
    assert moved[0]["feeds"][0].startswith("http://127.0.0.1:9/outlet-a.test/")


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_committed_corpus_is_what_build_corpus_produces():
    from demosite.build_corpus import build

    assert json.loads(json.dumps(build())) == CORPUS


def test_package_is_small():
    size = sum(p.stat().st_size for p in PACKAGE.rglob("*") if "__pycache__" not in p.parts)
    assert size < 2 * 1024 * 1024


def test_command_line_server_prints_hosts_and_serves():
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "demosite.server", "--port", "0"],
        cwd=PACKAGE.parent,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", first).group(1))
        hosts = [proc.stdout.readline().split()[0] for _ in HOSTS]
        assert hosts == [f"http://{h}/" for h in HOSTS]
        resp = httpx.get(f"http://127.0.0.1:{port}/robots.txt", headers={"Host": HOSTS[0]})
        assert resp.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:  # Ctrl-C ends it cleanly; a loaded machine may take a while to get there
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never left behind
            proc.wait()
            raise
    assert code == 0
