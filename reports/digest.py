"""The daily digest: one day's top events as a self-contained HTML page and as Markdown.

`build_digest` is the only part that reads the warehouse; the renderers are pure functions
of a `Digest`. The HTML page must open offline and make no request of any kind: styles are
inline, charts are hand-written inline SVG, and a Content-Security-Policy forbids fetching
anything. The only URLs in it are the articles' own links.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from extractors.models import Actor, Place
from reports.source_health import SourceHealth
from warehouse import digest_queries as q
from warehouse import queries
from warehouse.db import open_reader

TOP_EVENTS = 10  # events in a digest, a run's summary and its Prefect artifacts

# What a digest's day counts: articles published that day (else fetched), or articles newsmon
# fetched that day, whenever they were published: what that day's runs brought in.
DayBasis = Literal["published", "fetched"]


@dataclass(frozen=True)
class DigestArticle:
    """One report of an event, as listed under it."""

    source: str
    title: str
    url: str
    at: datetime | None  # published, else fetched
    on_day: bool  # published (or fetched) on the digest's day
    is_copy: bool


@dataclass(frozen=True)
class StoryStep:
    """One event of a developing story, as the story's timeline lists it."""

    event_id: str
    headline: str
    first_seen: datetime | None
    n_sources: int
    n_articles: int


@dataclass(frozen=True)
class DigestStory:
    """The developing story a top event belongs to, with all its events, oldest first."""

    id: str
    title: str
    first_seen: datetime | None
    last_seen: datetime | None
    n_events: int
    n_articles: int
    events: tuple[StoryStep, ...]


@dataclass(frozen=True)
class DigestEvent:
    """One of the day's top events with all its articles, oldest first, and the developing
    story it is part of (None when the event is a story of its own)."""

    id: str
    headline: str
    event_date: date | None
    places: tuple[str, ...]
    actors: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    n_sources: int
    n_articles: int
    articles: tuple[DigestArticle, ...]
    who: tuple[Actor, ...] = ()  # the record the event's articles agree on
    where: Place | None = None
    story: DigestStory | None = None
    languages: tuple[str, ...] = ()  # of its articles, most used first (#27)


@dataclass(frozen=True)
class SourceCoverage:
    """One outlet's articles on the day, and how many events they belong to."""

    source: str
    n_articles: int
    n_events: int


@dataclass(frozen=True)
class Digest:
    """Everything one day's digest shows; `day` is None for an empty warehouse."""

    day: date | None
    generated_at: datetime
    n_articles: int
    n_events: int
    events: tuple[DigestEvent, ...]
    per_hour: tuple[int, ...]  # 24 counts: the top events' articles per UTC hour of `basis`
    per_source: tuple[SourceCoverage, ...]
    basis: DayBasis = "published"
    unhealthy: tuple[SourceHealth, ...] = ()  # sources failing or quiet as of their latest run


def build_digest(
    db_path: str | Path, day: date | None = None, limit: int = TOP_EVENTS,
    basis: DayBasis = "published",
) -> Digest:
    """Read one day from the warehouse (default: the latest day with articles on `basis`)."""
    now = datetime.now(UTC)
    by_fetch = basis == "fetched"
    with open_reader(db_path) as con:
        unhealthy = tuple(h for h in map(SourceHealth.from_row, queries.source_health(con))
                          if h.unhealthy and h.in_latest_run)  # not sources since removed
        if day is None:
            day = con.value(q.LATEST_FETCH_DAY if by_fetch else q.LATEST_DAY)
        if day is None:
            return Digest(None, now, 0, 0, (), (0,) * 24, (), basis, unhealthy)
        on_day = {"day": day, "by_fetch": by_fetch}
        event_rows = con.rows(q.DAY_EVENTS, {**on_day, "limit": limit})
        ids = [r["id"] for r in event_rows]
        article_rows = con.rows(q.EVENT_ARTICLES, {**on_day, "event_ids": ids})
        story_rows = con.rows(q.STORY_TIMELINES, {"event_ids": ids})
        hour_rows = con.rows(q.EVENT_ARTICLES_PER_HOUR, {**on_day, "event_ids": ids})
        source_rows = con.rows(q.SOURCES_ON_DAY, on_day)
        totals = con.one(q.DAY_TOTALS, on_day)

    by_event: dict[str, list[DigestArticle]] = {i: [] for i in ids}
    for r in article_rows:
        by_event[r["event_id"]].append(DigestArticle(
            r["source"] or "", r["title"] or "", r["url"] or "", r["seen_at"],
            bool(r["on_day"]), bool(r["is_copy"]),
        ))
    stories = _stories(story_rows)
    story_of = {step.event_id: story for story in stories.values() for step in story.events}
    events = tuple(
        DigestEvent(
            id=r["id"], headline=r["headline"] or "", event_date=r["event_date"],
            places=tuple(r["places"] or ()), actors=tuple(r["actors"] or ()),
            first_seen=r["first_seen"], last_seen=r["last_seen"],
            n_sources=r["n_sources"] or 0, n_articles=r["n_articles"] or 0,
            articles=tuple(by_event[r["id"]]), story=story_of.get(r["id"]),
            languages=tuple(r["languages"] or ()),
            who=tuple(Actor(w["name"], w["type"]) for w in r["who"] or ()),
            where=Place(r["where_name"], r["where_country"], r["where_lat"], r["where_lon"],
                        r["where_id"]) if r["where_name"] else None,
        )
        for r in event_rows
    )
    per_hour = [0] * 24
    for r in hour_rows:
        per_hour[r["h"]] = r["n"]
    return Digest(
        day=day, generated_at=now, n_articles=totals["n_articles"],
        n_events=totals["n_events"], events=events, per_hour=tuple(per_hour),
        per_source=tuple(SourceCoverage(r["source"], r["n_articles"], r["n_events"])
                         for r in source_rows),
        basis=basis,
        unhealthy=unhealthy,
    )


