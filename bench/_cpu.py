"""Where a run's CPU goes: per process (from the kernel's counters) and per stage of the flow
process (thread CPU clocks around the stage functions), for the throughput benchmarks.

Processes are told apart by what they run: the bench process itself is the flow process;
its children are the extraction workers (`extractors.content.parallel`), the bench site's
server (a `multiprocessing` child) and Prefect's ephemeral API server (everything else,
with its own children). Counters are read before and after the measured run, so a process
started during it counts from zero.

Stages of the flow process are timed with `time.thread_time` inside the thread that runs
them (fetching runs in network threads, writes in the flow thread), plus the extraction
pool's manager thread, read through its CPU clock (pickling pages out, outcomes in). What
no timer covers is Prefect's engine, logging and the flow's own bookkeeping.
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
    """Thread CPU seconds spent inside wrapped functions, by stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()
        self._depth = threading.local()

    def wrap(self, name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth.n = depth
                if depth == 0:  # a stage inside a timed stage counts in the outer one only
                    spent = time.thread_time() - started
                    with self._lock:
                        self.seconds[name] += spent

        return timed


# (stage, module, attribute): the flow process's stages. Nested ones (raw pages written
# inside the batch write) are reported apart by `timed_stages` through their own clock.
FLOW_STAGES = (
    ("discover", "flows.stages", "discover"),
    ("fetch", "flows.stages", "fetch"),
    ("extract_wait", "flows.stages", "extract"),
    ("cluster", "flows.stages", "article_features"),
    ("cluster_prepared", "flows.monitor", "prepared_arrivals"),
    ("store_discovery", "flows.run_store", "RunStore.record_discovery"),
    ("store_batch", "flows.run_store", "RunStore.record_batch"),
    ("store_cluster", "flows.run_store", "RunStore.cluster"),
    ("read_cluster_inputs", "flows.run_store", "RunStore.articles_to_cluster"),
    ("settle_ledger", "flows.run_store", "RunStore.settle"),
)
INNER_STAGES = (
    ("decode_html", "extractors.fetch.http", "decode_html"),
    ("store_raw", "warehouse.raw_store", "write_pages"),
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
    yielded dict is filled with CPU seconds by stage when the block ends (`pool_manager`:
    the extraction pool's manager thread)."""
    from extractors.content import parallel

    outer, inner = StageClock(), StageClock()
    patched = [_patch(m, a, functools.partial(outer.wrap, s)) for s, m, a in FLOW_STAGES]
    patched += [_patch(m, a, functools.partial(inner.wrap, s)) for s, m, a in INNER_STAGES]
    patched = [p for p in patched if p is not None]
    pool_before = _pool_thread_cpu(parallel)
    out: dict[str, float] = {}
    try:
        yield out
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)
        out.update(outer.seconds)
        out.update(inner.seconds)
        out["pool_manager"] = max(0.0, _pool_thread_cpu(parallel) - pool_before)


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
