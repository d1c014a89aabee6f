"""Warehouse tests on real DuckDB files: migrations, idempotent loads, crashes, locks, reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from extractors.models import (
    Actor,
    Article,
    ClusterResult,
    Duplicate,
    Event,
    ExtractionOutcome,
    Facets,
    FetchResult,
    Membership,
    Place,
    Source,
)
from warehouse import db, load, maintenance, queries, sql

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

# Bookkeeping columns that record *when a load ran*; everything else must be reproducible.
VOLATILE = {"schema_version.applied_at", "validators.updated_at", "extraction_log.logged_at",
            "event_merges.merged_at", "runs.started_at", "runs.finished_at",
            "sources.first_seen", "events.updated_at", "stories.updated_at"}


# --- builders ---------------------------------------------------------------------------


def write(path: Path, loader, *args, **kwargs):
    """Call a loader (load.*) on one writer connection, as the flow does per batch."""
    with db.open_writer(path) as con:
        return loader(con, *args, **kwargs)


def read(path: Path, query, *args, **kwargs):
    """Call a read (queries.*) on one reader connection."""
    with db.open_reader(path) as con:
        return query(con, *args, **kwargs)


LISBON = Place("Lisbon", "PT", 38.7167, -9.1333, "geonames:2267057")


def article(n: int, source: str = "outlet-a", **changes) -> Article:
    url = f"https://{source}.test/news/{n}"
    text = f"Story {n}. The council met on Tuesday to discuss the harbour plan. " * 5
    base = Article(
        id=f"a{n:04d}", url=url, canonical_url=url, source=source, title=f"Title {n}",
        text=text, content_hash=f"h{n}", urls=(url,), author="Jane Doe",
        published_at=T0 + timedelta(hours=n), date_source="meta", language="en",
        site_name=source, description=f"About {n}", fetched_at=T0 + timedelta(hours=n, minutes=5),
        facets=Facets(actors=("Harbour Council",), places=("Lisbon",),
                      event_date=date(2026, 11, 20), dates=(date(2026, 11, 20),),
                      keywords=("harbour", "plan"),
                      who=(Actor("Harbour Council", "organisation"),), where=LISBON),
    )
    return replace(base, **changes)


def extracted(a: Article) -> ExtractionOutcome:
    return ExtractionOutcome(url=a.url, source=a.source, status="extracted", article=a)


def fetched(a: Article, **changes) -> FetchResult:
    html = f"<html><body><h1>{a.title}</h1><p>{a.text}</p></body></html>"
    base = FetchResult(url=a.url, source=a.source, final_url=a.url, status_code=200,
                       content_type="text/html", html=html, n_bytes=len(html),
                       elapsed_ms=12.5, fetched_at=a.fetched_at)
    return replace(base, **changes)


def batch(n: int, start: int = 0) -> list[Article]:
    return [article(i, source=("outlet-a", "outlet-b", "outlet-c")[i % 3])
            for i in range(start, start + n)]


def clusters(arts: list[Article]) -> ClusterResult:
    """Pairs of articles form an event; every fourth article copies the one before it."""
    events, members, dups = [], [], []
    for i in range(0, len(arts) - 1, 2):
        pair = arts[i : i + 2]
        eid = f"e-{pair[0].id}"
        events.append(Event(id=eid, headline=pair[0].title, article_ids=tuple(a.id for a in pair),
                            event_date=date(2026, 11, 20), actors=("Harbour Council",),
                            first_seen=pair[0].published_at, last_seen=pair[1].published_at,
                            n_articles=2, n_sources=len({a.source for a in pair}),
                            who=(Actor("Harbour Council", "organisation"),), where=LISBON,
                            actor_keys=("harbour council",)))
        members += [Membership(eid, a.id, 0.8, {"title": 0.7, "actors": 1.0}) for a in pair]
    for i in range(3, len(arts), 4):
        dups.append(Duplicate(arts[i].id, arts[i - 1].id, "near-copy", 0.95))
    return ClusterResult(tuple(dups), tuple(events), tuple(members))


def full_load(path: Path, arts: list[Article], run_id: str = "run-1") -> None:
    """Everything a monitor run writes, through the public loaders."""
    write(path, load.start_run, run_id, {"since": "2026-11-20"}, flow_run_id="flow-1")
    write(path, load.upsert_sources, [Source("outlet-a", feeds=("https://outlet-a.test/rss",)),
                               Source("outlet-b", sitemaps=("https://outlet-b.test/sm.xml",))])
    results = [fetched(a) for a in arts] + [
        FetchResult(url="https://outlet-c.test/broken", source="outlet-c",
                    error_class="Timeout", error="read timed out", attempts=3, fetched_at=T0)
    ]
    write(path, load.record_fetches, run_id, results)
    write(path, load.record_validators,
          {"https://outlet-a.test/rss": ('"abc"', "Thu, 19 Nov 2026")})
    outcomes = [extracted(a) for a in arts] + [
        ExtractionOutcome("https://outlet-c.test/video", "outlet-c", "skipped", "not an article")
    ]
    write(path, load.record_extractions, run_id, outcomes)
    write(path, load.replace_clusters, run_id, clusters(arts), [a.id for a in arts])
    write(path, load.mark_source_success, ["outlet-a", "outlet-b"], T0 + timedelta(days=1))
    write(path, load.finish_run, run_id, "completed", {"articles": len(arts)})


def table_hashes(path: Path) -> dict[str, tuple[int, str]]:
    """(rows, md5 of all non-volatile columns in a fixed order) per table."""
    out = {}
    with db.open_reader(path) as con:
        for table in sql.TABLES:
            names = con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [table]).fetchall()
            cols = [c for (c,) in names if f"{table}.{c}" not in VOLATILE]
            row = "row(" + ", ".join(f'"{c}"' for c in cols) + ")::VARCHAR"
            out[table] = con.execute(
                f"SELECT count(*), md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) "
                f"FROM {table}").fetchall()[0]
    return out


def run_child(code: str, *args: str) -> subprocess.Popen:
    """Start a Python child running `code` with the project importable; stdout is a pipe."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- schema and migrations --------------------------------------------------------------


