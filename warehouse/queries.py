"""Read helpers over the warehouse; each opens (and closes) its own read-only connection."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from extractors.models import Article, Candidate, EntryFacts, Facets, FetchResult
from warehouse import sql
from warehouse.db import ReadOnlyViolation, open_reader
from warehouse.load import IDS_SCHEMA, URLS_SCHEMA, decompress, key_table, to_arrow
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


def entry_facts(path: str | Path, urls: Collection[str]) -> dict[str, EntryFacts]:
    """What the warehouse knows about each of `urls` (only URLs it knows anything about)."""
    with open_reader(path) as con:
        con.register("batch", _urls_table(urls))
        rows = con.execute(sql.ENTRY_FACTS).fetchall()
    return {
        url: EntryFacts(url, stored=stored, fetch_error=error, fetch_status=status,
                        failed_runs=n_runs, extraction=extraction,
                        extraction_reason=reason, guid=guid, baseline=baseline)
        for url, stored, error, status, n_runs, extraction, reason, guid, baseline in rows
    }


def document_state(
    path: str | Path, sources: Collection[str]
) -> tuple[dict[str, tuple[str | None, str | None]], dict[str, datetime]]:
    """For every feed and sitemap `sources` ever fetched: (url -> (etag, last_modified) to send,
    url -> lastmod its sitemap index listed when it was last handled)."""
    with open_reader(path) as con:
        con.register("batch", key_table(sources, pa.schema([("name", pa.string())])))
        rows = con.execute(sql.SOURCE_DOCUMENT_STATE).fetchall()
    validators = {url: (etag, modified) for url, etag, modified, _ in rows if etag or modified}
    listed = {url: when for url, _, _, when in rows if when is not None}
    return validators, listed


def ledger_guids(
    path: str | Path, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(source, guid) -> the URL the ledger knows it at, for those of `keys` it knows."""
    table = to_arrow(dict.fromkeys(keys), pa.schema([("source", pa.string()),
                                                     ("guid", pa.string())]))
    with open_reader(path) as con:
        con.register("batch", table)
        rows = con.execute(sql.LEDGER_GUIDS).fetchall()
    return {(source, guid): url for source, guid, url in rows}


def documents_read_before(
    path: str | Path, urls: Collection[str], run_id: str
) -> dict[str, datetime]:
    """Document URL -> when a run other than `run_id` last read it (200 or 304)."""
    with open_reader(path) as con:
        con.register("batch", _urls_table(urls))
        return dict(con.execute(sql.DOCUMENTS_READ_BEFORE, {"run_id": run_id}).fetchall())


def ledger_backlog(path: str | Path, sources: Collection[str]) -> list[Candidate]:
    """Entries of `sources` still owed a fetch (see sql.LEDGER_BACKLOG), as candidates."""
    with open_reader(path) as con:
        con.register("batch", key_table(sources, pa.schema([("name", pa.string())])))
        rows = con.execute(sql.LEDGER_BACKLOG).fetchall()
    return [
        Candidate(url, source, via, title=title, published=published, updated=updated,
                  guid=guid)
        for source, url, via, title, published, updated, guid in rows
    ]


def articles_added_by_run(path: str | Path, run_id: str) -> tuple[int, int]:
    """(articles `run_id` inserted, stored articles it replaced with a changed version)."""
    with open_reader(path) as con:
        inserted = con.execute(sql.ARTICLES_INSERTED_BY_RUN, {"run_id": run_id}).fetchall()
        updated = con.execute(sql.ARTICLES_UPDATED_BY_RUN, {"run_id": run_id}).fetchall()
    return inserted[0][0], updated[0][0]


def run_coverage(path: str | Path, run_id: str) -> tuple[list[dict], list[str]]:
    """The coverage ledger rows holding entries `run_id` saw, and its overflow messages."""
    with open_reader(path) as con:
        cursor = con.execute(sql.RUN_COVERAGE, {"run_id": run_id})
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        messages = [m for (m,) in con.execute(sql.RUN_OVERFLOWS, {"run_id": run_id}).fetchall()]
    return rows, messages


def event_of_articles(path: str | Path, article_ids: Collection[str]) -> dict[str, str]:
    """article id -> its current event id, for the given articles that have one."""
    with open_reader(path) as con:
        con.register("ids", key_table(article_ids, IDS_SCHEMA))
        return dict(con.execute(sql.EVENT_OF_ARTICLES).fetchall())


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
