"""`newsmon` command line: a thin layer over the flow, the extractors and the warehouse."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="newsmon: scheduled news monitoring into DuckDB.")
console = Console()
err = Console(stderr=True)

EXIT_RUN_IN_PROGRESS = 75  # EX_TEMPFAIL: another run holds the warehouse; try again later

DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB warehouse (default: $NEWSMON_WAREHOUSE "
                              "or data/newsmon.duckdb)")
]


def _quiet_prefect() -> None:
    """Local runs: no telemetry, and an ephemeral Prefect API unless the user set one."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The ephemeral server needs ~10 s on an idle 2-core machine; allow for a busy one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _db_path(db: Path | None) -> Path:
    from flows.settings import get_settings

    return db if db is not None else get_settings().warehouse_path


@app.command()
def run(
    sources: Annotated[Path, typer.Option("--sources", help="sources.toml")] = Path("sources.toml"),
    db: DbOption = None,
    since: Annotated[
        datetime | None,
        typer.Option("--since", help="Backfill bound: leave out entries dated before this "
                     "(later runs still fetch them)"),
    ] = None,
    watchlists: Annotated[
        Path | None, typer.Option("--watchlists", help="watchlists.toml to evaluate")
    ] = None,
    task_runner: Annotated[
        str | None, typer.Option("--task-runner", help="thread (default) or dask")
    ] = None,
) -> None:
    """One monitor run (Prefect's local mode; no server needed)."""
    _quiet_prefect()
    from flows.monitor import monitor
    from flows.runners import with_task_runner
    from warehouse.db import RunInProgress

    flow = with_task_runner(monitor, task_runner) if task_runner else monitor  # type: ignore[arg-type]
    try:
        summary = flow(sources=str(sources), warehouse=str(_db_path(db)), since=since,
                       watchlists=str(watchlists) if watchlists else None)
    except RunInProgress as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_RUN_IN_PROGRESS) from exc
    _print_summary(summary, _db_path(db))


@app.command()
def demo(
    db: DbOption = None,
) -> None:
    """Serve the bundled demo news site on 127.0.0.1 and run the monitor against it."""
    _quiet_prefect()
    from demosite.server import DemoSite
    from flows.settings import format_resolve

    path = _db_path(db)
    sources = Path(__file__).resolve().parent.parent / "demosite" / "sources.toml"
    # The demo site is ours and local: light spacing keeps the demo quick.
    os.environ.setdefault("NEWSMON_MIN_DELAY_PER_HOST_S", "0.05")
    with DemoSite() as site:
        os.environ["NEWSMON_RESOLVE"] = format_resolve(site.resolve_map)
        console.print(f"demo news site: {len(site.hosts)} outlets on 127.0.0.1:{site.port}")
        from flows.monitor import monitor

        summary = monitor(sources=str(sources), warehouse=str(path))
    _print_summary(summary, path)


def _print_summary(summary, db: Path) -> None:
    console.print(
        f"[bold]newsmon run {summary.run_id}[/bold]\n"
        f"  sources: {summary.sources}   entries: {summary.entries}   "
        f"to fetch: {summary.candidates} ({summary.updates} updated, {summary.retries} "
        f"retries)   pages fetched: {summary.pages_fetched} ({summary.fetch_failures} failed)\n"
        f"  articles stored: {summary.articles_new}   updated: {summary.articles_updated}   "
        f"skipped: {summary.skipped}   extraction failures: {summary.failed}\n"
        f"  duplicates collapsed: {summary.duplicates}   events: {summary.events}   "
        f"alerts: {summary.alerts}"
    )
    if summary.before_since:
        console.print(f"  {summary.before_since} entries dated before --since were left out; "
                      "the next run without --since fetches them")
    for warning in summary.overflows:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if summary.coverage:
        _print_coverage(summary.coverage)
    if summary.top_events:
        table = Table(title="Top events", show_lines=False)
        for col in ("headline", "event_date", "n_articles", "n_sources"):
            table.add_column(col)
        for ev in summary.top_events[:8]:
            table.add_row(str(ev.get("headline", ""))[:70], str(ev.get("event_date", "")),
                          str(ev.get("n_articles", "")), str(ev.get("n_sources", "")))
        console.print(table)
    console.print(
        "Try:\n"
        f"  newsmon sql \"SELECT headline, n_articles, n_sources FROM events "
        f"ORDER BY n_sources DESC LIMIT 5\" --db {db}\n"
        f"  newsmon sql \"SELECT source, count(*) AS articles FROM articles GROUP BY source\" "
        f"--db {db}"
    )


