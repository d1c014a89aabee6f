"""Plain, frozen records passed between pipeline stages.

No I/O here and no project imports: every stage (fetch, extract, cluster, load) takes and
returns these, so each stage can be tested, retried or re-run on stored data on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ExtractionStatus = Literal["extracted", "skipped", "failed"]
DuplicateKind = Literal["same-url", "same-text", "near-copy"]
# "country" stands for a country or its government acting ("Armenia agreed", "the Kremlin");
# "unnamed" for people a story does not name ("gunman", "dozens of rescuers").
ActorType = Literal["person", "organisation", "country", "unnamed"]
WhenSource = Literal["dateline", "text", "published"]


@dataclass(frozen=True)
class Source:
    """One outlet as configured in sources.toml."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    language: str | None = None
    country: str | None = None
    requests_per_second: float | None = None
    domains: tuple[str, ...] = ()  # other sites it publishes on (rel=canonical may point there)


@dataclass(frozen=True)
class Candidate:
    """A URL discovered in a feed, sitemap or URL list, with whatever metadata came with it.

    `updated` is the entry's own last-change stamp (feed <updated>, sitemap <lastmod>), which
    tells a changed article from an unchanged one; `guid` is the feed entry's id (RSS guid,
    Atom id) when it is not simply the link.
    """

    url: str
    source: str
    via: Literal["feed", "sitemap", "list"]
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    guid: str | None = None


@dataclass(frozen=True)
class EntryFacts:
    """What the warehouse knows about one entry URL (see extractors/fetch/ledger.py).

    Absent fields are unknown. `baseline` is the feed/sitemap `updated` of the version
    stored: an entry whose `updated` is later has changed since.
    """

    url: str
    stored: bool = False  # a stored article was reached by this URL
    fetch_error: str | None = None  # error class of the latest page fetch, when it failed
    fetch_status: int | None = None
    failed_runs: int = 0  # runs whose fetch of it failed since it was last fetched fine
    extraction: str | None = None  # status of the extraction of the latest fetch
    extraction_reason: str | None = None
    guid: str | None = None  # as the ledger recorded it
    baseline: datetime | None = None


@dataclass(frozen=True)
class EntryRecord:
    """One row of the coverage ledger: an entry and what became of it so far."""

    entry: Candidate
    outcome: Literal["stored", "failed", "skipped", "pending"]
    reason: str | None = None
    stored_updated: datetime | None = None  # `updated` of the version stored, if known
    refetched: bool = False  # this run fetched it again because it was updated


@dataclass(frozen=True)
class SourceOutcome:
    """What one run did with one source (a `source_runs` row; extractors/fetch/health.py)."""

    source: str
    status: Literal["ok", "degraded", "failed"]
    reason: str | None = None  # one line: what failed, with an example (None when ok)
    documents: int = 0  # feed and sitemap fetches (sitemap children too)
    documents_failed: int = 0
    document_errors: dict[str, int] = field(default_factory=dict)  # reason -> documents
    pages: int = 0  # article page fetches
    pages_failed: int = 0
    page_errors: dict[str, int] = field(default_factory=dict)
    entries_seen: int = 0  # distinct entries its feeds, sitemaps and URL list offered
    # of each entry first seen this run, its date (never later than the run): what the
    # source's usual publishing interval is measured on
    entry_times: tuple[datetime, ...] = ()
    # seconds from the source's latest entry before this run to the first later one, and
    # between those (extractors.fetch.health.with_gaps)
    entry_gaps: tuple[float, ...] = ()

    @property
    def entries_new(self) -> int:
        return len(self.entry_times)


@dataclass(frozen=True)
class Overflow:
    """A document that offered more than a run takes: read before with every entry new
    (entries may have scrolled off it between the two reads: a feed listing only its last N
    entries), or listing more new entries than one run fetches (`deferred` of them are left,
    pending in the ledger, for the next runs)."""

    source: str
    url: str
    kind: str
    n_entries: int
    last_read_at: datetime | None
    read_at: datetime
    fallback: Literal["sitemaps", "none"]
    deferred: int = 0  # new entries left for later runs (the per-document cap)
    cap: int | None = None  # that cap
    scrolled: bool = True  # every entry new since the last read (False: only capped)

    def message(self) -> str:
        said = []
        if self.scrolled and self.last_read_at is not None:
            minutes = max((self.read_at - self.last_read_at).total_seconds() / 60, 0.0)
            interval = f"{minutes / 60:.0f} h" if minutes >= 90 else f"{minutes:.0f} min"
            head = (f"{self.source}: {self.kind} overflowed (all {self.n_entries} entries new "
                    f"since it was read {interval} before)")
            if self.fallback == "sitemaps":
                said.append(f"{head}; its sitemaps were read again in full; poll more often "
                            "than that")
            else:
                said.append(f"{head}; no sitemap configured, so entries may have been missed; "
                            "poll more often than that, or configure the source's sitemap")
        if self.deferred:
            said.append(f"{self.source}: {self.kind} {self.url} lists more new entries than one "
                        f"run fetches ({self.cap}, NEWSMON_MAX_NEW_ENTRIES_PER_DOCUMENT): "
                        f"{self.deferred} are left for the next runs")
        return "; ".join(said)


