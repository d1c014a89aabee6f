"""Watchlists: validating the file, matching events once, and delivering through Apprise.

Delivery goes to a real stdlib HTTP server on 127.0.0.1 through Apprise's `json://` plugin;
the warehouse is a real DuckDB file (the hand-built one of test_digest, or the demo run).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reports.watchlists import (
    MAX_ATTEMPTS,
    Alert,
    WatchlistsConfigError,
    alerts_command,
    deliver_alerts,
    evaluate_watchlists,
    load_watchlists,
    url_id,
)
from tests.test_digest import fill_warehouse
from warehouse.db import open_reader, open_writer

RULES = Path(__file__).resolve().parent / "fixtures" / "watchlists.toml"


@pytest.fixture()
def small_warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "small.duckdb"
    fill_warehouse(db)
    return db


def _rows(db: Path, query: str, params: list | None = None) -> list[tuple]:
    with open_reader(db) as con:
        return con.execute(query, params or []).fetchall()


# --- the file ---------------------------------------------------------------------------


def test_fixture_and_example_files_are_valid():
    fixture = load_watchlists(RULES)
    assert [r.name for r in fixture.rules] == ["caucasus", "eu-mediation", "outlet-c-smoke",
                                               "never"]
    assert fixture.rules[0].min_sources == 2
    # What `newsmon init` writes as watchlists.toml.
    example = load_watchlists(Path(__file__).resolve().parent.parent / "flows" / "templates"
                              / "watchlists.toml")
    assert example.rules and example.urls == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[rule]]\nname = "x"\nplace_any = ["Armenia"]',
         "rule 'x' (#1): field 'place_any': unknown key"),
        ('[[rule]]\nname = "x"\nplaces_any = "Armenia"', "rule 'x' (#1): field 'places_any'"),
        ('[[rule]]\nname = "x"\nplaces_any = ["Armenia", " "]',
         "rule 'x' (#1): field 'places_any': item 1 is blank"),
        ('[[rule]]\nname = "x"\nmin_sources = 0', "rule 'x' (#1): field 'min_sources'"),
        ('[[rule]]\nplaces_any = ["Armenia"]', "rule #1: field 'name'"),
        ('[[rule]]\nname = "x"', "rule 'x' (#1): no clause"),
        ('[[rule]]\nname = "x"\nmin_sources = 2\n[[rule]]\nname = "x"\nmin_sources = 3',
         "rule 'x' (#2): field 'name': duplicate of rule #1"),
        ('[rules]\nname = "x"', "field 'rules': unknown key"),
        ('[[rule]]\nname = "x"\nmin_sources = 2\n[delivery]\nurls = ["nope://host"]',
         "[delivery]: field 'urls': item 0 is not a URL Apprise can notify"),
        ('[[rule]\nname = "x"', "not valid TOML"),
    ],
)
def test_invalid_files_name_file_rule_and_field(tmp_path, text, expected):
    path = tmp_path / "watchlists.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WatchlistsConfigError) as raised:
        load_watchlists(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert expected in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(WatchlistsConfigError, match="file not found"):
        load_watchlists(tmp_path / "absent.toml")


# --- evaluation -------------------------------------------------------------------------


def test_rules_fire_once_per_event_and_say_why(small_warehouse):
    first = evaluate_watchlists(small_warehouse, RULES, "run-1", None)

    assert {(a.rule, a.event_id) for a in first} == {
        ("caucasus", "seed"), ("eu-mediation", "seed"), ("outlet-c-smoke", "smoke"),
    }
    why = {a.rule: a.why for a in first}
    assert why["caucasus"] == "places_any: Brussels, Armenia, Azerbaijan; min_sources: 2>=2"
    assert why["eu-mediation"] == "actors_any: Charles Michel"
    assert why["outlet-c-smoke"] == "keywords_any: smoke; sources_any: Outlet C"
    seed = next(a for a in first if a.rule == "caucasus")
    assert seed.headline.startswith("Pashinian and Aliyev") and seed.n_sources == 2
    assert seed.run_id == "run-1"

    assert evaluate_watchlists(small_warehouse, RULES, "run-2", None) == []
    assert evaluate_watchlists(small_warehouse, RULES, "run-3", ["seed", "smoke"]) == []
    stored = _rows(small_warehouse, "SELECT rule, event_id, run_id FROM alerts")
    assert len(stored) == len({(r, e) for r, e, _ in stored}) == 3
    assert {r[2] for r in stored} == {"run-1"}


def test_only_the_given_events_are_evaluated(small_warehouse):
    assert evaluate_watchlists(small_warehouse, RULES, "run-1", []) == []
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", ["smoke", "no-such-event"])
    assert [(a.rule, a.event_id) for a in alerts] == [("outlet-c-smoke", "smoke")]
    later = evaluate_watchlists(small_warehouse, RULES, "run-2", None)
    assert {a.event_id for a in later} == {"seed"}


def test_an_updated_event_fires_when_it_starts_to_match(small_warehouse):
    assert not any(a.event_id == "other-day"
                   for a in evaluate_watchlists(small_warehouse, RULES, "run-1", None))
    # A second outlet reports the harbour story, now placed in Armenia.
    with open_writer(small_warehouse) as con:
        con.execute("UPDATE events SET n_sources = 2, places = ['Gyumri', 'Armenia'], "
                    "updated_at = now() WHERE id = 'other-day'")
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-2", ["other-day"])
    assert [(a.rule, a.why) for a in alerts] == [
        ("caucasus", "places_any: Armenia; min_sources: 2>=2")
    ]


def test_an_event_merged_from_an_alerted_one_does_not_alert_again(small_warehouse):
    evaluate_watchlists(small_warehouse, RULES, "run-1", None)
    # Re-clustering folds "seed" into "seed-2", then "seed-2" into "seed-3" (same happening).
    with open_writer(small_warehouse) as con:
        for old, new in (("seed", "seed-2"), ("seed-2", "seed-3")):
            con.execute("INSERT INTO events SELECT * REPLACE (? AS id) FROM events "
                        "WHERE id = 'seed'", [new])
            con.execute("INSERT INTO event_merges VALUES (?, ?, now(), 'run-2')", [old, new])
        con.execute("UPDATE event_articles SET event_id = 'seed-3' WHERE event_id = 'seed'")
        con.execute("DELETE FROM events WHERE id IN ('seed', 'seed-2')")
    assert evaluate_watchlists(small_warehouse, RULES, "run-2", ["seed-3"]) == []
    # A rule that never fired on the old ids still fires on the new one.
    rules = small_warehouse.parent / "more.toml"
    rules.write_text('[[rule]]\nname = "michel-again"\nactors_any = ["Charles Michel"]\n',
                     encoding="utf-8")
    assert [a.event_id for a in evaluate_watchlists(small_warehouse, rules, "run-2", None)] == [
        "seed-3"
    ]


# --- delivery ---------------------------------------------------------------------------


class Webhook:
    """A JSON webhook on 127.0.0.1 that records every POST and answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.payloads: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.payloads.append({"path": self.path, **json.loads(body)})
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


