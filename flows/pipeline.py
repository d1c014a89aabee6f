"""Discover → fetch → extract → store, streamed: each batch moves on as soon as it can.

Sources are discovered in a few chunks side by side; the pages of the chunks already
discovered are fetched while the others are still being discovered, each fetched batch is
extracted while the next is fetched, and each extracted batch is written (one transaction)
as soon as the batches before it are. Bounds on the batches in flight keep a run's memory
flat whatever its size. The flow thread does all the bookkeeping and every warehouse read and
write (RunStore); the stages run wherever `Dispatch` sends them.
"""

from __future__ import annotations

import itertools
import queue
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from extractors.fetch.discover import Discovery, chunk_sources, source_hosts
from extractors.fetch.health import SourceTallies
from extractors.fetch.http import host_key
from extractors.fetch.ledger import EntryPlan, plan_entries
from extractors.models import Candidate, ExtractionOutcome, FetchResult, RobotsRecord, Source
from extractors.timezones import utc_now
from flows.progress import report as report_progress
from flows.run_store import DiscoveryInputs, EntryKnowledge, RunStore
from flows.stages import DiscoveredChunk, DiscoveryJob, FetchedBatch, FetchJob

DISCOVERIES_IN_FLIGHT = 8  # discovery tasks (chunks of sources) at a time
FETCHES_IN_FLIGHT = 2  # fetch tasks (batches of pages) at a time
EXTRACTS_IN_FLIGHT = 2  # batches extracting at a time, with a thread runner


class Completing(Protocol):
    """What the pipeline needs of a future (Prefect's, or concurrent.futures')."""

    def result(self) -> Any: ...

    def add_done_callback(self, fn: Callable[[Any], None]) -> None: ...


@dataclass(frozen=True)
class Dispatch:
    """How each stage is started: each call returns a future of the stage's result."""

    discover: Callable[[DiscoveryJob, int], Completing]  # -> DiscoveredChunk
    fetch: Callable[[FetchJob], Completing]  # -> FetchedBatch
    extract: Callable[[list[FetchResult], int], Completing]  # -> list[ExtractionOutcome]
    extracts_in_flight: int = EXTRACTS_IN_FLIGHT


@dataclass
class _Batch:
    number: int
    candidates: list[Candidate]
    fetched: FetchedBatch | None = None
    outcomes: list[ExtractionOutcome] | None = None
    extracting: bool = False


@dataclass
class PipelineResult:
    """What discovery, fetching and extraction did, for the run summary."""

    candidates: int = 0
    pages_fetched: int = 0
    fetch_failures: int = 0
    skipped: int = 0
    failed: int = 0
    article_ids: dict[str, None] = field(default_factory=dict)  # in load order
    complete_sources: list[str] = field(default_factory=list)  # every document read
    plans: list[EntryPlan] = field(default_factory=list)  # per discovered chunk (the ledger)
    discoveries: list[Discovery] = field(default_factory=list)  # per source and pass
    sources: SourceTallies = field(default_factory=SourceTallies)  # per source: source health
    # article id -> its clustering features, made by the extraction workers and packed (the
    # cluster step uses them for the articles as stored: incremental.prepared_arrivals)
    features: dict[str, bytes] = field(default_factory=dict)


