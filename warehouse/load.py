"""Idempotent batch loads over an open writer connection (`warehouse.db.open_writer`).

Each function turns its batch into an Arrow table, registers it on the connection as `batch`
and upserts with `INSERT ... SELECT ... ON CONFLICT DO UPDATE` keyed on stable ids, so loading
the same batch twice leaves the same rows. Each is one transaction on its own, and joins the
caller's when called inside `con.transaction()`: the flow writes a batch's fetch log, raw
pages, extraction log and articles together, so a load killed half-way leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from extractors.models import (
    Actor,
    Article,
    ClusterResult,
    EntryRecord,
    ExtractionOutcome,
    FetchResult,
    Overflow,
    Place,
    RobotsRecord,
    Source,
    SourceOutcome,
    StoryResult,
)
from warehouse import raw_store, sql
from warehouse.db import Connection

_TS = pa.timestamp("us", tz="UTC")
_STRS = pa.list_(pa.string())
_WHO = pa.list_(pa.struct([("name", pa.string()), ("type", pa.string())]))
# The main place, flattened: name, country, lat, lon, id (see extractors.models.Place).
_WHERE_FIELDS = [("where_name", pa.string()), ("where_country", pa.string()),
                 ("where_lat", pa.float64()), ("where_lon", pa.float64()),
                 ("where_id", pa.string()), ("where_confidence", pa.float64()),
                 ("when_source", pa.string())]

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
     ("n_bytes", pa.int64()), ("file", pa.string())]
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
     ("tags", _STRS), ("who", _WHO), *_WHERE_FIELDS]
)
EVENT_SCHEMA = pa.schema(
    [("id", pa.string()), ("headline", pa.string()), ("event_date", pa.date32()),
     ("first_seen", _TS), ("last_seen", _TS), ("actors", _STRS), ("places", _STRS),
     ("keywords", _STRS), ("n_articles", pa.int32()), ("n_sources", pa.int32()),
     ("n_copies", pa.int32()), ("who", _WHO), *_WHERE_FIELDS, ("actor_keys", _STRS),
     ("story_id", pa.string()), ("terms", pa.map_(pa.string(), pa.float64()))]
)
STORY_SCHEMA = pa.schema(
    [("id", pa.string()), ("title", pa.string()), ("first_seen", _TS), ("last_seen", _TS),
     ("n_events", pa.int32()), ("n_articles", pa.int32()), ("actors", _STRS),
     ("places", _STRS)]
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
LINK_SCHEMA = pa.schema(
    [("article_id", pa.string()), ("other_id", pa.string()), ("same_event", pa.bool_()),
     ("score", pa.float64()), ("threshold", pa.float64()), ("scorer", pa.string()),
     ("evidence", pa.string()), ("run_id", pa.string())]
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
     ("read_at", _TS), ("fallback", pa.string()), ("message", pa.string()),
     ("deferred", pa.int32())]
)
VALIDATORS_SCHEMA = pa.schema(
    [("url", pa.string()), ("etag", pa.string()), ("last_modified", pa.string())]
)
ROBOTS_SCHEMA = pa.schema(
    [("host", pa.string()), ("fetched_at", _TS), ("expires_at", _TS),
     ("status_code", pa.int32()), ("rules", pa.string())]
)
_COUNTS = pa.map_(pa.string(), pa.int32())
SOURCE_RUN_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("source", pa.string()), ("run_at", _TS),
     ("status", pa.string()),
     ("reason", pa.string()), ("documents", pa.int32()), ("documents_failed", pa.int32()),
     ("document_errors", _COUNTS), ("pages", pa.int32()), ("pages_failed", pa.int32()),
     ("page_errors", _COUNTS), ("entries_seen", pa.int32()), ("entries_new", pa.int32()),
     ("entry_times", pa.list_(_TS)), ("entry_gaps", pa.list_(pa.float64()))]
)
NEW_ENTRIES_SCHEMA = pa.schema([("name", pa.string()), ("latest", _TS)])
TRANSITION_SCHEMA = pa.schema(
    [("source", pa.string()), ("run_id", pa.string()), ("run_at", _TS),
     ("state", pa.string()),
     ("previous", pa.string()), ("detail", pa.string())]
)
LISTED_SCHEMA = pa.schema([("url", pa.string()), ("listed_lastmod", _TS)])
URLS_SCHEMA = pa.schema([("url", pa.string())])
IDS_SCHEMA = pa.schema([("id", pa.string())])
NAMES_SCHEMA = pa.schema([("name", pa.string())])

Record = dict[str, Any]  # one row to load, by column name

# One step of a batch: a statement, the name it reads its Arrow batch under, and the batch.
Step = tuple[str, str, pa.Table | None]


def to_arrow(records: Iterable[Record], schema: pa.Schema) -> pa.Table:
    """Records (dicts by column name) to an Arrow table of `schema`."""
    return pa.Table.from_pylist(list(records), schema=schema)


def key_table(keys: Iterable[str], schema: pa.Schema) -> pa.Table:
    """A one-column table of the distinct `keys`, in first-seen order (ids, URLs, names)."""
    (name,) = schema.names
    return to_arrow(({name: k} for k in dict.fromkeys(keys)), schema)


def last_by_key(records: Iterable[Record], *key: str) -> list[Record]:
    """Keep the last record per key: an upsert may touch a row only once per statement."""
    return list({tuple(r[k] for k in key): r for r in records}.values())


def run_batch(con: Connection, steps: Sequence[Step]) -> None:
    """Run (statement, registered name, table) steps in one transaction; roll back on any error."""
    with con.transaction():
        for statement, name, table in steps:
            con.execute(statement, **({name: table} if table is not None else {}))


def set_watermark(con: Connection, name: str, at: datetime, state: dict | None = None) -> None:
    """Record that the task `name` handled everything up to `at` (migration 0018)."""
    con.execute(sql.SET_WATERMARK, {"name": name, "at": at,
                                    "state": json.dumps(state or {}, sort_keys=True)})


# --- runs and sources -------------------------------------------------------------------


def start_run(
    con: Connection, run_id: str, parameters: dict, flow_run_id: str | None = None
) -> None:
    """Record that a run started (again, if the same run id is retried)."""
    con.execute(sql.START_RUN, {
        "run_id": run_id,
        "flow_run_id": flow_run_id,
        "parameters": json.dumps(parameters, sort_keys=True, default=str),
    })


def committed_counts(con: Connection, run_id: str) -> dict[str, int]:
    """What a run committed, counted from the rows it wrote (see sql.RUN_COMMITTED)."""
    return con.one(sql.RUN_COMMITTED, {"run_id": run_id}) or {}


def abandon_runs(con: Connection, run_id: str) -> list[str]:
    """Mark every run but `run_id` still `running` as `abandoned`, with what it committed.
    Call it holding the run lock (warehouse.db.hold_run_lock): no other run is alive then."""
    gone = con.column(sql.UNFINISHED_RUNS, {"run_id": run_id})
    for other in gone:
        counts = json.dumps(committed_counts(con, other), sort_keys=True)
        con.execute(sql.ABANDON_RUN, {"run_id": other, "counts": counts})
    return gone


def finish_run(con: Connection, run_id: str, status: str, counts: dict) -> None:
    """Record how a run ended and what it counted."""
    con.execute(sql.FINISH_RUN, {"run_id": run_id, "status": status,
                                 "counts": json.dumps(counts, sort_keys=True)})


def upsert_sources(con: Connection, sources: Sequence[Source]) -> None:
    """Insert or update the configured outlets; `first_seen` and `last_success_at` are kept."""
    records = last_by_key(
        ({"name": s.name, "feeds": list(s.feeds), "sitemaps": list(s.sitemaps),
          "urls": list(s.urls), "language": s.language, "country": s.country}
         for s in sources),
        "name",
    )
    con.execute(sql.UPSERT_SOURCES, batch=to_arrow(records, SOURCES_SCHEMA))


def mark_source_success(con: Connection, source_names: Iterable[str], at: datetime) -> None:
    """Move each outlet's `last_success_at` forward to `at` (never backwards)."""
    con.execute(sql.MARK_SOURCE_SUCCESS, {"at": at},
                batch=key_table(source_names, NAMES_SCHEMA))


