"""Watchlists: named rules over events, evaluated after every load, and their notifications.

A rule names what to watch; every clause given must hold, and a list clause holds when the
event has any of its values (case-insensitive):

    [[rule]]
    name = "caucasus"
    places_any = ["Armenia", "Azerbaijan"]   # also: actors_any, keywords_any, sources_any
    min_sources = 2                          # distinct outlets reporting it (default 1)

    [delivery]                               # optional: Apprise URLs, one message per match
    urls = ["json://127.0.0.1:8080/hook", "mailtos://user:pass@example.com"]

Each match is stored once per (rule, event) in `alerts`, so a re-run tells nobody twice.
Delivery goes through Apprise; a failed delivery is recorded in `alert_deliveries` and tried
again by the next delivery pass (up to MAX_ATTEMPTS), and never raises out of here.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

import apprise
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from extractors.fetch.errors import NewsmonError
from warehouse import digest_queries as q
from warehouse.db import open_reader, open_writer

MAX_ATTEMPTS = 5  # deliveries to one URL that failed this often are marked 'abandoned'
CLAUSES = ("actors_any", "places_any", "keywords_any", "sources_any")


class WatchlistsConfigError(NewsmonError, ValueError):
    """watchlists.toml cannot be used; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class Rule:
    name: str
    actors_any: tuple[str, ...] = ()
    places_any: tuple[str, ...] = ()
    keywords_any: tuple[str, ...] = ()
    sources_any: tuple[str, ...] = ()
    min_sources: int = 1


@dataclass(frozen=True)
class Watchlists:
    rules: tuple[Rule, ...]
    urls: tuple[str, ...] = ()  # Apprise notification URLs


@dataclass(frozen=True)
class Alert:
    """One rule matching one event; `why` says which clause matched on what."""

    rule: str
    event_id: str
    matched_at: datetime
    why: str
    headline: str = ""
    event_date: date | None = None
    n_sources: int = 0
    run_id: str | None = None


@dataclass
class DeliveryReport:
    """What one delivery pass did: attempts, successes and the errors of the failures."""

    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    abandoned: int = 0
    errors: list[str] = field(default_factory=list)


