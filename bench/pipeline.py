"""Pipeline throughput: the whole monitor flow vs a bare httpx + trafilatura loop, same run.

    .venv/bin/python -m bench.pipeline [--pages 2000] [--hosts 16] [--batch-size 50]
                                       [--html news|demo]

N pages are served from a child process on 127.0.0.1 under 16 bench hosts, each with a news
sitemap (bench/_site.py). `--html news` (default): copies of 181 real news pages from 126 sites
(median 115 KB; needs ../shared/data). `--html demo`: copies of the demo's small article pages
(5 KB each, so per-page overheads weigh far more than parsing). Every copy carries a numbered
sentence, so content hashes differ. Then, in this order:

(a) newsmon: `flows.monitor.monitor` into a fresh DuckDB warehouse: discovery through the
    sitemaps, fetch batches (robots.txt obeyed, no per-host delay), extraction in the spawn
    process pool, deduplication and clustering, every load. The Prefect ephemeral API is
    started by a warm-up flow first (a one-off cost of any Prefect process, printed apart);
    the process pool's start-up is part of the measured run.
(b) bare: one process, one keep-alive `httpx.Client`, `get` then `trafilatura.extract` page by
    page over the same URLs (no discovery, no storage, no clustering).

Prints `name: value` lines; the target is ratio (newsmon pages/s over bare pages/s) >= 1.3
(issue #31). Per-stage time comes from the flow's task runs (read back from the Prefect API).
CPU per page (bench/_cpu.py): `cpu_ms_per_page_<process>` from the kernel's counters of the
flow process (this one), the extraction workers, Prefect's API server and the bench site's
server, read before and after the run; `flow_cpu_ms_per_page_<stage>` from thread CPU
clocks around the flow process's stages, each stage its own time (a stage called within
another is taken out of it: they add up; `embed`: the sentence vectors of two-language
candidates, inside the cluster write; since #31's round 4 a worker makes them and the
features of `cluster`, so these lines hold only the flow's share of those calls),
`..._thread_<name>` the other threads' own clocks
(Prefect's event loops and heartbeats, this benchmark's watcher), `untimed` the rest
(Prefect's engine and the flow's bookkeeping in the threads that run stages);
`cpu_ms_per_page_bare_loop`: the bare loop's own thread. Load averages (1, 5, 15 min) before
newsmon, between the two and after: compare runs only where they are alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._cpu import (  # noqa: E402
    ROLES,
    cpu_delta,
    load_avg,
    ms_per_page,
    process_cpu,
    timed_stages,
    worker_start_up,
)
from bench._site import HTML_KINDS, missing_pages_message  # noqa: E402
from bench._smoke import add_smoke_flag, smoke_requested  # noqa: E402


def configure_env(resolve: str, tmp: Path) -> None:
    """Prefect quiet and local; newsmon routed to the bench site, no politeness delay."""
    os.environ.update({
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "NEWSMON_RESOLVE": resolve,
        "NEWSMON_MIN_DELAY_PER_HOST_S": "0",
    })


def warm_up_prefect() -> float:
    """Start the ephemeral Prefect API with a trivial flow; returns the seconds it took."""
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> int:
        return 1

    started = time.perf_counter()
    warm_up()
    return time.perf_counter() - started


def stage_seconds(flow_run_id, wait_s: float = 15.0) -> dict[str, float]:
    """Summed run time of the flow's task runs by task (fetch-batch, extract-batch, ...)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flt = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    deadline = time.monotonic() + wait_s
    with get_client(sync_client=True) as client:
        while True:
            runs, offset = [], 0
            while batch := client.read_task_runs(flow_run_filter=flt, limit=200, offset=offset):
                runs.extend(batch)
                offset += len(batch)
            done = [r for r in runs if r.end_time is not None and r.start_time is not None]
            if (runs and len(done) == len(runs)) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    totals: dict[str, float] = defaultdict(float)
    for run in done:
        totals[run.name.rsplit("-", 1)[0]] += (run.end_time - run.start_time).total_seconds()
    return dict(totals)