def record_source_outcomes(con: Connection, run_id: str, at: datetime,
                           outcomes: Iterable[SourceOutcome]) -> None:
    """One `source_runs` row per source of a run (again, if the run is retried); `at` as the
    `last_new_entry_at` of the sources that offered new entries, and their latest date as
    `latest_entry_at` (the outcomes' `entry_gaps` were counted from it: with_gaps)."""
    outcomes = list(outcomes)
    rows = [
        {"run_id": run_id, "source": o.source, "run_at": at, "status": o.status,
         "reason": o.reason, "documents": o.documents, "documents_failed": o.documents_failed,
         "document_errors": sorted(o.document_errors.items()), "pages": o.pages,
         "pages_failed": o.pages_failed, "page_errors": sorted(o.page_errors.items()),
         "entries_seen": o.entries_seen, "entries_new": o.entries_new,
         "entry_times": list(o.entry_times), "entry_gaps": list(o.entry_gaps)}
        for o in outcomes
    ]
    if not rows:
        return
    con.execute(sql.UPSERT_SOURCE_RUNS, batch=to_arrow(last_by_key(rows, "source"),
                                                       SOURCE_RUN_SCHEMA))
    new = [{"name": o.source, "latest": max(o.entry_times)} for o in outcomes if o.entry_times]
    if new:
        con.execute(sql.MARK_NEW_ENTRIES, {"at": at},
                    batch=to_arrow(last_by_key(new, "name"), NEW_ENTRIES_SCHEMA))


