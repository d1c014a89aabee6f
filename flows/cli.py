"""`newsmon` command line: a thin layer over the flow, the extractors and the warehouse.

Everything a user can get wrong (settings, files, dates, paths) is checked before Prefect
starts and before anything is created, and reported in one or two plain lines on stderr with
exit code 2. Read commands never create a warehouse or a folder.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from extractors.timezones import naive_as_utc
from flows.cli_style import (
    EXIT_CODES,
    EXIT_OK,
    EXIT_RUN_IN_PROGRESS,
    EXIT_SOME_FAILED,
    EXIT_SOURCES_FAILED,
    EXIT_USAGE,
    RUN_CODES,
    DbOption,
    NewsmonGroup,
    NewsmonTyper,
    WatchlistsOption,
    WideOption,
    out_option,
    usage_notes,
)
from flows.output import (
    OutputFormat,
    TableColumn,
    phrase_lines,
    print_records,
    print_table,
    write_result,
)

if TYPE_CHECKING:
    from flows.monitor import RunSummary
    from flows.settings import Settings

app = NewsmonTyper(
    cls=NewsmonGroup, add_completion=False, no_args_is_help=True,
    # No local variables in tracebacks: they would print whatever a command held (a password).
    pretty_exceptions_show_locals=False,
    help="newsmon: scheduled news monitoring into DuckDB.",
    epilog=usage_notes(
        [("newsmon demo", "the bundled demo news site, monitored once"),
         ("newsmon init && newsmon run", "your own feeds (edit sources.toml in between)"),
         ("newsmon sql \"SELECT headline, n_sources FROM events\"", ""),
         ("newsmon COMMAND --help", "each command's options and examples")],
        codes=tuple(EXIT_CODES)),
)
console = Console(soft_wrap=True)  # a line breaks where the terminal folds it, never mid-phrase
err = Console(stderr=True, soft_wrap=True)

DEMO_SITE_PORT = 8765  # `newsmon demo-site`'s default, as in the README's Prefect section


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"newsmon {version('newsmon')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _newsmon(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Print newsmon's version and exit")] = False,
) -> None:
    """newsmon: scheduled news monitoring into DuckDB."""


# --- checks that run before any work ------------------------------------------------------


def fail(message: str, hint: str | None = None, code: int = EXIT_USAGE) -> NoReturn:
    """Stop with `error: message` (and an optional second line) on stderr."""
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
    if hint:
        err.print(escape(hint), soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def _settings() -> Settings:
    """The NEWSMON_* settings, or one line naming the variable that is wrong."""
    from pydantic import ValidationError

    from flows.settings import describe_settings_error, get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        fail(describe_settings_error(exc))


def _db_path(db: Path | None) -> Path:
    return db if db is not None else _settings().warehouse_path


def _existing_warehouse(db: Path | None) -> Path:
    """The warehouse a read command reads; it must exist (reads never create one)."""
    from warehouse.db import NotAWarehouse, WarehouseMissing, check_is_duckdb, require_warehouse

    try:
        path = require_warehouse(_db_path(db))
        check_is_duckdb(path)  # an image or a CSV given as --db: one line, not a traceback
    except (WarehouseMissing, NotAWarehouse) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read the warehouse {path}: {exc.strerror or exc}")
    return path


def _writable_warehouse(db: Path | None) -> Path:
    """Where a run writes: a file (or nothing yet) in a folder that exists or can be made."""
    from warehouse.db import NotAWarehouse, check_is_duckdb

    path = _db_path(db)
    if path.is_dir():
        fail(f"warehouse {path} is a folder; give a file such as {path / 'newsmon.duckdb'}")
    if path.is_file() and path.stat().st_size:  # an empty file is a warehouse not begun
        try:
            check_is_duckdb(path)
        except (NotAWarehouse, OSError) as exc:
            fail(str(exc) if isinstance(exc, NotAWarehouse) else f"cannot read {path}: {exc}")
    existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        fail(f"cannot create the warehouse {path}: {existing} is not a writable folder")
    return path


def _output_file(path: Path | None, option: str) -> Path | None:
    """A file a command will write: its folder must exist (nothing creates it)."""
    if path is None:
        return None
    if path.is_dir():
        fail(f"{option} {path} is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        fail(f"{option} {path}: the folder {folder} does not exist")
    return path


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time option; naive means UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} {value!r} is not a date: use ISO 8601, e.g. 2021-12-15 or "
             "2021-12-15T06:00 (UTC unless it has an offset such as +02:00)")
    return naive_as_utc(moment)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} {value!r} is not a day: use YYYY-MM-DD, e.g. 2021-12-15")


def _check_sources(sources: Path) -> None:
    from extractors.fetch.errors import SourcesConfigError
    from extractors.fetch.sources import load_sources

    try:
        load_sources(sources)
    except SourcesConfigError as exc:
        hint = None
        if not sources.exists():
            hint = "`newsmon init` writes a starter sources.toml here (the demo outlets)"
        fail(str(exc), hint)


def _check_watchlists(rules: Path | None) -> None:
    from reports.watchlists import WatchlistsConfigError, load_watchlists

    if rules is None:
        return
    try:
        load_watchlists(rules)
    except WatchlistsConfigError as exc:
        fail(str(exc))


def _quiet_prefect() -> None:
    """Local runs: no telemetry, and an ephemeral Prefect API unless the user set one."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The ephemeral server needs ~10 s on an idle 2-core machine; allow for a busy one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _check_prefect_api() -> None:
    """A PREFECT_API_URL (environment or Prefect profile) must answer before a run starts.

    Without one, Prefect runs the flow against a temporary local server; with one that is
    down, the run would end in a long traceback from deep inside Prefect.
    """
    import httpx

    url = os.environ.get("PREFECT_API_URL")
    if url is None:  # perhaps in the Prefect profile (`prefect config set PREFECT_API_URL=...`)
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
    if not url:
        return
    try:
        httpx.get(url.rstrip("/") + "/health", timeout=5.0)  # any answer: a server is there
    except httpx.HTTPError as exc:
        fail(f"no Prefect server answers at PREFECT_API_URL={url} ({type(exc).__name__})",
             "start it (`prefect server start`), or run without one: unset PREFECT_API_URL "
             "(and `prefect config unset PREFECT_API_URL` if you set it there)")


