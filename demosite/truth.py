"""The planted ground truth of the demo site, computed from corpus.json for end-to-end tests.

Pipeline tests compare what newsmon stored with this: one article per canonical URL (the
tracking-parameter URL is an alternate of the same article), the wire copy recognised as a copy
of its earlier original, and articles grouped into the planted events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from demosite.site import article_url, feed_url, load_corpus, published


@dataclass(frozen=True)
class ExpectedArticle:
    """One article newsmon should end up with."""

    canonical_url: str
    outlet: str  # host, e.g. "outlet-a.test"
    source: str  # the outlet's name in sources.toml, e.g. "Outlet A"
    title: str
    author: str
    published: datetime
    planted_event: str  # event label; "single:<slug>" for an unrelated single story
    kind: str  # "report" | "wire" | "single"
    copy_of_url: str | None = None  # canonical URL of the wire original, for the later copy
    alternate_urls: tuple[str, ...] = ()  # other URLs serving the same page
    text: str = ""  # the article body as published (paragraphs joined by newlines)
    language: str = "en"  # its outlet's language (ISO 639-1)


def expected_articles(corpus: Mapping | None = None) -> list[ExpectedArticle]:
    """Every planted article, in corpus order."""
    corpus = load_corpus() if corpus is None else corpus
    names = {o["host"]: o["name"] for o in corpus["outlets"]}
    languages = {o["host"]: o.get("language", "en") for o in corpus["outlets"]}
    urls = {a["slug"]: article_url(a) for a in corpus["articles"]}
    out = []
    for a in corpus["articles"]:
        url = urls[a["slug"]]
        alternates = tuple(u for u in [feed_url(a)] if u != url)
        out.append(
            ExpectedArticle(
                canonical_url=url,
                outlet=a["outlet"],
                source=names[a["outlet"]],
                title=a["title"],
                author=a["author"],
                published=published(a),
                planted_event=a["planted_event"] or f"single:{a['slug']}",
                kind=a["kind"],
                copy_of_url=urls[a["copy_of"]] if a.get("copy_of") else None,
                alternate_urls=alternates,
                text="\n".join(a["paragraphs"]),
                language=languages[a["outlet"]],
            )
        )
    return out


def planted_groups(corpus: Mapping | None = None) -> dict[str, set[str]]:
    """Event label -> canonical URLs; singles are one-member groups, the wire pair one group."""
    groups: dict[str, set[str]] = {}
    for art in expected_articles(corpus):
        groups.setdefault(art.planted_event, set()).add(art.canonical_url)
    return groups


def planted_events(corpus: Mapping | None = None) -> dict[str, set[str]]:
    """Only the groups with two or more articles (what event clustering must find)."""
    return {k: v for k, v in planted_groups(corpus).items() if len(v) > 1}
