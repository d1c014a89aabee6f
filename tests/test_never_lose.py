"""Never lose an article (#17): the monitor flow against a local news web whose clock the test
moves (tests/newsworld.py). Every test asserts the exact set of stored URLs.

Cases: publication lag, back-dated entries, `--since` then a wider `--since`, a plain run after
a `--since` run (also the issue's own demo reproduction), an overflowing feed with and without
a sitemap to fall back on, an updated entry (refetched once, old version kept), and the run
lock (a second run waits or refuses with exit code 75; readers are never blocked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import duckdb
import pytest

from demosite import truth
from flows.settings import format_resolve
from tests.conftest import DEMO_SOURCES, ROOT
from tests.newsworld import NewsWorld

pytestmark = pytest.mark.slow


def _rows(db: Path, query: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or {}).fetchall()
    finally:
        con.close()


def stored(db: Path) -> set[str]:
    return {url for (url,) in _rows(db, "SELECT canonical_url FROM articles")}


def ledger(db: Path) -> dict[str, tuple[str, str | None]]:
    return {url: (outcome, reason)
            for url, outcome, reason in _rows(db, "SELECT url, outcome, reason FROM entries")}


class World:
    """A NewsWorld served on 127.0.0.1, a sources.toml for it and a warehouse."""

    def __init__(self, world: NewsWorld, tmp_path: Path, monkeypatch) -> None:
        self.world = world
        self.db = tmp_path / "newsmon.duckdb"
        self.sources = tmp_path / "sources.toml"
        self.site = world.serve().start()
        world.write_sources(self.sources)
        monkeypatch.setenv("NEWSMON_RESOLVE", format_resolve(world.resolve_map(self.site)))

    def run(self, since: datetime | None = None):
        from flows.monitor import monitor

        self.world.refresh(self.site)
        self.site.clear_log()
        return monitor(sources=str(self.sources), warehouse=str(self.db), since=since)

    def requested(self, path_prefix: str) -> list[str]:
        return [path for _, _, path, _ in self.site.request_log if path.startswith(path_prefix)]

    def close(self) -> None:
        self.site.stop()


@pytest.fixture()
def make_world(prefect_server, tmp_path, monkeypatch):
    made: list[World] = []

    def make(world: NewsWorld) -> World:
        made.append(World(world, tmp_path, monkeypatch))
        return made[-1]

    yield make
    for w in made:
        w.close()


def _artifacts(flow_run_id: str) -> dict:
    """The Prefect artifacts of one flow run, by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])))
    return {a.key: a for a in found}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _two_stories(host: str, t0: datetime) -> tuple[NewsWorld, str, str]:
    """One outlet with two stories out an hour or two before t0: their URLs."""
    world = NewsWorld(now=t0)
    world.add_outlet(host)
    a = world.publish(host, "a", appears=t0 - timedelta(hours=2))
    b = world.publish(host, "b", appears=t0 - timedelta(hours=1))
    return world, a.url, b.url


def test_an_entry_dated_before_the_last_run_but_published_after_it_is_stored(make_world):
    """Feed lag: the entry shows up after run 1, dated minutes before run 1 started."""
    t0 = _now()
    world, a, b = _two_stories("lag.test", t0)
    w = make_world(world)
    w.run()
    assert stored(w.db) == {a, b}

    world.now = _now() + timedelta(minutes=30)
    late = world.publish("lag.test", "late", published=t0 - timedelta(minutes=10))
    second = w.run()
    assert stored(w.db) == {a, b, late.url}
    assert (second.candidates, second.articles_new) == (1, 1)


def test_a_back_dated_entry_is_stored(make_world):
    """An entry that appears days after the date it carries (a CMS queue, a syndication)."""
    t0 = _now()
    world = NewsWorld(now=t0)
    world.add_outlet("backdate.test")
    a = world.publish("backdate.test", "a")
    w = make_world(world)
    w.run()
    world.now = t0 + timedelta(days=1)
    old = world.publish("backdate.test", "old", published=t0 - timedelta(days=3))
    w.run()
    world.now = t0 + timedelta(days=2)
    w.run()
    assert stored(w.db) == {a.url, old.url}


def _dated_world(t0: datetime) -> tuple[NewsWorld, dict[int, str]]:
    """One outlet whose feed and sitemap list entries dated 1, 5 and 10 days back."""
    world = NewsWorld(now=t0)
    world.add_outlet("since.test")
    urls = {days: world.publish("since.test", f"d{days}", published=t0 - timedelta(days=days),
                                appears=t0 - timedelta(days=days)).url
            for days in (1, 5, 10)}
    return world, urls


