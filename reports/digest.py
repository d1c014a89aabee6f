"""The daily digest: one day's top events as a self-contained HTML page and as Markdown.

`build_digest` is the only part that reads the warehouse; the renderers are pure functions
of a `Digest`. The HTML page must open offline and make no request of any kind: styles are
inline, charts are hand-written inline SVG, and a Content-Security-Policy forbids fetching
anything. The only URLs in it are the articles' own links.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from extractors.models import Actor, Place
from warehouse import digest_queries as q
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
    per_hour: tuple[int, ...]  # 24 counts: the top events' articles per UTC hour published
    per_source: tuple[SourceCoverage, ...]
    basis: DayBasis = "published"


def build_digest(
    db_path: str | Path, day: date | None = None, limit: int = TOP_EVENTS,
    basis: DayBasis = "published",
) -> Digest:
    """Read one day from the warehouse (default: the latest day with articles on `basis`)."""
    now = datetime.now(UTC)
    by_fetch = basis == "fetched"
    with open_reader(db_path) as con:
        if day is None:
            day = con.value(q.LATEST_FETCH_DAY if by_fetch else q.LATEST_DAY)
        if day is None:
            return Digest(None, now, 0, 0, (), (0,) * 24, (), basis)
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

_BAR = "#3b6ea5"
_INK = "#333"


def hour_chart_svg(per_hour: tuple[int, ...], title: str) -> str:
    """Vertical bars for the 24 UTC hours of a day, labelled every 3 hours."""
    width, height, left, bottom, top = 720, 220, 36, 28, 24
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(per_hour, default=0) or 1
    step = plot_w / 24
    parts = [
        f'<svg class="chart" id="chart-hours" '
        f'role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{html.escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        f'stroke="{_INK}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for hour, n in enumerate(per_hour):
        x = left + hour * step
        bar_h = plot_h * n / peak
        if n:
            parts.append(
                f'<rect x="{x + 2:.1f}" y="{top + plot_h - bar_h:.1f}" width="{step - 4:.1f}" '
                f'height="{bar_h:.1f}" fill="{_BAR}"><title>{hour:02d}:00 UTC: '
                f"{_plural(n, 'article')}</title></rect>"
            )
        if hour % 3 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                f'font-size="11">{hour:02d}h</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def source_chart_svg(per_source: tuple[SourceCoverage, ...], title: str) -> str:
    """One horizontal bar per outlet: its articles that day (and the events they cover)."""
    row_h, left, width = 26, 180, 720
    height = max(1, len(per_source)) * row_h + 16
    plot_w = width - left - 170
    peak = max((s.n_articles for s in per_source), default=0) or 1
    parts = [
        f'<svg class="chart" id="chart-sources" '
        f'role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{html.escape(title)}</title>",
    ]
    for i, cov in enumerate(per_source):
        y = 8 + i * row_h
        bar_w = max(2.0, plot_w * cov.n_articles / peak)
        label = html.escape(cov.source if len(cov.source) <= 26 else cov.source[:25] + "…")
        events = _plural(cov.n_events, "event")
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="12">{label}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{bar_w:.1f}" height="{row_h - 8}" '
            f'fill="{_BAR}"><title>{html.escape(cov.source)}: {cov.n_articles} articles, '
            f"{events}</title></rect>"
            f'<text x="{left + bar_w + 6:.1f}" y="{y + 15}" font-size="12">'
            f"{_plural(cov.n_articles, 'article')} · {events}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def places_svg(events: tuple[DigestEvent, ...], title: str) -> str:
    """Where the events happened: a dot per place on a longitude/latitude grid (no map
    tiles: nothing is fetched), sized by its events, next to a bar per place."""
    by_place: dict[str, tuple[Place, int]] = {}
    for e in events:
        if e.where is not None:
            place, n = by_place.get(e.where.name, (e.where, 0))
            by_place[e.where.name] = (place, n + 1)
    rows = sorted(by_place.values(), key=lambda pn: (-pn[1], pn[0].name))
    map_w, map_h, left = 360, 180, 8
    bars_x, row_h = map_w + 2 * left + 150, 22
    height = max(map_h + 16, len(rows) * row_h + 16)
    peak = max((n for _, n in rows), default=1)
    parts = [
        f'<svg class="chart" id="chart-places" role="img" viewBox="0 0 720 {height}" '
        f'width="720" height="{height}"><title>{html.escape(title)}</title>',
        f'<rect x="{left}" y="8" width="{map_w}" height="{map_h}" fill="#eef3f8" '
        f'stroke="{_INK}" stroke-width="0.5"/>',
    ]
    for lon in range(-120, 180, 60):  # graticule every 60 degrees of longitude, 30 of latitude
        x = left + (lon + 180) / 360 * map_w
        parts.append(f'<line x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{8 + map_h}" stroke="#ccd"/>')
    for lat in range(-60, 90, 30):
        y = 8 + (90 - lat) / 180 * map_h
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + map_w}" y2="{y:.1f}" '
                     f'stroke="{"#99a" if lat == 0 else "#ccd"}"/>')
    for i, (place, n) in enumerate(rows):
        label = html.escape(_where(place))
        if place.lat is not None and place.lon is not None:
            x = left + (place.lon + 180) / 360 * map_w
            y = 8 + (90 - place.lat) / 180 * map_h
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 + 2 * n}" fill="{_BAR}" '
                f'fill-opacity="0.7"><title>{label}: {_plural(n, "event")}</title></circle>')
        y = 8 + i * row_h
        bar_w = max(2.0, 150 * n / peak)
        parts.append(
            f'<text x="{bars_x - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
            f'{label}</text><rect x="{bars_x}" y="{y + 3}" width="{bar_w:.1f}" '
            f'height="{row_h - 8}" fill="{_BAR}"/><text x="{bars_x + bar_w + 6:.1f}" '
            f'y="{y + 15}" font-size="12">{_plural(n, "event")}</text>')
    parts.append("</svg>")
    return "".join(parts)


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
td, th { text-align: left; padding: .25em .5em; border-bottom: 1px solid #eee; }
tr.other-day td { color: #777; } .copy { font-size: 12px; color: #a55; }
ol.timeline { list-style: none; margin: .3em 0 .8em; padding-left: 1em;
              border-left: 3px solid #3b6ea5; }
ol.timeline li { margin: .15em 0; } ol.timeline li.current { font-weight: 600; }
svg.chart { max-width: 100%; height: auto; }
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
    """"4 sources, 4 articles", and the languages when reported in more than one (#27)."""
    text = f"{_plural(event.n_sources, 'source')}, {_plural(event.n_articles, 'article')}"
    if len(event.languages) > 1:
        text += f"; languages: {', '.join(event.languages)}"
    return text


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


def render_html(digest: Digest) -> str:
    """The digest as one HTML page that needs nothing but itself to display."""
    day = _day(digest.day)
    if digest.day is None:
        body = '<p class="muted">No articles in the warehouse yet.</p>'
    else:
        events = "".join(_event_section(i, e) for i, e in enumerate(digest.events, start=1))
        body = f"""<p class="muted">{_plural(digest.n_articles, "article")} in
{_plural(digest.n_events, "event")} {_on(digest)}.
Top events, ranked by number of distinct outlets; times are UTC.</p>
<h2>Articles per hour (top events)</h2>
{hour_chart_svg(digest.per_hour, f"Articles of the top events per hour, {day}")}
<h2>Coverage per source</h2>
{source_chart_svg(digest.per_source, f"Articles per outlet, {day}")}
<h2>Where the top events happened</h2>
{places_svg(digest.events, f"Places of the top events, {day}")}
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
<h1>newsmon digest — {day}</h1>
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
    if digest.day is None:
        return "\n".join([*lines, "No articles in the warehouse yet.", ""])
    lines += [
        f"{_plural(digest.n_articles, 'article')} in {_plural(digest.n_events, 'event')} "
        f"{_on(digest)}. Top events, ranked by number of distinct outlets; times are UTC.",
        "",
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
            f"- **Coverage:** {_md(_coverage(event))}",
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