@dataclass(frozen=True)
class RobotsRecord:
    """One host's robots.txt answer, as data: fetched once, reused by later batches and runs
    until `expires_at`. `rules` None means no rules (a 4xx: everything allowed). A record
    with `error_class` says the host could not be asked this run: every page of it fails
    with that error, and it is never stored."""

    host: str  # scheme://host[:port]
    fetched_at: datetime
    expires_at: datetime
    status_code: int | None = None
    rules: str | None = None
    error_class: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of fetching one URL: a decoded page, or an error saying why not."""

    url: str
    source: str
    final_url: str | None = None
    status_code: int | None = None
    content_type: str | None = None
    html: str | None = None
    error_class: str | None = None
    error: str | None = None
    n_bytes: int = 0
    elapsed_ms: float = 0.0
    attempts: int = 1
    fetched_at: datetime | None = None
    feed_title: str | None = None
    feed_published: datetime | None = None
    # The page's bytes as served (Content-Encoding undone) while `html` is None: the monitor
    # flow has the extraction worker decode them (extractors/fetch/charset.py).
    body: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return (self.html is not None or self.body is not None) and self.error_class is None


@dataclass(frozen=True)
class Actor:
    """One main actor: its canonical name ("Nikol Pashinian", not "Pashinyan") and type."""

    name: str
    type: ActorType


@dataclass(frozen=True)
class Place:
    """A geocoded place. `id` names the gazetteer entry ("geonames:2800866" for Brussels);
    lat/lon are None where the gazetteer has no position (some provinces)."""

    name: str
    country: str | None = None  # ISO 3166-1 alpha-2
    lat: float | None = None
    lon: float | None = None
    id: str | None = None


@dataclass(frozen=True)
class Facets:
    """Who, where, when and what of one article.

    `who`, `where` and `event_date` (the "when") are the main answers; `actors`, `places`
    and `dates` list every mention, most prominent first, for search and clustering.
    `where_confidence` (0-1) says how sure the place is; `when_source` what the event date
    rests on: "dateline", "text" (a date the text gives) or "published" (no evidence of
    another day: the publication day).
    """

    actors: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    event_date: date | None = None
    dates: tuple[date, ...] = ()
    keywords: tuple[str, ...] = ()
    who: tuple[Actor, ...] = ()
    where: Place | None = None
    where_confidence: float | None = None
    when_source: WhenSource | None = None


@dataclass(frozen=True)
class Article:
    """A cleaned news article ready for clustering and loading."""

    id: str  # stable: hash of canonical_url (see extractors.fetch.urls.article_id)
    url: str
    canonical_url: str
    source: str
    title: str
    text: str
    content_hash: str
    urls: tuple[str, ...] = ()
    author: str | None = None
    published_at: datetime | None = None
    date_source: str | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    fetched_at: datetime | None = None
    tags: tuple[str, ...] = ()  # the page's own categories and tags (meta keywords, ...)
    facets: Facets = field(default_factory=Facets)


@dataclass(frozen=True)
class ExtractionOutcome:
    """What extraction made of one fetched page; every page gets exactly one."""

    url: str
    source: str
    status: ExtractionStatus
    reason: str | None = None
    article: Article | None = None
    # The article's clustering features, packed (extractors.events.incremental.pack_features),
    # made by the extraction worker when ExtractionSettings.cluster_features asks.
    features: bytes | None = None


@dataclass(frozen=True)
class Duplicate:
    """`article_id` repeats `duplicate_of` (same URL, same text, or a near copy)."""

    article_id: str
    duplicate_of: str
    kind: DuplicateKind
    score: float


@dataclass(frozen=True)
class Membership:
    """Why one article belongs to one event: its score and the features behind it."""

    event_id: str
    article_id: str
    score: float
    features: dict[str, float] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Event:
    """A real-world happening reported by one or more articles."""

    id: str
    headline: str
    article_ids: tuple[str, ...]
    event_date: date | None = None  # the "when" agreed by the event's articles
    actors: tuple[str, ...] = ()  # every article's mentions, most frequent first
    places: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    n_articles: int = 0
    n_sources: int = 0  # distinct outlets among original reports
    n_copies: int = 0  # copies (duplicates) attached to the event, counted apart
    who: tuple[Actor, ...] = ()  # main actors agreed by vote of the articles
    where: Place | None = None  # main place agreed by vote of the articles
    where_confidence: float | None = None  # its share of the vote, weighed by confidence
    when_source: WhenSource | None = None  # what the agreed event date rests on
    # Comparison keys of every actor named (extractors.content.facets.actor_key), so that
    # watchlists match "Pashinyan" to "Nikol Pashinian".
    actor_keys: tuple[str, ...] = ()
    # The event's heaviest word stems (TF-IDF summed over its reports, heaviest first) with
    # their weights: what stories compare events by.
    terms: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Story:
    """A developing story: events that follow one another over days or weeks."""

    id: str
    title: str  # the headline of its biggest event
    event_ids: tuple[str, ...]  # oldest first
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    n_events: int = 0
    n_articles: int = 0
    actors: tuple[str, ...] = ()
    places: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoryResult:
    """Output of story building: the story of each placed event, and the full record of
    every story those events are in."""

    stories: tuple[Story, ...]
    story_of: dict[str, str] = field(default_factory=dict)  # event id -> story id


@dataclass(frozen=True)
class Link:
    """One scored pair of articles and what matched (#27): why they are, or are not, one
    event. `evidence` is plain JSON data (names, places, dates, figures, features)."""

    article_id: str
    other_id: str
    same_event: bool  # the two ended in one event
    score: float  # on the word scorer's scale, whichever scorer decided
    threshold: float  # the bar the score had to reach
    scorer: Literal["words", "crosslingual"]
    evidence: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ClusterResult:
    """Output of deduplication + event clustering over a set of articles."""

    duplicates: tuple[Duplicate, ...]
    events: tuple[Event, ...]
    memberships: tuple[Membership, ...]
    links: tuple[Link, ...] = ()  # the scored candidate pairs (those near or over the bar)


# --- the cluster index (extractors/events/features.py, incremental.py; migration 0018) -------

EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal(): event days count from the epoch
ORIGINAL, SAME_TEXT, NEAR_COPY = "original", "same-text", "near-copy"  # IndexEntry.role


@dataclass(frozen=True)
class ArticleFeatures:
    """One report as the same-event decision sees it (extractors/events/features.py): made
    once when the article is indexed, never changed after."""

    id: str
    seq: int  # tie-break among equal times in blocking: arrival order, then id
    time: float  # published (else fetched) time, days since the epoch; NaN when unknown
    event_day: float  # event date, days since the epoch; NaN when unknown
    stated: bool  # the event date is one the text states (not the publication day)
    by_fetch: bool  # publication time unknown, the fetch time stands in
    title: tuple[str, ...]
    summary: tuple[str, ...]
    lead: str  # the first LEAD_WORDS body tokens, joined ("" without a body)
    n_words: int  # body tokens (at most TEXT_WORDS)
    terms: tuple[str, ...]  # TF-IDF terms, heaviest first
    weights: tuple[float, ...]  # their unit-normalised weights (float32 values)
    actors: tuple[str, ...]  # top actors, casefolded
    places: tuple[str, ...]  # top places, casefolded
    all_places: tuple[str, ...]  # every place, casefolded
    countries: tuple[tuple[str, str], ...]  # (city, its country) for the cities among places
    names: tuple[str, ...]  # words of named actors and places, sorted
    name_weights: tuple[float, ...]  # their rarity weights
    language: str = ""  # as extracted ("" unknown)
    # cross-lingual blocking keys (names, places, figures, rarest word stems), fixed when
    # indexed: extractors.events.crosslingual.blocking_keys
    xl_keys: tuple[str, ...] = ()

    @property
    def when(self) -> float:
        """The time blocking and the time gap use: event day, else publication time."""
        return self.time if math.isnan(self.event_day) else self.event_day

    @property
    def event_ordinal(self) -> int | None:
        return None if math.isnan(self.event_day) else int(self.event_day) + EPOCH_ORDINAL

    def keys(self, key_terms: int) -> list[str]:
        """Blocking keys: headline stems, heaviest terms, top actors and places."""
        keys = {"t:" + t for t in self.title} | {"x:" + t for t in self.terms[:key_terms]}
        keys |= {"a:" + x for x in self.actors} | {"p:" + x for x in self.places}
        return sorted(keys)


@dataclass(frozen=True)
class CopyFeatures:
    """What finding copies needs of an article: its word count, text hash and shingle sketch."""

    n_words: int
    content_hash: str
    sketch: tuple[int, ...]


@dataclass(frozen=True)
class IndexEntry:
    """One article in the cluster index: its features and what dedup and grouping decided."""

    id: str
    seq: int
    features: ArticleFeatures
    copy: CopyFeatures
    role: str = ORIGINAL
    copy_of: int | None = None  # seq of the article it copies
    copy_score: float = 0.0
    comp: int | None = None  # linking component label (originals)

    @property
    def time_key(self) -> tuple[float, str]:
        """Arrival key of dedup: earliest first, unknown times last, ties by id."""
        t = self.features.time
        return (math.inf if math.isnan(t) else t, self.id)

    def may_copy(self, min_words: int) -> bool:
        """In the near-copy candidates (dedup's `rest`)."""
        return self.role != SAME_TEXT and self.copy.n_words >= min_words


@dataclass(frozen=True)
class IndexEdge:
    """A scored pair of the cluster index (score >= event_threshold - average_floor)."""

    a: int  # seq of the article with the smaller id
    b: int
    score: float
    features: dict[str, float] = field(default_factory=dict, compare=False)