def record_transitions(con: Connection, records: Iterable[Record]) -> None:
    """Health changes (source, run_id, run_at, state, previous, detail), each stored once."""
    table = to_arrow(records, TRANSITION_SCHEMA)
    if table.num_rows:
        con.execute(sql.INSERT_TRANSITIONS, batch=table)


# --- fetches ----------------------------------------------------------------------------


def record_fetches(
    con: Connection, run_id: str, results: Sequence[FetchResult], raw: bool = True
) -> None:
    """Log every fetch outcome; keep the newest raw HTML of successful ones for re-extraction
    (in a Parquet file beside the warehouse, warehouse/raw_store.py; `raw_pages` points at
    it)."""
    kind = "page" if raw else "document"
    log = last_by_key(
        ({"run_id": run_id, "url": r.url, "source": r.source, "status_code": r.status_code,
          "error_class": r.error_class, "error": r.error, "n_bytes": r.n_bytes,
          "elapsed_ms": r.elapsed_ms, "attempt": r.attempts, "fetched_at": r.fetched_at,
          "kind": kind}
         for r in results),
        "run_id", "url",
    )
    steps: list[Step] = [(sql.UPSERT_FETCH_LOG, "batch", to_arrow(log, FETCH_SCHEMA))]
    newest = {r.url: r for r in sorted((r for r in results if r.ok), key=_fetch_order)}
    if raw and newest:
        files = raw_store.write_pages(con.value(sql.DATABASE_PATH),
                                      raw_store.batch_name(run_id, newest.values()),
                                      list(newest.values()))
        pages = [{"url": r.url, "source": r.source, "final_url": r.final_url,
                  "status_code": r.status_code, "fetched_at": r.fetched_at,
                  "content_type": r.content_type, "n_bytes": files[r.url].n_bytes,
                  "file": files[r.url].file} for r in newest.values()]
        steps.append((sql.UPSERT_RAW_PAGES, "batch", to_arrow(pages, RAW_SCHEMA)))
    run_batch(con, steps)


def _fetch_order(r: FetchResult) -> tuple[bool, datetime | None]:
    """Sort key putting undated results first, so the newest dated one wins per URL."""
    return (r.fetched_at is not None, r.fetched_at)


def record_validators(
    con: Connection, validators: Mapping[str, tuple[str | None, str | None]]
) -> None:
    """Store ETag / Last-Modified per feed or sitemap URL for the next conditional GET."""
    records = [{"url": url, "etag": etag, "last_modified": modified}
               for url, (etag, modified) in validators.items()]
    con.execute(sql.UPSERT_VALIDATORS, batch=to_arrow(records, VALIDATORS_SCHEMA))


