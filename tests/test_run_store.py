"""RunStore on a real DuckDB file: a run's write-ahead log stays bounded, nothing is lost."""

from __future__ import annotations

from datetime import UTC, datetime

from extractors.models import ExtractionOutcome, FetchResult
from flows import run_store
from flows.run_store import RunStore
from warehouse import queries
from warehouse.db import open_reader, wal_bytes

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _pages(first: int, n: int) -> list[FetchResult]:
    return [FetchResult(url=f"https://outlet.test/news/{i}", source="Outlet", status_code=200,
                        content_type="text/html; charset=utf-8", fetched_at=T0, n_bytes=0,
                        html=f"<html><body><p>Story {i} é {'words ' * 400}</p></body></html>")
            for i in range(first, first + n)]


def _skipped(pages: list[FetchResult]) -> list[ExtractionOutcome]:
    return [ExtractionOutcome(url=p.url, source=p.source, status="skipped", reason="no text")
            for p in pages]


def test_a_write_checkpoints_once_the_log_passed_its_bound(tmp_path, monkeypatch):
    """Every open replays the whole write-ahead log: a run's batches leave their commits in
    it, until it passes WAL_CHECKPOINT_BYTES; the next write then checkpoints it."""
    db = tmp_path / "w.duckdb"
    store = RunStore(db, "run-1", timeout_s=30)
    store.start({}, None, [])
    monkeypatch.setattr(run_store, "WAL_CHECKPOINT_BYTES", 1 << 40)
    batches = [_pages(0, 5), _pages(5, 5), _pages(10, 5)]
    store.record_batch(batches[0], _skipped(batches[0]))
    store.record_batch(batches[1], _skipped(batches[1]))
    grown = wal_bytes(db)
    assert grown > 0, "batches under the bound stay in the log (no checkpoint per batch)"

    monkeypatch.setattr(run_store, "WAL_CHECKPOINT_BYTES", grown)
    store.record_batch(batches[2], _skipped(batches[2]))

    assert wal_bytes(db) < grown
    with open_reader(db) as con:
        stored = {p.url: p.html for p in queries.raw_pages(con)}
    assert stored == {p.url: p.html for batch in batches for p in batch}
