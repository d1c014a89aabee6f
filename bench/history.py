"""A year of history: the daily run costs what today's news costs (issue #32).

    .venv/bin/python -m bench.history [--articles 1000500] [--days 365] [--pages 300]
                                      [--rounds 2] [--cache DIR] [--rebuild] [--smoke]

Builds (once, cached: bench/_history.py) a synthetic year of monitoring: about a million
articles in ~350k events, 45 days of raw pages, the cluster index, the ledger. Then serves
the day after it from a local server (the same hosts, `--pages` new articles in the demo
outlets' templates: new events, late reports of yesterday's, follow-ups, copies; each host's
news sitemap lists yesterday's stored articles and today's) and runs `newsmon run` on it
twice per round, as a user would (CLI, Prefect's ephemeral API): into an empty warehouse and
into a copy of the year. Printed per stage (the `runs` table's stage seconds) with the ratio
full / empty, and for the full copy: `alerts --evaluate` (first, then with nothing new),
`export --format parquet` (first, then again), `prune --keep-raw-days 30`, and the growth of
the warehouse (file, log and raw pages) against what the same run stores into an empty one.

Targets (issue #32): run <= 1.3x, cluster stage <= 1.5x, `alerts --evaluate` with nothing
new <= 3 s, growth per run <= 2x the bytes the run stores. `--smoke` (CI): a 30-day history
of 3,000 articles and 20 new pages, seconds; targets not checked.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._child import ChildServer  # noqa: E402
from bench._smoke import add_smoke_flag, smoke_requested  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RULES = """
[[rule]]
name = "okafor"
actors_any = ["Jane Okafor"]

[[rule]]
name = "lisbon"
places_any = ["Lisbon"]
min_sources = 2

[[rule]]
name = "big"
min_sources = 5
"""


def _serve(pages, ports, stop) -> None:
    from demosite.server import DemoSite

    with DemoSite(pages=pages) as site:
        ports.put(site.port)
        stop.wait()


class Site(ChildServer):
    """Today's pages served from a child process."""

    def __init__(self, pages) -> None:
        super().__init__(_serve, (pages,), "the site", 120)


def newsmon(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"newsmon {args[0]} failed ({done.returncode})")
    return wall, done


def stage_seconds(db: Path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT counts, epoch(finished_at) - epoch(started_at) FROM runs "
                          "WHERE run_id NOT LIKE 'history-%' ORDER BY started_at DESC "
                          "LIMIT 1").fetchall()[0]
    finally:
        con.close()
    stages = json.loads(row[0]).get("stage_seconds", {})
    return {**stages, "flow": row[1]}