def record_robots(con: Connection, records: Iterable[RobotsRecord]) -> None:
    """Keep each host's newest robots.txt answer until it expires (read by the next runs)."""
    rows = last_by_key(
        ({"host": r.host, "fetched_at": r.fetched_at, "expires_at": r.expires_at,
          "status_code": r.status_code, "rules": r.rules} for r in records),
        "host",
    )
    if rows:
        con.execute(sql.UPSERT_ROBOTS, batch=to_arrow(rows, ROBOTS_SCHEMA))


def record_listed_lastmods(con: Connection, listed: Mapping[str, datetime]) -> None:
    """Store, per child sitemap, the lastmod its index listed when it was last handled."""
    records = [{"url": url, "listed_lastmod": when} for url, when in listed.items()]
    if records:
        con.execute(sql.UPSERT_LISTED_LASTMOD, batch=to_arrow(records, LISTED_SCHEMA))


def forget_validators(con: Connection, urls: Iterable[str]) -> None:
    """Drop the validators of documents the next run must read in full."""
    con.execute(sql.DELETE_VALIDATORS, batch=key_table(urls, URLS_SCHEMA))


# --- the coverage ledger ----------------------------------------------------------------


def record_entries(
    con: Connection, run_id: str, records: Iterable[EntryRecord], at: datetime
) -> None:
    """Upsert ledger rows: each entry's latest outcome, first and last sighting, baseline."""
    rows = last_by_key(
        ({"source": r.entry.source, "url": r.entry.url, "guid": r.entry.guid,
          "via": r.entry.via, "title": r.entry.title, "published_at": r.entry.published,
          "updated": r.entry.updated, "stored_updated": r.stored_updated,
          "outcome": r.outcome, "reason": r.reason, "seen_at": at, "run_id": run_id,
          "refetched_at": at if r.refetched else None} for r in records),
        "source", "url",
    )
    if rows:
        con.execute(sql.UPSERT_ENTRIES, batch=to_arrow(rows, ENTRY_SCHEMA))


def record_overflows(con: Connection, run_id: str, overflows: Iterable[Overflow]) -> None:
    """Record the documents that overflowed in this run, with the message the run gave."""
    rows = last_by_key(
        ({"run_id": run_id, "source": o.source, "url": o.url, "kind": o.kind,
          "n_entries": o.n_entries, "last_read_at": o.last_read_at, "read_at": o.read_at,
          "fallback": o.fallback, "message": o.message(), "deferred": o.deferred}
         for o in overflows),
        "run_id", "url",
    )
    if rows:
        con.execute(sql.UPSERT_OVERFLOWS, batch=to_arrow(rows, OVERFLOW_SCHEMA))


# --- extraction -------------------------------------------------------------------------


def article_record(article: Article, run_id: str) -> Record:
    """One `articles` row; `urls` always includes the fetched URL."""
    f = article.facets
    return {
        "id": article.id, "canonical_url": article.canonical_url, "url": article.url,
        "urls": list(dict.fromkeys((*article.urls, article.url))), "source": article.source,
        "title": article.title, "author": article.author,
        "published_at": article.published_at, "date_source": article.date_source,
        "language": article.language, "site_name": article.site_name,
        "description": article.description, "text": article.text,
        "content_hash": article.content_hash, "fetched_at": article.fetched_at,
        "run_id": run_id, "actors": list(f.actors), "places": list(f.places),
        "event_date": f.event_date, "dates": list(f.dates), "keywords": list(f.keywords),
        "tags": list(article.tags),
        **record_columns(f.who, f.where, f.where_confidence, f.when_source),
    }


def record_columns(who: Sequence[Actor], where: Place | None,
                   where_confidence: float | None = None, when_source: str | None = None
                   ) -> Record:
    """The `who` and `where_*` columns of an article or event (migrations 0011, 0015)."""
    return {
        "who": [{"name": a.name, "type": a.type} for a in who],
        "where_name": where.name if where else None,
        "where_country": where.country if where else None,
        "where_lat": where.lat if where else None,
        "where_lon": where.lon if where else None,
        "where_id": where.id if where else None,
        "where_confidence": where_confidence if where else None,
        "when_source": when_source,
    }


