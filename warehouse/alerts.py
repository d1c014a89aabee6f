"""The watchlists' tables: what rule matching reads, new alerts, and delivery state.

Rule matching itself is a pure function in `reports.watchlists`; these are its reads and
writes over an open connection (SQL in `warehouse/digest_queries.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa

from warehouse import digest_queries as q
from warehouse.db import Connection, Row
from warehouse.load import to_arrow

ALERT_SCHEMA = pa.schema([
    ("rule", pa.string()), ("event_id", pa.string()), ("run_id", pa.string()),
    ("why", pa.string()), ("headline", pa.string()), ("event_date", pa.date32()),
    ("n_sources", pa.int32()),
])
DELIVERY_SCHEMA = pa.schema([
    ("rule", pa.string()), ("event_id", pa.string()), ("url_id", pa.string()),
    ("url", pa.string()), ("status", pa.string()), ("error", pa.string()),
    ("attempts", pa.int32()),
])


def watched_events(con: Connection, event_ids: Collection[str] | None) -> list[Row]:
    """The events rules are matched against (all, or `event_ids`): id, headline, event_date,
    n_sources, actors, places, keywords, sources (outlets) and alerted_before (rules that
    alerted on an event this one was merged from)."""
    return con.rows(q.WATCHED_EVENTS, {"all_events": event_ids is None,
                                       "event_ids": sorted(event_ids or ())})


def insert_alerts(con: Connection, alerts: Iterable[dict[str, Any]]) -> list[Row]:
    """Store matches (rule, event_id, run_id, why, headline, event_date, n_sources); only the
    first match of a (rule, event) is kept. Returns the rows that are new, with matched_at."""
    table = to_arrow(alerts, ALERT_SCHEMA)
    if not table.num_rows:
        return []
    return con.rows(q.INSERT_ALERTS, batch=table)


def delivery_state(con: Connection, url_ids: Collection[str]) -> list[Row]:
    """rule, event_id, url_id, status, attempts of every delivery to these URLs."""
    return con.rows(q.DELIVERY_STATE, {"url_ids": sorted(url_ids)})


def retryable_deliveries(con: Connection, url_ids: Collection[str]) -> list[Row]:
    """Failed deliveries to these URLs with attempts left, each with its alert's fields."""
    return con.rows(q.RETRYABLE_DELIVERIES, {"url_ids": sorted(url_ids)})


def record_deliveries(con: Connection, attempts: Iterable[dict[str, Any]]) -> None:
    """One row per attempt (rule, event_id, url_id, url, status, error, attempts)."""
    table = to_arrow(attempts, DELIVERY_SCHEMA)
    if table.num_rows:
        con.execute(q.UPSERT_DELIVERIES, batch=table)


def events_seen_since(con: Connection, since: datetime | None) -> list[str]:
    """Ids of stored events last seen since `since` (all when None), for re-evaluation."""
    return [row["id"] for row in con.rows(q.EVENTS_SEEN_SINCE, {"since": since})]


def recent_alerts(con: Connection, since: datetime | None, limit: int) -> list[Row]:
    """Recent matches, newest first, with how many deliveries succeeded and did not."""
    return con.rows(q.RECENT_ALERTS, {"since": since, "limit": limit})
