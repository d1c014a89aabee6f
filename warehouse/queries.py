"""Read helpers over the warehouse; each opens (and closes) its own read-only connection."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from extractors.models import Article, Event, Facets, FetchResult
from warehouse import sql
from warehouse.db import ReadOnlyViolation, open_reader
from warehouse.load import IDS_SCHEMA, URLS_SCHEMA, decompress, key_table
from warehouse.load import load_validators as load_validators  # a read; also reachable here

# Statement types a read may have. SHOW, DESCRIBE and SUMMARIZE parse as SELECT.
_READ_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
# PRAGMAs that only look: anything else (e.g. PRAGMA enable_profiling) changes settings.
_READ_PRAGMAS = {"table_info", "show", "show_tables", "show_tables_expanded", "database_size",
                 "storage_info", "version", "platform", "metadata_info"}
_PRAGMA_NAME = re.compile(r"^\s*pragma\s+(\w+)", re.IGNORECASE)


def _urls_table(urls: Collection[str]) -> pa.Table:
    return key_table(urls, URLS_SCHEMA)


def stored_canonical_urls(path: str | Path, urls: Collection[str]) -> set[str]:
    """Those of `urls` that are the canonical URL of a stored article."""
    with open_reader(path) as con:
        con.register("batch", _urls_table(urls))
        return {row[0] for row in con.execute(sql.STORED_CANONICAL_URLS).fetchall()}


def known_urls(path: str | Path, urls: Collection[str]) -> set[str]:
    """Those of `urls` any stored article was reached by (or is canonically at)."""
    with open_reader(path) as con:
        con.register("batch", _urls_table(urls))
        return {row[0] for row in con.execute(sql.KNOWN_URLS).fetchall()}


def last_success(path: str | Path, source: str) -> datetime | None:
    """When `source` last completed a run without errors, if ever."""
    with open_reader(path) as con:
        rows = con.execute(sql.LAST_SUCCESS, {"source": source}).fetchall()
    return rows[0][0] if rows else None


def failed_pages(path: str | Path, source: str) -> list[tuple[str, int | None, str, int]]:
    """(url, status_code, error_class, runs failed) of `source`'s pages not stored yet."""
    with open_reader(path) as con:
        return con.execute(sql.PENDING_RETRIES, {"source": source}).fetchall()


def event_of_articles(path: str | Path, article_ids: Collection[str]) -> dict[str, str]:
    """article id -> its current event id, for the given articles that have one."""
    with open_reader(path) as con:
        con.register("ids", key_table(article_ids, IDS_SCHEMA))
        return dict(con.execute(sql.EVENT_OF_ARTICLES).fetchall())


def story_context(
    path: str | Path, since: datetime, window_ids: Collection[str]
) -> tuple[list[Event], dict[str, str]]:
    """The stored events that the window's events may join in stories (every event of a story
    seen since `since`, except those the re-clustering of `window_ids` replaces), and each
    one's story id. Their article ids are not loaded (stories do not need them)."""
    with open_reader(path) as con:
        con.register("ids", key_table(window_ids, IDS_SCHEMA))
        rows = con.execute(sql.STORY_CONTEXT, {"since": since}).fetchall()
    events = [
        Event(id=r[0], headline=r[1] or "", article_ids=(), event_date=r[2], first_seen=r[3],
              last_seen=r[4], actors=tuple(r[5] or ()), places=tuple(r[6] or ()),
              keywords=tuple(r[7] or ()), n_articles=r[8] or 0, n_sources=r[9] or 0,
              n_copies=r[10] or 0, terms=tuple(sorted((r[11] or {}).items(),
                                                      key=lambda kv: (-kv[1], kv[0]))))
        for r in rows
    ]
    return events, {r[0]: r[12] for r in rows}


def story_of_articles(path: str | Path, article_ids: Collection[str]) -> dict[str, str]:
    """article id -> the story its event is in now, for the given articles that have one."""
    with open_reader(path) as con:
        con.register("ids", key_table(article_ids, IDS_SCHEMA))
        return dict(con.execute(sql.STORY_OF_ARTICLES).fetchall())


def run_failures(path: str | Path, run_id: str) -> list[tuple[str, str, int]]:
    """(stage, reason, count) of what one run could not store, most frequent first."""
    with open_reader(path) as con:
        return con.execute(sql.RUN_FAILURES, {"run_id": run_id}).fetchall()


