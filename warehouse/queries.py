"""Reads over an open connection (`warehouse.db.open_reader` or `open_writer`), by name.

Each returns plain records (`extractors.models`) or dicts, never positional tuples. The flow
reads what a stage needs before dispatching it: one query for all sources or a whole batch,
never one per source or page. `stream_readonly_sql` is the `newsmon sql` path (and
`run_readonly_sql` its small-result form): each opens its own read-only connection, bounded in
time and memory.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pyarrow as pa

from extractors.content.rawpage import decompress_page
from extractors.models import (
    Actor,
    Article,
    Candidate,
    EntryFacts,
    Event,
    Facets,
    FetchResult,
    Place,
    RobotsRecord,
)
from warehouse import raw_store, sql
from warehouse.db import Connection, ReadOnlyViolation, WarehouseError, open_reader, sql_string
from warehouse.load import IDS_SCHEMA, NAMES_SCHEMA, URLS_SCHEMA, key_table, to_arrow

# Statement types a read may have. SHOW, DESCRIBE and SUMMARIZE parse as SELECT.
_READ_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
# PRAGMAs that only look: anything else (e.g. PRAGMA enable_profiling) changes settings.
_READ_PRAGMAS = {"table_info", "show", "show_tables", "show_tables_expanded", "database_size",
                 "storage_info", "version", "platform", "metadata_info"}
_PRAGMA_NAME = re.compile(r"^\s*pragma\s+(\w+)", re.IGNORECASE)

Validators = tuple[str | None, str | None]  # (ETag, Last-Modified)
GUIDS_SCHEMA = pa.schema([("source", pa.string()), ("guid", pa.string())])


def _urls(urls: Iterable[str]) -> pa.Table:
    return key_table(urls, URLS_SCHEMA)


# --- what discovery and fetching need ----------------------------------------------------


def stored_canonical_urls(con: Connection, urls: Collection[str]) -> set[str]:
    """Those of `urls` that are the canonical URL of a stored article."""
    return set(con.column(sql.STORED_CANONICAL_URLS, batch=_urls(urls)))


def known_urls(con: Connection, urls: Collection[str]) -> set[str]:
    """Those of `urls` any stored article was reached by (or is canonically at)."""
    return set(con.column(sql.KNOWN_URLS, batch=_urls(urls)))


def last_success(con: Connection, sources: Iterable[str]) -> dict[str, datetime]:
    """source name -> when it last completed a run without errors (absent: never)."""
    return {
        row["name"]: row["last_success_at"]
        for row in con.rows(sql.LAST_SUCCESS, batch=key_table(sources, NAMES_SCHEMA))
    }


def validators(con: Connection, urls: Iterable[str]) -> dict[str, Validators]:
    """url -> (etag, last_modified) for the feed and sitemap URLs that have any stored."""
    return {
        row["url"]: (row["etag"], row["last_modified"])
        for row in con.rows(sql.SELECT_VALIDATORS, batch=_urls(urls))
    }


# --- the coverage ledger (extractors/fetch/ledger.py) --------------------------------------


def document_state(
    con: Connection, sources: Iterable[str]
) -> tuple[dict[str, dict[str, Validators]], dict[str, dict[str, datetime]]]:
    """Per source, for every feed and sitemap it ever fetched: (url -> (etag, last_modified)
    to send, url -> the lastmod its sitemap index listed when it was last handled)."""
    validators: dict[str, dict[str, Validators]] = {}
    listed: dict[str, dict[str, datetime]] = {}
    for r in con.rows(sql.SOURCE_DOCUMENT_STATE, batch=key_table(sources, NAMES_SCHEMA)):
        if r["etag"] or r["last_modified"]:
            validators.setdefault(r["source"], {})[r["url"]] = (r["etag"], r["last_modified"])
        if r["listed_lastmod"] is not None:
            listed.setdefault(r["source"], {})[r["url"]] = r["listed_lastmod"]
    return validators, listed


def ledger_backlog(con: Connection, sources: Iterable[str]) -> list[Candidate]:
    """Entries of these sources still owed a fetch (see sql.LEDGER_BACKLOG), as candidates."""
    return [Candidate(**row) for row in con.rows(
        sql.LEDGER_BACKLOG, batch=key_table(sources, NAMES_SCHEMA))]


def entry_facts(con: Connection, urls: Iterable[str]) -> dict[str, EntryFacts]:
    """What the warehouse knows about each of `urls` (only URLs it knows anything about)."""
    return {row["url"]: EntryFacts(**row)
            for row in con.rows(sql.ENTRY_FACTS, batch=_urls(urls))}


def ledger_guids(
    con: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(source, guid) -> the URL the ledger knows it at, for those of `keys` it knows."""
    table = to_arrow(({"source": s, "guid": g} for s, g in dict.fromkeys(keys)), GUIDS_SCHEMA)
    return {(r["source"], r["guid"]): r["url"]
            for r in con.rows(sql.LEDGER_GUIDS, batch=table)}


