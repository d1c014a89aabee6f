"""The extraction workers make each article's clustering features (#31); the flow uses them
only for the article as it was stored, so a run clusters exactly as if it had made them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from extractors.content.article import ExtractionSettings
from extractors.content.keys import article_keys, keys_memo
from extractors.content.parallel import extract_pages
from extractors.content.text import content_hash
from extractors.events.clustering import ClusterSettings
from extractors.events.crosslingual import keys_args, side_of
from extractors.events.incremental import (
    Arrival,
    arrivals_of,
    prepare_features,
    prepared_arrivals,
    prepared_keys,
    unpack_features,
)
from extractors.models import ExtractionOutcome, FetchResult
from flows.run_store import RunStore
from tests.test_incremental_clustering import corpus
from warehouse import load
from warehouse.db import open_writer

SETTINGS = ClusterSettings()
SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"


def _pages() -> list[FetchResult]:
    """The two seed reports of the Brussels summit and a Sochi report, as pages."""
    pages = []
    for i, name in enumerate(("summit_report.txt", "summit_preview.txt", "sochi_talks.txt")):
        title, _, body = (SEEDS / name).read_text(encoding="utf-8").partition("\n")
        paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
        pages.append(FetchResult(
            url=f"https://outlet{i}.test/news/{name}", source=f"outlet{i}", final_url=None,
            html=f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                 f"{paragraphs}</article></body></html>"))
    return pages


def _store(db: Path, outcomes: list[ExtractionOutcome]) -> list:
    with open_writer(db) as con:
        load.record_extractions(con, "run-1", outcomes)
    store = RunStore(db, "run-1", timeout_s=30)
    return store.articles_to_cluster([o.article.id for o in outcomes if o.article is not None])


def test_worker_features_are_the_stored_articles_features(tmp_path: Path):
    outcomes = extract_pages(_pages(), settings=ExtractionSettings(cluster_features=True))
    extracted = [o for o in outcomes if o.article is not None]
    assert len(extracted) == 3, [o.reason for o in outcomes]
    assert all(o.features is not None for o in extracted)
    stored = _store(tmp_path / "w.duckdb", extracted)
    prepared = {o.article.id: unpack_features(o.features) for o in extracted}
    ready, left = prepared_arrivals(stored, prepared, SETTINGS)
    assert left == []
    assert [ready[a.id] for a in stored] == arrivals_of(stored, SETTINGS)
    # not asked for (other callers of the pool): no features, no cost
    assert all(o.features is None for o in extract_pages(_pages()[:1]))


def test_features_of_every_corpus_article_survive_the_warehouse(tmp_path: Path):
    """Demo reports in English, German and Russian, and the story fixtures: features made
    before storing are those of the article read back."""
    articles = list(corpus())
    prepared = {a.id: prepare_features(a, SETTINGS.tokens) for a in articles}
    stored = _store(tmp_path / "w.duckdb", [
        ExtractionOutcome(a.url, a.source, "extracted", article=a) for a in articles])
    ready, left = prepared_arrivals(stored, prepared, SETTINGS)
    assert left == [] and len(ready) == len(articles)
    assert [ready[a.id] for a in stored] == arrivals_of(stored, SETTINGS)
    # the article keys travel too, for the cross-lingual scorer (keys_memo)
    known = prepared_keys(ready.values(), prepared)
    with_language = [a for a in stored if a.language]
    assert len(known) == len(with_language) > 0
    for a in with_language:
        assert known[keys_args(a)] == article_keys(*keys_args(a))
        with keys_memo(known):
            assert side_of.__wrapped__(a).keys is known[keys_args(a)]


def test_features_of_another_version_or_settings_are_made_again():
    a, b, c = sorted(corpus(), key=lambda x: x.id)[:3]
    prepared = {x.id: prepare_features(x, SETTINGS.tokens) for x in (a, b, c)}
    edited = replace(b, text=b.text + " More later.", content_hash=content_hash(b.text + "!"))
    renamed = replace(c, facets=replace(c.facets, places=("Atlantis",)))
    ready, left = prepared_arrivals([a, edited, renamed], prepared, SETTINGS)
    assert list(ready) == [a.id] and left == [edited, renamed]
    stale = prepared_keys([Arrival(edited, prepared[b.id].tokens, prepared[b.id].copy)],
                          prepared)
    assert stale == {}  # keys of another version never seed the cross-lingual scorer
    other = ClusterSettings(stem_chars=5)
    assert prepared_arrivals([a], prepared, other) == ({}, [a])


def test_a_worker_call_makes_the_stored_articles_features(tmp_path: Path):
    """The local pool's flow has the cluster step's articles' features made in one worker
    call (cluster_features_in_worker): the same arrivals as made in the flow process."""
    from extractors.content.parallel import cluster_features_in_worker

    articles = list(corpus())
    stored = _store(tmp_path / "w.duckdb", [
        ExtractionOutcome(a.url, a.source, "extracted", article=a) for a in articles])
    made = cluster_features_in_worker(stored)
    assert sorted(made) == sorted(a.id for a in stored)
    prepared = {i: unpack_features(p) for i, p in made.items()}
    ready, left = prepared_arrivals(stored, prepared, SETTINGS)
    assert left == [] and [ready[a.id] for a in stored] == arrivals_of(stored, SETTINGS)


def test_the_flows_calls_make_features_and_vectors_in_a_worker(prefect_server, tmp_path: Path):
    """The monitor flow's two worker calls, as the flow runs them (Prefect tasks on its
    runner): they must work, not only fall back to the flow process (which would hide a
    broken call behind equal answers)."""
    import numpy as np
    from prefect import flow

    from extractors.content import embedding
    from flows.monitor import _embed_in_worker
    from flows.tasks import features_task

    articles = list(corpus())
    stored = _store(tmp_path / "w.duckdb", [
        ExtractionOutcome(a.url, a.source, "extracted", article=a) for a in articles])
    heads = [f"{a.title}\n{a.text}"[:600] for a in stored[:6]]

    @flow
    def both() -> tuple[dict[str, bytes], np.ndarray]:
        return features_task.submit(stored).result(), _embed_in_worker(heads)

    made, vectors = both()
    prepared = {i: unpack_features(p) for i, p in made.items()}
    ready, left = prepared_arrivals(stored, prepared, SETTINGS)
    assert left == [] and [ready[a.id] for a in stored] == arrivals_of(stored, SETTINGS)
    assert np.array_equal(vectors, embedding.Encoder().embed(heads))