def schema_of(con: duckdb.DuckDBPyConnection) -> tuple[list, list]:
    """Columns (name, position, type, nullability) and keys of the warehouse's own tables."""
    tables = list(sql.TABLES)
    columns = con.execute(
        "SELECT table_name, column_name, ordinal_position, data_type, is_nullable "
        "FROM information_schema.columns WHERE table_schema = 'main' "
        "AND list_contains(?, table_name) ORDER BY ALL", [tables]).fetchall()
    keys = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names::VARCHAR "
        "FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
        "AND list_contains(?, table_name) ORDER BY ALL", [tables]).fetchall()
    return columns, keys


def test_migrations_build_exactly_schema_sql(tmp_path):
    with db.open_writer(tmp_path / "m.duckdb") as con:
        migrated = schema_of(con)
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute((ROOT / "warehouse" / "schema.sql").read_text())
    documented = schema_of(con)
    con.close()
    assert {t for t, *_ in migrated[0]} == set(sql.TABLES)
    assert migrated == documented


def test_old_file_is_upgraded_in_place_and_keeps_data(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    db.apply_migrations(con, upto=1)
    con.execute("INSERT INTO articles (id, canonical_url, title) VALUES ('old', 'u', 'Kept')")
    con.close()

    with db.open_writer(path) as con:
        versions = con.execute("SELECT version, name FROM schema_version ORDER BY 1").fetchall()
        applied = con.execute("SELECT applied_at FROM schema_version ORDER BY 1").fetchall()
        assert con.execute("SELECT title FROM articles").fetchall() == [("Kept",)]
        assert con.execute("SELECT count(*) FROM event_merges").fetchall() == [(0,)]
    assert versions == [(version, name) for version, name, _ in db.migrations()]
    assert versions[:2] == [(1, "0001_initial"), (2, "0002_event_merges")]
    with db.open_writer(path) as con:  # second open: nothing re-applied
        assert db.apply_migrations(con) == []
        assert con.execute("SELECT applied_at FROM schema_version ORDER BY 1").fetchall() == applied


# --- loads ------------------------------------------------------------------------------


def test_loading_the_same_batches_twice_changes_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    arts = batch(12)
    full_load(path, arts)
    once = table_hashes(path)
    full_load(path, arts)
    assert table_hashes(path) == once
    counts = read(path, queries.table_counts)
    assert counts["articles"] == 12 and counts["fetch_log"] == 13
    assert counts["events"] == 6 and counts["event_articles"] == 12 and counts["duplicates"] == 3


def test_article_keeps_first_fetch_and_run_and_collects_urls(tmp_path):
    path = tmp_path / "w.duckdb"
    first = article(1)
    write(path, load.record_extractions, "run-1", [extracted(first)])
    later = replace(first, url="https://outlet-a.test/amp/1", urls=("https://outlet-a.test/amp/1",),
                    title="Updated title", fetched_at=first.fetched_at + timedelta(days=2))
    write(path, load.record_extractions, "run-2", [extracted(later)])
    [stored] = read(path, queries.articles_by_ids, [first.id])
    assert stored.urls == (first.url, later.url)
    assert stored.fetched_at == first.fetched_at and stored.title == "Updated title"
    assert stored.facets == first.facets
    _, rows = queries.run_readonly_sql(path, "SELECT run_id FROM articles")
    assert rows == [("run-1",)]
    assert read(path, queries.known_urls, [later.url, "https://nowhere.test/"]) == {later.url}
    assert read(path, queries.stored_canonical_urls, [first.url, later.url]) == {first.url}


def test_one_batch_reaching_an_article_by_two_urls_stores_it_once(tmp_path):
    path = tmp_path / "w.duckdb"
    first = article(1)
    amp = replace(first, url="https://outlet-a.test/amp/1", urls=(),
                  fetched_at=first.fetched_at + timedelta(hours=1))
    write(path, load.record_extractions, "run-1", [extracted(first), extracted(amp)])
    [stored] = read(path, queries.articles_by_ids, [first.id])
    assert stored.urls == (first.url, amp.url) and stored.fetched_at == first.fetched_at
    assert read(path, queries.table_counts)["extraction_log"] == 2


def test_raw_pages_keep_only_the_newest_response_and_round_trip(tmp_path):
    path = tmp_path / "w.duckdb"
    a = article(1)
    new = fetched(a, html="<p>new ünïcode</p>", fetched_at=T0 + timedelta(days=1))
    old = fetched(a, html="<p>old</p>", fetched_at=T0)
    write(path, load.record_fetches, "run-1", [new])
    write(path, load.record_fetches, "run-2", [old])  # arrives later but is older: ignored
    [page] = read(path, queries.raw_pages, [a.url])
    assert page.html == "<p>new ünïcode</p>" and page.fetched_at == new.fetched_at
    assert read(path, queries.raw_pages, ["https://other.test/"]) == []
    assert read(path, queries.table_counts)["fetch_log"] == 2
    assert maintenance.raw_pages_to_prune(path, keep_days=0) == (1, 1)
    assert maintenance.raw_pages_to_prune(path, keep_days=100_000) == (0, 1)
    assert maintenance.prune_raw(path, keep_days=0).dropped == 1
    assert read(path, queries.table_counts)["raw_pages"] == 0


def test_pages_live_beside_the_warehouse_and_prune_deletes_them_without_a_copy(tmp_path):
    from warehouse import raw_store

    path = tmp_path / "w.duckdb"
    now = datetime.now(UTC)
    recent = [fetched(a, fetched_at=now - timedelta(hours=1)) for a in batch(3)]
    old = [fetched(a, fetched_at=now - timedelta(days=40)) for a in batch(3, start=3)]
    write(path, load.record_fetches, "run-1", old)
    write(path, load.record_fetches, "run-2", recent)
    folders = [d for d, _ in raw_store.day_folders(path)]
    assert len(folders) == 2  # one per fetch day
    orphan = raw_store.raw_dir(path) / f"day={folders[-1].isoformat()}" / "killed-run.parquet"
    orphan.write_bytes(b"a file a killed run wrote before its commit")
    # A page stored inside the file by an older version.
    legacy = article(9)
    with db.open_writer(path) as con:
        con.execute("INSERT INTO raw_pages (url, source, fetched_at, n_bytes, html_zstd) "
                    "VALUES (?, 'outlet-a', ?, 7, ?)",
                    [legacy.url, now - timedelta(days=50),
                     pa.compress(b"<p>x</p>", codec="zstd", asbytes=True)])
    file_before = path.stat().st_size

    done = maintenance.prune_raw(path, keep_days=30)

    assert done.dropped == 4 and done.in_file_bytes > 0 and not done.compacted
    assert [d for d, _ in raw_store.day_folders(path)] == folders[-1:]  # the old day is gone
    assert not orphan.exists()
    assert {p.url for p in read(path, queries.raw_pages)} == {p.url for p in recent}
    assert done.bytes_after < done.bytes_before
    assert path.stat().st_size <= file_before + 1024 * 1024  # nothing was copied


def test_replace_clusters_moves_articles_and_drops_emptied_events(tmp_path):
    path = tmp_path / "w.duckdb"
    arts = batch(4)
    write(path, load.record_extractions, "run-1", [extracted(a) for a in arts])
    write(path, load.replace_clusters, "run-1", clusters(arts), [a.id for a in arts])
    merged = ClusterResult(
        duplicates=(),
        events=(Event("e-a0000", "Merged", tuple(a.id for a in arts), n_articles=4, n_sources=3),),
        memberships=tuple(Membership("e-a0000", a.id, 0.9) for a in arts),
    )
    write(path, load.replace_clusters, "run-2", merged, [a.id for a in arts],
                          merges=[("e-a0002", "e-a0000")])
    _, events = queries.run_readonly_sql(path, "SELECT id, headline, n_articles FROM events")
    assert events == [("e-a0000", "Merged", 4)]
    counts = read(path, queries.table_counts)
    assert counts["duplicates"] == 0 and counts["event_articles"] == 4
    _, merges = queries.run_readonly_sql(path, "SELECT from_event_id, into_event_id, run_id "
                                               "FROM event_merges")
    assert merges == [("e-a0002", "e-a0000", "run-2")]


def test_who_and_where_round_trip_and_answer_the_documented_query(tmp_path):
    """Articles keep their who/where (read back as they were stored); events carry the
    agreed record in columns, and docs/warehouse.md's example query finds them."""
    path = tmp_path / "w.duckdb"
    arts = batch(2)
    write(path, load.record_extractions, "run-1", [extracted(a) for a in arts])
    write(path, load.replace_clusters, "run-1", clusters(arts), [a.id for a in arts])
    stored = read(path, queries.articles_by_ids, [arts[0].id])[0]
    assert stored.facets.who == arts[0].facets.who and stored.facets.where == LISBON
    _, rows = queries.run_readonly_sql(path, """
        SELECT headline, where_name, where_country, where_lat, where_id, event_date
        FROM events
        WHERE where_name = 'Lisbon'
          AND list_contains(list_transform(who, lambda w: w.name), 'Harbour Council')
          AND event_date BETWEEN DATE '2026-11-16' AND DATE '2026-11-22'
    """)
    assert rows == [("Title 0", "Lisbon", "PT", 38.7167, "geonames:2267057", date(2026, 11, 20))]
    _, typed = queries.run_readonly_sql(path, "SELECT who[1].type, actor_keys FROM events")
    assert typed == [("organisation", ["harbour council"])]


def test_runs_sources_and_validators(tmp_path):
    path = tmp_path / "w.duckdb"
    full_load(path, batch(2))
    _, runs = queries.run_readonly_sql(
        path, "SELECT status, counts->>'articles', parameters->>'since', finished_at IS NOT NULL "
              "FROM runs")
    assert runs == [("completed", "2", "2026-11-20", True)]
    assert read(path, queries.last_success, ["outlet-a"])["outlet-a"] == T0 + timedelta(days=1)
    assert read(path, queries.last_success, ["outlet-c"]).get("outlet-c") is None
    write(path, load.mark_source_success, ["outlet-a"], T0)  # older: never moves backwards
    assert read(path, queries.last_success, ["outlet-a"])["outlet-a"] == T0 + timedelta(days=1)
    assert read(path, queries.validators, ["https://outlet-a.test/rss", "https://x.test/"]) == {
        "https://outlet-a.test/rss": ('"abc"', "Thu, 19 Nov 2026")}


def test_export_parquet_writes_every_table_and_partitions_articles(tmp_path):
    path = tmp_path / "w.duckdb"
    full_load(path, batch(30))  # published over 30 hours: two days
    written = maintenance.export_parquet(path, tmp_path / "out")
    assert {p.name for p in written} >= {f"{t}.parquet" for t in sql.TABLES if t != "articles"}
    days = sorted(p.name for p in (tmp_path / "out" / "articles").iterdir())
    assert days == ["day=2026-11-20", "day=2026-11-21"]
    con = duckdb.connect()
    n = con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
                    [str(tmp_path / "out" / "articles" / "*" / "*.parquet")]).fetchall()
    assert n == [(30,)]


