"""Idempotent batch loads: one writer open, one transaction and a few bulk statements per call.

Each function turns its batch into an Arrow table, registers it on the connection as `batch`
and upserts with `INSERT ... SELECT ... ON CONFLICT DO UPDATE` keyed on stable ids, so loading
the same batch twice leaves the same rows, and a load killed half-way leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from extractors.models import (
    Article,
    ClusterResult,
    EntryRecord,
    ExtractionOutcome,
    FetchResult,
    Overflow,
    Source,
)
from warehouse import sql
from warehouse.db import DEFAULT_STORAGE_VERSION, open_reader, open_writer

_TS = pa.timestamp("us", tz="UTC")
_STRS = pa.list_(pa.string())

SOURCES_SCHEMA = pa.schema(
    [("name", pa.string()), ("feeds", _STRS), ("sitemaps", _STRS), ("urls", _STRS),
     ("language", pa.string()), ("country", pa.string())]
)
FETCH_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("url", pa.string()), ("source", pa.string()),
     ("status_code", pa.int32()), ("error_class", pa.string()), ("error", pa.string()),
     ("n_bytes", pa.int64()), ("elapsed_ms", pa.float64()), ("attempt", pa.int32()),
     ("fetched_at", _TS), ("kind", pa.string())]
)
RAW_SCHEMA = pa.schema(
    [("url", pa.string()), ("source", pa.string()), ("final_url", pa.string()),
     ("status_code", pa.int32()), ("fetched_at", _TS), ("content_type", pa.string()),
     ("n_bytes", pa.int64()), ("html_zstd", pa.binary())]
)
EXTRACTION_SCHEMA = pa.schema(
    [("url", pa.string()), ("run_id", pa.string()), ("source", pa.string()),
     ("status", pa.string()), ("reason", pa.string()), ("article_id", pa.string())]
)
ARTICLE_SCHEMA = pa.schema(
    [("id", pa.string()), ("canonical_url", pa.string()), ("url", pa.string()),
     ("urls", _STRS), ("source", pa.string()), ("title", pa.string()),
     ("author", pa.string()), ("published_at", _TS), ("date_source", pa.string()),
     ("language", pa.string()), ("site_name", pa.string()), ("description", pa.string()),
     ("text", pa.string()), ("content_hash", pa.string()), ("fetched_at", _TS),
     ("run_id", pa.string()), ("actors", _STRS), ("places", _STRS),
     ("event_date", pa.date32()), ("dates", pa.list_(pa.date32())), ("keywords", _STRS),
     ("tags", _STRS)]
)
EVENT_SCHEMA = pa.schema(
    [("id", pa.string()), ("headline", pa.string()), ("event_date", pa.date32()),
     ("first_seen", _TS), ("last_seen", _TS), ("actors", _STRS), ("places", _STRS),
     ("keywords", _STRS), ("n_articles", pa.int32()), ("n_sources", pa.int32()),
     ("n_copies", pa.int32())]
)
MEMBERSHIP_SCHEMA = pa.schema(
    [("article_id", pa.string()), ("event_id", pa.string()), ("score", pa.float64()),
     ("features", pa.map_(pa.string(), pa.float64()))]
)
DUPLICATE_SCHEMA = pa.schema(
    [("article_id", pa.string()), ("duplicate_of", pa.string()), ("kind", pa.string()),
     ("score", pa.float64())]
)
MERGE_SCHEMA = pa.schema(
    [("from_event_id", pa.string()), ("into_event_id", pa.string()), ("run_id", pa.string())]
)
ENTRY_SCHEMA = pa.schema(
    [("source", pa.string()), ("url", pa.string()), ("guid", pa.string()), ("via", pa.string()),
     ("title", pa.string()), ("published_at", _TS), ("updated", _TS), ("stored_updated", _TS),
     ("outcome", pa.string()), ("reason", pa.string()), ("seen_at", _TS),
     ("run_id", pa.string()), ("refetched_at", _TS)]
)
OVERFLOW_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("source", pa.string()), ("url", pa.string()),
     ("kind", pa.string()), ("n_entries", pa.int32()), ("last_read_at", _TS),
     ("read_at", _TS), ("fallback", pa.string()), ("message", pa.string())]
)
URLS_SCHEMA = pa.schema([("url", pa.string())])
IDS_SCHEMA = pa.schema([("id", pa.string())])

# One step of a batch: a statement, the name it reads its Arrow batch under, and the batch.
Step = tuple[str, str, pa.Table | None]


def to_arrow(rows: Iterable[tuple], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in schema order) to an Arrow table, column by column."""
    columns = list(zip(*rows, strict=True)) or [() for _ in schema]
    return pa.table(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def key_table(keys: Iterable[str], schema: pa.Schema) -> pa.Table:
    """A one-column table of the distinct `keys`, in first-seen order (ids, URLs, names)."""
    return to_arrow([(k,) for k in dict.fromkeys(keys)], schema)


def last_by_key(rows: Iterable[tuple], key_len: int = 1) -> list[tuple]:
    """Keep the last row per key (the first `key_len` fields): an upsert may touch a row once."""
    return list({row[:key_len]: row for row in rows}.values())


def run_batch(
    con: duckdb.DuckDBPyConnection, statements: Sequence[Step]
) -> None:
    """Run (statement, registered name, table) steps in one transaction; roll back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        for statement, name, table in statements:
            if table is not None:
                con.register(name, table)
            con.execute(statement)
            if table is not None:
                con.unregister(name)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _load(path: str | Path, statements: Sequence[Step]) -> None:
    with open_writer(path) as con:
        run_batch(con, statements)


# --- runs and sources -------------------------------------------------------------------


def start_run(
    path: str | Path, run_id: str, parameters: dict, flow_run_id: str | None = None,
    storage_version: str = DEFAULT_STORAGE_VERSION,
) -> None:
    """Record that a run started (again, if the same run id is retried).

    A run's first write: a new warehouse file is created here, in `storage_version`'s format.
    """
    params = {
        "run_id": run_id,
        "flow_run_id": flow_run_id,
        "parameters": json.dumps(parameters, sort_keys=True, default=str),
    }
    with open_writer(path, storage_version=storage_version) as con:
        con.execute(sql.START_RUN, params)


def finish_run(path: str | Path, run_id: str, status: str, counts: dict[str, int]) -> None:
    """Record how a run ended and what it counted."""
    params = {"run_id": run_id, "status": status, "counts": json.dumps(counts, sort_keys=True)}
    with open_writer(path) as con:
        con.execute(sql.FINISH_RUN, params)


def upsert_sources(path: str | Path, sources: Sequence[Source]) -> None:
    """Insert or update the configured outlets; `first_seen` and `last_success_at` are kept."""
    rows = last_by_key(
        (s.name, list(s.feeds), list(s.sitemaps), list(s.urls), s.language, s.country)
        for s in sources
    )
    _load(path, [(sql.UPSERT_SOURCES, "batch", to_arrow(rows, SOURCES_SCHEMA))])


def mark_source_success(path: str | Path, source_names: Iterable[str], at: datetime) -> None:
    """Move each outlet's `last_success_at` forward to `at` (never backwards)."""
    table = key_table(source_names, pa.schema([("name", pa.string())]))
    with open_writer(path) as con:
        con.register("batch", table)
        con.execute(sql.MARK_SOURCE_SUCCESS, {"at": at})


# --- fetches ----------------------------------------------------------------------------


def _compress(body: bytes) -> bytes:
    return pa.compress(body, codec="zstd", asbytes=True)


def decompress(blob: bytes, n_bytes: int) -> str:
    """The HTML stored by record_fetches (`n_bytes` is its UTF-8 length)."""
    return pa.decompress(blob, decompressed_size=n_bytes, codec="zstd", asbytes=True).decode(
        "utf-8"
    )


def record_fetches(
    path: str | Path, run_id: str, results: Sequence[FetchResult], raw: bool = True
) -> None:
    """Log every fetch outcome; keep the newest raw HTML of successful ones for re-extraction."""
    kind = "page" if raw else "document"
    log = [
        (run_id, r.url, r.source, r.status_code, r.error_class, r.error, r.n_bytes,
         r.elapsed_ms, r.attempts, r.fetched_at, kind)
        for r in results
    ]
    log = last_by_key(log, key_len=2)  # key (run_id, url)
    steps: list[Step] = [
        (sql.UPSERT_FETCH_LOG, "batch", to_arrow(log, FETCH_SCHEMA))
    ]
    if raw:
        pages = []
        for r in sorted((r for r in results if r.ok), key=_fetch_order):
            body = r.html.encode("utf-8")
            pages.append((r.url, r.source, r.final_url, r.status_code, r.fetched_at,
                          r.content_type, len(body), _compress(body)))
        steps.append((sql.UPSERT_RAW_PAGES, "batch", to_arrow(last_by_key(pages), RAW_SCHEMA)))
    _load(path, steps)


def _fetch_order(r: FetchResult) -> tuple[bool, datetime | None]:
    """Sort key putting undated results first, so the newest dated one wins per URL."""
    return (r.fetched_at is not None, r.fetched_at)


def record_validators(
    path: str | Path, validators: Mapping[str, tuple[str | None, str | None]]
) -> None:
    """Store ETag / Last-Modified per feed or sitemap URL for the next conditional GET."""
    rows = [(url, etag, modified) for url, (etag, modified) in validators.items()]
    schema = pa.schema([("url", pa.string()), ("etag", pa.string()),
                        ("last_modified", pa.string())])
    _load(path, [(sql.UPSERT_VALIDATORS, "batch", to_arrow(rows, schema))])


def load_validators(
    path: str | Path, urls: Iterable[str]
) -> dict[str, tuple[str | None, str | None]]:
    """url -> (etag, last_modified) for the URLs that have any stored."""
    table = key_table(urls, URLS_SCHEMA)
    with open_reader(path) as con:
        con.register("batch", table)
        rows = con.execute(sql.SELECT_VALIDATORS).fetchall()
    return {url: (etag, modified) for url, etag, modified in rows}


def record_listed_lastmods(path: str | Path, listed: Mapping[str, datetime]) -> None:
    """Store, per child sitemap, the lastmod its index listed when it was last handled."""
    rows = list(listed.items())
    schema = pa.schema([("url", pa.string()), ("listed_lastmod", _TS)])
    _load(path, [(sql.UPSERT_LISTED_LASTMOD, "batch", to_arrow(rows, schema))])


def forget_validators(path: str | Path, urls: Iterable[str]) -> None:
    """Drop the validators of documents the next run must read in full."""
    _load(path, [(sql.DELETE_VALIDATORS, "batch", key_table(urls, URLS_SCHEMA))])


# --- the coverage ledger ----------------------------------------------------------------


def record_entries(
    path: str | Path, run_id: str, records: Iterable[EntryRecord], at: datetime
) -> None:
    """Upsert ledger rows: each entry's latest outcome, first and last sighting, baseline."""
    rows = last_by_key(
        ((r.entry.source, r.entry.url, r.entry.guid, r.entry.via, r.entry.title,
          r.entry.published, r.entry.updated, r.stored_updated, r.outcome, r.reason, at,
          run_id, at if r.refetched else None) for r in records),
        key_len=2,
    )
    _load(path, [(sql.UPSERT_ENTRIES, "batch", to_arrow(rows, ENTRY_SCHEMA))])


def record_overflows(path: str | Path, run_id: str, overflows: Iterable[Overflow]) -> None:
    """Record the documents that overflowed in this run, with the message the run gave."""
    rows = last_by_key(
        ((run_id, o.source, o.url, o.kind, o.n_entries, o.last_read_at, o.read_at, o.fallback,
          o.message()) for o in overflows),
        key_len=3,
    )
    _load(path, [(sql.UPSERT_OVERFLOWS, "batch", to_arrow(rows, OVERFLOW_SCHEMA))])


# --- extraction -------------------------------------------------------------------------


def article_row(article: Article, run_id: str) -> tuple:
    """One `articles` row in ARTICLE_SCHEMA order; `urls` always includes the fetched URL."""
    urls = list(dict.fromkeys((*article.urls, article.url)))
    f = article.facets
    return (
        article.id, article.canonical_url, article.url, urls, article.source, article.title,
        article.author, article.published_at, article.date_source, article.language,
        article.site_name, article.description, article.text, article.content_hash,
        article.fetched_at, run_id, list(f.actors), list(f.places), f.event_date,
        list(f.dates), list(f.keywords), list(article.tags),
    )


def merge_article_rows(rows: Iterable[tuple]) -> list[tuple]:
    """One row per article id: later rows win but `urls` accumulate and first fetch time stays."""
    merged: dict[str, tuple] = {}
    for row in rows:
        old = merged.get(row[0])
        if old is not None:
            urls = list(dict.fromkeys((*old[3], *row[3])))
            fetched = old[14] if old[14] is not None else row[14]
            row = (*row[:3], urls, *row[4:14], fetched, *row[15:])
        merged[row[0]] = row
    return list(merged.values())


def extraction_steps(
    run_id: str, outcomes: Sequence[ExtractionOutcome]
) -> list[Step]:
    """The statements and Arrow batches record_extractions runs in its one transaction."""
    log = [
        (o.url, run_id, o.source, o.status, o.reason,
         o.article.id if o.article is not None else None)
        for o in outcomes
    ]
    log = last_by_key(log, key_len=2)  # key (url, run_id)
    articles = merge_article_rows(
        article_row(o.article, run_id)
        for o in outcomes
        if o.status == "extracted" and o.article is not None
    )
    table = to_arrow(articles, ARTICLE_SCHEMA)
    return [
        (sql.UPSERT_EXTRACTION_LOG, "batch", to_arrow(log, EXTRACTION_SCHEMA)),
        (sql.KEEP_REPLACED_VERSIONS, "batch", table),
        (sql.UPSERT_EXISTING_ARTICLES, "batch", table),
        (sql.INSERT_NEW_ARTICLES, "batch", table),
    ]


def record_extractions(
    path: str | Path, run_id: str, outcomes: Sequence[ExtractionOutcome]
) -> None:
    """Log each page's extraction outcome and upsert the articles extracted from them."""
    _load(path, extraction_steps(run_id, outcomes))


# --- clusters ---------------------------------------------------------------------------


def replace_clusters(
    path: str | Path,
    run_id: str,
    result: ClusterResult,
    article_ids: Collection[str],
    merges: Sequence[tuple[str, str]] = (),
) -> None:
    """Swap in a new clustering of `article_ids` atomically.

    Old duplicate and membership rows of those articles go, events left without members go,
    and the events, memberships and duplicates of `result` are upserted, with the merges.
    """
    ids = key_table(article_ids, IDS_SCHEMA)
    events = last_by_key(
        (e.id, e.headline, e.event_date, e.first_seen, e.last_seen, list(e.actors),
         list(e.places), list(e.keywords), e.n_articles, e.n_sources, e.n_copies)
        for e in result.events
    )
    memberships = last_by_key(
        (m.article_id, m.event_id, m.score, list(m.features.items()))
        for m in result.memberships
    )
    duplicates = last_by_key(
        (d.article_id, d.duplicate_of, d.kind, d.score) for d in result.duplicates
    )
    merge_rows = last_by_key(((a, b, run_id) for a, b in merges), key_len=3)
    _load(
        path,
        [
            (sql.DELETE_DUPLICATES_OF_IDS, "ids", ids),
            (sql.DELETE_MEMBERSHIPS_OF_IDS, "ids", ids),
            (sql.UPSERT_EVENTS, "batch", to_arrow(events, EVENT_SCHEMA)),
            (sql.UPSERT_MEMBERSHIPS, "batch", to_arrow(memberships, MEMBERSHIP_SCHEMA)),
            (sql.UPSERT_DUPLICATES, "batch", to_arrow(duplicates, DUPLICATE_SCHEMA)),
            (sql.DELETE_EMPTY_EVENTS, "", None),
            (sql.INSERT_MERGES, "batch", to_arrow(merge_rows, MERGE_SCHEMA)),
        ],
    )
