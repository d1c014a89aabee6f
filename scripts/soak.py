"""Soak test: many consecutive monitor runs against the faulty demo site, in one process.

    .venv/bin/python scripts/soak.py                 # 20 runs into one warehouse
    .venv/bin/python scripts/soak.py --runs 50 --fresh --seed 3

Prints, per run: wall time, resident memory (RSS, from /proc), the run's counts and the
warehouse consistency checks; exits 1 if any check failed. Not part of CI (minutes, not
seconds); see docs/reliability.md. The faults are tests.test_chaos.Chaos, with new seeded
decisions every run. `--fresh` gives every run an empty warehouse so each one does the full
fetch/extract/cluster work (the memory question); the default keeps one warehouse, so later
runs are the steady state (conditional GETs, retries of earlier failures) and the
consistency checks cover the whole history.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("NEWSMON_MIN_DELAY_PER_HOST_S", "0.05")

import duckdb  # noqa: E402

CHECKS = {
    "articles unique": "SELECT count(*) = count(DISTINCT id) AND count(*) = "
                       "count(DISTINCT canonical_url) FROM articles",
    "one event per article": "SELECT count(*) = count(DISTINCT article_id) FROM event_articles",
    "no orphan members": "SELECT count(*) = 0 FROM event_articles "
                         "WHERE article_id NOT IN (SELECT id FROM articles)",
    "no run left running": "SELECT count(*) = 0 FROM runs WHERE status <> 'completed'",
    "failures carry an error": "SELECT count(*) = 0 FROM fetch_log "
                               "WHERE error_class IS NOT NULL AND coalesce(error, '') = ''",
}


def rss_mib() -> float:
    """Current resident set size of this process (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def check(db: Path, served: set[str]) -> dict[str, bool]:
    """The consistency checks, plus: every article page ever served is stored."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {name: bool(con.execute(q).fetchall()[0][0]) for name, q in CHECKS.items()}
        stored = {r[0] for r in con.execute("SELECT canonical_url FROM articles").fetchall()}
    finally:
        con.close()
    out["every served article stored"] = served <= stored
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=53)
    parser.add_argument("--fresh", action="store_true", help="an empty warehouse every run")
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    from demosite.server import DemoSite
    from flows.monitor import monitor
    from flows.settings import format_resolve
    from tests.test_chaos import Chaos

    sources = ROOT / "demosite" / "sources.toml"
    chaos = Chaos(seed=args.seed)
    failed = total_faults = total_requests = 0
    with TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=60), \
            DemoSite(fault=chaos) as site:
        os.environ["NEWSMON_RESOLVE"] = format_resolve(site.resolve_map)
        print(f"{'run':>3} {'secs':>5} {'rss MiB':>8} {'faults':>6} {'new':>4} {'fail':>4} "
              f"{'articles':>8}  checks", flush=True)
        for run in range(1, args.runs + 1):
            db = Path(tmp) / (f"run{run}.duckdb" if args.fresh else "newsmon.duckdb")
            if args.fresh:
                chaos.log.clear()  # "served" is per warehouse
            chaos.run = run
            started = time.monotonic()
            summary = monitor(sources=str(sources), warehouse=str(db))
            secs = time.monotonic() - started
            total_faults += len(chaos.faulted(run))
            total_requests += sum(entry[0] == run for entry in chaos.log)
            results = check(db, chaos.served())
            bad = [name for name, ok in results.items() if not ok]
            failed += bool(bad)
            con = duckdb.connect(str(db), read_only=True)
            n_articles = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
            con.close()
            print(f"{run:>3} {secs:>5.1f} {rss_mib():>8.0f} {len(chaos.faulted(run)):>6} "
                  f"{summary.articles_new:>4} {summary.fetch_failures:>4} {n_articles:>8}  "
                  f"{'ok' if not bad else 'FAILED: ' + ', '.join(bad)}", flush=True)
    print(f"{args.runs} runs, {failed} with failed checks; {total_faults} faults injected "
          f"in {total_requests} requests (robots.txt not counted)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
