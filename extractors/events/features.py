"""What clustering compares articles by: computed once per article, then kept.

Every pair decision (extractors.events.clustering.score_pairs) reads the two articles'
features and nothing else, so a new article can be compared with stored ones without
re-reading or re-tokenising their texts: the monitor flow keeps these features in the
warehouse (warehouse/cluster_index.py) and matches each run's articles against them.

The one thing a feature takes from other articles is term rarity: the TF-IDF weights of an
article's terms and the weights of the words of its names come from `TermStats`, the document
frequencies of the articles clustered together. `cluster()` takes them from its whole input
(as it always did); the monitor flow from the articles of the recent days plus the run's own,
and fixes them into an article's weights when its features are made. From then on an
article's features never change, which is what makes incremental clustering exact: the
result equals clustering every stored article at once from the same features
(tests/test_incremental_clustering.py).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from extractors.content.facets.gazetteer import gazetteer
from extractors.content.text import STOPWORDS, words
from extractors.events import crosslingual
from extractors.events.dedup import article_time, sketch
from extractors.models import EPOCH_ORDINAL, Article, ArticleFeatures, CopyFeatures

LEAD_WORDS = 60  # the lead: first words of the body, where reports state what happened
TEXT_WORDS = 800  # words of the body used for TF-IDF (long tails add noise, not evidence)


@dataclass(frozen=True)
class TokenSettings:
    """The few settings features depend on (the rest of ClusterSettings only scores)."""

    stem_chars: int = 6
    min_body_words: int = 15
    top_entities: int = 3
    bridge_entities: int = 10


def content_tokens(text: str, stem_chars: int) -> list[str]:
    """Matching tokens: content words cut to their first `stem_chars` letters (0: whole)."""
    tokens = [w for w in words(text) if len(w) > 2 and w not in STOPWORDS]
    return [w[:stem_chars] for w in tokens] if stem_chars > 0 else tokens


@dataclass(frozen=True)
class Tokens:
    """An article's matching tokens, before any weighting."""

    title: tuple[str, ...]
    summary: tuple[str, ...]  # a body-less page's summary (feed or meta description), else ()
    body: tuple[str, ...]  # the body (after any summary), at most TEXT_WORDS
    names: frozenset[str]  # words of its named actors and places
    # The cross-lingual scorer's blocking (extractors.events.crosslingual.key_parts): fixed
    # keys and word stems; none for an article of unknown language.
    language: str = ""
    xl_fixed: tuple[str, ...] = ()
    stems: frozenset[str] = frozenset()

    @property
    def document(self) -> list[str]:
        """What TF-IDF weighs: the title twice, then the body."""
        return [*self.title, *self.title, *self.body]


def tokens_of(article: Article, s: TokenSettings) -> Tokens:
    title = content_tokens(article.title, s.stem_chars)
    text = content_tokens(article.text, s.stem_chars)
    summary = (content_tokens(article.description, s.stem_chars)
               if article.description and len(text) < s.min_body_words else [])
    names = article.facets.actors[: s.bridge_entities] + article.facets.places[: s.bridge_entities]
    xl_fixed, stems = crosslingual.key_parts(article)
    return Tokens(
        title=tuple(title), summary=tuple(summary), body=tuple((summary + text)[:TEXT_WORDS]),
        names=frozenset(w for name in names for w in content_tokens(name, s.stem_chars)),
        language=article.language or "", xl_fixed=xl_fixed, stems=stems,
    )


@dataclass(frozen=True)
class TermStats:
    """Document frequencies that term and name weights are taken from.

    `docs` documents; `terms[t]` of them contain term t (title + body stems), `names[w]`
    the name word w, `stems[x]` the cross-lingual word stem x (which of an article's stems
    block: crosslingual.blocking_keys). Counts of the articles being weighed must be included.
    """

    docs: int = 0
    terms: Mapping[str, int] = field(default_factory=dict)
    names: Mapping[str, int] = field(default_factory=dict)
    stems: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, tokens: Iterable[Tokens]) -> TermStats:
        """The statistics of a set of articles on their own (what `cluster()` uses)."""
        terms: Counter[str] = Counter()
        names: Counter[str] = Counter()
        stems: Counter[str] = Counter()
        docs = 0
        for t in tokens:
            docs += 1
            terms.update(set(t.document))
            names.update(t.names)
            stems.update(t.stems)
        return cls(docs, terms, names, stems)

    def idf(self, term: str) -> float:
        """IDF of a term, smoothed (remembered: a run weighs many articles with one set)."""
        cache = self.__dict__.setdefault("_idf", {})
        found = cache.get(term)
        if found is None:
            found = cache[term] = math.log((self.docs + 1) / (self.terms[term] + 1)) + 1.0
        return found

    def plus(self, other: TermStats) -> TermStats:
        terms = Counter(self.terms)
        terms.update(other.terms)
        names = Counter(self.names)
        names.update(other.names)
        stems = Counter(self.stems)
        stems.update(other.stems)
        return TermStats(self.docs + other.docs, terms, names, stems)


