"""Many synthetic outlets for scale tests: N hosts, each with robots.txt, an RSS feed of K
entries and those K article pages, built from the demo corpus (same texts and templates).

Outlet i is `src-NNNN.test`; its entries are copies of demo articles, each with a sentence
naming the outlet and entry so every page has its own text. `bench/sources_scale.py` and
`tests/test_many_sources.py` serve them with demosite.server.DemoSite.

    pages = build_outlets(100, entries=2)
    sources = outlets_sources_toml(100)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from demosite.site import (
    ARTICLE_TEMPLATES,
    Page,
    _cacheable,
    _html,
    load_corpus,
    rss_feed,
)

FEED_PATH = "/rss.xml"
_NEWEST = datetime(2021, 12, 15, 12, 0, tzinfo=UTC)


def outlet_host(i: int) -> str:
    return f"src-{i:04d}.test"


def robots_for(crawl_delay: float | None = None) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if crawl_delay is not None:
        lines.append(f"Crawl-delay: {crawl_delay:g}")
    return "\n".join(lines) + "\n"


def build_outlets(
    n: int, entries: int = 2, crawl_delay: dict[int, float] | None = None,
) -> dict[tuple[str, str], Page]:
    """Every page of `n` outlets with `entries` articles each, keyed by (host, path)."""
    corpus = load_corpus()
    templates = {o["host"]: o for o in corpus["outlets"]}
    base = corpus["articles"]
    pages: dict[tuple[str, str], Page] = {}
    for i in range(n):
        host = outlet_host(i)
        articles = []
        for j in range(entries):
            original = base[(i * entries + j) % len(base)]
            outlet = {**templates[original["outlet"]], "host": host, "brand": f"Source {i}"}
            article = {
                **original,
                "outlet": host,
                "path": f"/news/{j}/{original['slug']}",
                "feed_tracking": False,
                "published": (_NEWEST - timedelta(hours=j)).isoformat(),
                "paragraphs": [f"Report {j} of source {i}, filed from the newsdesk.",
                               *original["paragraphs"]],
            }
            html = ARTICLE_TEMPLATES[original["outlet"]](outlet, article, [])
            pages[(host, article["path"])] = _html(html)
            articles.append(article)
        outlet = {**templates["outlet-a.test"], "host": host, "brand": f"Source {i}"}
        pages[(host, FEED_PATH)] = _cacheable(
            rss_feed(outlet, articles), "application/rss+xml; charset=utf-8", _NEWEST
        )
        delay = (crawl_delay or {}).get(i)
        pages[(host, "/robots.txt")] = Page(robots_for(delay).encode("utf-8"),
                                            "text/plain; charset=utf-8")
    return pages


def outlets_sources_toml(n: int) -> str:
    """One newsmon source per outlet, discovered through its feed."""
    return "\n".join(
        f'[[source]]\nname = "Source {i}"\nfeeds = ["http://{outlet_host(i)}{FEED_PATH}"]\n'
        for i in range(n)
    )


def article_paths(pages: dict[tuple[str, str], Page]) -> list[tuple[str, str]]:
    return [(host, path) for host, path in pages if path.startswith("/news/")]
