"""Scale-out: pages/s of the extraction-bound pipeline on threads, 1 and 2 Dask workers.

    .venv/bin/python -m bench.scale_out [--pages 600] [--hosts 16] [--batch-size 25]
                                        [--html news|demo] [--smoke]

The same run three ways, each into a fresh warehouse: the monitor flow with the default
thread runner (newsmon's extraction process pool, one process per core), then with a Dask
cluster of 1 worker process (1 thread) and of 2 worker processes (1 thread each), joined by
address as a user joins an existing cluster. Pages are bench/_site.py's (`--html news`:
real news pages, where extraction dominates; needs ../shared/data). Each cluster's workers
run a few Prefect tasks before the clock starts: a cluster is long-lived, and the first task
of a fresh worker process costs seconds.
The Prefect API is started once by a warm-up flow.

Prints `name: value` lines (with `<run>_flow_process_cpu_ms_per_page`: this process's CPU per
page, the flow's share, which in Dask mode includes the scheduler); the target is
dask_2_vs_1_workers >= 1.7 (two processes on two
cores, with the flow process fetching and writing beside them). `--smoke` (or
NEWSMON_BENCH_SMOKE=1): 20 small demo pages, seconds, no targets.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import bench_site, parse_site_args  # noqa: E402


def warm_up_workers(address: str, workers: int) -> None:
    """A long-lived cluster has run tasks before: the first Prefect task in a fresh worker
    process costs seconds (imports, Prefect's engine and API client), measured apart here.
    A few tasks per worker, each long enough that the scheduler spreads them."""
    from prefect import flow, task
    from prefect_dask import DaskTaskRunner

    @task
    def warm(_: int) -> int:
        import extractors.content.article  # noqa: F401  (what an extract task imports)

        time.sleep(0.5)
        return os.getpid()

    @flow(name="bench-warm-workers", task_runner=DaskTaskRunner(address=address))
    def warm_all() -> set[int]:
        return {f.result() for f in warm.map(range(3 * workers))}

    warm_all()


def run_flow(sources: Path, db: Path, batch_size: int, dask_address: str | None) -> tuple:
    """The monitor flow once; (articles, pages fetched, seconds, CPU seconds of this process:
    the flow process, with the Dask scheduler's thread in Dask mode)."""
    from flows.monitor import monitor
    from flows.runners import with_task_runner

    flow = with_task_runner(monitor, "dask", dask_address) if dask_address else monitor
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = flow(sources=str(sources), warehouse=str(db), batch_size=batch_size)
    return (summary.articles_new, summary.pages_fetched, time.perf_counter() - started,
            time.process_time() - cpu_started)


def run_on_cluster(workers: int, sources: Path, db: Path, batch_size: int) -> tuple:
    """The flow on a fresh local Dask cluster of `workers` processes of one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.WARNING) as cluster:
        warm_up_workers(cluster.scheduler_address, workers)
        return run_flow(sources, db, batch_size, cluster.scheduler_address)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args = parse_site_args(parser, pages=600, smoke_pages=20, batch_size=25)
    if args is None:
        return

    from extractors.content.parallel import start_workers, worker_count

    load_before = os.getloadavg()[0]
    results = {}
    with bench_site(args.pages, args.hosts, args.html) as (site, tmp, sources, _prefect_start):
        start_workers()  # the pool is long-lived too
        results["thread"] = run_flow(sources, tmp / "thread.duckdb", args.batch_size, None)
        for workers in (1, 2):
            results[f"dask_{workers}"] = run_on_cluster(
                workers, sources, tmp / f"dask{workers}.duckdb", args.batch_size)

    print(f"cores: {worker_count()}")
    print(f"load_avg_1m_before: {load_before:.2f}")
    print(f"load_avg_1m_after: {os.getloadavg()[0]:.2f}")
    print(f"html: {args.html}")
    print(f"pages: {len(site.urls)}")
    print(f"batch_size: {args.batch_size}")
    rates = {}
    for name, (articles, fetched, seconds, flow_cpu) in results.items():
        rates[name] = fetched / seconds
        print(f"{name}_articles: {articles}")
        print(f"{name}_s: {seconds:.1f}")
        print(f"{name}_pages_per_s: {rates[name]:.1f}")
        print(f"{name}_flow_process_cpu_ms_per_page: {1000 * flow_cpu / max(1, fetched):.1f}")
    print(f"dask_2_vs_1_workers: {rates['dask_2'] / rates['dask_1']:.2f}")
    print(f"dask_2_vs_thread: {rates['dask_2'] / rates['thread']:.2f}")


if __name__ == "__main__":
    main()