def test_export_again_writes_only_the_days_that_changed(tmp_path):
    path = tmp_path / "w.duckdb"
    arts = batch(30)
    full_load(path, arts[:20])  # the first day (published hourly from 08:00)
    out = tmp_path / "out"
    maintenance.export_parquet(path, out)
    first_day = out / "articles" / "day=2026-11-20"
    before = {f: f.stat().st_mtime_ns for f in first_day.iterdir()}
    write(path, load.record_fetches, "run-2", [fetched(a) for a in arts[20:]])  # next day
    write(path, load.record_extractions, "run-2", [extracted(a) for a in arts[20:]])

    maintenance.export_parquet(path, out)

    assert {f: f.stat().st_mtime_ns for f in first_day.iterdir()} == before
    con = duckdb.connect()
    n = con.execute("SELECT count(*), count(DISTINCT id) FROM read_parquet(?, "
                    "hive_partitioning = true)",
                    [str(out / "articles" / "*" / "*.parquet")]).fetchall()
    assert n == [(30, 30)]
    raw = con.execute("SELECT count(*) FROM read_parquet(?)",
                      [str(out / "raw_pages_html" / "*" / "*.parquet")]).fetchall()
    assert raw[0][0] >= 30


# --- crashes and concurrency ------------------------------------------------------------