# --- the file ---------------------------------------------------------------------------


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1)
    actors_any: list[str] = []
    places_any: list[str] = []
    keywords_any: list[str] = []
    sources_any: list[str] = []
    min_sources: int = Field(default=1, ge=1)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator(*CLAUSES)
    @classmethod
    def _values_not_blank(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not value.strip():
                raise ValueError(f"item {i} is blank")
        return [v.strip() for v in values]


class _DeliveryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    urls: list[str] = []

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if apprise.Apprise.instantiate(value.strip()) is None:
                scheme = value.split("://", 1)[0] if "://" in value else value[:12]
                raise ValueError(f"item {i} is not a URL Apprise can notify ({scheme!r}...)")
        return [v.strip() for v in values]


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: list[dict] = Field(min_length=1)
    delivery: dict = {}


def load_watchlists(path: str | Path) -> Watchlists:
    """Parse `path`; raise WatchlistsConfigError naming file, rule and field on any problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WatchlistsConfigError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchlistsConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise WatchlistsConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        top = _FileModel.model_validate(data)
    except ValidationError as exc:
        raise WatchlistsConfigError(
            f"{path}: expected one or more [[rule]] tables and an optional [delivery] table: "
            + "; ".join(_describe(err) for err in exc.errors())
        ) from exc

    rules: list[Rule] = []
    first_index: dict[str, int] = {}
    for index, table in enumerate(top.rule, start=1):
        label = f"rule #{index}"
        if isinstance(table.get("name"), str) and table["name"].strip():
            label = f"rule {table['name'].strip()!r} (#{index})"
        try:
            model = _RuleModel.model_validate(table)
        except ValidationError as exc:
            raise WatchlistsConfigError(
                f"{path}: {label}: " + "; ".join(_describe(err) for err in exc.errors())
            ) from exc
        if model.name in first_index:
            raise WatchlistsConfigError(
                f"{path}: {label}: field 'name': duplicate of rule #{first_index[model.name]}"
            )
        if not any(getattr(model, c) for c in CLAUSES) and "min_sources" not in table:
            raise WatchlistsConfigError(
                f"{path}: {label}: no clause: give at least one of "
                f"{', '.join(CLAUSES)}, min_sources (else it would match every event)"
            )
        first_index[model.name] = index
        rules.append(Rule(
            name=model.name, actors_any=tuple(model.actors_any),
            places_any=tuple(model.places_any), keywords_any=tuple(model.keywords_any),
            sources_any=tuple(model.sources_any), min_sources=model.min_sources,
        ))
    try:
        delivery = _DeliveryModel.model_validate(top.delivery)
    except ValidationError as exc:
        raise WatchlistsConfigError(
            f"{path}: [delivery]: " + "; ".join(_describe(err) for err in exc.errors())
        ) from exc
    return Watchlists(rules=tuple(rules), urls=tuple(delivery.urls))


def _describe(error: dict) -> str:
    """One pydantic error as "field 'x': message" (unknown keys say so plainly)."""
    loc = ".".join(str(part) for part in error["loc"]) or "(table)"
    if error["type"] == "extra_forbidden":
        return f"field {loc!r}: unknown key"
    return f"field {loc!r}: {error['msg'].removeprefix('Value error, ')}"


# --- evaluation -------------------------------------------------------------------------

_ALERT_BATCH = pa.schema([
    ("rule", pa.string()), ("event_id", pa.string()), ("run_id", pa.string()),
    ("why", pa.string()), ("headline", pa.string()), ("event_date", pa.date32()),
    ("n_sources", pa.int32()),
])


def _why(rule: Rule, hits: dict[str, list[str]], n_sources: int) -> str:
    """Which clause matched on what, e.g. "places_any: Armenia, Azerbaijan; min_sources: 2>=2"."""
    parts = [f"{clause}: {', '.join(hits[clause])}" for clause in CLAUSES
             if getattr(rule, clause)]
    if rule.min_sources > 1 or not parts:
        parts.append(f"min_sources: {n_sources}>={rule.min_sources}")
    return "; ".join(parts)


def _rule_params(rule: Rule, event_ids: Collection[str] | None) -> dict:
    params: dict = {c: [v.lower() for v in getattr(rule, c)] for c in CLAUSES}
    params["rule"] = rule.name
    params["min_sources"] = rule.min_sources
    params["all_events"] = event_ids is None
    params["event_ids"] = sorted(event_ids or ())
    return params


def evaluate_watchlists(
    db: str | Path,
    rules_path: str | Path,
    run_id: str | None,
    event_ids: Collection[str] | None = None,
) -> list[Alert]:
    """Match every rule against the given events (None: all) and store new matches.

    Returns only the alerts that are new: a (rule, event) already in `alerts` is never
    returned (or notified) again, however often the same events are evaluated.
    """
    rules = load_watchlists(rules_path).rules
    if event_ids is not None and not event_ids:
        return []
    with open_writer(db) as con:
        rows = []
        for rule in rules:
            for ev_id, headline, ev_date, n_sources, *hit_lists in con.execute(
                q.MATCH_RULE, _rule_params(rule, event_ids)
            ).fetchall():
                hits = dict(zip(CLAUSES, hit_lists, strict=True))
                rows.append((rule.name, ev_id, run_id, _why(rule, hits, n_sources),
                             headline, ev_date, n_sources))
        if not rows:
            return []
        batch = pa.Table.from_pylist(
            [dict(zip(_ALERT_BATCH.names, r, strict=True)) for r in rows], schema=_ALERT_BATCH
        )
        con.register("batch", batch)
        inserted = con.execute(q.INSERT_ALERTS).fetchall()
        con.unregister("batch")
    alerts = [
        Alert(rule=r[0], event_id=r[1], matched_at=r[2], run_id=r[3], why=r[4],
              headline=r[5] or "", event_date=r[6], n_sources=r[7] or 0)
        for r in inserted
    ]
    return sorted(alerts, key=lambda a: (a.rule, a.event_id))


def _utc(since: date | datetime | None) -> datetime | None:
    """A date means its midnight UTC; a naive time is UTC."""
    if isinstance(since, date) and not isinstance(since, datetime):
        return datetime.combine(since, time(), UTC)
    if isinstance(since, datetime) and since.tzinfo is None:
        return since.replace(tzinfo=UTC)
    return since


@dataclass(frozen=True)
class Evaluation:
    """What applying the rules to stored events did (`newsmon alerts --evaluate`)."""

    rules: int
    events: int
    alerts: list[Alert]
    delivery: DeliveryReport


def evaluate_stored(
    db: str | Path, rules_path: str | Path, since: date | datetime | None = None
) -> Evaluation:
    """Apply the rules to events already in the warehouse (last seen since `since`, or all).

    New matches are stored and delivered exactly as after a run; a (rule, event) matched
    before is neither stored nor delivered again, however often this runs.
    """
    watchlists = load_watchlists(rules_path)
    with open_reader(db) as con:
        ids = [r[0] for r in con.execute(q.EVENTS_SEEN_SINCE, {"since": _utc(since)}).fetchall()]
    alerts = evaluate_watchlists(db, rules_path, None, ids)
    delivery = deliver_alerts(db, alerts, watchlists.urls)
    return Evaluation(len(watchlists.rules), len(ids), alerts, delivery)


# --- delivery ---------------------------------------------------------------------------

_DELIVERY_BATCH = pa.schema([
    ("rule", pa.string()), ("event_id", pa.string()), ("url_id", pa.string()),
    ("url", pa.string()), ("status", pa.string()), ("error", pa.string()),
    ("attempts", pa.int32()),
])


def url_id(url: str) -> str:
    """A stable key for a notification URL that does not reveal its secrets."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _redacted(url: str) -> str:
    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True) if plugin is not None else url.split("://", 1)[0] + "://…"


