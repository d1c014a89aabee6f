"""Prefect's cost: the monitor flow vs the same stage functions called without Prefect.

    .venv/bin/python -m bench.prefect_overhead [--pages 1000] [--rounds 2] [--batch-size 50]

The pages are bench/_site.py's (copies of the demo articles on 16 bench hosts). `plain_monitor`
below does what `flows.monitor.monitor` does, in the same order and with the same batch size:
discover each source, fetch batch N+1 while batch N extracts (a thread pool instead of
Prefect's thread task runner), cluster, and the same warehouse loads. Each round runs both
into fresh warehouses, alternating which goes first; the best round of each is compared.
The extraction pool and the Prefect API are started before timing (one-off costs).
On a busy machine the difference is mostly CPU, so the CPU seconds of this process and of the
ephemeral Prefect API server (a child process, read from /proc: Linux only) are printed too.
Prints `name: value` lines; the target is overhead_pct < 10.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import bench_site  # noqa: E402


def plain_monitor(sources: Path, warehouse: Path, batch_size: int) -> dict[str, float]:
    """The monitor flow's work without Prefect; returns seconds per stage and counts.

    Mirrors flows/monitor.py and flows/tasks.py as of 2026-11-23 11:10 UTC (no watchlists):
    when the flow gains a step, add it here or the overhead is overstated.
    """
    from extractors.discover import discover_source, merge_candidates
    from extractors.events import ClusterSettings, cluster, event_merges
    from extractors.http import Fetcher
    from extractors.parallel import extract_pages
    from extractors.sources import load_sources
    from flows.digest import build_digest, render_markdown
    from flows.monitor import _chunks, _unique_articles, _unique_articles_of
    from flows.settings import get_settings
    from flows.tasks import _window_start, process_robots_cache
    from warehouse import load, queries

    timing: dict[str, float] = defaultdict(float)  # extract_* overlap fetch (other threads)

    def timed(name, fn, *args):
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            timing[name] += time.perf_counter() - started

    settings = get_settings()
    fetch_settings = settings.fetch_settings()
    configured = load_sources(sources)
    robots = process_robots_cache()
    run_id = str(uuid.uuid4())
    load.start_run(warehouse, run_id, parameters={"sources": str(sources)})
    started = datetime.now(UTC)
    load.upsert_sources(warehouse, configured)

    def discover(source):
        validators = load.load_validators(warehouse, [*source.feeds, *source.sitemaps])
        since = queries.last_success(warehouse, source.name)

        async def _run():
            async with Fetcher(fetch_settings, sources=[source], robots_cache=robots) as fetcher:
                return await discover_source(fetcher, source, since=since, validators=validators)

        found = asyncio.run(_run())
        load.record_fetches(warehouse, run_id, found.documents, raw=False)
        stored = queries.stored_canonical_urls(warehouse, [c.url for c in found.candidates])
        queries.failed_pages(warehouse, source.name)
        found.candidates = [c for c in found.candidates if c.url not in stored]
        return found

    def fetch(batch):
        async def _run():  # a first run: nothing fetched earlier to reuse, as in the flow
            async with Fetcher(fetch_settings, sources=configured, robots_cache=robots) as fetcher:
                return await fetcher.fetch_pages(batch)

        fetched = timed("fetch_http", asyncio.run, _run())
        timed("fetch_load", load.record_fetches, warehouse, run_id, fetched, True)
        return fetched

    def extract(pages):
        outcomes = timed("extract_pool", extract_pages, [p for p in pages if p.ok])
        timed("extract_load", load.record_extractions, warehouse, run_id, outcomes)
        return outcomes

    candidates, validators = [], {}
    for source in configured:
        found = timed("discover", discover, source)
        candidates.extend(found.candidates)
        validators.update(found.validators)
    candidates = merge_candidates(candidates)

    with ThreadPoolExecutor(max_workers=4) as pool:
        extracting = []
        for batch in _chunks(candidates, batch_size):
            pages = timed("fetch", fetch, batch)
            extracting.append(pool.submit(timed, "extract", extract, pages))
        outcomes = [o for f in extracting for o in f.result()]
    articles = _unique_articles(outcomes)
    to_cluster = _unique_articles_of([*articles, *queries.unclustered_articles(warehouse)])

    def cluster_and_load():
        window = queries.articles_in_window(
            warehouse, _window_start(to_cluster, settings.cluster_window_days))
        by_id = {a.id: a for a in window}
        for article in to_cluster:
            by_id.setdefault(article.id, article)
        ordered = sorted(by_id.values(), key=lambda a: a.id)
        result = cluster(ordered, ClusterSettings(window_days=settings.cluster_window_days))
        window_ids = [a.id for a in ordered]
        before = queries.event_of_articles(warehouse, window_ids)
        after = {m.article_id: m.event_id for m in result.memberships}
        load.replace_clusters(warehouse, run_id, result, window_ids, event_merges(before, after))
        return result

    timed("cluster", cluster_and_load)
    load.record_validators(warehouse, validators)
    load.mark_source_success(warehouse, [s.name for s in configured], started)
    queries.top_events(warehouse, limit=10)
    queries.run_failures(warehouse, run_id)
    render_markdown(build_digest(warehouse))
    load.finish_run(warehouse, run_id, "completed", {"articles_new": len(articles)})
    timing["articles"] = len(articles)
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
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args()

    with bench_site(args.pages, args.hosts) as (site, tmp, sources, _prefect_start):
        from extractors.parallel import _get_pool, worker_count
        from flows.monitor import monitor

        list(_get_pool().map(abs, range(worker_count())))  # start the workers

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
    print(f"pages: {len(site.urls)}")
    print(f"batch_size: {args.batch_size}")
    print(f"rounds: {args.rounds}")
    print(f"prefect_articles: {prefect_articles}")
    print(f"plain_articles: {int(stages['articles'])}")
    for name in ("discover", "fetch", "fetch_http", "fetch_load", "extract", "extract_pool",
                 "extract_load", "cluster"):
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