def articles_in_window(path: str | Path, since: datetime) -> list[Article]:
    """Stored articles published, fetched or about a date since `since`, for re-clustering."""
    with open_reader(path) as con:
        rows = con.execute(sql.ARTICLES_IN_WINDOW, {"since": since}).fetchall()
    return [_article(r) for r in rows]


def articles_by_ids(path: str | Path, article_ids: Collection[str]) -> list[Article]:
    """The stored articles with these ids (ordered by id); unknown ids are left out."""
    with open_reader(path) as con:
        con.register("ids", key_table(article_ids, IDS_SCHEMA))
        rows = con.execute(sql.ARTICLES_BY_IDS).fetchall()
    return [_article(r) for r in rows]


def unclustered_articles(path: str | Path) -> list[Article]:
    """Stored articles in no event yet, so the next run clusters what a killed run left."""
    with open_reader(path) as con:
        rows = con.execute(sql.UNCLUSTERED_ARTICLES).fetchall()
    return [_article(r) for r in rows]


def _article(r: tuple) -> Article:
    """An Article from a row of sql._ARTICLE_RECORDS."""
    return Article(
        id=r[0], url=r[1], canonical_url=r[2], source=r[3], title=r[4], text=r[5],
        content_hash=r[6], urls=tuple(r[7] or ()), author=r[8], published_at=r[9],
        date_source=r[10], language=r[11], site_name=r[12], description=r[13],
        fetched_at=r[14], tags=tuple(r[20] or ()),
        facets=Facets(
            actors=tuple(r[15] or ()), places=tuple(r[16] or ()), event_date=r[17],
            dates=tuple(r[18] or ()), keywords=tuple(r[19] or ()),
        ),
    )


def raw_pages(path: str | Path, urls: Collection[str] | None = None) -> list[FetchResult]:
    """Stored raw responses (all, or those of `urls`) as FetchResults, to re-extract offline."""
    with open_reader(path) as con:
        con.register("batch", _urls_table(urls or ()))
        rows = con.execute(sql.RAW_PAGES, {"all_urls": urls is None}).fetchall()
    return [
        FetchResult(
            url=url, source=source, final_url=final_url, status_code=status,
            content_type=ctype, html=decompress(blob, n_bytes), n_bytes=n_bytes,
            fetched_at=fetched_at,
        )
        for url, source, final_url, status, ctype, n_bytes, fetched_at, blob in rows
    ]


def run_started_at(path: str | Path, run_id: str) -> datetime | None:
    """When run `run_id` first started (a retried Prefect flow run keeps its run id)."""
    with open_reader(path) as con:
        rows = con.execute(sql.RUN_STARTED_AT, {"run_id": run_id}).fetchall()
    return rows[0][0] if rows else None


def check_read_only(query: str) -> None:
    """Raise ReadOnlyViolation unless every statement in `query` only reads."""
    statements = duckdb.extract_statements(query)
    if not statements:
        raise ReadOnlyViolation("empty query: newsmon sql needs one read statement")
    for st in statements:
        if st.type in _READ_TYPES:
            continue
        if st.type == duckdb.StatementType.PRAGMA:
            name = _PRAGMA_NAME.match(st.query)
            if name and name.group(1).lower() in _READ_PRAGMAS:
                continue
        kind = st.type.name.replace("_STATEMENT", "")
        raise ReadOnlyViolation(
            f"{kind} ({st.query.strip()[:60]!r}) is not allowed: newsmon sql is read-only"
        )


def run_readonly_sql(
    path: str | Path, query: str, params: Any = None
) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a read-only query; anything that could write is refused.

    Checked twice: the parsed statement types (for a clear message) and a read-only
    connection (so DuckDB itself refuses what the check might miss).
    """
    check_read_only(query)
    with open_reader(path) as con:
        # A read-only connection still reads and writes other files (COPY ... TO inside
        # EXPLAIN ANALYZE, read_text): user SQL gets no file or network access at all.
        con.execute(sql.NO_EXTERNAL_ACCESS)
        cursor = con.execute(query, params) if params is not None else con.execute(query)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall()


def table_counts(path: str | Path) -> dict[str, int]:
    """Rows per warehouse table (every table in the file, by name)."""
    with open_reader(path) as con:
        tables = [row[0] for row in con.execute(sql.ALL_TABLES).fetchall()]
        return {
            # names come from the catalog, never from input; quoted all the same
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
            for t in tables
        }


def top_events(path: str | Path, limit: int = 10) -> list[dict]:
    """The most widely reported events of the latest day with articles (see top_events_today)."""
    with open_reader(path) as con:
        cursor = con.execute(sql.TOP_EVENTS, {"limit": limit})
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
