"""The monitor flow's reads and writes: the only code of a run that opens the warehouse.

Stages take data and return data; before dispatching one, the flow reads what it needs
here, and it writes each result here as it arrives. Every method opens the file for one
batch and lets it go: DuckDB lets no other process in while a read-write connection is
open, so `newsmon sql` or a DuckDB shell get their turn between two batches of a long run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from extractors.events import incremental
from extractors.events.clustering import ClusterSettings, event_merges
from extractors.events.features import TermStats
from extractors.events.incremental import Arrival
from extractors.events.stories import DEFAULT_STORY_SETTINGS, narrow_context
from extractors.fetch.discover import Discovery, source_hosts
from extractors.fetch.health import with_gaps
from extractors.fetch.http import Validators
from extractors.fetch.ledger import EntryPlan, documents_after, settle
from extractors.models import (
    Article,
    Candidate,
    ClusterResult,
    EntryFacts,
    ExtractionOutcome,
    FetchResult,
    RobotsRecord,
    Source,
    SourceOutcome,
    StoryResult,
)
from flows.stages import (
    DiscoveredChunk,
    StoryContext,
    story_placement,
    story_result,
    story_window,
)
from reports.digest import TOP_EVENTS
from reports.source_health import (
    SourceHealth,
    alert_records,
    transition_records,
    transitions,
)
from reports.watchlists import (
    Alert,
    DeliveryState,
    Match,
    WatchedEvent,
    read_delivery_state,
    store_alerts,
    store_matches,
)
from warehouse import alerts, cluster_index, load, queries, sql
from warehouse.db import (
    DEFAULT_STORAGE_VERSION,
    WAL_CHECKPOINT_BYTES,
    Connection,
    open_reader,
    open_writer,
    wal_bytes,
)

HANDOFF_MAX_ARTICLES = 5000  # new articles a run keeps in memory for clustering (~10 KB each)


@dataclass(frozen=True)
class DiscoveryInputs:
    """What discovering every source needs from the warehouse, read once per run."""

    since: datetime | None  # this run's backfill bound (--since), if any; never a default
    validators: dict[str, dict[str, Validators]]  # per source: document URL -> ETag, L-M
    listed: dict[str, dict[str, datetime]]  # per source: child sitemap -> handled lastmod
    backlog: dict[str, list[Candidate]]  # per source: entries the ledger still owes a fetch
    robots: dict[str, RobotsRecord]  # host -> robots.txt answer still valid


@dataclass(frozen=True)
class EntryKnowledge:
    """What the warehouse knows about a chunk's entries, for extractors.fetch.ledger."""

    facts: dict[str, EntryFacts]  # entry URL -> stored? fetched? recorded?
    guid_urls: dict[tuple[str, str], str]  # (source, GUID) -> URL the ledger knows it at
    read_before: dict[str, datetime]  # document URL -> when an earlier run last read it


INDEX_WATERMARK = "cluster-index"  # articles fetched before it were offered to clustering


@dataclass(frozen=True)
class ClusterOutcome:
    """What one run's clustering decided: the events, memberships and copies decided again
    (for the articles in `article_ids`), and how many candidate pairs it scored."""

    result: ClusterResult
    article_ids: list[str]
    scored_pairs: int = 0