_KILLED_LOADER = """
    import sys, time
    from tests.test_warehouse import batch, extracted
    from warehouse import db, load

    def pause() -> int:
        print("mid-transaction", flush=True)
        time.sleep(60)
        return 0

    outcomes = [extracted(a) for a in batch(200)]
    with db.open_writer(sys.argv[1]) as con, con.transaction():
        con.duckdb.create_function("pause", pause, [], "INTEGER", side_effects=True)
        load.record_extractions(con, "run-1", outcomes)  # joins the open transaction
        con.execute("SELECT pause()")
"""


def test_writer_killed_mid_transaction_then_rerun_equals_one_clean_run(tmp_path):
    killed, clean = tmp_path / "killed.duckdb", tmp_path / "clean.duckdb"
    outcomes = [extracted(a) for a in batch(200)]
    child = run_child(_KILLED_LOADER, str(killed))
    assert child.stdout.readline().strip() == "mid-transaction", child.stderr.read()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert read(killed, queries.table_counts)["articles"] == 0  # nothing half-loaded survived

    write(killed, load.record_extractions, "run-1", outcomes)
    write(clean, load.record_extractions, "run-1", outcomes)
    assert table_hashes(killed) == table_hashes(clean)


_CONCURRENT_LOADER = """
    import sys
    from tests.test_warehouse import batch, extracted, fetched, write
    from warehouse import load

    path, run = sys.argv[1], sys.argv[2]
    for start in range(0, 60, 15):  # overlapping with the other process on purpose
        arts = batch(20, start=start)
        write(path, load.record_fetches, run, [fetched(a) for a in arts])
        write(path, load.record_extractions, run, [extracted(a) for a in arts])
    print("done", flush=True)
"""