# --- running the flow ---------------------------------------------------------------------


@contextmanager
def _progress_display() -> Iterator[None]:
    """Show the run's progress: a bar on a terminal, else plain lines on stderr."""
    from flows.progress import STAGES, listening

    if not console.is_terminal:
        def log_line(stage: str, done: int, total: int) -> None:
            if done or not total:
                err.print(f"newsmon: {stage} {done}/{total} {STAGES.get(stage, '')}",
                          soft_wrap=True, highlight=False, markup=False)

        with listening(log_line):
            yield
        return

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bars = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), console=console)
    # Until the flow reports, Prefect is starting (its local server takes seconds).
    starting = bars.add_task("starting Prefect", total=None, unit="")
    shown: dict[str, int] = {}

    def draw(stage: str, done: int, total: int) -> None:
        if stage not in shown:
            if not shown:
                bars.update(starting, total=1, completed=1)
            shown[stage] = bars.add_task(stage, total=total, unit=STAGES.get(stage, ""))
        bars.update(shown[stage], completed=done, total=total)

    with bars, listening(draw):
        yield


VerboseOption = Annotated[bool, typer.Option(
    "--verbose", help="On a failure, show Prefect's log and the full traceback here (else "
    "they go to <warehouse>.log)")]


class _RecentRecords(logging.Handler):
    """The run's latest log records (warnings and errors, tracebacks included), kept in
    memory and written to a file only if the run fails: a run that succeeds leaves no log."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: deque[str] = deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a log line must never break the run
            self.handleError(record)

    def write(self, db: Path) -> Path | None:
        """The records into `<warehouse>.log` (appended), or a file in the temporary folder
        when the warehouse's folder takes no file (a full disk); None if neither does."""
        import tempfile

        for path in (db.with_name(db.name + ".log"),
                     Path(tempfile.gettempdir()) / f"newsmon-{os.getpid()}.log"):
            try:
                with path.open("a", encoding="utf-8") as fh:
                    fh.write("\n".join(self.lines) + "\n")
                return path
            except OSError:
                continue
        return None


class _QuietFailures(logging.Filter):
    """Keep Prefect's errors and tracebacks off the terminal: the CLI says what failed in one
    line, the log file has the rest. Warnings (a run waiting for another) still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        from_prefect = record.name.startswith("prefect")
        return not (record.exc_info or (from_prefect and record.levelno >= logging.ERROR))


@contextmanager
def _run_logging(verbose: bool) -> Iterator[tuple[logging.Logger, _RecentRecords]]:
    """The run's log records are also kept (_RecentRecords); unless `verbose`, the terminal
    shows no tracebacks (_QuietFailures). Yields the CLI's own logger and the records."""
    recent = _RecentRecords()
    root = logging.getLogger()
    quiet = _QuietFailures()
    consoles = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    root.addHandler(recent)
    if not verbose:
        for console_handler in consoles:
            console_handler.addFilter(quiet)
    logger = logging.getLogger("newsmon.cli")
    logger.propagate = False
    logger.addHandler(recent)
    try:
        yield logger, recent
    finally:
        logger.removeHandler(recent)
        root.removeHandler(recent)
        for console_handler in consoles:
            console_handler.removeFilter(quiet)


