"""The cluster index in the warehouse (migration 0018): reads for incremental clustering and
the write of what an update changed, over an open connection.

`IndexReads` answers extractors.events.incremental.IndexReader with batched queries (a few
per update, each bounded by the update's articles, their keys or their components, never by
the history); `write_change` writes an IndexChange in the caller's transaction. SQL in
warehouse/index_sql.py.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from extractors.models import ArticleFeatures, CopyFeatures, IndexEdge, IndexEntry
from warehouse import index_sql as q
from warehouse.db import Connection
from warehouse.load import key_table, to_arrow
from warehouse.queries import ID_LIST_CHUNK, rows_by_id_list
from warehouse.sql import TEXTS_BY_IDS

COPY, EVENT, XLANG = "copy", "event", "xlang"  # extractors.events.incremental's families
# Cross-lingual keys ('~n:', '~p:', '~#:', '~s:') share the event keys' table, hashed alike.
_TABLE = {COPY: "cluster_copy_keys", EVENT: "cluster_event_keys", XLANG: "cluster_event_keys"}
_KEY_TYPE = {COPY: pa.uint32(), EVENT: pa.uint64(), XLANG: pa.uint64()}
_STRS = pa.list_(pa.string())

ENTRY_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("article_id", pa.string()), ("content_hash", pa.string()),
    ("n_words", pa.int32()), ("sketch", pa.list_(pa.uint32())), ("role", pa.string()),
    ("copy_of", pa.int64()), ("copy_score", pa.float64()), ("comp", pa.int64()),
    ("time", pa.float64()), ("event_day", pa.float64()), ("stated", pa.bool_()),
    ("by_fetch", pa.bool_()), ("title", _STRS), ("summary", _STRS), ("lead", pa.string()),
    ("n_body", pa.int32()), ("terms", _STRS), ("weights", pa.list_(pa.float32())),
    ("actors", _STRS), ("places", _STRS), ("all_places", _STRS), ("cities", _STRS),
    ("countries", _STRS), ("names", _STRS), ("name_weights", pa.list_(pa.float64())),
    ("language", pa.string()), ("xl_keys", _STRS),
])
DECISION_SCHEMA = pa.schema([("seq", pa.int64()), ("role", pa.string()),
                             ("copy_of", pa.int64()), ("copy_score", pa.float64()),
                             ("comp", pa.int64())])
PAIR_SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("score", pa.float64())])
EDGE_SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("score", pa.float64()),
                         ("features", pa.map_(pa.string(), pa.float64()))])
TERM_DAY_SCHEMA = pa.schema([("day", pa.date32()), ("kind", pa.string()), ("term", pa.string()),
                             ("docs", pa.int32())])
ARTICLE_IDS_SCHEMA = pa.schema([("id", pa.string())])


def key_hash(key: str) -> int:
    """How an event key is stored: a 64-bit BLAKE2b hash (stable across versions and
    platforms). Two keys sharing a hash would share a block: at a few million keys, about
    one chance in a million a year."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _stored_keys(family: str, keys: Iterable) -> dict:
    """stored key -> key, for the keys as the index reader is given them."""
    if family != COPY:
        return {key_hash(k): k for k in keys}
    return {k: k for k in keys}


def _postings_schema(family: str) -> pa.Schema:
    return pa.schema([("key", _KEY_TYPE[family]), ("t", pa.float64()), ("seq", pa.int64())])


def _keys(family: str, keys: Iterable) -> pa.Table:
    return pa.table({"key": pa.array(sorted(set(keys)), type=_KEY_TYPE[family])})


def _seqs(seqs: Iterable[int]) -> pa.Table:
    return pa.table({"seq": pa.array(sorted(set(seqs)), type=pa.int64())})


def _ids(ids: Iterable[str]) -> pa.Table:
    return key_table(sorted(set(ids)), ARTICLE_IDS_SCHEMA)


# --- rows <-> entries --------------------------------------------------------------------


