"""Incremental clustering equals clustering everything at once (issue #32).

Articles arrive in batches, in any order (back-dated ones too), with copies and edited
versions arriving later; after every batch the index holds exactly what clustering every
indexed article at once from the same features gives: same events (ids, members, records),
same memberships (scores and evidence), same copies. Small blocks (`max_block` 4) make
every posting list large, so the neighbour rule, its transitions and removals are exercised
by a few dozen articles. The same holds for the index kept in the warehouse, through the
flow's own clustering step, and for the dev corpora replayed day by day (skipped without
../shared/data).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from demosite.truth import expected_articles
from extractors.content.facets import extract_facets
from extractors.content.text import content_hash
from extractors.events.cluster_io import read_corpus
from extractors.events.clustering import ClusterSettings, cluster
from extractors.events.incremental import MemoryIndex, full_clustering
from extractors.models import Article, ClusterResult, ExtractionOutcome
from flows import stages
from flows.run_store import RunStore
from warehouse import cluster_index, load
from warehouse.db import open_reader, open_writer

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL_BLOCKS = ClusterSettings(max_block=4, block_width=2)


@cache
def corpus() -> tuple[Article, ...]:
    """The demo site's articles and the story fixtures: same events, copies, same kinds."""
    articles = []
    for e in expected_articles():
        aid = content_hash(e.canonical_url)[:20]
        articles.append(Article(
            id=aid, url=e.canonical_url, canonical_url=e.canonical_url, source=e.outlet,
            title=e.title, text=e.text, content_hash=content_hash(e.text),
            published_at=e.published, fetched_at=e.published + timedelta(hours=1),
            language=e.language, facets=extract_facets(e.title, e.text, e.published,
                                                       e.language),
        ))
    for name in ("same_kind.jsonl", "giveme_same_kind.jsonl"):
        for a in read_corpus(str(FIXTURES / "stories" / name)):
            articles.append(replace(a, fetched_at=(a.published_at or datetime(2024, 1, 1,
                                                                                tzinfo=UTC))))
    return tuple(articles)


def comparable(result: ClusterResult) -> tuple:
    events = sorted((e.id, e.headline, e.article_ids, e.event_date, e.who, e.where, e.n_sources,
                     e.n_copies, e.terms, e.first_seen, e.last_seen, e.actor_keys)
                    for e in result.events)
    members = sorted((m.article_id, m.event_id, m.score, tuple(sorted(m.features.items())))
                     for m in result.memberships)
    copies = sorted((d.article_id, d.duplicate_of, d.kind, d.score) for d in result.duplicates)
    # The explanation too: which weights decided a cross-lingual pair and its vectors' cosine.
    links = sorted((k.article_id, k.other_id, k.same_event, k.score, k.threshold, k.scorer,
                    tuple(sorted(k.evidence.get("features", {}).items())),
                    k.evidence.get("regime"), k.evidence.get("meaning"))
                   for k in result.links)
    return events, members, copies, links


