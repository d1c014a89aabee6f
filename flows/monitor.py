"""The monitor flow: discover → fetch → extract → deduplicate and cluster → load.

This is the `prefect.yaml` entrypoint and what `newsmon run` / `newsmon demo` call. It only
orchestrates: every stage is a plain function (flows/stages.py over `extractors`) wrapped by
one task per batch (flows/tasks.py), taking data and returning data. The flow process is the
only one that opens the warehouse (flows/run_store.py): it reads what a stage needs before
dispatching it and writes each result as it arrives, one transaction per batch.

Network stages run on a thread runner of the flow process (one politeness for every host);
extraction, clustering and rule matching go to the flow's task runner: threads with a process
pool by default, or Dask workers on other machines (flows/runners.py, docs/deploy.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import numpy as np
from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.utilities.annotations import quote
from pydantic import PositiveInt, WithJsonSchema

from extractors.content import embedding
from extractors.content.facets.gazetteer import warm_up as warm_up_gazetteer
from extractors.content.keys import keys_memo
from extractors.content.parallel import warm_up as warm_up_extraction
from extractors.events.incremental import prepared_arrivals, prepared_keys, unpack_features
from extractors.fetch.errors import NewsmonError
from extractors.fetch.health import reason_counts, run_verdict
from extractors.fetch.http import FetchSettings
from extractors.fetch.ledger import combine
from extractors.fetch.sources import load_sources
from extractors.fetch.urls import own_domains
from extractors.models import Source
from extractors.timezones import start_of_day_utc, utc_now
from flows.pipeline import (
    DISCOVERIES_IN_FLIGHT,
    EXTRACTS_IN_FLIGHT,
    FETCHES_IN_FLIGHT,
    Dispatch,
    Pipeline,
    PipelineResult,
)
from flows.progress import report as report_progress
from flows.run_store import DiscoveryInputs, RunStore
from flows.runners import (
    extracts_in_flight,
    network_task_runner,
    task_runner_from_env,
    uses_dask,
)
from flows.settings import Settings, get_settings
from flows.stages import cluster_settings
from flows.tasks import (
    cluster_task,
    deliver_task,
    discover_task,
    embed_task,
    extract_task,
    features_task,
    fetch_task,
    match_task,
)
from reports.digest import build_digest, render_markdown
from reports.watchlists import Alert, Watchlists, load_watchlists
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
    already_stored: int = 0  # entries earlier runs stored (and not updated since)
    known_failed: int = 0  # entries earlier runs recorded as failed or skipped for good
    unchanged_documents: int = 0  # feeds and sitemaps that answered 304 Not Modified
    deferred: int = 0  # new entries past a document's per-run cap (later runs fetch them)
    pages_fetched: int = 0
    fetch_failures: int = 0
    articles_new: int = 0  # articles this run inserted (none that another run stored)
    articles_updated: int = 0  # stored articles this run replaced with a changed version
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    alerts: int = 0
    events: int = 0
    documents_failed: int = 0  # feed and sitemap fetches that failed (or were unreadable)
    sources_failed: int = 0  # sources of which nothing could be read (extractors/fetch/health.py)
    sources_degraded: int = 0  # sources read in part
    health_alerts: int = 0  # sources that turned failing or quiet, or recovered
    verdict: str = "healthy"  # healthy | partial | failed (every source failed)
    status: str = "running"  # as the runs table has it: completed | partial | failed
    top_events: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)  # {stage, reason, n}
    coverage: list[dict] = field(default_factory=list)  # coverage_ledger rows of this run
    overflows: list[str] = field(default_factory=list)  # one warning per overflowing feed
    # Wall seconds per stage: fetch (discovery, fetching, extraction, loads, the ledger),
    # cluster, watch (watchlists), report (summary and artifacts).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    source_outcomes: list[dict] = field(default_factory=list)  # source_runs rows of this run
    unhealthy: list[dict] = field(default_factory=list)  # {source, state, why}: failing, quiet

    def counts(self) -> dict:
        """What the `runs` table keeps: the counts, and the seconds each stage took."""
        counts: dict = {
            k: v for k, v in self.__dict__.items() if isinstance(v, int) and k != "run_id"
        }
        counts["stage_seconds"] = {k: round(v, 3) for k, v in self.stage_seconds.items()}
        return counts

    def new_articles(self) -> str:
        """"2 new, 1 updated", with why no more are new: "0 new (19 already stored), 0 updated"."""
        why = [f"{n} {said}" for n, said in (
            (self.already_stored, "already stored"),
            (self.unchanged_documents, "feeds and sitemaps unchanged since the last run"
             if self.unchanged_documents > 1 else "feed or sitemap unchanged since the last run"),
            (self.known_failed, "failed or skipped by earlier runs"),
            (self.before_since, "before --since"),
            (self.deferred, "left for the next runs"),
            (self.fetch_failures, "failed to fetch"),
            (self.failed, "failed to extract"),
            (self.skipped, "not articles"),
        ) if n]
        if not self.entries and not self.unchanged_documents:
            why = ["the sources listed no entries"]
        because = f" ({', '.join(why)})" if why else ""
        return f"{self.articles_new} new{because}, {self.articles_updated} updated"
    @property
    def source_problems(self) -> list[dict]:
        """The run's sources that failed or were read in part, failed first."""
        return sorted((o for o in self.source_outcomes if o["status"] != "ok"),
                      key=lambda o: (o["status"] != "failed", o["source"]))

    def status_message(self) -> str:
        """The run's outcome in one line (the Prefect state's message)."""
        n = len(self.source_outcomes)
        if self.verdict == "failed":
            return f"every source failed ({n}): " + ", ".join(
                o["source"] for o in self.source_problems)
        if self.verdict == "partial":
            return (f"{self.sources_failed} of {n} sources failed, {self.sources_degraded} "
                    "read in part: " + ", ".join(o["source"] for o in self.source_problems))
        return f"all {n} sources read"


