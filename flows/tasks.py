"""Thin Prefect task wrappers: each is one batch of work (a chunk of sources or of pages).

The work is `flows.stages` (plain functions, data in and data out); tasks add retries, logs
and the orchestration boundary. No task opens the warehouse: the flow reads their inputs and
writes their results. Never one task per article: Prefect costs 7-20 ms per task run. No task
caches its result: inputs are whole batches of pages (hashing them costs time) and a re-run
must do the work again anyway.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from extractors.content.article import DEFAULT_EXTRACTION, ExtractionSettings
from extractors.content.parallel import cluster_features_in_worker
from extractors.events.incremental import Arrival
from extractors.fetch.http import FetchSettings
from extractors.models import Article, ExtractionOutcome, FetchResult
from flows import stages
from flows.runners import inside_dask_worker
from flows.stages import DiscoveredChunk, DiscoveryJob, FetchedBatch, FetchJob
from reports.watchlists import (
    Alert,
    DeliveryReport,
    DeliveryState,
    Match,
    Rule,
    WatchedEvent,
    match_rules,
    send_alerts,
)


@task(name="discover", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def discover_task(job: DiscoveryJob, fetch_settings: FetchSettings,
                  chunk_no: int) -> DiscoveredChunk:
    """A chunk of sources' feeds and sitemaps, side by side: their candidate pages."""
    found = stages.discover(job, fetch_settings)
    logger = get_run_logger()
    for name, discovery in found.by_source.items():
        if discovery.errors:
            logger.warning("%s: %d document errors, e.g. %s", name, len(discovery.errors),
                           discovery.errors[0])
    logger.info(
        "discover chunk %d: %d sources, %d documents, %d candidates, %d robots.txt read",
        chunk_no, len(found.by_source),
        sum(len(d.documents) for d in found.by_source.values()),
        sum(len(d.candidates) for d in found.by_source.values()), len(found.robots),
    )
    return found


@task(name="fetch-batch", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def fetch_task(job: FetchJob, fetch_settings: FetchSettings) -> FetchedBatch:
    """Fetch one batch of pages; every outcome, failures included, comes back as data."""
    fetched = stages.fetch(job, fetch_settings)
    failed = [p for p in fetched.pages if not p.ok]
    get_run_logger().info(
        "fetch batch %d: %d pages, %d ok, %d failed%s%s", job.batch_no, len(fetched.pages),
        len(fetched.pages) - len(failed), len(failed),
        f" ({fetched.reused} fetched earlier in this run)" if fetched.reused else "",
        f" (e.g. {failed[0].url}: {failed[0].error_class})" if failed else "",
    )
    return fetched


@task(name="extract-batch", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def extract_task(
    pages: Sequence[FetchResult], batch_no: int,
    settings: ExtractionSettings = DEFAULT_EXTRACTION, use_pool: bool = True,
    domains: Mapping[str, Collection[str]] | None = None,
) -> list[ExtractionOutcome]:
    """Extract one batch of fetched pages in the process pool (inside a Dask worker, a pool
    of one process: its cores are Dask's), every page under its CPU budget."""
    workers = 1 if inside_dask_worker() else None
    outcomes = stages.extract(pages, use_pool=use_pool, settings=settings, domains=domains,
                              workers=workers)
    get_run_logger().info(
        "extract batch %d: %d pages, %d articles, %d skipped, %d failed", batch_no,
        len(outcomes), sum(o.status == "extracted" for o in outcomes),
        sum(o.status == "skipped" for o in outcomes), sum(o.status == "failed" for o in outcomes),
    )
    return outcomes


@task(name="cluster", cache_policy=NO_CACHE)
def cluster_task(articles: Sequence[Article], window_days: int) -> list[Arrival]:
    """The run's articles' matching features (tokens, copy features), for the flow to match
    against the stored cluster index."""
    arrivals = stages.article_features(articles, window_days)
    get_run_logger().info("clustering: features of %d articles", len(arrivals))
    return arrivals


@task(name="cluster-features", cache_policy=NO_CACHE)
def features_task(articles: Sequence[Article]) -> dict[str, bytes]:
    """The clustering features of the run's articles that came without them (packed, by
    id), made in one call to an extraction worker: off the flow process."""
    made = cluster_features_in_worker(articles)
    get_run_logger().info("clustering: features of %d articles made in a worker", len(made))
    return made


@task(name="embed", cache_policy=NO_CACHE)
def embed_task(texts: Sequence[str]) -> bytes:
    """The sentence vectors of the texts the cluster step compares across languages, in one
    batch, as float32 bytes: in an extraction worker (in a Dask worker, there)."""
    vectors = stages.embed(texts, use_pool=not inside_dask_worker())
    get_run_logger().info("clustering: sentence vectors of %d texts", len(texts))
    return vectors


@task(name="match-watchlists", cache_policy=NO_CACHE)
def match_task(rules: Sequence[Rule], events: Sequence[WatchedEvent]) -> list[Match]:
    """Which watchlist rules the new and updated events match."""
    matches = match_rules(rules, events)
    get_run_logger().info("watchlists: %d events, %d matches", len(events), len(matches))
    return matches


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(alerts: Sequence[Alert], urls: Sequence[str],
                 state: DeliveryState) -> tuple[list[dict], DeliveryReport]:
    """Notify each new alert (and retry earlier failed deliveries); never fails the flow."""
    attempts, report = send_alerts(alerts, urls, state)
    get_run_logger().info(
        "watchlists: %d new alerts; deliveries %d ok, %d failed",
        len(alerts), report.delivered, report.failed,
    )
    return attempts, report