def _let_go(exc: BaseException) -> None:
    """Drop what the failure's frames still hold (open DuckDB connections among them): held
    until exit, DuckDB reports them as leaks, dozens of lines on stderr."""
    import gc
    import traceback

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__
    gc.collect()


def describe_failure(exc: BaseException) -> str:
    """One line saying what stopped a run (the warehouse's own words where they are clear)."""
    import duckdb

    text = " ".join(str(exc).split()) or type(exc).__name__
    lowered = text.lower()
    if "no space left" in lowered or getattr(exc, "errno", None) == 28:
        return f"the disk holding the warehouse is full: {text}"
    if "not a valid duckdb database file" in lowered or "corrupt" in lowered:
        return f"the warehouse file is damaged or not a DuckDB file: {text}"
    if isinstance(exc, duckdb.Error | OSError) and not text.startswith(type(exc).__name__):
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 400 else text[:399] + "…"


def _run_flow(flow, db: Path, verbose: bool = False, **parameters) -> RunSummary:
    """Run the monitor flow with a watchdog (nothing it starts survives it, even a SIGKILL:
    flows/watchdog.py); a failure is one line on stderr, its details in the log file."""
    from flows import watchdog
    from flows.monitor import SourcesFailed
    from warehouse.db import RunInProgress

    watchdog.start()
    with _run_logging(verbose) as (log, recent):
        try:
            with _progress_display():
                return flow(**parameters)
        except RunInProgress as exc:
            fail(str(exc), "newsmon sql and the other readers work meanwhile",
                 EXIT_RUN_IN_PROGRESS)
        except SourcesFailed as exc:  # the run is over and stored; its summary says what failed
            if exc.summary is None:
                raise
            return exc.summary
        except Exception as exc:
            log.error("the run failed", exc_info=exc)
            if verbose:
                raise
            _let_go(exc)
            written = recent.write(db)
            where = f"details: {written} (or run again with --verbose)" if written else \
                "run again with --verbose for the details"
            fail(describe_failure(exc), f"{where}; `newsmon sql \"SELECT run_id, status, "
                 "counts FROM runs\"` shows what each run committed", EXIT_SOME_FAILED)


def _exit_code(summary: RunSummary) -> int:
    """0 for a fully healthy run; see flows.cli_style.RUN_CODES."""
    return {"completed": EXIT_OK, "partial": EXIT_SOURCES_FAILED}.get(summary.status,
                                                                     EXIT_SOME_FAILED)


def _program() -> str:
    """How the user invoked newsmon (`.venv/bin/newsmon` stays that), for hints to copy."""
    invoked = sys.argv[0] if sys.argv else ""
    return shlex.quote(invoked) if Path(invoked).name == "newsmon" else "newsmon"


def _print_summary(summary: RunSummary, db: Path, default_db: Path) -> None:
    from reports.digest import build_digest

    console.print(f"[bold]newsmon run {summary.run_id}[/bold]", soft_wrap=True)
    phrases = [
        f"sources: {summary.sources}", f"entries: {summary.entries}",
        f"to fetch: {summary.candidates} ({summary.updates} updated, {summary.retries} retries)",
        f"pages fetched: {summary.pages_fetched} ({summary.fetch_failures} failed)",
        f"articles: {summary.new_articles()}",
        f"skipped: {summary.skipped}", f"extraction failures: {summary.failed}",
        f"duplicates collapsed: {summary.duplicates}", f"events: {summary.events}",
        f"alerts: {summary.alerts}",
    ]
    if summary.before_since:
        phrases.append(f"left out by --since: {summary.before_since} (later runs fetch them)")
    if summary.deferred:
        phrases.append(f"left for the next runs: {summary.deferred} (over "
                       "NEWSMON_MAX_NEW_ENTRIES_PER_DOCUMENT new entries in one feed or sitemap)")
    for line in phrase_lines(phrases, console.width):  # lines break between phrases only
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    for warning in summary.overflows:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True,
                  highlight=False)
    if summary.coverage:
        _print_coverage(summary.coverage)
    _print_sources(summary)
    digest = build_digest(db, limit=8, basis="fetched")
    if digest.events:
        print_table(
            console, ["headline", "event date", "articles", "outlets"],
            [(e.headline, e.event_date, e.n_articles, e.n_sources) for e in digest.events],
            title=f"Top events fetched on {digest.day}, by number of outlets",
        )
    db_arg = "" if db == default_db else f" --db {shlex.quote(str(db))}"
    program = _program()
    console.print("Next:", highlight=False)
    for line in (
        f"{program} digest{db_arg}",
        f'{program} sql "SELECT headline, n_articles, n_sources FROM events '
        f'ORDER BY n_sources DESC LIMIT 5"{db_arg}',
        f'{program} sql "SELECT source, count(*) AS articles FROM articles GROUP BY source"'
        f"{db_arg}",
    ):  # soft_wrap: the terminal may fold a long line, but no newline lands inside it
        console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)


