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

import sys
from typing import TypeVar

from prefect import Flow
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
        # Inside Dask workers the extract task uses no process pool (see inside_dask_worker):
        # the workers are the processes, and Dask's daemonic workers may not start children.
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster", cluster_kwargs=dict(LOCAL_CLUSTER)
        )
    raise ValueError(f"unknown task runner {kind!r}: use 'thread' or 'dask'")


def inside_dask_worker() -> bool:
    """True in a Dask worker process: there, Dask's processes already use the cores."""
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


def network_task_runner(threads: int) -> ThreadPoolTaskRunner:
    """Threads of the flow process for the network tasks, whatever the flow's runner: every
    Fetcher of the process shares one politeness (flows/stages.py). Use as a context manager
    inside the flow; `.submit(task, parameters)` gives a Prefect future."""
    return ThreadPoolTaskRunner(max_workers=threads)


def extracts_in_flight(default: int = 2) -> int:
    """How many batches the flow keeps extracting at once: `default` with threads (the
    process pool parallelises inside a batch), one more than the Dask cluster has threads
    otherwise, so that no worker waits for the flow."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    if "prefect_dask" not in sys.modules or runner is None:
        return default
    from prefect_dask import DaskTaskRunner

    if not isinstance(runner, DaskTaskRunner):
        return default
    return max(default, sum(runner.client.nthreads().values()) + 1)
