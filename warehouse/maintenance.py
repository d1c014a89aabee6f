"""Housekeeping: Parquet export for sharing / analysis, and pruning old raw pages."""

from __future__ import annotations

from pathlib import Path

from warehouse import sql
from warehouse.db import open_reader, open_writer


def _literal(path: Path) -> str:
    """A SQL string literal for a file path (COPY TO takes no bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


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
                    f"FROM articles) TO {_literal(target)} "
                    "(FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE)"
                )
            else:
                target = out / f"{table}.parquet"
                con.execute(f'COPY "{table}" TO {_literal(target)} (FORMAT parquet)')
            written.append(target)
    return written


def prune_raw(path: str | Path, keep_days: int) -> int:
    """Delete raw pages older than `keep_days` (articles, events stay); returns how many."""
    if keep_days < 0:
        raise ValueError(f"keep_days must be >= 0, got {keep_days}")
    with open_writer(path) as con:
        return con.value(sql.PRUNE_RAW, {"days": keep_days})
