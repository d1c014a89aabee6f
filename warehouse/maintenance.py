"""Housekeeping: Parquet export for sharing / analysis, and pruning old raw pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warehouse import sql
from warehouse.db import (
    compact,
    file_bytes,
    open_reader,
    open_writer,
    require_warehouse,
    sql_string,
)


@dataclass(frozen=True)
class Pruned:
    """What one prune did: raw pages dropped, and the warehouse's bytes on disk around it."""

    dropped: int
    bytes_before: int
    bytes_after: int


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


def prune_raw(path: str | Path, keep_days: int) -> Pruned:
    """Delete raw pages older than `keep_days` (articles, events stay) and give the space back.

    Deleting alone leaves the file as large as before (DuckDB keeps the freed blocks), so the
    warehouse is then compacted into a fresh copy.
    """
    if keep_days < 0:
        raise ValueError(f"keep_days must be >= 0, got {keep_days}")
    before = file_bytes(require_warehouse(path))
    with open_writer(path) as con:
        dropped = con.value(sql.PRUNE_RAW, {"days": keep_days})
    after = compact(path) if dropped else file_bytes(path)
    return Pruned(dropped=dropped, bytes_before=before, bytes_after=after)
