"""Render the demo news web from corpus.json: pure functions, no I/O besides reading the corpus.

Four fictional outlets each get a home page (a list of links, not an article), article pages in
their own template (different markup and boilerplate that an extractor must drop), a feed
(RSS 2.0 or Atom), a Google News sitemap (outlet B behind a sitemap index) and robots.txt.
`build_site()` returns every page keyed by (host, path); demosite.server serves them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from importlib import resources
from pathlib import Path

TRACKING_QUERY = "utm_source=rss&utm_medium=feed"


@dataclass(frozen=True)
class Page:
    """One HTTP resource: body, content type and extra headers (ETag, Last-Modified...)."""

    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


def load_corpus() -> dict:
    """The committed corpus (outlets and articles), read from the package data."""
    text = resources.files("demosite").joinpath("corpus.json").read_text(encoding="utf-8")
    return json.loads(text)


def article_url(article: Mapping) -> str:
    """Canonical (clean) absolute URL of an article."""
    return f"http://{article['outlet']}{article['path']}"


def feed_url(article: Mapping) -> str:
    """The URL a feed links to: with tracking parameters for the planted two-URL article."""
    url = article_url(article)
    return f"{url}?{TRACKING_QUERY}" if article.get("feed_tracking") else url


def published(article: Mapping) -> datetime:
    return datetime.fromisoformat(article["published"])


def outlet_articles(corpus: Mapping, host: str) -> list[dict]:
    """An outlet's articles, newest first (the order of fronts and feeds)."""
    items = [a for a in corpus["articles"] if a["outlet"] == host]
    return sorted(items, key=published, reverse=True)


# ---------------------------------------------------------------------------------------------
# Boilerplate: text that appears on every article page of an outlet and is never article text.
# Tests check that each string is on the page and absent from the extracted text.

BOILERPLATE: dict[str, tuple[str, ...]] = {
    "outlet-a.test": (
        "We use cookies to improve your experience on The Harbour Courier.",
        "Accept all cookies",
        "Advertisement",
        "Share on Facebook",
        "Related stories",
        "Comments (2)",
        "Great reporting, thanks for keeping us informed.",
        "All rights reserved. The Harbour Courier is a demo outlet.",
    ),
    "outlet-b.test": (
        "Meridian Daily and its partners store cookies on your device.",
        "Manage preferences",
        "Advertisement",
        "Share this article",
        "More from Meridian Daily",
        "Join the conversation",
        "I have been saying this for years and nobody listens.",
        "Sign up for the Meridian morning briefing",
    ),
    "outlet-c.test": (
        "This website uses cookies. Read our cookie notice.",
        "Advertisement",
        "Share this:",
        "You may also like",
        "Leave a Reply",
        "Your email address will not be published.",
        "Proudly serving Northfield readers since 1887.",
    ),
    "outlet-d.test": (
        "Your privacy matters to Coastline Review: we use cookies for analytics.",
        "Advertisement",
        "Copy link",
        "Most read",
        "Reader comments",
        "Interesting piece but the headline oversells it.",
        "Coastline Review is a demo publication.",
    ),
}

# The furniture of the plain template of outlets E and F (#27), in their language: cookie
# notice, advert, share, related, footer.
INTL_FURNITURE: dict[str, tuple[str, ...]] = {
    "ru": (
        "Мы используем файлы cookie, чтобы сайт работал лучше.",
        "Реклама",
        "Поделиться",
        "Читайте также",
        "Все права защищены. Демонстрационное издание.",
    ),
    "de": (
        "Wir verwenden Cookies, um unser Angebot zu verbessern.",
        "Anzeige",
        "Artikel teilen",
        "Mehr zum Thema",
        "Alle Rechte vorbehalten. Ein Demo-Angebot.",
    ),
}
BOILERPLATE["outlet-e.test"] = INTL_FURNITURE["ru"]
BOILERPLATE["outlet-f.test"] = INTL_FURNITURE["de"]


def _date_line(article: Mapping) -> str:
    return published(article).strftime("%d %B %Y, %H:%M")