class RunStore:
    """Reads and writes of one monitor run, one short connection each."""

    def __init__(self, path: str | Path, run_id: str, timeout_s: float,
                 storage_version: str = DEFAULT_STORAGE_VERSION) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.timeout_s = timeout_s
        self.storage_version = storage_version  # of a warehouse file the run creates
        # The articles this run inserted, as a read would give them back (at most
        # HANDOFF_MAX_ARTICLES): clustering takes them from here instead of reading the
        # run's new articles again from a year of stored ones.
        self._inserted: dict[str, Article] = {}

    @contextmanager
    def _write(self, checkpoint: bool = False) -> Iterator[Connection]:
        """One transaction on a connection held only for it. Its close leaves the commit in
        the write-ahead log (readers replay it) instead of checkpointing after every batch
        (warehouse.db.open_writer), unless `checkpoint` or the log has grown past
        WAL_CHECKPOINT_BYTES: every later open would replay it all."""
        checkpoint = checkpoint or wal_bytes(self.path) >= WAL_CHECKPOINT_BYTES
        with open_writer(self.path, timeout_s=self.timeout_s,
                         storage_version=self.storage_version,
                         checkpoint=checkpoint) as con, con.transaction():
            yield con

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with open_reader(self.path, timeout_s=self.timeout_s) as con:
            yield con

    # --- start and end ----------------------------------------------------------------------

    def start(self, parameters: dict, flow_run_id: str | None,
              sources: Sequence[Source]) -> list[str]:
        """Record the run's start (and, holding the run lock, mark runs that died without a
        word `abandoned`: returns their ids)."""
        with self._write() as con:
            abandoned = load.abandon_runs(con, self.run_id)
            load.start_run(con, self.run_id, parameters, flow_run_id=flow_run_id)
            load.upsert_sources(con, sources)
        return abandoned

    def settle(self, plan: EntryPlan, discoveries: Iterable[Discovery],
               succeeded: Iterable[str], started: datetime, now: datetime) -> None:
        """Once every page is handled: what became of each fetched entry (the ledger), the
        validators and listed lastmods of the documents whose every entry is handled (the
        others' are forgotten, so the next run reads them in full), and the informational
        `last_success_at` of the sources whose every document was read."""
        with self._read() as con:
            facts = queries.entry_facts(con, [c.url for c in plan.to_fetch])
        settled = settle(plan, facts)
        after = documents_after(discoveries, [*(p.record() for p in plan.entries), *settled])
        with self._write() as con:
            load.record_entries(con, self.run_id, settled, now)
            load.record_validators(con, after.validators)
            load.record_listed_lastmods(con, after.listed)
            load.forget_validators(con, after.forget)
            load.mark_source_success(con, succeeded, started)

    def report(self) -> tuple[list[dict], list[dict]]:
        """(top events of the latest day, this run's failures by stage and reason)."""
        with self._read() as con:
            return queries.top_events(con, TOP_EVENTS), queries.run_failures(con, self.run_id)

    def ledger_report(self) -> tuple[tuple[int, int], list[dict], list[str]]:
        """((articles inserted, articles updated) by this run, the coverage ledger rows it
        touched, its overflow warnings)."""
        with self._read() as con:
            added = queries.articles_added_by_run(con, self.run_id)
            coverage, overflows = queries.run_coverage(con, self.run_id)
        return added, coverage, overflows

    def finish(self, status: str, counts: dict, timeout_s: float | None = None) -> None:
        """Record how the run ended, and checkpoint everything it wrote into the file. A run
        that did not complete counts what it committed (its own counts stop where it failed)."""
        with open_writer(self.path, timeout_s=timeout_s or self.timeout_s,
                         storage_version=self.storage_version) as con:
            with con.transaction():
                if status != "completed":
                    counts = {**counts, **load.committed_counts(con, self.run_id)}
                load.finish_run(con, self.run_id, status, counts)
            # Explicitly, not on close: a checkpoint that fails on close (a full disk) is
            # silent, and the write-ahead log would grow run after run unseen.
            con.execute(sql.CHECKPOINT)

    # --- discovery and fetching ---------------------------------------------------------------

    def discovery_inputs(self, sources: Sequence[Source], since: datetime | None,
                         now: datetime) -> DiscoveryInputs:
        """Everything discovery needs, for all sources in one read."""
        names = [s.name for s in sources]
        with self._read() as con:
            validators, listed = queries.document_state(con, names)
            backlog: dict[str, list[Candidate]] = {}
            for candidate in queries.ledger_backlog(con, names):
                backlog.setdefault(candidate.source, []).append(candidate)
            robots = queries.robots(con, sorted(set().union(*map(source_hosts, sources))), now)
        return DiscoveryInputs(since=since, validators=validators, listed=listed,
                               backlog=backlog, robots=robots)

    def record_discovery(self, chunk: DiscoveredChunk, entries: Collection[Candidate],
                         decide: Callable[[EntryKnowledge], EntryPlan],
                         now: datetime) -> EntryPlan:
        """A discovered chunk in one transaction: its document fetches and robots.txt answers
        logged, what the warehouse knows about `entries` (the chunk's, and its sources'
        backlog) read, the entries decided by `decide` (pure, extractors/fetch/ledger.py),
        and every entry's sighting and decision, and the overflows, recorded before any page
        is fetched. One writer open per chunk: a run over many sources has many chunks."""
        documents = [doc for d in chunk.by_source.values() for doc in d.documents]
        reads = [r.url for d in chunk.by_source.values() for r in d.reads]
        with self._write() as con:
            load.record_fetches(con, self.run_id, documents, raw=False)
            load.record_robots(con, chunk.robots)
            guid_urls = queries.ledger_guids(con, {(c.source, c.guid) for c in entries
                                                   if c.guid})
            facts = queries.entry_facts(con, {c.url for c in entries} | set(guid_urls.values()))
            read_before = queries.documents_read_before(con, reads, self.run_id)
            plan = decide(EntryKnowledge(facts, guid_urls, read_before))
            load.record_entries(con, self.run_id, [p.record() for p in plan.entries], now)
            load.record_overflows(con, self.run_id, plan.overflows)
        return plan

    def pages_fetched_in_run(self, batch: Sequence[Candidate]) -> dict[str, FetchResult]:
        """Pages of `batch` this run already fetched and stored raw (a retried flow run keeps
        its run id), with the feed's metadata put back, so a retry costs no second request."""
        wanted = {c.url: c for c in batch}
        with self._read() as con:
            started = queries.run_started_at(con, self.run_id)
            if started is None:
                return {}
            pages = queries.raw_pages(con, list(wanted), since=started)
        return {
            page.url: _with_feed_metadata(page, wanted[page.url]) for page in pages
        }

    def record_batch(self, pages: Sequence[FetchResult], outcomes: Sequence[ExtractionOutcome],
                     robots: Iterable[RobotsRecord] = ()) -> None:
        """A batch's fetch log, raw pages, extraction log and articles: one transaction."""
        with self._write() as con:
            load.record_fetches(con, self.run_id, pages, raw=True)
            written = load.record_extractions(con, self.run_id, outcomes)
            load.record_robots(con, robots)
        for article_id in written.upserted:  # changed by this batch: read back when clustered
            self._inserted.pop(article_id, None)
        for record in written.inserted[:max(0, HANDOFF_MAX_ARTICLES - len(self._inserted))]:
            self._inserted[record["id"]] = queries.stored_article(record)

    # --- clustering --------------------------------------------------------------------------

    def articles_to_cluster(self, article_ids: Collection[str]) -> list[Article]:
        """The run's articles that the cluster index does not hold as they are (new, or with
        changed text), and any such article a stopped run left since the last clustering."""
        with self._read() as con:
            since, _ = queries.watermark(con, INDEX_WATERMARK)
            ids = cluster_index.unindexed_articles(con, article_ids, since)
            kept = [self._inserted[i] for i in ids if i in self._inserted]
            read = queries.articles_by_ids(con, [i for i in ids if i not in self._inserted])
        return sorted([*kept, *read], key=lambda a: a.id)

    def cluster(self, arrivals: Sequence[Arrival], settings: ClusterSettings, now: datetime,
                started: datetime) -> ClusterOutcome:
        """Match the run's articles against the stored index, decide again the events they
        touch, place those in stories and write it all: one writer connection, one
        transaction (extractors/events/incremental.py; bounded by what the articles touch)."""
        day = now.date()
        window = day - timedelta(days=settings.window_days)
        with self._write() as con:
            reads = cluster_index.IndexReads(con, queries.article_facts_by_ids,
                                             queries.articles_by_ids)
            first = cluster_index.next_seq(con)
            stats = TermStats(*cluster_index.window_stats(
                con, {t for a in arrivals for t in a.tokens.document},
                {w for a in arrivals for w in a.tokens.names}, window,
                {x for a in arrivals for x in a.tokens.stems}))
            change = incremental.update(reads, arrivals, first, stats, settings)
            result = change.result
            replaced = sorted(set(change.events_before.values()))
            stories = self._stories(con, result, replaced, change.article_ids, now)
            after = {m.article_id: m.event_id for m in result.memberships}
            cluster_index.write_change(con, change, first, day, settings.window_days + 1)
            load.replace_clusters(con, self.run_id, result, change.article_ids,
                                  event_merges(change.events_before, after), stories,
                                  old_events=replaced)
            load.set_watermark(con, INDEX_WATERMARK, started)
        return ClusterOutcome(result, change.article_ids, change.scored_pairs)

    @staticmethod
    def _stories(con: Connection, result: ClusterResult, replaced: list[str],
                 article_ids: Collection[str], now: datetime) -> StoryResult:
        """Place the events decided again in stories, reading of the stored context (the
        events of the stories they share a term or name with) what the placement uses: all
        of it narrow (ids, times, names: the counts), whole only the events it can compare,
        then every event of the stories they join (their records)."""
        s = DEFAULT_STORY_SETTINGS
        fresh = [e.id for e in result.events]
        narrow, narrow_story_of, by_terms = queries.story_context(
            con, result.events, story_window(result.events, now), replaced, s.top_names,
            s.max_postings)
        counts, comparable = narrow_context(narrow, narrow_story_of.values(), result.events,
                                            by_terms, s)
        earlier, story_of = queries.story_events(con, ids=comparable)
        _, previous = queries.event_and_story_of_articles(con, article_ids)
        placed = story_placement(result, StoryContext(tuple(earlier), story_of, previous,
                                                      counts), s)
        members, members_story_of = queries.story_events(
            con, stories=set(placed.values()) & counts.stories, replaced=replaced, fresh=fresh)
        return story_result(result, placed, members, members_story_of)

    # --- watchlists ---------------------------------------------------------------------------

    def watched_events(self, event_ids: Collection[str]) -> list[WatchedEvent]:
        with self._read() as con:
            return [WatchedEvent.from_row(r) for r in alerts.watched_events(con, event_ids)]

    def store_matches(self, matches: Sequence[Match]) -> list[Alert]:
        """The matches that are new alerts (a rule tells about an event once)."""
        if not matches:
            return []
        with self._write() as con:
            return store_matches(con, matches, self.run_id)

    def delivery_state(self, urls: Collection[str]) -> DeliveryState:
        with self._read() as con:
            return read_delivery_state(con, urls)

    # --- source health -----------------------------------------------------------------------

    def record_source_health(self, outcomes: Sequence[SourceOutcome], at: datetime
                             ) -> tuple[list[SourceHealth], list[Alert]]:
        """The run's outcome for each source (with the gaps its new entries add to the
        source's history), then, in the same transaction, each source's health read back (the
        `source_health` view), its changes since the last ones notified (pure:
        reports.source_health.transitions) and one new alert per change."""
        names = [o.source for o in outcomes]
        with self._write() as con:
            latest = queries.latest_entry_times(con, names)
            outcomes = [with_gaps(o, latest.get(o.source)) for o in outcomes]
            load.record_source_outcomes(con, self.run_id, at, outcomes)
            health = [SourceHealth.from_row(r) for r in queries.source_health(con, names)]
            changes = transitions(health, queries.notified_states(con, names))
            load.record_transitions(con, transition_records(changes, self.run_id, at))
            new_alerts = store_alerts(con, alert_records(changes, self.run_id, at))
        return health, new_alerts

    def record_deliveries(self, attempts: Sequence[dict]) -> None:
        if attempts:
            with self._write() as con:
                alerts.record_deliveries(con, attempts)


def _with_feed_metadata(page: FetchResult, candidate: Candidate) -> FetchResult:
    return replace(page, feed_title=candidate.title, feed_published=candidate.published)