def test_two_processes_loading_at_once_both_finish_without_duplicates(tmp_path):
    path = tmp_path / "w.duckdb"
    children = [run_child(_CONCURRENT_LOADER, str(path), run) for run in ("run-1", "run-2")]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out.strip() == "done"
    _, rows = queries.run_readonly_sql(
        path, "SELECT count(*), count(DISTINCT id), count(DISTINCT canonical_url) FROM articles")
    assert rows == [(65, 65, 65)]
    counts = read(path, queries.table_counts)
    assert counts["fetch_log"] == 130 and counts["extraction_log"] == 130
    assert counts["raw_pages"] == 65


_HOLDING_WRITER = """
    import sys, time
    from warehouse import db

    with db.open_writer(sys.argv[1]) as con:
        con.execute("INSERT INTO runs (run_id) VALUES ('held')")
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
"""


def test_reader_waits_for_the_writer_and_gets_its_answer(tmp_path):
    path = tmp_path / "w.duckdb"
    write(path, load.start_run, "run-0", {})
    child = run_child(_HOLDING_WRITER, str(path), "1.5")
    assert child.stdout.readline().strip() == "holding"
    started = time.monotonic()
    counts = read(path, queries.table_counts)
    waited = time.monotonic() - started
    child.wait(timeout=30)
    assert counts["runs"] == 2  # saw the writer's committed row
    assert waited > 0.5