def _head(outlet: Mapping, article: Mapping | None, title: str, extra: str = "") -> str:
    """<head> with the metadata real outlets carry (title, OpenGraph, author, canonical)."""
    meta = [f"<title>{escape(title)}</title>"]
    if article is not None:
        url = escape(article_url(article))
        meta += [
            f'<link rel="canonical" href="{url}">',
            f'<meta property="og:title" content="{escape(article["title"])}">',
            '<meta property="og:type" content="article">',
            f'<meta property="og:url" content="{url}">',
            f'<meta property="og:site_name" content="{escape(outlet["brand"])}">',
            f'<meta property="article:published_time" content="{article["published"]}">',
            f'<meta name="author" content="{escape(article["author"])}">',
            f'<meta name="description" content="{escape(_summary(article))}">',
        ]
    else:
        meta.append(f'<link rel="canonical" href="http://{outlet["host"]}/">')
    feed = outlet["feed"]
    feed_type = "application/atom+xml" if feed["format"] == "atom" else "application/rss+xml"
    meta.append(
        f'<link rel="alternate" type="{feed_type}" title="{escape(outlet["brand"])}" '
        f'href="http://{outlet["host"]}{feed["path"]}">'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{outlet.get("language", "en")}">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        + "\n".join(meta)
        + extra
        + "\n</head>\n"
    )


def _summary(article: Mapping, limit: int = 200) -> str:
    first = article["paragraphs"][0]
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _paragraphs(article: Mapping, indent: str = "") -> str:
    return "\n".join(f"{indent}<p>{escape(p)}</p>" for p in article["paragraphs"])


def _link_list(items: list[dict], li_class: str = "") -> str:
    cls = f' class="{li_class}"' if li_class else ""
    return "\n".join(
        f'<li{cls}><a href="{escape(a["path"])}">{escape(a["title"])}</a></li>' for a in items
    )


# ---------------------------------------------------------------------------------------------
# Outlet A, "The Harbour Courier": semantic HTML5, ad slot inside the story body.


def _article_a(outlet: Mapping, article: Mapping, related: list[dict]) -> str:
    paras = [f"<p>{escape(p)}</p>" for p in article["paragraphs"]]
    ad = '<div class="ad-slot ad-inline" aria-hidden="true"><span>Advertisement</span></div>'
    paras.insert(min(2, len(paras)), ad)
    body = "\n".join(paras)
    return f"""{_head(outlet, article, f"{article['title']} | {outlet['brand']}")}<body>
<div id="cookie-banner" class="cookie-banner">
<p>We use cookies to improve your experience on The Harbour Courier.</p>
<button>Accept all cookies</button> <button>Reject</button>
</div>
<header class="masthead"><a class="logo" href="/">The Harbour Courier</a>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/">World</a></li>
<li><a href="/">Business</a></li><li><a href="/">Science</a></li></ul></nav>
</header>
<main>
<article class="story">
<h1 class="story-headline">{escape(article["title"])}</h1>
<p class="byline">By <span class="author">{escape(article["author"])}</span> &middot;
<time datetime="{article["published"]}">{_date_line(article)}</time></p>
<div class="story-body">
{body}
</div>
</article>
<ul class="share-buttons"><li><a href="#">Share on Facebook</a></li>
<li><a href="#">Share on X</a></li><li><a href="#">Email</a></li></ul>
<aside class="related"><h2>Related stories</h2><ul>
{_link_list(related)}
</ul></aside>
<section id="comments" class="comments"><h2>Comments (2)</h2>
<div class="comment"><b>harbourwatcher</b>
<p>Great reporting, thanks for keeping us informed.</p></div>
<div class="comment"><b>j.m.</b><p>Would like to see a follow-up on this.</p></div>
</section>
</main>
<footer class="site-footer"><p>&copy; 2026 All rights reserved. The Harbour Courier is a demo
outlet.</p><a href="/robots.txt">Robots</a></footer>
</body>
</html>
"""


def _home_a(outlet: Mapping, articles: list[dict]) -> str:
    return f"""{_head(outlet, None, f"{outlet['brand']} | News from the harbour and beyond")}<body>
<header class="masthead"><a class="logo" href="/">The Harbour Courier</a>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/">World</a></li></ul></nav>
</header>
<main class="front"><h1>Latest news</h1>
<ul class="headline-list">
{_link_list(articles, "headline")}
</ul></main>
<footer class="site-footer"><p>&copy; 2026 The Harbour Courier</p></footer>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Outlet B, "Meridian Daily": div soup with JSON-LD, no semantic tags.


def _article_b(outlet: Mapping, article: Mapping, related: list[dict]) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article["title"],
        "datePublished": article["published"],
        "author": {"@type": "Person", "name": article["author"]},
        "publisher": {"@type": "Organization", "name": outlet["brand"]},
        "mainEntityOfPage": article_url(article),
    }
    ld_json = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
    extra = f'\n<script type="application/ld+json">{ld_json}</script>'
    title = f"{article['title']} - {outlet['brand']}"
    return f"""{_head(outlet, article, title, extra)}<body class="md-page">