def mutations(rnd: random.Random, stored: list[Article]) -> list[Article]:
    """Copies (exact, earlier or later; lightly edited) and edited versions of stored ones."""
    out = []
    for _ in range(rnd.randint(0, 3)):
        a = rnd.choice(stored)
        kind = rnd.random()
        tag = rnd.randint(0, 10**6)
        if kind < 0.3:
            when = a.published_at or a.fetched_at
            shift = timedelta(days=rnd.choice([-3, -1, 1, 2]))
            out.append(replace(a, id=f"{a.id}-c{tag}", url=f"{a.url}?c={tag}",
                               canonical_url=f"{a.canonical_url}?c={tag}", source="copier.test",
                               published_at=when + shift))
        elif kind < 0.6:
            text = a.text + " Officials said more details would follow on Monday."
            out.append(replace(a, text=text, content_hash=content_hash(text)))
        elif kind < 0.8:
            other = rnd.choice(stored)
            out.append(replace(a, text=other.text, content_hash=other.content_hash,
                               title=other.title))
        else:
            other = rnd.choice(stored)
            text = other.text.replace(" the ", " a ", 3)
            out.append(replace(other, id=f"{other.id}-e{tag}", url=f"{other.url}?e={tag}",
                               canonical_url=f"{other.canonical_url}?e={tag}",
                               source="editor.test", text=text, content_hash=content_hash(text)))
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("settings", [SMALL_BLOCKS, ClusterSettings()], ids=["small", "default"])
def test_any_arrival_order_gives_the_full_clustering(seed: int, settings: ClusterSettings):
    rnd = random.Random(seed)
    articles = list(corpus())
    rnd.shuffle(articles)  # back-dated arrivals: later batches hold earlier articles
    index = MemoryIndex(settings)
    stored: list[Article] = []
    i = 0
    while i < len(articles):
        batch = articles[i: i + rnd.randint(1, 8)]
        i += len(batch)
        index.add(batch)
        stored += batch
        changed = mutations(rnd, stored)
        if changed:
            index.add(changed)
            stored += changed
        assert comparable(index.result()) == comparable(index.full())


def test_one_batch_on_an_empty_index_is_cluster_of_that_batch():
    articles = list(corpus())
    index = MemoryIndex(ClusterSettings())
    index.add(articles)
    assert comparable(index.result()) == comparable(cluster(articles))


def test_only_what_new_articles_touch_is_decided_again():
    articles = sorted(corpus(), key=lambda a: a.published_at)
    index = MemoryIndex(ClusterSettings())
    index.add(articles[:-1])
    change = index.add(articles[-1:])
    touched = {articles[-1].id}
    assert touched <= set(change.article_ids) < {a.id for a in articles}
    assert len(change.result.events) <= 2


# --- the index in the warehouse, through the flow's clustering step -----------------------


def _flow_step(db: Path, run_id: str, articles: list[Article], now: datetime) -> None:
    """A run's writes and clustering as the flow does them: the articles the run inserted
    go to clustering from memory (RunStore's handoff), not read back."""
    store = RunStore(db, run_id, timeout_s=30)
    store.record_batch([], [ExtractionOutcome(a.url, a.source, "extracted", article=a)
                            for a in articles])
    fresh = store.articles_to_cluster([a.id for a in articles])
    store.cluster(stages.article_features(fresh, 7), stages.cluster_settings(7), now, now)


def _stored(db: Path) -> tuple[ClusterResult, ClusterResult]:
    """(the clustering the warehouse holds, the full clustering of its indexed features)."""
    from extractors.models import Duplicate, Event, Link, Membership
    from warehouse import queries

    with open_reader(db) as con:
        entries = [cluster_index.entry_of(r) for r in con.rows(
            "SELECT * FROM cluster_articles ORDER BY seq")]
        articles = {a.id: a for a in queries.articles_by_ids(con, [e.id for e in entries])}
        members = con.rows("SELECT article_id, event_id, score, features FROM event_articles")
        copies = con.rows("SELECT * FROM duplicates")
        events = con.rows("SELECT id FROM events")
        links = con.rows("SELECT * FROM event_links")
    full = full_clustering(entries, articles, ClusterSettings())
    held = ClusterResult(
        tuple(Duplicate(r["article_id"], r["duplicate_of"], r["kind"], r["score"])
              for r in copies),
        tuple(Event(r["id"], "", ()) for r in events),
        tuple(Membership(r["event_id"], r["article_id"], r["score"], dict(r["features"]))
              for r in members),
        tuple(Link(r["article_id"], r["other_id"], r["same_event"], r["score"], r["threshold"],
                   r["scorer"], json.loads(r["evidence"])) for r in links))
    return held, full


