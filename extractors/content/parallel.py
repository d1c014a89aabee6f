"""Extraction across the machine's cores, every page bounded in CPU time.

HTML parsing is CPU-bound and holds the GIL, so pages are extracted in worker processes, one
pool per process, started on first use (or by `warm_up`) and reused by every batch. Workers
are plain child processes (`python -c`, talking over a socket pair), so the pool also runs
inside a Dask worker, whose daemonic processes may not start multiprocessing children.

Every page has a CPU-time budget (`ExtractionSettings.cpu_limit_s`):

- in the worker, a timer on the process's CPU clock interrupts the extraction when the budget
  is spent; the page is recorded `too_slow` and the worker takes the next page;
- the pool watches each busy worker's CPU time from outside: a worker still on its page a
  grace past the budget (stuck in C code, where the timer cannot interrupt it) is killed and
  replaced, its page recorded `too_slow`; so is one that stays on a page ten budgets of wall
  time (blocked, not computing). A worker that dies (killed, out of memory) costs its page,
  recorded as failed, and is replaced; the batch goes on.

Besides pages, a worker runs one-off calls (`ExtractionPool.call`): a named function on bytes,
returning bytes, bounded by its own CPU budget from outside. The cluster step embeds its
run's candidate texts so, in one call (extractors/content/embedding.py), off the flow process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait

import psutil

from extractors.content.article import (
    DEFAULT_EXTRACTION,
    ExtractionSettings,
    extract_article,
    too_slow,
)
from extractors.content.rawpage import html_bytes, html_text
from extractors.models import Article, ExtractionOutcome, FetchResult

WALL_LIMIT_FACTOR = 10  # a page may take this many budgets of wall time (a busy machine)
PAGES_IN_FLIGHT = 2  # pages handed to a worker at once: one extracting, one waiting
_POLL_S = 0.1  # how often the pool looks at its busy workers
# The worker's first statements: read sys.path from the parent, then serve.
_BOOT = ("import sys; from multiprocessing.connection import Connection; "
         "conn = Connection(int(sys.argv[1])); sys.path[:] = conn.recv(); "
         "from extractors.content.parallel import serve; serve(conn, int(sys.argv[2]))")


def worker_count() -> int:
    """Extraction workers by default: one per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


# --- the worker process ---------------------------------------------------------------------


class _TooSlow(BaseException):
    """Raised into the page being extracted when its CPU budget is spent. A BaseException, so
    that the `except Exception` of the libraries (and of extract_article) let it through."""


_armed = False  # a page's budget is running (the timer's signal may interrupt it)


def _on_budget_spent(signum, frame) -> None:
    if _armed:
        raise _TooSlow


def _extract_bounded(page: FetchResult, settings: ExtractionSettings,
                     domains: Collection[str]) -> ExtractionOutcome:
    """extract_article under a CPU-time timer (ITIMER_PROF: this process's user+system),
    then, when asked and within what is left of the budget, the article's clustering
    features: a page whose features do not fit keeps its outcome, without them (the flow
    makes them)."""
    global _armed
    _armed = True
    signal.setitimer(signal.ITIMER_PROF, settings.cpu_limit_s)
    outcome = None
    try:
        outcome = extract_article(page, settings, domains)
        if settings.cluster_features and outcome.article is not None:
            outcome = replace(outcome, features=_cluster_features(outcome.article))
        _armed = False
        return outcome
    except _TooSlow:
        return outcome if outcome is not None else too_slow(page, settings.cpu_limit_s)
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_PROF, 0)


def _cluster_features(article: Article) -> bytes:
    """The features the cluster step needs of `article`, with the default clustering
    settings' tokens (the flow uses them only if its own are the same), packed."""
    from extractors.events.clustering import DEFAULT_SETTINGS
    from extractors.events.incremental import pack_features, prepare_features

    return pack_features(prepare_features(article, DEFAULT_SETTINGS.tokens))