def test_since_then_a_wider_since_then_a_plain_run(make_world):
    t0 = _now()
    world, urls = _dated_world(t0)
    w = make_world(world)

    first = w.run(since=t0 - timedelta(days=3))
    assert stored(w.db) == {urls[1]}
    assert first.before_since == 2
    assert ledger(w.db)[urls[5]] == ("skipped", "before --since")

    second = w.run(since=t0 - timedelta(days=7))
    assert stored(w.db) == {urls[1], urls[5]}
    # The documents were read in full again: a --since run stores no validators that would
    # turn them into an empty 304 (both still held an entry it left out).
    statuses = _rows(w.db, "SELECT url, status_code FROM fetch_log WHERE kind = 'document' "
                           "AND run_id = $run ORDER BY url", {"run": second.run_id})
    assert [status for _, status in statuses] == [200, 200]

    w.run()
    assert stored(w.db) == set(urls.values())
    assert {outcome for outcome, _ in ledger(w.db).values()} == {"stored"}


def test_a_plain_run_after_a_since_run_fetches_what_it_left_out(make_world):
    t0 = _now()
    world, urls = _dated_world(t0)
    w = make_world(world)
    w.run(since=t0 - timedelta(days=2))
    assert stored(w.db) == {urls[1]}
    second = w.run()
    assert stored(w.db) == set(urls.values())
    assert second.articles_new == 2
    third = w.run()  # nothing left: every document is a 304 now, nothing fetched
    assert (third.candidates, third.articles_new) == (0, 0)
    assert w.requested("/news/") == []
    assert {s for (s,) in _rows(w.db, "SELECT status_code FROM fetch_log WHERE run_id = $r",
                                {"r": third.run_id})} == {304}


def test_the_issue_reproduction_since_on_the_demo_then_a_plain_run(prefect_server, demo_env,
                                                                    tmp_path):
    """#17 as filed: `since=2026-11-01` on the demo, then a plain run, stored 5 of 19."""
    from flows.monitor import monitor

    db = tmp_path / "demo.duckdb"
    monitor(sources=str(DEMO_SOURCES), warehouse=str(db), since=datetime(2026, 11, 1))
    assert len(stored(db)) < len(truth.expected_articles())
    monitor(sources=str(DEMO_SOURCES), warehouse=str(db))
    assert stored(db) == {a.canonical_url for a in truth.expected_articles()}
    # Nothing new: every feed and sitemap answers 304, and the sitemap index's children are
    # not asked at all (their listed lastmod is the one they were handled at).
    demo_env.clear_log()
    third = monitor(sources=str(DEMO_SOURCES), warehouse=str(db))
    assert (third.entries, third.candidates) == (0, 0)
    asked = {(path, status) for _, _, path, status in demo_env.request_log
             if path != "/robots.txt"}
    assert {path for path, status in asked if status != 304} == {"/sitemap_index.xml"}


def test_an_overflowing_feed_is_reported_and_its_sitemap_read_again(make_world):
    """Two outlets whose feeds list their last 3 entries; 5 appear between two runs.

    `ovf.test` has a sitemap whose server answers 304 although it changed (a sticky ETag):
    the overflow makes the run read it again without validators, and every entry is stored.
    `nomap.test` has no sitemap: the two entries that scrolled off were never visible, so
    they cannot be stored, but the run says so.
    """
    t0 = _now()
    world = NewsWorld(now=t0)
    world.add_outlet("ovf.test", feed_limit=3, sticky_sitemap_etag=True)
    world.add_outlet("nomap.test", feed_limit=3, has_sitemap=False)
    for host in ("ovf.test", "nomap.test"):
        for i in range(2):
            world.publish(host, f"early{i}", appears=t0 - timedelta(hours=3 - i))
    w = make_world(world)
    first = w.run()
    assert first.overflows == []

    world.now = t0 + timedelta(days=1)
    for host in ("ovf.test", "nomap.test"):
        for i in range(5):
            world.publish(host, f"late{i}", appears=world.now - timedelta(hours=5 - i))
    second = w.run()

    ovf = {s.url for s in world.outlets["ovf.test"].stories}
    nomap = {s.url for s in world.outlets["nomap.test"].stories
             if s.slug.startswith("early") or s.slug in ("late2", "late3", "late4")}
    assert stored(w.db) == ovf | nomap
    nomap_said, ovf_said = sorted(second.overflows)
    assert nomap_said.startswith("nomap.test: feed overflowed (all 3 entries new since it was "
                                 "read ")  # the interval is the real one between the runs
    assert nomap_said.endswith("; no sitemap configured, so entries may have been missed; "
                               "poll more often than that, or configure the source's sitemap")
    assert ovf_said.startswith("ovf.test: feed overflowed (all 3 entries new since it was read ")
    assert ovf_said.endswith("; its sitemaps were read again in full; poll more often than that")
    assert sorted(_rows(w.db, "SELECT source, fallback FROM overflows")) == [
        ("nomap.test", "none"), ("ovf.test", "sitemaps")]
    warned = {row["source"]: row["overflow_warnings"] for row in second.coverage}
    assert warned == {"nomap.test": 1, "ovf.test": 1}
    # ... and so do the run's Prefect artifacts
    artifacts = _artifacts(second.run_id)
    summary = artifacts["monitor-summary"].data
    assert "## Overflow warnings" in summary and ovf_said in summary and nomap_said in summary
    assert "## Coverage ledger" in summary
    table = json.loads(artifacts["coverage-ledger"].data)
    assert {(r["source"], r["overflow_warnings"]) for r in table} == {
        ("nomap.test", 1), ("ovf.test", 1)}


