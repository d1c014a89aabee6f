"""The monitor flow: discover → fetch → extract → deduplicate and cluster → load.

This is the `prefect.yaml` entrypoint and what `newsmon run` / `newsmon demo` call. It only
orchestrates: every stage is a plain function in `extractors` or `warehouse`, wrapped by one
task per batch in `flows.tasks`.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from pydantic import PositiveInt, WithJsonSchema

from extractors.fetch.discover import Discovery
from extractors.fetch.http import FetchSettings
from extractors.fetch.ledger import EntryPlan
from extractors.fetch.sources import load_sources
from extractors.models import Candidate, Source
from flows import ledger
from flows.runners import task_runner_from_env
from flows.settings import get_settings
from flows.stages import ExtractedBatch
from flows.tasks import (
    cluster_task,
    discover_task,
    extract_task,
    fetch_task,
    watchlists_task,
)
from reports.digest import build_digest, render_markdown
from reports.watchlists import load_watchlists
from warehouse import load, queries
from warehouse.db import hold_run_lock


@dataclass
class RunSummary:
    """What one monitor run did, for the CLI, the artifacts and the `runs` table."""

    run_id: str
    sources: int = 0
    entries: int = 0  # entries the feeds, sitemaps, URL lists and the ledger's backlog offered
    candidates: int = 0  # of which fetched: new, updated, or due for a retry
    updates: int = 0  # of which stored articles whose feed/sitemap `updated` moved forward
    retries: int = 0
    before_since: int = 0  # entries left out by --since (later runs still fetch them)
    pages_fetched: int = 0
    fetch_failures: int = 0
    articles_new: int = 0  # articles this run inserted (none that another run stored)
    articles_updated: int = 0  # stored articles this run replaced with a changed version
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    alerts: int = 0
    events: int = 0
    top_events: list[dict] = field(default_factory=list)
    failures: list[tuple[str, str, int]] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)  # coverage_ledger rows of this run
    overflows: list[str] = field(default_factory=list)  # one warning per overflowing feed

    def counts(self) -> dict[str, int]:
        return {
            k: v for k, v in self.__dict__.items() if isinstance(v, int) and k != "run_id"
        }


EXTRACTS_IN_FLIGHT = 2  # batches fetched but not yet extracted; bounds a run's memory


def _since_datetime(since: date | datetime | None) -> datetime | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    return datetime.combine(since, time(), UTC)


def _chunks(items: list[Candidate], size: int) -> list[list[Candidate]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- typed run parameters (deployment; docs/deploy.md) ---------------------------------------
# Pydantic checks parameters when a run starts; the Prefect server checks them against this
# JSON schema when a deployment run is created. The server ignores "format", so `since` has a
# pattern (kept short: it is quoted in the error): `--param since=yesterday` is refused at once.
_ISO_DATE_OR_DATETIME = r"^\d{4}-\d{2}-\d{2}([T ].+)?$"
Since = Annotated[
    date | datetime | None,
    WithJsonSchema({
        "anyOf": [{"type": "string", "pattern": _ISO_DATE_OR_DATETIME}, {"type": "null"}],
        "description": "Backfill bound: this run leaves out entries dated before this ISO 8601 "
                       "date or datetime (UTC if naive); later runs still fetch them",
    }),
]
# --- end typed run parameters -------------------------------------------------------------


# task_runner: NEWSMON_TASK_RUNNER=thread|dask, read when this module is imported (flows/runners.py)
@flow(name="monitor", log_prints=False, task_runner=task_runner_from_env())
def monitor(
    sources: str = "sources.toml",
    warehouse: str | None = None,
    since: Since = None,
    batch_size: PositiveInt | None = None,
    watchlists: str | None = None,
) -> RunSummary:
    """One monitoring run over every source in `sources`; safe to re-run at any time."""
    logger = get_run_logger()
    settings = get_settings()
    db = Path(warehouse) if warehouse else settings.warehouse_path
    db.parent.mkdir(parents=True, exist_ok=True)
    size = batch_size or settings.batch_size
    configured = load_sources(sources)  # raises with file/source/field on a bad config
    rules_path = Path(watchlists) if watchlists else settings.watchlists
    if rules_path is not None:
        load_watchlists(rules_path)  # a broken rules file stops the run before any work
    run_id = str(flow_run.id or uuid.uuid4())
    summary = RunSummary(run_id=run_id, sources=len(configured))
    fetch_settings = settings.fetch_settings()
    extraction = settings.extraction_settings()
    since_at = _since_datetime(since)  # bounds this run only: see extractors/fetch/ledger.py
    run_lock = hold_run_lock(db, run_id, settings.run_wait_s, on_wait=logger.warning)
    status = "failed"
    started = datetime.now(UTC)
    try:
        load.start_run(
            db, run_id,
            parameters={"sources": str(sources), "warehouse": str(db), "since": str(since)},
            flow_run_id=str(flow_run.id) if flow_run.id else None,
            storage_version=settings.storage_version,
        )
        load.upsert_sources(db, configured)
        discoveries: list[Discovery] = []
        discovered: list[str] = []  # sources whose every feed and sitemap was read
        for source in configured:
            found = discover_task(source, since_at, fetch_settings, db, run_id)
            discoveries.append(found)
            if all(doc.error_class is None for doc in found.documents):
                discovered.append(source.name)
        plan = _plan_entries(db, run_id, configured, discoveries, since_at, fetch_settings)
        candidates = plan.to_fetch
        summary.entries, summary.candidates = len(plan.entries), len(candidates)
        summary.updates, summary.retries = plan.count("updated"), plan.count("retry")
        summary.before_since = plan.count("before-since")
        logger.info("%d sources, %d entries, %d to fetch (%d updated, %d retries)",
                    len(configured), summary.entries, len(candidates), summary.updates,
                    summary.retries)

        # Fetch batch N+1 while batch N extracts: fetching is I/O, extraction is CPU. At most
        # EXTRACTS_IN_FLIGHT batches wait for extraction, so fetched pages cannot pile up in
        # memory when the network outpaces the CPU.
        extracting: deque[PrefectFuture[ExtractedBatch]] = deque()
        article_ids: dict[str, None] = {}

        def collect(done: ExtractedBatch) -> None:
            article_ids.update(dict.fromkeys(done.article_ids))
            summary.skipped += done.skipped
            summary.failed += done.failed

        batches = _chunks(candidates, size)
        progress = create_progress_artifact(
            progress=0.0, key="monitor-fetch-progress",
            description=f"Fetching {len(candidates)} pages in {len(batches)} batches",
        )
        for batch_no, batch in enumerate(batches, start=1):
            pages = fetch_task(batch, configured, fetch_settings, db, run_id, batch_no,
                               resumed=flow_run.run_count > 1)
            summary.pages_fetched += sum(p.ok for p in pages)
            summary.fetch_failures += sum(not p.ok for p in pages)
            extracting.append(extract_task.submit(pages, db, run_id, batch_no, extraction))
            del pages
            while len(extracting) > EXTRACTS_IN_FLIGHT:
                collect(extracting.popleft().result())
            update_progress_artifact(progress, progress=100.0 * batch_no / len(batches))
        while extracting:
            collect(extracting.popleft().result())
        ledger.settle_run(db, run_id, plan, discoveries, datetime.now(UTC))
        summary.articles_new, summary.articles_updated = queries.articles_added_by_run(
            db, run_id)

        # Articles a stopped run stored but never clustered are clustered now with the new ones.
        clustered = cluster_task(list(article_ids), db, settings.cluster_window_days, run_id)
        if clustered.new_ids:
            new_ids = set(clustered.new_ids)
            result = clustered.result
            summary.duplicates = sum(d.article_id in new_ids for d in result.duplicates)
            touched = sorted({m.event_id for m in result.memberships if m.article_id in new_ids})
            summary.events = len(touched)
            if rules_path is not None:
                alerts, _report = watchlists_task(db, rules_path, run_id, touched)
                summary.alerts = len(alerts)
        load.mark_source_success(db, discovered, started)  # informational: decides nothing
        summary.top_events = queries.top_events(db, limit=10)
        summary.failures = queries.run_failures(db, run_id)
        summary.coverage, summary.overflows = queries.run_coverage(db, run_id)
        status = "completed"
        _publish_artifacts(summary, render_markdown(build_digest(db)))
        return summary
    finally:
        try:
            load.finish_run(db, run_id, status, summary.counts())
        finally:
            run_lock.release()


def _plan_entries(
    db: Path, run_id: str, configured: list[Source], discoveries: list[Discovery],
    since_at: datetime | None, fetch_settings: FetchSettings,
) -> EntryPlan:
    """Decide the run's entries by identity (#17). A feed that overflowed sends discovery
    back to its source's sitemaps, read in full (no conditional GET), before deciding again."""
    now = datetime.now(UTC)
    plan = ledger.plan_run(db, run_id, configured, discoveries, since_at, now)
    fallback = {o.source for o in plan.overflows if o.fallback == "sitemaps"}
    if fallback:
        for source in (s for s in configured if s.name in fallback):
            sitemaps_only = replace(source, feeds=(), urls=())
            discoveries.append(discover_task(sitemaps_only, since_at, fetch_settings, db, run_id,
                                             reread=True))
        plan = ledger.plan_run(db, run_id, configured, discoveries, since_at, now)
    for overflow in plan.overflows:
        get_run_logger().warning(overflow.message())
    ledger.record_plan(db, run_id, plan, now)
    return plan


