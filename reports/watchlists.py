"""Watchlists: named rules over events, evaluated after every load, and their notifications.

A rule names what to watch; every clause given must hold, and a list clause holds when the
event has any of its values (case-insensitive; actors by canonical name, so "Pashinyan",
"Nikol Pashinian" and "nikol pashinyan" all match the event's "Nikol Pashinian"):

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

import functools
import hashlib
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import apprise
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from extractors.config import describe_all, named_tables, read_toml, validate_file
from extractors.content.facets import actor_key
from extractors.fetch.errors import NewsmonError
from extractors.timezones import start_of_day_utc
from warehouse import alerts as alerts_db
from warehouse import load, queries
from warehouse.db import Connection, open_reader, open_writer

MAX_ATTEMPTS = 5  # deliveries to one URL that failed this often are marked 'abandoned'
CLAUSES = ("actors_any", "places_any", "keywords_any", "sources_any")
# The rule name of source health alerts (reports/source_health.py): a source turned failing or
# quiet, or recovered. They go to the same [delivery] URLs; no watchlist rule may take it.
SOURCE_HEALTH_RULE = "source-health"


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
        if value.strip() == SOURCE_HEALTH_RULE:
            raise ValueError(f"{SOURCE_HEALTH_RULE!r} is the name of source health alerts; "
                             "pick another")
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
    data = read_toml(path, WatchlistsConfigError)
    top = validate_file(path, data, _FileModel, "one or more [[rule]] tables and an optional "
                        "[delivery] table", WatchlistsConfigError)
    models = named_tables(path, top.rule, _RuleModel, "rule", WatchlistsConfigError)
    for index, (table, model) in enumerate(zip(top.rule, models, strict=True), start=1):
        if not any(getattr(model, c) for c in CLAUSES) and "min_sources" not in table:
            raise WatchlistsConfigError(
                f"{path}: rule {model.name!r} (#{index}): no clause: give at least one of "
                f"{', '.join(CLAUSES)}, min_sources (else it would match every event)"
            )
    rules = tuple(
        Rule(name=m.name, actors_any=tuple(m.actors_any), places_any=tuple(m.places_any),
             keywords_any=tuple(m.keywords_any), sources_any=tuple(m.sources_any),
             min_sources=m.min_sources)
        for m in models
    )
    try:
        delivery = _DeliveryModel.model_validate(top.delivery)
    except ValidationError as exc:
        raise WatchlistsConfigError(f"{path}: [delivery]: {describe_all(exc)}") from exc
    return Watchlists(rules=rules, urls=tuple(delivery.urls))


# --- matching (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class WatchedEvent:
    """What rule matching knows of one event (read by the flow: warehouse.alerts)."""

    id: str
    headline: str
    event_date: date | None
    n_sources: int
    actors: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # outlets with an article in it
    alerted_before: tuple[str, ...] = ()  # rules that alerted on an event merged into it
    actor_keys: tuple[str, ...] = ()  # events.actor_keys (see _actor_hits)
    unnamed: tuple[str, ...] = ()  # main actors the story does not name ("gunman")

    @classmethod
    def from_row(cls, row: dict) -> WatchedEvent:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})


@dataclass(frozen=True)
class Match:
    """One rule matching one event, before it is stored (and dated) as an Alert."""

    rule: str
    event_id: str
    why: str
    headline: str
    event_date: date | None
    n_sources: int


def _hits(values: tuple[str, ...], wanted: tuple[str, ...]) -> list[str]:
    """The event's values (stored spelling) that a clause names, case-insensitively."""
    lowered = {w.lower() for w in wanted}
    return [v for v in values if v.lower() in lowered]