def run_newsmon(sources: Path, warehouse: Path, batch_size: int):
    """The monitor flow; (summary, wall seconds, flow run id)."""
    from flows.monitor import monitor

    started = time.perf_counter()
    state = monitor(sources=str(sources), warehouse=str(warehouse), batch_size=batch_size,
                    return_state=True)
    elapsed = time.perf_counter() - started
    return state.result(), elapsed, state.state_details.flow_run_id


def run_bare(port: int, urls: list[tuple[str, str]]) -> tuple[int, float, float]:
    """httpx get + trafilatura.extract, one page after the other; (pages with text, seconds,
    CPU seconds of the loop's thread)."""
    import httpx
    import trafilatura

    extracted = 0
    started, cpu_started = time.perf_counter(), time.thread_time()
    with httpx.Client(timeout=30) as client:
        for host, path in urls:
            resp = client.get(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
            text = trafilatura.extract(resp.text, url=f"http://{host}{path}")
            extracted += bool(text)
    return extracted, time.perf_counter() - started, time.thread_time() - cpu_started


@contextmanager
def bench_site(
    pages: int, hosts: int, html: str = "news"
) -> Iterator[tuple[object, Path, Path, float]]:
    """Serve the bench pages, point newsmon at them: (site, temp dir, sources.toml, Prefect
    start-up seconds). Shared by the benchmarks so they measure the same set-up."""
    from bench._site import serve
    from flows.settings import format_resolve

    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp_dir, \
            serve(pages, hosts, html) as site:
        tmp = Path(tmp_dir)
        configure_env(format_resolve(site.resolve_map), tmp)
        sources = tmp / "sources.toml"
        sources.write_text(site.sources_toml, encoding="utf-8")
        yield site, tmp, sources, warm_up_prefect()


def add_site_options(parser: argparse.ArgumentParser, pages: int,
                     batch_size: int | None = None) -> None:
    """The bench site's options, shared by the benchmarks that serve it (see bench_site);
    the batch size defaults to newsmon's own (NEWSMON_BATCH_SIZE's default)."""
    from flows.settings import Settings

    batch_size = batch_size or Settings.model_fields["batch_size"].default
    parser.add_argument("--pages", type=int, default=pages)
    parser.add_argument("--hosts", type=int, default=16, help="bench outlets (2 conns each)")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--html", choices=HTML_KINDS, default="news",
                        help="real news pages (needs ../shared/data) or the demo's small pages")


def parse_site_args(parser: argparse.ArgumentParser, pages: int, smoke_pages: int,
                    batch_size: int | None = None) -> argparse.Namespace | None:
    """The bench-site options and --smoke, parsed; None (after saying why) when the pages
    these options ask for are absent. Smoke: `smoke_pages` demo pages on 4 hosts."""
    add_site_options(parser, pages, batch_size)
    add_smoke_flag(parser)
    args = parser.parse_args()
    args.smoke = smoke_requested(args)
    if args.smoke:
        args.pages, args.hosts, args.html = smoke_pages, 4, "demo"
    if skip := missing_pages_message(args.html):
        print(skip)
        return None
    return args


def embedded_texts() -> int:
    """Texts the flow process gave the sentence model (its memo holds each once)."""
    from extractors.content import embedding

    return len(embedding._memo)