COVERAGE_COLUMNS = ("day", "source", "seen", "stored", "failed", "skipped", "pending_retry",
                    "not_fetched", "overflow_warnings")


def _print_coverage(rows: list[dict]) -> None:
    """The coverage ledger rows the run touched, with the reasons behind failures and skips."""
    table = Table(title="Coverage ledger (entries by the day first seen)")
    for column in COVERAGE_COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in COVERAGE_COLUMNS))
    console.print(table)
    for row in rows:
        for kind in ("failed", "skipped", "pending"):
            reasons = row.get(f"{kind}_by_reason") or {}
            if reasons:
                said = ", ".join(f"{reason} x{n}" for reason, n in sorted(reasons.items()))
                console.print(f"  {row['source']} {row['day']}: {kind}: {said}")


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="A read-only SQL query")] = None,
    db: DbOption = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format")] = (
        OutputFormat.table
    ),
    output: Annotated[Path | None, typer.Option("--output", help="Write to this file")] = None,
) -> None:
    """Run a read-only query on the warehouse (writes are refused) and print or save it."""
    from warehouse.queries import run_readonly_sql

    path = _db_path(db)
    if query is None:
        _print_shell_tip(path)
        return
    if format is OutputFormat.parquet and output is None:
        err.print("[red]error:[/red] --format parquet needs --output FILE")
        raise typer.Exit(2)
    try:
        columns, rows = run_readonly_sql(path, query)
    except Exception as exc:  # read-only refusals, bad SQL, unknown tables, a busy file
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _write_result(columns, rows, format, output)


def _cell(value: object) -> str:
    """A query result value as text: NULL prints as an empty cell."""
    return "" if value is None else str(value)


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _write_result(columns: list[str], rows: list[tuple], fmt: OutputFormat,
                  output: Path | None) -> None:
    import csv
    import io
    import json

    if fmt is OutputFormat.parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows]),
                       str(output))
        return
    if fmt is OutputFormat.table and output is None:
        _print_table(columns, rows)
        return
    buf = io.StringIO()
    if fmt is OutputFormat.csv:
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt is OutputFormat.json:
        for row in rows:
            buf.write(json.dumps(dict(zip(columns, row, strict=True)), default=str) + "\n")
    else:  # a table written to a file: tab-separated
        buf.write("\t".join(columns) + "\n")
        for row in rows:
            buf.write("\t".join(_cell(v) for v in row) + "\n")
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:
        output.write_text(buf.getvalue())


def _print_shell_tip(path: Path) -> None:
    """How to open the warehouse in DuckDB's own shell, and whether a 1.x shell can."""
    from warehouse.db import open_reader, readable_by_duckdb_1x, storage_version_of

    console.print(f"Open DuckDB's shell read-only:  duckdb -readonly {path}\n"
                  "(pip install duckdb-cli, or use `newsmon sql \"QUERY\"`)")
    if not path.exists():
        return
    with open_reader(path) as con:
        version = storage_version_of(con)
    if not readable_by_duckdb_1x(version):
        console.print(
            f"This warehouse is in DuckDB's {version} storage format, which DuckDB 1.x clients "
            f"cannot open. Convert it once with:\n"
            f"  newsmon convert --storage-version v1.5.0 --db {path}"
        )


