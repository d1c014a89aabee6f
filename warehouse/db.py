"""Connections to the DuckDB warehouse file: the only module that calls `duckdb.connect`.

DuckDB lets one process hold a read-write connection and then refuses every other open of
the file, even read-only ones. So writers take an inter-process lock (`<path>.lock`) and keep
the file only for one batch, and readers retry for a bounded time while a writer is busy.

A monitor run also holds `<path>.run.lock` from start to end (`hold_run_lock`), so a second
run waits for the first instead of crawling the same pages; readers never take it.

Exceptions::

    WarehouseError            anything the warehouse raises on purpose
    ├── WarehouseBusy         the file stayed locked longer than the caller's timeout
    │   └── RunInProgress     another monitor run kept the warehouse past the wait
    ├── WarehouseMissing      a reader was pointed at a file that does not exist
    └── ReadOnlyViolation     a statement that would change data was sent to the read-only path
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse import sql

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# New warehouse files are written in the storage format of DuckDB 1.5, which every DuckDB 1.5.x
# client reads (the CLI from `pip install duckdb-cli`, DBeaver, R, BI tools); DuckDB 2.x reads
# and writes it too. "latest" gives DuckDB's newest format, which 1.x clients refuse.
DEFAULT_STORAGE_VERSION = "v1.5.0"
STORAGE_VERSION_PATTERN = r"^(latest|v\d+\.\d+\.\d+)$"
VIEWS_FILE = Path(__file__).with_name("views.sql")
_POLL_S = 0.05  # how often a waiting writer or reader tries again
_RUN_LOCK_POLL_S = 0.5  # how often a run waiting for another run tries again
WRITER_TIMEOUT_S = 120.0  # how long a writer waits for the file (NEWSMON_WRITER_TIMEOUT_S)
READER_TIMEOUT_S = 30.0  # how long a reader waits for a writer to let go of the file
# Rows per row group of the files newsmon writes (DuckDB's default is 122,880). A checkpoint
# rewrites the last, unfilled row group of every table that grew: with articles' texts that
# was hundreds of megabytes after every batch of a year-old warehouse (issue #32). DuckDB
# applies it to the writes of connections that attach the file with it; any client reads it.
ROW_GROUP_ROWS = 8192
WRITER_ALIAS = "warehouse"  # the attached file's name on a writer connection
# A run leaves its batches' commits in the write-ahead log (open_writer's `checkpoint`), but
# every connection opened replays the whole log (~10 ms of CPU per MiB, on top of ~25 ms an
# open): past this size the next writer checkpoints, so a run's opens stay bounded instead of
# growing with the batches written before them (bench.pipeline, docs/performance.md #31).
WAL_CHECKPOINT_BYTES = 4 << 20


class WarehouseError(Exception):
    """Base class of errors raised on purpose by the warehouse."""


class WarehouseBusy(WarehouseError):
    """Another process kept the warehouse file locked for longer than we were told to wait."""


class WarehouseMissing(WarehouseError, FileNotFoundError):
    """A read found no warehouse file: readers never create one (nor its folder)."""

    def __init__(self, path: Path):
        super().__init__(f"no warehouse at {path} (run `newsmon run` or `newsmon demo` first)")
        self.path = path


class NotAWarehouse(WarehouseError):
    """The file at a warehouse path is not a DuckDB database (an image, a CSV, a typo)."""

    def __init__(self, path: Path):
        super().__init__(f"{path} is not a DuckDB warehouse (no DuckDB file header)")
        self.path = path


_DUCKDB_MAGIC = (8, b"DUCK")  # where every DuckDB database file says what it is


def check_is_duckdb(path: Path) -> None:
    """Raise NotAWarehouse unless the existing file at `path` starts as DuckDB files do."""
    offset, magic = _DUCKDB_MAGIC
    with path.open("rb") as handle:
        if handle.read(offset + len(magic))[offset:] != magic:
            raise NotAWarehouse(path)


def require_warehouse(path: str | Path) -> Path:
    """`path` as a Path if a warehouse file is there; WarehouseMissing otherwise."""
    path = Path(path)
    if not path.is_file():
        raise WarehouseMissing(path)
    return path


class ReadOnlyViolation(WarehouseError):
    """A statement that is not a read was sent to the read-only SQL path."""


class RunInProgress(WarehouseBusy):
    """Another monitor run held the warehouse for longer than this run would wait."""


Row = dict[str, Any]  # one result row, by column name


class Connection:
    """A DuckDB connection that names its rows, in the spirit of sqlite-utils.

    Reads come back as dicts keyed by column name (`rows`, `one`) or as plain values
    (`value`, `column`); Arrow tables passed as keyword arguments are registered under that
    name for the one statement (`con.rows(sql.KNOWN_URLS, batch=urls_table)`). Values are
    bound (`$name` with a dict, `?` with a list), never pasted into SQL.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.duckdb = con
        self._depth = 0  # nesting of transaction()

    @contextmanager
    def _registered(self, tables: dict[str, pa.Table]) -> Iterator[None]:
        """Arrow tables visible under their names for one statement (and its rows)."""
        for name, table in tables.items():
            self.duckdb.register(name, table)
        try:
            yield
        finally:
            for name in tables:
                self.duckdb.unregister(name)

    def _run(self, statement: str, params: Any) -> duckdb.DuckDBPyConnection:
        if params is None:
            return self.duckdb.execute(statement)
        return self.duckdb.execute(statement, params)

    def execute(self, statement: str, params: Any = None,
                **tables: pa.Table) -> duckdb.DuckDBPyConnection:
        """Run one statement (any kind); the DuckDB result, for statements that return none."""
        with self._registered(tables):
            return self._run(statement, params)

    def rows(self, statement: str, params: Any = None, **tables: pa.Table) -> list[Row]:
        """Every row of a query, each a dict by column name (fetched before the tables go)."""
        with self._registered(tables):
            cursor = self._run(statement, params)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def arrow(self, statement: str, params: Any = None, **tables: pa.Table) -> pa.Table:
        """A query's result as an Arrow table (for many rows of few columns)."""
        with self._registered(tables):
            return self.duckdb.sql(statement, params=params).to_arrow_table()

    def one(self, statement: str, params: Any = None, **tables: pa.Table) -> Row | None:
        """The first row of a query, or None."""
        found = self.rows(statement, params, **tables)
        return found[0] if found else None

    def column(self, statement: str, params: Any = None, **tables: pa.Table) -> list[Any]:
        """The first column of every row."""
        return [next(iter(row.values())) for row in self.rows(statement, params, **tables)]

    def value(self, statement: str, params: Any = None, **tables: pa.Table) -> Any:
        """The first column of the first row (None when there is no row)."""
        found = self.column(statement, params, **tables)
        return found[0] if found else None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Everything inside commits together or not at all (rolled back on any error).

        Nested uses join the outermost transaction, so a loader that is atomic on its own
        (`load.record_fetches`) becomes part of the caller's batch when called inside one.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.duckdb.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self.duckdb.execute("ROLLBACK")
            raise
        else:
            self.duckdb.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        self.duckdb.close()


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    """DuckDB's errors when the file is held (transient: worth retrying).

    Another process: "Could not set lock on file". Another connection of this process in the
    other mode (e.g. a reader in another thread while we want to write): "different
    configuration".
    """
    message = str(exc).lower()
    return ("lock" in message or "different configuration" in message
            or "file handle conflict" in message)