def merge_article_records(records: Iterable[Record]) -> list[Record]:
    """One record per article id: later ones win but `urls` accumulate and the first fetch
    time stays."""
    merged: dict[str, Record] = {}
    for record in records:
        old = merged.get(record["id"])
        if old is not None:
            record = {
                **record,
                "urls": list(dict.fromkeys((*old["urls"], *record["urls"]))),
                "fetched_at": (old["fetched_at"] if old["fetched_at"] is not None
                               else record["fetched_at"]),
            }
        merged[record["id"]] = record
    return list(merged.values())


STORED_BY_ANOTHER = "stored by another source"  # extraction_log reason: see not_overwriting


def not_overwriting(
    outcomes: Sequence[ExtractionOutcome], owners: Mapping[str, str]
) -> list[ExtractionOutcome]:
    """The outcomes, an article stored by another source (`owners`: article id -> source, or
    claimed by an earlier outcome of the batch) turned into a skip: one outlet's page never
    replaces another's article, whatever identity it reaches."""
    claimed = dict(owners)
    out = []
    for outcome in outcomes:
        article = outcome.article
        if outcome.status == "extracted" and article is not None:
            owner = claimed.setdefault(article.id, outcome.source)
            if owner != outcome.source:
                outcome = replace(outcome, status="skipped",
                                  reason=f"{STORED_BY_ANOTHER}: {owner} ({article.canonical_url})")
        out.append(outcome)
    return out


@dataclass(frozen=True)
class ArticleWrites:
    """What record_extractions wrote to `articles`: the rows inserted as new (exactly as
    written) and the ids of stored articles it upserted."""

    inserted: tuple[Record, ...] = ()
    upserted: tuple[str, ...] = ()


def record_extractions(
    con: Connection, run_id: str, outcomes: Sequence[ExtractionOutcome]
) -> ArticleWrites:
    """Log each page's extraction outcome and upsert the articles extracted from them.

    One transaction. Which of the batch's articles are stored already is read first (their
    ids and content hashes: two columns, however many articles are stored), so new ones take
    a plain insert, stored ones the upsert, and only those whose text changed have their
    current version copied to article_versions. An article another source stored stays as it
    is (not_overwriting). Returns what it wrote (ArticleWrites)."""
    with con.transaction():
        ids = key_table((o.article.id for o in outcomes if o.article is not None), IDS_SCHEMA)
        owners = {r["id"]: r["source"] for r in con.rows(sql.ARTICLE_OWNERS, ids=ids)}
        outcomes = not_overwriting(outcomes, owners)
        log = last_by_key(
            ({"url": o.url, "run_id": run_id, "source": o.source, "status": o.status,
              "reason": o.reason, "article_id": o.article.id if o.article is not None else None}
             for o in outcomes),
            "url", "run_id",
        )
        articles = merge_article_records(
            article_record(o.article, run_id)
            for o in outcomes
            if o.status == "extracted" and o.article is not None
        )
        con.execute(sql.UPSERT_EXTRACTION_LOG, batch=to_arrow(log, EXTRACTION_SCHEMA))
        if not articles:
            return ArticleWrites()
        stored = {r["id"]: r["content_hash"] for r in con.rows(
            sql.STORED_CONTENT_HASHES, ids=key_table((a["id"] for a in articles), IDS_SCHEMA))}
        known = [a for a in articles if a["id"] in stored]
        changed = [a for a in known if stored[a["id"]] != a["content_hash"]]
        fresh = [a for a in articles if a["id"] not in stored]
        if changed:
            con.execute(sql.KEEP_REPLACED_VERSIONS, batch=to_arrow(changed, ARTICLE_SCHEMA))
        if known:
            con.execute(sql.UPSERT_EXISTING_ARTICLES, batch=to_arrow(known, ARTICLE_SCHEMA))
        if fresh:
            con.execute(sql.INSERT_NEW_ARTICLES, batch=to_arrow(fresh, ARTICLE_SCHEMA))
        return ArticleWrites(tuple(fresh), tuple(a["id"] for a in known))


# --- clusters ---------------------------------------------------------------------------