def _print_coverage(rows: list[dict]) -> None:
    """The coverage ledger rows the run touched (short headings, to fit a terminal: pending
    = pending_retry + not_fetched, ovfl = overflow_warnings), and the reasons behind
    failures, skips and pending entries."""
    from extractors.fetch.health import reason_counts

    print_table(
        console, ["day", "source", "seen", "stored", "failed", "skipped", "pending", "ovfl"],
        [[r["day"], r["source"], r["seen"], r["stored"], r["failed"], r["skipped"],
          r["pending_retry"] + r["not_fetched"], r["overflow_warnings"]] for r in rows],
        title="Coverage ledger (entries by the day first seen; ovfl: overflow warnings)",
    )
    for row in rows:
        for kind in ("failed", "skipped", "pending"):
            reasons = row.get(f"{kind}_by_reason") or {}
            if reasons:
                said = reason_counts(reasons)
                console.print(f"  {row['source']} {row['day']}: {kind}: {said}",
                              soft_wrap=True, highlight=False, markup=False)


SOURCE_TABLE_ALL_UP_TO = 20  # more sources than this: the table lists only those with problems


def _print_sources(summary: RunSummary) -> None:
    """How each source fared (a table; only the ones with problems when there are many), then
    one line per source that failed or was read in part, and per source gone quiet."""
    rows = summary.source_outcomes
    shown = rows if len(rows) <= SOURCE_TABLE_ALL_UP_TO else [
        r for r in rows if r["status"] != "ok" or r["state"] == "quiet"]
    if shown:
        print_table(
            console, ["source", "this run", "feeds+sitemaps", "entries", "pages", "health",
                      "last success"],
            [(r["source"], r["status"], _tried(r["documents"], r["documents_failed"]),
              f"{r['entries_seen']} ({r['entries_new']} new)",
              _tried(r["pages"], r["pages_failed"]), r["state"],
              r["last_success_at"].strftime("%Y-%m-%d %H:%M") if r["last_success_at"] else "never")
             for r in shown],
            title="Sources (`newsmon sources`: every source's health)",
        )
    problems = summary.source_problems
    if problems:
        console.print(f"  {summary.status_message()}", soft_wrap=True, highlight=False,
                      markup=False)
    for p in problems:
        console.print(f"  {p['status']:<8} {p['source']}: {p['reason']}", soft_wrap=True,
                      highlight=False, markup=False)
    for u in summary.unhealthy:
        if u["state"] == "quiet":
            console.print(f"  {'quiet':<8} {u['source']}: {u['why']}", soft_wrap=True,
                          highlight=False, markup=False)


def _tried(tried: int, failed: int) -> str:
    return f"{tried} ({failed} failed)" if failed else str(tried)


