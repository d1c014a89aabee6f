"""Where a run's CPU goes: per process (from the kernel's counters) and per stage of the flow
process (thread CPU clocks around the stage functions), for the throughput benchmarks.

Processes are told apart by what they run: the bench process itself is the flow process;
its children are the extraction workers (`extractors.content.parallel`), the bench site's
server (a `multiprocessing` child) and Prefect's ephemeral API server (everything else,
with its own children). Counters are read before and after the measured run, so a process
started during it counts from zero.

Stages of the flow process are timed with `time.thread_time` inside the thread that runs
them (fetching runs in network threads, writes in the flow thread, the sentence model's
layers in its own threads), each stage its own time: a stage called inside another is
taken out of the outer one (raw pages written inside the batch write count in `store_raw`
only), so the stages add up. Threads that run no stage are read through their CPU clocks:
the extraction pool's manager thread (pickling pages out, outcomes in) and every other
thread alive at the end, by name (Prefect's event loops, event and heartbeat threads; the
benchmark's own watcher). What no clock covers is Prefect's engine and the flow's own
bookkeeping in the threads that also run stages.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psutil

ROLES = ("flow", "workers", "prefect_api", "site_server")


def _role(proc: psutil.Process) -> str:
    try:
        cmdline = " ".join(proc.cmdline())
    except psutil.Error:
        return "prefect_api"
    if "extractors.content.parallel" in cmdline:
        return "workers"
    if "multiprocessing" in cmdline:
        return "site_server"
    return "prefect_api"


def process_cpu() -> dict[str, float]:
    """CPU seconds (user + system) so far by role: this process and its descendants. A
    descendant's own children (Prefect's) count in its role."""
    me = psutil.Process()
    times = me.cpu_times()
    out: dict[str, float] = defaultdict(float)
    out["flow"] = times.user + times.system
    for child in me.children(recursive=False):
        role = _role(child)
        for proc in [child, *_descendants(child)]:
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            out[role] += t.user + t.system
    return dict(out)


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds spent between two `process_cpu` readings, by role (never negative: a
    worker replaced during the run takes its counter with it)."""
    return {role: max(0.0, after.get(role, 0.0) - before.get(role, 0.0)) for role in ROLES}