def documents_read_before(
    con: Connection, urls: Iterable[str], run_id: str
) -> dict[str, datetime]:
    """Document URL -> when a run other than `run_id` last read it (200 or 304)."""
    return {r["url"]: r["read_at"] for r in con.rows(
        sql.DOCUMENTS_READ_BEFORE, {"run_id": run_id}, batch=_urls(urls))}


def articles_added_by_run(con: Connection, run_id: str) -> tuple[int, int]:
    """(articles `run_id` inserted, stored articles it replaced with a changed version)."""
    return (con.value(sql.ARTICLES_INSERTED_BY_RUN, {"run_id": run_id}),
            con.value(sql.ARTICLES_UPDATED_BY_RUN, {"run_id": run_id}))


def run_coverage(con: Connection, run_id: str) -> tuple[list[dict], list[str]]:
    """The coverage ledger rows holding entries `run_id` saw, and its overflow messages."""
    return (con.rows(sql.RUN_COVERAGE, {"run_id": run_id}),
            con.column(sql.RUN_OVERFLOWS, {"run_id": run_id}))


def robots(con: Connection, hosts: Iterable[str], now: datetime) -> dict[str, RobotsRecord]:
    """host -> its robots.txt answer still valid at `now` (expired ones are left out)."""
    return {
        row["host"]: RobotsRecord(**row)
        for row in con.rows(sql.SELECT_ROBOTS, {"now": now},
                            batch=key_table(hosts, NAMES_SCHEMA))
    }


def run_started_at(con: Connection, run_id: str) -> datetime | None:
    """When run `run_id` first started (a retried Prefect flow run keeps its run id)."""
    return con.value(sql.RUN_STARTED_AT, {"run_id": run_id})


def raw_pages(
    con: Connection, urls: Collection[str] | None = None, since: datetime | None = None
) -> list[FetchResult]:
    """Stored raw responses (all, or those of `urls`; fetched at or after `since`) as
    FetchResults, to re-extract offline or to reuse in a retried run."""
    rows = con.rows(sql.RAW_PAGES, {"all_urls": urls is None, "since": since},
                    batch=_urls(urls or ()))
    in_files = raw_store.read_html(con.value(sql.DATABASE_PATH),
                                   [(r["url"], r["file"]) for r in rows if r["file"]])
    pages = []
    for r in rows:
        if r["file"]:
            html = in_files.get(r["url"])
        elif r["html_zstd"] is not None:
            html = decompress_page(r["html_zstd"], r["n_bytes"])
        else:
            html = None
        if html is not None:
            pages.append(FetchResult(
                url=r["url"], source=r["source"], final_url=r["final_url"],
                status_code=r["status_code"], content_type=r["content_type"], html=html,
                n_bytes=r["n_bytes"], fetched_at=r["fetched_at"]))
    return pages


# --- what clustering needs ---------------------------------------------------------------

_FACET_FIELDS = ("actors", "places", "event_date", "dates", "keywords")
_TUPLE_FIELDS = ("urls", "tags")
_WHERE_FIELDS = ("where_name", "where_country", "where_lat", "where_lon", "where_id")


def _article(row: dict[str, Any]) -> Article:
    """An Article from a row of sql._ARTICLE_RECORDS (columns named as Article's fields,
    plus `who`, the `where_*` columns of the main place and the facts' evidence)."""
    fields = dict(row)
    facets = {name: fields.pop(name) for name in _FACET_FIELDS}
    who = tuple(Actor(w["name"], w["type"]) for w in fields.pop("who") or ())
    where = [fields.pop(name) for name in _WHERE_FIELDS]
    evidence = {"where_confidence": fields.pop("where_confidence"),
                "when_source": fields.pop("when_source")}
    for name in _TUPLE_FIELDS:
        fields[name] = tuple(fields[name] or ())
    return Article(
        **fields,
        facets=Facets(**{k: v if k == "event_date" else tuple(v or ())
                         for k, v in facets.items()},
                      who=who, where=Place(*where) if where[0] is not None else None,
                      **evidence),
    )


