"""Which Prefect task runners the monitor flow uses: threads by default, Dask on request.

The flow's own task runner runs the CPU stages (extraction, clustering, rule matching):
threads plus newsmon's process pool, or Dask workers, possibly on other machines, which need
neither the warehouse nor the network. The network stages (discovery, fetching) always run
on `network_task_runner`, threads of the flow process, so one politeness covers every host.

A Prefect flow's task runner is fixed when the flow object is made, so the choice is made
where the flow object is made or copied (`flow.with_options(task_runner=...)`), not inside a
run. A deployment chooses through its environment: `NEWSMON_TASK_RUNNER=dask` (and optionally
`NEWSMON_DASK_ADDRESS`) in the work pool's or the deployment's `job_variables.env`, which the
flow-run process sees when it imports `flows/monitor.py`. See docs/deploy.md.
"""

from __future__ import annotations

import contextvars
import functools
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from prefect import Flow, Task
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.settings import RunnerKind, get_settings

F = TypeVar("F", bound=Flow)

# A small local cluster: two worker processes, one thread each (extraction is CPU-bound and
# trafilatura/lxml do not release the GIL much; 2 cores on the reference machine).
LOCAL_CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "dashboard_address": ":0"}


def select_task_runner(kind: RunnerKind = "thread", dask_address: str | None = None) -> TaskRunner:
    """A new task runner of `kind`; Dask joins `dask_address` or starts a 2x1 LocalCluster."""
    if kind == "thread":
        return ThreadPoolTaskRunner()
    if kind == "dask":
        # Imported here: dask.distributed takes about a second to import and most runs use threads.
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        # Inside Dask workers the extract task uses a pool of one process (see
        # inside_dask_worker): the workers share the cores already, and the child process is
        # what bounds each page's CPU time (extractors/content/parallel.py).
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster", cluster_kwargs=dict(LOCAL_CLUSTER)
        )
    raise ValueError(f"unknown task runner {kind!r}: use 'thread' or 'dask'")


def inside_dask_worker() -> bool:
    """True in a Dask worker process: there, Dask's processes already use the cores, so
    extraction takes one child process per Dask worker."""
    if "distributed" not in sys.modules:  # never imported: not a Dask worker (and stay fast)
        return False
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


def task_runner_from_env() -> TaskRunner:
    """The task runner the environment asks for (`NEWSMON_TASK_RUNNER`, `NEWSMON_DASK_ADDRESS`)."""
    settings = get_settings()
    return select_task_runner(settings.task_runner, settings.dask_address)


def with_task_runner(
    flow: F, kind: RunnerKind | None = None, dask_address: str | None = None
) -> F:
    """A copy of `flow` using the chosen runner; `kind=None` means: ask the environment.

    A Dask runner without `dask_address` joins NEWSMON_DASK_ADDRESS when it is set (so
    `newsmon run --task-runner dask` and the environment agree), else starts a LocalCluster.
    """
    if kind is None:
        return flow.with_options(task_runner=task_runner_from_env())
    if kind == "dask" and dask_address is None:
        dask_address = get_settings().dask_address
    return flow.with_options(task_runner=select_task_runner(kind, dask_address))


class NetworkThreads:
    """Threads of the flow process for the network tasks, whatever the flow's runner: every
    Fetcher of the process shares one politeness (flows/stages.py).

    Each task is called as a Prefect task (its run is recorded, with its retries) inside the
    flow run's context, and its result comes back in a plain `concurrent.futures.Future`.
    Prefect's own thread-runner futures reference themselves; a cycle holding a batch of
    pages kept it alive until Python's rare full collection, and a run's memory grew with
    the pages it had handled.
    """

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="newsmon-net")

    def submit(self, task: Task, parameters: dict[str, Any]) -> Future:
        context = contextvars.copy_context()  # the flow run's context, as Prefect's runner
        return self._pool.submit(context.run, functools.partial(task, **parameters))

    def __enter__(self) -> NetworkThreads:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def network_task_runner(threads: int) -> NetworkThreads:
    """The flow's network threads; use as a context manager inside the flow."""
    return NetworkThreads(threads)


def _flow_dask_runner():
    """The running flow's DaskTaskRunner, or None (threads, or not in a flow)."""
    if "prefect_dask" not in sys.modules:  # never imported: not Dask (and stay fast)
        return None
    from prefect.context import FlowRunContext
    from prefect_dask import DaskTaskRunner

    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    return runner if isinstance(runner, DaskTaskRunner) else None


def uses_dask() -> bool:
    """True inside a flow run whose task runner is Dask."""
    return _flow_dask_runner() is not None


def extracts_in_flight(default: int = 2) -> int:
    """How many batches the flow keeps extracting at once: `default` with threads (the
    process pool parallelises inside a batch), one more than the Dask cluster has threads
    otherwise, so that no worker waits for the flow."""
    runner = _flow_dask_runner()
    if runner is None:
        return default
    return max(default, sum(runner.client.nthreads().values()) + 1)
