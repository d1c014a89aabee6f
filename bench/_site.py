"""N realistic news pages for the throughput benchmarks, served from 127.0.0.1.

The demo's 19 articles are repeated in their outlet's own template (same markup and boilerplate
the extractor must drop) under varied URLs, `/bench/<i>/<slug>`, spread over `hosts` bench
outlets `outlet-NN.test`: the fetcher allows 2 connections per host, so 4 hosts would make
fetching the bottleneck. Each copy starts with a numbered sentence, so content hashes differ.
Every host has a robots.txt and one Google News sitemap listing its pages.

`html="news"` serves real news pages instead: the 181 pages of the scrapinghub article
extraction benchmark (126 news sites, median 115 KB of HTML, from ../shared/data; see
_data.py), repeated under the same kind of URLs, each copy with a numbered paragraph added
before its first long one. Real pages cost trafilatura several times more than the demo's
small templates, so this is the realistic mix of parsing and per-page overhead.

The server runs in a child process: in-process, its threads would compete for the GIL with
the client being measured.

    with serve(pages=5000) as served:
        served.resolve_map     # {"outlet-00.test": "127.0.0.1:PORT", ...}
        served.urls            # [(host, path), ...] of the article pages
        served.sources_toml    # a sources.toml with one source per host (its sitemap)
"""

from __future__ import annotations

import gzip
import multiprocessing
import queue
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path

from demosite.site import ARTICLE_TEMPLATES, Page, load_corpus, news_sitemap, robots_txt

SITEMAP_PATH = "/bench-sitemap.xml"


def bench_host(i: int) -> str:
    return f"outlet-{i:02d}.test"


HTML_KINDS = ("demo", "news")
_LONG_PARAGRAPH = re.compile(r"<p[^>]*>[^<]{120,}")
_CANONICAL = re.compile(r"<link[^>]*rel=[\"']?canonical[^>]*>", re.IGNORECASE)
_OG_URL = re.compile(r"<meta[^>]*property=[\"']?og:url[^>]*>", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)


def _real_news_files() -> list[Path]:
    from bench._data import DATA

    return sorted((DATA / "extraction_more/scrapinghub/html").glob("*.html.gz"))


def missing_pages_message(html: str) -> str | None:
    """Why the benchmark must skip with these pages (the real ones need ../shared/data)."""
    if html == "news" and not _real_news_files():
        return ("skipped: the real news pages (../shared/data/extraction_more/scrapinghub) are "
                "absent; run with --html demo")
    return None


def real_news_pages() -> list[tuple[str, bytes]]:
    """(title, html) of the scrapinghub benchmark's news pages, in a stable order."""
    files = _real_news_files()
    if not files:
        raise RuntimeError(missing_pages_message("news"))
    out = []
    for path in files:
        html = gzip.decompress(path.read_bytes())
        found = _TITLE.search(html.decode("utf-8", "replace"))
        title = (found.group(1).strip() if found else "") or path.name.split(".")[0][:16]
        out.append((title, html))
    return out


def _numbered(html: bytes, i: int, url: str) -> bytes:
    """The page as copy i at `url`: a paragraph naming the copy before its first long
    paragraph, and its canonical link and og:url pointing at `url` (newsmon honours them, so
    the copies would otherwise all be one article)."""
    text = _CANONICAL.sub(f'<link rel="canonical" href="{url}">', html.decode("utf-8", "replace"))
    text = _OG_URL.sub(f'<meta property="og:url" content="{url}">', text)
    found = _LONG_PARAGRAPH.search(text)
    at = found.start() if found else len(text)
    extra = f"<p>Update number {i} to this report, filed from the newsdesk.</p>"
    return (text[:at] + extra + text[at:]).encode("utf-8")