def test_reader_in_another_thread_waits_for_a_writer_of_this_process(tmp_path):
    path = tmp_path / "w.duckdb"
    write(path, load.start_run, "run-0", {})
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.open_writer(path) as con:
            con.execute("INSERT INTO runs (run_id) VALUES ('held')")
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(10)
    threading.Timer(0.5, release.set).start()
    assert read(path, queries.table_counts)["runs"] == 2
    thread.join()


def test_busy_file_raises_warehouse_busy_naming_file_and_wait(tmp_path):
    path = tmp_path / "w.duckdb"
    write(path, load.start_run, "run-0", {})
    child = run_child(_HOLDING_WRITER, str(path), "5")
    assert child.stdout.readline().strip() == "holding"
    try:
        with pytest.raises(db.WarehouseBusy, match=r"w\.duckdb.*0\.3s"), \
                db.open_writer(path, timeout_s=0.3):
            pass
        with pytest.raises(db.WarehouseBusy, match=r"w\.duckdb"), \
                db.open_reader(path, timeout_s=0.3):
            pass
    finally:
        child.kill()
        child.wait()


# --- reads ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """One warehouse for the read tests (they must not change it, and check that they don't)."""
    path = tmp_path_factory.mktemp("read") / "w.duckdb"
    # the last article is never clustered
    full_load(path, batch(8) + [article(100, source="outlet-d", published_at=T0)])
    return path


@pytest.mark.parametrize("statement", [
    "DELETE FROM articles",
    "DROP TABLE articles",
    "INSERT INTO runs (run_id) VALUES ('x')",
    "COPY articles TO '{out}'",
    "ATTACH '{out}' AS other",
    "SELECT 1; DELETE FROM articles",
    "UPDATE articles SET title = 'x'",
    "PRAGMA enable_profiling",
])
def test_readonly_sql_refuses_writes_and_changes_nothing(loaded, tmp_path, statement):
    path = loaded
    before = table_hashes(path)
    out = tmp_path / "leak.csv"
    with pytest.raises(db.ReadOnlyViolation, match="is not allowed: newsmon sql is read-only"):
        queries.run_readonly_sql(path, statement.format(out=out))
    assert table_hashes(path) == before
    assert not out.exists()


def test_readonly_sql_answers_reads(loaded):
    path = loaded
    assert queries.run_readonly_sql(path, "SELECT count(*) AS n FROM articles WHERE source = ?",
                                    ["outlet-a"]) == (["n"], [(3,)])
    for read in ("SHOW TABLES", "DESCRIBE articles", "SUMMARIZE runs", "PRAGMA table_info('runs')",
                 "EXPLAIN SELECT * FROM events", "WITH x AS (SELECT 1 AS a) SELECT a FROM x"):
        columns, _ = queries.run_readonly_sql(path, read)
        assert columns


def test_every_view_runs_and_says_what_it_should(loaded):
    path = loaded
    arts = batch(8) + [article(100, source="outlet-d", published_at=T0)]
    for view in sql.VIEWS:
        columns, _ = queries.run_readonly_sql(path, f"SELECT * FROM {view}")
        assert columns
    top = read(path, queries.top_events, limit=3)
    latest_day = max(a.published_at for a in arts).date()
    assert {e["day"] for e in top} == {latest_day}
    assert [e["n_sources"] for e in top] == sorted((e["n_sources"] for e in top), reverse=True)
    _, unclustered = queries.run_readonly_sql(path, "SELECT id FROM unclustered_articles")
    assert unclustered == [("a0100",)]
    _, timeline = queries.run_readonly_sql(
        path, "SELECT published_at FROM event_timeline WHERE event_id = 'e-a0000'")
    assert [r[0] for r in timeline] == [arts[0].published_at, arts[1].published_at]
    _, failures = queries.run_readonly_sql(
        path, "SELECT source, stage, kind, n FROM failures_per_source ORDER BY stage")
    assert failures == [("outlet-c", "extract", "skipped: not an article", 1),
                        ("outlet-c", "fetch", "Timeout", 1)]
    _, coverage = queries.run_readonly_sql(
        path, "SELECT sum(n_articles) FROM coverage_per_source_day")
    assert coverage == [(9,)]