def _finish(summary: RunSummary) -> NoReturn:
    """Say how the run ended when not every source was read, and exit with its code."""
    code = _exit_code(summary)
    if code == EXIT_SOME_FAILED:
        err.print(f"[red]error:[/red] {escape(summary.status_message())} (exit code {code})",
                  soft_wrap=True, highlight=False)
    elif code:
        err.print(f"[yellow]warning:[/yellow] {escape(summary.status_message())} (exit code "
                  f"{code})", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


@app.command(epilog=usage_notes([
    ("newsmon run", "sources.toml into data/newsmon.duckdb"),
    ("newsmon run --since 2021-12-01", "a first run that backfills from 1 December"),
    ("newsmon run --watchlists watchlists.toml", "and alert on matching events"),
], codes=RUN_CODES))
def run(
    sources: Annotated[Path, typer.Option("--sources", metavar="FILE",
                                          help="Sources to monitor")] = Path("sources.toml"),
    db: DbOption = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE", help="Backfill bound: leave out entries dated before this "
        "ISO date or time (e.g. 2021-12-15); later runs still fetch them")] = None,
    watchlists: WatchlistsOption = None,
    task_runner: Annotated[
        str | None, typer.Option("--task-runner", metavar="[thread|dask]",
                                 help="Where extraction runs (default: thread)")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """One monitor run (Prefect's local mode unless PREFECT_API_URL names a server)."""
    settings = _settings()
    since_at = _when(since, "--since")
    if task_runner not in (None, "thread", "dask"):
        fail(f"--task-runner {task_runner!r}: use thread or dask")
    _check_sources(sources)
    rules = watchlists or settings.watchlists
    _check_watchlists(rules)
    path = _writable_warehouse(db)
    _quiet_prefect()
    _check_prefect_api()
    from flows.monitor import monitor
    from flows.runners import with_task_runner

    flow = with_task_runner(monitor, task_runner) if task_runner else monitor  # type: ignore[arg-type]
    summary = _run_flow(flow, path, verbose, sources=str(sources), warehouse=str(path),
                        since=since_at, watchlists=str(rules) if rules else None)
    _print_summary(summary, path, settings.warehouse_path)
    _finish(summary)


@app.command(epilog=usage_notes([
    ("newsmon demo", "into data/newsmon.duckdb"),
    ("newsmon demo --db /tmp/demo.duckdb", "somewhere else"),
], codes=RUN_CODES))
def demo(
    db: DbOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the bundled demo news site on 127.0.0.1 and run the monitor against it."""
    settings = _settings()
    path = _writable_warehouse(db)
    _quiet_prefect()
    _check_prefect_api()
    from demosite.server import DemoSite
    from flows.settings import format_resolve
    from flows.starter import DEMO_SOURCES as sources

    # The demo site is ours and local: light spacing keeps the demo quick.
    os.environ.setdefault("NEWSMON_MIN_DELAY_PER_HOST_S", "0.05")
    with DemoSite() as site:
        os.environ["NEWSMON_RESOLVE"] = format_resolve(site.resolve_map)
        console.print(f"demo news site: {len(site.hosts)} outlets on 127.0.0.1:{site.port}")
        from flows.monitor import monitor

        summary = _run_flow(monitor, path, verbose, sources=str(sources), warehouse=str(path))
    _print_summary(summary, path, settings.warehouse_path)
    _finish(summary)


@app.command("demo-site", epilog=usage_notes([
    ("newsmon demo-site", f"on 127.0.0.1:{DEMO_SITE_PORT}"),
    ("newsmon demo-site --port 0", "on any free port"),
]))
def demo_site(
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, metavar="PORT",
        help="Port on 127.0.0.1 (0: any free port)")] = DEMO_SITE_PORT,
) -> None:
    """Serve the demo outlets in the foreground until Ctrl-C (for a Prefect worker or `run`).

    Prints the NEWSMON_RESOLVE value that routes the outlets' .test hosts to this server:
    export it where newsmon runs (the worker's shell, or before `newsmon run`).
    """
    from demosite.server import DemoSite
    from flows.settings import format_resolve

    try:
        site = DemoSite(port=port).start()
    except OSError as exc:
        fail(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}",
             "pass another --port (0 picks a free one)")
    try:
        print(f"demo news site: {len(site.hosts)} outlets on 127.0.0.1:{site.port} "
              "(Ctrl-C stops it). In the shell that runs newsmon or the Prefect worker:")
        print(f"export NEWSMON_RESOLVE={format_resolve(site.resolve_map)}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


@app.command(epilog=usage_notes([
    ("newsmon init", "in this folder"),
    ("newsmon init monitors/eu", "in that folder (created if need be)"),
    ("newsmon init --force", "replace edited files with the starters"),
]))
def init(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="Where to write the files "
                                           "(created if missing)")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files")] = False,
) -> None:
    """Write a starter sources.toml (the demo outlets: replace them) and watchlists.toml."""
    from flows.starter import starter_files

    if folder.exists() and not folder.is_dir():
        fail(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create the folder {folder}: {exc.strerror or exc}")
    files = {folder / name: text for name, text in starter_files().items()}
    existing = [str(target) for target in files if target.exists()]
    if existing and not force:
        fail(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}: "
             "nothing written", "edit them, or pass --force to replace them with the starters")
    for target, text in files.items():
        target.write_text(text, encoding="utf-8")
        console.print(f"wrote {target}", highlight=False)
    console.print("Next: `newsmon demo-site` in another terminal, export the NEWSMON_RESOLVE "
                  "line it prints, then `newsmon run --watchlists watchlists.toml`; or put "
                  "your own feeds in sources.toml first.", highlight=False, markup=False)


# --- reading the warehouse ----------------------------------------------------------------


@app.command(epilog=usage_notes([
    ('newsmon sql "SELECT headline, n_sources FROM events ORDER BY n_sources DESC LIMIT 5"', ""),
    ('newsmon sql "SELECT * FROM articles" --format csv --output articles.csv', ""),
    ("newsmon sql", "how to open the warehouse in DuckDB's own shell"),
]))
def sql(
    query: Annotated[str | None, typer.Argument(metavar="QUERY",
                                                help="A read-only SQL query")] = None,
    db: DbOption = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format")] = (
        OutputFormat.table
    ),
    output: Annotated[Path | None, out_option("Write to this file", "--output")] = None,
    wide: WideOption = False,
    crlf: Annotated[bool, typer.Option("--crlf", help="CSV: end lines with CR LF (default: "
                                       "LF)")] = False,
) -> None:
    """Run a read-only query on the warehouse (writes are refused) and print or save it.

    The result streams in Arrow batches (never all in memory); the query is stopped after
    NEWSMON_SQL_TIMEOUT_S (at most half NEWSMON_WRITER_TIMEOUT_S) and may use
    NEWSMON_SQL_MEMORY_LIMIT of memory."""
    from warehouse.queries import stream_readonly_sql

    if query is None:
        _print_shell_tip(_existing_warehouse(db))
        return
    if format is OutputFormat.parquet and output is None:
        fail("--format parquet needs --output FILE")
    output = _output_file(output, "--output")
    path = _existing_warehouse(db)
    settings = _settings()
    try:
        result = stream_readonly_sql(path, query, timeout_s=settings.sql_query_timeout_s,
                                     memory_limit=settings.sql_memory_limit)
    except Exception as exc:  # read-only refusals, bad SQL, unknown tables, a busy file, bounds
        fail(str(exc))
    try:
        write_result(result.columns, result.schema, result.batches(), format, output, console,
                     err, wide=wide, crlf=crlf)
    finally:
        result.close()


def _print_shell_tip(path: Path) -> None:
    """How to open the warehouse in DuckDB's own shell, and whether a 1.x shell can."""
    from warehouse.db import open_reader, readable_by_duckdb_1x, storage_version_of

    console.print(f"Open DuckDB's shell read-only:  duckdb -readonly {path}\n"
                  "(pip install duckdb-cli, or use `newsmon sql \"QUERY\"`)")
    with open_reader(path) as con:
        version = storage_version_of(con)
    if not readable_by_duckdb_1x(version):
        console.print(
            f"This warehouse is in DuckDB's {version} storage format, which DuckDB 1.x clients "
            f"cannot open. Convert it once with:\n"
            f"  newsmon convert --storage-version v1.5.0 --db {path}"
        )


@app.command(epilog=usage_notes([
    ("newsmon convert", "to v1.5.0, which DuckDB 1.5.x clients open"),
    ("newsmon convert --storage-version latest --db data/newsmon.duckdb", ""),
]))
def convert(
    storage_version: Annotated[str, typer.Option(
        "--storage-version", metavar="VERSION", help="DuckDB storage format to rewrite the "
        "warehouse in (v1.5.0 opens in DuckDB 1.5.x clients; latest is DuckDB's newest)")
    ] = "v1.5.0",
    db: DbOption = None,
) -> None:
    """Rewrite the warehouse in another DuckDB storage format (keeps the old file as .bak).

    A warehouse already in that format is left as it is.
    """
    from warehouse.db import WarehouseError, convert_storage

    path = _existing_warehouse(db)
    try:
        before, after, backup = convert_storage(path, storage_version)
    except WarehouseError as exc:
        fail(str(exc))
    if backup is None:
        said = storage_version if storage_version != "latest" else f"latest ({after})"
        console.print(f"{path}: already {said}, nothing to do", highlight=False)
        return
    console.print(f"{path}: storage {before} -> {after}; the old file is kept as {backup}",
                  highlight=False)


@app.command(epilog=usage_notes([("newsmon export --out parquet/", "")]))
def export(
    out: Annotated[Path, out_option("Folder for the Parquet files", metavar="FOLDER")],
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", metavar="[parquet]",
                                        help="Only parquet")] = "parquet",
) -> None:
    """Write one Parquet file per table (articles partitioned by day)."""
    from warehouse.maintenance import export_parquet

    if format != "parquet":
        fail("only --format parquet is supported")
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file; give a folder")
    if not out.parent.is_dir():
        fail(f"--out {out}: the folder {out.parent} does not exist")
    path = _existing_warehouse(db)
    for written in export_parquet(path, out):
        console.print(str(written), highlight=False)


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1_000_000:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes:,} bytes"


