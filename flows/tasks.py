"""Thin Prefect task wrappers: each is one batch of work (a source, a chunk of pages).

The logic lives in `extractors` and `warehouse`; tasks add retries, logging and the
orchestration boundary. Never one task per article: Prefect costs 7-20 ms per task run.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import get_run_logger, task

from extractors.discover import Discovery, discover_source, merge_candidates
from extractors.errors import is_worth_retrying_later
from extractors.events import ClusterSettings, cluster
from extractors.http import Fetcher, FetchSettings, RobotsCache
from extractors.models import (
    Article,
    Candidate,
    ClusterResult,
    ExtractionOutcome,
    FetchResult,
    Source,
)
from extractors.parallel import extract_pages
from flows.watchlists import (
    Alert,
    DeliveryReport,
    deliver_alerts,
    evaluate_watchlists,
    load_watchlists,
)
from warehouse import load, queries


@functools.cache
def process_robots_cache() -> RobotsCache:
    """The process's robots.txt cache: batches of a run (and runs of a worker) share it.

    A function, not a module global: Dask pickles task functions by value with the globals
    they name, and a function is pickled by reference (a lock inside a cache is not picklable,
    and each worker process should keep its own cache anyway).
    """
    return RobotsCache(ttl_s=3600.0)

MAX_RUNS_PER_FAILED_PAGE = 3  # a page failing in this many runs is left in fetch_log


@task(name="discover", retries=2, retry_delay_seconds=2)
def discover_task(
    source: Source, since: datetime | None, fetch_settings: FetchSettings, warehouse: Path,
    run_id: str,
) -> Discovery:
    """Read one source's feeds and sitemaps and log every document fetch.

    Returns the candidates not stored yet, plus earlier failures due for a retry. The new
    validators are returned, not stored: the flow stores them once the pages are handled, so
    a run that dies half way does not turn the next run's feed fetch into an empty 304.
    """
    validators = load.load_validators(warehouse, [*source.feeds, *source.sitemaps])

    async def _run() -> Discovery:
        robots = process_robots_cache()
        async with Fetcher(fetch_settings, sources=[source], robots_cache=robots) as fetcher:
            return await discover_source(fetcher, source, since=since, validators=validators)

    found = asyncio.run(_run())
    load.record_fetches(warehouse, run_id, found.documents, raw=False)
    retries = [
        Candidate(url, source.name, "list")
        for url, status, error_class, n_runs in queries.failed_pages(warehouse, source.name)
        if n_runs < MAX_RUNS_PER_FAILED_PAGE and is_worth_retrying_later(error_class, status)
    ]
    stored = queries.stored_canonical_urls(warehouse, [c.url for c in found.candidates])
    found.candidates = merge_candidates(
        [c for c in found.candidates if c.url not in stored] + retries
    )
    get_run_logger().info(
        "%s: %d documents, %d new candidates (%d retries), %d document errors",
        source.name, len(found.documents), len(found.candidates), len(retries), len(found.errors),
    )
    return found


@task(name="fetch-batch", retries=2, retry_delay_seconds=2)
def fetch_task(
    batch: Sequence[Candidate], sources: Sequence[Source], fetch_settings: FetchSettings,
    warehouse: Path, run_id: str, batch_no: int, resumed: bool = False,
) -> list[FetchResult]:
    """Fetch one chunk of pages with one shared client; log every outcome, keep raw pages.

    `resumed`: this flow run ran before (a Prefect retry); pages it already fetched are
    taken from the warehouse rather than fetched again.
    """

    reused = _fetched_earlier_in_run(batch, warehouse, run_id) if resumed else {}
    todo = [c for c in batch if c.url not in reused]

    async def _run() -> list[FetchResult]:
        robots = process_robots_cache()
        async with Fetcher(fetch_settings, sources=sources, robots_cache=robots) as fetcher:
            return await fetcher.fetch_pages(todo)

    fetched = asyncio.run(_run()) if todo else []
    load.record_fetches(warehouse, run_id, fetched, raw=True)
    by_url = {**reused, **{p.url: p for p in fetched}}
    pages = [by_url[c.url] for c in batch]
    failed = [p for p in pages if not p.ok]
    get_run_logger().info(
        "fetch batch %d: %d pages, %d ok, %d failed%s", batch_no, len(pages),
        len(pages) - len(failed), len(failed),
        f" (e.g. {failed[0].url}: {failed[0].error_class})" if failed else "",
    )
    return pages


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


@task(name="extract-batch", retries=1, retry_delay_seconds=2)
def extract_task(
    pages: Sequence[FetchResult], warehouse: Path, run_id: str, batch_no: int,
    use_pool: bool = True,
) -> list[ExtractionOutcome]:
    """Extract one chunk of fetched pages (in the process pool) and load the articles."""
    ok_pages = [p for p in pages if p.ok]
    outcomes = extract_pages(ok_pages, use_pool=use_pool)
    load.record_extractions(warehouse, run_id, outcomes)
    get_run_logger().info(
        "extract batch %d: %d pages, %d articles, %d skipped, %d failed", batch_no, len(ok_pages),
        sum(o.status == "extracted" for o in outcomes),
        sum(o.status == "skipped" for o in outcomes), sum(o.status == "failed" for o in outcomes),
    )
    return outcomes


@task(name="cluster")
def cluster_task(
    new_articles: Sequence[Article], warehouse: Path, window_days: int
) -> tuple[ClusterResult, list[str]]:
    """Re-cluster the recent window around the new articles (deterministic, order-free)."""
    settings = ClusterSettings(window_days=window_days)
    window = queries.articles_in_window(warehouse, _window_start(new_articles, window_days))
    by_id = {a.id: a for a in window}
    for article in new_articles:
        by_id.setdefault(article.id, article)
    articles = sorted(by_id.values(), key=lambda a: a.id)
    result = cluster(articles, settings)
    get_run_logger().info(
        "clustered %d articles (%d new) into %d events, %d duplicates",
        len(articles), len(new_articles), len(result.events), len(result.duplicates),
    )
    return result, [a.id for a in articles]


def _window_start(articles: Sequence[Article], window_days: int) -> datetime:
    """Earliest moment an event that a new article could join may have been seen."""
    stamps = [a.published_at or a.fetched_at for a in articles]
    known = [s if s.tzinfo else s.replace(tzinfo=UTC) for s in stamps if s is not None]
    earliest = min(known) if known else datetime.now(UTC)
    return earliest - timedelta(days=window_days)


@task(name="watchlists")
def watchlists_task(
    warehouse: Path, rules_path: Path, run_id: str, event_ids: Sequence[str]
) -> tuple[list[Alert], DeliveryReport]:
    """Match the watchlist rules against new and updated events; deliver new alerts.

    Delivery failures are recorded in the warehouse and retried by the next run; they never
    fail the flow.
    """
    alerts = evaluate_watchlists(warehouse, rules_path, run_id, event_ids)
    report = deliver_alerts(warehouse, alerts, load_watchlists(rules_path).urls)
    get_run_logger().info(
        "watchlists: %d new alerts; deliveries %d ok, %d failed",
        len(alerts), report.delivered, report.failed,
    )
    return alerts, report