class Pipeline:
    """One run's streaming batches; `run()` returns when every batch is written."""

    def __init__(
        self, store: RunStore, dispatch: Dispatch, sources: Sequence[Source],
        inputs: DiscoveryInputs, batch_size: int, resumed: bool = False,
        on_progress: Callable[[float], None] | None = None,
        max_new_per_document: int | None = None,
    ) -> None:
        self.store = store
        self.dispatch = dispatch
        self.sources = {s.name: s for s in sources}
        self.inputs = inputs
        self.batch_size = batch_size
        self.resumed = resumed
        self.on_progress = on_progress
        self.max_new_per_document = max_new_per_document
        self.result = PipelineResult()
        self.robots: dict[str, RobotsRecord] = dict(inputs.robots)
        self._chunks = deque(enumerate(chunk_sources(list(sources)), start=1))
        self._n_chunks = len(self._chunks)
        self._rereads: set[int] = set()  # chunks that read overflowing sources' sitemaps again
        self._discovering = 0
        self._pending: dict[str, deque[Candidate]] = {}  # host -> candidates not batched yet
        self._n_pending = 0
        self._queued: set[str] = set()  # every candidate URL of this run
        self._batches: deque[_Batch] = deque()  # started and not yet written, in order
        self._fetching = 0
        self._written_batches = 0
        self._written_pages = 0
        self._sources_discovered = 0
        self._done: queue.SimpleQueue[int] = queue.SimpleQueue()  # keys of completed futures
        self._futures: dict[int, tuple[str, Any, Completing]] = {}  # started, not yet handled
        self._keys = itertools.count()

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> PipelineResult:
        report_progress("discover", 0, len(self.sources))
        self._start_work()
        while self._discovering or self._batches:
            kind, item, future = self._futures.pop(self._done.get())
            if kind == "discovered":
                self._discovering -= 1
                self._absorb(future.result(), item)
            elif kind == "fetched":
                self._fetching -= 1
                item.fetched = future.result()
            else:
                item.outcomes = future.result()
            self._write_ready()
            self._start_work()
        return self.result

    def _watch(self, kind: str, item: Any, future: Completing) -> None:
        """Queue the future's key when it completes; the flow thread then takes the future
        and its item out of `_futures`.

        The callback holds only the key: a finished future may live on (Prefect's thread
        futures reference themselves and wait for Python's rare full collection), and a
        callback holding the batch kept its pages alive with it; a run's memory then grew
        with the pages it had handled.
        """
        key = next(self._keys)
        self._futures[key] = (kind, item, future)
        done = self._done
        future.add_done_callback(lambda _: done.put(key))

    def _start_work(self) -> None:
        """Start whatever the bounds allow: discovery chunks, fetches, then extractions."""
        while self._chunks and self._discovering < DISCOVERIES_IN_FLIGHT:
            number, chunk = self._chunks.popleft()
            self._discovering += 1
            job = self._job(chunk, reread=number in self._rereads)
            self._watch("discovered", number, self.dispatch.discover(job, number))
        max_batches = FETCHES_IN_FLIGHT + self.dispatch.extracts_in_flight + 1
        while (self._n_pending and self._fetching < FETCHES_IN_FLIGHT
               and len(self._batches) < max_batches and self._batch_is_due()):
            self._start_fetch()
        # Batches still extracting (not those done and waiting for an older one to be
        # written: counting those could leave that older one waiting forever).
        extracting = sum(b.extracting and b.outcomes is None for b in self._batches)
        for batch in self._batches:
            if extracting >= self.dispatch.extracts_in_flight:
                break
            if batch.fetched is not None and not batch.extracting:
                batch.extracting = True
                extracting += 1
                self._watch("extracted", batch,
                            self.dispatch.extract(batch.fetched.pages, batch.number))

    def _batch_is_due(self) -> bool:
        """A full batch, or whatever is waiting when nothing else keeps the fetcher busy or
        discovery is over (so the pages of early sources do not wait for slow ones)."""
        return (self._n_pending >= self.batch_size or self._fetching == 0
                or not (self._discovering or self._chunks))

    # --- discovery ---------------------------------------------------------------------------

    def _job(self, chunk: Sequence[Source], reread: bool = False) -> DiscoveryJob:
        """A chunk's discovery job; `reread`: without validators, every child sitemap."""
        hosts = set().union(*map(source_hosts, chunk))
        names = [s.name for s in chunk]
        return DiscoveryJob(
            sources=tuple(chunk),
            since=self.inputs.since,
            validators={} if reread else {
                u: v for n in names for u, v in self.inputs.validators.get(n, {}).items()},
            robots={h: r for h, r in self.robots.items() if h in hosts},
            listed={} if reread else {
                u: t for n in names for u, t in self.inputs.listed.get(n, {}).items()},
        )

    def _absorb(self, found: DiscoveredChunk, number: int) -> None:
        """A discovered chunk: its entries (and its sources' backlog) decided by identity
        (extractors/fetch/ledger.py), recorded in the ledger, and the ones to fetch queued.
        An overflowing feed sends discovery back to its source's sitemaps, read in full."""
        entries = [c for d in found.by_source.values() for c in d.candidates]
        if number not in self._rereads:
            entries += [c for n in found.by_source for c in self.inputs.backlog.get(n, [])]
        now = utc_now()
        known_urls: set[str] = set()

        def decide(known: EntryKnowledge) -> EntryPlan:  # pure: extractors/fetch/ledger.py
            known_urls.update(known.facts)
            return plan_entries(
                entries, [r for d in found.by_source.values() for r in d.reads], known.facts,
                now=now, since=self.inputs.since, guid_urls=known.guid_urls,
                read_before=known.read_before,
                sources_with_sitemaps=[n for n in found.by_source if self.sources[n].sitemaps],
                max_new_per_document=self.max_new_per_document,
            )

        plan = self.store.record_discovery(found, entries, decide, now)
        if number not in self._rereads:
            self._sources_discovered += len(found.by_source)
            report_progress("discover", self._sources_discovered, len(self.sources))
        self.robots.update((r.host, r) for r in found.robots)
        self.result.plans.append(plan)
        for name, discovery in found.by_source.items():
            self.result.discoveries.append(discovery)
            self.result.sources.add_discovery(name, discovery)
            if discovery.complete and number not in self._rereads:
                self.result.complete_sources.append(name)
        # Entries the warehouse knew nothing of: the source's new entries (source health).
        self.result.sources.add_new_entries(
            (p.entry for p in plan.entries
             if p.decision in ("new", "before-since") and p.entry.url not in known_urls), now)
        fallback = sorted({o.source for o in plan.overflows if o.fallback == "sitemaps"})
        if fallback and number not in self._rereads:
            self._n_chunks += 1
            self._rereads.add(self._n_chunks)
            self._chunks.append((self._n_chunks, [
                replace(self.sources[n], feeds=(), urls=()) for n in fallback]))
        for candidate in plan.to_fetch:
            if candidate.url in self._queued:
                continue
            self._queued.add(candidate.url)
            self._pending.setdefault(host_key(candidate.url), deque()).append(candidate)
            self._n_pending += 1
            self.result.candidates += 1

    # --- fetching ----------------------------------------------------------------------------

    def _take(self, size: int) -> list[Candidate]:
        """Up to `size` candidates, one host at a time in turn: a batch spreads over hosts,
        so each host's politeness delay overlaps the other hosts' requests."""
        taken: list[Candidate] = []
        while len(taken) < size and self._pending:
            for host in list(self._pending):
                waiting = self._pending[host]
                taken.append(waiting.popleft())
                if not waiting:
                    del self._pending[host]
                if len(taken) == size:
                    break
        self._n_pending -= len(taken)
        return taken

    def _start_fetch(self) -> None:
        batch = _Batch(len(self._batches) + self._written_batches + 1, self._take(self.batch_size))
        job = fetch_job(self.store, batch.number, batch.candidates, self.sources, self.robots,
                        self.resumed)
        self._batches.append(batch)
        self._fetching += 1
        self._watch("fetched", batch, self.dispatch.fetch(job))

    # --- storing -----------------------------------------------------------------------------

    def _write_ready(self) -> None:
        """Write extracted batches in order, each in one transaction."""
        while self._batches and self._batches[0].outcomes is not None:
            batch = self._batches.popleft()
            fetched = batch.fetched
            assert fetched is not None and batch.outcomes is not None
            self.store.record_batch(fetched.pages, batch.outcomes, fetched.robots)
            self.robots.update((r.host, r) for r in fetched.robots)
            self._written_batches += 1
            self._written_pages += len(fetched.pages)
            r = self.result
            for page in fetched.pages:
                r.sources.add_page(page)
            r.pages_fetched += sum(p.ok for p in fetched.pages)
            r.fetch_failures += sum(not p.ok for p in fetched.pages)
            r.skipped += sum(o.status == "skipped" for o in batch.outcomes)
            r.failed += sum(o.status == "failed" for o in batch.outcomes)
            for o in batch.outcomes:
                if o.article is not None and o.status == "extracted":
                    r.article_ids[o.article.id] = None
                    if o.features is not None:
                        r.features[o.article.id] = o.features
            self._report_written()
            if self.on_progress is not None:
                discovered = 1 - (self._discovering + len(self._chunks)) / max(1, self._n_chunks)
                self.on_progress(100.0 * discovered * self._written_pages
                                 / max(1, self.result.candidates))


    def _report_written(self) -> None:
        """Pages and batches written so far, out of those known so far (discovery may still
        add more), for the CLI's progress bar and the run's log."""
        report_progress("fetch", self._written_pages, self.result.candidates)
        report_progress("extract", self._written_batches,
                        self._written_batches + len(self._batches))


def fetch_job(
    store: RunStore, number: int, candidates: Sequence[Candidate], sources: dict[str, Source],
    robots: dict[str, RobotsRecord], resumed: bool,
) -> FetchJob:
    """What fetching one batch needs: its sources, the robots.txt answers known for its hosts
    and, in a retried flow run, the pages it already fetched and stored (read here)."""
    hosts = {host_key(c.url) for c in candidates}
    names = dict.fromkeys(c.source for c in candidates)
    return FetchJob(
        batch_no=number,
        candidates=tuple(candidates),
        sources=tuple(sources[n] for n in names if n in sources),
        robots={h: r for h, r in robots.items() if h in hosts},
        reused=store.pages_fetched_in_run(candidates) if resumed else {},
    )