@app.command(epilog=usage_notes([
    ("newsmon prune --keep-raw-days 30", "keep a month of raw HTML"),
    ("newsmon prune --keep-raw-days 0 --yes", "drop every raw page without asking"),
], codes=(EXIT_OK, (1, "you answered no: nothing dropped"), EXIT_USAGE)))
def prune(
    keep_raw_days: Annotated[int, typer.Option("--keep-raw-days", min=0, metavar="N",
                                               help="Keep raw HTML this many days")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before dropping every raw "
                                      "page")] = False,
    compact: Annotated[bool, typer.Option(
        "--compact", help="Also copy the warehouse to give back the space of pages stored "
        "inside it by versions before 0.2 (slow: reads and writes the whole file)")] = False,
) -> None:
    """Drop stored raw HTML older than N days and give the space back to the disk.

    Articles and events are never dropped. Dropping every raw page asks first (or needs --yes).
    Raw pages live in per-day files beside the warehouse, so their space comes back at once.
    """
    from warehouse.maintenance import prune_raw, raw_pages_to_prune

    path = _existing_warehouse(db)
    old, total = raw_pages_to_prune(path, keep_raw_days)
    if old == 0:
        console.print(f"nothing to drop: none of the {total} stored raw pages is older than "
                      f"{keep_raw_days} days" if total else "nothing to drop: no raw pages "
                      "are stored", highlight=False)
        return
    if old == total and not yes:
        question = f"Drop all {total} stored raw pages (articles and events stay)?"
        if not sys.stdin.isatty():
            fail(f"this would drop all {total} stored raw pages; pass --yes to do it")
        if not typer.confirm(question, default=False):
            err.print("nothing dropped")
            raise typer.Exit(1)
    done = prune_raw(path, keep_raw_days, compact_file=compact,
                     wait_s=_settings().run_wait_s)
    console.print(
        f"dropped {done.dropped} raw pages; {path}: {_size(done.bytes_before)} -> "
        f"{_size(done.bytes_after)} ({_size(max(0, done.bytes_before - done.bytes_after))} "
        "freed)", highlight=False, soft_wrap=True,
    )
    if done.in_file_bytes:
        console.print(
            f"{_size(done.in_file_bytes)} of them were stored inside the DuckDB file by an older "
            "version: DuckDB reuses that space for new data; `--compact` gives it back to the "
            "disk (copies the whole warehouse)", highlight=False, soft_wrap=True)