def _wait_or_raise(exc: Exception, path: Path, deadline: float, waited_from: float) -> None:
    """After a failed open: wait a poll interval when another process holds the file and
    time is left; else WarehouseBusy (held) or the error itself."""
    if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
        if _is_lock_conflict(exc):
            raise WarehouseBusy(
                f"{path} is held by another process or connection; gave up after "
                f"{time.monotonic() - waited_from:.1f}s ({exc})"
            ) from exc
        raise exc
    time.sleep(_POLL_S)


def _connect_retrying(
    path: Path, read_only: bool, deadline: float, waited_from: float, config: dict | None = None
):
    """Connect, retrying DuckDB's file-lock error until `deadline` (monotonic seconds)."""
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config or {})
        except (duckdb.IOException, duckdb.ConnectionException,
                duckdb.ResourceInUseException) as exc:
            _wait_or_raise(exc, path, deadline, waited_from)
            continue
        con.execute("SET TimeZone = 'UTC'")
        return con


def _flock_until(
    fd: int, deadline: float, poll_s: float, on_busy: Callable[[], None] | None = None
) -> bool:
    """Take an exclusive flock on `fd`, trying again until `deadline` (monotonic seconds).

    False when it never came; `on_busy` is called after each failed try.
    """
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if on_busy is not None:
                on_busy()
            time.sleep(max(min(poll_s, deadline - time.monotonic()), 0.01))


