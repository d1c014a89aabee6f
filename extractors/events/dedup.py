"""Levels 1 and 2 of clustering: the same article twice, and copies of one article.

Same URL and same text are exact groups. Near copies (wire copy syndicated across outlets,
light rewrites, a new headline on the same body) are found without comparing all pairs:
each text gets a bottom-k sketch of hashed word shingles, articles sharing a sketch value
become candidates, and only candidates are compared with rapidfuzz. The original of a group
is the earliest published article (ties: smallest id), so the result never depends on the
order articles arrive in.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from extractors.content.text import opening, words
from extractors.models import Article, Duplicate
from extractors.timezones import naive_as_utc

SHINGLE = 4  # words per shingle: long enough that shared shingles mean shared sentences
SKETCH = 8  # smallest shingle hashes kept per text (a bottom-k MinHash sketch)
COMPARE_CHARS = 3000  # copies are compared on their opening; wire edits rarely touch only the tail


def article_time(article: Article) -> float:
    """Publication (else fetch) time in days since the epoch; NaN when unknown."""
    moment = article.published_at or article.fetched_at
    if moment is None:
        return math.nan
    return naive_as_utc(moment).timestamp() / 86400.0


def arrival_key(article: Article) -> tuple[float, str]:
    """Earliest first, unknown times last, ties by id: decides which article is the original."""
    t = article_time(article)
    return (math.inf if math.isnan(t) else t, article.id)


def block_pairs(
    postings: Iterable[list[int]], times: np.ndarray, max_block: int, width: int,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Candidate pairs (i < j) from blocks of article indices, encoded as i * n + j.

    Small blocks give all their pairs; a large block (a common word, a big story) is sorted
    by time (unknown last; ties by `order`, else by index) and each member is paired with its
    `width` nearest successors only, so the number of pairs grows linearly with the block,
    not quadratically. extractors/events/incremental.py keeps the same rule up to date as
    articles arrive.
    """
    n = len(times)
    order_time = np.where(np.isnan(times), np.inf, times)
    tie = np.arange(n) if order is None else np.asarray(order)
    chunks: list[np.ndarray] = []
    for members in postings:
        idx = np.asarray(sorted(set(members)), dtype=np.int64)
        m = len(idx)
        if m < 2:
            continue
        if m <= max_block:
            a, b = np.triu_indices(m, k=1)
            left, right = idx[a], idx[b]
        else:
            idx = idx[np.lexsort((tie[idx], order_time[idx]))]
            lefts, rights = [], []
            for step in range(1, width + 1):
                lefts.append(idx[:-step])
                rights.append(idx[step:])
            left, right = np.concatenate(lefts), np.concatenate(rights)
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        chunks.append(lo * n + hi)
    if not chunks:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate(chunks))


def sketch(text: str) -> list[int]:
    """Bottom-k hashes of the word shingles of a text (all of them for short texts)."""
    tokens = words(text)[:600]
    if len(tokens) < SHINGLE:
        grams = {" ".join(tokens)}
    else:
        grams = {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}
    return sorted(zlib.crc32(g.encode("utf-8")) for g in grams)[:SKETCH]


def _exact_groups(articles: Sequence[Article], key, kind: str) -> tuple[list[Duplicate], set[str]]:
    """Articles sharing `key` are duplicates of the earliest one among them."""
    groups: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        k = key(article)
        if k:
            groups[k].append(article)
    found: list[Duplicate] = []
    for members in groups.values():
        members.sort(key=arrival_key)
        for copy in members[1:]:
            found.append(Duplicate(copy.id, members[0].id, kind, 100.0))
    return found, {d.article_id for d in found}


def find_duplicates(
    articles: Sequence[Article],
    *,
    copy_threshold: float = 90.0,
    min_copy_words: int = 6,
    max_block: int = 30,
    block_width: int = 8,
) -> tuple[Duplicate, ...]:
    """Same-URL, same-text and near-copy duplicates; each points at an original, never a copy.

    Texts shorter than `min_copy_words` words are never called duplicates by text (empty pages
    would otherwise all be "the same text").
    """
    ordered = sorted(articles, key=lambda a: a.id)
    by_url, url_dupes = _exact_groups(ordered, lambda a: a.canonical_url, "same-url")
    rest = [a for a in ordered if a.id not in url_dupes]
    n_words = {a.id: len(words(a.text)) for a in rest}
    by_text, text_dupes = _exact_groups(
        rest, lambda a: a.content_hash if n_words[a.id] >= min_copy_words else "", "same-text"
    )
    rest = [a for a in rest if a.id not in text_dupes and n_words[a.id] >= min_copy_words]
    return tuple(by_url + by_text + _near_copies(rest, copy_threshold, max_block, block_width))


def _near_copies(
    articles: list[Article], threshold: float, max_block: int, width: int
) -> list[Duplicate]:
    """Copies among distinct texts: sketch blocking, then rapidfuzz on the normalised openings."""
    if len(articles) < 2:
        return []
    postings: dict[int, list[int]] = defaultdict(list)
    for i, article in enumerate(articles):
        for h in sketch(article.text):
            postings[h].append(i)
    times = np.array([article_time(a) for a in articles])
    pairs = block_pairs(postings.values(), times, max_block, width)
    if len(pairs) == 0:
        return []
    n = len(articles)
    left, right = pairs // n, pairs % n
    norm = [opening(a.text, COMPARE_CHARS) for a in articles]
    scores = process.cpdist(
        [norm[i] for i in left], [norm[j] for j in right], scorer=fuzz.ratio,
        score_cutoff=threshold, workers=-1,
    )
    neighbours: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for i, j, s in zip(left.tolist(), right.tolist(), scores.tolist(), strict=True):
        if s >= threshold:
            neighbours[i].append((j, s))
            neighbours[j].append((i, s))
    # Walk in arrival order: an article copies the earliest original it matches directly,
    # so no copy ever points at another copy and chains cannot form.
    rank = sorted(range(n), key=lambda i: arrival_key(articles[i]))
    position = {i: p for p, i in enumerate(rank)}
    original_of: dict[int, tuple[int, float]] = {}
    for i in rank:
        earlier = [
            (position[j], j, s)
            for j, s in neighbours.get(i, ())
            if position[j] < position[i] and j not in original_of
        ]
        if earlier:
            _, j, s = min(earlier)
            original_of[i] = (j, s)
    return [
        Duplicate(articles[i].id, articles[j].id, "near-copy", round(s, 2))
        for i, (j, s) in sorted(original_of.items())
    ]

