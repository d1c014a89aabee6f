"""The streaming pipeline (flows/pipeline.py) under adversarial timing, without Prefect.

Stages are dispatched to futures that the test completes in the worst order: later fetch
batches finish before earlier ones, extraction is quick. The pipeline must still finish,
write every batch in order (one transaction each, into a real warehouse) and never hold
more batches than its bound.
"""

from __future__ import annotations

import gc
import threading
import weakref
from concurrent.futures import Future
from datetime import UTC, datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from extractors.fetch.discover import Discovery
from extractors.models import Candidate, ExtractionOutcome, FetchResult, Source
from flows.pipeline import FETCHES_IN_FLIGHT, Dispatch, Pipeline
from flows.run_store import RunStore
from flows.runners import NetworkThreads
from flows.stages import DiscoveredChunk, DiscoveryJob, FetchedBatch, FetchJob
from warehouse.db import open_reader

N_SOURCES, PAGES_PER_SOURCE, BATCH = 6, 4, 3


class ObservedStore(RunStore):
    """The real RunStore, noting which batch it writes when (by its pages' URLs) and how
    many batches were dispatched but not yet written."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.written: list[list[str]] = []
        self.unwritten = self.peak_unwritten = 0
        self.lock = threading.Lock()

    def dispatched(self) -> None:
        with self.lock:
            self.unwritten += 1
            self.peak_unwritten = max(self.peak_unwritten, self.unwritten)

    def record_batch(self, pages, outcomes, robots=()) -> None:
        with self.lock:
            self.unwritten -= 1
        self.written.append([p.url for p in pages])
        super().record_batch(pages, outcomes, robots)


def _later(delay: float, value) -> Future:
    future: Future = Future()
    threading.Timer(delay, future.set_result, [value]).start()
    return future


def _discover(job: DiscoveryJob, _chunk_no: int) -> Future:
    by_source = {
        s.name: Discovery(candidates=[Candidate(f"http://{s.name}.test/{i}", s.name, "feed")
                                      for i in range(PAGES_PER_SOURCE)])
        for s in job.sources
    }
    return _later(0.01, DiscoveredChunk(by_source))


def test_batches_finishing_out_of_order_are_all_written_in_order(tmp_path):
    store = ObservedStore(tmp_path / "w.duckdb", "run-1", timeout_s=30)
    sources = [Source(name=f"s{i}") for i in range(N_SOURCES)]
    store.start({}, None, sources)

    def fetch(job: FetchJob) -> Future:
        store.dispatched()
        pages = [FetchResult(url=c.url, source=c.source, html="<p>x</p>", status_code=200,
                             fetched_at=datetime.now(UTC)) for c in job.candidates]
        # the first batch is by far the slowest to fetch: the next ones overtake it
        return _later(1.0 if job.batch_no == 1 else 0.02, FetchedBatch(pages))

    def extract(pages: list[FetchResult], _batch_no: int) -> Future:
        outcomes = [ExtractionOutcome(p.url, p.source, "skipped", "test") for p in pages]
        return _later(0.01, outcomes)

    pipeline = Pipeline(store, Dispatch(_discover, fetch, extract, extracts_in_flight=2),
                        sources, store.discovery_inputs(sources, None, datetime.now(UTC)),
                        batch_size=BATCH)
    done = threading.Thread(target=pipeline.run, daemon=True)
    done.start()
    done.join(timeout=60)
    assert not done.is_alive(), "the pipeline stopped making progress"

    expected = [f"http://s{i}.test/{j}" for i in range(N_SOURCES) for j in range(PAGES_PER_SOURCE)]
    written = [url for batch in store.written for url in batch]
    assert sorted(written) == sorted(expected)  # every page, once
    assert all(len(batch) <= BATCH for batch in store.written)
    assert pipeline.result.skipped == len(expected)
    assert store.peak_unwritten <= FETCHES_IN_FLIGHT + 2 + 1  # the pipeline's bound
    with open_reader(store.path) as con:
        assert con.value("SELECT count(*) FROM extraction_log") == len(expected)
        assert con.value("SELECT count(*) FROM fetch_log WHERE kind = 'page'") == len(expected)


def test_every_candidate_is_batched_once(tmp_path):
    store = RunStore(tmp_path / "w.duckdb", "run-1", timeout_s=30)
    sources = [Source(name=f"s{i}") for i in range(N_SOURCES)]
    store.start({}, None, sources)
    batches: list[list[str]] = []

    def fetch(job: FetchJob) -> Future:
        batches.append([c.url for c in job.candidates])
        return _later(0.0, FetchedBatch([FetchResult(url=c.url, source=c.source,
                                                     error_class="X", error="x")
                                         for c in job.candidates]))

    pipeline = Pipeline(
        store, Dispatch(_discover, fetch, lambda pages, n: _later(0.0, [])), sources,
        store.discovery_inputs(sources, None, datetime.now(UTC)), batch_size=BATCH,
    )
    result = pipeline.run()
    urls = [u for b in batches for u in b]
    assert len(urls) == len(set(urls)) == N_SOURCES * PAGES_PER_SOURCE == result.candidates
    assert result.fetch_failures == len(urls)


def test_a_batch_takes_one_page_of_each_waiting_host_in_turn(tmp_path):
    """So each host's politeness delay overlaps the other hosts' requests."""
    store = RunStore(tmp_path / "w.duckdb", "run-1", timeout_s=30)
    sources = [Source(name=f"s{i}") for i in range(3)]
    store.start({}, None, sources)
    pipeline = Pipeline(store, Dispatch(_discover, None, None), sources,  # type: ignore[arg-type]
                        store.discovery_inputs(sources, None, datetime.now(UTC)), batch_size=5)
    pipeline._absorb(_discover(DiscoveryJob(tuple(sources), None, {}, {}), 1).result(), 1)
    hosts = [url.split("/")[2] for url in (c.url for c in pipeline._take(5))]
    assert hosts == ["s0.test", "s1.test", "s2.test", "s0.test", "s1.test"]


@task(cache_policy=NO_CACHE)
def _fetch_pages(job: FetchJob) -> FetchedBatch:
    return FetchedBatch([FetchResult(url=c.url, source=c.source, html="<p>x</p>" * 2000,
                                     status_code=200, fetched_at=datetime.now(UTC))
                         for c in job.candidates])


@task(cache_policy=NO_CACHE)
def _skip_all(pages: list[FetchResult], _batch_no: int) -> list[ExtractionOutcome]:
    return [ExtractionOutcome(p.url, p.source, "skipped", "test") for p in pages]


def test_written_pages_are_freed_during_the_run(prefect_server, tmp_path):
    """Memory follows the batches in flight, not the pages handled: once a batch is written
    nothing of the run holds its pages, even with Prefect's task futures (which keep
    themselves alive until Python's full collection) in the loop."""
    store = ObservedStore(tmp_path / "w.duckdb", "run-1", timeout_s=30)
    sources = [Source(name=f"s{i}") for i in range(N_SOURCES)]
    store.start({}, None, sources)
    pages: list[weakref.ref] = []
    alive_when_written: list[int] = []
    original = store.record_batch

    def record_batch(batch_pages, outcomes, robots=()):
        pages.extend(weakref.ref(p) for p in batch_pages)
        original(batch_pages, outcomes, robots)
        alive_when_written.append(sum(ref() is not None for ref in pages))

    store.record_batch = record_batch

    @flow
    def run() -> None:
        with NetworkThreads(2) as network, ThreadPoolTaskRunner(max_workers=2) as compute:
            dispatch = Dispatch(
                _discover,
                lambda job: network.submit(_fetch_pages, {"job": job}),
                lambda batch, n: compute.submit(_skip_all, {"pages": batch, "_batch_no": n}),
            )
            Pipeline(store, dispatch, sources,
                     store.discovery_inputs(sources, None, datetime.now(UTC)),
                     batch_size=BATCH).run()

    gc.disable()  # only references, not the cycle collector, may free the pages
    try:
        run()
    finally:
        gc.enable()
    assert len(pages) == N_SOURCES * PAGES_PER_SOURCE
    bound = (FETCHES_IN_FLIGHT + 2 + 1) * BATCH  # pages of the batches in flight
    assert max(alive_when_written) <= bound, alive_when_written