def copy_warehouse(source: Path, target: Path) -> None:
    from warehouse.raw_store import raw_dir

    for stale in (target, target.with_name(target.name + ".wal"), raw_dir(target)):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    if source.exists():
        subprocess.run(["cp", "--reflink=auto", str(source), str(target)], check=True)
        if raw_dir(source).is_dir():
            subprocess.run(["cp", "-r", "--reflink=auto", str(raw_dir(source)),
                            str(raw_dir(target))], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--raw-days", type=int, default=45)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None,
                        help="where built histories are kept (default: a temp folder)")
    parser.add_argument("--rebuild", action="store_true")
    add_smoke_flag(parser)
    args = parser.parse_args()
    from bench._history import Params, build, sources_toml, today_site
    from flows.settings import format_resolve
    from warehouse.db import open_writer
    from warehouse.maintenance import warehouse_bytes

    smoke = smoke_requested(args)
    if smoke:
        params = Params(articles=3000, days=30, raw_days=10, hosts=4, pages=20)
        rounds = 1
    else:
        params = Params(args.articles, args.days, args.raw_days, args.hosts, args.pages)
        rounds = args.rounds
    cache = args.cache or Path(os.environ.get(
        "NEWSMON_BENCH_CACHE", Path(tempfile.gettempdir()) / "newsmon-bench-history"))
    folder = cache / params.key()
    history = folder / "warehouse.duckdb"
    print(f"load_avg_1m_before: {os.getloadavg()[0]:.2f}")
    print(f"history: {params}")
    if args.rebuild or not (folder / "world.pkl").exists():
        started = time.perf_counter()
        build(params, folder, date.today(), progress=lambda m: print(m, flush=True))
        print(f"history_build_s: {time.perf_counter() - started:.0f}")
    with open_writer(history):  # a history cached by an older schema: migrated once, here
        pass
    print(f"history_bytes: {warehouse_bytes(history)}")
    # The full warehouse's sitemaps also list yesterday's stored articles (already seen);
    # the empty one's list only today's, so both runs fetch the same new pages.
    pages, fresh = today_site(params, folder)
    empty_pages, _ = today_site(params, folder, stored_listed=False)
    print(f"new_pages: {len(fresh)}")
    hosts = sorted({h for h, _ in pages})
    results: dict[str, list[dict]] = {"empty": [], "full": []}
    extras: dict[str, float] = {}
    with (tempfile.TemporaryDirectory(prefix="newsmon-history-") as tmp_dir, Site(pages) as site,
          Site(empty_pages) as empty_site):
        tmp = Path(tmp_dir)
        sources = tmp / "sources.toml"
        sources.write_text(sources_toml(params), encoding="utf-8")
        rules = tmp / "watchlists.toml"
        rules.write_text(RULES, encoding="utf-8")
        env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_LOGGING_LEVEL": "WARNING",
               "NEWSMON_RESOLVE": format_resolve({h: f"127.0.0.1:{site.port}" for h in hosts})}
        env.pop("PREFECT_API_URL", None)
        envs = {"full": env, "empty": {**env, "NEWSMON_RESOLVE": format_resolve(
            {h: f"127.0.0.1:{empty_site.port}" for h in hosts})}}
        # Warm-up (not measured): Prefect's database, the extraction pool, file caches.
        newsmon(["run", "--sources", str(sources), "--db", str(tmp / "warm.duckdb")], envs["empty"])
        # An empty warehouse as a run finds it: the schema only (its fixed size is not what
        # the run stores).
        with open_writer(tmp / "empty-schema.duckdb"):
            pass
        empty_schema = warehouse_bytes(tmp / "empty-schema.duckdb")
        for round_no in range(1, rounds + 1):
            for kind in ("empty", "full"):
                db = tmp / f"{kind}.duckdb"
                copy_warehouse(history if kind == "full" else tmp / "none", db)
                before = warehouse_bytes(db) if db.exists() else empty_schema
                wall, _ = newsmon(["run", "--sources", str(sources), "--db", str(db)], envs[kind])
                stages = stage_seconds(db)
                grown = warehouse_bytes(db) - before
                results[kind].append({"wall": wall, "grown": grown, **stages})
                print(f"round{round_no}_{kind}_run_s: {wall:.1f} "
                      f"(stages {json.dumps({k: round(v, 1) for k, v in stages.items()})}, "
                      f"load {os.getloadavg()[0]:.2f})", flush=True)
                if round_no == 1:
                    for name, command in (
                        ("alerts_evaluate_first", ["alerts", "--evaluate", "--watchlists",
                                                   str(rules)]),
                        ("alerts_evaluate_nothing_new", ["alerts", "--evaluate",
                                                         "--watchlists", str(rules)]),
                        ("export_first", ["export", "--format", "parquet", "--out",
                                          str(tmp / f"export-{kind}")]),
                        ("export_again", ["export", "--format", "parquet", "--out",
                                          str(tmp / f"export-{kind}")]),
                        ("prune_30_days", ["prune", "--keep-raw-days", "30", "--yes"]),
                    ):
                        seconds, _ = newsmon([*command, "--db", str(db)], envs[kind])
                        extras[f"{kind}_{name}_s"] = seconds
                        print(f"{kind}_{name}_s: {seconds:.1f}", flush=True)
    best = {kind: {k: min(r[k] for r in rows) for k in rows[0]} for kind, rows in
            results.items()}
    print(f"load_avg_1m_after: {os.getloadavg()[0]:.2f}")
    for stage in ("wall", "flow", "fetch", "cluster", "watch", "report"):
        if stage in best["empty"] and stage in best["full"]:
            e, f = best["empty"][stage], best["full"][stage]
            print(f"{stage}_empty_s: {e:.2f}")
            print(f"{stage}_full_s: {f:.2f}")
            print(f"{stage}_ratio: {f / e:.2f}" if e > 0 else f"{stage}_ratio: n/a")
    stored = best["empty"]["grown"]
    print(f"bytes_stored_by_the_run: {stored}")
    print(f"growth_full_bytes: {best['full']['grown']}")
    print(f"growth_ratio: {best['full']['grown'] / stored:.2f}")
    for name, seconds in extras.items():
        print(f"{name}: {seconds:.2f}")
    if not smoke:
        ok = (best["full"]["wall"] <= 1.3 * best["empty"]["wall"]
              and best["full"]["cluster"] <= 1.5 * max(best["empty"]["cluster"], 1e-9)
              and extras.get("full_alerts_evaluate_nothing_new_s", 99) <= 3
              and best["full"]["grown"] <= 2 * stored)
        print(f"targets_met: {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
