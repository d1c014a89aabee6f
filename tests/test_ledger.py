"""The coverage ledger: decisions by identity (pure), and its warehouse side (real DuckDB).

The flow-level cases (lag, back-dating, --since, overflow, updates, the run lock) are in
tests/test_never_lose.py; these pin the rules one by one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from extractors.fetch.discover import DocumentRead
from extractors.fetch.ledger import (
    BEFORE_SINCE,
    NOT_FETCHED,
    decide,
    documents_to_remember,
    find_overflows,
    is_handled,
    outcome_of,
    plan_entries,
    settle,
    stable_guids,
)
from extractors.models import (
    Article,
    Candidate,
    EntryFacts,
    EntryRecord,
    ExtractionOutcome,
    FetchResult,
    Overflow,
)
from warehouse import db, load, queries

T0 = datetime(2026, 11, 5, 6, tzinfo=UTC)
URL = "https://a.test/news/one"


def entry(url: str = URL, source: str = "a", **kw) -> Candidate:
    return Candidate(url, source, kw.pop("via", "feed"), **kw)


# --- decisions ------------------------------------------------------------------------------


def test_an_unknown_entry_is_new_whatever_its_date():
    ancient = entry(published=datetime(2001, 1, 1, tzinfo=UTC))
    assert decide(ancient, None, since=None).decision == "new"
    assert decide(entry(), None, since=None).outcome == "pending"


def test_since_only_leaves_out_older_dated_entries_and_never_undated_ones():
    since = T0 - timedelta(days=3)
    old = decide(entry(published=T0 - timedelta(days=5)), None, since)
    assert (old.decision, old.outcome, old.reason) == ("before-since", "skipped", BEFORE_SINCE)
    assert decide(entry(published=T0), None, since).decision == "new"
    assert decide(entry(), None, since).decision == "new"  # unknown date: not evidence


def test_stored_entries_are_seen_unless_their_updated_moved_forward():
    stored = EntryFacts(URL, stored=True, baseline=T0)
    assert decide(entry(updated=T0), stored, None).decision == "seen"
    assert decide(entry(updated=T0 - timedelta(hours=1)), stored, None).decision == "seen"
    moved = decide(entry(updated=T0 + timedelta(hours=1)), stored, None)
    assert (moved.decision, moved.outcome, moved.baseline) == ("updated", "stored", T0)
    # no baseline yet: the first `updated` seen becomes it, nothing is refetched
    first = decide(entry(updated=T0), EntryFacts(URL, stored=True), None)
    assert (first.decision, first.baseline) == ("seen", T0)
    # a stored article is seen even when --since would have left its entry out
    assert decide(entry(published=T0 - timedelta(days=9)), stored, T0).decision == "seen"


def test_failures_are_retried_while_due_then_recorded_for_good():
    def facts(error, status, runs):
        return EntryFacts(URL, fetch_error=error, fetch_status=status, failed_runs=runs)

    assert decide(entry(), facts("ConnectionLost", None, 1), None).decision == "retry"
    assert decide(entry(), facts("HTTPStatusError", 503, 2), None).reason == "retry: HTTP 503"
    gone = decide(entry(), facts("HTTPStatusError", 404, 1), None)
    assert (gone.decision, gone.outcome, gone.reason) == ("seen", "failed", "HTTP 404")
    tired = decide(entry(), facts("ReadTimeout", None, 3), None)
    assert (tired.decision, tired.outcome, tired.reason) == ("seen", "failed", "ReadTimeout")


def test_extraction_outcomes_are_recorded_without_their_details():
    skipped = EntryFacts(URL, extraction="skipped", extraction_reason="too short (12 words)")
    assert outcome_of(skipped) == ("skipped", "too short")
    failed = EntryFacts(URL, extraction="failed", extraction_reason="extraction error: X: y")
    assert outcome_of(failed) == ("failed", "extraction error")
    assert decide(entry(), skipped, None).decision == "seen"
    # fetched but never extracted (a run stopped in between): fetched again
    assert outcome_of(EntryFacts(URL)) == ("pending", NOT_FETCHED)


def test_what_counts_as_handled():
    assert is_handled("stored", None) and is_handled("failed", "HTTP 404")
    assert is_handled("skipped", "too short") and is_handled("pending", "retry: HTTP 503")
    assert not is_handled("skipped", BEFORE_SINCE)
    assert not is_handled("pending", NOT_FETCHED)


# --- GUIDs ----------------------------------------------------------------------------------


def test_a_stable_guid_recognises_a_stored_article_at_a_new_url():
    moved = entry("https://a.test/news/one-renamed", guid="tag:a,1")
    facts = {URL: EntryFacts(URL, stored=True, guid="tag:a,1", baseline=T0)}
    plan = plan_entries([moved], [], facts, now=T0, guid_urls={("a", "tag:a,1"): URL})
    [planned] = plan.entries
    assert (planned.decision, planned.outcome, planned.reason) == (
        "seen", "skipped", f"same guid as {URL}")
    # ... unless it was updated since: then the new URL is fetched
    later = entry("https://a.test/news/one-renamed", guid="tag:a,1", updated=T0 + timedelta(1))
    plan = plan_entries([later], [], facts, now=T0, guid_urls={("a", "tag:a,1"): URL})
    assert plan.entries[0].decision == "updated" and plan.to_fetch == [later]


def test_guids_that_move_between_urls_are_not_trusted():
    facts = {URL: EntryFacts(URL, stored=True, guid="tag:a,1")}
    assert stable_guids([entry(guid="tag:a,1")], facts)
    assert not stable_guids([entry(guid="tag:a,2")], facts)  # the ledger knew another GUID
    assert not stable_guids([entry(guid="g"), entry("https://a.test/2", guid="g")], {})
    # with unstable GUIDs the entry is decided by its URL alone: new
    shuffled = [entry(guid="tag:a,9"), entry("https://a.test/new", guid="tag:a,1")]
    plan = plan_entries(shuffled, [], facts, now=T0, guid_urls={("a", "tag:a,1"): URL})
    assert [p.decision for p in plan.entries] == ["seen", "new"]


# --- overflow -------------------------------------------------------------------------------


def _read(*urls: str, kind: str = "feed") -> DocumentRead:
    return DocumentRead("https://a.test/feed", "a", kind, tuple(entry(u) for u in urls))


def test_a_document_read_before_whose_every_entry_is_new_overflowed():
    read = _read("https://a.test/1", "https://a.test/2")
    before = {"https://a.test/feed": T0 - timedelta(days=1)}
    [overflow] = find_overflows([read], {}, {}, before, T0, {"a"})
    assert overflow == Overflow("a", "https://a.test/feed", "feed", 2, T0 - timedelta(days=1),
                                T0, "sitemaps")
    assert "poll more often" in overflow.message() and "24 h" in overflow.message()
    assert find_overflows([read], {}, {}, before, T0, set())[0].fallback == "none"
    # never read before (a first run), one entry known, or an empty feed: no overflow
    assert find_overflows([read], {}, {}, {}, T0, {"a"}) == []
    known = {"https://a.test/2": EntryFacts("https://a.test/2", stored=True)}
    assert find_overflows([read], known, {}, before, T0, {"a"}) == []
    assert find_overflows([_read()], {}, {}, before, T0, {"a"}) == []


# --- after the fetch ------------------------------------------------------------------------


def test_settle_records_outcomes_and_moves_the_baseline_only_when_fetched():
    new = entry("https://a.test/new", updated=T0)
    update = entry("https://a.test/upd", updated=T0 + timedelta(hours=2))
    flaky = entry("https://a.test/flaky", updated=T0 + timedelta(hours=2))
    facts = {"https://a.test/upd": EntryFacts("https://a.test/upd", stored=True, baseline=T0),
             "https://a.test/flaky": EntryFacts("https://a.test/flaky", stored=True,
                                                baseline=T0)}
    plan = plan_entries([new, update, flaky], [], facts, now=T0)
    assert [p.decision for p in plan.entries] == ["new", "updated", "updated"]
    after = {
        "https://a.test/new": EntryFacts("https://a.test/new", stored=True),
        "https://a.test/upd": EntryFacts("https://a.test/upd", stored=True),
        "https://a.test/flaky": EntryFacts("https://a.test/flaky", stored=True,
                                           fetch_error="ConnectionLost", failed_runs=1),
    }
    got = {r.entry.url: (r.outcome, r.stored_updated, r.refetched) for r in settle(plan, after)}
    assert got == {
        "https://a.test/new": ("stored", T0, False),
        "https://a.test/upd": ("stored", T0 + timedelta(hours=2), True),
        "https://a.test/flaky": ("stored", T0, False),  # the update is fetched again next run
    }


def test_validators_are_kept_only_for_documents_whose_entries_are_all_handled():
    done = _read("https://a.test/1")
    left = DocumentRead("https://a.test/sitemap", "a", "sitemap",
                        (entry("https://a.test/1"), entry("https://a.test/2")))
    records = [EntryRecord(entry("https://a.test/1"), "stored"),
               EntryRecord(entry("https://a.test/2"), "skipped", BEFORE_SINCE)]
    assert documents_to_remember([done, left], records) == (
        ["https://a.test/feed"], ["https://a.test/sitemap"])
    # the latest record wins: the entry was fetched and stored after all
    later = [*records, EntryRecord(entry("https://a.test/2"), "stored")]
    assert documents_to_remember([left], later) == (["https://a.test/sitemap"], [])


# --- the warehouse side ---------------------------------------------------------------------


def write(path, loader, *args):
    """One loader call on its own writer connection (as the flow's RunStore does)."""
    with db.open_writer(path) as con:
        return loader(con, *args)


def read(path, query, *args):
    with db.open_reader(path) as con:
        return query(con, *args)


def _article(url: str, text: str, fetched_at: datetime) -> Article:
    return Article(id=f"id-{url}", url=url, canonical_url=url, source="a", title="T",
                   text=text, content_hash=str(hash(text)), fetched_at=fetched_at)


def _store(path, run_id: str, url: str, text: str, at: datetime) -> None:
    write(path, load.record_extractions, run_id, [
        ExtractionOutcome(url, "a", "extracted", article=_article(url, text, at))])


def test_entry_facts_and_the_coverage_ledger_view(tmp_path):
    path = tmp_path / "w.duckdb"
    ok, gone, late, left = (f"https://a.test/{n}" for n in ("ok", "gone", "late", "left"))
    write(path, load.record_fetches, "r1", [
        FetchResult(ok, "a", status_code=200, html="<p>x</p>", fetched_at=T0),
        FetchResult(gone, "a", status_code=404, error_class="HTTPStatusError", error="HTTP 404",
                    fetched_at=T0),
        FetchResult(late, "a", error_class="ConnectionLost", error="reset", fetched_at=T0),
    ])
    _store(path, "r1", ok, "first text", T0)
    facts = read(path, queries.entry_facts, [ok, gone, late, left])
    assert set(facts) == {ok, gone, late}  # nothing known about `left`
    assert facts[ok].stored and facts[ok].extraction == "extracted"
    assert (facts[gone].fetch_error, facts[gone].fetch_status) == ("HTTPStatusError", 404)
    assert outcome_of(facts[late]) == ("pending", "retry: ConnectionLost")

    records = [EntryRecord(entry(u), *outcome_of(facts.get(u))) for u in (ok, gone, late, left)]
    records.append(EntryRecord(entry("https://a.test/old", published=T0 - timedelta(days=9)),
                               "skipped", BEFORE_SINCE))
    write(path, load.record_entries, "r1", records, T0)
    write(path, load.record_overflows, "r1", [Overflow("a", "https://a.test/feed", "feed", 3,
                                                T0 - timedelta(days=1), T0, "none")])
    rows, messages = read(path, queries.run_coverage, "r1")
    [row] = rows
    assert {k: row[k] for k in ("source", "day", "seen", "stored", "failed", "skipped",
                                "pending_retry", "not_fetched", "overflow_warnings")} == {
        "source": "a", "day": T0.date(), "seen": 5, "stored": 1, "failed": 1, "skipped": 1,
        "pending_retry": 1, "not_fetched": 1, "overflow_warnings": 1}
    assert row["failed_by_reason"] == {"HTTP 404": 1}
    assert row["skipped_by_reason"] == {BEFORE_SINCE: 1}
    assert row["pending_by_reason"] == {"retry: ConnectionLost": 1, NOT_FETCHED: 1}
    assert messages == [Overflow("a", "https://a.test/feed", "feed", 3, T0 - timedelta(days=1),
                                 T0, "none").message()]

    # the backlog: what the ledger still owes a fetch (pending, left out by --since, an
    # update seen but not fetched), whether or not a feed still lists it
    backlog = {c.url for c in read(path, queries.ledger_backlog, ["a"])}
    assert backlog == {late, left, "https://a.test/old"}
    moved = entry(ok, updated=T0 + timedelta(hours=1))
    write(path, load.record_entries, "r1", [EntryRecord(moved, "stored", None, T0)], T0)
    owed = {c.url: c.updated for c in read(path, queries.ledger_backlog, ["a"])}
    assert owed[ok] == T0 + timedelta(hours=1)
    write(path, load.record_entries, "r1",
          [EntryRecord(moved, "stored", None, T0 + timedelta(hours=1))], T0)
    assert ok not in {c.url for c in read(path, queries.ledger_backlog, ["a"])}

    # a stored page whose refetch (of an update) fails has the retries of a new page: only
    # failures since it was last fetched fine count
    write(path, load.record_fetches, "r2", [FetchResult(ok, "a", error_class="ConnectionLost",
                                                 error="reset", fetched_at=T0 + timedelta(1))])
    again = read(path, queries.entry_facts, [ok])[ok]
    assert (again.stored, again.fetch_error, again.failed_runs) == (True, "ConnectionLost", 1)

    # a later sighting keeps the first one and updates the outcome
    write(path, load.record_entries, "r2", [EntryRecord(entry(late), "stored")],
          T0 + timedelta(1))
    [(first, last, outcome, run1, run2)] = queries.run_readonly_sql(
        path, "SELECT first_seen_at, last_seen_at, outcome, first_run_id, last_run_id "
              "FROM entries WHERE url = $u", {"u": late})[1]
    assert (first, last, outcome, run1, run2) == (T0, T0 + timedelta(1), "stored", "r1", "r2")


def test_a_changed_version_replaces_the_article_and_the_old_one_is_kept(tmp_path):
    path = tmp_path / "w.duckdb"
    _store(path, "r1", URL, "first text", T0)
    _store(path, "r1", URL, "first text", T0)  # the same content again: not a new version
    assert read(path, queries.articles_added_by_run, "r1") == (1, 0)
    _store(path, "r2", URL, "second text", T0 + timedelta(hours=5))
    assert read(path, queries.articles_added_by_run, "r2") == (0, 1)
    rows = queries.run_readonly_sql(
        path, "SELECT text, fetched_at, updated_at, run_id FROM articles")[1]
    assert rows == [("second text", T0, T0 + timedelta(hours=5), "r1")]
    versions = queries.run_readonly_sql(
        path, "SELECT text, fetched_at, replaced_by_run FROM article_versions")[1]
    assert versions == [("first text", T0, "r2")]


# --- the run lock ---------------------------------------------------------------------------


def _hold_lock_until_killed(path: str, ready) -> None:
    db.hold_run_lock(path, "child-run", wait_s=0)
    ready.set()
    time.sleep(600)


def test_the_run_lock_waits_tells_refuses_and_is_freed_when_its_holder_dies(tmp_path):
    path = tmp_path / "w.duckdb"
    with db.open_writer(path):  # an existing warehouse (readers never create one)
        pass
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_hold_lock_until_killed, args=(str(path), ready))
    child.start()
    try:
        assert ready.wait(60)
        told: list[str] = []
        started = time.monotonic()
        with pytest.raises(db.RunInProgress, match=r"newsmon run child-run \(pid \d+"):
            db.hold_run_lock(path, "second", wait_s=0.5, on_wait=told.append)
        assert time.monotonic() - started >= 0.5
        assert len(told) == 1 and "child-run" in told[0] and "waiting up to 0.5s" in told[0]
        # readers never take the run lock
        assert queries.run_readonly_sql(path, "SELECT 1")[1] == [(1,)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
    held = db.hold_run_lock(path, "third", wait_s=5)  # the kernel freed the dead holder's lock
    held.release()