def build_pages(n: int, hosts: int = 16, html: str = "demo") -> dict[tuple[str, str], Page]:
    """n article pages plus a sitemap and robots.txt per host, keyed by (host, path)."""
    corpus = load_corpus()
    outlets = {o["host"]: o for o in corpus["outlets"]}
    base = corpus["articles"]
    news = real_news_pages() if html == "news" else []
    per_host: dict[str, list[dict]] = {}
    pages: dict[tuple[str, str], Page] = {}
    for i in range(n):
        original = base[i % len(base)]
        host = bench_host(i % hosts)
        outlet = {**outlets[original["outlet"]], "host": host, "sitemap_index": None,
                  "sitemap": SITEMAP_PATH}
        article = {
            **original,
            "outlet": host,
            "path": f"/bench/{i}/{original['slug']}",
            "feed_tracking": False,
            "paragraphs": [f"Update number {i} to this report, filed from the newsdesk.",
                           *original["paragraphs"]],
        }
        related = per_host.setdefault(host, [])[-3:]
        if news:
            title, page = news[i % len(news)]
            article.update(title=title, path=f"/bench/{i}/news-{i % len(news)}")
            body = _numbered(page, i, f"http://{host}{article['path']}")
        else:
            body = ARTICLE_TEMPLATES[original["outlet"]](outlet, article, related).encode("utf-8")
        pages[(host, article["path"])] = Page(body, "text/html; charset=utf-8")
        per_host[host].append(article)
    for host, articles in per_host.items():
        outlet = {**outlets["outlet-a.test"], "host": host, "sitemap_index": None,
                  "sitemap": SITEMAP_PATH}
        pages[(host, SITEMAP_PATH)] = Page(
            news_sitemap(outlet, articles).encode("utf-8"), "application/xml; charset=utf-8"
        )
        pages[(host, "/robots.txt")] = Page(
            robots_txt(outlet).encode("utf-8"), "text/plain; charset=utf-8"
        )
    return pages


def article_urls(pages: dict[tuple[str, str], Page]) -> list[tuple[str, str]]:
    return [(host, path) for host, path in pages if path.startswith("/bench/")]


def sources_toml(hosts: list[str]) -> str:
    """One newsmon source per bench host, discovered through its sitemap."""
    return "\n".join(
        f'[[source]]\nname = "{host}"\nsitemaps = ["http://{host}{SITEMAP_PATH}"]\n'
        'language = "en"\n'
        for host in sorted(hosts)
    )


def _serve(n: int, hosts: int, html: str, port_queue: multiprocessing.Queue,
           stop: Event) -> None:
    from demosite.server import DemoSite

    with DemoSite(pages=build_pages(n, hosts, html)) as site:
        port_queue.put(site.port)
        stop.wait()


@dataclass(frozen=True)
class Served:
    port: int
    urls: list[tuple[str, str]]
    hosts: list[str]

    @property
    def resolve_map(self) -> dict[str, str]:
        return {host: f"127.0.0.1:{self.port}" for host in self.hosts}

    @property
    def sources_toml(self) -> str:
        return sources_toml(self.hosts)


def _wait_for_port(port_queue: multiprocessing.Queue, child: multiprocessing.Process) -> int:
    """The child's port, or an error as soon as the child dies (it prints its traceback)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            return port_queue.get(timeout=0.5)
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError("the bench site process died before serving") from None
    raise RuntimeError("the bench site process did not start within 120 s")


@contextmanager
def serve(pages: int, hosts: int = 16, html: str = "demo") -> Iterator[Served]:
    """Serve `pages` bench pages from a child process for the duration of the block."""
    ctx = multiprocessing.get_context("spawn")
    port_queue = ctx.Queue()
    stop = ctx.Event()
    child = ctx.Process(target=_serve, args=(pages, hosts, html, port_queue, stop), daemon=True)
    child.start()
    try:
        port = _wait_for_port(port_queue, child)
        built = build_pages(pages, hosts, html)  # the parent needs the URL list only:
        served = Served(port, article_urls(built), sorted({host for host, _ in built}))
        del built  # the pages themselves live in the server process (RSS figures stay ours)
        yield served
    finally:
        stop.set()
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