def _stories(rows: list[dict]) -> dict[str, DigestStory]:
    """DigestStory by id from STORY_TIMELINES rows (one row per story event, oldest first)."""
    steps: dict[str, list[StoryStep]] = {}
    heads: dict[str, dict] = {}
    for r in rows:
        heads[r["story_id"]] = r
        steps.setdefault(r["story_id"], []).append(StoryStep(
            r["event_id"], r["headline"] or "", r["event_first_seen"], r["n_sources"] or 0,
            r["event_n_articles"] or 0,
        ))
    return {
        sid: DigestStory(sid, r["title"] or "", r["first_seen"], r["last_seen"],
                         r["n_events"] or 0, r["n_articles"] or 0, tuple(steps[sid]))
        for sid, r in heads.items()
    }


# --- formatting helpers -----------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _day_of(value: datetime | None) -> str:
    """The day of a moment, as it is written (no conversion)."""
    return _day(value.date() if value else None)


def _names(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "—"


def _who(who: tuple[Actor, ...]) -> str:
    return ", ".join(f"{a.name} ({a.type})" for a in who) if who else "—"


def _where(where: Place | None) -> str:
    if where is None:
        return "—"
    return f"{where.name}, {where.country}" if where.country else where.name


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _on(digest: Digest) -> str:
    """Which articles the digest counts: "on 2021-12-15" or "fetched on 2021-12-15"."""
    return f"{'fetched ' if digest.basis == 'fetched' else ''}on {_day(digest.day)}"


def _is_web_link(url: str) -> bool:
    """Only http(s) links are rendered as links (no javascript:, data:, file:)."""
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# --- SVG charts -------------------------------------------------------------------------
# Each chart with text is drawn twice, for a wide page (WIDE user units) and a phone (NARROW),
# and CSS shows the one that fits, so that its text is drawn at about its own size: a wide
# chart scaled down to a phone's width would shrink 12 px text to 6 px. Text never leaves a
# chart: label and value columns are sized from an estimate of the text's width that errs on
# the wide side (tests/test_digest.py measures the real boxes in Chromium at 1280 and 380 px).

WIDE, NARROW = 720, 340
_BAR = "#3b6ea5"
_INK = "#333"
_FONT = 12  # px, the charts' text
_NARROW_CHARS = set("ijlrtf.,:;'|!() ·-")
_WIDE_CHARS = set("mwMW@%")


def text_width(text: str, size: float = _FONT) -> float:
    """About how wide `text` is drawn in a sans-serif font of `size` px, rounded up."""
    ems = sum(0.34 if c in _NARROW_CHARS else 1.02 if c in _WIDE_CHARS
              else 0.72 if c.isupper() or c.isdigit() else 0.62 for c in text)
    return ems * size + 2


def _fit(text: str, room: float, size: float = _FONT) -> str:
    """`text`, shortened with an ellipsis until its estimated width fits in `room`."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _svg(chart_id: str, width: int, height: float, title: str, body: list[str]) -> str:
    return (f'<svg class="chart" id="{chart_id}" role="img" viewBox="0 0 {width} {height:.0f}" '
            f'width="{width}" height="{height:.0f}" font-size="{_FONT}">'
            f"<title>{html.escape(title)}</title>{''.join(body)}</svg>")


def _both_widths(draw, chart_id: str, *args) -> str:
    """A chart drawn for a wide page and for a phone; CSS shows the one that fits."""
    return (f'<div class="wide-only">{draw(chart_id, WIDE, *args)}</div>'
            f'<div class="narrow-only">{draw(chart_id + "-narrow", NARROW, *args)}</div>')


def hour_chart_svg(chart_id: str, width: int, per_hour: tuple[int, ...], title: str) -> str:
    """Vertical bars for the 24 UTC hours of a day, labelled every 3 (phone: 6) hours."""
    height, bottom, top = 200, 24, 14
    peak = max(per_hour, default=0) or 1
    left = text_width(str(peak)) + 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    step = plot_w / 24
    every = 3 if width >= WIDE else 6
    body = [
        f'<line x1="{left:.1f}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" '
        f'stroke="{_INK}"/>',
        f'<text x="{left - 4:.1f}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4:.1f}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for hour, n in enumerate(per_hour):
        x = left + hour * step
        bar_h = plot_h * n / peak
        if n:
            body.append(
                f'<rect x="{x + 1:.1f}" y="{top + plot_h - bar_h:.1f}" '
                f'width="{max(1.0, step - 2):.1f}" height="{bar_h:.1f}" fill="{_BAR}">'
                f"<title>{hour:02d}:00 UTC: {_plural(n, 'article')}</title></rect>")
        if hour % every == 0:
            body.append(f'<text x="{x + step / 2:.1f}" y="{height - 8}" '
                        f'text-anchor="middle">{hour:02d}h</text>')
    return _svg(chart_id, width, height, title, body)


@dataclass(frozen=True)
class BarRow:
    """One bar of a bar list: its label, its length and the text after it."""

    label: str
    value: int
    said: str  # e.g. "5 articles · 5 events"


def bar_list_svg(chart_id: str, width: int, rows: tuple[BarRow, ...], title: str) -> str:
    """One horizontal bar per row. Wide: label, bar, value on one line (the label column as
    wide as the longest label, up to a third of the chart); phone: the label and value on a
    line, the bar under it."""
    peak = max((r.value for r in rows), default=0) or 1
    said_w = max((text_width(r.said) for r in rows), default=0)
    body: list[str] = []
    if width >= WIDE:
        row_h = 24
        label_w = min(max((text_width(r.label) for r in rows), default=0), width / 3)
        bar_x = label_w + 8
        bar_room = min(width / 2, width - bar_x - said_w - 8)
        for i, r in enumerate(rows):
            y = 4 + i * row_h
            bar_w = max(2.0, bar_room * r.value / peak)
            body.append(
                f'<text x="{label_w:.1f}" y="{y + 15}" text-anchor="end">'
                f"{html.escape(_fit(r.label, label_w))}</text>"
                f'<rect x="{bar_x:.1f}" y="{y + 4}" width="{bar_w:.1f}" height="{row_h - 8}" '
                f'fill="{_BAR}"><title>{html.escape(r.label)}: {html.escape(r.said)}</title>'
                f'</rect><text x="{bar_x + bar_w + 6:.1f}" y="{y + 15}">'
                f"{html.escape(r.said)}</text>")
    else:
        row_h = 34
        for i, r in enumerate(rows):
            y = 4 + i * row_h
            bar_w = max(2.0, (width - 4) * r.value / peak)
            body.append(
                f'<text x="2" y="{y + 12}">{html.escape(_fit(r.label, width - said_w - 12))}'
                f'</text><text x="{width - 2}" y="{y + 12}" text-anchor="end">'
                f"{html.escape(r.said)}</text>"
                f'<rect x="0" y="{y + 17}" width="{bar_w:.1f}" height="10" fill="{_BAR}">'
                f"<title>{html.escape(r.label)}: {html.escape(r.said)}</title></rect>")
    return _svg(chart_id, width, max(1, len(rows)) * row_h + 8, title, body)


def _source_rows(per_source: tuple[SourceCoverage, ...]) -> tuple[BarRow, ...]:
    return tuple(BarRow(s.source, s.n_articles, f"{_plural(s.n_articles, 'article')} · "
                        f"{_plural(s.n_events, 'event')}") for s in per_source)


def _places(events: tuple[DigestEvent, ...]) -> list[tuple[Place, int]]:
    """Each main place of the events and how many events happened there, most first."""
    by_place: dict[str, tuple[Place, int]] = {}
    for e in events:
        if e.where is not None:
            place, n = by_place.get(e.where.name, (e.where, 0))
            by_place[e.where.name] = (place, n + 1)
    return sorted(by_place.values(), key=lambda pn: (-pn[1], pn[0].name))


@functools.cache
def world_outline() -> str:
    """SVG path data of the countries (Natural Earth 1:110m, public domain), packaged with
    newsmon: see scripts/make_world_outline.py for the units and how it was made."""
    text = (Path(__file__).with_name("data") / "world_outline.txt").read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines() if line and not line.startswith("#"))


# The map's frame, in the outline's units (1/2 degree): longitude -180..180, latitude 84..-58.
_MAP_W, _MAP_H, _MAP_TOP = 720, 284, 84


def map_svg(places: list[tuple[Place, int]], title: str) -> str:
    """Country outlines with a dot per place that has a position, sized by its events; no
    text, so the one drawing scales to any width. Nothing is fetched: no tiles."""
    body = [f'<rect width="{_MAP_W}" height="{_MAP_H}" fill="#eef3f8"/>',
            f'<path d="{world_outline()}" fill="#d5dde6" stroke="#fff" stroke-width="0.6" '
            f'stroke-linejoin="round"/>']
    for place, n in places:
        if place.lat is None or place.lon is None:
            continue
        x = (place.lon + 180) * 2
        y = min(_MAP_H, max(0.0, (_MAP_TOP - place.lat) * 2))
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{min(16, 5 + 2 * n)}" fill="{_BAR}" '
                    f'fill-opacity="0.8" stroke="#fff" stroke-width="1">'
                    f"<title>{html.escape(_where(place))}: {_plural(n, 'event')}</title>"
                    "</circle>")
    return _svg("chart-map", _MAP_W, _MAP_H, title, body)


# --- HTML -------------------------------------------------------------------------------

# Nothing may be fetched: no scripts, no external styles, fonts or images.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 980px; margin: 2em auto; padding: 0 1em; }
h1 { margin-bottom: .2em; } .muted { color: #666; }
section.event { border-top: 1px solid #ddd; padding: .6em 0 1em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: .4em 0; }
dt { color: #666; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; table-layout: fixed; }
th:nth-child(1) { width: 13em; } th:nth-child(2) { width: 10em; }
td, th { text-align: left; padding: .25em .5em; border-bottom: 1px solid #eee;
         overflow-wrap: anywhere; }
dd, h2, p { overflow-wrap: anywhere; }
tr.other-day td { color: #777; } .copy { font-size: 12px; color: #a55; }
ol.timeline { list-style: none; margin: .3em 0 .8em; padding-left: 1em;
              border-left: 3px solid #3b6ea5; }
ol.timeline li { margin: .15em 0; } ol.timeline li.current { font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; }
.narrow-only { display: none; }
@media (max-width: 600px) {
  body { margin: 1em auto; } h1 { font-size: 1.5em; } h2 { font-size: 1.2em; }
  .wide-only { display: none; } .narrow-only { display: block; }
  /* articles: one block each, time and outlet above the title */
  table, tbody, tr, td { display: block; width: auto; } thead { display: none; }
  tr { padding: .35em 0; border-bottom: 1px solid #eee; }
  td { border: 0; padding: 0; }
  td:nth-child(1), td:nth-child(2) { display: inline; font-size: 13px; color: #666; }
  td:nth-child(1)::after { content: " · "; }
}
time { white-space: nowrap; }
"""


def _article_row(article: DigestArticle) -> str:
    title = html.escape(article.title or article.url)
    if _is_web_link(article.url):
        title = (f'<a href="{html.escape(article.url, quote=True)}" '
                 f'rel="noopener noreferrer">{title}</a>')
    copy = ' <span class="copy">copy</span>' if article.is_copy else ""
    css = "" if article.on_day else ' class="other-day"'
    return (f"<tr{css}><td>{html.escape(_when(article.at))}</td>"
            f"<td>{html.escape(article.source)}</td><td>{title}{copy}</td></tr>")


def _span(story: DigestStory) -> str:
    return (f"{_plural(story.n_events, 'event')}, {_plural(story.n_articles, 'article')}, "
            f"{_day_of(story.first_seen)} to {_day_of(story.last_seen)}")


def _story_timeline(event: DigestEvent) -> str:
    """The developing story the event is part of: its events in time order, this one marked."""
    story = event.story
    if story is None:
        return ""
    current = ' class="current"'
    items = "".join(
        f"<li{current if step.event_id == event.id else ''}>"
        f"{html.escape(_day_of(step.first_seen))} · "
        f"{html.escape(step.headline)} "
        f'<span class="muted">({_plural(step.n_sources, "source")})</span></li>'
        for step in story.events
    )
    return (f'<div class="story"><p><strong>Developing story</strong>: '
            f'{html.escape(story.title)} <span class="muted">({_span(story)})</span></p>'
            f'<ol class="timeline">{items}</ol></div>')


def _coverage(event: DigestEvent) -> str:
    """"2 sources, 3 articles (1 copy)": copies are listed but do not count as sources; then
    the languages when the event was reported in more than one (#27)."""
    copies = sum(a.is_copy for a in event.articles)
    said = f"{_plural(event.n_sources, 'source')}, {_plural(event.n_articles, 'article')}"
    said += f" ({_plural(copies, 'copy').replace('copys', 'copies')})" if copies else ""
    if len(event.languages) > 1:
        said += f"; languages: {', '.join(event.languages)}"
    return said


COPY_LEGEND = ("an article that repeats another's text (a wire story, a page published twice): "
               "listed, but not counted as a source.")


def _event_section(rank: int, event: DigestEvent) -> str:
    rows = "".join(_article_row(a) for a in event.articles)
    coverage = html.escape(_coverage(event))
    return f"""<section class="event" id="event-{html.escape(event.id, quote=True)}">
<h2>{rank}. {html.escape(event.headline)}</h2>
<dl>
<dt>Who</dt><dd>{html.escape(_who(event.who))}</dd>
<dt>Where</dt><dd>{html.escape(_where(event.where))}</dd>
<dt>When</dt><dd>{html.escape(_day(event.event_date))}</dd>
<dt>Places named</dt><dd>{html.escape(_names(event.places))}</dd>
<dt>Actors named</dt><dd>{html.escape(_names(event.actors))}</dd>
<dt>First seen</dt><dd>{html.escape(_when(event.first_seen))}</dd>
<dt>Last seen</dt><dd>{html.escape(_when(event.last_seen))}</dd>
<dt>Coverage</dt><dd>{coverage}</dd>
</dl>
{_story_timeline(event)}
<table><thead><tr><th>Time</th><th>Outlet</th><th>Article</th></tr></thead>
<tbody>{rows}</tbody></table>
</section>"""


_ATTENTION = "Sources needing attention"


def _unhealthy_html(digest: Digest) -> str:
    """The sources failing or quiet: what this digest may be missing."""
    if not digest.unhealthy:
        return ""
    items = "".join(f"<li><strong>{html.escape(h.source)}</strong> — {html.escape(h.label)}: "
                    f"{html.escape(h.describe())}</li>" for h in digest.unhealthy)
    return f'<h2>{_ATTENTION}</h2>\n<ul class="unhealthy">{items}</ul>\n'


def render_html(digest: Digest) -> str:
    """The digest as one HTML page that needs nothing but itself to display."""
    day = _day(digest.day)
    if digest.day is None:
        body = '<p class="muted">No articles in the warehouse yet.</p>\n' + _unhealthy_html(digest)
    else:
        events = "".join(_event_section(i, e) for i, e in enumerate(digest.events, start=1))
        legend = (f'<p class="muted legend"><span class="copy">copy</span> marks '
                  f"{html.escape(COPY_LEGEND)}</p>"
                  if any(a.is_copy for e in digest.events for a in e.articles) else "")
        done = "fetched" if digest.basis == "fetched" else "published"
        places = _places(digest.events)
        place_rows = tuple(BarRow(_where(p), n, _plural(n, "event")) for p, n in places)
        on = _on(digest).replace(day, f"<time>{day}</time>")
        body = f"""<p class="muted">{_plural(digest.n_articles, "article")} in
{_plural(digest.n_events, "event")} {on}.
Top events, ranked by number of distinct outlets; times are UTC.</p>
{legend}
{_unhealthy_html(digest)}<h2>When the top events' articles were {done}</h2>
<p class="muted">Articles per hour (UTC) on <time>{day}</time>.</p>
{_both_widths(hour_chart_svg, "chart-hours", digest.per_hour,
              f"Articles of the top events {done} per hour, {day}")}
<h2>Coverage per source</h2>
{_both_widths(bar_list_svg, "chart-sources", _source_rows(digest.per_source),
              f"Articles per outlet, {day}")}
<h2>Where the top events happened</h2>
{map_svg(places, f"Map of the places of the top events, {day}")}
{_both_widths(bar_list_svg, "chart-places", place_rows, f"Places of the top events, {day}")}
{events or '<p class="muted">No events on this day.</p>'}"""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsmon digest {day}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>newsmon digest — <time>{day}</time></h1>
<p class="muted">Generated {html.escape(_when(digest.generated_at))}.</p>
{body}
</body>
</html>
"""


# --- Markdown ---------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _md(text: str) -> str:
    """Escape text so titles cannot break links, tables or emphasis."""
    return " ".join(text.split()).translate(_MD_SPECIAL)


def render_markdown(digest: Digest) -> str:
    """The same digest as Markdown (published as a Prefect artifact after every run)."""
    day = _day(digest.day)
    lines = [f"# newsmon digest — {day}", ""]
    attention = [f"## {_ATTENTION}", "", *(
        f"- **{_md(h.source)}** — {_md(h.label)}: {_md(h.describe())}" for h in digest.unhealthy
    ), ""] if digest.unhealthy else []
    if digest.day is None:
        return "\n".join([*lines, "No articles in the warehouse yet.", "", *attention])
    lines += [
        f"{_plural(digest.n_articles, 'article')} in {_plural(digest.n_events, 'event')} "
        f"{_on(digest)}. Top events, ranked by number of distinct outlets; times are UTC.",
        "",
        *attention,
    ]
    for rank, event in enumerate(digest.events, start=1):
        lines += [
            f"## {rank}. {_md(event.headline)}",
            "",
            f"- **Who:** {_md(_who(event.who))}",
            f"- **Where:** {_md(_where(event.where))}",
            f"- **When:** {_day(event.event_date)}",
            f"- **Places named:** {_md(_names(event.places))}",
            f"- **Actors named:** {_md(_names(event.actors))}",
            f"- **First / last seen:** {_when(event.first_seen)} / {_when(event.last_seen)}",
            f"- **Coverage:** {_coverage(event)}",
        ]
        if event.story is not None:
            lines.append(f"- **Developing story:** {_md(event.story.title)} "
                         f"({_span(event.story)})")
            for step in event.story.events:
                when = _day_of(step.first_seen)
                text = f"{when} · {_md(step.headline)} ({_plural(step.n_sources, 'source')})"
                lines.append(f"  - **{text}**" if step.event_id == event.id else f"  - {text}")
        lines.append("")
        for a in event.articles:
            title = _md(a.title or a.url)
            target = a.url.replace(" ", "%20").replace(">", "%3E")
            link = f"[{title}](<{target}>)" if _is_web_link(a.url) else title
            copy = " (copy)" if a.is_copy else ""
            lines.append(f"- {_when(a.at)} · {_md(a.source)} · {link}{copy}")
        lines.append("")
    if any(a.is_copy for e in digest.events for a in e.articles):
        lines += [f"_copy_ marks {_md(COPY_LEGEND)}", ""]
    if digest.per_source:
        lines += ["## Coverage per source", "", "| outlet | articles | events |",
                  "|---|---:|---:|"]
        lines += [f"| {_md(s.source)} | {s.n_articles} | {s.n_events} |"
                  for s in digest.per_source]
        lines.append("")
    return "\n".join(lines)


def digest_command(db: str | Path, day: date | None, out: str | Path | None) -> int:
    """`newsmon digest`: write the HTML digest (default digest-<day>.html); exit code.

    With a `day`, the articles published that day; without, what newsmon fetched on the latest
    day it fetched anything: the news the latest runs brought in, whenever it was published.
    """
    digest = build_digest(db, day, basis="published" if day else "fetched")
    target = Path(out) if out else Path(f"digest-{_day(digest.day)}.html")
    target.write_text(render_html(digest), encoding="utf-8")
    print(f"digest of the articles {_on(digest)}: {_plural(len(digest.events), 'event')} "
          f"-> {target}")
    return 0