def print_cpu(cpu: dict[str, float], flow_stages: dict[str, float], pages: int,
              bare_cpu: float, bare_server: float, start_up: dict[str, float]) -> None:
    """CPU ms per page by process and by stage of the flow process, next to the bare loop's
    (its own thread; the bench site's server apart, as for newsmon). The workers' start-up
    (imports, sample page) is in `cpu_ms_per_page_workers` and also printed apart."""
    for role in ROLES:
        print(f"cpu_ms_per_page_{role}: {ms_per_page(cpu[role], pages):.1f}")
    print(f"workers_start_up_cpu_s: {start_up['start_up_s']:.1f}"
          f"  ({start_up['workers_started']:.0f} workers started in the run)")
    print("cpu_ms_per_page_workers_after_start_up: "
          f"{ms_per_page(cpu['workers'] - start_up['start_up_s'], pages):.1f}")
    newsmon_total = cpu["flow"] + cpu["workers"] + cpu["prefect_api"]
    print(f"cpu_ms_per_page_newsmon_total: {ms_per_page(newsmon_total, pages):.1f}"
          "  (flow + workers + prefect_api)")
    for name, seconds in sorted(flow_stages.items()):
        print(f"flow_cpu_ms_per_page_{name}: {ms_per_page(seconds, pages):.2f}")
    untimed = cpu["flow"] - sum(flow_stages.values())
    print(f"flow_cpu_ms_per_page_untimed: {ms_per_page(untimed, pages):.2f}"
          "  (Prefect's engine and the flow's bookkeeping in the threads that run stages)")
    print(f"cpu_ms_per_page_bare_loop: {ms_per_page(bare_cpu, pages):.1f}")
    print(f"cpu_ms_per_page_bare_site_server: {ms_per_page(bare_server, pages):.1f}")


def main() -> None:
    args = parse_site_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]),
                           pages=2000, smoke_pages=40)
    if args is None:
        return

    from extractors.content.parallel import worker_count

    load_before = load_avg()
    with bench_site(args.pages, args.hosts, args.html) as (site, tmp, sources, prefect_start):
        cpu_before = process_cpu()
        # the watcher outside the stage clocks: its thread is read while it still runs
        with worker_start_up() as start_up, timed_stages() as flow_stages:
            summary, newsmon_s, flow_run_id = run_newsmon(sources, tmp / "bench.duckdb",
                                                          args.batch_size)
        cpu = cpu_delta(cpu_before, process_cpu())
        stages = stage_seconds(flow_run_id)
        newsmon_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        load_between = load_avg()
        bare_server_before = process_cpu()
        bare_ok, bare_s, bare_cpu = run_bare(site.port, site.urls)
        bare_server = cpu_delta(bare_server_before, process_cpu())["site_server"]
    load_after = load_avg()

    n = len(site.urls)
    newsmon_rate = n / newsmon_s
    bare_rate = n / bare_s
    print(f"cores: {worker_count()}")
    print(f"load_avg_before: {load_before}")
    print(f"load_avg_between: {load_between}")
    print(f"load_avg_after: {load_after}")
    print(f"html: {args.html}")
    print(f"pages: {n}")
    print(f"hosts: {len(site.hosts)}")
    print(f"batch_size: {args.batch_size}")
    print(f"prefect_startup_s: {prefect_start:.1f}")
    print(f"newsmon_s: {newsmon_s:.1f}")
    print(f"newsmon_candidates: {summary.candidates}")
    print(f"newsmon_pages_fetched: {summary.pages_fetched}")
    print(f"newsmon_articles_new: {summary.articles_new}")
    print(f"newsmon_duplicates: {summary.duplicates}")
    print(f"newsmon_events: {summary.events}")
    for name, seconds in sorted(stages.items()):
        print(f"stage_{name.replace('-', '_')}_task_s: {seconds:.1f}")
    print(f"newsmon_texts_embedded: {embedded_texts()}")
    print(f"newsmon_peak_rss_mib: {newsmon_rss:.0f}")  # the flow process (not the pool workers)
    print_cpu(cpu, flow_stages, n, bare_cpu, bare_server, start_up)
    print(f"bare_s: {bare_s:.1f}")
    print(f"bare_pages_with_text: {bare_ok}")
    print(f"newsmon pages/s: {newsmon_rate:.1f}")
    print(f"bare pages/s: {bare_rate:.1f}")
    print(f"ratio: {newsmon_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