@functools.lru_cache(maxsize=1024)
def _clause_keys(wanted: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    keys = frozenset(actor_key(w) for w in wanted)
    return keys, frozenset(k for k in keys if " " not in k)


def _actor_hits(names: tuple[str, ...], wanted: tuple[str, ...],
                stored_keys: tuple[str, ...] = (), unnamed: tuple[str, ...] = ()) -> list[str]:
    """The event's actors (stored spelling) that a clause names by canonical name: spelling
    variants meet under actor_key ("Pashinyan" / "Pashinian"), and a one-word value also
    names the full names ending in it ("Aliyev" -> "Ilham Aliyev").

    `stored_keys` (events.actor_keys: the keys of every named actor and their surnames) rule
    most events out without computing a key: a named actor can only match through them.
    People a story does not name ("gunman", `unnamed`) are looked at by name."""
    if not wanted:
        return []  # the rule names no actors: no key of the event's actors is needed
    keys, surnames = _clause_keys(tuple(wanted))
    if stored_keys and keys.isdisjoint(stored_keys) and surnames.isdisjoint(stored_keys):
        names = unnamed
    hits = []
    for name in names:
        key = actor_key(name)
        if key in keys or (key and key.split()[-1] in surnames):
            hits.append(name)
    return list(dict.fromkeys(hits))


def _why(rule: Rule, hits: dict[str, list[str]], n_sources: int) -> str:
    """Which clause matched on what, e.g. "places_any: Armenia, Azerbaijan; min_sources: 2>=2"."""
    parts = [f"{clause}: {', '.join(hits[clause])}" for clause in CLAUSES
             if getattr(rule, clause)]
    if rule.min_sources > 1 or not parts:
        parts.append(f"min_sources: {n_sources}>={rule.min_sources}")
    return "; ".join(parts)


def match_rules(rules: Iterable[Rule], events: Iterable[WatchedEvent]) -> list[Match]:
    """Every (rule, event) where each clause the rule gives holds: a list clause holds when
    the event has any of its values (case-insensitive), `min_sources` when enough outlets
    reported it. An event merged from one the rule already alerted on is skipped."""
    events = sorted(events, key=lambda e: e.id)
    matches = []
    for rule in rules:
        for event in events:
            if rule.name in event.alerted_before or event.n_sources < rule.min_sources:
                continue
            hits = {
                "actors_any": _actor_hits(event.actors, rule.actors_any, event.actor_keys,
                                          event.unnamed),
                "places_any": _hits(event.places, rule.places_any),
                "keywords_any": _hits(event.keywords, rule.keywords_any),
                "sources_any": _hits(event.sources, rule.sources_any),
            }
            if all(hits[clause] or not getattr(rule, clause) for clause in CLAUSES):
                matches.append(Match(rule.name, event.id, _why(rule, hits, event.n_sources),
                                     event.headline, event.event_date, event.n_sources))
    return matches


def store_matches(con: Connection, matches: Iterable[Match], run_id: str | None) -> list[Alert]:
    """Store matches as alerts; returns those that are new, sorted by (rule, event)."""
    return store_alerts(
        con, ({"rule": m.rule, "event_id": m.event_id, "run_id": run_id, "why": m.why,
               "headline": m.headline, "event_date": m.event_date, "n_sources": m.n_sources}
              for m in matches),
    )


def store_alerts(con: Connection, records: Iterable[dict]) -> list[Alert]:
    """Store alert rows (rule, event_id, run_id, why, headline, event_date, n_sources); returns
    the ones that are new, sorted by (rule, event): an alert is stored, and told, once."""
    rows = alerts_db.insert_alerts(con, records)
    return sorted((_alert(r) for r in rows), key=lambda a: (a.rule, a.event_id))


def _alert(row: dict) -> Alert:
    return Alert(rule=row["rule"], event_id=row["event_id"], matched_at=row["matched_at"],
                 run_id=row["run_id"], why=row["why"], headline=row["headline"] or "",
                 event_date=row["event_date"], n_sources=row["n_sources"] or 0)


def evaluate_watchlists(
    db: str | Path,
    rules_path: str | Path,
    run_id: str | None,
    event_ids: Collection[str] | None = None,
) -> list[Alert]:
    """Match every rule against the given events (None: all) and store new matches.

    Returns only the alerts that are new: a (rule, event) already in `alerts` is never
    returned (or notified) again, however often the same events are evaluated. The monitor
    flow does the same three steps, with the matching as a task.
    """
    rules = load_watchlists(rules_path).rules
    if event_ids is not None and not event_ids:
        return []
    with open_reader(db) as con:
        events = [WatchedEvent.from_row(r) for r in alerts_db.watched_events(con, event_ids)]
    matches = match_rules(rules, events)
    if not matches:
        return []
    with open_writer(db) as con:
        return store_matches(con, matches, run_id)


@dataclass(frozen=True)
class Evaluation:
    """What applying the rules to stored events did (`newsmon alerts --evaluate`)."""

    rules: int
    events: int
    alerts: list[Alert]
    delivery: DeliveryReport


def rule_fingerprint(rule: Rule) -> str:
    """Changes when the rule's name or any clause changes: an edited rule is a new rule."""
    blob = json.dumps([rule.name, rule.actors_any, rule.places_any, rule.keywords_any,
                       rule.sources_any, rule.min_sources])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


ALERTS_WATERMARK = "alerts:"  # + rule fingerprint: events changed before it were matched


def evaluate_stored(
    db: str | Path, rules_path: str | Path, since: date | datetime | None = None
) -> Evaluation:
    """Apply the rules to events already in the warehouse, incrementally.

    Each rule (by its fingerprint: an edited rule is a new one) is matched against the
    events new or changed since it was last evaluated here, or against every event the
    first time; with `since`, against the events last seen since then, whatever was
    evaluated before. New matches are stored and delivered exactly as after a run; a (rule,
    event) matched before is neither stored nor delivered again, however often this runs.
    `events` in the result counts the distinct events looked at.
    """
    watchlists = load_watchlists(rules_path)
    started = datetime.now(UTC)
    with open_reader(db) as con:
        if since is not None:
            scope = set(alerts_db.events_seen_since(con, start_of_day_utc(since)))
            ids_of = {rule.name: scope for rule in watchlists.rules}
        else:
            marks = queries.watermarks(con, ALERTS_WATERMARK)
            changed: dict[datetime | None, set[str] | None] = {}
            ids_of = {}
            for rule in watchlists.rules:
                mark = marks.get(ALERTS_WATERMARK + rule_fingerprint(rule))
                if mark not in changed:
                    changed[mark] = (None if mark is None
                                     else set(queries.events_changed_since(con, mark)))
                ids_of[rule.name] = changed[mark]
        everything = any(ids is None for ids in ids_of.values())
        wanted = None if everything else set().union(*ids_of.values())
        events = ([] if wanted is not None and not wanted else
                  [WatchedEvent.from_row(r) for r in alerts_db.watched_events(con, wanted)])
    matches = []
    for rule in watchlists.rules:
        scope = ids_of[rule.name]
        mine = events if scope is None else [e for e in events if e.id in scope]
        matches += match_rules([rule], mine)
    with open_writer(db) as con, con.transaction():
        alerts = store_matches(con, matches, None) if matches else []
        if since is None:
            for rule in watchlists.rules:
                load.set_watermark(con, ALERTS_WATERMARK + rule_fingerprint(rule), started)
    delivery = deliver_alerts(db, alerts, watchlists.urls)
    looked_at = len({e.id for e in events})
    return Evaluation(len(watchlists.rules), looked_at, alerts, delivery)


# --- delivery ---------------------------------------------------------------------------


def url_id(url: str) -> str:
    """A stable key for a notification URL that does not reveal its secrets."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _redacted(url: str) -> str:
    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True) if plugin is not None else url.split("://", 1)[0] + "://…"


def alert_message(alert: Alert) -> tuple[str, str]:
    """(title, body) of the one notification sent for an alert."""
    matched = alert.matched_at.astimezone(UTC).isoformat(timespec="seconds")
    if alert.rule == SOURCE_HEALTH_RULE:
        return f"newsmon source health: {alert.headline}", "\n".join([
            alert.headline, alert.why, f"run: {alert.run_id}", f"noticed at: {matched}",
            "(`newsmon sources` shows every source's health)",
        ])
    title = f"newsmon watchlist '{alert.rule}': {alert.headline}"
    body = "\n".join([
        alert.headline,
        f"event date: {alert.event_date.isoformat() if alert.event_date else 'unknown'}",
        f"sources: {alert.n_sources}",
        f"why: {alert.why}",
        f"event id: {alert.event_id}",
        f"matched at: {matched}",
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


@dataclass(frozen=True)
class DeliveryState:
    """What the warehouse knows of earlier deliveries to the configured URLs (read first)."""

    attempts: dict[tuple[str, str, str], int]  # (rule, event_id, url_id) -> attempts so far
    retries: tuple[tuple[str, Alert], ...]  # (url_id, alert) of failed ones with tries left


def read_delivery_state(con: Connection, urls: Collection[str]) -> DeliveryState:
    ids = [url_id(u) for u in urls]
    return DeliveryState(
        attempts={(r["rule"], r["event_id"], r["url_id"]): r["attempts"]
                  for r in alerts_db.delivery_state(con, ids)},
        retries=tuple((r["url_id"], _alert(r)) for r in alerts_db.retryable_deliveries(con, ids)),
    )


def send_alerts(
    alerts: Iterable[Alert], urls: Collection[str], state: DeliveryState
) -> tuple[list[dict], DeliveryReport]:
    """Send each new alert once to each URL, and retry earlier failed deliveries to those
    URLs. No warehouse here: returns the attempts to record (record_deliveries) and a report.
    Errors are recorded and counted, never raised."""
    report = DeliveryReport()
    by_id = {url_id(u): u for u in urls}
    work: dict[tuple[str, str, str], Alert] = {}
    for uid, alert in state.retries:
        work[(alert.rule, alert.event_id, uid)] = alert
    for alert in alerts:
        for uid in sorted(by_id):
            key = (alert.rule, alert.event_id, uid)
            if key not in state.attempts:  # delivered, abandoned or failed rows are above
                work[key] = alert
    rows = []
    for (rule, event_id, uid), alert in work.items():
        error = _send(by_id[uid], alert)
        attempts = state.attempts.get((rule, event_id, uid), 0) + 1
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
    return rows, report


def _configured(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(u.strip() for u in urls if u.strip()))


def deliver_alerts(
    db: str | Path, alerts: Iterable[Alert], urls: Collection[str]
) -> DeliveryReport:
    """Send each alert once to each URL, and retry earlier failed deliveries to those URLs.

    Network I/O happens with no warehouse connection open; the outcome of every attempt is
    then written in one batch. Errors are recorded and counted, never raised.
    """
    urls = _configured(urls)
    if not urls:
        return DeliveryReport()
    with open_reader(db) as con:
        state = read_delivery_state(con, urls)
    rows, report = send_alerts(alerts, urls, state)
    if rows:
        with open_writer(db) as con:
            alerts_db.record_deliveries(con, rows)
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
        rows = alerts_db.recent_alerts(con, start_of_day_utc(since) if since else None, limit)
    return [
        {c: v.isoformat() if isinstance(v, date) else v for c, v in row.items()}
        for row in rows
    ]