class SourcesFailed(NewsmonError):
    """The run read nothing of any source (or, with NEWSMON_FAIL_ON_PARTIAL, not everything).

    The flow run ends Failed with this as its result; `summary` says what the run did."""

    def __init__(self, message: str, summary: RunSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self):  # picklable with its summary (Prefect may persist a state's data)
        return (type(self), (str(self), self.summary))


FAILED_FINISH_WAIT_S = 5.0  # how long a failed run waits to record its end

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
) -> RunSummary | State:
    """One monitoring run over every source in `sources`; safe to re-run at any time.

    It fails (Prefect state Failed; calling it raises SourcesFailed) when nothing of any
    source could be read, and completes with a message naming the sources that failed when
    some did (extractors/fetch/health.py says what failing means)."""
    logger = get_run_logger()
    settings = get_settings()
    db = Path(warehouse) if warehouse else settings.warehouse_path
    configured = load_sources(sources)  # raises with file/source/field on a bad config
    rules_path = Path(watchlists) if watchlists else settings.watchlists
    rules = load_watchlists(rules_path) if rules_path is not None else None  # fails early
    run_id = str(flow_run.id or uuid.uuid4())
    summary = RunSummary(run_id=run_id, sources=len(configured))
    fail_on_partial = settings.fail_on_partial
    store = RunStore(db, run_id, timeout_s=settings.writer_timeout_s,
                     storage_version=settings.storage_version)
    run_lock = hold_run_lock(db, run_id, settings.run_wait_s, on_wait=logger.warning)
    started = utc_now()
    status = "failed"
    try:
        abandoned = store.start(
            {"sources": str(sources), "warehouse": str(db), "since": str(since)},
            str(flow_run.id) if flow_run.id else None, configured)
        for dead in abandoned:
            logger.warning("run %s ended without finishing (killed?): marked abandoned", dead)
        # `since` bounds this run only (a backfill): see extractors/fetch/ledger.py
        inputs = store.discovery_inputs(configured, start_of_day_utc(since) if since else None,
                                        now=started)
        clock = time.perf_counter()
        fetched = _discover_fetch_extract(store, configured, inputs, settings,
                                          batch_size or settings.batch_size)
        plan = combine(fetched.plans)
        store.settle(plan, fetched.discoveries, fetched.complete_sources, started, utc_now())
        for name in ("candidates", "pages_fetched", "fetch_failures", "skipped", "failed"):
            setattr(summary, name, getattr(fetched, name))
        summary.entries, summary.updates = plan.size, plan.count("updated")
        summary.retries, summary.before_since = plan.count("retry"), plan.count("before-since")
        summary.already_stored = plan.count_seen("stored")
        summary.unchanged_documents = sum(doc.status_code == 304 for found in fetched.discoveries
                                          for doc in found.documents)
        summary.known_failed = plan.count_seen("failed") + plan.count_seen("skipped")
        health_alerts = _source_health(store, configured, fetched, started, summary)
        summary.deferred = plan.count("deferred")
        (summary.articles_new, summary.articles_updated), summary.coverage, summary.overflows = (
            store.ledger_report())
        for warning in summary.overflows:
            logger.warning(warning)
        logger.info("%d sources, %d entries, %d to fetch (%d updated, %d retries); "
                    "articles: %s", len(configured), summary.entries, fetched.candidates,
                    summary.updates, summary.retries, summary.new_articles())

        clock = _lap(summary, "fetch", clock)
        touched = _cluster(store, list(fetched.article_ids), fetched.features,
                           settings.cluster_window_days, started, summary)
        clock = _lap(summary, "cluster", clock)
        alerts = _watch(store, rules, touched) if rules is not None and touched else []
        summary.alerts = len(alerts)
        if rules is not None and rules.urls:
            _deliver(store, rules.urls, [*alerts, *health_alerts])
        clock = _lap(summary, "watch", clock)
        summary.top_events, summary.failures = store.report()
        _publish_artifacts(summary, render_markdown(build_digest(db)))
        _lap(summary, "report", clock)
        fails = summary.verdict == "failed" or (summary.verdict == "partial" and fail_on_partial)
        status = "failed" if fails else {"healthy": "completed"}.get(summary.verdict, "partial")
        summary.status = status
        return _final_state(summary, fails)
    finally:
        try:
            # A failed run says what it did commit; it waits little for the warehouse (which
            # may be the very problem): left `running`, the next run marks it abandoned.
            ran_through = summary.status != "running"  # set once the run got to its end
            store.finish(status, summary.counts(),
                         timeout_s=None if ran_through else FAILED_FINISH_WAIT_S)
        except Exception as exc:
            if ran_through:
                raise
            logger.info("could not record the failed run's end: %s", exc)
        finally:
            run_lock.release()