@contextmanager
def _file_lock(lock_path: Path, timeout_s: float, db_path: Path) -> Iterator[float]:
    """Hold an exclusive flock on `lock_path`, waiting at most `timeout_s`; yields the deadline."""
    deadline = time.monotonic() + timeout_s
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _flock_until(fd, deadline, _POLL_S):
            raise WarehouseBusy(
                f"another writer holds {db_path}; gave up after {timeout_s:.1f}s "
                f"waiting for {lock_path}"
            )
        try:
            yield deadline
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@functools.cache
def migrations() -> tuple[tuple[int, str, str], ...]:
    """(version, name, sql) of every migration file, in order (read once per process)."""
    found = []
    for file in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        found.append((int(file.name[:4]), file.stem, file.read_text(encoding="utf-8")))
    return tuple(found)


def apply_migrations(con: Connection | duckdb.DuckDBPyConnection,
                     upto: int | None = None) -> list[str]:
    """Apply pending migrations (each in its own transaction) and recreate the views.

    Returns the names applied. `upto` stops at a version (tests build old files with it).
    """
    raw = con.duckdb if isinstance(con, Connection) else con
    raw.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in raw.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for version, name, statements in migrations():
        if version in done or (upto is not None and version > upto):
            continue
        raw.execute("BEGIN TRANSACTION")
        try:
            raw.execute(statements)
            raw.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        applied.append(name)
    if upto is None:
        raw.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    return applied


