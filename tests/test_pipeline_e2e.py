"""End to end: the monitor flow against the demo news site, checked against its planted truth."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import duckdb
import pytest

from demosite import truth
from extractors.fetch.urls import article_id

pytestmark = pytest.mark.slow


def _rows(db, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_every_demo_article_is_stored_exactly_once(demo_run):
    expected = {a.canonical_url for a in truth.expected_articles()}
    stored = _rows(demo_run["db"], "SELECT canonical_url FROM articles")
    assert len(stored) == len({r[0] for r in stored}), "an article is stored twice"
    assert {r[0] for r in stored} == expected


def test_two_urls_of_one_article_give_one_article(demo_run):
    twins = [a for a in truth.expected_articles() if a.alternate_urls]
    assert twins, "the demo site must plant an article reachable at two URLs"
    for article in twins:
        rows = _rows(
            demo_run["db"],
            f"SELECT count(*) FROM articles WHERE canonical_url = '{article.canonical_url}'",
        )
        assert rows == [(1,)]
    tracking = _rows(demo_run["db"], "SELECT count(*) FROM articles WHERE url LIKE '%utm_%'")
    assert tracking == [(0,)]


def test_syndicated_copy_is_recorded_as_duplicate(demo_run):
    copies = [a for a in truth.expected_articles() if a.copy_of_url]
    assert copies, "the demo site must plant a syndicated wire copy"
    dups = {
        (a, b): kind
        for a, b, kind in _rows(
            demo_run["db"], "SELECT article_id, duplicate_of, kind FROM duplicates"
        )
    }
    for copy in copies:
        key = (article_id(copy.canonical_url), article_id(copy.copy_of_url))
        assert key in dups, f"{copy.canonical_url} not recorded as a copy of {copy.copy_of_url}"
        assert dups[key] == "near-copy"


def _event_of(db) -> dict[str, str]:
    return dict(
        _rows(
            db,
            "SELECT a.canonical_url, ea.event_id FROM articles a "
            "JOIN event_articles ea ON ea.article_id = a.id",
        )
    )


def test_seed_event_joins_its_reports_in_every_language(demo_run):
    """The English seed pair and the Russian and German reports of the same talks (#27) are
    one event, reported in three languages; the Russian report of the Sochi summit (same
    leaders, another city, another day) stays apart, and the warehouse says why."""
    groups = truth.planted_groups()
    seed_label = next(label for label in groups if "brussels" in label.lower())
    assert len(groups[seed_label]) == 4
    event_of = _event_of(demo_run["db"])
    seed_events = {event_of[url] for url in groups[seed_label]}
    assert len(seed_events) == 1
    (event_id,) = seed_events
    n_articles, n_sources, languages = _rows(
        demo_run["db"],
        f"SELECT n_articles, n_sources, languages FROM events WHERE id = '{event_id}'",
    )[0]
    assert (n_articles, n_sources) == (4, 4)
    assert languages[0] == "en" and set(languages) == {"en", "ru", "de"}
    sochi = next(a.canonical_url for a in truth.expected_articles() if "sochi" in a.canonical_url)
    assert event_of[sochi] != event_id
    links = _rows(demo_run["db"], f"""
        SELECT language, other_language, scorer, evidence->>'$.places' FROM pair_evidence
        WHERE same_event AND event_id = '{event_id}' AND language <> other_language""")
    assert links and all(scorer == "crosslingual" for _, _, scorer, _ in links)
    assert all("Brussels" in places for *_, places in links)


def test_planted_grouping_is_reproduced(demo_run):
    """Each planted event is one event; different planted events and singles never merge."""
    event_of = _event_of(demo_run["db"])
    expected = truth.expected_articles()
    assert set(event_of) == {a.canonical_url for a in expected}, "every article is in one event"
    by_event: dict[str, set[str]] = defaultdict(set)
    for url, event in event_of.items():
        by_event[event].add(url)
    predicted = {frozenset(urls) for urls in by_event.values()}
    planted = {frozenset(urls) for urls in truth.planted_groups().values()}
    assert predicted == planted


def test_every_event_of_the_run_is_in_a_stored_story(demo_run):
    """The flow places every event it stores into a story, and a story's record counts the
    events that name it."""
    events = _rows(demo_run["db"], "SELECT id, story_id, n_articles FROM events")
    stories = {sid: (n_events, n_articles) for sid, n_events, n_articles in _rows(
        demo_run["db"], "SELECT id, n_events, n_articles FROM stories")}
    assert events and all(story_id in stories for _, story_id, _ in events)
    for sid, (n_events, n_articles) in stories.items():
        mine = [n for _, story_id, n in events if story_id == sid]
        assert (n_events, n_articles) == (len(mine), sum(mine))


def test_second_run_adds_nothing(demo_run):
    assert demo_run["first"].articles_new > 0
    assert demo_run["second"].articles_new == 0
    counts = _rows(
        demo_run["db"],
        "SELECT (SELECT count(*) FROM articles), (SELECT count(DISTINCT id) FROM articles), "
        "(SELECT count(*) FROM events), (SELECT count(*) FROM event_articles), "
        "(SELECT count(DISTINCT article_id) FROM event_articles)",
    )[0]
    n_articles, n_distinct, n_events, n_members, n_member_distinct = counts
    assert n_articles == n_distinct == n_members == n_member_distinct
    assert n_events == len(truth.planted_groups())


def test_cluster_command_reproduces_planted_grouping(tmp_path):
    """`newsmon cluster` on a JSONL of the demo corpus gives the planted grouping."""
    expected = truth.expected_articles()
    corpus = tmp_path / "demo.jsonl"
    with corpus.open("w") as fh:
        for a in expected:
            fh.write(json.dumps({
                "id": a.canonical_url, "title": a.title, "text": a.text, "url": a.canonical_url,
                "source": a.outlet, "published": a.published.isoformat(),
                "language": a.language,
            }) + "\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "cluster", str(corpus), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in lines] == [a.canonical_url for a in expected]
    by_event: dict[str, set[str]] = defaultdict(set)
    for row in lines:
        by_event[row["event_id"]].add(row["id"])
    assert {frozenset(v) for v in by_event.values()} == {
        frozenset(v) for v in truth.planted_groups().values()
    }
    copy_of = {row["id"]: row["duplicate_of"] for row in lines}
    for a in expected:
        assert copy_of[a.canonical_url] == a.copy_of_url


def test_watchlist_fires_once_for_the_seed_event(demo_run):
    """The flow evaluates watchlists after loading: one alert, and none again on a re-run."""
    groups = truth.planted_groups()
    seed_url = next(iter(groups["armenia_azerbaijan_brussels_talks"]))
    seed_event = _event_of(demo_run["db"])[seed_url]
    alerts = _rows(demo_run["db"], "SELECT rule, event_id FROM alerts WHERE rule = 'demo-caucasus'")
    assert alerts == [("demo-caucasus", seed_event)]
    assert demo_run["first"].alerts == 1
    assert demo_run["second"].alerts == 0


def test_saved_views_answer_day_one_questions_on_the_demo(demo_run):
    db = demo_run["db"]
    seed_urls = truth.planted_groups()["armenia_azerbaijan_brussels_talks"]
    seed_event = _event_of(db)[next(iter(seed_urls))]
    # The latest day in the demo is the seed report's day: the seed event tops it.
    top = _rows(db, "SELECT id, n_sources FROM top_events_today")
    assert (seed_event, len(seed_urls)) in top  # one outlet per report, in three languages
    timeline = _rows(db, f"SELECT url FROM event_timeline WHERE event_id = '{seed_event}'")
    assert {r[0] for r in timeline} == seed_urls
    coverage = _rows(db, "SELECT sum(n_articles), sum(n_copies) FROM coverage_per_source_day")
    copies = sum(1 for a in truth.expected_articles() if a.copy_of_url)
    assert coverage == [(len(truth.expected_articles()), copies)]
    assert _rows(db, "SELECT count(*) FROM unclustered_articles") == [(0,)]
    assert _rows(db, "SELECT coalesce(sum(n), 0) FROM failures_per_source") == [(0,)]