FEATURES_CPU_S = 10.0  # a features call's CPU budget: this, plus per article
FEATURES_CPU_S_PER_ARTICLE = 0.5  # (~7 ms each on news pages)


def cluster_features_of(payload: bytes) -> bytes:
    """A worker call: the packed clustering features (`_cluster_features`) of pickled
    articles, by id, for the cluster step's articles that came without them."""
    articles = pickle.loads(payload)
    return pickle.dumps({a.id: _cluster_features(a) for a in articles},
                        protocol=pickle.HIGHEST_PROTOCOL)


def cluster_features_in_worker(articles: Sequence[Article]) -> dict[str, bytes]:
    """`cluster_features_of` in one call to a worker of the process's pool: the features
    are made off the calling process, in one worker (which loads the clustering modules and
    their place index once: ~25 MiB, ~90 before the index was read from a packaged table)."""
    payload = pickle.dumps(list(articles), protocol=pickle.HIGHEST_PROTOCOL)
    limit = FEATURES_CPU_S + FEATURES_CPU_S_PER_ARTICLE * len(articles)
    return pickle.loads(get_pool().call(f"{__name__}:cluster_features_of", payload,
                                        limit).result())


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker when the process that started it is gone (killed with SIGKILL, say):
    the socket pair alone would not tell a worker blocked in a page."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_WARM_UP_PAGE = FetchResult(
    url="https://warm-up.test/news/2021/12/15/talks", source="", final_url=None,
    html="<html><head><title>Leaders meet in Brussels</title></head><body><article>"
         "<h1>Leaders meet in Brussels</h1><p>" + " ".join(
             ["The prime minister of Armenia met the president of Azerbaijan in Brussels on "
              "15 December 2021, officials said."] * 6) + "</p></article></body></html>",
)


@dataclass(frozen=True)
class _CallRequest:
    """A one-off call for a worker: `function` ("module:name") on the bytes that follow."""

    function: str


@dataclass(frozen=True)
class _CallReply:
    data: bytes | None
    error: str | None = None


def _run_call(request: _CallRequest, payload: bytes) -> _CallReply:
    """The named function on `payload` (it returns bytes); an error comes back as text."""
    module, name = request.function.split(":")
    try:
        return _CallReply(getattr(importlib.import_module(module), name)(payload))
    except Exception as exc:  # reported to the caller, whose call fails with it
        return _CallReply(None, f"{type(exc).__name__}: {exc}")


def serve(conn: Connection, parent_pid: int) -> None:
    """The worker's loop: ("ready"), then per page two messages in (the page without its HTML
    or bytes, settings, domains and whether the bytes that follow are as served or the HTML's
    UTF-8; those bytes), one outcome out. A call (`_CallRequest`, then its bytes) gets a
    `_CallReply`.

    Before it is ready, the worker extracts a sample page: what the first extraction loads
    (the gazetteer, the language model, trafilatura's tables) is not charged to a real
    page's budget. The clustering modules (and their place index, ~25 MiB a worker) load
    before the first page that asks for features, outside that page's CPU timer."""
    _exit_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGPROF, _on_budget_spent)
    warm = extract_article(_WARM_UP_PAGE)
    features_loaded = False
    try:
        conn.send("ready")
        while True:
            message = conn.recv()
            body = conn.recv_bytes()
            if isinstance(message, _CallRequest):
                conn.send(_run_call(message, body))
                continue
            page, settings, domains, served = message
            if settings.cluster_features and not features_loaded and warm.article is not None:
                # loaded only by a worker asked for features (~25 MiB with the place index),
                # before the page's own budget timer starts
                _cluster_features(warm.article)
                features_loaded = True
            # bytes as served are decoded by extract_article, within the page's budget
            page = replace(page, body=body) if served else replace(page, html=html_text(body))
            outcome = _extract_bounded(page, settings, domains)
            conn.send(outcome)
    except (EOFError, OSError):  # the pool closed the socket: it is shutting down
        return


# --- the pool ---------------------------------------------------------------------------------