def alert_message(alert: Alert) -> tuple[str, str]:
    """(title, body) of the one notification sent for an alert."""
    title = f"newsmon watchlist '{alert.rule}': {alert.headline}"
    body = "\n".join([
        alert.headline,
        f"event date: {alert.event_date.isoformat() if alert.event_date else 'unknown'}",
        f"sources: {alert.n_sources}",
        f"why: {alert.why}",
        f"event id: {alert.event_id}",
        f"matched at: {alert.matched_at.astimezone(UTC).isoformat(timespec='seconds')}",
    ])
    return title, body


def _send(url: str, alert: Alert) -> str | None:
    """Send one notification; the error text if it failed (Apprise logs, never raises)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "not a URL Apprise can notify"
    title, body = alert_message(alert)
    try:
        with apprise.LogCapture(level=logging.WARNING) as log:
            ok = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
            captured = log.getvalue().strip()
    except Exception as exc:  # a plugin bug must not stop the run: record it instead
        return f"{type(exc).__name__}: {exc}"
    if ok:
        return None
    return captured.splitlines()[-1] if captured else "delivery failed"


def deliver_alerts(
    db: str | Path, alerts: Iterable[Alert], urls: Collection[str]
) -> DeliveryReport:
    """Send each alert once to each URL, and retry earlier failed deliveries to those URLs.

    Network I/O happens with no warehouse connection open; the outcome of every attempt is
    then written in one batch. Errors are recorded and counted, never raised.
    """
    report = DeliveryReport()
    urls = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
    if not urls:
        return report
    by_id = {url_id(u): u for u in urls}
    ids = sorted(by_id)
    with open_reader(db) as con:
        state = {
            (r[0], r[1], r[2]): (r[3], r[4])
            for r in con.execute(q.DELIVERY_STATE, {"url_ids": ids}).fetchall()
        }
        retries = [
            (r[0], Alert(rule=r[1], event_id=r[2], matched_at=r[3], run_id=r[4], why=r[5],
                         headline=r[6] or "", event_date=r[7], n_sources=r[8] or 0))
            for r in con.execute(q.RETRYABLE_DELIVERIES, {"url_ids": ids}).fetchall()
        ]

    work: dict[tuple[str, str, str], Alert] = {}
    for uid, alert in retries:
        work[(alert.rule, alert.event_id, uid)] = alert
    for alert in alerts:
        for uid in ids:
            key = (alert.rule, alert.event_id, uid)
            if key not in state:  # delivered, abandoned or failed rows are handled above
                work[key] = alert

    rows = []
    for (rule, event_id, uid), alert in work.items():
        error = _send(by_id[uid], alert)
        attempts = state.get((rule, event_id, uid), ("", 0))[1] + 1
        report.attempted += 1
        if error is None:
            status = "delivered"
            report.delivered += 1
        elif attempts >= MAX_ATTEMPTS:
            status = "abandoned"
            report.abandoned += 1
        else:
            status = "failed"
            report.failed += 1
        if error is not None:
            report.errors.append(f"{rule}/{event_id} -> {_redacted(by_id[uid])}: {error}")
        rows.append({"rule": rule, "event_id": event_id, "url_id": uid,
                     "url": _redacted(by_id[uid]), "status": status, "error": error,
                     "attempts": attempts})
    if rows:
        with open_writer(db) as con:
            con.register("batch", pa.Table.from_pylist(rows, schema=_DELIVERY_BATCH))
            con.execute(q.UPSERT_DELIVERIES)
            con.unregister("batch")
    return report


# --- listing ----------------------------------------------------------------------------


def alerts_command(
    db: str | Path, since: date | datetime | None = None, limit: int = 200
) -> list[dict]:
    """`newsmon alerts`: recent matches, newest first, with their delivery counts.

    Values are plain JSON types (times as ISO 8601 strings) so the rows can be printed,
    dumped or published as a Prefect table artifact as they are.
    """
    with open_reader(db) as con:
        cursor = con.execute(q.RECENT_ALERTS, {"since": _utc(since), "limit": limit})
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return [
        {c: v.isoformat() if isinstance(v, date) else v for c, v in zip(columns, row, strict=True)}
        for row in rows
    ]
