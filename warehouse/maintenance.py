"""Housekeeping: Parquet export for sharing / analysis, and pruning old raw pages."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
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


EXPORT_STATE = "_newsmon_export.json"  # in the export folder: where the next export resumes
NOT_EXPORTED = ("watermarks",)  # and the cluster index (cluster_*): derived, internal data


def export_parquet(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one Parquet file per table; articles go to `articles/day=YYYY-MM-DD/` partitions
    and the raw pages' HTML files are copied to `raw_pages_html/`.

    Incremental: the folder remembers when it was last exported from this warehouse
    (EXPORT_STATE), and then only the days of articles new or changed since are written
    again and only new raw page files copied; the other tables (rows of a few columns) are
    written in full. Returns what was written. Existing files in `out_dir` are overwritten.
    """
    path = require_warehouse(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state_file = out / EXPORT_STATE
    state = _export_state(state_file, path)
    written = []
    with open_reader(path) as con:
        started = con.value("SELECT now()")
        for table in con.column(sql.ALL_TABLES):  # names from the catalog
            if table in NOT_EXPORTED or table.startswith("cluster_"):
                continue
            if table == "articles":
                written.append(_export_articles(con, out / "articles", state))
            else:
                target = out / f"{table}.parquet"
                con.execute(f'COPY "{table}" TO {sql_string(target)} (FORMAT parquet)')
                written.append(target)
    written.append(_copy_raw_files(path, out / "raw_pages_html"))
    state_file.write_text(json.dumps({"warehouse": str(path.resolve()),
                                      "exported_until": started.isoformat()}))
    return written


def _export_state(state_file: Path, warehouse: Path) -> datetime | None:
    """When this folder was last exported from this warehouse (None: never, or another)."""
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    if state.get("warehouse") != str(warehouse.resolve()):
        return None
    return datetime.fromisoformat(state["exported_until"])


def _export_articles(con, target: Path, since: datetime | None) -> Path:
    """The articles, a folder per day; with `since`, only the days that changed since."""
    if since is None or not target.is_dir():
        if target.is_dir():
            shutil.rmtree(target)
        con.execute(f"COPY (SELECT *, {sql.ARTICLE_DAY} AS day FROM articles) "
                    f"TO {sql_string(target)} (FORMAT parquet, PARTITION_BY (day), "
                    "OVERWRITE_OR_IGNORE)")
        return target
    days = con.column(sql.ARTICLE_DAYS_CHANGED_SINCE, {"since": since})
    if not days:
        return target
    for day in days:
        folder = target / f"day={day.isoformat()}"
        if folder.is_dir():
            shutil.rmtree(folder)
    con.execute(f"COPY (SELECT *, {sql.ARTICLE_DAY} AS day FROM articles "
                f"WHERE {sql.ARTICLE_DAY} IN (SELECT unnest($days))) TO {sql_string(target)} "
                "(FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)", {"days": days})
    return target


def _copy_raw_files(warehouse: Path, target: Path) -> Path:
    """The raw pages' HTML files not yet in the export (hard links where possible)."""
    root = raw_store.raw_dir(warehouse)
    for _, folder in raw_store.day_folders(warehouse):
        for f in folder.glob("*.parquet"):
            copy = target / f.relative_to(root)
            if copy.exists() and copy.stat().st_size == f.stat().st_size:
                continue
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(f, copy)
            except OSError:
                shutil.copyfile(f, copy)
    return target


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