<div class="md-topbar"><div class="md-logo"><a href="/">MERIDIAN DAILY</a></div>
<div class="md-menu"><a href="/">Top stories</a> <a href="/">Politics</a> <a href="/">Tech</a>
<a href="/">Sport</a></div></div>
<div class="md-promo md-leaderboard"><span class="md-ad-label">Advertisement</span></div>
<div class="md-content">
<div class="md-article-header"><h1 class="md-headline">{escape(article["title"])}</h1>
<div class="md-meta"><span class="md-author">{escape(article["author"])}</span>
<span class="md-date">{_date_line(article)}</span></div></div>
<div class="md-article-text">
{_paragraphs(article)}
</div>
<div class="md-social-share"><span>Share this article</span> <a href="#">Facebook</a>
<a href="#">LinkedIn</a> <a href="#">WhatsApp</a></div>
<div class="md-newsletter"><p>Sign up for the Meridian morning briefing</p>
<form><input type="email" placeholder="you@example.com"><button>Subscribe</button></form></div>
<div class="md-more"><div class="md-more-title">More from Meridian Daily</div>
<ul>
{_link_list(related)}
</ul></div>
<div class="md-comment-list" id="comments">
<div class="md-comments-title">Join the conversation</div>
<div class="md-comment"><span class="md-user">northern_light</span>
<p>I have been saying this for years and nobody listens.</p></div></div>
</div>
<div class="md-footer">&copy; Meridian Daily 2026 &middot; <a href="/">About</a>
&middot; <a href="/">Contact</a></div>
<div class="md-cookie-consent" role="dialog"><p>Meridian Daily and its partners store cookies on
your device.</p><button>Accept</button><button>Manage preferences</button></div>
</body>
</html>
"""


def _home_b(outlet: Mapping, articles: list[dict]) -> str:
    items = "\n".join(
        f'<div class="md-teaser"><a href="{escape(a["path"])}">{escape(a["title"])}</a>'
        f' <span class="md-date">{published(a).date().isoformat()}</span></div>'
        for a in articles
    )
    return f"""{_head(outlet, None, f"{outlet['brand']} - Top stories")}<body class="md-page">
<div class="md-topbar"><div class="md-logo"><a href="/">MERIDIAN DAILY</a></div></div>
<div class="md-front"><div class="md-section-title">Top stories</div>
{items}
</div>
<div class="md-footer">&copy; Meridian Daily 2026</div>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Outlet C, "Northfield Gazette": WordPress-style markup with a sidebar and a comment form.


def _post_id(article: Mapping) -> int:
    """A stable WordPress-like post number (hash() is salted per process)."""
    return int(hashlib.sha256(article["slug"].encode()).hexdigest()[:6], 16) % 100000


def _article_c(outlet: Mapping, article: Mapping, related: list[dict]) -> str:
    return f"""{_head(outlet, article, f"{article['title']} – {outlet['brand']}")}<body
 class="post-template-default single single-post">
<div id="page" class="site">
<div id="cookie-notice" class="cn-notice"><span>This website uses cookies. Read our cookie notice.
</span><a href="#" class="cn-accept">OK</a></div>
<header id="masthead" class="site-header"><p class="site-title"><a href="/">Northfield Gazette</a>
</p><nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li><a href="/">News</a></li><li><a href="/">Opinion</a></li><li><a href="/">Obituaries</a></li>
</ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area">
<main id="main" class="site-main">
<article id="post-{_post_id(article)}" class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{escape(article["title"])}</h1>
<div class="entry-meta"><span class="posted-on"><time class="entry-date published"
 datetime="{article["published"]}">{_date_line(article)}</time></span>
<span class="byline"> by <span class="author vcard">{escape(article["author"])}</span></span></div>
</header>
<div class="entry-content">
{_paragraphs(article)}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>
<ul><li><a class="share-twitter" href="#">Twitter</a></li>
<li><a class="share-facebook" href="#">Facebook</a></li></ul></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline">You may
also like</h3><ul>
{_link_list(related)}
</ul></div>
</div>
</article>
<div id="comments" class="comments-area"><div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form class="comment-form"><p class="comment-notes">Your email address will not be published.
</p><textarea name="comment"></textarea><input type="submit" value="Post Comment"></form>
</div></div>
</main></div>
<aside id="secondary" class="widget-area"><section class="widget widget_ad">
<p class="ad-label">Advertisement</p></section></aside>
</div>
<footer id="colophon" class="site-footer"><div class="site-info">Proudly serving Northfield
readers since 1887.</div></footer>
</div>
</body>
</html>
"""


