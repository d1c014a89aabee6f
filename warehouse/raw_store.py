"""Raw HTML beside the warehouse: one Parquet file per written batch, in a folder per day.

`<warehouse>.raw/day=YYYY-MM-DD/<run>-<batch>.parquet` (UTC day of the fetch) holds url,
source, final_url, status_code, fetched_at, content_type, n_bytes and html (zstd inside
Parquet). The `raw_pages` table keeps one row per URL pointing at the file holding its newest
response (`raw_pages.file`), so readers find a page by URL as before.

Why not in the DuckDB file: DuckDB rewrites a table's last, unfilled row group at every
checkpoint, and raw HTML makes that row group gigabytes: a year of history made each writer
close cost 9-10 s and grew the file by gigabytes a run (issue #32). Files written once are
never rewritten, and pruning old raw pages deletes whole days of files: the disk space comes
back at once, without copying the warehouse.

A file is written (and synced) before the transaction that points at it commits; a run
killed in between leaves a file nothing points at, which `prune` removes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extractors.fetch.charset import page_html, utf8_as_served
from extractors.models import FetchResult

RAW_SCHEMA = pa.schema(
    [("url", pa.string()), ("source", pa.string()), ("final_url", pa.string()),
     ("status_code", pa.int32()), ("fetched_at", pa.timestamp("us", tz="UTC")),
     ("content_type", pa.string()), ("n_bytes", pa.int64()), ("html", pa.string())]
)
DAY_PREFIX = "day="


def raw_dir(warehouse: str | Path) -> Path:
    """The folder of a warehouse file's raw pages."""
    path = Path(warehouse)
    return path.with_name(path.name + ".raw")


def _day(moment: datetime | None) -> date:
    return (moment or datetime.now(UTC)).astimezone(UTC).date()


def batch_name(run_id: str, pages: Iterable[FetchResult]) -> str:
    """A file name for a batch: the same batch written again (a re-run) gets the same name,
    so the file is replaced rather than doubled."""
    digest = hashlib.sha1()
    for p in sorted(pages, key=lambda p: p.url):
        digest.update(f"{p.url}\x1f{p.fetched_at}\x1e".encode())
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)[:64]
    return f"{safe}-{digest.hexdigest()[:16]}"


class Written(NamedTuple):
    """Where a page's HTML went (relative to the raw folder) and its UTF-8 length."""

    file: str
    n_bytes: int


# Columns small enough for Parquet's dictionary and min/max statistics to pay: on the html
# column both only cost CPU (every page is different; nothing filters on its HTML).
_SMALL_COLUMNS = [name for name in RAW_SCHEMA.names if name != "html"]


def write_pages(warehouse: str | Path, name: str, pages: Sequence[FetchResult]
                ) -> dict[str, Written]:
    """Write the pages' HTML (one file per fetch day) and return url -> where it went and its
    UTF-8 length (Arrow's own encoding: the caller need not encode the page again). `name`
    makes the file name unique (run id and batch)."""
    by_day: dict[date, list[FetchResult]] = defaultdict(list)
    for p in pages:
        by_day[_day(p.fetched_at)].append(p)
    where: dict[str, Written] = {}
    root = raw_dir(warehouse)
    for day, group in sorted(by_day.items()):
        relative = f"{DAY_PREFIX}{day.isoformat()}/{name}.parquet"
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        table = _raw_table(group)
        partial = target.with_name(target.name + ".partial")
        pq.write_table(table, partial, compression="zstd", use_dictionary=_SMALL_COLUMNS,
                       write_statistics=_SMALL_COLUMNS)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
        for url, n_bytes in zip(table.column("url").to_pylist(),
                                table.column("n_bytes").to_pylist(), strict=True):
            where[url] = Written(relative, n_bytes)
    return where