def storage_version_of(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of the connection's file, as DuckDB names it ("v1.5.0+", "v2.0.0+")."""
    rows = con.execute(sql.STORAGE_VERSION_OF_FILE).fetchall()
    return str(rows[0][0]) if rows and rows[0][0] else "unknown"


def readable_by_duckdb_1x(storage_version: str) -> bool:
    """True when DuckDB 1.x clients can open a file of this storage format ("v1.5.0+")."""
    return storage_version.startswith("v1.") or storage_version.startswith("v0.")



# Files this process has migrated (and whose views it created), by identity: a writer opens
# the file once per batch, and re-running every migration check and view on each open cost
# more than the batch's own writes. A file replaced under the same name is caught by the
# version check in `_ensure_schema`.
_MIGRATED: set[tuple[str, int, int]] = set()
_MIGRATED_LOCK = threading.Lock()


def _file_identity(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_dev, stat.st_ino)


def latest_version() -> int:
    """The version of the newest migration file."""
    return max(version for version, _, _ in migrations())


def _ensure_schema(con: Connection, path: Path) -> None:
    """Migrate the file once per process; later opens only check its version (one row)."""
    key = _file_identity(path)
    with _MIGRATED_LOCK:
        known = key in _MIGRATED
    if known:
        try:
            if con.value("SELECT max(version) FROM schema_version") == latest_version():
                return
        except duckdb.CatalogException:  # a new, empty file under a known name
            pass
    apply_migrations(con)
    with _MIGRATED_LOCK:
        _MIGRATED.add(key)


def _attach_retrying(path: Path, deadline: float, waited_from: float,
                     storage_version: str | None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `path` with newsmon's storage options (ROW_GROUP_ROWS),
    retrying DuckDB's file-lock errors until `deadline`. `storage_version`: a new file's."""
    options = [f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}"]
    if storage_version is not None and storage_version != "latest":
        options.append(f"STORAGE_VERSION {sql_string(storage_version)}")
    while True:
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"ATTACH {sql_string(path)} AS {WRITER_ALIAS} ({', '.join(options)})")
        except (duckdb.IOException, duckdb.ConnectionException,
                duckdb.ResourceInUseException) as exc:
            con.close()
            _wait_or_raise(exc, path, deadline, waited_from)
            continue
        con.execute(f"USE {WRITER_ALIAS}")
        con.execute("SET TimeZone = 'UTC'")
        return con


@contextmanager
def open_writer(
    path: str | Path, timeout_s: float = WRITER_TIMEOUT_S,
    storage_version: str = DEFAULT_STORAGE_VERSION, checkpoint: bool = True,
) -> Iterator[Connection]:
    """A read-write connection for one batch, the schema up to date; closed on exit.

    Waits up to `timeout_s` for other writers (the flock) and for readers still holding the
    file (DuckDB's own lock), then raises WarehouseBusy. Hold it for one batch, not a run:
    while it is open no other process can read the file. A file that does not exist yet is
    created in `storage_version`'s format; an existing file keeps its own.

    The file is written with row groups of ROW_GROUP_ROWS rows. `checkpoint=False` leaves the
    committed data in the write-ahead log on close instead of checkpointing it into the file
    (readers replay the log): a monitor run writes many small batches and checkpoints once,
    at its end (`checkpoint`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    started = time.monotonic()
    with _file_lock(lock_path, timeout_s, path) as deadline:
        new = None if path.exists() else storage_version
        con = Connection(_attach_retrying(path, deadline, started, new))
        try:
            _ensure_schema(con, path)
            yield con
        finally:
            if not checkpoint:
                con.duckdb.execute("PRAGMA disable_checkpoint_on_shutdown")
            con.close()


@contextmanager
def open_reader(path: str | Path, timeout_s: float = READER_TIMEOUT_S) -> Iterator[Connection]:
    """A read-only connection, retried while a writer holds the file; closed on exit.

    A missing file raises WarehouseMissing: a read never creates a warehouse or a folder
    (a typo in `--db` must not leave an empty warehouse behind).
    """
    path = require_warehouse(path)
    started = time.monotonic()
    deadline = started + timeout_s
    con = Connection(
        _connect_retrying(path, read_only=True, deadline=deadline, waited_from=started)
    )
    try:
        yield con
    finally:
        con.close()


# --- one monitor run at a time ------------------------------------------------------------


class RunLock:
    """The run lock of one warehouse, held by this process until `release()`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


def run_lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".run.lock")


def _holder(fd: int) -> str:
    """Who holds a run lock, as its holder wrote it (best effort)."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "another newsmon run"
    return (f"newsmon run {info.get('run_id', '?')} (pid {info.get('pid', '?')}, "
            f"started {info.get('started_at', '?')})")


def hold_run_lock(
    path: str | Path, run_id: str, wait_s: float,
    on_wait: Callable[[str], None] | None = None,
) -> RunLock:
    """Take the warehouse's run lock, waiting up to `wait_s` for another run to finish.

    `on_wait` is told once, with who holds the lock, when this run has to wait. Raises
    RunInProgress after `wait_s`. The lock is an flock: the kernel drops it when the process
    dies, so a killed run never blocks the next. Readers (`newsmon sql`) never take it.
    """
    lock_path = run_lock_path(path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    told: list[str] = []

    def tell() -> None:
        if not told:
            told.append(_holder(fd))
            if on_wait is not None:
                on_wait(f"{told[0]} is running on {path}; waiting up to {wait_s:g}s "
                        f"for it to finish")

    try:
        if not _flock_until(fd, time.monotonic() + wait_s, _RUN_LOCK_POLL_S, on_busy=tell):
            raise RunInProgress(
                f"{_holder(fd)} is still running on {path}; waited {wait_s:g}s. Only one run "
                f"at a time may use a warehouse: run again when it has finished (or wait "
                f"longer: NEWSMON_RUN_WAIT_S)"
            )
        info = {"run_id": run_id, "pid": os.getpid(),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return RunLock(lock_path, fd)


def wal_bytes(path: str | Path) -> int:
    """Bytes in the warehouse's write-ahead log: what every connection opened now replays."""
    path = Path(path)
    try:
        return path.with_name(path.name + ".wal").stat().st_size
    except FileNotFoundError:
        return 0


def file_bytes(path: str | Path) -> int:
    """Bytes the warehouse takes on disk: the file and its write-ahead log."""
    path = Path(path)
    wal = path.with_name(path.name + ".wal")
    return sum(f.stat().st_size for f in (path, wal) if f.exists())


def sql_string(text: str | Path) -> str:
    """A SQL string literal (ATTACH and COPY TO take no bound parameters)."""
    return "'" + str(text).replace("'", "''") + "'"


def _quoted(identifier: str) -> str:
    """A quoted SQL identifier (names here come from DuckDB's own catalog)."""
    return '"' + identifier.replace('"', '""') + '"'


_REWRITE_ALIAS = "newsmon_rewrite_target"  # the copy's catalog name while it is attached


def _rewrite(
    path: Path, storage_version: str | None, timeout_s: float, backup: Path | None = None
) -> tuple[str, str]:
    """Copy the warehouse into a fresh file and put it in place; (format before, after).

    DuckDB's own `COPY FROM DATABASE` copies every table, view and sequence into a new file
    attached with `storage_version` (None: the file's own format); row counts are compared
    before the copy replaces the file (the old one is kept as `backup` when given). Holds the
    writer lock throughout, so no run writes in between; readers wait as for any writer.
    """
    fresh = path.with_name(path.name + ".rewriting")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):  # from a crash: never used
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    with _file_lock(path.with_name(path.name + ".lock"), timeout_s, path) as deadline:
        con = _connect_retrying(path, read_only=False, deadline=deadline, waited_from=started)
        try:
            before = storage_version_of(con)
            target = storage_version or before.rstrip("+")
            source = con.execute("SELECT current_database()").fetchall()[0][0]
            con.execute(f"ATTACH {sql_string(fresh)} AS {_REWRITE_ALIAS} "
                        f"(STORAGE_VERSION {sql_string(target)}, ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
            con.execute(f"COPY FROM DATABASE {_quoted(source)} TO {_REWRITE_ALIAS}")
            for (table,) in con.execute(sql.ALL_TABLES).fetchall():
                old, new = (
                    con.execute(f"SELECT count(*) FROM {_quoted(db)}.{_quoted(table)}").fetchall()
                    for db in (source, _REWRITE_ALIAS)
                )
                if old != new:
                    raise WarehouseError(f"rewriting lost rows of {table}: {old} -> {new}")
            con.execute(f"USE {_REWRITE_ALIAS}")
            after = storage_version_of(con)
            con.execute(f"USE {_quoted(source)}")
            con.execute(f"DETACH {_REWRITE_ALIAS}")
        except BaseException:
            con.close()
            fresh.unlink(missing_ok=True)
            fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)
            raise
        con.close()
        if backup is not None:
            os.replace(path, backup)
        os.replace(fresh, path)
    return before, after


def storage_tag(storage_version: str) -> str:
    """The tag a file written in `storage_version` carries ("v1.5.0" -> "v1.5.0+"); for
    "latest", read off a new empty file, since only DuckDB knows its newest format."""
    if storage_version != "latest":
        return storage_version + "+"
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "probe.duckdb"))
        try:
            return storage_version_of(con)
        finally:
            con.close()


def convert_storage(
    path: str | Path, storage_version: str = DEFAULT_STORAGE_VERSION, timeout_s: float = 60.0
) -> tuple[str, str, Path | None]:
    """Rewrite the warehouse in `storage_version`'s format; returns (before, after, backup).

    The old file is kept beside it as `<name>.bak` (see _rewrite for how the copy is made).
    A file already in that format is left alone: (before, before, None).
    """
    if not re.match(STORAGE_VERSION_PATTERN, storage_version):
        raise WarehouseError(f"storage version {storage_version!r}: use e.g. v1.5.0 or latest")
    path = require_warehouse(path)
    with open_reader(path, timeout_s) as con:
        before = storage_version_of(con)
    if before == storage_tag(storage_version):
        return before, before, None
    backup = path.with_name(path.name + ".bak")
    before, after = _rewrite(path, storage_version, timeout_s, backup=backup)
    return before, after, backup


def compact(path: str | Path, timeout_s: float = 60.0) -> int:
    """Rewrite the warehouse into a fresh copy of itself; returns the bytes it now takes.

    DuckDB reuses the blocks of deleted rows but gives few of them back to the file system:
    a copy is the way to shrink the file. It keeps the file's storage format.
    """
    path = require_warehouse(path)
    _rewrite(path, None, timeout_s)
    return file_bytes(path)