@dataclass
class _Job:
    """One page to extract; its future gets the ExtractionOutcome."""

    page: FetchResult
    settings: ExtractionSettings
    domains: frozenset[str]
    future: Future = field(default_factory=Future)

    @property
    def cpu_limit_s(self) -> float:
        return self.settings.cpu_limit_s

    def send(self, conn: Connection) -> None:
        """The page's record without its HTML or bytes (pickled, small), then its bytes as
        served (the worker decodes them) or, for a page decoded already, its HTML's UTF-8:
        neither pickled a second time."""
        served = self.page.html is None and self.page.body is not None
        conn.send((replace(self.page, html=None, body=None), self.settings, self.domains,
                   served))
        conn.send_bytes(self.page.body if served else html_bytes(self.page.html or ""))

    def finish(self, message: object) -> None:
        self.future.set_result(message)

    def fail(self, reason: str) -> None:
        self.future.set_result(_failed(self.page, reason))

    def over_budget(self) -> None:
        self.future.set_result(too_slow(self.page, self.cpu_limit_s))


class CallFailed(RuntimeError):
    """A worker call raised, overran its CPU budget, or lost its worker."""


@dataclass
class _Call:
    """One call (`ExtractionPool.call`); its future gets the bytes the function returned."""

    function: str
    payload: bytes
    cpu_limit_s: float
    future: Future = field(default_factory=Future)

    def send(self, conn: Connection) -> None:
        conn.send(_CallRequest(self.function))
        conn.send_bytes(self.payload)

    def finish(self, message: object) -> None:
        if isinstance(message, _CallReply) and message.error is None:
            self.future.set_result(message.data)
        else:
            self.fail(message.error if isinstance(message, _CallReply) else repr(message))

    def fail(self, reason: str) -> None:
        self.future.set_exception(CallFailed(f"{self.function}: {reason}"))

    def over_budget(self) -> None:
        self.fail(f"over its CPU budget of {self.cpu_limit_s:.0f} s")


class _Worker:
    """One worker process and the pages handed to it: the first is being extracted, the
    next waits in its socket (so the worker never idles while the pool thread waits for the
    GIL to hand it more)."""

    def __init__(self) -> None:
        parent_end, child_end = socket.socketpair()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(child_end.fileno()), str(os.getpid())],
            pass_fds=(child_end.fileno(),), stdin=subprocess.DEVNULL,
        )
        child_end.close()
        self.conn = Connection(parent_end.detach())
        self.conn.send(list(sys.path))
        self.ps = psutil.Process(self.proc.pid)
        self._clock = _process_cpu_clock(self.proc.pid)
        self.ready = False
        self.jobs: deque[_Job | _Call] = deque()  # handed over, in order; the first is running
        self.cpu_at_start = 0.0  # the worker's CPU time when the first job began
        self.started_at = 0.0

    def cpu_s(self) -> float:
        """The worker's CPU time (user + system), from the kernel's clock of that process:
        one system call where psutil reads and parses /proc (the pool asks for every page)."""
        try:
            return time.clock_gettime(self._clock)
        except OSError:  # gone, or a kernel without per-process clocks
            times = self.ps.cpu_times()
            return times.user + times.system

    def hand(self, job: _Job | _Call) -> None:
        job.send(self.conn)
        self.jobs.append(job)
        if len(self.jobs) == 1:
            self._began()

    def done(self) -> _Job | _Call:
        """The first job's outcome arrived: the next one is running now."""
        job = self.jobs.popleft()
        if self.jobs:
            self._began()
        return job

    def _began(self) -> None:
        self.started_at = time.monotonic()
        try:
            self.cpu_at_start = self.cpu_s()
        except psutil.Error:  # gone: the closed socket tells (_receive)
            self.cpu_at_start = 0.0

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.conn.close()


