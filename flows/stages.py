"""The monitor flow's stages as plain functions: data in, data out, one call per batch.

No stage opens the warehouse or takes its path: the flow reads what a stage needs before
dispatching it and writes what it returns (flows/run_store.py), so a stage runs the same in
a thread of the flow process or on a Dask worker on another machine. `flows/tasks.py` wraps
each in a Prefect task; `bench/prefect_overhead.py` calls them directly. No Prefect here.

The network stages (discover, fetch) run in the flow process, where every Fetcher shares one
`Politeness` (per-host spacing and the global bound hold across tasks); the CPU stages
(extract, cluster, match rules) go wherever the task runner sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from extractors.content import embedding
from extractors.content.article import DEFAULT_EXTRACTION, ExtractionSettings
from extractors.content.parallel import extract_pages, get_pool
from extractors.events.clustering import ClusterSettings, cluster
from extractors.events.incremental import Arrival, arrivals_of
from extractors.events.stories import (
    DEFAULT_STORY_SETTINGS,
    ContextCounts,
    StorySettings,
    place_events,
    story_records,
)
from extractors.fetch.discover import Discovery, discover_sources
from extractors.fetch.http import Fetcher, FetchSettings, Validators, shared_politeness
from extractors.models import (
    Article,
    Candidate,
    ClusterResult,
    Event,
    ExtractionOutcome,
    FetchResult,
    RobotsRecord,
    Source,
    StoryResult,
)
from extractors.timezones import naive_as_utc

T = TypeVar("T")


@dataclass(frozen=True)
class DiscoveredChunk:
    """What discovering one chunk of sources returned: per source, and the robots.txt
    answers learned on the way (the flow stores them and hands them to later tasks)."""

    by_source: dict[str, Discovery]
    robots: tuple[RobotsRecord, ...] = ()


@dataclass(frozen=True)
class FetchedBatch:
    """One batch of pages, in candidate order, and the robots.txt answers learned."""

    pages: list[FetchResult]
    robots: tuple[RobotsRecord, ...] = ()
    reused: int = 0  # pages taken from the warehouse (fetched earlier in a retried run)


@dataclass(frozen=True)
class DiscoveryJob:
    """Everything discovering one chunk needs, read by the flow beforehand."""

    sources: tuple[Source, ...]
    since: datetime | None  # the run's backfill bound (`--since`), if any
    validators: dict[str, Validators]
    robots: dict[str, RobotsRecord]  # known answers for the chunk's hosts
    listed: dict[str, datetime] = field(default_factory=dict)  # child sitemap -> lastmod


@dataclass(frozen=True)
class FetchJob:
    """Everything fetching one batch needs, read by the flow beforehand."""

    batch_no: int
    candidates: tuple[Candidate, ...]
    sources: tuple[Source, ...]  # the batch's sources (their requests_per_second)
    robots: dict[str, RobotsRecord] = field(default_factory=dict)
    reused: dict[str, FetchResult] = field(default_factory=dict)  # url -> page fetched already


def _with_fetcher(
    fetch_settings: FetchSettings,
    sources: Sequence[Source],
    robots: Mapping[str, RobotsRecord],
    work: Callable[[Fetcher], Awaitable[T]],
) -> tuple[T, tuple[RobotsRecord, ...]]:
    """Run `work` with one Fetcher (one client, the process's shared politeness); returns
    its result and the robots.txt answers it learned."""
    politeness = shared_politeness(fetch_settings.global_concurrency,
                                   fetch_settings.per_host_concurrency)

    async def _run() -> tuple[T, tuple[RobotsRecord, ...]]:
        async with Fetcher(fetch_settings, sources=sources, robots=robots,
                           politeness=politeness) as fetcher:
            result = await work(fetcher)
        return result, tuple(fetcher.robots_learned.values())

    return asyncio.run(_run())


def discover(job: DiscoveryJob, fetch_settings: FetchSettings) -> DiscoveredChunk:
    """Read the feeds and sitemaps of a chunk of sources, side by side.

    Every entry is returned (the flow decides which are new: extractors/fetch/ledger.py);
    the new validators are returned, not stored: the flow stores them once every entry of
    their document is handled, so a run that dies half way, or leaves entries out
    (`--since`), does not turn the next run's read into an empty 304.
    """
    by_source, robots = _with_fetcher(
        fetch_settings, job.sources, job.robots,
        lambda fetcher: discover_sources(fetcher, job.sources, since=job.since,
                                         validators=job.validators, listed=job.listed),
    )
    return DiscoveredChunk(by_source, robots)


def fetch(job: FetchJob, fetch_settings: FetchSettings) -> FetchedBatch:
    """Fetch one batch of pages with one client; pages in `job.reused` are not fetched again
    (a retried flow run hands in what it already stored). Pages come back undecoded (`body`):
    the extraction worker decodes them, off the flow process and within the page's budget."""
    todo = [c for c in job.candidates if c.url not in job.reused]
    fetched, robots = (
        _with_fetcher(fetch_settings, job.sources, job.robots,
                      lambda f: f.fetch_pages(todo, decode=False))
        if todo else ([], ())
    )
    by_url = {**job.reused, **{p.url: p for p in fetched}}
    return FetchedBatch([by_url[c.url] for c in job.candidates], robots,
                        reused=len(job.candidates) - len(todo))


def extract(
    pages: Sequence[FetchResult], use_pool: bool = True,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
    domains: Mapping[str, Collection[str]] | None = None, workers: int | None = None,
) -> list[ExtractionOutcome]:
    """Extract the pages that were fetched (in the process pool when `use_pool`, `workers`
    processes if this starts it). `domains`: per source, its sites (urls.own_domains)."""
    return extract_pages([p for p in pages if p.ok], use_pool=use_pool, settings=settings,
                         domains=domains, workers=workers)


def embed(texts: Sequence[str], use_pool: bool = True) -> bytes:
    """Sentence vectors of `texts` (extractors.content.embedding) as float32 bytes, made in
    one call to an extraction worker, or in this process without `use_pool` (a Dask
    worker's cores are Dask's): the model's CPU and memory stay off the flow process."""
    payload = embedding.pack_texts(texts)
    if not use_pool:
        return embedding.embed_packed(payload)
    limit = embedding.CALL_CPU_S + embedding.CPU_S_PER_TEXT * len(texts)
    return get_pool().call(f"{embedding.__name__}:embed_packed", payload, limit).result()


def cluster_articles(articles: Sequence[Article], window_days: int) -> ClusterResult:
    """Deduplicate and cluster a set of articles at once (deterministic, order-free)."""
    ordered = sorted(articles, key=lambda a: a.id)
    return cluster(ordered, cluster_settings(window_days))


def cluster_settings(window_days: int) -> ClusterSettings:
    return ClusterSettings(window_days=window_days)


def article_features(articles: Sequence[Article], window_days: int) -> list[Arrival]:
    """What incremental clustering needs of a run's articles: their matching tokens and copy
    features (the costly, stats-free part of indexing them; extractors/events/incremental.py).
    The flow then matches them against the stored index."""
    return arrivals_of(sorted(articles, key=lambda a: a.id), cluster_settings(window_days))


@dataclass(frozen=True)
class StoryContext:
    """What placing a re-clustered window's events into stories needs, read by the flow
    beforehand: the stored events they may join and their stories, and the story each of
    the window's articles was in before (so a story keeps its id). With `counts` (of the
    whole stored context), `earlier` need hold only the stored events placement can compare
    (extractors.events.stories.narrow_context)."""

    earlier: tuple[Event, ...] = ()
    story_of: dict[str, str] = field(default_factory=dict)  # earlier event id -> story id
    previous: dict[str, str] = field(default_factory=dict)  # article id -> story id
    counts: ContextCounts | None = None


def story_placement(
    result: ClusterResult, context: StoryContext,
    settings: StorySettings = DEFAULT_STORY_SETTINGS,
) -> dict[str, str]:
    """The story of each of a window's events (event id -> story id), as build_stories
    places them, from the comparable stored events and the context's counts."""
    return place_events(result.events, context.earlier, context.story_of, context.previous,
                        settings, context.counts)


def story_result(result: ClusterResult, story_of: dict[str, str], members: Sequence[Event],
                 members_story_of: dict[str, str]) -> StoryResult:
    """StoryResult of a placement: the records of the stories the events are in, made from
    those events and every stored event of those stories (`members`)."""
    return StoryResult(story_records(story_of, result.events, members, members_story_of),
                       story_of)


def story_window(events: Sequence[Event], now: datetime,
                 settings: StorySettings = DEFAULT_STORY_SETTINGS) -> datetime:
    """Earliest moment a stored event that `events` may continue in a story was seen: the
    story window before the earliest of them (unknown times: before `now`)."""
    known = [naive_as_utc(e.first_seen) for e in events if e.first_seen is not None]
    return min([*known, now]) - timedelta(days=settings.window_days)
