"""Benchmark: the `source_health` view after a year of daily runs vs after 90 days.

The view reads only the runs of the last 90 days (warehouse/views.sql), so its cost should
follow recent runs, not all history: the year's warehouse is measured against the quarter's,
same sources, same publishing, in the same run. Each source publishes ~10 entries a day; each
daily run records one `source_runs` row per source through the loader the flow uses.

    .venv/bin/python -m bench.source_health [--sources 1000] [--smoke]

Prints `name: value` lines; target: ratio_year_vs_quarter <= 1.3.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import duckdb  # noqa: E402

from bench._smoke import add_smoke_flag, smoke_requested  # noqa: E402
from extractors.fetch.health import with_gaps  # noqa: E402
from extractors.models import Source, SourceOutcome  # noqa: E402
from warehouse import load, queries  # noqa: E402
from warehouse.db import open_writer  # noqa: E402

END = datetime(2026, 12, 1, 6, tzinfo=UTC)


def build(path: Path, n_sources: int, days: int, seed: int = 7) -> int:
    """`days` daily runs of `n_sources` sources ending at END; returns source_runs rows."""
    rng = random.Random(seed)
    names = [f"outlet-{i:04d}" for i in range(n_sources)]
    with open_writer(path) as con:
        load.upsert_sources(con, [Source(n) for n in names])
        for d in range(days):
            at = END - timedelta(days=days - 1 - d)
            latest = queries.latest_entry_times(con, names)  # as the flow stores them
            outcomes = []
            for name in names:
                failed = rng.random() < 0.02
                times = () if failed else tuple(sorted(
                    at - timedelta(hours=rng.uniform(0, 24)) for _ in range(rng.randint(5, 15))))
                outcomes.append(with_gaps(SourceOutcome(
                    name, "failed" if failed else "ok", reason="boom" if failed else None,
                    documents=2, documents_failed=2 if failed else 0,
                    document_errors={"HTTP 500": 2} if failed else {}, pages=len(times),
                    entries_seen=30, entry_times=times), latest.get(name)))
            load.record_source_outcomes(con, f"run-{d}", at, outcomes)
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM source_runs").fetchall()[0][0]
    finally:
        con.close()


def timed(path: Path, repeats: int, names: list[str] | None = None) -> tuple[float, int]:
    """Fastest of `repeats` reads of the view (every source, or `names`; the machine is
    shared: the fastest is the one least disturbed), and its rows."""
    times, rows = [], 0
    with open_writer(path) as con:  # as the flow reads it: inside the run's transaction
        for _ in range(repeats):
            started = time.perf_counter()
            rows = len(queries.source_health(con, names))
            times.append(time.perf_counter() - started)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=10)
    add_smoke_flag(parser)
    args = parser.parse_args()
    year, quarter = 365, 90
    if smoke_requested(args):
        args.sources, args.repeats, year, quarter = 20, 2, 120, 30
    print(f"cores: {os.cpu_count()}")
    print(f"load_avg_1m_at_start: {os.getloadavg()[0]:.1f}")
    print(f"duckdb: {duckdb.__version__}")
    print(f"sources: {args.sources}")
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, days in (("quarter", quarter), ("year", year)):
            path = Path(tmp) / f"{label}.duckdb"
            started = time.perf_counter()
            n_rows = build(path, args.sources, days)
            print(f"{label}_days: {days}")
            print(f"{label}_source_runs_rows: {n_rows}")
            print(f"{label}_build_s: {time.perf_counter() - started:.1f}")
            seconds, rows = timed(path, args.repeats)
            assert rows == args.sources, rows
            results[label] = seconds
            print(f"{label}_view_all_sources_ms: {seconds * 1000:.0f}")
    print(f"ratio_year_vs_quarter: {results['year'] / results['quarter']:.2f}")
    print(f"load_avg_1m_at_end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