class ExtractionPool:
    """Worker processes fed by a manager thread, PAGES_IN_FLIGHT pages each at most (see the
    module doc). `submit` may be called from any thread; a page's future gets its
    ExtractionOutcome. Should the manager thread ever stop, every page waiting is failed and
    the pool is closed (get_pool then starts another).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: deque[_Job | _Call] = deque()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._workers: list[_Worker] = []
        self._closed = False
        self.replaced = 0  # workers killed or found dead, and replaced
        self._failed_starts = 0  # workers in a row that died before they were ready
        self._broken: str | None = None  # why workers cannot start (jobs then fail at once)
        self._thread = threading.Thread(target=self._run, name="extraction-pool", daemon=True)
        self._thread.start()

    def submit(self, page: FetchResult, settings: ExtractionSettings,
               domains: Collection[str] = ()) -> Future:
        return self._enqueue(_Job(page, settings, frozenset(domains)))

    def call(self, function: str, payload: bytes, cpu_limit_s: float) -> Future:
        """Run `function` ("module:name", bytes -> bytes) on `payload` in a worker, queued
        with the pages; the future gets its bytes, or raises CallFailed. A worker past
        `cpu_limit_s` of CPU (and a grace) is killed and replaced, as for a page."""
        return self._enqueue(_Call(function, payload, cpu_limit_s))

    def _enqueue(self, job: _Job | _Call) -> Future:
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction pool is shut down")
            self._jobs.append(job)
        self._wake()
        return job.future

    def start_workers(self) -> None:
        """Start every worker now (each imports the extractor: seconds on a busy machine)."""
        with self._lock:
            self._jobs.append(None)  # type: ignore[arg-type]  # a marker: fill the pool
        self._wake()

    @property
    def closed(self) -> bool:
        return self._closed

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
        self._wake()
        self._thread.join(timeout=30)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # shut down meanwhile
            self._wake_w.send(b"x")

    # --- the manager thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._closed:
                self._dispatch()
                busy = [w for w in self._workers if w.jobs]
                waiting_for = [w.conn for w in self._workers if w.jobs or not w.ready]
                ready = wait([*waiting_for, self._wake_r], timeout=_POLL_S if busy else None)
                if self._wake_r in ready:
                    self._wake_r.recv(4096)
                for worker in list(self._workers):
                    if worker.conn in ready:
                        self._receive(worker)
                self._watch_budgets()
        finally:
            with self._lock:
                self._closed = True
            self._stop_all()

    def _dispatch(self) -> None:
        with self._lock:
            if None in self._jobs:
                self._jobs = deque(j for j in self._jobs if j is not None)
                fill = True
            else:
                fill = False
            pending = len(self._jobs)
            if self._broken is not None:
                failed, self._jobs = list(self._jobs), deque()
                for job in failed:
                    job.fail(self._broken)
                return
        while len(self._workers) < self.size and (fill or pending > len(self._workers)):
            self._workers.append(_Worker())
        for depth in range(1, PAGES_IN_FLIGHT + 1):  # first one page to every worker
            for worker in list(self._workers):
                if not worker.ready or len(worker.jobs) >= depth:
                    continue
                with self._lock:
                    if not self._jobs:
                        return
                    job = self._jobs.popleft()
                try:
                    worker.hand(job)
                except OSError:  # the worker died while idle: the page goes to another
                    with self._lock:
                        self._jobs.appendleft(job)
                    self._replace(worker, "extraction worker died")
                except (pickle.PicklingError, AttributeError, TypeError) as exc:
                    job.fail(f"cannot hand to a worker: {exc}")

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            self._replace(worker, "extraction worker died")
            return
        if message == "ready":
            worker.ready = True
            self._failed_starts = 0
            return
        if worker.jobs:
            worker.done().finish(message)

    def _watch_budgets(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            if not worker.jobs:
                continue
            limit = worker.jobs[0].cpu_limit_s
            try:
                spent = worker.cpu_s() - worker.cpu_at_start
            except psutil.Error:
                spent = 0.0  # gone: the closed socket tells (_receive)
            if spent > limit + _grace(limit) or now - worker.started_at > limit * WALL_LIMIT_FACTOR:
                self._replace(worker, None)

    def _replace(self, worker: _Worker, died: str | None) -> None:
        """Kill `worker` (stuck past its page's budget, or dead) and start another; its page
        is recorded too_slow, or failed with `died`; the page waiting behind it goes back to
        the front of the queue."""
        job = worker.jobs.popleft() if worker.jobs else None
        with self._lock:
            self._jobs.extendleft(reversed(worker.jobs))
        worker.jobs.clear()
        code = worker.proc.poll()
        worker.kill()
        self._workers.remove(worker)
        self.replaced += 1
        if not worker.ready:
            self._failed_starts += 1
            if self._failed_starts >= 3:  # the environment is broken: do not loop on it
                self._broken = f"extraction workers cannot start (exit code {code})"
                return
        if job is not None:
            if died is None:
                job.over_budget()
            else:
                how = f" (exit code {code})" if code is not None else ""
                job.fail(f"{died}{how}")
        if not self._closed:
            self._workers.append(_Worker())

    def _stop_all(self) -> None:
        with self._lock:
            left = list(self._jobs)
            self._jobs.clear()
        for job in left:
            if job is not None:
                job.fail("extraction pool shut down")
        for worker in self._workers:
            for job in worker.jobs:
                job.fail("extraction pool shut down")
            worker.conn.close()  # the worker sees end-of-file and exits
        deadline = time.monotonic() + 5
        for worker in self._workers:
            try:
                worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
        self._workers.clear()
        self._wake_r.close()
        self._wake_w.close()


def _process_cpu_clock(pid: int) -> int:
    """The clock id of process `pid`'s CPU time, as Linux's clock_getcpuclockid makes it
    (CPUCLOCK_SCHED of the whole process); other systems fall back to psutil (cpu_s)."""
    return ((~pid) << 3) | 2 if sys.platform.startswith("linux") else -1


def _grace(limit: float) -> float:
    """CPU time past the budget before a worker is killed: the timer's interruption lands
    only when the extraction is back in Python code."""
    return max(1.0, limit / 4)


def _failed(page: FetchResult, reason: str) -> ExtractionOutcome:
    return ExtractionOutcome(url=page.url, source=page.source, status="failed",
                             reason=f"extraction error: {reason}")


# --- the process's pool -----------------------------------------------------------------------

_pool: ExtractionPool | None = None
_pool_lock = threading.Lock()


def get_pool(size: int | None = None) -> ExtractionPool:
    """The process's pool (started on first use with `size` workers, default worker_count();
    shut down at exit)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.closed:
            _pool = ExtractionPool(size or worker_count())
        return _pool