def _lap(summary: RunSummary, stage: str, since: float) -> float:
    """Record a stage's wall seconds; returns now."""
    now = time.perf_counter()
    summary.stage_seconds[stage] = now - since
    return now


def _discover_fetch_extract(store: RunStore, sources: Sequence[Source],
                            inputs: DiscoveryInputs, settings: Settings,
                            batch_size: int) -> PipelineResult:
    """The streaming part of a run (flows/pipeline.py): network tasks on the flow process's
    threads, extraction on the flow's task runner."""
    fetch_settings: FetchSettings = settings.fetch_settings()
    # Dask workers also make each article's clustering features (the cluster step's input),
    # taking ~8 ms a page off the coordinator. The local pool does not: on one machine the
    # work only moves (bench.pipeline: total CPU per page up, ratio unchanged) and each
    # worker would hold the clustering modules and place index (the hostile run's tree passed
    # 1 GiB when the index was ~80 MiB; ~15 since #31 round 5). The cluster step has one
    # worker make them instead, in one call.
    extraction = replace(settings.extraction_settings(), cluster_features=uses_dask())
    sites = {s.name: own_domains((*s.feeds, *s.sitemaps, *s.urls), s.domains) for s in sources}
    if not uses_dask():
        warm_up_extraction()  # the process pool starts while sources are discovered
        warm_up_gazetteer()  # the cluster step's, built while the network is waited for
    progress = create_progress_artifact(
        progress=0.0, key="monitor-fetch-progress",
        description=f"Discovering {len(sources)} sources, fetching and extracting their pages",
    )
    # Every batch's data goes to its task quoted: Prefect would otherwise walk each page,
    # candidate and field looking for futures, twice per task run (none are ever nested).
    with network_task_runner(DISCOVERIES_IN_FLIGHT + FETCHES_IN_FLIGHT) as network:
        dispatch = Dispatch(
            discover=lambda job, n: network.submit(
                discover_task, {"job": quote(job), "fetch_settings": fetch_settings,
                                "chunk_no": n}),
            fetch=lambda job: network.submit(
                fetch_task, {"job": quote(job), "fetch_settings": fetch_settings}),
            extract=lambda pages, n: extract_task.submit(
                _quoted(pages), n, extraction,
                domains=_quoted({p.source: sites.get(p.source, frozenset()) for p in pages})),
            extracts_in_flight=extracts_in_flight(EXTRACTS_IN_FLIGHT),
        )
        pipeline = Pipeline(
            store, dispatch, sources, inputs, batch_size, resumed=flow_run.run_count > 1,
            on_progress=lambda pct: update_progress_artifact(progress, progress=pct),
            max_new_per_document=settings.max_new_entries_per_document,
        )
        result = pipeline.run()
    update_progress_artifact(progress, progress=100.0)
    return result