class StageClock:
    """Thread CPU seconds spent inside wrapped functions, by stage name: each stage its own
    time (a stage called within another, in the same thread, is taken out of the outer
    one), so the stages add up to what the clocks saw. Remembers the threads it ran in."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.threads: set[int] = set()
        self._lock = threading.Lock()
        self._local = threading.local()

    def wrap(self, name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = self._local.__dict__.setdefault("inner", [])  # inner seconds by level
            stack.append(0.0)
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                inner = stack.pop()
                if stack:
                    stack[-1] += spent
                with self._lock:
                    self.seconds[name] += spent - inner
                    self.threads.add(threading.get_ident())

        return timed


# (stage, module, attribute): the flow process's stages (class methods as "Class.method").
FLOW_STAGES = (
    ("discover", "flows.stages", "discover"),
    ("fetch", "flows.stages", "fetch"),
    ("decode_html", "extractors.fetch.http", "decode_html"),
    ("decode_html", "extractors.fetch.charset", "decode_html"),  # since #31 round 5: the
    # fetcher leaves pages undecoded for the workers; the flow decodes only raw pages that
    # are not stored as they came (not valid UTF-8 as served)
    ("extract_wait", "flows.stages", "extract"),
    ("cluster", "flows.stages", "article_features"),
    # The local pool's share of making them in one worker call: pickling the articles,
    # taking the features over.
    ("cluster", "flows.tasks", "cluster_features_in_worker"),
    ("cluster_prepared", "flows.monitor", "prepared_arrivals"),
    ("cluster_prepared", "flows.monitor", "unpack_features"),
    ("store_discovery", "flows.run_store", "RunStore.record_discovery"),
    ("store_batch", "flows.run_store", "RunStore.record_batch"),
    ("store_raw", "warehouse.raw_store", "write_pages"),
    ("store_cluster", "flows.run_store", "RunStore.cluster"),
    ("read_cluster_inputs", "flows.run_store", "RunStore.articles_to_cluster"),
    ("settle_ledger", "flows.run_store", "RunStore.settle"),
    # Within store_cluster: the sentence vectors of two-language candidates (tokens in the
    # calling thread, the model's layers in threads of its own; since round 4 in a worker,
    # the flow's share is the call) and the dates in the texts.
    ("embed", "extractors.content.embedding", "Encoder.embed"),
    ("embed", "flows.stages", "embed"),  # the texts sent to a worker, the vectors back
    ("embed", "extractors.content.embedding", "Encoder._forward"),
    ("encoder_load", "extractors.content.embedding", "Encoder.__init__"),
    ("keys_dates", "extractors.content.keys", "dates_in"),
    # The place names the cluster step reads, built once in a thread of its own.
    ("gazetteer_build", "extractors.content.facets.gazetteer", "_build"),
)


def _patch(module_name: str, attr: str, wrapper: Callable[[Callable], Callable]):
    """Replace `module_name.attr` by its wrapped self; None when the code has no such
    function (an older tree measured with this benchmark)."""
    import importlib

    owner: Any = importlib.import_module(module_name)
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    original = getattr(owner, name, None)
    if original is None:
        return None
    setattr(owner, name, wrapper(original))
    return owner, name, original


@contextmanager
def timed_stages() -> Iterator[dict[str, float]]:
    """Wrap the flow process's stage functions with thread CPU clocks for the block; the
    yielded dict is filled when the block ends with CPU seconds by stage, `pool_manager`
    (the extraction pool's manager thread) and `thread_<name>` for the other threads alive
    at the end that ran no stage (their CPU during the block; digits dropped from names)."""
    from extractors.content import parallel

    clock = StageClock()
    patched = [_patch(m, a, functools.partial(clock.wrap, s)) for s, m, a in FLOW_STAGES]
    patched = [p for p in patched if p is not None]
    pool_before = _pool_thread_cpu(parallel)
    threads_before = _thread_cpu()
    out: dict[str, float] = {}
    try:
        yield out
    finally:
        threads_after = _thread_cpu()
        for owner, name, original in reversed(patched):  # twice-wrapped names unwind in order
            setattr(owner, name, original)
        out.update(clock.seconds)
        out["pool_manager"] = max(0.0, _pool_thread_cpu(parallel) - pool_before)
        pool = getattr(parallel._pool, "_thread", None)
        skip = {*clock.threads, threading.main_thread().ident, getattr(pool, "ident", None)}
        for ident, (name, seconds) in threads_after.items():
            if ident not in skip:
                key = "thread_" + "".join(c for c in name if not c.isdigit()).strip("_- ()")
                before = threads_before.get(ident, (name, 0.0))[1]
                out[key] = out.get(key, 0.0) + max(0.0, seconds - before)


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """(name, CPU seconds so far) of each live thread of this process, by ident."""
    out = {}
    for thread in threading.enumerate():
        if thread.ident is None:
            continue
        try:
            out[thread.ident] = (thread.name,
                                 time.clock_gettime(time.pthread_getcpuclockid(thread.ident)))
        except (OSError, AttributeError, ProcessLookupError):
            continue
    return out


def _pool_thread_cpu(parallel: Any) -> float:
    """CPU seconds of the extraction pool's manager thread (0 when no pool runs)."""
    pool = parallel._pool
    thread = getattr(pool, "_thread", None)
    if thread is None or not thread.is_alive() or thread.ident is None:
        return 0.0
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except (OSError, AttributeError):
        return 0.0


@contextmanager
def worker_start_up() -> Iterator[dict[str, float]]:
    """CPU seconds the extraction workers started during the block spent before they were
    ready (imports, the sample page): a once-per-process cost, printed apart from the
    per-page one. Read by watching the pool every 20 ms."""
    from extractors.content import parallel

    at_ready: dict[int, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            pool = parallel._pool
            for worker in list(getattr(pool, "_workers", ())):
                pid = worker.proc.pid
                if worker.ready and pid not in at_ready:
                    try:
                        at_ready[pid] = worker.cpu_s()
                    except psutil.Error:
                        at_ready[pid] = 0.0

    thread = threading.Thread(target=watch, name="bench-worker-start-up", daemon=True)
    thread.start()
    out: dict[str, float] = {}
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        out["workers_started"] = float(len(at_ready))
        out["start_up_s"] = sum(at_ready.values())


def ms_per_page(seconds: float, pages: int) -> float:
    return 1000.0 * seconds / max(1, pages)


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
