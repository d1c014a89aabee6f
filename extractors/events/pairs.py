"""`newsmon cluster --pairs`: is each given pair of articles one event, and why.

Input lines: {"id", "a": {article}, "b": {article}}, each article as in `newsmon cluster`
(extractors/events/cluster_io.py), with "language" (ISO 639-1) where known. Output lines, in
input order: {"id", "same_event", "score", "evidence"}. The decision is the one clustering
makes for the pair on its own: a copy (extractors/events/dedup.py) is one event; a pair the
cross-lingual scorer `applies` to (two languages, or one other than English and Russian) is
decided by it (extractors/events/crosslingual.py), any other pair by the word scorer
(extractors/events/clustering.py). `score` is in [0, 1] on the word scorer's scale, where
`evidence.threshold` (its event_threshold, 0.38) is the bar for every pair; `evidence` names
the scorer and what matched: names, places, dates, figures, text similarity, conflicts.
The whole input is validated before anything is written, as for `newsmon cluster`.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from extractors.content import embedding
from extractors.events import crosslingual
from extractors.events.cluster_io import article_from_record, read_records, run_jsonl
from extractors.events.clustering import DEFAULT_SETTINGS, ClusterSettings, score_pair
from extractors.events.dedup import find_duplicates
from extractors.events.evidence import word_evidence
from extractors.models import Article

CHUNK_PAIRS = 2000  # pairs whose heads are embedded together (bounded by embedding.MEMO_SIZE)


def decide(a: Article, b: Article, settings: ClusterSettings = DEFAULT_SETTINGS) -> dict:
    """{"same_event", "score", "evidence"} of one pair (see the module docstring)."""
    bar = settings.event_threshold
    copies = find_duplicates(sorted([a, b], key=lambda x: x.id),
                             copy_threshold=settings.copy_threshold,
                             min_copy_words=settings.min_copy_words,
                             max_block=settings.max_block, block_width=settings.block_width)
    if copies:
        return {"same_event": True, "score": 1.0,
                "evidence": {"scorer": "copy", "kind": copies[0].kind,
                             "copy_similarity": copies[0].score, "threshold": bar}}
    if crosslingual.applies(a.language, b.language):
        side_a, side_b = crosslingual.side_of(a), crosslingual.side_of(b)
        if crosslingual.regime(a.language, b.language) == "cross":
            side_a, side_b = crosslingual.with_vectors([side_a, side_b])
        result = crosslingual.score_pair(side_a, side_b, settings.window_days)
        score = crosslingual.clustering_score(result.probability, result.regime, bar)
        return {"same_event": result.same_event, "score": round(score, 4), "evidence": {
            "scorer": "crosslingual", "regime": result.regime, "threshold": bar,
            "probability": round(result.probability, 4), **result.evidence,
            "features": result.features}}
    score, features = score_pair(a, b, settings)
    return {"same_event": score >= bar, "score": round(min(1.0, max(0.0, score)), 4),
            "evidence": {"scorer": "words", "threshold": bar, **word_evidence(a, b),
                         "features": features}}


def read_pairs(path: str) -> list[tuple[str, Article, Article]]:
    """Every pair of a JSON-lines file, or CorpusError listing every bad line by number."""
    return read_records(path, _pair)


def _pair(record: dict) -> tuple[str, tuple[str, Article, Article]]:
    pair_id = record.get("id")
    if not isinstance(pair_id, str) or not pair_id.strip():
        raise ValueError("missing, empty or non-string 'id'")
    sides = []
    for key in ("a", "b"):
        if not isinstance(record.get(key), dict):
            raise ValueError(f"missing {key!r} article (a JSON object)")
        try:
            sides.append(article_from_record(record[key]))
        except ValueError as exc:
            raise ValueError(f"article {key!r}: {exc}") from None
    return pair_id, (pair_id, sides[0], sides[1])


def pairs_jsonl(
    in_path: str,
    out_path: str | None,
    settings: ClusterSettings = DEFAULT_SETTINGS,
    stderr: TextIO | None = None,
) -> int:
    """Run `newsmon cluster --pairs`: 0 on success, 2 when the input has malformed lines."""
    return run_jsonl(in_path, out_path, read_pairs,
                     lambda pairs: decide_all(pairs, settings), stderr)


def decide_all(pairs: list[tuple[str, Article, Article]],
               settings: ClusterSettings = DEFAULT_SETTINGS) -> Iterator[dict]:
    """Output lines of `pairs`, in order. The heads of each chunk's two-language pairs are
    embedded in one batch (the sentence model costs per text, and a batch runs several times
    faster than pair by pair), in a background thread (its matrix products release the GIL)
    while the pairs that need no vectors are decided; `decide` then finds the vectors
    memoised."""
    for start in range(0, len(pairs), CHUNK_PAIRS):
        chunk = pairs[start : start + CHUNK_PAIRS]
        crossing = [crosslingual.applies(a.language, b.language)
                    and crosslingual.regime(a.language, b.language) == "cross"
                    for _, a, b in chunk]
        heads = list(dict.fromkeys(crosslingual.article_head(x) for (_, a, b), cross
                                   in zip(chunk, crossing, strict=True) if cross for x in (a, b)))
        with ThreadPoolExecutor(1) as background:
            embedded = background.submit(embedding.embed, heads)
            early = {k: decide(a, b, settings) for k, (_, a, b) in enumerate(chunk)
                     if not crossing[k]}
            embedded.result()
        for k, (pair_id, a, b) in enumerate(chunk):
            yield {"id": pair_id, **(early[k] if k in early else decide(a, b, settings))}
