"""Prefect's cost: the monitor flow vs the same stage functions called without Prefect.

    .venv/bin/python -m bench.prefect_overhead [--pages 1000] [--rounds 2] [--batch-size 50]
                                               [--html news|demo]

The pages are bench/_site.py's (see bench/pipeline.py, --html). `plain_monitor` runs the
same `flows.stages` functions as the flow's tasks through the same streaming pipeline and
warehouse writes, with thread pools instead of Prefect's task runners. Each round runs both
into fresh warehouses, alternating which goes first; the best round of each is compared.
The extraction pool and the Prefect API are started before timing (one-off costs).
On a busy machine the difference is mostly CPU, so the CPU seconds of this process and of the
ephemeral Prefect API server (a child process, read from /proc: Linux only) are printed too.
Prints `name: value` lines; the target is overhead_pct < 10.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import bench_site, parse_site_args  # noqa: E402


def plain_monitor(sources: Path, warehouse: Path, batch_size: int) -> dict[str, float]:
    """The monitor flow's work without Prefect; returns seconds per stage and counts.

    The same `flows.stages` functions the flow's tasks call, driven by the same streaming
    pipeline (flows/pipeline.py) and the same reads and writes (flows/run_store.py), with
    thread pools where the flow has task runners: discovery chunks and fetch batches side by
    side, extraction of N while N+1 is fetched, then clustering and the run's closing loads.
    No watchlists (the bench has no rules file).
    """
    from extractors.fetch.ledger import combine
    from extractors.fetch.sources import load_sources
    from extractors.timezones import utc_now
    from flows import stages
    from flows.pipeline import (
        DISCOVERIES_IN_FLIGHT,
        EXTRACTS_IN_FLIGHT,
        FETCHES_IN_FLIGHT,
        Dispatch,
        Pipeline,
    )
    from flows.run_store import RunStore
    from flows.settings import get_settings
    from reports.digest import build_digest, render_markdown

    timing: dict[str, float] = defaultdict(float)  # stages overlap (other threads)

    def timed(name, fn, *args):
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            timing[name] += time.perf_counter() - started

    settings = get_settings()
    fetch_settings = settings.fetch_settings()
    extraction = settings.extraction_settings()
    configured = load_sources(sources)
    store = RunStore(warehouse, str(uuid.uuid4()), settings.writer_timeout_s)
    started = utc_now()
    store.start({"sources": str(sources)}, None, configured)
    inputs = store.discovery_inputs(configured, None, started)
    with ThreadPoolExecutor(DISCOVERIES_IN_FLIGHT + FETCHES_IN_FLIGHT) as network, \
            ThreadPoolExecutor(EXTRACTS_IN_FLIGHT) as compute:
        dispatch = Dispatch(
            discover=lambda job, n: network.submit(timed, "discover", stages.discover, job,
                                                   fetch_settings),
            fetch=lambda job: network.submit(timed, "fetch", stages.fetch, job, fetch_settings),
            extract=lambda pages, n: compute.submit(timed, "extract", stages.extract, pages,
                                                    True, extraction),
        )
        fetched = Pipeline(store, dispatch, configured, inputs, batch_size).run()

    store.settle(combine(fetched.plans), fetched.discoveries, fetched.complete_sources,
                 started, utc_now())
    store.ledger_report()
    articles = store.articles_to_cluster(list(fetched.article_ids))
    if articles:  # as flows.monitor._cluster: features here, matched against the stored index
        arrivals = timed("cluster", stages.article_features, articles,
                         settings.cluster_window_days)
        timed("cluster_load", store.cluster, arrivals,
              stages.cluster_settings(settings.cluster_window_days), utc_now(), started)
    store.report()
    render_markdown(build_digest(warehouse))
    store.finish("completed", {"articles_new": len(fetched.article_ids)})
    timing["articles"] = len(fetched.article_ids)
    return dict(timing)


def prefect_server_cpu_s() -> float:
    """CPU seconds used so far by the ephemeral Prefect API server (our child process)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != os.getpid():
                continue
            if b"prefect.server" not in (stat.parent / "cmdline").read_bytes():
                continue
        except (OSError, IndexError, ValueError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parse_site_args(parser, pages=1000, smoke_pages=40)
    if args is None:
        return
    if args.smoke:
        args.rounds = 1

    with bench_site(args.pages, args.hosts, args.html) as (site, tmp, sources, _prefect_start):
        from extractors.content.parallel import start_workers, worker_count
        from flows.monitor import monitor

        start_workers()

        prefect_times, plain_times, stages = [], [], {}
        cpu: dict[str, list[float]] = defaultdict(list)  # this process's CPU s, per run
        for round_no in range(args.rounds):
            order = ("prefect", "plain") if round_no % 2 == 0 else ("plain", "prefect")
            for kind in order:
                db = tmp / f"{kind}-{round_no}.duckdb"
                started, cpu_started = time.perf_counter(), time.process_time()
                server_started = prefect_server_cpu_s()
                if kind == "prefect":
                    summary = monitor(sources=str(sources), warehouse=str(db),
                                      batch_size=args.batch_size)
                    prefect_times.append(time.perf_counter() - started)
                    prefect_articles = summary.articles_new
                    cpu["server"].append(prefect_server_cpu_s() - server_started)
                else:
                    stages = plain_monitor(sources, db, args.batch_size)
                    plain_times.append(time.perf_counter() - started)
                cpu[kind].append(time.process_time() - cpu_started)

    prefect_s, plain_s = min(prefect_times), min(plain_times)
    print(f"cores: {worker_count()}")
    print(f"html: {args.html}")
    print(f"pages: {len(site.urls)}")
    print(f"batch_size: {args.batch_size}")
    print(f"rounds: {args.rounds}")
    print(f"prefect_articles: {prefect_articles}")
    print(f"plain_articles: {int(stages['articles'])}")
    for name in ("discover", "fetch", "extract", "cluster", "cluster_load"):
        print(f"plain_stage_{name}_s: {stages.get(name, 0.0):.1f}")
    print(f"prefect_runs_s: {', '.join(f'{t:.1f}' for t in prefect_times)}")
    print(f"plain_runs_s: {', '.join(f'{t:.1f}' for t in plain_times)}")
    print(f"prefect_main_cpu_s: {', '.join(f'{t:.1f}' for t in cpu['prefect'])}")
    print(f"plain_main_cpu_s: {', '.join(f'{t:.1f}' for t in cpu['plain'])}")
    print(f"prefect_server_cpu_s: {', '.join(f'{t:.1f}' for t in cpu['server'])}")
    print(f"prefect_s: {prefect_s:.1f}")
    print(f"plain_s: {plain_s:.1f}")
    print(f"overhead_pct: {100 * (prefect_s - plain_s) / plain_s:.1f}")


if __name__ == "__main__":
    main()
