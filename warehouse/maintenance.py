"""Housekeeping: Parquet export for sharing / analysis, and pruning old raw pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warehouse import raw_store, sql
from warehouse.db import (
    compact,
    file_bytes,
    hold_run_lock,
    open_reader,
    open_writer,
    require_warehouse,
    sql_string,
)


@dataclass(frozen=True)
class Pruned:
    """What one prune did: raw pages dropped, and the warehouse's bytes on disk around it
    (the DuckDB file, its write-ahead log and the raw page files beside it)."""

    dropped: int
    bytes_before: int
    bytes_after: int
    in_file_bytes: int = 0  # of pages stored inside the DuckDB file: reused, not freed
    compacted: bool = False


def warehouse_bytes(path: str | Path) -> int:
    """The DuckDB file, its write-ahead log and the raw page files beside it."""
    root = raw_store.raw_dir(path)
    raw = raw_store.folder_bytes(root) if root.is_dir() else 0
    return file_bytes(path) + raw


def export_parquet(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one Parquet file per table; articles go to `articles/day=YYYY-MM-DD/` partitions.

    Returns what was written. Existing files in `out_dir` are overwritten.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with open_reader(path) as con:
        for table in con.column(sql.ALL_TABLES):  # names from the catalog
            if table == "articles":
                target = out / "articles"
                con.execute(
                    "COPY (SELECT *, CAST(coalesce(published_at, fetched_at) AS DATE) AS day "
                    f"FROM articles) TO {sql_string(target)} "
                    "(FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)"
                )
            else:
                target = out / f"{table}.parquet"
                con.execute(f'COPY "{table}" TO {sql_string(target)} (FORMAT parquet)')
            written.append(target)
    return written


def raw_pages_to_prune(path: str | Path, keep_days: int) -> tuple[int, int]:
    """(raw pages older than `keep_days`, all raw pages): what prune_raw would drop, of how many."""
    with open_reader(path) as con:
        return con.execute(sql.COUNT_RAW_TO_PRUNE, {"days": keep_days}).fetchall()[0]


def prune_raw(path: str | Path, keep_days: int, compact_file: bool = False,
              wait_s: float = 600.0) -> Pruned:
    """Delete raw pages older than `keep_days` (articles, events stay) and give the space back.

    Pages live in per-day files beside the warehouse (warehouse/raw_store.py): their rows go,
    whole days of files are deleted, and so are files no row points at (a killed run's, or
    responses superseded by newer ones), so the space comes back without copying anything.
    Pages stored inside the DuckDB file by older versions are deleted too; DuckDB reuses their
    space for later writes but does not shrink the file: `compact_file` copies the warehouse
    to give that space back (it costs time and disk in proportion to the whole warehouse).
    Takes the run lock, so no monitor run writes pages meanwhile (waits up to `wait_s`).
    """
    if keep_days < 0:
        raise ValueError(f"keep_days must be >= 0, got {keep_days}")
    require_warehouse(path)
    before = warehouse_bytes(path)
    lock = hold_run_lock(path, "prune", wait_s)
    try:
        with open_writer(path) as con, con.transaction():
            in_file = con.execute(sql.COUNT_RAW_IN_FILE_TO_PRUNE,
                                  {"days": keep_days}).fetchall()[0][1]
            dropped = con.value(sql.PRUNE_RAW, {"days": keep_days})
            cutoff = con.value("SELECT CAST(now() - to_days(CAST($days AS INTEGER)) AS DATE)",
                               {"days": keep_days})
            referenced = set(con.column(sql.RAW_FILES))
        raw_store.drop_days_before(path, cutoff)
        raw_store.drop_unreferenced(path, referenced)
        compacted = bool(compact_file and (dropped or in_file))
        if compacted:
            compact(path)
    finally:
        lock.release()
    return Pruned(dropped=dropped, bytes_before=before, bytes_after=warehouse_bytes(path),
                  in_file_bytes=0 if compacted else in_file, compacted=compacted)