def test_an_updated_entry_is_refetched_once_and_its_old_version_kept(make_world):
    t0 = _now()
    world, a, b = _two_stories("upd.test", t0)
    w = make_world(world)
    w.run()
    assert stored(w.db) == {a, b}

    world.now = t0 + timedelta(hours=6)
    world.update("upd.test", "a")
    second = w.run()
    assert w.requested("/news/") == ["/news/a"]  # b did not change: not fetched again
    assert (second.updates, second.articles_new, second.articles_updated) == (1, 0, 1)
    assert stored(w.db) == {a, b}
    [(text, updated_at)] = _rows(w.db, "SELECT text, updated_at FROM articles WHERE "
                                       "canonical_url = $u", {"u": a})
    assert "version 2 of the report a" in text and updated_at is not None
    [(old,)] = _rows(w.db, "SELECT text FROM article_versions")
    assert "version 1 of the report a" in old
    assert _rows(w.db, "SELECT count(*) FROM entries WHERE refetched_at IS NOT NULL "
                       "AND url = $u", {"u": a}) == [(1,)]

    world.now = t0 + timedelta(hours=12)
    third = w.run()  # nothing changed since: nothing refetched
    assert w.requested("/news/") == [] and third.updates == 0
    assert _rows(w.db, "SELECT count(*) FROM article_versions") == [(1,)]


def test_an_update_whose_refetch_failed_is_fetched_after_its_entry_left_the_feed(make_world):
    """The ledger owes the update: the page is down when the update shows, and by the next
    run the entry has scrolled off a one-entry feed (no sitemap)."""
    t0 = _now()
    world = NewsWorld(now=t0)
    world.add_outlet("flaky.test", feed_limit=1, has_sitemap=False)
    a = world.publish("flaky.test", "a", appears=t0 - timedelta(hours=1))
    w = make_world(world)
    w.run()
    world.now = t0 + timedelta(hours=6)
    world.update("flaky.test", "a")
    world.down = {("flaky.test", "/news/a")}
    second = w.run()
    assert (second.updates, second.articles_updated) == (1, 0)
    world.now = t0 + timedelta(hours=12)
    world.down = set()
    b = world.publish("flaky.test", "b")
    third = w.run()
    assert stored(w.db) == {a.url, b.url}
    assert (third.updates, third.articles_new, third.articles_updated) == (1, 1, 1)
    [(text,)] = _rows(w.db, "SELECT text FROM articles WHERE canonical_url = $u", {"u": a.url})
    assert "version 2 of the report a" in text


# --- one run at a time --------------------------------------------------------------------


def test_a_second_run_is_refused_with_exit_code_75_while_readers_still_work(
    prefect_server, demo_site, tmp_path
):
    from prefect.settings import PREFECT_API_URL

    from warehouse.db import hold_run_lock, open_writer

    db = tmp_path / "locked.duckdb"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map), "NEWSMON_RUN_WAIT_S": "1"}
    with open_writer(db):  # an existing warehouse (readers never create one)
        pass
    held = hold_run_lock(db, "the-first-run", wait_s=0)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--sources", str(DEMO_SOURCES),
             "--db", str(db)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        sql = subprocess.run(
            [sys.executable, "-m", "flows.cli", "sql", "SELECT count(*) AS n FROM articles",
             "--db", str(db), "--format", "csv"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        held.release()
    assert run.returncode == 75, run.stdout[-2000:] + run.stderr[-2000:]
    said = " ".join((run.stdout + run.stderr).split())
    assert "newsmon run the-first-run" in said and "is still running on" in said
    assert "NEWSMON_RUN_WAIT_S" in said
    assert sql.returncode == 0 and sql.stdout.splitlines() == ["n", "0"], sql.stderr
    assert _rows(db, "SELECT count(*) FROM runs") == [(0,)]  # the refused run left no row