def entry_row(e: IndexEntry) -> dict[str, Any]:
    f = e.features
    return {
        "seq": e.seq, "article_id": e.id, "content_hash": e.copy.content_hash,
        "n_words": e.copy.n_words, "sketch": list(e.copy.sketch), "role": e.role,
        "copy_of": e.copy_of, "copy_score": e.copy_score, "comp": e.comp,
        "time": f.time, "event_day": f.event_day, "stated": f.stated, "by_fetch": f.by_fetch,
        "title": list(f.title), "summary": list(f.summary), "lead": f.lead,
        "n_body": f.n_words, "terms": list(f.terms), "weights": list(f.weights),
        "actors": list(f.actors), "places": list(f.places), "all_places": list(f.all_places),
        "cities": [c for c, _ in f.countries], "countries": [c for _, c in f.countries],
        "names": list(f.names), "name_weights": list(f.name_weights),
        "language": f.language or None, "xl_keys": list(f.xl_keys),
    }


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def entry_of(r: Mapping[str, Any]) -> IndexEntry:
    features = ArticleFeatures(
        id=r["article_id"], seq=r["seq"], time=_nan(r["time"]), event_day=_nan(r["event_day"]),
        stated=bool(r["stated"]), by_fetch=bool(r["by_fetch"]),
        title=tuple(r["title"] or ()), summary=tuple(r["summary"] or ()), lead=r["lead"] or "",
        n_words=r["n_body"] or 0, terms=tuple(r["terms"] or ()),
        weights=tuple(r["weights"] or ()), actors=tuple(r["actors"] or ()),
        places=tuple(r["places"] or ()), all_places=tuple(r["all_places"] or ()),
        countries=tuple(zip(r["cities"] or (), r["countries"] or (), strict=True)),
        names=tuple(r["names"] or ()), name_weights=tuple(r["name_weights"] or ()),
        language=r["language"] or "", xl_keys=tuple(r["xl_keys"] or ()),
    )
    copy = CopyFeatures(r["n_words"] or 0, r["content_hash"] or "", tuple(r["sketch"] or ()))
    return IndexEntry(r["article_id"], r["seq"], features, copy, r["role"], r["copy_of"],
                      r["copy_score"] or 0.0, r["comp"])


def _edge(r: Mapping[str, Any]) -> IndexEdge:
    return IndexEdge(r["a"], r["b"], r["score"], dict(r["features"] or {}))


# --- reads --------------------------------------------------------------------------------


