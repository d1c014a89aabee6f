"""A small news web whose clock the caller sets: outlets publish, back-date, update; feeds
list only their last N entries; sitemaps list a window of days; documents and pages go down.

    world = NewsWorld(now=T0)
    outlet = world.add_outlet("lag.test", feed_limit=20)
    world.publish("lag.test", "first", published=T0 - timedelta(hours=1))
    with world.serve() as site:           # a DemoSite; NEWSMON_RESOLVE=format_resolve(site...)
        world.write_sources(path)         # sources.toml for the outlets
        ... run the monitor ...
        world.now += timedelta(days=1)    # no sleeping: the pages follow the clock
        world.refresh(site)

The pages are rendered for `world.now` on `refresh`, served by demosite.server.DemoSite (which
answers conditional GETs from each page's ETag). Used by tests/test_never_lose.py and
scripts/simworld.py.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from demosite.server import DemoSite
from demosite.site import Page


@dataclass
class Story:
    """One article: `published` is the date its feed shows (late or back-dated at will),
    `appears` when it first shows up in the feed and sitemap, `versions` when each version
    came out (the first is its first version; later ones are updates)."""

    host: str
    slug: str
    title: str
    published: datetime
    appears: datetime
    versions: list[datetime]

    @property
    def url(self) -> str:
        return f"http://{self.host}/news/{self.slug}"

    def version_at(self, now: datetime) -> int:
        """1 for the first version, 2 after the first update, ... (0: not out yet)."""
        return sum(stamp <= now for stamp in self.versions)

    def updated_at(self, now: datetime) -> datetime:
        return max(stamp for stamp in self.versions if stamp <= now)


@dataclass
class Outlet:
    host: str
    feed_limit: int | None = None  # the feed lists only the newest N entries
    has_sitemap: bool = True
    sitemap_days: float | None = None  # the sitemap lists entries of the last N days only
    sticky_sitemap_etag: bool = False  # a server whose sitemap ETag never changes (broken)
    # a broken CMS: from this moment its feed and sitemap answer 200 but list nothing new
    frozen_since: datetime | None = None
    stories: list[Story] = field(default_factory=list)

    @property
    def feed_url(self) -> str:
        return f"http://{self.host}/feed.xml"

    @property
    def sitemap_url(self) -> str:
        return f"http://{self.host}/sitemap.xml"


@dataclass
class NewsWorld:
    now: datetime
    outlets: dict[str, Outlet] = field(default_factory=dict)
    down: set[tuple[str, str]] = field(default_factory=set)  # (host, path) answering 500 now
    dead: set[str] = field(default_factory=set)  # hosts answering 500 to everything now
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the world ---------------------------------------------------------------------------

    def add_outlet(self, host: str, **options) -> Outlet:
        self.outlets[host] = Outlet(host, **options)
        return self.outlets[host]

    def publish(self, host: str, slug: str, published: datetime | None = None,
                appears: datetime | None = None, title: str | None = None) -> Story:
        """A story that shows up at `appears` (default now) dated `published` (default the
        moment it appears)."""
        appears = appears or self.now
        story = Story(host, slug, title or _title(slug), published or appears, appears,
                      [appears])
        self.outlets[host].stories.append(story)
        return story

    def update(self, host: str, slug: str, at: datetime | None = None) -> Story:
        """A new version of a story: its text changes and its feed/sitemap `updated` moves."""
        story = self.story(host, slug)
        story.versions.append(at or self.now)
        return story

    def story(self, host: str, slug: str) -> Story:
        return next(s for s in self.outlets[host].stories if s.slug == slug)

    def stories(self) -> list[Story]:
        return [s for outlet in self.outlets.values() for s in outlet.stories]

    # --- what a reader sees now ----------------------------------------------------------------

    def listed_now(self, outlet: Outlet) -> datetime:
        """What the outlet's documents show: what appeared until now, or until they froze."""
        frozen = outlet.frozen_since
        return self.now if frozen is None else min(self.now, frozen)

    def in_feed(self, outlet: Outlet) -> list[Story]:
        """The feed's entries now: those out already, newest appearance first, at most N."""
        out = sorted((s for s in outlet.stories if s.appears <= self.listed_now(outlet)),
                     key=lambda s: (s.appears, s.slug), reverse=True)
        return out[: outlet.feed_limit] if outlet.feed_limit is not None else out

    def in_sitemap(self, outlet: Outlet) -> list[Story]:
        if not outlet.has_sitemap:
            return []
        since = (self.now - timedelta(days=outlet.sitemap_days)
                 if outlet.sitemap_days is not None else None)
        return sorted((s for s in outlet.stories if s.appears <= self.listed_now(outlet)
                       and (since is None or s.appears >= since)),
                      key=lambda s: (s.appears, s.slug), reverse=True)

    def visible(self) -> dict[str, int]:
        """URL -> version of every story listed by a feed or sitemap that is up now."""
        seen: dict[str, int] = {}
        for outlet in self.outlets.values():
            listed = []
            if outlet.host in self.dead:
                continue
            if (outlet.host, "/feed.xml") not in self.down:
                listed += self.in_feed(outlet)
            if (outlet.host, "/sitemap.xml") not in self.down:
                listed += self.in_sitemap(outlet)
            for story in listed:
                seen[story.url] = story.version_at(self.now)
        return seen

    # --- serving -------------------------------------------------------------------------------

    def pages(self) -> dict[tuple[str, str], Page]:
        """Every resource of every outlet as it is at `now`."""
        pages: dict[tuple[str, str], Page] = {}
        for outlet in self.outlets.values():
            host = outlet.host
            pages[(host, "/robots.txt")] = Page(b"User-agent: *\nAllow: /\n", "text/plain")
            pages[(host, "/feed.xml")] = _cacheable(self._atom(outlet), "application/atom+xml")
            if outlet.has_sitemap:
                sitemap = _cacheable(self._sitemap(outlet), "application/xml")
                if outlet.sticky_sitemap_etag:
                    sitemap = Page(sitemap.body, sitemap.content_type, {"ETag": '"sticky"'})
                pages[(host, "/sitemap.xml")] = sitemap
            for story in outlet.stories:
                version = story.version_at(self.now)
                if version:
                    pages[(host, f"/news/{story.slug}")] = Page(
                        _article_html(story, version).encode(), "text/html; charset=utf-8")
        return pages

    def fault(self, handler, host: str, path: str) -> bool:
        """DemoSite fault hook: what is down answers 500."""
        with self._lock:
            down = (host, path) in self.down or host in self.dead
        if down:
            body = b"down\n"
            handler.send_response(500)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        return down

    def serve(self) -> DemoSite:
        return DemoSite(pages=self.pages(), fault=self.fault)

    def refresh(self, site: DemoSite) -> None:
        """Serve the pages as they are at `now` (after moving the clock or the stories)."""
        site.pages = self.pages()

    def resolve_map(self, site: DemoSite) -> dict[str, str]:
        return {host: f"127.0.0.1:{site.port}" for host in self.outlets}

    def write_sources(self, path: Path, hosts: list[str] | None = None) -> Path:
        blocks = []
        for host in hosts or list(self.outlets):
            outlet = self.outlets[host]
            sitemaps = f'["{outlet.sitemap_url}"]' if outlet.has_sitemap else "[]"
            blocks.append(f'[[source]]\nname = "{host}"\nfeeds = ["{outlet.feed_url}"]\n'
                          f"sitemaps = {sitemaps}\nlanguage = \"en\"\n")
        path.write_text("\n".join(blocks), encoding="utf-8")
        return path

    # --- documents -----------------------------------------------------------------------------

    def _atom(self, outlet: Outlet) -> str:
        entries = "\n".join(
            f"""<entry><title>{escape(s.title)}</title>
<link rel="alternate" type="text/html" href="{s.url}"/>
<id>tag:{s.host},2026:{s.slug}</id>
<published>{s.published.isoformat()}</published>
<updated>{s.updated_at(self.now).isoformat()}</updated></entry>"""
            for s in self.in_feed(outlet)
        )
        return (f'<?xml version="1.0" encoding="utf-8"?>\n'
                f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{outlet.host}</title>'
                f'<id>http://{outlet.host}/</id><updated>{self.now.isoformat()}</updated>\n'
                f"{entries}\n</feed>\n")

    def _sitemap(self, outlet: Outlet) -> str:
        urls = "\n".join(
            f"<url><loc>{s.url}</loc><lastmod>{s.updated_at(self.now).isoformat()}</lastmod>"
            f"</url>"
            for s in self.in_sitemap(outlet)
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{urls}\n</urlset>\n")


@contextmanager
def flow_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """The monitor flow's clock set to `clock` (the world's): the run's start and the times it
    stamps on what it records, so that days pass without sleeping (source health judges
    sources by them). Fetch and log times stay real."""
    import flows.monitor
    import flows.pipeline

    saved = flows.monitor.utc_now, flows.pipeline.utc_now
    flows.monitor.utc_now = flows.pipeline.utc_now = clock
    try:
        yield
    finally:
        flows.monitor.utc_now, flows.pipeline.utc_now = saved


def _cacheable(text: str, content_type: str) -> Page:
    body = text.encode("utf-8")
    return Page(body, content_type, {"ETag": '"' + hashlib.sha256(body).hexdigest()[:20] + '"'})


# --- article text ----------------------------------------------------------------------------

_WHO = ["The city council", "A regional court", "The health ministry", "Local farmers",
        "The harbour authority", "Teachers at the northern college", "The transport agency",
        "A group of residents", "The national weather service", "Police in the old town"]
_DID = ["announced a review of", "voted to extend", "raised concerns about",
        "published figures on", "postponed a decision on", "opened an inquiry into",
        "agreed to fund", "criticised plans for"]
_WHAT = ["the river bridge repairs", "the new bus routes", "school meal prices", "water quality",
         "the winter flood defences", "night trains to the coast", "the hospital car park",
         "rents in the centre", "the fishing quota", "the library opening hours"]
_WHEN = ["on Monday", "on Tuesday", "late on Wednesday", "on Thursday morning", "on Friday",
         "at the weekend", "after a long debate", "in a short statement"]
_MORE = ["Officials said the details would follow within weeks.",
         "Critics said the timetable was too short.",
         "The plan still needs the approval of the regional assembly.",
         "Several hundred people signed a petition last month.",
         "The last review of this kind took place four years ago.",
         "A spokesperson declined to give a figure for the cost."]


def _title(slug: str) -> str:
    rng = random.Random(f"title|{slug}")
    return f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_WHAT)} ({slug})"


def article_text(story: Story, version: int) -> list[str]:
    """Paragraphs of a story's `version`: unique to it, long enough to be an article."""
    rng = random.Random(f"text|{story.host}|{story.slug}")
    paragraphs = []
    for _ in range(3):
        sentences = [f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_WHAT)} "
                     f"{rng.choice(_WHEN)}." for _ in range(3)]
        paragraphs.append(" ".join([*sentences, rng.choice(_MORE)]))
    paragraphs.append(f"This is version {version} of the report {story.slug} from "
                      f"{story.host}, filed for readers of the outlet.")
    if version > 1:
        paragraphs.append(f"Update {version - 1}: the story was revised with new details "
                          f"about {rng.choice(_WHAT)}.")
    return paragraphs


def _article_html(story: Story, version: int) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in article_text(story, version))
    when = story.published.isoformat()
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(story.title)}</title>
<link rel="canonical" href="{story.url}">
<meta property="article:published_time" content="{when}">
</head><body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>{escape(story.title)}</h1>
<p class="byline">By Staff, <time datetime="{when}">{format_datetime(story.published)}</time></p>
{body}
</article></main><footer><p>All rights reserved.</p></footer></body></html>
"""
