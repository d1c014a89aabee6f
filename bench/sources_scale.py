"""Run time against the number of sources: does a run grow with the work or with the list?

    .venv/bin/python -m bench.sources_scale [--sizes 10,100,1000] [--big] [--latency 0.2]
                                            [--entries 2] [--delay 1.0] [--smoke]

N outlets (demosite/outlets.py: robots.txt, one RSS feed of K entries, K article pages) are
served by one local server in a child process, every answer delayed by `--latency` like a
distant server. For each N, `newsmon run` (the CLI, Prefect's ephemeral API included, as a
user runs it) runs twice into a fresh warehouse: the first run finds N x K new pages, the
second finds nothing new (robots.txt cached, feeds answer 304). Printed per N:

- wall time of both runs (CLI start to exit) and the flow's own time (the `runs` table);
- the politeness lower bound from the same settings: the longest chain of one host's
  requests (robots.txt, feed, then K pages at least `--delay` apart, each `--latency` long),
  or the requests over the global bound on requests in flight, whichever is longer;
- the extraction time of the same pages alone (newsmon's process pool, no fetching), and the
  first run against (extraction + politeness bound): the target is within 1.3x;
- the peak RSS of the run's largest process (memory stays flat as N grows).

Then the growth exponent of the no-op run from the two largest sizes (log t2/t1 over log
N2/N1; target <= 0.3 from 100 to 1000) and of the first run. Prints `name: value` lines.
`--smoke` (or NEWSMON_BENCH_SMOKE=1): 3 outlets, no latency to speak of, seconds.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._child import ChildServer  # noqa: E402
from bench._smoke import add_smoke_flag, smoke_requested  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _serve(n: int, entries: int, latency: float, ports: multiprocessing.Queue, stop) -> None:
    from demosite.outlets import build_outlets
    from demosite.server import DemoSite

    def distant(handler, host: str, path: str) -> bool:
        time.sleep(latency)
        return False

    with DemoSite(pages=build_outlets(n, entries), fault=distant if latency else None) as site:
        ports.put(site.port)
        stop.wait()


class Outlets(ChildServer):
    """N outlets served from a child process (its threads do not compete with the run's)."""

    def __init__(self, n: int, entries: int, latency: float) -> None:
        super().__init__(_serve, (n, entries, latency), "the outlets server", 300)


def run_newsmon(sources: Path, db: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """One `newsmon run`: (wall seconds, peak RSS MiB of its largest process, exit code)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--sources", str(sources), "--db", str(db)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        print(proc.stderr.read().decode()[-3000:], file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def flow_seconds(db: Path) -> list[float]:
    """The flow's own time of each run (the `runs` table), oldest first."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT epoch(finished_at) - epoch(started_at) FROM runs "
                           "ORDER BY started_at").fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def extraction_alone(n: int, entries: int) -> float:
    """Seconds to extract the same pages with newsmon's process pool, nothing else."""
    from datetime import UTC, datetime

    from demosite.outlets import article_paths, build_outlets
    from extractors.content.parallel import extract_pages, start_workers
    from extractors.models import FetchResult

    pages = build_outlets(n, entries)
    results = [
        FetchResult(url=f"http://{host}{path}", source=host, final_url=f"http://{host}{path}",
                    status_code=200, content_type="text/html; charset=utf-8",
                    html=pages[(host, path)].body.decode("utf-8"),
                    fetched_at=datetime.now(UTC))
        for host, path in article_paths(pages)
    ]
    start_workers()  # pool start-up is not extraction
    started = time.perf_counter()
    for i in range(0, len(results), 50):  # the flow's batch size
        extract_pages(results[i : i + 50])
    return time.perf_counter() - started


def politeness_bound(n: int, requests_per_host: int, first_needs_robots: bool, latency: float,
                     delay: float, concurrency: int) -> float:
    """The least time the requests can take under the run's own rules (see the docstring)."""
    chain = latency  # the first request
    if first_needs_robots:
        chain += latency  # the feed follows robots.txt as soon as it is read
    chain += (requests_per_host - 1 - first_needs_robots) * max(delay, latency)
    overall = n * requests_per_host * latency / concurrency
    return max(chain, overall)


def exponent(sizes: list[int], times: list[float]) -> float:
    (n1, t1), (n2, t2) = list(zip(sizes, times, strict=True))[-2:]
    return math.log(t2 / t1) / math.log(n2 / n1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--big", action="store_true", help="also 5000 sources")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--entries", type=int, default=2)
    parser.add_argument("--delay", type=float, default=1.0, help="NEWSMON_MIN_DELAY_PER_HOST_S")
    add_smoke_flag(parser)
    args = parser.parse_args()
    smoke = smoke_requested(args)
    sizes = [3] if smoke else [int(s) for s in args.sizes.split(",")] + [5000] * args.big
    latency = 0.01 if smoke else args.latency
    entries = 1 if smoke else args.entries

    from extractors.fetch.http import FetchSettings
    from flows.settings import format_resolve

    concurrency = FetchSettings().global_concurrency
    print(f"load_avg_1m_before: {os.getloadavg()[0]:.2f}")
    print(f"latency_s: {latency}")
    print(f"entries_per_source: {entries}")
    print(f"min_delay_per_host_s: {args.delay}")
    print(f"global_concurrency: {concurrency}")
    first_walls, noop_walls, first_flows, noop_flows = [], [], [], []
    # One Prefect home for every run: its database is created once, as on a user's machine.
    prefect_home = tempfile.TemporaryDirectory(prefix="newsmon-scale-prefect-")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="newsmon-scale-") as tmp_dir, \
                Outlets(n, entries, latency) as outlets:
            from demosite.outlets import outlet_host, outlets_sources_toml

            tmp = Path(tmp_dir)
            sources = tmp / "sources.toml"
            sources.write_text(outlets_sources_toml(n), encoding="utf-8")
            resolve = {outlet_host(i): f"127.0.0.1:{outlets.port}" for i in range(n)}
            env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "PREFECT_HOME": prefect_home.name, "PREFECT_LOGGING_LEVEL": "WARNING",
                   "NEWSMON_RESOLVE": format_resolve(resolve),
                   "NEWSMON_MIN_DELAY_PER_HOST_S": str(args.delay)}
            env.pop("PREFECT_API_URL", None)
            db = tmp / "scale.duckdb"
            first_wall, first_rss, code1 = run_newsmon(sources, db, env)
            noop_wall, noop_rss, code2 = run_newsmon(sources, db, env)
            if code1 or code2:
                raise SystemExit(f"newsmon run failed for N={n}")
            first_flow, noop_flow = flow_seconds(db)
        extract_s = extraction_alone(n, entries)
        bound = politeness_bound(n, 2 + entries, True, latency, args.delay, concurrency)
        noop_bound = politeness_bound(n, 1, False, latency, args.delay, concurrency)
        first_walls.append(first_wall)
        noop_walls.append(noop_wall)
        first_flows.append(first_flow)
        noop_flows.append(noop_flow)
        print(f"n{n}_first_run_s: {first_wall:.1f}")
        print(f"n{n}_first_flow_s: {first_flow:.1f}")
        print(f"n{n}_first_politeness_bound_s: {bound:.1f}")
        print(f"n{n}_extraction_alone_s: {extract_s:.1f}")
        print(f"n{n}_first_flow_vs_extraction_plus_bound: {first_flow / (extract_s + bound):.2f}")
        print(f"n{n}_noop_run_s: {noop_wall:.1f}")
        print(f"n{n}_noop_flow_s: {noop_flow:.1f}")
        print(f"n{n}_noop_politeness_bound_s: {noop_bound:.1f}")
        print(f"n{n}_peak_rss_mib: {max(first_rss, noop_rss):.0f}")
    if len(sizes) >= 2:
        print(f"noop_run_growth_exponent: {exponent(sizes, noop_walls):.2f}")
        print(f"noop_flow_growth_exponent: {exponent(sizes, noop_flows):.2f}")
        print(f"first_flow_growth_exponent: {exponent(sizes, first_flows):.2f}")
    print(f"load_avg_1m_after: {os.getloadavg()[0]:.2f}")
    prefect_home.cleanup()


if __name__ == "__main__":
    main()
