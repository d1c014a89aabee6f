"""Connections to the DuckDB warehouse file: the only module that calls `duckdb.connect`.

DuckDB lets one process hold a read-write connection and then refuses every other open of
the file, even read-only ones. So writers take an inter-process lock (`<path>.lock`) and keep
the file only for one batch, and readers retry for a bounded time while a writer is busy.

Exceptions::

    WarehouseError            anything the warehouse raises on purpose
    ├── WarehouseBusy         the file stayed locked longer than the caller's timeout
    ├── WarehouseMissing      a reader was pointed at a file that does not exist
    └── ReadOnlyViolation     a statement that would change data was sent to the read-only path
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VIEWS_FILE = Path(__file__).with_name("views.sql")
_POLL_S = 0.05  # how often a waiting writer or reader tries again


class WarehouseError(Exception):
    """Base class of errors raised on purpose by the warehouse."""


class WarehouseBusy(WarehouseError):
    """Another process kept the warehouse file locked for longer than we were told to wait."""


class WarehouseMissing(WarehouseError, FileNotFoundError):
    """A read found no warehouse file: readers never create one (nor its folder)."""

    def __init__(self, path: Path):
        super().__init__(f"no warehouse at {path} (run `newsmon run` or `newsmon demo` first)")
        self.path = path


def require_warehouse(path: str | Path) -> Path:
    """`path` as a Path if a warehouse file is there; WarehouseMissing otherwise."""
    path = Path(path)
    if not path.is_file():
        raise WarehouseMissing(path)
    return path


class ReadOnlyViolation(WarehouseError):
    """A statement that is not a read was sent to the read-only SQL path."""


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    """DuckDB's errors when the file is held (transient: worth retrying).

    Another process: "Could not set lock on file". Another connection of this process in the
    other mode (e.g. a reader in another thread while we want to write): "different
    configuration".
    """
    message = str(exc).lower()
    return "lock" in message or "different configuration" in message


def _connect_retrying(path: Path, read_only: bool, deadline: float, waited_from: float):
    """Connect, retrying DuckDB's file-lock error until `deadline` (monotonic seconds)."""
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                if _is_lock_conflict(exc):
                    raise WarehouseBusy(
                        f"{path} is held by another process or connection; gave up after "
                        f"{time.monotonic() - waited_from:.1f}s ({exc})"
                    ) from exc
                raise
            time.sleep(_POLL_S)
            continue
        con.execute("SET TimeZone = 'UTC'")
        return con


@contextmanager
def _file_lock(lock_path: Path, timeout_s: float, db_path: Path) -> Iterator[float]:
    """Hold an exclusive flock on `lock_path`, waiting at most `timeout_s`; yields the deadline."""
    started = time.monotonic()
    deadline = started + timeout_s
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"another writer holds {db_path}; gave up after {timeout_s:.1f}s "
                        f"waiting for {lock_path}"
                    ) from None
                time.sleep(_POLL_S)
        try:
            yield deadline
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration file, in order."""
    found = []
    for file in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        found.append((int(file.name[:4]), file.stem, file.read_text(encoding="utf-8")))
    return found


def apply_migrations(con: duckdb.DuckDBPyConnection, upto: int | None = None) -> list[str]:
    """Apply pending migrations (each in its own transaction) and recreate the views.

    Returns the names applied. `upto` stops at a version (tests build old files with it).
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done or (upto is not None and version > upto):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())", [version, name]
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    if upto is None:
        con.execute(VIEWS_FILE.read_text(encoding="utf-8"))
    return applied


@contextmanager
def open_writer(path: str | Path, timeout_s: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection for one batch, with migrations applied; closed on exit.

    Waits up to `timeout_s` for other writers (the flock) and for readers still holding the
    file (DuckDB's own lock), then raises WarehouseBusy.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    started = time.monotonic()
    with _file_lock(lock_path, timeout_s, path) as deadline:
        con = _connect_retrying(path, read_only=False, deadline=deadline, waited_from=started)
        try:
            apply_migrations(con)
            yield con
        finally:
            con.close()


@contextmanager
def open_reader(path: str | Path, timeout_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, retried while a writer holds the file; closed on exit.

    A missing file raises WarehouseMissing: a read never creates a warehouse or a folder
    (a typo in `--db` must not leave an empty warehouse behind).
    """
    path = require_warehouse(path)
    started = time.monotonic()
    deadline = started + timeout_s
    con = _connect_retrying(path, read_only=True, deadline=deadline, waited_from=started)
    try:
        yield con
    finally:
        con.close()


def file_bytes(path: str | Path) -> int:
    """Bytes the warehouse takes on disk: the file and its write-ahead log."""
    path = Path(path)
    wal = path.with_name(path.name + ".wal")
    return sum(f.stat().st_size for f in (path, wal) if f.exists())


def sql_string(text: str | Path) -> str:
    """A SQL string literal (ATTACH and COPY TO take no bound parameters)."""
    return "'" + str(text).replace("'", "''") + "'"


def compact(path: str | Path, timeout_s: float = 60.0) -> int:
    """Rewrite the warehouse into a fresh file and swap it in; returns the bytes it now takes.

    DuckDB reuses the blocks of deleted rows but gives few of them back to the file system:
    a copy is the way to shrink the file. The writer lock is held throughout, and the copy
    replaces the file only once it is complete, so a crash leaves the original as it was.
    """
    path = require_warehouse(path)
    copy = path.with_name(path.name + ".compact")
    copy.unlink(missing_ok=True)  # left by a crash: never a warehouse anyone uses
    started = time.monotonic()
    with _file_lock(path.with_name(path.name + ".lock"), timeout_s, path) as deadline:
        con = _connect_retrying(path, read_only=False, deadline=deadline, waited_from=started)
        try:
            con.execute("CHECKPOINT")
            (name,) = con.execute("SELECT current_database()").fetchone()
            con.execute(f"ATTACH {sql_string(copy)} AS compacted")
            con.execute(f'COPY FROM DATABASE "{name.replace(chr(34), chr(34) * 2)}" TO compacted')
            con.execute("DETACH compacted")
        except BaseException:
            con.close()
            copy.unlink(missing_ok=True)
            copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
            raise
        con.close()
        os.replace(copy, path)
    return file_bytes(path)