def _deliveries(db: Path) -> dict[tuple[str, str], tuple]:
    rows = _rows(db, "SELECT rule, event_id, status, attempts, error, url FROM alert_deliveries")
    return {(r[0], r[1]): r[2:] for r in rows}


def test_one_payload_per_match_and_none_on_a_rerun(small_warehouse, webhook):
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", None)
    report = deliver_alerts(small_warehouse, alerts, [webhook.url])

    assert (report.attempted, report.delivered, report.failed) == (3, 3, 0)
    assert len(webhook.payloads) == len(alerts) == 3
    assert all(p["path"] == "/alerts" for p in webhook.payloads)
    by_title = {p["title"]: p["message"] for p in webhook.payloads}
    for alert in alerts:
        title = f"newsmon watchlist '{alert.rule}': {alert.headline}"
        assert alert.why in by_title[title] and alert.event_id in by_title[title]
    assert {v[:2] for v in _deliveries(small_warehouse).values()} == {("delivered", 1)}

    # Re-run: no new match, nothing pending, the same alerts passed again are not resent.
    again = evaluate_watchlists(small_warehouse, RULES, "run-2", None)
    assert again == []
    assert deliver_alerts(small_warehouse, again, [webhook.url]).attempted == 0
    assert deliver_alerts(small_warehouse, alerts, [webhook.url]).attempted == 0
    assert len(webhook.payloads) == 3


def test_a_failing_webhook_is_recorded_and_retried_next_run(small_warehouse, webhook):
    webhook.status = 500
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", ["seed"])
    report = deliver_alerts(small_warehouse, alerts, [webhook.url])

    assert (report.attempted, report.delivered, report.failed) == (2, 0, 2)
    assert len(report.errors) == 2 and all("500" in e for e in report.errors)
    state = _deliveries(small_warehouse)
    assert {v[:2] for v in state.values()} == {("failed", 1)}
    assert all("500" in v[2] for v in state.values())

    # The next run: the smoke event is new, the two failures are tried again.
    webhook.status = 200
    new = evaluate_watchlists(small_warehouse, RULES, "run-2", None)
    assert [a.event_id for a in new] == ["smoke"]
    report = deliver_alerts(small_warehouse, new, [webhook.url])
    assert (report.attempted, report.delivered, report.failed) == (3, 3, 0)
    state = _deliveries(small_warehouse)
    assert state[("caucasus", "seed")][:3] == ("delivered", 2, None)
    assert state[("outlet-c-smoke", "smoke")][:2] == ("delivered", 1)
    # 2 refused + 3 accepted, and each match accepted exactly once.
    assert len(webhook.payloads) == 5
    assert deliver_alerts(small_warehouse, [], [webhook.url]).attempted == 0