def weighted_terms(tokens: Tokens, stats: TermStats) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Sublinear TF-IDF of the document, heaviest first (ties: the later term first), unit
    length, as float32 values."""
    counts = Counter(tokens.document)
    weighted = sorted(((1.0 + math.log(k)) * stats.idf(t), t) for t, k in counts.items())[::-1]
    norm = math.sqrt(sum(w * w for w, _ in weighted)) or 1.0
    unit = np.asarray([w / norm for w, _ in weighted], dtype=np.float32)
    return tuple(t for _, t in weighted), tuple(unit.tolist())


def features_of(
    article: Article, tokens: Tokens, stats: TermStats, seq: int, s: TokenSettings
) -> ArticleFeatures:
    terms, weights = weighted_terms(tokens, stats)
    k = s.top_entities
    f = article.facets
    names = sorted(tokens.names)
    return ArticleFeatures(
        id=article.id, seq=seq, time=article_time(article),
        event_day=(math.nan if f.event_date is None
                   else float(f.event_date.toordinal() - EPOCH_ORDINAL)),
        stated=f.event_date is not None and f.event_date in f.dates,
        by_fetch=article.published_at is None and article.fetched_at is not None,
        title=tokens.title, summary=tokens.summary, lead=" ".join(tokens.body[:LEAD_WORDS]),
        n_words=len(tokens.body), terms=terms, weights=weights,
        actors=tuple(sorted({x.casefold() for x in f.actors[:k]})),
        places=tuple(sorted({x.casefold() for x in f.places[:k]})),
        all_places=tuple(sorted({x.casefold() for x in f.places})),
        countries=_countries(tuple(f.places)),
        names=tuple(names),
        name_weights=tuple(math.log(stats.docs / stats.names[w]) for w in names),
        language=tokens.language,
        xl_keys=(crosslingual.blocking_keys(tokens.xl_fixed, tokens.stems, stats.stems)
                 if tokens.language else ()),
    )


def batch_features(articles: Sequence[Article], s: TokenSettings) -> list[ArticleFeatures]:
    """Features of a set of articles weighed against each other (`cluster()`'s input); the
    blocking tie-break follows their order."""
    tokens = [tokens_of(a, s) for a in articles]
    stats = TermStats.of(tokens)
    return [features_of(a, t, stats, i, s) for i, (a, t) in enumerate(zip(articles, tokens,
                                                                           strict=True))]


@functools.lru_cache(maxsize=65536)
def _countries(places: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(casefolded city, casefolded country) for the cities among `places`."""
    gaz = gazetteer()
    found = {}
    for p in places:
        country = gaz.country_of(p)
        if country is not None:
            found[p.casefold()] = country.casefold()
    return tuple(sorted(found.items()))


def term_matrix(feats: Sequence[ArticleFeatures]) -> tuple[sparse.csr_matrix, list[str]]:
    """One unit TF-IDF row per article over the sorted terms of all of them (float32)."""
    vocab = sorted(set().union(*(f.terms for f in feats)))
    column = {t: i for i, t in enumerate(vocab)}.__getitem__
    indptr, indices, data = [0], [], []
    for f in feats:  # map and set.union: a year's window scores ~3M terms per update
        indices.extend(map(column, f.terms))
        data.extend(f.weights)
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int64),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(feats), len(vocab)),
    )
    return matrix, vocab


# --- copies (levels 1 and 2) ---------------------------------------------------------------


def copy_features(article: Article) -> CopyFeatures:
    return CopyFeatures(len(words(article.text)), article.content_hash, tuple(sketch(article.text)))