def _cluster(store: RunStore, article_ids: list[str], packed: Mapping[str, bytes],
             window_days: int, started: datetime, summary: RunSummary) -> list[str]:
    """Match the run's articles (and any a stopped run stored but never clustered) against
    the stored cluster index and decide again the events they touch; returns the events the
    run's articles are in now. Features the extraction workers made (`packed`, on Dask) are
    used for the articles as stored; with the local pool one worker makes the others in one
    call, and the cluster task makes what is still missing. The two-language candidates'
    sentence vectors are made by a worker too: the flow process only decides."""
    report_progress("cluster", 0, 1)
    articles = store.articles_to_cluster(article_ids)
    if not articles:
        report_progress("cluster", 1, 1)
        return []
    settings = cluster_settings(window_days)
    prepared = {a.id: unpack_features(packed[a.id]) for a in articles if a.id in packed}
    ready, left = prepared_arrivals(articles, prepared, settings)
    if left and not uses_dask():
        # the local pool's workers make them in one call (one worker holds the place index),
        # not the flow process (~6 ms a page); should the call fail, the flow makes them.
        # Quoted, as the cluster task's articles below: not walked by Prefect.
        try:
            made_in_worker = features_task.submit(_quoted(left)).result()
        except Exception as exc:
            get_run_logger().warning("clustering features in a worker failed (%s): "
                                     "made here", exc)
        else:
            prepared.update((i, unpack_features(p)) for i, p in made_in_worker.items())
            ready, left = prepared_arrivals(articles, prepared, settings)
    known_keys = prepared_keys(ready.values(), prepared)
    if left:
        # quoted: Prefect would walk every article's fields looking for futures (~1.5 ms of
        # the flow's CPU per page in bench.pipeline)
        made = cluster_task.submit(_quoted(left), window_days).result()
        ready.update((a.article.id, a) for a in made)
    arrivals = [ready[i] for i in sorted(ready)]  # in id order, as article_features makes them
    get_run_logger().info("clustering: features of %d articles ready (%d made in workers)",
                          len(arrivals), len(arrivals) - len(left))
    # The cross-lingual scorer's article keys are made already; its sentence vectors are made
    # by a worker, in one batch (the model was ~1/3 of the flow process's CPU per page).
    with keys_memo(known_keys), embedding.embedded_by(_embed_in_worker):
        outcome = store.cluster(arrivals, settings, utc_now(), started)
    report_progress("cluster", 1, 1)
    new_ids = {a.id for a in articles}
    result = outcome.result
    summary.duplicates = sum(d.article_id in new_ids for d in result.duplicates)
    touched = sorted({m.event_id for m in result.memberships if m.article_id in new_ids})
    summary.events = len(touched)
    return touched


def _quoted(value: object) -> object:
    """`value` for the flow's task runner, not walked by Prefect (quote): threads only, the
    Dask runner hands a quoted parameter to its task still wrapped."""
    return value if uses_dask() else quote(value)


def _embed_in_worker(texts: list[str]) -> np.ndarray:
    """Sentence vectors made by the flow's task runner (flows.tasks.embed_task)."""
    return embedding.unpack_vectors(embed_task.submit(texts).result(), len(texts))


def _watch(store: RunStore, rules: Watchlists, event_ids: list[str]) -> list[Alert]:
    """Match the watchlist rules against new and updated events: the new alerts."""
    matches = match_task.submit(list(rules.rules), store.watched_events(event_ids)).result()
    return store.store_matches(matches)


def _deliver(store: RunStore, urls: Sequence[str], alerts: Sequence[Alert]) -> None:
    """Deliver new alerts (watchlist matches, source health changes) and retry earlier failed
    deliveries. Failures are recorded and retried by the next run; they never fail the flow."""
    state = store.delivery_state(urls)
    if alerts or state.retries:
        attempts, _report = deliver_task(list(alerts), list(urls), state)
        store.record_deliveries(attempts)