def test_delivery_gives_up_after_max_attempts(small_warehouse, webhook):
    webhook.status = 503
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", ["smoke"])
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_alerts(small_warehouse, alerts if attempt == 1 else [], [webhook.url])
        assert report.attempted == 1
    assert report.abandoned == 1
    assert _deliveries(small_warehouse)[("outlet-c-smoke", "smoke")][:2] == (
        "abandoned", MAX_ATTEMPTS
    )
    assert deliver_alerts(small_warehouse, [], [webhook.url]).attempted == 0
    assert len(webhook.payloads) == MAX_ATTEMPTS


def test_unreachable_and_invalid_urls_never_raise(small_warehouse):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"json://127.0.0.1:{s.getsockname()[1]}/hook"
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", ["smoke"])
    report = deliver_alerts(small_warehouse, alerts, [closed, "nope://x"])
    assert (report.attempted, report.failed) == (2, 2)
    assert any("not a URL Apprise can notify" in e for e in report.errors)


def test_urls_with_secrets_are_stored_redacted(small_warehouse, webhook):
    secret_url = webhook.url.replace("json://", "json://alice:s3cret@")
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", ["smoke"])
    assert deliver_alerts(small_warehouse, alerts, [secret_url]).delivered == 1
    stored = _rows(small_warehouse, "SELECT url, url_id FROM alert_deliveries")
    assert stored == [(stored[0][0], url_id(secret_url))]
    assert "s3cret" not in stored[0][0] and "alice" in stored[0][0]


# --- listing ----------------------------------------------------------------------------


def test_alerts_command_lists_recent_matches(small_warehouse, webhook):
    alerts = evaluate_watchlists(small_warehouse, RULES, "run-1", None)
    deliver_alerts(small_warehouse, [a for a in alerts if a.rule == "caucasus"], [webhook.url])

    listed = alerts_command(small_warehouse, None)
    assert {(r["rule"], r["event_id"]) for r in listed} == {(a.rule, a.event_id) for a in alerts}
    times = [datetime.fromisoformat(r["matched_at"]) for r in listed]
    assert times == sorted(times, reverse=True)
    assert json.loads(json.dumps(listed)) == listed
    delivered = {r["rule"]: r["delivered"] for r in listed}
    assert delivered == {"caucasus": 1, "eu-mediation": 0, "outlet-c-smoke": 0}
    assert alerts_command(small_warehouse, datetime.now(UTC) + timedelta(hours=1)) == []
    assert len(alerts_command(small_warehouse, datetime.now(UTC) - timedelta(hours=1))) == 3


def test_alert_round_trips_through_the_table(small_warehouse):
    (alert,) = evaluate_watchlists(small_warehouse, RULES, "run-1", ["smoke"])
    assert isinstance(alert, Alert)
    (row,) = _rows(small_warehouse, "SELECT matched_at, why FROM alerts")
    assert row == (alert.matched_at, alert.why)


# --- on what the monitor flow made of the demo site --------------------------------------


@pytest.mark.slow
def test_demo_seed_event_fires_once(demo_run, tmp_path, webhook):
    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_run["db"], db)  # the session's warehouse stays as the flow left it
    seed_events = {
        r[0] for r in _rows(db, "SELECT ea.event_id FROM event_articles AS ea JOIN articles "
                                "AS a ON a.id = ea.article_id WHERE a.title ILIKE '%Pashinian%'")
    }
    assert len(seed_events) == 1, "the two seed reports must form one event"
    rules = tmp_path / "watchlists.toml"
    rules.write_text('[[rule]]\nname = "caucasus"\nplaces_any = ["Armenia", "Azerbaijan", '
                     '"Brussels"]\nactors_any = ["Ilham Aliyev", "Nikol Pashinian"]\n'
                     "min_sources = 2\n", encoding="utf-8")

    first = evaluate_watchlists(db, rules, "demo-1", None)
    assert [a.event_id for a in first] == list(seed_events)
    assert deliver_alerts(db, first, [webhook.url]).delivered == 1
    assert evaluate_watchlists(db, rules, "demo-2", None) == []
    assert deliver_alerts(db, [], [webhook.url]).attempted == 0
    assert len(webhook.payloads) == 1


def test_actor_rules_match_canonical_names(small_warehouse):
    """Watchlists match on canonical names: another transliteration, a surname alone or a
    hyphen for a space all name the seed event's "Nikol Pashinian" / "Ilham Aliyev"; the
    alert's why spells the name as the event does."""
    rules = small_warehouse.parent / "names.toml"
    rules.write_text(
        '[[rule]]\nname = "pm"\nactors_any = ["Nikol Pashinyan"]\n'
        '[[rule]]\nname = "surname"\nactors_any = ["ALIYEV"]\n'
        '[[rule]]\nname = "nobody"\nactors_any = ["Nikol"]\n', encoding="utf-8")
    alerts = evaluate_watchlists(small_warehouse, rules, "run-1", None)
    assert {(a.rule, a.event_id, a.why) for a in alerts} == {
        ("pm", "seed", "actors_any: Nikol Pashinian"),
        ("surname", "seed", "actors_any: Ilham Aliyev"),
    }