def _raw_table(pages: Sequence[FetchResult]) -> pa.Table:
    """The pages as RAW_SCHEMA columns; n_bytes is the length of the html column's UTF-8
    (no second encoding in Python)."""
    html = _html_column(pages)
    columns = {name: pa.array([getattr(p, name) for p in pages], RAW_SCHEMA.field(name).type)
               for name in ("url", "source", "final_url", "status_code", "fetched_at",
                            "content_type")}
    n_bytes = pc.binary_length(html).cast(pa.int64())
    return pa.Table.from_arrays([*columns.values(), n_bytes, html], schema=RAW_SCHEMA)


def _html_column(pages: Sequence[FetchResult]) -> pa.Array:
    """The UTF-8 of each page's decoded HTML. A page still in its bytes as served that
    decoding reads as UTF-8 is stored as it came, not decoded in this process: Arrow checks
    the whole column's UTF-8 at once, without building a str; a page that says UTF-8 and is
    not valid UTF-8 (decoding replaces its bad bytes) is decoded here, as is any other."""
    utf8 = [_as_served_utf8(p) for p in pages]
    values = [u if u is not None else _decoded_utf8(p) for u, p in zip(utf8, pages, strict=True)]
    try:
        return pa.array(values, pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        values = [v if u is None or _valid_utf8(u) else _decoded_utf8(p)
                  for v, u, p in zip(values, utf8, pages, strict=True)]
        return pa.array(values, pa.binary()).cast(pa.string())


def _as_served_utf8(page: FetchResult) -> bytes | None:
    served = page.body if page.html is None else None
    return served if served is not None and utf8_as_served(served, page.content_type) else None


def _decoded_utf8(page: FetchResult) -> bytes:
    return (page_html(page) or "").encode()


def _valid_utf8(data: bytes) -> bool:
    try:
        pa.array([data], pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True


def read_html(warehouse: str | Path, wanted: Iterable[tuple[str, str]]) -> dict[str, str]:
    """url -> HTML for (url, file) pairs; files that are gone yield nothing."""
    by_file: dict[str, set[str]] = defaultdict(set)
    for url, file in wanted:
        by_file[file].add(url)
    root = raw_dir(warehouse)
    found: dict[str, str] = {}
    for file, urls in by_file.items():
        path = root / file
        if not path.is_file():
            continue
        table = pq.read_table(path, columns=["url", "html"],
                              filters=[("url", "in", sorted(urls))])
        for url, html in zip(table.column("url").to_pylist(), table.column("html").to_pylist(),
                             strict=True):
            found[url] = html
    return found


def day_folders(warehouse: str | Path) -> list[tuple[date, Path]]:
    """(day, folder) of every day with raw pages, oldest first."""
    root = raw_dir(warehouse)
    if not root.is_dir():
        return []
    out = []
    for folder in root.iterdir():
        if folder.is_dir() and folder.name.startswith(DAY_PREFIX):
            try:
                out.append((date.fromisoformat(folder.name[len(DAY_PREFIX):]), folder))
            except ValueError:
                continue
    return sorted(out)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def drop_days_before(warehouse: str | Path, day: date) -> tuple[int, int]:
    """Delete the day folders older than `day`; (folders, bytes) removed."""
    removed = freed = 0
    for folder_day, folder in day_folders(warehouse):
        if folder_day < day:
            freed += folder_bytes(folder)
            shutil.rmtree(folder)
            removed += 1
    return removed, freed


def drop_unreferenced(warehouse: str | Path, referenced: set[str]) -> int:
    """Delete files no raw_pages row points at (left by a run killed before its commit, or
    superseded by newer responses in other files); returns bytes freed. Call it with no run
    writing (the run lock held): a run writes its file just before the row pointing at it."""
    root = raw_dir(warehouse)
    freed = 0
    for _, folder in day_folders(warehouse):
        for f in folder.glob("*.parquet*"):
            relative = f.relative_to(root).as_posix()
            if relative not in referenced:
                freed += f.stat().st_size
                f.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
    return freed
