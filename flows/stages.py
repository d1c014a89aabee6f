"""The monitor flow's stages as plain functions: one call is one batch of work.

`flows/tasks.py` wraps each in a Prefect task (retries, logs, the orchestration boundary);
`bench/prefect_overhead.py` calls them directly to measure what Prefect adds. No Prefect here.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from extractors.content.article import DEFAULT_EXTRACTION, ExtractionSettings
from extractors.content.parallel import extract_pages
from extractors.events.clustering import ClusterSettings, cluster, event_merges
from extractors.fetch.discover import Discovery, discover_source
from extractors.fetch.http import Fetcher, FetchSettings, RobotsCache
from extractors.models import Article, Candidate, ClusterResult, FetchResult, Source
from warehouse import load, queries

T = TypeVar("T")


@functools.cache
def process_robots_cache() -> RobotsCache:
    """The process's robots.txt cache: batches of a run (and runs of a worker) share it.

    A function, not a module global: Dask pickles task functions by value with the globals
    they name, and a function is pickled by reference (a lock inside a cache is not picklable,
    and each worker process should keep its own cache anyway).
    """
    return RobotsCache(ttl_s=3600.0)


@dataclass(frozen=True)
class ExtractedBatch:
    """What extracting one batch stored. Ids and counts only: the articles are in the
    warehouse already, so what a run keeps in memory does not grow with its size."""

    article_ids: tuple[str, ...]
    pages: int
    skipped: int
    failed: int


@dataclass(frozen=True)
class ClusteredWindow:
    """One re-clustering: the result, the articles it covered and which of them were new."""

    result: ClusterResult
    window_ids: list[str]
    new_ids: list[str]


def _with_fetcher(
    fetch_settings: FetchSettings, sources: Sequence[Source],
    work: Callable[[Fetcher], Awaitable[T]],
) -> T:
    """Run `work` with one Fetcher (one client; the process's robots.txt cache) and close it."""

    async def _run() -> T:
        robots = process_robots_cache()
        async with Fetcher(fetch_settings, sources=sources, robots_cache=robots) as fetcher:
            return await work(fetcher)

    return asyncio.run(_run())


def discover(
    source: Source, since: datetime | None, fetch_settings: FetchSettings, warehouse: Path,
    run_id: str, reread: bool = False,
) -> Discovery:
    """Read one source's feeds and sitemaps and log every document fetch.

    Returns every entry offered (the flow decides which are new: flows/ledger.py). The new
    validators are returned, not stored: the flow stores them once every entry of their
    document is handled, so a run that dies half way, or skips entries (`--since`), does not
    turn the next run's read into an empty 304. `reread`: ignore stored validators (and read
    every child sitemap).
    """
    validators, listed = ({}, {}) if reread else queries.document_state(warehouse, [source.name])
    found = _with_fetcher(
        fetch_settings, [source],
        lambda fetcher: discover_source(fetcher, source, since=since, validators=validators,
                                        listed=listed),
    )
    load.record_fetches(warehouse, run_id, found.documents, raw=False)
    return found


def fetch(
    batch: Sequence[Candidate], sources: Sequence[Source], fetch_settings: FetchSettings,
    warehouse: Path, run_id: str, resumed: bool = False,
) -> list[FetchResult]:
    """Fetch one chunk of pages with one shared client; log every outcome, keep raw pages.

    `resumed`: this flow run ran before (a Prefect retry); pages it already fetched are
    taken from the warehouse rather than fetched again.
    """
    reused = _fetched_earlier_in_run(batch, warehouse, run_id) if resumed else {}
    todo = [c for c in batch if c.url not in reused]
    fetched = _with_fetcher(fetch_settings, sources, lambda f: f.fetch_pages(todo)) if todo else []
    load.record_fetches(warehouse, run_id, fetched, raw=True)
    by_url = {**reused, **{p.url: p for p in fetched}}
    return [by_url[c.url] for c in batch]


def _fetched_earlier_in_run(
    batch: Sequence[Candidate], warehouse: Path, run_id: str
) -> dict[str, FetchResult]:
    """Pages this run already fetched and stored raw (a retried flow run keeps its run id).

    They are taken from the warehouse instead of the network, with the feed's metadata put
    back, so a retry costs no second request.
    """
    started = queries.run_started_at(warehouse, run_id)
    if started is None:
        return {}
    wanted = {c.url: c for c in batch}
    return {
        page.url: replace(page, feed_title=wanted[page.url].title,
                          feed_published=wanted[page.url].published)
        for page in queries.raw_pages(warehouse, list(wanted))
        if page.fetched_at is not None and page.fetched_at >= started
    }


def extract(
    pages: Sequence[FetchResult], warehouse: Path, run_id: str, use_pool: bool = True,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
) -> ExtractedBatch:
    """Extract one chunk of fetched pages (in the process pool) and load the articles."""
    ok_pages = [p for p in pages if p.ok]
    outcomes = extract_pages(ok_pages, use_pool=use_pool, settings=settings)
    load.record_extractions(warehouse, run_id, outcomes)
    return ExtractedBatch(
        article_ids=tuple(dict.fromkeys(o.article.id for o in outcomes if o.article)),
        pages=len(ok_pages),
        skipped=sum(o.status == "skipped" for o in outcomes),
        failed=sum(o.status == "failed" for o in outcomes),
    )


def cluster_window(
    article_ids: Sequence[str], warehouse: Path, window_days: int
) -> ClusteredWindow:
    """Re-cluster the recent window around the run's articles (deterministic, order-free).

    The run's articles are read back from the warehouse, with every stored article that no
    clustering has placed yet (what a stopped run left).
    """
    by_id = {a.id: a for a in queries.articles_by_ids(warehouse, article_ids)}
    for article in queries.unclustered_articles(warehouse):
        by_id.setdefault(article.id, article)
    new = list(by_id.values())
    if not new:
        return ClusteredWindow(ClusterResult((), (), ()), [], [])
    window = queries.articles_in_window(warehouse, window_start(new, window_days))
    for article in window:
        by_id.setdefault(article.id, article)
    articles = sorted(by_id.values(), key=lambda a: a.id)
    result = cluster(articles, ClusterSettings(window_days=window_days))
    return ClusteredWindow(result, [a.id for a in articles], sorted(a.id for a in new))


def store_clusters(warehouse: Path, run_id: str, clustered: ClusteredWindow) -> None:
    """Swap the window's clustering into the warehouse, recording which events merged."""
    before = queries.event_of_articles(warehouse, clustered.window_ids)
    after = {m.article_id: m.event_id for m in clustered.result.memberships}
    load.replace_clusters(warehouse, run_id, clustered.result, clustered.window_ids,
                          event_merges(before, after))


def window_start(articles: Sequence[Article], window_days: int) -> datetime:
    """Earliest moment an event that a new article could join may have been seen."""
    stamps = [a.published_at or a.fetched_at for a in articles]
    known = [s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps if s is not None]
    earliest = min(known) if known else datetime.now(UTC)
    return earliest - timedelta(days=window_days)
