"""Thin Prefect task wrappers: each is one batch of work (a source, a chunk of pages).

The work is `flows.stages` (plain functions over `extractors` and `warehouse`); tasks add
retries, logs and the orchestration boundary. Never one task per article: Prefect costs
7-20 ms per task run. No task caches its result: inputs are whole batches of pages (hashing
them costs time) and a re-run must do the work again anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from extractors.content.article import DEFAULT_EXTRACTION, ExtractionSettings
from extractors.fetch.discover import Discovery
from extractors.fetch.http import FetchSettings
from extractors.models import Candidate, FetchResult, Source
from flows import stages
from flows.runners import inside_dask_worker
from flows.stages import ClusteredWindow, ExtractedBatch
from reports.watchlists import (
    Alert,
    DeliveryReport,
    deliver_alerts,
    evaluate_watchlists,
    load_watchlists,
)


@task(name="discover", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def discover_task(
    source: Source, since: datetime | None, fetch_settings: FetchSettings, warehouse: Path,
    run_id: str, reread: bool = False,
) -> Discovery:
    """One source's feeds and sitemaps: every entry they offer (the flow picks the new)."""
    found = stages.discover(source, since, fetch_settings, warehouse, run_id, reread=reread)
    get_run_logger().info(
        "%s: %d documents (%d read in full), %d entries, %d document errors",
        source.name, len(found.documents), len(found.reads), len(found.candidates),
        len(found.errors),
    )
    return found


@task(name="fetch-batch", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def fetch_task(
    batch: Sequence[Candidate], sources: Sequence[Source], fetch_settings: FetchSettings,
    warehouse: Path, run_id: str, batch_no: int, resumed: bool = False,
) -> list[FetchResult]:
    """Fetch one chunk of pages; every outcome is logged in the warehouse, raw pages kept."""
    pages = stages.fetch(batch, sources, fetch_settings, warehouse, run_id, resumed=resumed)
    failed = [p for p in pages if not p.ok]
    get_run_logger().info(
        "fetch batch %d: %d pages, %d ok, %d failed%s", batch_no, len(pages),
        len(pages) - len(failed), len(failed),
        f" (e.g. {failed[0].url}: {failed[0].error_class})" if failed else "",
    )
    return pages


@task(name="extract-batch", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def extract_task(
    pages: Sequence[FetchResult], warehouse: Path, run_id: str, batch_no: int,
    settings: ExtractionSettings = DEFAULT_EXTRACTION, use_pool: bool = True,
) -> ExtractedBatch:
    """Extract one chunk of fetched pages (in the process pool) and load the articles."""
    use_pool = use_pool and not inside_dask_worker()
    done = stages.extract(pages, warehouse, run_id, use_pool=use_pool, settings=settings)
    get_run_logger().info(
        "extract batch %d: %d pages, %d articles, %d skipped, %d failed", batch_no, done.pages,
        len(done.article_ids), done.skipped, done.failed,
    )
    return done


@task(name="cluster", cache_policy=NO_CACHE)
def cluster_task(article_ids: Sequence[str], warehouse: Path, window_days: int,
                 run_id: str) -> ClusteredWindow:
    """Re-cluster the recent window around the run's articles and store the result."""
    clustered = stages.cluster_window(article_ids, warehouse, window_days)
    result = clustered.result
    get_run_logger().info(
        "clustered %d articles (%d new) into %d events, %d duplicates",
        len(clustered.window_ids), len(clustered.new_ids), len(result.events),
        len(result.duplicates),
    )
    if clustered.new_ids:
        stages.store_clusters(warehouse, run_id, clustered)
    return clustered


@task(name="watchlists", cache_policy=NO_CACHE)
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