def warm_up() -> None:
    """Start the pool's workers now, in the background: each imports the extractor (seconds
    on a busy machine), so a run's first batch does not wait for them."""
    get_pool().start_workers()


def start_workers(timeout_s: float = 120.0) -> list[int]:
    """Start the pool's workers and wait until each is ready (benchmarks, tests); their pids."""
    pool = get_pool()
    pool.start_workers()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = list(pool._workers)
        if len(workers) == pool.size and all(w.ready for w in workers):
            return [w.proc.pid for w in workers]
        time.sleep(0.05)
    raise TimeoutError("extraction workers did not start")


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown()


atexit.register(shutdown_pool)


def extract_pages(
    pages: Sequence[FetchResult], use_pool: bool = True,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
    domains: Mapping[str, Collection[str]] | None = None, workers: int | None = None,
) -> list[ExtractionOutcome]:
    """`extract_article` over `pages`, in input order, each in a worker under its CPU budget.

    `domains`: per source, the sites its rel=canonical may point to (urls.own_domains).
    `workers`: the pool's size if this call starts it (default: one per core).
    `use_pool=False` extracts in this thread, without a bound (tests, trusted input).
    """
    domains = domains or {}
    if not use_pool:
        return [extract_article(page, settings, domains.get(page.source, ())) for page in pages]
    pool = get_pool(workers)
    futures = [pool.submit(page, settings, domains.get(page.source, ())) for page in pages]
    return [future.result() for future in futures]