def _home_c(outlet: Mapping, articles: list[dict]) -> str:
    items = "\n".join(
        f'<article class="post-summary"><h2 class="entry-title"><a href="{escape(a["path"])}">'
        f"{escape(a['title'])}</a></h2></article>"
        for a in articles
    )
    return f"""{_head(outlet, None, f"{outlet['brand']} – Local and world news")}<body
 class="home blog">
<div id="page" class="site"><header id="masthead" class="site-header">
<p class="site-title"><a href="/">Northfield Gazette</a></p></header>
<main id="main" class="site-main">
{items}
</main>
<footer id="colophon" class="site-footer">Northfield Gazette</footer></div>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Outlet D, "Coastline Review": BEM components, data attributes, schema.org microdata.


def _article_d(outlet: Mapping, article: Mapping, related: list[dict]) -> str:
    return f"""{_head(outlet, article, f"{article['title']} · {outlet['brand']}")}<body
 class="layout-d">
<div data-component="cookie-consent" class="consent"><p class="consent__text">Your privacy matters
to Coastline Review: we use cookies for analytics.</p><button class="consent__ok">Got it</button>
</div>
<nav aria-label="Primary" class="primary-nav"><a class="primary-nav__brand" href="/">Coastline
Review</a><a href="/">World</a><a href="/">Economy</a><a href="/">Culture</a></nav>
<main id="content" itemscope itemtype="https://schema.org/NewsArticle">
<header class="article__header">
<h1 class="article__title" itemprop="headline">{escape(article["title"])}</h1>
<address class="article__byline" itemprop="author">{escape(article["author"])}</address>
<time class="article__date" itemprop="datePublished"
 datetime="{article["published"]}">{_date_line(article)}</time>
</header>
<section class="article__share" data-component="share"><button>Copy link</button>
<button>Post</button></section>
<div class="article__body" itemprop="articleBody">
{_paragraphs(article)}
</div>
<div class="advert advert--mpu" data-component="ad-slot">Advertisement</div>
<section class="article__comments" data-component="comments"><h2>Reader comments</h2>
<ol><li class="comment"><span class="comment__name">kelp_forest</span>
<p class="comment__text">Interesting piece but the headline oversells it.</p></li></ol></section>
<section class="more-from" data-component="most-read"><h2>Most read</h2><ol>
{_link_list(related, "more-from__item")}
</ol></section>
</main>
<footer class="site-footer"><p>Coastline Review is a demo publication.</p></footer>
</body>
</html>
"""


def _home_d(outlet: Mapping, articles: list[dict]) -> str:
    return f"""{_head(outlet, None, f"{outlet['brand']} · Front page")}<body class="layout-d">