def stored_article(record: Mapping[str, Any]) -> Article:
    """The Article that reading an `articles` row written from `record` (load.article_record)
    gives back: what a run hands to clustering instead of reading its new articles again."""
    return _article({k: v for k, v in record.items() if k != "run_id"})


ID_LIST_CHUNK = 500  # ids per lookup by primary key (DuckDB scans instead past ~2048)


def rows_by_id_list(con: Connection, statement: str, ids: Collection[str]) -> list[dict]:
    """Rows of `statement` (`id IN ({ids})`) for these ids, a chunk at a time, ordered by
    id: the ids are bound parameters, so the table's primary-key index finds them."""
    wanted = sorted(set(ids))
    rows: list[dict] = []
    for start in range(0, len(wanted), ID_LIST_CHUNK):
        chunk = wanted[start:start + ID_LIST_CHUNK]
        marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
        rows += con.rows(statement.format(ids=marks), chunk)
    return sorted(rows, key=lambda r: r["id"])


def article_facts_by_ids(con: Connection, article_ids: Collection[str]) -> list[Article]:
    """The stored articles with these ids, without their texts (text is "")."""
    return [_article(r) for r in rows_by_id_list(con, sql.ARTICLE_FACTS_BY_IDS, article_ids)]


def articles_by_ids(con: Connection, article_ids: Collection[str]) -> list[Article]:
    """The stored articles with these ids (ordered by id); unknown ids are left out."""
    return [_article(r) for r in rows_by_id_list(con, sql.ARTICLES_BY_IDS, article_ids)]