def _source_health(store: RunStore, sources: Sequence[Source], fetched: PipelineResult,
                   started: datetime, summary: RunSummary) -> list[Alert]:
    """Store how each source fared (extractors/fetch/health.py), read each one's health back
    and the alerts its changes raise; say what failed in the log and the summary."""
    logger = get_run_logger()
    outcomes = fetched.sources.outcomes(sources)
    health, alerts = store.record_source_health(outcomes, started)
    summary.verdict = run_verdict(outcomes)
    summary.sources_failed = sum(o.status == "failed" for o in outcomes)
    summary.sources_degraded = sum(o.status == "degraded" for o in outcomes)
    summary.documents_failed = sum(o.documents_failed for o in outcomes)
    summary.health_alerts = len(alerts)
    state_of = {h.source: h for h in health}
    summary.source_outcomes = [
        {"source": o.source, "status": o.status, "documents": o.documents,
         "documents_failed": o.documents_failed, "entries_seen": o.entries_seen,
         "entries_new": o.entries_new, "pages": o.pages, "pages_failed": o.pages_failed,
         "last_success_at": getattr(state_of.get(o.source), "last_success_at", None),
         "state": getattr(state_of.get(o.source), "label", None), "reason": o.reason}
        for o in outcomes
    ]
    summary.unhealthy = [{"source": h.source, "state": h.label, "why": h.describe()}
                         for h in health if h.unhealthy]
    for problem in summary.source_problems:  # one line per source (`prefect flow-run logs`)
        log = logger.error if problem["status"] == "failed" else logger.warning
        log("source %s %s: %s", problem["source"], problem["status"], problem["reason"])
    for quiet in (u for u in summary.unhealthy if u["state"] == "quiet"):
        logger.warning("source %s is quiet: %s", quiet["source"], quiet["why"])
    return alerts


def _final_state(summary: RunSummary, fails: bool) -> RunSummary | State:
    """The flow run's end: Failed when every source failed (or, with NEWSMON_FAIL_ON_PARTIAL,
    some did), Completed with a message naming the failed sources when some did; calling
    the flow then raises SourcesFailed or returns the summary."""
    message = summary.status_message()
    if fails:
        return Failed(message=message, data=SourcesFailed(message, summary))
    if summary.verdict == "partial":
        return Completed(message=message, data=summary)
    return summary


def _plain(value: object) -> object:
    """Artifacts are JSON: dates and lists become text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return value


def _coverage_markdown(rows: list[dict]) -> list[str]:
    """The coverage ledger rows of the run (see docs/warehouse.md, `coverage_ledger`)."""
    if not rows:
        return []
    lines = ["## Coverage ledger", "",
             "| day | source | seen | stored | failed | skipped | pending retry | not fetched "
             "| overflow warnings | reasons |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        reasons = "; ".join(
            f"{kind}: {reason_counts(r.get(f'{kind}_by_reason'))}"
            for kind in ("failed", "skipped", "pending") if r.get(f"{kind}_by_reason")
        )
        lines.append(
            f"| {_plain(r['day'])} | {r['source']} | {r['seen']} | {r['stored']} | {r['failed']} "
            f"| {r['skipped']} | {r['pending_retry']} | {r['not_fetched']} "
            f"| {r['overflow_warnings']} | {reasons.replace('|', '/')} |"
        )
    return [*lines, ""]


def _sources_markdown(summary: RunSummary) -> list[str]:
    """The run's outcome, then one line per source that failed or was read in part, and one
    per source whose health is failing or quiet."""
    lines = ["## Sources", "", f"**{summary.status_message()}**", ""]
    lines += [f"- {p['status']}: {p['source']}: {p['reason']}".replace("|", "/")
              for p in summary.source_problems]
    lines += [f"- {u['state']}: {u['source']}: {u['why']}".replace("|", "/")
              for u in summary.unhealthy if u["state"] == "quiet"]
    return [*lines, ""]


def _publish_artifacts(summary: RunSummary, digest_markdown: str) -> None:
    """A markdown summary, the day's digest and a table of the top events, in the Prefect UI."""
    lines = [
        f"# newsmon run `{summary.run_id}`",
        "",
        f"**Articles:** {summary.new_articles()}",
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
    lines += _sources_markdown(summary)
    if summary.overflows:
        lines += ["## Overflow warnings", ""] + [f"- {w}" for w in summary.overflows] + [""]
    lines += _coverage_markdown(summary.coverage)
    lines += ["## Failures by reason", ""]
    if summary.failures:
        lines += ["| stage | reason | pages |", "|---|---|---|"]
        lines += [f"| {f['stage']} | {f['reason']} | {f['n']} |" for f in summary.failures]
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
    create_table_artifact(
        table=[{k: _plain(v) for k, v in row.items()} for row in summary.source_outcomes],
        key="source-outcomes",
        description="Each source in this run: feeds and sitemaps, entries, pages, health",
    )
    if summary.coverage:
        create_table_artifact(
            table=[{k: reason_counts(v) if isinstance(v, dict) else _plain(v)
                    for k, v in row.items()} for row in summary.coverage],
            key="coverage-ledger",
            description="Coverage ledger: entries per source and day, and what became of them",
        )
    if summary.top_events:
        table = [{k: _plain(v) for k, v in row.items()} for row in summary.top_events]
        create_table_artifact(table=table, key="top-events",
                              description="Top events by number of sources")