def test_the_warehouse_index_gives_the_full_clustering(tmp_path: Path):
    rnd = random.Random(7)
    articles = sorted(corpus(), key=lambda a: a.id)
    rnd.shuffle(articles)
    db = tmp_path / "w.duckdb"
    now = datetime(2024, 6, 1, tzinfo=UTC)
    for run, start in enumerate(range(0, len(articles), 9)):
        batch = articles[start: start + 9]
        _flow_step(db, f"run-{run}", batch, now + timedelta(days=run))
    held, full = _stored(db)
    _, members, copies, links = comparable(held)
    _, full_members, full_copies, full_links = comparable(full)
    assert members == full_members
    assert copies == full_copies
    assert links == full_links
    assert any(k[5] == "crosslingual" for k in links)  # the demo's German and Russian reports
    assert {e.id for e in held.events} == {e.id for e in full.events}
    # A stored two-language link is explained by the weights that decided it: with the
    # sentence vectors ("cross"), not re-scored from the keys alone ("cross_keys").
    two_languages = [k for k in links if k[5] == "crosslingual" and k[7] != "same"]
    assert two_languages
    assert all(k[7] == "cross" and k[8] is not None and "meaning" in dict(k[6])
               for k in two_languages)


def test_a_run_hands_clustering_its_articles_as_a_read_gives_them(tmp_path: Path):
    """What the run keeps of the articles it inserted equals what reading them back gives
    (facets, places, dates, times); an article a later batch of the run changed is read."""
    from warehouse import queries

    articles = sorted(corpus(), key=lambda a: a.id)[:12]
    db = tmp_path / "w.duckdb"
    store = RunStore(db, "run-1", timeout_s=30)
    store.record_batch([], [ExtractionOutcome(a.url, a.source, "extracted", article=a)
                            for a in articles])
    changed = replace(articles[0], text=articles[0].text + " A later paragraph.",
                      content_hash="changed")
    store.record_batch([], [ExtractionOutcome(changed.url, changed.source, "extracted",
                                              article=changed)])
    handed = store.articles_to_cluster([a.id for a in articles])
    with open_reader(db) as con:
        read = queries.articles_by_ids(con, [a.id for a in articles])
    assert handed == read
    assert handed[0].text.endswith("A later paragraph.")
    assert any(a.facets.where is not None and a.facets.who for a in handed)


def test_a_stopped_run_leaves_nothing_unclustered(tmp_path: Path):
    """Articles stored by a run that stopped before clustering are clustered by the next."""
    now = datetime.now(UTC)
    articles = [replace(a, fetched_at=now - timedelta(hours=1))
                for a in sorted(corpus(), key=lambda a: a.id)]
    db = tmp_path / "w.duckdb"
    with open_writer(db) as con:  # stored, never clustered
        load.record_extractions(con, "stopped", [
            ExtractionOutcome(a.url, a.source, "extracted", article=a) for a in articles[:5]])
    _flow_step(db, "next", articles[5:8], now)
    with open_reader(db) as con:
        clustered = set(con.column("SELECT article_id FROM event_articles"))
        indexed = set(con.column("SELECT article_id FROM cluster_articles"))
    assert {a.id for a in articles[:8]} == clustered == indexed


# --- the dev corpora, day by day ------------------------------------------------------------


def _dev(name: str):
    from bench import _data

    missing = _data.missing("clusters")
    if missing:
        pytest.skip(missing)
    return getattr(_data, name)()


@pytest.mark.slow
def test_giveme5w1h_day_by_day_equals_the_full_clustering():
    from extractors.events.cluster_io import article_from_record

    records = _dev("giveme5w1h")
    by_day: dict = defaultdict(list)
    for r in records:
        a = article_from_record({k: v for k, v in r.items() if k != "label"})
        by_day[a.published_at.date() if a.published_at else None].append(a)
    index = MemoryIndex(ClusterSettings())
    for day in sorted(by_day, key=lambda d: (d is None, d)):
        index.add(by_day[day])
    assert comparable(index.result()) == comparable(index.full())