class IndexReads:
    """extractors.events.incremental.IndexReader over an open connection."""

    def __init__(self, con: Connection, read_articles, read_texts=None) -> None:
        self.con = con
        self._read_articles = read_articles  # (con, ids) -> list[Article]: facts
        self._read_texts = read_texts or read_articles  # the same, texts too

    def _records(self, statement: str, params=None, **tables: pa.Table) -> list[dict]:
        """Rows through Arrow: entries and edges are rows of lists and maps, which convert
        in a fraction of what a row-by-row fetch costs (about 4x at 1M stored articles)."""
        return self.con.arrow(statement, params, **tables).to_pylist()

    def _entries(self, statement: str, params=None, **tables: pa.Table) -> list[IndexEntry]:
        return [entry_of(r) for r in self._records(statement, params, **tables)]

    def entries(self, seqs):
        sparse, dense = _dense_tail(sorted(set(seqs)))
        found: list[IndexEntry] = []
        if dense:
            # A bound list, not a joined table: the scan filters seq before it reads the
            # wide feature columns (about 3x faster on a year's index).
            found += self._entries(q.ENTRIES_BY_SEQ, {
                "seqs": dense, "lo": dense[0], "hi": dense[-1]})
        for start in range(0, len(sparse), ID_LIST_CHUNK):
            # Scattered ones through the seq index (migration 0020), a chunk at a time.
            chunk = sparse[start:start + ID_LIST_CHUNK]
            marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
            found += self._entries(q.ENTRIES_IN_LIST.format(seqs=marks), chunk)
        return {e.seq: e for e in sorted(found, key=lambda e: e.seq)}

    def entries_by_id(self, ids):
        ids = set(ids)
        if not ids:
            return {}
        seqs = self.con.column(q.SEQS_OF_ARTICLES, article_ids=_ids(ids))
        return {e.id: e for e in self.entries(seqs).values()}

    def same_hash(self, hashes):
        hashes = {h for h in hashes if h}
        if not hashes:
            return []
        seqs = self.con.column(q.SEQS_BY_HASH, keys=key_table(
            sorted(hashes), pa.schema([("key", pa.string())])))
        return [e for _, e in sorted(self.entries(seqs).items())]

    def key_stats(self, family, keys):
        stored = _stored_keys(family, keys)
        if not stored:
            return {}
        rows = self.con.rows(q.KEY_STATS.format(table=_TABLE[family]),
                             keys=_keys(family, stored))
        return {stored[r["key"]]: (r["n"], r["lo"], r["hi"]) for r in rows}

    def postings(self, family, ranges):
        stored = _stored_keys(family, ranges)
        flat = [(h, lo, hi) for h, k in stored.items() for lo, hi in ranges[k]]
        if not flat:
            return {}
        table = pa.table({"key": pa.array([k for k, _, _ in flat], type=_KEY_TYPE[family]),
                          "lo": pa.array([lo for _, lo, _ in flat], type=pa.float64()),
                          "hi": pa.array([hi for _, _, hi in flat], type=pa.float64())})
        lowest = min(lo for _, lo, _ in flat)
        out: dict = defaultdict(list)
        got = self.con.arrow(q.POSTINGS_IN_RANGES.format(table=_TABLE[family]),
                             {"lowest": lowest}, ranges=table)
        for key, t, seq in zip(got.column("key").to_pylist(), got.column("t").to_pylist(),
                               got.column("seq").to_pylist(), strict=True):
            out[stored[key]].append((t, seq))
        return out

    def between(self, family, spans):
        spans = list(dict.fromkeys(spans))
        if not spans:
            return {}
        stored = _stored_keys(family, {k for k, _, _ in spans})
        back = {k: h for h, k in stored.items()}
        table = pa.table({
            "key": pa.array([back[k] for k, _, _ in spans], type=_KEY_TYPE[family]),
            "t1": pa.array([x[0] for _, x, _ in spans], type=pa.float64()),
            "s1": pa.array([x[1] for _, x, _ in spans], type=pa.int64()),
            "t2": pa.array([y[0] for _, _, y in spans], type=pa.float64()),
            "s2": pa.array([y[1] for _, _, y in spans], type=pa.int64()),
        })
        rows = self.con.rows(q.POSTINGS_BETWEEN.format(table=_TABLE[family]), spans=table)
        return {(stored[r["key"]], (r["t1"], r["s1"]), (r["t2"], r["s2"])): r["n"]
                for r in rows}

    def copy_pairs(self, seqs):
        seqs = set(seqs)
        if not seqs:
            return []
        return [(r["a"], r["b"], r["score"])
                for r in self.con.rows(q.COPY_PAIRS_TOUCHING, ids=_seqs(seqs))]

    def edges(self, seqs):
        seqs = set(seqs)
        if not seqs:
            return []
        return [_edge(r) for r in self._records(q.EDGES_TOUCHING, ids=_seqs(seqs))]

    def component_members(self, labels):
        labels = {x for x in labels if x is not None}
        if not labels:
            return []
        return self.con.column(q.COMPONENT_MEMBERS, ids=_seqs(labels))

    def copies_of(self, seqs):
        seqs = set(seqs)
        if not seqs:
            return []
        found = self.con.column(q.SEQS_COPYING, ids=_seqs(seqs))
        return [e for _, e in sorted(self.entries(found).items())]

    def openings(self, seqs):
        from extractors.content.text import opening
        from extractors.events.dedup import COMPARE_CHARS

        seqs = set(seqs)
        if not seqs:
            return {}
        by_id = {r["article_id"]: r["seq"] for r in self.con.rows(q.IDS_BY_SEQ, {
            "seqs": sorted(seqs), "lo": min(seqs), "hi": max(seqs)})}
        rows = rows_by_id_list(self.con, TEXTS_BY_IDS, by_id)
        return {by_id[r["id"]]: opening(r["text"] or "", COMPARE_CHARS) for r in rows}

    def articles(self, ids):
        ids = set(ids)
        if not ids:
            return {}
        return {a.id: a for a in self._read_articles(self.con, ids)}

    def texts(self, ids):
        ids = set(ids)
        if not ids:
            return {}
        return {a.id: a for a in self._read_texts(self.con, ids)}

    def events_of(self, ids):
        ids = set(ids)
        if not ids:
            return {}
        return {r["article_id"]: r["event_id"]
                for r in self.con.rows(q.EVENTS_OF_ARTICLES, article_ids=_ids(ids))}


# A range of seqs is scanned whole when it holds at least one wanted seq in this many (a
# scanned row costs about a hundredth of a row found through the index).
DENSE_SEQS = 64


def _dense_tail(seqs: list[int]) -> tuple[list[int], list[int]]:
    """Sorted seqs split into (the scattered ones, the longest dense run of the latest):
    the latest are the last days' articles, read by one range scan."""
    cut = len(seqs)
    for i in range(len(seqs) - 1, -1, -1):
        if seqs[-1] - seqs[i] < DENSE_SEQS * (len(seqs) - i):
            cut = i
    return seqs[:cut], seqs[cut:]


def next_seq(con: Connection) -> int:
    return con.value(q.NEXT_SEQ)


def window_stats(con: Connection, terms: Iterable[str], names: Iterable[str], since: date,
                 stems: Iterable[str] = ()):
    """(documents, term -> documents, name word -> documents, cross-lingual stem ->
    documents) of the articles indexed on days since `since`, for the given terms, name words
    and stems."""
    wanted = sorted(set(terms) | set(names) | set(stems))
    rows = con.rows(q.WINDOW_STATS, {"since": since},
                    keys=key_table(wanted, pa.schema([("key", pa.string())])))
    docs = 0
    found: dict[str, dict[str, int]] = {"term": {}, "name": {}, "stem": {}}
    for r in rows:
        if r["kind"] == "docs":
            docs += r["docs"]
        else:
            found[r["kind"]][r["term"]] = r["docs"]
    return docs, found["term"], found["name"], found["stem"]


