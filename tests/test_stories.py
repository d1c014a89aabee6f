"""Story threads above events, and the event level when a date or a body is unknown.

Fixtures (tests/fixtures/stories): `same_kind.jsonl` is written for these tests (two
earthquakes in one week, two arrests of one activist three weeks apart, one club's two
matches a week apart); `giveme_same_kind.jsonl` holds eight real reports from the Giveme5W1H
news_cluster corpus (see its README): two North Korean missile launches over Japan, and two
NFL coaches leaving on the same day.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.content.facets import extract_facets
from extractors.content.text import content_hash
from extractors.events.cluster_io import read_corpus
from extractors.events.clustering import ClusterSettings, cluster
from extractors.events.stories import build_stories, story_id
from extractors.models import Article, ExtractionOutcome
from flows import stages
from flows.run_store import RunStore
from warehouse import load
from warehouse.db import open_reader, open_writer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stories"


def labelled(name: str) -> tuple[list[Article], dict[str, dict]]:
    """The fixture's articles, and its expected event and story labels by article id."""
    path = FIXTURES / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return read_corpus(str(path)), {r["id"]: r for r in rows}


def partition(labels: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item, label in labels.items():
        groups.setdefault(label, set()).add(item)
    return {frozenset(g) for g in groups.values()}


def levels(articles: list[Article]) -> tuple[dict[str, str], dict[str, str]]:
    """article id -> event id, and article id -> story id."""
    result = cluster(articles)
    stories = build_stories(result.events)
    event_of = {m.article_id: m.event_id for m in result.memberships}
    return event_of, {a: stories.story_of[e] for a, e in event_of.items()}


# --- same kind, different event ------------------------------------------------------------


def test_same_kind_of_news_is_two_events_and_one_story_only_when_it_develops() -> None:
    """Two earthquakes in one week, one club's two matches a week apart and one activist's
    two arrests three weeks apart are six events. Only the arrests are one developing story
    (the second is for breaking the bail of the first)."""
    articles, expected = labelled("same_kind.jsonl")
    event_of, story_of = levels(articles)
    assert partition(event_of) == partition({a: r["event"] for a, r in expected.items()})
    assert partition(story_of) == partition({a: r["story"] for a, r in expected.items()})


def test_real_same_kind_pairs_from_the_dev_data() -> None:
    """Giveme5W1H: North Korea's missile launches over Japan on 29 August and 15 September
    2017 are two events of one story; the Bears firing John Fox and Bruce Arians retiring
    (both on 1 January 2018) are two events and two stories."""
    articles, expected = labelled("giveme_same_kind.jsonl")
    event_of, story_of = levels(articles)
    for a, b in itertools.combinations(expected, 2):
        if expected[a]["event"] != expected[b]["event"]:
            assert event_of[a] != event_of[b], (a, b)
    assert partition(story_of) == partition({a: r["story"] for a, r in expected.items()})


def test_two_stated_dates_days_apart_are_two_happenings() -> None:
    """The club's two matches are reported with the dates they were played: a week apart,
    those earn no date agreement. Were the dates only the publication days (taken for want
    of a stated date, which lag the event by days), the half credit would join them."""
    articles, expected = labelled("same_kind.jsonl")
    is_match = {a.id: expected[a.id]["event"].startswith("match") for a in articles}
    assert all(a.facets.event_date in a.facets.dates for a in articles if is_match[a.id])
    unstated = [replace(a, facets=replace(a.facets, dates=())) if is_match[a.id] else a
                for a in articles]
    for corpus, n_events in ((articles, 2), (unstated, 1)):
        event_of = {m.article_id: m.event_id for m in cluster(corpus).memberships}
        assert len({event_of[a] for a, match in is_match.items() if match}) == n_events


# --- order and increments -------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_stories_do_not_depend_on_arrival_order(rnd: random.Random) -> None:
    articles, _ = labelled("same_kind.jsonl")
    baseline = cluster(articles)
    shuffled = list(articles)
    rnd.shuffle(shuffled)
    result = cluster(shuffled)
    events = list(result.events)
    rnd.shuffle(events)
    assert build_stories(events) == build_stories(baseline.events)


def test_stories_built_day_by_day_equal_stories_built_at_once() -> None:
    """The flow places each run's events against the stories stored so far: in time order,
    that gives the same stories, ids included, as placing everything at once."""
    articles, _ = labelled("same_kind.jsonl")
    events = cluster(articles).events
    at_once = build_stories(events)
    placed: list = []
    story_of: dict[str, str] = {}
    for _, batch in itertools.groupby(sorted(events, key=lambda e: e.first_seen),
                                      key=lambda e: e.first_seen.date()):
        step = build_stories(list(batch), placed, story_of)
        placed.extend(e for e in events if e.id in step.story_of)
        story_of.update(step.story_of)
    assert story_of == at_once.story_of
    final = build_stories((), placed, story_of)
    assert final.stories == ()  # nothing new placed, nothing touched


def test_a_re_clustered_event_keeps_its_story_id() -> None:
    """An event whose id changes (an article with a smaller id joined it) stays in the story
    its articles were in."""
    articles, _ = labelled("same_kind.jsonl")
    events = cluster(articles).events
    first = build_stories(events)
    event = next(e for e in events if e.n_articles == 2)
    renamed = replace(event, id="ev_renamed", article_ids=(*event.article_ids, "a-late-copy"))
    previous = {a: first.story_of[e.id] for e in events for a in e.article_ids}
    alone = build_stories([renamed], previous=previous)
    assert alone.story_of["ev_renamed"] == first.story_of[event.id]
    assert build_stories([renamed]).story_of["ev_renamed"] == story_id("ev_renamed")


def test_story_records_span_their_events() -> None:
    articles, expected = labelled("same_kind.jsonl")
    result = cluster(articles)
    stories = build_stories(result.events)
    arrests = {r["event"] for r in expected.values() if r["story"] == "lindqvist"}
    story = next(s for s in stories.stories if s.n_events == len(arrests))
    events = [e for e in result.events if e.id in story.event_ids]
    assert story.n_articles == sum(e.n_articles for e in events) == 4
    assert story.first_seen == min(e.first_seen for e in events)
    assert story.last_seen == max(e.last_seen for e in events)
    assert "Mara Lindqvist" in story.actors and "Gothenburg" in story.places
    assert [e.first_seen for e in sorted(events, key=lambda e: e.first_seen)] == [
        next(e for e in events if e.id == i).first_seen for i in story.event_ids
    ]


# --- the flow: stories grow run by run ------------------------------------------------------


def _store(db: Path, run_id: str, articles: list[Article]) -> list[str]:
    """One monitor run's clustering step (flows.monitor._cluster) over these new articles;
    returns the ids of the articles whose events it decided again."""
    with open_writer(db) as con:
        load.record_extractions(con, run_id, [
            ExtractionOutcome(a.url, a.source, "extracted", article=a) for a in articles
        ])
    store = RunStore(db, run_id, timeout_s=30)
    fresh = store.articles_to_cluster([a.id for a in articles])
    now = max(a.fetched_at for a in articles)
    outcome = store.cluster(stages.article_features(fresh, 7), stages.cluster_settings(7),
                            now, now)
    return outcome.article_ids


def test_the_flow_continues_a_story_three_weeks_later(tmp_path: Path) -> None:
    """Run 1 stores the first arrest (and the earthquakes); run 2, three weeks later and far
    outside the event window, stores the second arrest: it becomes its own event in the
    story of the first, and the story's record covers both runs."""
    articles, expected = labelled("same_kind.jsonl")
    fetched = [replace(a, fetched_at=a.published_at) for a in articles]
    db = tmp_path / "w.duckdb"
    first = [a for a in fetched if expected[a.id]["event"] in ("arrest-1", "quake-chile",
                                                               "quake-japan")]
    second = [a for a in fetched if expected[a.id]["event"] == "arrest-2"]
    _store(db, "run-1", first)
    with open_reader(db) as con:
        before = con.rows("SELECT article_id, event_id FROM event_articles ORDER BY 1")
    decided = _store(db, "run-2", second)
    assert {a.id for a in second} <= set(decided)
    with open_reader(db) as con:  # the first run's events stand as they were
        kept = con.rows("SELECT article_id, event_id FROM event_articles "
                        "WHERE list_contains(?, article_id) ORDER BY 1",
                        [[r["article_id"] for r in before]])
    assert kept == before
    with open_reader(db) as con:
        rows = con.rows("SELECT ea.article_id, e.id, e.story_id FROM event_articles ea "
                        "JOIN events e ON e.id = ea.event_id")
        stories = {r["id"]: r for r in con.rows("SELECT * FROM stories")}
    event_of = {r["article_id"]: r["id"] for r in rows}
    story_of = {r["article_id"]: r["story_id"] for r in rows}
    arrests = [a for a in expected if expected[a]["story"] == "lindqvist"]
    assert len({event_of[a] for a in arrests}) == 2
    assert len({story_of[a] for a in arrests}) == 1
    assert set(stories) == set(story_of.values()) and len(stories) == 3
    lindqvist = stories[story_of[arrests[0]]]
    assert (lindqvist["n_events"], lindqvist["n_articles"]) == (2, 4)
    assert lindqvist["first_seen"] < lindqvist["last_seen"] - timedelta(days=20)


# --- unknown is unknown: a missing date or body -------------------------------------------


def headline(aid: str, title: str, day: str | None, summary: str | None = None) -> Article:
    published = datetime.fromisoformat(day).replace(tzinfo=UTC) if day else None
    return Article(
        id=aid, url=f"https://{aid}.test/", canonical_url=f"https://{aid}.test/", source=aid,
        title=title, text="", content_hash=content_hash(""), published_at=published,
        description=summary, facets=extract_facets(title, summary or "", published, "en"),
    )


FED = ("Fed keeps interest rates on hold, signals two cuts this year",
       "Federal Reserve leaves rates unchanged as inflation cools")


@pytest.mark.parametrize("day", ["2024-03-20", None])
def test_two_headlines_link_whether_or_not_their_dates_are_known(day: str | None) -> None:
    pair = [headline("a", FED[0], day), headline("b", FED[1], day)]
    result = cluster(pair)
    assert len(result.events) == 1
    evidence = {m.article_id: m.features for m in result.memberships}["a"]
    assert evidence["headline_only"] == 1.0
    assert evidence["threshold"] == (0.58 if day else 0.51)
    # Holding undated headlines to the dated bar (which assumes a date agreement they cannot
    # earn) would read the missing date as evidence against them.
    strict = ClusterSettings(undated_headline_threshold=0.58)
    assert len(cluster(pair, strict).events) == (1 if day else 2)


def test_a_feed_summary_stands_in_for_a_missing_body() -> None:
    titles = ("Council approves the new tram line", "Vote clears way for city tram project")
    summary = ("The city council voted 31 to 12 on Tuesday to build the eastern tram line "
               "from the central station to the university campus, a project of 420 million "
               "euros that is due to open in 2029 after four years of construction work.")
    bare = [headline("a", titles[0], "2024-05-07"), headline("b", titles[1], "2024-05-07")]
    summed = [headline("a", titles[0], "2024-05-07", summary),
              headline("b", titles[1], "2024-05-07", summary.replace("31 to 12", "31-12"))]
    assert len(cluster(bare).events) == 2
    assert len(cluster(summed).events) == 1


def test_fetch_time_stands_in_for_a_missing_date_and_the_evidence_says_so() -> None:
    articles, expected = labelled("same_kind.jsonl")
    quake = [a for a in articles if expected[a.id]["event"] == "quake-chile"]
    undated = [replace(a, published_at=None, fetched_at=a.published_at + timedelta(hours=1),
                       facets=extract_facets(a.title, a.text, None, "en")) for a in quake]
    result = cluster(undated)
    assert len(result.events) == 1
    features = [m.features for m in result.memberships]
    assert all(f.get("time_from_fetch") == 1.0 for f in features)
    # Fetched three months apart: the fetch times count as a time gap.
    far = [undated[0], replace(undated[1], fetched_at=undated[1].fetched_at + timedelta(days=90))]
    assert len(cluster(far).events) == 2


# --- placing against a large stored context ------------------------------------------------


def _reference_story_of(events, earlier, earlier_story_of) -> dict[str, str]:
    """The story rule as documented (stories.py), computed densely for every pair: each
    event, oldest first, is compared with the placed events sharing a term or name word (for
    each word, the `max_postings` placed last), its name words weighted by rarity among all
    the events at hand, and joins the story whose event clears its bar by most."""
    import math
    from collections import Counter, defaultdict

    from extractors.events import stories as s_mod

    s = s_mod.DEFAULT_STORY_SETTINGS
    fresh = sorted(events, key=s_mod._arrival)
    rows = sorted(earlier, key=s_mod._arrival) + fresh
    placed = len(rows) - len(fresh)
    names = s_mod._names_of(rows, s.top_names)
    df = Counter(w for ws in names for w in ws)
    idf = {w: math.log((len(rows) + 1) / (k + 1)) + 1.0 for w, k in df.items()}
    terms = [s_mod._unit(dict(e.terms)) for e in rows]
    times = [s_mod._time(e) for e in rows]

    def keys(r):
        return [("t", t) for t in terms[r]] + [("n", w) for w in names[r]]

    postings = defaultdict(list)
    story = [earlier_story_of[e.id] for e in rows[:placed]]
    for r in range(placed):
        for k in keys(r):
            postings[k].append(r)
    out = {}
    for r in range(placed, len(rows)):
        best = None
        for o in sorted({o for k in keys(r) for o in postings[k][-s.max_postings:]}):
            gap = abs(times[o] - times[r])
            if gap > s.window_days:
                continue
            cosine = sum(w * terms[o].get(t, 0.0) for t, w in terms[r].items())
            mass = min(sum(idf[w] for w in names[r]), sum(idf[w] for w in names[o]))
            shared = sum(idf[w] for w in names[r] & names[o])
            overlap = shared / mass if mass > 0 else 0.0
            overlap *= min(min(len(names[r]), len(names[o])) / s.min_name_words, 1.0)
            bar = s.near_threshold if gap <= s.near_days else s.link_threshold
            margin = s.w_terms * cosine + s.w_names * overlap - bar
            if margin >= 0 and (best is None or (-margin, story[o]) < (-best[0], best[1])):
                best = (margin, story[o])
        out[rows[r].id] = best[1] if best else story_id(rows[r].id)
        story.append(out[rows[r].id])
        for k in keys(r):
            postings[k].append(r)
    return out


def test_placing_against_a_large_stored_context_follows_the_rule() -> None:
    """Hundreds of stored events, one word held by all of them (more than max_postings):
    placing new events gives the stories the rule gives when every pair is computed."""
    from extractors.models import Event

    rnd = random.Random(7)
    vocab = [f"word{i}" for i in range(40)]
    people = ["Jane Okafor", "Omar Haddad", "Li Wang", "Ivan Petrov", "Aisha Bello",
              "Lisbon", "Nairobi", "Seoul", "Oslo", "Cairo"]
    start = datetime(2026, 10, 1, tzinfo=UTC)

    def event(i: int, day: float) -> Event:
        words = ["police", *rnd.sample(vocab, 6)]
        terms = tuple((w, round(rnd.uniform(0.1, 1.0), 4)) for w in words)
        return Event(f"ev{i:04d}", f"headline {i}", (f"a{i}",),
                     actors=tuple(rnd.sample(people[:5], 2)),
                     places=(rnd.choice(people[5:]),),
                     first_seen=start + timedelta(days=day), terms=terms)

    earlier = [event(i, rnd.uniform(0, 40)) for i in range(300)]
    earlier_story_of = {e.id: f"st_{rnd.randrange(60):02d}" for e in earlier}
    fresh = [event(1000 + i, rnd.uniform(39, 41)) for i in range(40)]
    placed = build_stories(fresh, earlier, earlier_story_of)
    expected = _reference_story_of(fresh, earlier, earlier_story_of)
    assert placed.story_of == expected
    assert len(set(expected.values()) & set(earlier_story_of.values())) >= 10  # joins happen


def test_the_flow_places_from_a_narrow_read_what_the_whole_context_gives(tmp_path: Path):
    """The flow reads of the stored context only its counts (ids, times, names) and the
    events it can compare, the latest per word found in SQL: stories, records and ids are
    the ones placing against every stored event of the stories at hand gives. Words held
    by more events than max_postings, equal times (ties by id) and unknown times included."""
    from extractors.events.stories import (
        DEFAULT_STORY_SETTINGS as s,
    )
    from extractors.events.stories import (
        context_counts,
        narrow_context,
        place_events,
    )
    from extractors.models import ClusterResult, Event
    from flows.run_store import RunStore
    from warehouse import queries

    rnd = random.Random(11)
    vocab = [f"word{i}" for i in range(30)]
    people = ["Jane Okafor", "Omar Haddad", "Li Wang", "Ivan Petrov", "Aisha Bello",
              "Lisbon", "Nairobi", "Seoul", "Oslo", "Cairo", "Lagos", "Quito"]
    now = datetime(2026, 11, 20, tzinfo=UTC)
    same_time = now - timedelta(days=5)

    def event(i: int) -> Event:
        # One heavy term all share: the names, weighed by rarity, decide between stories.
        terms = (("police", 1.0), *((w, round(rnd.uniform(0.05, 0.4), 4))
                                    for w in rnd.sample(vocab, 3)))
        kind = rnd.random()
        seen = (None if kind < 0.05 else same_time if kind < 0.15
                else now - timedelta(days=rnd.uniform(0, 80)))
        return Event(f"ev{i:04d}", f"headline {i}", (f"a{i}",), n_articles=rnd.randint(1, 4),
                     actors=tuple(rnd.sample(people[:6], rnd.randint(1, 3))),
                     places=tuple(rnd.sample(people[6:], rnd.randint(0, 2))),
                     first_seen=seen, last_seen=seen, terms=terms)

    stored = [event(i) for i in range(400)]
    story_of = {e.id: f"st_{rnd.randrange(70):02d}" for e in stored}
    db = tmp_path / "w.duckdb"
    with open_writer(db) as con:
        con.execute("INSERT INTO events (id, headline, first_seen, last_seen, actors, places, "
                    "n_articles, terms, story_id) SELECT id, headline, first_seen, last_seen, "
                    "actors, places, n_articles, map_from_entries(terms), story_id FROM batch",
                    batch=load.to_arrow((
                        {"id": e.id, "headline": e.headline, "first_seen": e.first_seen,
                         "last_seen": e.last_seen, "actors": list(e.actors),
                         "places": list(e.places), "n_articles": e.n_articles,
                         "terms": [{"k": t, "v": w} for t, w in e.terms],
                         "story_id": story_of[e.id]} for e in stored), _STORED_EVENT))
    fresh = [replace(event(1000 + i), first_seen=now - timedelta(hours=i),
                     last_seen=now - timedelta(hours=i)) for i in range(30)]
    replaced = [stored[3].id, stored[4].id]
    fresh.append(replace(fresh[0], id=stored[5].id))  # a new event that keeps a stored id
    result = ClusterResult((), tuple(fresh), ())
    with open_writer(db) as con:
        since = stages.story_window(fresh, now)
        earlier, earlier_story_of = queries.story_candidates(con, fresh, since, replaced)
        whole = build_stories(fresh, earlier, earlier_story_of)
        narrow = RunStore._stories(con, result, replaced, [], now)
        context, context_story_of, by_terms = queries.story_context(
            con, fresh, since, replaced, s.top_names, s.max_postings)
    assert narrow == whole
    # What the narrow read gives is the whole context's: its counts, and a subset of its
    # events to compare that places every event where the whole context does.
    fresh_ids = {e.id for e in fresh}
    every = [e for e in earlier if e.id not in fresh_ids]
    counts, comparable = narrow_context(context, context_story_of.values(), fresh, by_terms)
    assert counts == context_counts(every, {earlier_story_of[e.id] for e in every})
    assert comparable < {e.id for e in every}
    subset = [e for e in every if e.id in comparable]
    assert place_events(fresh, subset, earlier_story_of, counts=counts) == whole.story_of
    assert len(set(whole.story_of.values()) & set(story_of.values())) >= 5  # joins happen


_STORED_EVENT = pa.schema([
    ("id", pa.string()), ("headline", pa.string()), ("first_seen", pa.timestamp("us", "UTC")),
    ("last_seen", pa.timestamp("us", "UTC")), ("actors", pa.list_(pa.string())),
    ("places", pa.list_(pa.string())), ("n_articles", pa.int32()),
    ("terms", pa.list_(pa.struct([("k", pa.string()), ("v", pa.float64())]))),
    ("story_id", pa.string()),
])