@app.command(epilog=usage_notes([
    ("newsmon extract page.html", ""),
    ("newsmon extract saved.html.gz --url https://example.com/news/1", "with its address"),
    ("newsmon extract https://example.com/news/1 pages/*.html --out pages.jsonl", ""),
], codes=(EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE)))
def extract(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT",
                                                help="HTML files (.gz too) or http(s) URLs")],
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="Original URL of a "
                                            "single local file")] = None,
    out: Annotated[Path | None, out_option("Output JSONL (default: stdout)")] = None,
    max_bytes: Annotated[int | None, typer.Option(
        "--max-bytes", min=1, metavar="N", help="Largest page or file to read, in bytes "
        "(default: the fetch cap, 5 MiB)")] = None,
) -> None:
    """Show exactly what newsmon makes of pages: one JSON line per input, in order.

    An input that fails still gets its line (status "failed", reason), and one line on
    stderr names it and the reason.
    """
    from dataclasses import replace

    from extractors.content.extract_cmd import run_extract

    settings = _settings()
    out = _output_file(out, "--out")
    fetch_settings, extraction = settings.fetch_settings(), settings.extraction_settings()
    if max_bytes is not None:
        fetch_settings = replace(fetch_settings, max_bytes=max_bytes)
    if out is None:
        code = run_extract(inputs, url, sys.stdout, fetch_settings, extraction)
    else:
        with out.open("w", encoding="utf-8") as fh:
            code = run_extract(inputs, url, fh, fetch_settings, extraction)
    raise typer.Exit(code)


@app.command(epilog=usage_notes([
    ("newsmon cluster corpus.jsonl --out events.jsonl", ""),
]))
def cluster(
    input: Annotated[Path, typer.Argument(metavar="CORPUS", help="JSONL corpus: id, title, "
                                          "text, [url, source, published, language, summary]; "
                                          "with --pairs: id, a, b (two such articles)")],
    out: Annotated[Path | None, out_option("Output JSONL (default: stdout)")] = None,
    pairs: Annotated[bool, typer.Option(
        "--pairs", help="Decide given pairs: is each one event, with the evidence "
                        "(same_event, score, evidence per line)")] = False,
) -> None:
    """Offline deduplication, event clustering and story threads of an article corpus, or,
    with --pairs, the same-event decision and its evidence for each given pair."""
    out = _output_file(out, "--out")
    if pairs:
        from extractors.events.pairs import pairs_jsonl

        raise typer.Exit(pairs_jsonl(str(input), str(out) if out else None))
    from extractors.events.cluster_io import cluster_jsonl

    raise typer.Exit(cluster_jsonl(str(input), str(out) if out else None))


@app.command(epilog=usage_notes([
    ("newsmon digest", "what the latest runs fetched"),
    ("newsmon digest --date 2021-12-15 --out digest.html", "what was published that day"),
]))
def digest(
    date_: Annotated[str | None, typer.Option(
        "--date", metavar="DATE", help="Day YYYY-MM-DD: the articles published that day "
        "(default: what newsmon fetched on the latest day it fetched anything)")] = None,
    out: Annotated[Path | None, out_option("HTML file (default: digest-DAY.html)")] = None,
    db: DbOption = None,
) -> None:
    """Write a digest: the top events by outlets, their articles, charts; opens offline."""
    from reports.digest import digest_command

    day = _day(date_, "--date")
    out = _output_file(out, "--out")
    raise typer.Exit(digest_command(_existing_warehouse(db), day, out))