def _plain(value: object) -> object:
    """Artifacts are JSON: dates and lists become text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return value


def _reasons(counts: dict | None) -> str:
    """{'HTTP 404': 2, ...} as "HTTP 404 x2, ..." for a table cell."""
    return ", ".join(f"{reason} x{n}" for reason, n in sorted((counts or {}).items()))


def _coverage_markdown(rows: list[dict]) -> list[str]:
    """The coverage ledger rows of the run (see docs/warehouse.md, `coverage_ledger`)."""
    if not rows:
        return []
    lines = ["## Coverage ledger", "",
             "| day | source | seen | stored | failed | skipped | pending retry | not fetched "
             "| overflow warnings | reasons |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        reasons = "; ".join(
            f"{kind}: {_reasons(r.get(f'{kind}_by_reason'))}"
            for kind in ("failed", "skipped", "pending") if r.get(f"{kind}_by_reason")
        )
        lines.append(
            f"| {_plain(r['day'])} | {r['source']} | {r['seen']} | {r['stored']} | {r['failed']} "
            f"| {r['skipped']} | {r['pending_retry']} | {r['not_fetched']} "
            f"| {r['overflow_warnings']} | {reasons.replace('|', '/')} |"
        )
    return [*lines, ""]


def _publish_artifacts(summary: RunSummary, digest_markdown: str) -> None:
    """A markdown summary, the day's digest and a table of the top events, in the Prefect UI."""
    lines = [
        f"# newsmon run `{summary.run_id}`",
        "",
        "| sources | entries | to fetch | pages fetched | new articles | updated articles | "
        "skipped | failed | duplicates | events touched | alerts |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {summary.sources} | {summary.entries} | {summary.candidates} | "
        f"{summary.pages_fetched} | {summary.articles_new} | {summary.articles_updated} | "
        f"{summary.skipped} | {summary.failed} | {summary.duplicates} | {summary.events} | "
        f"{summary.alerts} |",
        "",
    ]
    if summary.overflows:
        lines += ["## Overflow warnings", ""] + [f"- {w}" for w in summary.overflows] + [""]
    lines += _coverage_markdown(summary.coverage)
    lines += ["## Failures by reason", ""]
    if summary.failures:
        lines += ["| stage | reason | pages |", "|---|---|---|"]
        lines += [f"| {stage} | {reason} | {n} |" for stage, reason, n in summary.failures]
    else:
        lines.append("none")
    if summary.top_events:
        lines += ["", "## Top events", "", "| headline | event date | articles | sources |",
                  "|---|---|---|---|"]
        lines += [
            f"| {str(e.get('headline', '')).replace('|', '/')} | {_plain(e.get('event_date'))} "
            f"| {e.get('n_articles')} | {e.get('n_sources')} |"
            for e in summary.top_events
        ]
    create_markdown_artifact(markdown="\n".join(lines), key="monitor-summary",
                             description="newsmon run summary")
    create_markdown_artifact(markdown=digest_markdown, key="monitor-digest",
                             description="The digest of the latest day in the warehouse")
    if summary.coverage:
        create_table_artifact(
            table=[{k: _reasons(v) if isinstance(v, dict) else _plain(v) for k, v in row.items()}
                   for row in summary.coverage],
            key="coverage-ledger",
            description="Coverage ledger: entries per source and day, and what became of them",
        )
    if summary.top_events:
        table = [{k: _plain(v) for k, v in row.items()} for row in summary.top_events]
        create_table_artifact(table=table, key="top-events",
                              description="Top events by number of sources")