@app.command()
def convert(
    storage_version: Annotated[str, typer.Option(
        "--storage-version", help="DuckDB storage format to rewrite the warehouse in "
        "(v1.5.0 opens in DuckDB 1.5.x clients; latest is DuckDB's newest)")] = "v1.5.0",
    db: DbOption = None,
) -> None:
    """Rewrite the warehouse in another DuckDB storage format (keeps the old file as .bak)."""
    from warehouse.db import WarehouseError, convert_storage

    path = _db_path(db)
    try:
        before, after, backup = convert_storage(path, storage_version)
    except WarehouseError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"{path}: storage {before} -> {after}; the old file is kept as {backup}")


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Directory for the Parquet files")],
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", help="Only parquet")] = "parquet",
) -> None:
    """Write one Parquet file per table (articles partitioned by day)."""
    from warehouse.maintenance import export_parquet

    if format != "parquet":
        err.print("[red]error:[/red] only --format parquet is supported")
        raise typer.Exit(2)
    for written in export_parquet(_db_path(db), out):
        console.print(str(written))


@app.command()
def prune(
    keep_raw_days: Annotated[int, typer.Option("--keep-raw-days", min=0,
                                               help="Keep raw HTML this many days")],
    db: DbOption = None,
) -> None:
    """Drop stored raw HTML older than N days; articles and events are never dropped."""
    from warehouse.maintenance import prune_raw

    console.print(f"dropped {prune_raw(_db_path(db), keep_raw_days)} raw pages")


@app.command()
def extract(
    inputs: Annotated[list[str], typer.Argument(help="HTML files (.gz too) or http(s) URLs")],
    url: Annotated[str | None, typer.Option("--url", help="Original URL of a single local "
                                            "file")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output JSONL (default stdout)")] = None,
) -> None:
    """Show exactly what newsmon makes of pages: one JSON line per input, in order."""
    from extractors.content.extract_cmd import run_extract
    from flows.settings import get_settings

    settings = get_settings()
    fetch_settings, extraction = settings.fetch_settings(), settings.extraction_settings()
    if out is None:
        code = run_extract(inputs, url, sys.stdout, fetch_settings, extraction)
    else:
        with out.open("w", encoding="utf-8") as fh:
            code = run_extract(inputs, url, fh, fetch_settings, extraction)
    raise typer.Exit(code)


@app.command()
def cluster(
    input: Annotated[Path, typer.Argument(help="JSONL corpus: id, title, text, [url, source, "
                                          "published, language]")],
    out: Annotated[Path | None, typer.Option("--out", help="Output JSONL (default stdout)")] = None,
) -> None:
    """Offline deduplication and event clustering of an article corpus (no fetching)."""
    from extractors.events.cluster_io import cluster_jsonl

    code = cluster_jsonl(str(input), str(out) if out else None)
    raise typer.Exit(code)


@app.command()
def digest(
    date_: Annotated[datetime | None, typer.Option("--date", help="Day (default: latest day "
                                                   "with articles)", formats=["%Y-%m-%d"])] = None,
    out: Annotated[Path | None, typer.Option("--out", help="HTML file (default "
                                             "digest-<day>.html)")] = None,
    db: DbOption = None,
) -> None:
    """Write the day's digest: top events by sources, their articles, charts; opens offline."""
    from reports.digest import digest_command

    raise typer.Exit(digest_command(_db_path(db), date_.date() if date_ else None, out))


@app.command()
def alerts(
    since: Annotated[datetime | None, typer.Option("--since", help="Only matches since")] = None,
    db: DbOption = None,
) -> None:
    """List recent watchlist matches, newest first."""
    from reports.watchlists import alerts_command

    rows = alerts_command(_db_path(db), since)
    if not rows:
        console.print("no alerts")
        return
    _print_table(list(rows[0].keys()), [tuple(row.values()) for row in rows])


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