def event_and_story_of_articles(
    con: Connection, article_ids: Collection[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """For the given articles: article id -> its current event id (those that have one), and
    article id -> the story that event is in now (those in one)."""
    rows = con.rows(sql.EVENT_AND_STORY_OF_ARTICLES, ids=key_table(article_ids, IDS_SCHEMA))
    return ({row["article_id"]: row["event_id"] for row in rows},
            {row["article_id"]: row["story_id"] for row in rows if row["story_id"] is not None})


def story_candidates(
    con: Connection, events: Sequence[Event], since: datetime, replaced: Collection[str]
) -> tuple[list[Event], dict[str, str]]:
    """The stored events that `events` may join in stories: events in a story seen since
    `since` sharing a term, an actor or a place with them, and every event of those stories
    (`replaced`: event ids the new events replace, left out). Bounded by what the new events
    share, not by the number of stored events."""
    keys = _story_keys(events)
    if not keys:
        return [], {}
    # Through Arrow: tens of thousands of rows of lists, maps and zoned times convert in a
    # fraction of what a row-by-row fetch costs (6 s against 34 s at 1M stored articles).
    rows = con.arrow(sql.STORY_CANDIDATES, {"since": since},
                     batch=key_table(sorted(keys), pa.schema([("key", pa.string())])),
                     ids=key_table(replaced, IDS_SCHEMA)).to_pylist()
    return _story_events(rows)


def _story_keys(events: Sequence[Event]) -> set[str]:
    keys = {"t:" + t for e in events for t, _ in e.terms}
    keys |= {"a:" + a for e in events for a in e.actors}
    keys |= {"p:" + p for e in events for p in e.places}
    return keys


def story_context(
    con: Connection, events: Sequence[Event], since: datetime, replaced: Collection[str],
    top_names: int, max_postings: int,
) -> tuple[list[tuple], dict[str, str], set[str]]:
    """story_candidates' events, but `events`' own ids, narrow: ((id, first seen in
    microseconds since 1970 or None, first `top_names` actors, and places) of each; event id
    -> story id; the ids among them that are one of the `max_postings` latest holding a term
    of `events`)."""
    keys = _story_keys(events)
    if not keys:
        return [], {}, set()
    key_schema = pa.schema([("key", pa.string())])
    got = con.arrow(sql.STORY_CONTEXT, {"since": since, "top": top_names, "cap": max_postings},
                    batch=key_table(sorted(keys), key_schema),
                    fresh_terms=key_table(sorted({t for e in events for t, _ in e.terms}),
                                    pa.schema([("term", pa.string())])),
                    ids=key_table(replaced, IDS_SCHEMA),
                    fresh=key_table(sorted({e.id for e in events}), IDS_SCHEMA))
    columns = {name: got.column(name).to_pylist() for name in got.column_names}
    context = [(i, t, a or (), p or ()) for i, t, a, p in zip(
        columns["id"], columns["t_us"], columns["actors"], columns["places"], strict=True)]
    story_of = dict(zip(columns["id"], columns["story_id"], strict=True))
    by_terms = {i for i, flag in zip(columns["id"], columns["by_terms"], strict=True) if flag}
    return context, story_of, by_terms


def story_events(con: Connection, ids: Collection[str] = (), stories: Collection[str] = (),
                 replaced: Collection[str] = (), fresh: Collection[str] = ()
                 ) -> tuple[list[Event], dict[str, str]]:
    """Stored events in stories, whole, and their stories: those with these `ids`, or every
    event of these `stories` but `replaced` and `fresh` ones."""
    if stories:
        table = con.arrow(sql.STORY_MEMBERS, story_ids=key_table(sorted(stories), IDS_SCHEMA),
                          ids=key_table(replaced, IDS_SCHEMA), fresh=key_table(fresh, IDS_SCHEMA))
    elif ids:
        table = con.arrow(sql.STORY_EVENTS_BY_IDS, ids=key_table(sorted(ids), IDS_SCHEMA))
    else:
        return [], {}
    return _story_events(table.to_pylist())


def _story_events(rows: list[dict[str, Any]]) -> tuple[list[Event], dict[str, str]]:
    events = [
        Event(id=r["id"], headline=r["headline"] or "", article_ids=(),
              event_date=r["event_date"], first_seen=r["first_seen"], last_seen=r["last_seen"],
              actors=tuple(r["actors"] or ()), places=tuple(r["places"] or ()),
              keywords=tuple(r["keywords"] or ()), n_articles=r["n_articles"] or 0,
              n_sources=r["n_sources"] or 0, n_copies=r["n_copies"] or 0,
              terms=tuple(sorted(dict(r["terms"] or ()).items(), key=lambda kv: (-kv[1], kv[0]))))
        for r in rows
    ]
    return events, {r["id"]: r["story_id"] for r in rows}


# --- where incremental work resumes ---------------------------------------------------------


def watermark(con: Connection, name: str) -> tuple[datetime | None, dict]:
    """(until when the task `name` handled everything, its state); (None, {}) if never."""
    row = con.one(sql.WATERMARK, {"name": name})
    if row is None:
        return None, {}
    return row["handled_until"], json.loads(row["state"]) if row["state"] else {}


def watermarks(con: Connection, prefix: str) -> dict[str, datetime]:
    return {r["name"]: r["handled_until"] for r in con.rows(sql.WATERMARKS, {"prefix": prefix})}


def events_changed_since(con: Connection, since: datetime) -> list[str]:
    return con.column(sql.EVENTS_CHANGED_SINCE, {"since": since})


# --- what a run reports ------------------------------------------------------------------


def run_failures(con: Connection, run_id: str) -> list[dict[str, Any]]:
    """{stage, reason, n} of what one run could not store, most frequent first."""
    return con.rows(sql.RUN_FAILURES, {"run_id": run_id})


def source_health(con: Connection, names: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Rows of the `source_health` view (of `names`, or every source); none in a warehouse
    no run of this version has written yet (the view comes with migration 0017)."""
    if not con.value(sql.HAS_SOURCE_HEALTH):
        return []
    return con.rows(sql.SOURCE_HEALTH, {"all_sources": names is None,
                                        "names": sorted(names or ())})


def latest_entry_times(con: Connection, names: Collection[str]) -> dict[str, datetime]:
    """source -> the latest date of its entries so far (sources without any: absent)."""
    return {r["name"]: r["latest_entry_at"]
            for r in con.rows(sql.LATEST_ENTRY_AT, {"names": sorted(names)})}


def notified_states(con: Connection, names: Collection[str]) -> dict[str, str]:
    """source -> the latest health change notified for it (failing, quiet or recovered)."""
    return {r["source"]: r["state"]
            for r in con.rows(sql.NOTIFIED_STATES, {"names": sorted(names)})}


def table_counts(con: Connection) -> dict[str, int]:
    """Rows per warehouse table (every table in the file, by name)."""
    return {
        # names come from the catalog, never from input; quoted all the same
        table: con.value(f'SELECT count(*) FROM "{table}"')
        for table in con.column(sql.ALL_TABLES)
    }


def top_events(con: Connection, limit: int) -> list[dict[str, Any]]:
    """The most widely reported events of the latest day with articles (top_events_today)."""
    return con.rows(sql.TOP_EVENTS, {"limit": limit})


# --- the read-only SQL path (`newsmon sql`) -----------------------------------------------


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


SQL_TIMEOUT_S = 30.0  # a `newsmon sql` query is stopped after this (NEWSMON_SQL_TIMEOUT_S)
SQL_MEMORY_LIMIT = "1GB"  # ... and may use this much memory (NEWSMON_SQL_MEMORY_LIMIT)
ROWS_PER_BATCH = 10_000  # rows per Arrow record batch a result streams in


class QueryTimeout(WarehouseError):
    """A read-only query ran past its time bound (it was interrupted)."""


class QueryTooBig(WarehouseError):
    """A read-only query needed more memory than its limit."""


@contextmanager
def _bounded_reader(
    path: str | Path, query: str, timeout_s: float, memory_limit: str
) -> Iterator[Connection]:
    """A read-only connection for one user query: no file or network access, a memory limit,
    and interrupted after `timeout_s` (it holds the file, and a run's writer waits for it).
    DuckDB's errors for the two bounds come out as QueryTimeout and QueryTooBig."""
    check_read_only(query)
    with open_reader(path) as con:
        # A read-only connection still reads and writes other files (COPY ... TO inside
        # EXPLAIN ANALYZE, read_text): user SQL gets no file or network access at all.
        con.execute(sql.NO_EXTERNAL_ACCESS)
        con.execute(sql.SET_MEMORY_LIMIT.format(limit=sql_string(memory_limit)))
        timer = threading.Timer(timeout_s, con.duckdb.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield con
        except duckdb.OutOfMemoryException as exc:
            raise QueryTooBig(f"the query needs more than the {memory_limit} of memory it may "
                              "use (NEWSMON_SQL_MEMORY_LIMIT)") from exc
        except (duckdb.InterruptException, OSError) as exc:
            if timer.is_alive() or "interrupt" not in str(exc).lower():
                raise
            raise QueryTimeout(f"the query was stopped after {timeout_s:g} s "
                               "(NEWSMON_SQL_TIMEOUT_S): it holds the warehouse meanwhile, and "
                               "runs wait for it") from exc
        finally:
            timer.cancel()


def run_readonly_sql(
    path: str | Path, query: str, params: Any = None, *, timeout_s: float = SQL_TIMEOUT_S,
    memory_limit: str = SQL_MEMORY_LIMIT,
) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a read-only query; anything that could write is refused.

    Checked twice: the parsed statement types (for a clear message) and a read-only
    connection of its own (so DuckDB itself refuses what the check might miss). Bounded in
    time and memory (_bounded_reader); `stream_readonly_sql` for results of any size.
    """
    with _bounded_reader(path, query, timeout_s, memory_limit) as con:
        cursor = con.execute(query, params)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall()


@dataclass
class StreamedResult:
    """A query's result, spooled to an anonymous temporary file as Arrow record batches while
    the warehouse was open; read back batch by batch after it was let go, so that a slow
    reader of the output (a pager, a pipe) never holds the warehouse."""

    columns: list[str]
    schema: pa.Schema
    rows: int
    _file: BinaryIO

    def batches(self) -> Iterator[pa.RecordBatch]:
        self._file.seek(0)
        with pa.ipc.open_stream(self._file) as reader:
            yield from reader

    def close(self) -> None:
        self._file.close()


def stream_readonly_sql(
    path: str | Path, query: str, params: Any = None, *, timeout_s: float = SQL_TIMEOUT_S,
    memory_limit: str = SQL_MEMORY_LIMIT, rows_per_batch: int = ROWS_PER_BATCH,
) -> StreamedResult:
    """A read-only query's result as Arrow record batches (see StreamedResult): DuckDB streams
    it batch by batch, never the whole result in memory, within `timeout_s` and
    `memory_limit`. Close the result when done."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the result owns it (close())
    try:
        with _bounded_reader(path, query, timeout_s, memory_limit) as con:
            relation = con.duckdb.sql(query, params=params)
            if relation is None:  # a statement without a result
                schema = pa.schema([])
                batches: Iterable[pa.RecordBatch] = ()
            else:
                reader = relation.to_arrow_reader(rows_per_batch)
                schema, batches = reader.schema, reader
            rows = 0
            with pa.ipc.new_stream(spool, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)
                    rows += batch.num_rows
    except BaseException:
        spool.close()
        raise
    return StreamedResult(list(schema.names), schema, rows, spool)