def replace_clusters(
    con: Connection,
    run_id: str,
    result: ClusterResult,
    article_ids: Collection[str],
    merges: Sequence[tuple[str, str]] = (),
    stories: StoryResult | None = None,
    old_events: Collection[str] | None = None,
) -> None:
    """Swap in a new clustering of `article_ids` atomically.

    Old duplicate and membership rows of those articles go, events left without members go,
    and the events, memberships and duplicates of `result` are upserted, with the merges.
    `stories` names each event's story and carries the records of the stories touched;
    stories left without events go. With `old_events` (the events those articles were in),
    only those events and their stories are checked for emptiness, not every stored one.
    """
    ids = key_table(article_ids, IDS_SCHEMA)
    story_of = stories.story_of if stories is not None else {}
    events = last_by_key(
        ({"id": e.id, "headline": e.headline, "event_date": e.event_date,
          "first_seen": e.first_seen, "last_seen": e.last_seen, "actors": list(e.actors),
          "places": list(e.places), "keywords": list(e.keywords), "n_articles": e.n_articles,
          "n_sources": e.n_sources, "n_copies": e.n_copies,
          **record_columns(e.who, e.where, e.where_confidence, e.when_source),
          "actor_keys": list(e.actor_keys), "story_id": story_of.get(e.id),
          "terms": list(e.terms)}
         for e in result.events),
        "id",
    )
    story_rows = last_by_key(
        ({"id": s.id, "title": s.title, "first_seen": s.first_seen, "last_seen": s.last_seen,
          "n_events": s.n_events, "n_articles": s.n_articles, "actors": list(s.actors),
          "places": list(s.places)}
         for s in (stories.stories if stories is not None else ())),
        "id",
    )
    memberships = last_by_key(
        ({"article_id": m.article_id, "event_id": m.event_id, "score": m.score,
          "features": list(m.features.items())}
         for m in result.memberships),
        "article_id",
    )
    duplicates = last_by_key(
        ({"article_id": d.article_id, "duplicate_of": d.duplicate_of, "kind": d.kind,
          "score": d.score} for d in result.duplicates),
        "article_id",
    )
    link_rows = last_by_key(
        ({"article_id": k.article_id, "other_id": k.other_id, "same_event": k.same_event,
          "score": k.score, "threshold": k.threshold, "scorer": k.scorer,
          "evidence": json.dumps(k.evidence, ensure_ascii=False, sort_keys=True),
          "run_id": run_id} for k in result.links),
        "article_id", "other_id",
    )
    merge_rows = last_by_key(
        ({"from_event_id": a, "into_event_id": b, "run_id": run_id} for a, b in merges),
        "from_event_id", "into_event_id", "run_id",
    )
    if old_events is None:
        empty_events: list[Step] = [(sql.DELETE_EMPTY_EVENTS, "", None)]
        empty_stories: list[Step] = [(sql.DELETE_EMPTY_STORIES, "", None)]
    else:
        olds = key_table(old_events, IDS_SCHEMA)
        old_stories = con.column(sql.STORIES_OF_EVENTS, ids=olds)
        empty_events = [(sql.DELETE_EMPTY_EVENTS_OF, "ids", olds)]
        empty_stories = [(sql.DELETE_EMPTY_STORIES_OF, "ids",
                          key_table((s for s in old_stories if s), IDS_SCHEMA))]
    run_batch(con, [
        (sql.DELETE_DUPLICATES_OF_IDS, "ids", ids),
        (sql.DELETE_MEMBERSHIPS_OF_IDS, "ids", ids),
        (sql.UPSERT_EVENTS, "batch", to_arrow(events, EVENT_SCHEMA)),
        (sql.UPSERT_MEMBERSHIPS, "batch", to_arrow(memberships, MEMBERSHIP_SCHEMA)),
        (sql.UPSERT_DUPLICATES, "batch", to_arrow(duplicates, DUPLICATE_SCHEMA)),
        *empty_events,
        (sql.INSERT_MERGES, "batch", to_arrow(merge_rows, MERGE_SCHEMA)),
        (sql.DELETE_LINKS_OF_IDS, "ids", ids),
        (sql.UPSERT_LINKS, "batch", to_arrow(link_rows, LINK_SCHEMA)),
        (sql.SET_EVENT_LANGUAGES, "ids", key_table((e["id"] for e in events), IDS_SCHEMA)),
        (sql.UPSERT_STORIES, "batch", to_arrow(story_rows, STORY_SCHEMA)),
        *empty_stories,
    ])