@app.command(epilog=usage_notes([
    ("newsmon alerts --since 2026-11-01", ""),
    ("newsmon alerts --evaluate --watchlists watchlists.toml", "after editing the rules"),
]))
def alerts(
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE", help="Only matches (with --evaluate: events) since this "
        "ISO date")] = None,
    evaluate: Annotated[bool, typer.Option(
        "--evaluate", help="Apply the watchlists to events already stored; new matches are "
        "stored and delivered once")] = False,
    watchlists: WatchlistsOption = None,
    db: DbOption = None,
    wide: WideOption = False,
) -> None:
    """List recent watchlist matches, newest first (or, --evaluate, look for new ones)."""
    from reports.watchlists import alerts_command, evaluate_stored

    since_at = _when(since, "--since")
    if evaluate:
        rules = watchlists or _settings().watchlists
        if rules is None:
            fail("--evaluate needs rules: pass --watchlists FILE or set NEWSMON_WATCHLISTS",
                 "`newsmon init` writes a starter watchlists.toml")
        _check_watchlists(rules)
        path = _existing_warehouse(db)
        result = evaluate_stored(path, rules, since_at)
        console.print(f"{result.rules} rules on {result.events} stored events: "
                      f"{len(result.alerts)} new alerts", highlight=False)
        if result.delivery.attempted:
            console.print(f"deliveries: {result.delivery.delivered} ok, "
                          f"{result.delivery.failed + result.delivery.abandoned} failed",
                          highlight=False)
        rows = [{"rule": a.rule, "event_date": a.event_date, "n_sources": a.n_sources,
                 "headline": a.headline, "why": a.why, "event_id": a.event_id}
                for a in result.alerts]
    else:
        rows = alerts_command(_existing_warehouse(db), since_at)
        if not rows:
            console.print("no alerts")
            return
    if rows:
        for row in rows:  # to the minute: "2026-11-02 06:00"
            if row.get("matched_at"):
                row["matched_at"] = str(row["matched_at"])[:16].replace("T", " ")
        print_records(console, rows, [c for c in ALERT_COLUMNS if c.key in rows[0]], wide=wide,
                      err=err)


# What `newsmon alerts` shows, headline first; ids only with --wide.
ALERT_COLUMNS = (
    TableColumn("headline", "headline"), TableColumn("rule", "rule"),
    TableColumn("n_sources", "outlets"), TableColumn("event_date", "event date"),
    TableColumn("why", "why"), TableColumn("matched_at", "matched (UTC)"),
    TableColumn("delivered", "sent"), TableColumn("undelivered", "unsent"),
    TableColumn("event_id", "event_id", wide_only=True),
    TableColumn("run_id", "run_id", wide_only=True),
)


@app.command("sources", epilog=usage_notes([
    ("newsmon sources", "every source's state: failing, quiet, new or healthy, and why"),
    ("newsmon sql \"SELECT * FROM source_health WHERE state <> 'healthy'\"", "the same, in SQL"),
]))
def sources_command(db: DbOption = None) -> None:
    """Each source's health, as of its latest run: failing, quiet, new or healthy, and why."""
    from collections import Counter

    from reports.source_health import SOURCES_COLUMNS, read_source_health, sources_table

    health = read_source_health(_existing_warehouse(db))
    if not health:
        console.print("no source health recorded yet: every `newsmon run` records it")
        return
    print_table(console, SOURCES_COLUMNS, sources_table(health), err=err)
    states = Counter(h.state for h in health)
    console.print(f"{len(health)} sources: " + ", ".join(
        f"{states[s]} {s}" for s in ("failing", "quiet", "new", "healthy") if states[s]),
        highlight=False)


def main() -> None:  # pragma: no cover - the `newsmon` console script
    """Run the app; usage errors (unknown option, missing argument) in one or two lines."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # typer's own click exceptions derive from it
        if type(exc).__name__ == "NoArgsIsHelpError":  # `newsmon` alone: the help
            exc.show()  # type: ignore[attr-defined]
            sys.exit(0)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "newsmon"
        err.print(f"[red]error:[/red] {escape(exc.format_message())}", soft_wrap=True,
                  highlight=False)
        err.print(f"(see `{escape(command)} --help`)", soft_wrap=True, highlight=False)
        code = getattr(exc, "exit_code", 2)
    except typer.Abort:
        err.print("aborted")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