def unindexed_articles(con: Connection, ids: Iterable[str], since: datetime | None) -> list[str]:
    """Of `ids`, and of the articles fetched or changed since `since` (what a run that stopped
    before clustering left), those the index does not hold as they are now."""
    return con.column(q.UNINDEXED_ARTICLES, {"since": since}, article_ids=_ids(ids))


# --- the write ----------------------------------------------------------------------------


def write_change(con: Connection, change, first_seq: int, day: date, keep_days: int) -> None:
    """Write an IndexChange (extractors.events.incremental) in the caller's transaction:
    entries, postings, copy pairs, edges and the day's document frequencies."""
    fresh = [e for s, e in change.put.items() if s >= first_seq]
    decided = [e for s, e in change.put.items() if s < first_seq]
    steps: list[tuple[str, str, pa.Table]] = []
    if change.drop:
        steps.append((q.DELETE_ENTRIES, "ids", _seqs(change.drop)))
    if decided:
        steps.append((q.UPDATE_DECISIONS, "batch", to_arrow(
            ({"seq": e.seq, "role": e.role, "copy_of": e.copy_of, "copy_score": e.copy_score,
              "comp": e.comp} for e in decided), DECISION_SCHEMA)))
    if fresh:
        steps.append((q.INSERT_ENTRIES, "batch", to_arrow(map(entry_row, fresh), ENTRY_SCHEMA)))
    # Postings: every deletion (by seq, per table) before any insertion.
    gone: dict[str, set[int]] = defaultdict(set)
    for family in (COPY, EVENT, XLANG):
        gone[_TABLE[family]] |= {s for _, s in change.postings_del.get(family, ())}
    for table, seqs in gone.items():
        if seqs:
            steps.append((q.DELETE_POSTINGS_OF.format(table=table), "ids", _seqs(seqs)))
    for family in (COPY, EVENT, XLANG):
        added = change.postings_add.get(family, ())
        if added:
            steps.append((q.INSERT_POSTINGS.format(table=_TABLE[family]), "batch", to_arrow(
                ({"key": k if family == COPY else key_hash(k), "t": t, "seq": s}
                 for k, t, s in added), _postings_schema(family))))
    pairs_out = set(change.copy_pairs_del) | set(change.copy_pairs_add)
    if pairs_out:
        steps.append((q.DELETE_COPY_PAIRS, "batch", to_arrow(
            ({"a": a, "b": b, "score": None} for a, b in pairs_out), PAIR_SCHEMA)))
    if change.copy_pairs_add:
        steps.append((q.INSERT_COPY_PAIRS, "batch", to_arrow(
            ({"a": a, "b": b, "score": sc} for (a, b), sc in change.copy_pairs_add.items()),
            PAIR_SCHEMA)))
    edges_out = set(change.edges_del) | set(change.edges_add)
    if edges_out:
        steps.append((q.DELETE_EDGES, "batch", to_arrow(
            ({"a": e.a, "b": e.b, "score": None, "features": None}
             for e in _both_ways(edges_out)),
            EDGE_SCHEMA)))
    if change.edges_add:
        steps.append((q.INSERT_EDGES, "batch", to_arrow(
            ({"a": e.a, "b": e.b, "score": e.score, "features": list(e.features.items())}
             for e in change.edges_add.values()), EDGE_SCHEMA)))
    stats = change.stats
    if stats.docs:
        rows = [{"day": day, "kind": "docs", "term": "", "docs": stats.docs}]
        rows += [{"day": day, "kind": "term", "term": t, "docs": n} for t, n in stats.terms.items()]
        rows += [{"day": day, "kind": "name", "term": t, "docs": n} for t, n in stats.names.items()]
        rows += [{"day": day, "kind": "stem", "term": t, "docs": n} for t, n in stats.stems.items()]
        steps.append((q.INSERT_TERM_DAYS, "batch", to_arrow(rows, TERM_DAY_SCHEMA)))
    with con.transaction():
        for statement, name, table in steps:
            con.execute(statement, **{name: table})
        con.execute(q.PRUNE_TERM_DAYS, {"before": _days_before(day, keep_days)})


def _days_before(day: date, n: int) -> date:
    return day - timedelta(days=n)


def _both_ways(pairs: Iterable[tuple[int, int]]) -> Iterable[IndexEdge]:
    """Edge rows to delete: a stored edge is oriented by article id, a pair key by seq, so
    both orientations go."""
    for a, b in pairs:
        yield IndexEdge(a, b, 0.0)
        yield IndexEdge(b, a, 0.0)