<nav aria-label="Primary" class="primary-nav"><a href="/">Coastline Review</a></nav>
<main id="content" class="front"><h1 class="front__title">Front page</h1><ol class="river">
{_link_list(articles, "river__item")}
</ol></main>
<footer class="site-footer"><p>Coastline Review</p></footer>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Outlets E and F (#27), a Russian and a German outlet: one plain template, the outlet's own
# language for its furniture (BOILERPLATE: cookie notice, advert, share, related, footer).


def _article_intl(outlet: Mapping, article: Mapping, related: list[dict]) -> str:
    cookies, advert, share, more, footer = INTL_FURNITURE[outlet["language"]]
    return f"""{_head(outlet, article, f"{article['title']} — {outlet['brand']}")}<body>
<div class="cookies"><p>{escape(cookies)}</p><button>OK</button></div>
<header class="masthead"><a href="/">{escape(outlet["brand"])}</a></header>
<article class="story">
<h1>{escape(article["title"])}</h1>
<p class="meta"><span class="author">{escape(article["author"])}</span>
<time datetime="{article["published"]}">{_date_line(article)}</time></p>
<div class="story-text">
{_paragraphs(article)}
</div>
<aside class="banner">{escape(advert)}</aside>
<p class="share"><a href="#">{escape(share)}</a></p>
</article>
<aside class="related"><h2>{escape(more)}</h2><ul>
{_link_list(related)}
</ul></aside>
<footer><p>{escape(footer)}</p></footer>
</body>
</html>
"""


def _home_intl(outlet: Mapping, articles: list[dict]) -> str:
    return f"""{_head(outlet, None, outlet["brand"])}<body>
<header class="masthead"><a href="/">{escape(outlet["brand"])}</a></header>
<main><ul class="river">
{_link_list(articles)}
</ul></main>
</body>
</html>
"""


Template = Callable[[Mapping, Mapping, list[dict]], str]
FrontTemplate = Callable[[Mapping, list[dict]], str]

ARTICLE_TEMPLATES: dict[str, Template] = {
    "outlet-a.test": _article_a,
    "outlet-b.test": _article_b,
    "outlet-c.test": _article_c,
    "outlet-d.test": _article_d,
    "outlet-e.test": _article_intl,
    "outlet-f.test": _article_intl,
}
FRONT_TEMPLATES: dict[str, FrontTemplate] = {
    "outlet-a.test": _home_a,
    "outlet-b.test": _home_b,
    "outlet-c.test": _home_c,
    "outlet-d.test": _home_d,
    "outlet-e.test": _home_intl,
    "outlet-f.test": _home_intl,
}


# ---------------------------------------------------------------------------------------------
# Feeds, sitemaps, robots.txt


def rss_feed(outlet: Mapping, articles: list[dict]) -> str:
    """RSS 2.0 with absolute links (tracking parameters on the planted two-URL article)."""
    items = "\n".join(
        f"""<item>
<title>{escape(a["title"])}</title>
<link>{escape(feed_url(a))}</link>
<guid isPermaLink="false">{outlet["host"]}:{a["slug"]}</guid>
<pubDate>{format_datetime(published(a))}</pubDate>
<dc:creator>{escape(a["author"])}</dc:creator>
<description>{escape(_summary(a))}</description>
</item>"""
        for a in articles
    )
    last = format_datetime(max(published(a) for a in articles))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{escape(outlet["brand"])}</title>
<link>http://{outlet["host"]}/</link>
<description>Latest stories from {escape(outlet["brand"])}</description>
<language>{outlet.get("language", "en")}</language>
<lastBuildDate>{last}</lastBuildDate>
{items}
</channel>
</rss>
"""


def atom_feed(outlet: Mapping, articles: list[dict]) -> str:
    """Atom 1.0 with absolute links."""
    entries = "\n".join(
        f"""<entry>
<title>{escape(a["title"])}</title>
<link rel="alternate" type="text/html" href="{escape(feed_url(a))}"/>
<id>tag:{outlet["host"]},{published(a).year}:{a["slug"]}</id>
<published>{a["published"]}</published>
<updated>{a["published"]}</updated>
<author><name>{escape(a["author"])}</name></author>
<summary>{escape(_summary(a))}</summary>
</entry>"""
        for a in articles
    )
    updated = max(published(a) for a in articles).isoformat()
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.get("language", "en")}">
<title>{escape(outlet["brand"])}</title>
<link rel="alternate" href="http://{outlet["host"]}/"/>
<link rel="self" href="http://{outlet["host"]}{outlet["feed"]["path"]}"/>
<id>http://{outlet["host"]}/</id>
<updated>{updated}</updated>
{entries}
</feed>
"""


def news_sitemap(outlet: Mapping, articles: list[dict]) -> str:
    """Google News sitemap listing clean (canonical) URLs."""
    urls = "\n".join(
        f"""<url>
<loc>{escape(article_url(a))}</loc>
<lastmod>{a["published"]}</lastmod>
<news:news>
<news:publication><news:name>{escape(outlet["brand"])}</news:name>\
<news:language>en</news:language></news:publication>
<news:publication_date>{a["published"]}</news:publication_date>
<news:title>{escape(a["title"])}</news:title>
</news:news>
</url>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""


def sitemap_index(host: str, children: Mapping[str, datetime]) -> str:
    """A sitemap index pointing at child sitemaps (path -> last modification)."""
    entries = "\n".join(
        f"<sitemap><loc>http://{host}{path}</loc><lastmod>{mod.isoformat()}</lastmod></sitemap>"
        for path, mod in children.items()
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</sitemapindex>
"""


def sitemap_paths(outlet: Mapping, articles: list[dict]) -> dict[str, list[dict]]:
    """News sitemap path -> its articles ("{year}" in the pattern splits the outlet by year)."""
    groups: dict[str, list[dict]] = {}
    for a in articles:
        groups.setdefault(outlet["sitemap"].format(year=published(a).year), []).append(a)
    return groups


def entry_sitemap(outlet: Mapping) -> str:
    """Path of the sitemap to configure for an outlet (its index when it has one)."""
    return outlet["sitemap_index"] or outlet["sitemap"]


def robots_txt(outlet: Mapping) -> str:
    lines = ["User-agent: *", "Allow: /", ""]
    lines.append(f"Sitemap: http://{outlet['host']}{entry_sitemap(outlet)}")
    return "\n".join(lines) + "\n"


def _cacheable(text: str, content_type: str, modified: datetime) -> Page:
    """A page with validators, so that clients can make conditional GETs."""
    body = text.encode("utf-8")
    headers = {
        "ETag": '"' + hashlib.sha256(body).hexdigest()[:20] + '"',
        "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
    }
    return Page(body, content_type, headers)


def _html(text: str) -> Page:
    return Page(text.encode("utf-8"), "text/html; charset=utf-8")


def build_site(corpus: Mapping | None = None) -> dict[tuple[str, str], Page]:
    """Every page of the demo web, keyed by (host, path)."""
    corpus = load_corpus() if corpus is None else corpus
    pages: dict[tuple[str, str], Page] = {}
    for outlet in corpus["outlets"]:
        host = outlet["host"]
        articles = outlet_articles(corpus, host)
        newest = max(published(a) for a in articles)
        pages[(host, "/")] = _html(FRONT_TEMPLATES[host](outlet, articles))
        for article in articles:
            related = [a for a in articles if a is not article][:3]
            html = ARTICLE_TEMPLATES[host](outlet, article, related)
            pages[(host, article["path"])] = _html(html)

        feed = outlet["feed"]
        if feed["format"] == "atom":
            pages[(host, feed["path"])] = _cacheable(
                atom_feed(outlet, articles), "application/atom+xml; charset=utf-8", newest
            )
        else:
            pages[(host, feed["path"])] = _cacheable(
                rss_feed(outlet, articles), "application/rss+xml; charset=utf-8", newest
            )

        groups = sitemap_paths(outlet, articles)
        for path, members in groups.items():
            modified = max(published(a) for a in members)
            pages[(host, path)] = _cacheable(
                news_sitemap(outlet, members), "application/xml; charset=utf-8", modified
            )
        if outlet["sitemap_index"]:
            children = {p: max(published(a) for a in m) for p, m in sorted(groups.items())}
            pages[(host, outlet["sitemap_index"])] = _cacheable(
                sitemap_index(host, children), "application/xml; charset=utf-8", newest
            )
        pages[(host, "/robots.txt")] = Page(
            robots_txt(outlet).encode("utf-8"), "text/plain; charset=utf-8"
        )
    return pages


# ---------------------------------------------------------------------------------------------
# newsmon configuration for the demo outlets


def sources_toml(corpus: Mapping | None = None, base: str = "http://{host}") -> str:
    """newsmon's sources.toml for the demo outlets; `base` may point hosts elsewhere."""
    corpus = load_corpus() if corpus is None else corpus
    blocks = [
        "# The offline demo outlets served by demosite.server (generated by "
        "demosite.site.write_sources_toml).\n"
    ]
    for outlet in corpus["outlets"]:
        prefix = base.format(host=outlet["host"])
        feeds = [f"{prefix}{outlet['feed']['path']}"]
        sitemaps = [f"{prefix}{entry_sitemap(outlet)}"]
        blocks.append(
            "[[source]]\n"
            f"name = {json.dumps(outlet['name'])}\n"
            f"feeds = {json.dumps(feeds)}\n"
            f"sitemaps = {json.dumps(sitemaps)}\n"
            f'language = {json.dumps(outlet.get("language", "en"))}\n'
        )
    return "\n".join(blocks)


def write_sources_toml(path: str | Path, base: str = "http://{host}") -> Path:
    """Write sources_toml() to `path` and return the path."""
    path = Path(path)
    path.write_text(sources_toml(base=base), encoding="utf-8")
    return path
