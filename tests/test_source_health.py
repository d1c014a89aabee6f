"""Source health, piece by piece: a source's outcome in one run, the run's verdict, the
`source_health` view over stored history (a real DuckDB file), and the changes that alert.

The end-to-end behaviour (real servers, the CLI, Prefect states, deliveries) is in
tests/test_source_health_runs.py.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from extractors.fetch.discover import Discovery
from extractors.fetch.health import SourceTallies, Tally, run_verdict, source_status, with_gaps
from extractors.models import Candidate, FetchResult, Source, SourceOutcome
from reports.source_health import SourceHealth, transitions
from warehouse import load, queries
from warehouse.db import open_writer

T0 = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday, 06:00 UTC
DAY = timedelta(days=1)


def doc(url: str, error: str | None = None, status: int | None = None) -> FetchResult:
    return FetchResult(url=url, source="A", status_code=status, error_class=error,
                       error=f"{error} at {url}" if error else None, html=None)


def page(url: str, ok: bool = True) -> FetchResult:
    return FetchResult(url=url, source="A", html="<p>x</p>" if ok else None,
                       error_class=None if ok else "HTTPStatusError",
                       status_code=200 if ok else 503)


# --- one source in one run ------------------------------------------------------------------


def tally(n: int, failed: int) -> Tally:
    t = Tally()
    for i in range(n):
        t.add(f"http://a.test/{i}", "HTTP 500" if i < failed else None)
    return t


@pytest.mark.parametrize(("has_docs", "docs", "pages", "status"), [
    (True, (2, 0), (3, 1), "ok"),  # one article page failing is not the source failing
    (True, (2, 2), (0, 0), "failed"),  # nothing of it could be read
    (True, (2, 1), (0, 0), "degraded"),
    (True, (2, 0), (3, 3), "degraded"),  # its feed answers, every article page fails
    (True, (0, 0), (0, 0), "ok"),
    (False, (0, 0), (2, 2), "failed"),  # a URL list only: its pages are all it has
    (False, (0, 0), (2, 1), "ok"),
    (False, (0, 0), (0, 0), "ok"),  # nothing due (every listed URL stored already)
])
def test_what_failed_means_for_one_source(has_docs, docs, pages, status):
    assert source_status(has_docs, tally(*docs), tally(*pages)) == status


def test_a_source_outcome_counts_documents_pages_and_new_entries_with_reasons():
    tallies = SourceTallies()
    found = Discovery(documents=[doc("http://a.test/feed", "ConnectError"),
                                 doc("http://a.test/map", None, 200),
                                 doc("http://a.test/other", "HTTPStatusError", 500)],
                      candidates=[Candidate("http://a.test/n/1", "A", "sitemap"),
                                  Candidate("http://a.test/n/2", "A", "sitemap")])
    found.unreadable["http://a.test/map"] = "not a sitemap: root element is <html>"
    tallies.add_discovery("A", found)
    tallies.add_page(page("http://a.test/n/1"))
    future, past = T0 + DAY, T0 - 3 * DAY
    tallies.add_new_entries([Candidate("http://a.test/n/1", "A", "feed", published=future),
                             Candidate("http://a.test/n/2", "A", "feed", published=past),
                             Candidate("http://a.test/n/3", "A", "feed")], now=T0)
    [outcome] = tallies.outcomes([Source("A", feeds=("http://a.test/feed",))])
    assert outcome.status == "failed"  # every document failed: one unreachable, one no sitemap
    assert (outcome.documents, outcome.documents_failed) == (3, 3)
    assert outcome.document_errors == {"ConnectError": 1, "HTTP 500": 1, "not a sitemap": 1}
    assert (outcome.pages, outcome.pages_failed, outcome.entries_seen) == (1, 0, 2)
    # each new entry at its date, never later than the run (a future date is not believed)
    assert outcome.entry_times == (past, T0, T0)
    assert outcome.reason.startswith("every feed and sitemap failed (3): ConnectError x1, "
                                     "HTTP 500 x1, not a sitemap x1; e.g. http://a.test/feed: ")


def test_gaps_run_from_the_latest_earlier_entry_and_late_entries_add_none():
    hours = [T0 + timedelta(hours=h) for h in (5, 1, 3)]
    first = with_gaps(SourceOutcome("A", "ok", entry_times=tuple(hours)), None)
    assert first.entry_gaps == (7200.0, 7200.0)  # 1 -> 3 -> 5
    late = T0 + timedelta(hours=4)  # dated before the latest entry known (5 h): adds no gap
    later = with_gaps(SourceOutcome("A", "ok", entry_times=(late, T0 + timedelta(hours=9))),
                      T0 + timedelta(hours=5))
    assert later.entry_gaps == (4 * 3600.0,)


def test_the_run_fails_only_when_every_source_failed():
    ok, failed = SourceOutcome("A", "ok"), SourceOutcome("B", "failed")
    assert run_verdict([ok, ok]) == "healthy"
    assert run_verdict([ok, failed]) == "partial"
    assert run_verdict([ok, SourceOutcome("C", "degraded")]) == "partial"
    assert run_verdict([failed, failed]) == "failed"


# --- the source_health view over stored history ----------------------------------------------


class History:
    """A warehouse with fabricated run outcomes: runs at chosen times, entries at chosen dates
    (one connection for the whole test: hundreds of runs in seconds)."""

    def __init__(self, con):
        self.con = con
        self.n = 0

    def run(self, at: datetime, outcomes: dict[str, tuple[str, list[datetime]]]) -> dict:
        """One run at `at`: source -> (status, dates of its new entries); the view after it.
        Stored as the flow stores it (flows/run_store.py record_source_health)."""
        self.n += 1
        load.upsert_sources(self.con, [Source(name) for name in outcomes])
        latest = queries.latest_entry_times(self.con, list(outcomes))
        load.record_source_outcomes(self.con, f"run-{self.n}", at, [
            with_gaps(SourceOutcome(name, status, reason=None if status == "ok" else "boom",
                                    entry_times=tuple(sorted(times))), latest.get(name))
            for name, (status, times) in outcomes.items()])
        return {r["source"]: SourceHealth.from_row(r)
                for r in queries.source_health(self.con, list(outcomes))}


@pytest.fixture()
def history(tmp_path):
    with open_writer(tmp_path / "w.duckdb") as con:
        yield History(con)


def daily(history: History, name: str, entries: list[datetime], start: datetime, days: int,
          failed_days: set[int] = frozenset()) -> list[SourceHealth]:
    """Daily runs from `start`: each reads what was published since the run before."""
    return daily_many(history, {name: entries}, start, days, failed_days)[name]


def daily_many(history: History, sources: dict[str, list[datetime]], start: datetime,
               days: int, failed_days: set[int] = frozenset()) -> dict[str, list[SourceHealth]]:
    """Daily runs of several sources at once (one view query per run)."""
    states: dict[str, list[SourceHealth]] = {name: [] for name in sources}
    last = start - 30 * DAY
    for d in range(days):
        at = start + d * DAY
        failed = d in failed_days
        seen = history.run(at, {name: ("failed", []) if failed else
                                ("ok", [t for t in entries if last < t <= at])
                                for name, entries in sources.items()})
        for name in sources:
            states[name].append(seen[name])
        last = last if failed else at
    return states


def every(step: timedelta, start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t < end:
        out.append(t)
        t += step
    return out


def test_a_regular_source_is_healthy_and_quiet_two_days_after_its_feed_froze(history):
    frozen_at = T0 + 15 * DAY
    entries = every(timedelta(hours=3), T0 - 10 * DAY, frozen_at)
    states = daily(history, "A", entries, T0, 20)
    assert [s.state for s in states[:16]] == ["healthy"] * 16
    assert states[0].usual_interval == timedelta(hours=3)
    # its last new entry came with the run on day 15: quiet from day 17 (2 days), not before
    assert [s.state for s in states[16:]] == ["healthy", "quiet", "quiet", "quiet"]
    assert states[17].describe().startswith("no new entry for 2.0 days (usual interval 3 h")


def test_nights_weekends_and_rare_irregular_sources_are_not_quiet_when_they_are_as_usual(
        history):
    rng = random.Random(3)
    weekdays = [t for t in every(timedelta(hours=2), T0 - 28 * DAY, T0 + 28 * DAY)
                if t.weekday() < 5 and 8 <= t.hour <= 18]  # office hours, Monday to Friday
    rare, t = [], T0 - 40 * DAY
    while t < T0 + 28 * DAY:  # one story every 1 to 6 days, at any hour
        rare.append(t)
        t += timedelta(hours=rng.uniform(24, 144))
    bursts = [T0 - 35 * DAY + w * 7 * DAY + timedelta(minutes=m)
              for w in range(11) for m in range(0, 200, 10)]  # 20 stories each Monday
    sources = {"weekdays": weekdays, "rare": rare, "bursts": bursts}
    for name, states in daily_many(history, sources, T0, 28).items():
        assert {s.state for s in states} == {"healthy"}, (name, [s.describe() for s in states])
    # and each does turn quiet when it stops for longer than it ever does
    later = daily_many(history, dict.fromkeys(sources, []), T0 + 28 * DAY, 25)
    quiet_after = {name: next((d for d, s in enumerate(states) if s.state == "quiet"), None)
                   for name, states in later.items()}
    assert 4 <= quiet_after["weekdays"] <= 10  # a weekend lasts 2.6 days: 3x is a week
    assert quiet_after["rare"] <= 3 * 6 + 1
    assert quiet_after["bursts"] <= 3 * 7 + 1


def test_little_history_is_new_not_quiet_and_an_empty_feed_is_quiet_after_a_week(history):
    few = [T0 - DAY, T0 - 2 * DAY, T0 - 3 * DAY]
    states = daily(history, "few", few, T0, 12)
    assert {s.state for s in states} == {"new"}  # 3 entries: no usual interval to speak of
    assert states[-1].describe().startswith("too little history")
    young = every(timedelta(hours=1), T0 - 2 * DAY, T0 + 10 * DAY)  # first read: 2 days
    assert [s.state for s in daily(history, "young", young, T0, 6)] == ["new"] * 5 + ["healthy"]
    empty = daily(history, "empty", [], T0, 9)
    assert [s.state for s in empty] == ["new"] * 7 + ["quiet"] * 2
    assert empty[-1].describe().startswith("no entry dated in the last 90 days")


def test_failing_counts_the_runs_in_a_row_and_ends_with_a_run_that_reads(history):
    entries = every(timedelta(hours=2), T0 - 10 * DAY, T0 + 10 * DAY)
    states = daily(history, "A", entries, T0, 8, failed_days={2, 4, 5, 6})
    assert [s.label for s in states] == [
        "healthy", "healthy", "failing (1 run)", "healthy", "failing (1 run)",
        "failing (2 runs)", "failing (3 runs)", "healthy"]
    assert states[6].describe() == "3 runs in a row read nothing: boom"


def test_the_view_reads_only_the_last_90_days_of_runs(history):
    history.run(T0 - 200 * DAY, {"A": ("failed", [])})
    history.run(T0 - 100 * DAY, {"A": ("failed", [])})
    state = history.run(T0, {"A": ("failed", [])})["A"]
    assert state.failed_runs == 1  # older runs are out of the window


# --- changes that alert, once ------------------------------------------------------------------


def health(source: str, state: str) -> SourceHealth:
    return SourceHealth(source, state, failed_runs=1, last_problem="boom")


def test_a_change_alerts_once_and_recovery_alerts_once():
    notified: dict[str, str] = {}
    fired = []
    for states in (["healthy", "new"], ["failing", "new"], ["failing", "quiet"],
                   ["failing", "quiet"], ["quiet", "healthy"], ["healthy", "healthy"]):
        changes = transitions([health("A", states[0]), health("B", states[1])], notified)
        fired.append([(c.source, c.state, c.previous) for c in changes])
        notified.update((c.source, c.state) for c in changes)
    assert fired == [
        [],
        [("A", "failing", None)],
        [("B", "quiet", None)],
        [],  # still failing, still quiet: nothing new to say
        [("A", "quiet", "failing"), ("B", "recovered", "quiet")],
        [("A", "recovered", "quiet")],
    ]


def test_the_digest_shows_the_sources_that_need_attention(tmp_path):
    from reports.digest import build_digest, render_html, render_markdown

    db = tmp_path / "w.duckdb"
    with open_writer(db) as con:
        history = History(con)
        entries = every(timedelta(hours=3), T0 - 10 * DAY, T0 + 5 * DAY)
        history.run(T0 - DAY, {"Gone": ("failed", [])})  # failing, then removed from the file
        daily_many(history, {"Busy": entries, "Frozen": entries[:80]}, T0, 4)
        history.run(T0 + 4 * DAY, {"Busy": ("ok", entries[112:120]), "Frozen": ("ok", []),
                                   "Dead": ("failed", [])})
    digest = build_digest(db)  # no article yet: the sources say why
    assert [(h.source, h.label) for h in digest.unhealthy] == [
        ("Dead", "failing (1 run)"), ("Frozen", "quiet")]
    page, markdown = render_html(digest), render_markdown(digest)
    assert "<h2>Sources needing attention</h2>" in page
    assert "<strong>Frozen</strong> — quiet: no new entry for 4.0 days" in page
    assert "- **Dead** — failing (1 run): 1 run in a row read nothing: boom" in markdown
    assert "Busy" not in page and "Gone" not in page
