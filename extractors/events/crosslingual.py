"""Same event across languages: a pair scorer that reads no words, only what every language
writes alike.

A German and an English report of one eruption share few words but the same volcano's name,
the same "45.000" / "45,000" evacuated, the same day and the same country. The scorer compares
two articles by their language-independent keys (extractors.content.keys): names transliterated
to Latin and compared by spelling-variant key, gazetteer places found in any script, figures and
calendar dates read in each language's own format, plus a character 4-gram cosine of the
transliterated texts (cognates and names that the keys miss: "Taal", "Phivolcs"). Each feature
is in [0, 1]; a logistic model (`WEIGHTS`) turns them into a probability that the two report
one event, and dates the texts state (or publication times) further apart than the window
count against it, as in the word scorer of extractors.events.clustering.

Used for pairs whose word scorer was never tuned: different languages, or one language other
than English and Russian (`applies`). `newsmon cluster --pairs` and the clustering hook both
call `score_pair`, so a pair's decision and its evidence are the same in both.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import regex
from rapidfuzz import fuzz, process

from extractors.content import embedding
from extractors.content.facets.gazetteer import gazetteer
from extractors.content.keys import Keys, KeysArgs, article_keys, latin, loose_key
from extractors.events.dedup import article_time, block_pairs
from extractors.models import Article

# Languages the word scorer of extractors.events.clustering was tuned on (its dev corpora are
# English and Russian): their same-language pairs keep it.
WORD_SCORER_LANGUAGES = frozenset({"en", "ru"})
GRAM = 4  # character n-grams of the transliterated text
GRAM_CHARS = 3000  # characters of each text the n-grams and stems read (head of the article)
LEAD_WORDS = 80  # headline and lead
STEM_CHARS = 5  # words compared by their first letters: "evacuation" / "evacuación"
STEM_MIN = 6  # shorter words are mostly function words in every language
NAME_SIMILARITY = 85  # rapidfuzz ratio at which two name keys are one name
WINDOW_DAYS = 7  # dates or publication times further apart count against a match
BLOCK_STEMS = 8  # rarest word stems of an article that make candidate pairs in clustering
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’]*")


def applies(language_a: str | None, language_b: str | None) -> bool:
    """Whether this scorer (rather than the word scorer) decides a pair: both languages are
    known and either they differ or neither is one the word scorer was tuned for."""
    if not language_a or not language_b:
        return False
    a, b = language_a.lower()[:2], language_b.lower()[:2]
    return a != b or a not in WORD_SCORER_LANGUAGES


def regime(language_a: str | None, language_b: str | None) -> str:
    """Which fitted weights score a pair: "cross" (two languages) or "same" (one)."""
    return "same" if (language_a or "").lower()[:2] == (language_b or "").lower()[:2] else "cross"


@dataclass(frozen=True)
class PairSide:
    """What the scorer reads of one article."""

    keys: Keys
    grams: _Grams  # character 4-grams of the transliterated head of the text
    lead_grams: _Grams  # the same, of the headline and lead
    stems: frozenset[str]  # first STEM_CHARS letters (Latin) of the words of STEM_MIN+ letters
    loose_names: tuple[str, ...]  # keys.loose_key of keys.names, sorted
    loose_lead_names: tuple[str, ...]  # the same of keys.lead_names
    language: str
    published: datetime | None = None
    event_date: date | None = None  # the event date its facets found stated in the text
    head: str = ""  # headline and lead as written: what the sentence model reads
    # Its multilingual sentence vector (extractors.content.embedding), attached by
    # `with_vectors` only to articles that meet one of another language: the model is costly.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


def _stems(body: str) -> frozenset[str]:
    return frozenset(
        latin(w).casefold()[:STEM_CHARS] for w in _WORD.findall(body) if len(w) >= STEM_MIN
    )


def head_text(title: str, text: str) -> str:
    """What the sentence model reads of an article: its headline and lead."""
    return f"{title}\n{text}"[:GRAM_CHARS][: embedding.TEXT_CHARS]


def side(title: str, text: str, language: str | None,
         published: datetime | None = None, event_date: date | None = None) -> PairSide:
    """The scorer's view of one article."""
    body = f"{title}\n{text}"[:GRAM_CHARS]
    lead = " ".join(body.split()[:LEAD_WORDS])
    keys = article_keys(title, text, language)
    return PairSide(
        keys=keys,
        grams=_grams(body),
        lead_grams=_grams(lead),
        stems=_stems(body),
        loose_names=tuple(sorted({loose_key(k) for k in keys.names})),
        loose_lead_names=tuple(sorted({loose_key(k) for k in keys.lead_names})),
        language=(language or "").lower()[:2],
        published=published,
        event_date=event_date,
        head=head_text(title, text),
    )


def with_vectors(sides: Sequence[PairSide]) -> list[PairSide]:
    """`sides` with their sentence vectors attached (embedded in one batch)."""
    todo = [s for s in sides if s.vector is None]
    vectors = dict(zip((s.head for s in todo), embedding.embed([s.head for s in todo]),
                       strict=True)) if todo else {}
    return [s if s.vector is not None else replace(s, vector=vectors[s.head]) for s in sides]


# e5's cosines crowd high (unrelated news ~0.70-0.80, translations ~0.90+): the feature
# spreads MEANING_FLOOR..1 over 0..1.
MEANING_FLOOR = 0.70


def _cosine_of_vectors(a: PairSide, b: PairSide) -> float | None:
    """Cosine of the two heads' sentence vectors, or None when either has no vector."""
    if a.vector is None or b.vector is None:
        return None
    return float(np.dot(a.vector, b.vector))


def _meaning(cosine: float) -> float:
    """The cosine spread from MEANING_FLOOR..1 over 0..1."""
    return min(1.0, max(0.0, (cosine - MEANING_FLOOR) / (1.0 - MEANING_FLOOR)))


@dataclass(frozen=True)
class _Grams:
    """A bag of character n-grams, compact: sorted stable hashes, their counts, the norm."""

    keys: np.ndarray  # uint32, sorted, unique
    counts: np.ndarray  # float32
    norm: float


def _grams(text: str) -> _Grams:
    folded = " ".join(latin(text).casefold().split())
    counted = Counter(zlib.crc32(folded[i : i + GRAM].encode("utf-8"))
                      for i in range(len(folded) - GRAM + 1))
    keys = np.array(sorted(counted), dtype=np.uint32)
    counts = np.array([counted[k] for k in keys.tolist()], dtype=np.float32)
    return _Grams(keys, counts, float(np.sqrt(np.dot(counts, counts))))


def _cosine(a: _Grams, b: _Grams) -> float:
    if not a.norm or not b.norm:
        return 0.0
    _, ia, ib = np.intersect1d(a.keys, b.keys, assume_unique=True, return_indices=True)
    return float(np.dot(a.counts[ia], b.counts[ib])) / (a.norm * b.norm)


def matched_names(a: frozenset[str], b: frozenset[str]) -> list[str]:
    """Names of `a` that `b` names too, exactly or as a close spelling variant (name keys
    of keys.name_keys)."""
    mine = {loose_key(k): k for k in sorted(a)}
    return sorted(mine[k] for k in _matched(tuple(sorted(mine)),
                                            tuple(sorted({loose_key(k) for k in b}))))


def _matched(a: tuple[str, ...], b: tuple[str, ...]) -> list[str]:
    """Loose keys of `a` found in `b`, exactly or at NAME_SIMILARITY (rapidfuzz ratio)."""
    if not a or not b:
        return []
    exact = set(a) & set(b)
    rest = [k for k in a if k not in exact]
    if not rest:
        return sorted(exact)
    scores = process.cdist(rest, b, scorer=fuzz.ratio, score_cutoff=NAME_SIMILARITY)
    return sorted(exact | {k for k, row in zip(rest, scores, strict=True) if row.any()})


def _share(shared: int, a: int, b: int) -> float:
    """Overlap coefficient: shared items over the smaller side."""
    return shared / min(a, b) if a and b else 0.0


def _count(n: int, cap: int) -> float:
    """0 for none, 1 for `cap` or more, logarithmic between: the first matches say most."""
    return min(1.0, math.log1p(n) / math.log1p(cap))


@dataclass(frozen=True)
class PairScore:
    """The scorer's answer for one pair: probability, decision and what matched."""

    probability: float
    same_event: bool
    regime: str  # "cross", "cross_keys" (two languages, no vectors) or "same": which weights
    features: dict[str, float]
    evidence: dict[str, object]


def score_pair(a: PairSide, b: PairSide, window_days: int = WINDOW_DAYS) -> PairScore:
    """Score one pair: the fitted model over the features, less the publication-time gap
    (set by hand: the dev pairs carry no publication dates)."""
    f, evidence = _features(a, b)
    date_gap = _date_gap(a, b)
    f["date_conflict"] = 1.0 if date_gap is not None and date_gap > window_days else 0.0
    gap = _publication_gap(a, b)
    f["time_gap"] = (0.0 if gap is None or gap <= window_days
                     else min(1.0, math.log2(gap / window_days) / 3))
    which = regime(a.language, b.language)
    cosine = _cosine_of_vectors(a, b) if which == "cross" else None
    if cosine is not None:
        # Spread and as it is: together a knee at MEANING_FLOOR, so that a cosine under
        # the floor still counts, less steeply (chosen with folds: bench/crosslingual.py).
        f["meaning"], f["cosine"] = _meaning(cosine), cosine
        evidence["meaning"] = round(cosine, 3)
    elif which == "cross":
        which = "cross_keys"  # no vectors: the weights fitted without them
    z = _logit(f, WEIGHTS[which]) - W_TIME_GAP * f["time_gap"]
    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    if gap is not None:
        evidence["days_apart"] = round(gap, 1)
    if date_gap is not None:
        evidence["stated_dates_apart"] = date_gap
    return PairScore(p, p >= THRESHOLDS[which], which,
                     {k: round(v, 4) for k, v in f.items()}, evidence)


def _features(a: PairSide, b: PairSide) -> tuple[dict[str, float], dict[str, object]]:
    """The pair's evidence as features in [0, 1], and what matched, by kind."""
    ka, kb = a.keys, b.keys
    names = _matched(a.loose_names, b.loose_names)
    lead_names = _matched(a.loose_lead_names, b.loose_lead_names)
    places = sorted(ka.places & kb.places)
    numbers = sorted(ka.numbers & kb.numbers)
    stems = a.stems & b.stems
    days = sorted({(m, d) for _, m, d in ka.dates} & {(m, d) for _, m, d in kb.dates})
    cities_a, cities_b = _cities(ka.places), _cities(kb.places)
    f = {
        "text": _cosine(a.grams, b.grams),
        "lead": _cosine(a.lead_grams, b.lead_grams),
        "names": _share(len(names), len(a.loose_names), len(b.loose_names)),
        "name_count": _count(len(names), 10),
        "lead_names": _count(len(lead_names), 5),
        "stems": _share(len(stems), len(a.stems), len(b.stems)),
        "stem_count": _count(len(stems), 30),
        "places": _share(len(places), len(ka.places), len(kb.places)),
        "place_conflict": float(bool(cities_a and cities_b and not cities_a & cities_b)),
        "numbers": _count(len(numbers), 5),
        "dates": float(bool(days)),
    }
    evidence: dict[str, object] = {
        "names": names, "places": places, "numbers": numbers,
        "dates": [f"{m:02d}-{d:02d}" for m, d in days],
        "text": round(f["text"], 3),
    }
    if f["place_conflict"]:
        evidence["places_apart"] = [sorted(cities_a), sorted(cities_b)]
    return f, evidence


def _cities(places: frozenset[str]) -> frozenset[str]:
    gaz = gazetteer()
    return frozenset(p for p in places if gaz.kind(p) == "city")


def _publication_gap(a: PairSide, b: PairSide) -> float | None:
    if a.published is None or b.published is None:
        return None
    return abs((a.published - b.published).total_seconds()) / 86400


def _date_gap(a: PairSide, b: PairSide) -> int | None:
    """Days between the event dates the two texts state (as their facets found them), else
    between the closest full dates they mention; None when either states none: two reports
    that each date their event weeks apart are two. A date without a year takes the year
    that puts it nearest the publication day, where that is known."""
    if a.event_date is not None and b.event_date is not None:
        return abs((a.event_date - b.event_date).days)
    da, db = _full_dates(a), _full_dates(b)
    if not da or not db:
        return None
    return min(abs((x - y).days) for x in da for y in db)


def _full_dates(s: PairSide) -> list[date]:
    out = []
    day = s.published.date() if s.published is not None else None
    for year, month, dom in s.keys.dates:
        if year is None and day is None:
            continue
        years = [year] if year is not None else [day.year - 1, day.year, day.year + 1]
        candidates = []
        for y in years:
            try:
                candidates.append(date(y, month, dom))
            except ValueError:  # 29 February of another year
                continue
        if candidates:
            out.append(min(candidates, key=lambda d: abs((d - day).days) if day else 0))
    return out


def _logit(f: Mapping[str, float], weights: Mapping[str, float]) -> float:
    return weights.get("bias", 0.0) + sum(
        w * f.get(k, 0.0) for k, w in weights.items() if k != "bias"
    )


def clustering_score(p: float, which: str, bar: float) -> float:
    """The probability on the word scorer's scale, where `bar` (its event_threshold) is the
    decision: THRESHOLDS[which] maps to `bar`, 0 to 0 and 1 to 1, linearly between, so
    grouping and its guards read both scorers alike."""
    t = THRESHOLDS[which]
    return bar * p / t if p < t else bar + (1 - bar) * (p - t) / (1 - t)


# Fitted by bench/crosslingual.py on the SemEval-2022 Task 8 dev pairs (its docstring and
# docs/clustering.md say how): logistic regression, pairs of two languages ("cross") and of
# one language the word scorer was not tuned for ("same") apart. Each threshold is the one
# with the best F1 over that regime's dev pairs' own out-of-fold probabilities (5 folds by
# story), not over the probabilities of the weights that saw them (which pick too high a
# threshold). "cross" reads the sentence vectors (`VECTOR_FEATURES`); "cross_keys" is the
# same fit without them, for sides that carry none.
FEATURES = ("text", "lead", "names", "name_count", "lead_names", "stems", "stem_count",
            "places", "place_conflict", "numbers", "dates", "date_conflict", "meaning",
            "cosine")
VECTOR_FEATURES = ("meaning", "cosine")  # the last ones: "cross" alone reads them
WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "cross": {"bias": -6.295, "text": 0.498, "lead": 0.323, "names": 2.574, "name_count": 0.459,
              "lead_names": -1.010, "stems": 0.529, "stem_count": 0.177, "places": 0.160,
              "place_conflict": -0.320, "numbers": 1.787, "dates": -0.507,
              "date_conflict": -1.447, "meaning": 7.358, "cosine": 2.208},
    "cross_keys": {"bias": -2.728, "text": 1.960, "lead": 1.869, "names": 2.629,
                   "name_count": 0.798, "lead_names": -0.158, "stems": 1.275,
                   "stem_count": 1.288, "places": 0.151, "place_conflict": -0.717,
                   "numbers": 2.867, "dates": -0.375, "date_conflict": -1.629},
    "same": {"bias": -4.874, "text": 2.444, "lead": 5.478, "names": -0.816, "name_count": -0.428,
             "lead_names": 1.322, "stems": 1.320, "stem_count": 1.135, "places": 0.231,
             "place_conflict": 0.131, "numbers": 1.576, "dates": 0.700, "date_conflict": -1.559},
}
THRESHOLDS: Mapping[str, float] = {"cross": 0.28, "cross_keys": 0.33, "same": 0.30}
# Publication times further apart than the window (logit units per unit of the log-gap
# penalty, as the word scorer's time_gap: 1 at 8 windows), set by hand: the dev pairs carry
# no publication dates. Two reports of one summit published weeks apart are two events
# unless the rest of the evidence is overwhelming.
W_TIME_GAP = 4.0


# --- in clustering ------------------------------------------------------------------------


def article_side(article: Article) -> PairSide:
    """The scorer's view of an article (its summary stands in for a missing text)."""
    return side(article.title, _text(article), article.language, article.published_at,
                _stated_date(article))


def article_head(article: Article) -> str:
    """`article_side(article).head`, without the rest of the side."""
    return head_text(article.title, _text(article))


def _text(article: Article) -> str:
    return article.text or article.description or ""


side_of = lru_cache(maxsize=2048)(article_side)  # ~20-40 KB each: pairs files, evidence


def _stated_date(article: Article) -> date | None:
    """The event date the article's facets found stated in its text (not the publication
    day taken for want of one)."""
    facets = article.facets
    return facets.event_date if facets.event_date in facets.dates else None


def keys_args(article: Article) -> KeysArgs:
    """The arguments article_keys takes for `article` (in key_parts and article_side)."""
    return article.title, _text(article), article.language


def key_parts(article: Article) -> tuple[tuple[str, ...], frozenset[str]]:
    """What an article's blocking keys are made of: its fixed keys (names by loose key,
    places, figures) and its word stems (which block by rarity: `blocking_keys`); nothing
    for an article of unknown language. Keys carry a "~" so they never meet the word
    scorer's keys in one index."""
    if not article.language:
        return (), frozenset()
    title, text = article.title, _text(article)
    keys = article_keys(title, text, article.language)
    fixed = ({"~n:" + loose_key(k) for k in keys.names} | {"~p:" + p for p in keys.places}
             | {"~#:" + x for x in keys.numbers})
    return tuple(sorted(fixed)), _stems(f"{title}\n{text}"[:GRAM_CHARS])


def blocking_keys(fixed: Sequence[str], stems: frozenset[str],
                  stem_df: Mapping[str, int]) -> tuple[str, ...]:
    """An article's blocking keys: the fixed ones and its BLOCK_STEMS rarest word stems
    among those another article holds too (`stem_df` counts the article itself). Word stems
    block only by an article's rarest few, as the word scorer blocks by its top terms:
    common stems pair everything with everything."""
    rare = sorted((x for x in stems if stem_df.get(x, 0) > 1),
                  key=lambda x: (stem_df[x], x))[:BLOCK_STEMS]
    return tuple(sorted({*fixed, *("~s:" + x for x in rare)}))


def _language(article: Article) -> str:
    return (article.language or "").lower()[:2]


def sides_with_vectors(pairs: Iterable[tuple[Article, Article]]) -> dict[str, PairSide]:
    """The scorer's view of the articles of `pairs` that pair two languages, by id, their
    sentence vectors embedded in one batch (the model's cost follows these articles, and a
    batch costs far less per text than one text at a time): `pair_edge`'s `sides`."""
    crossing = {x.id: x for a, b in pairs if _language(a) != _language(b) for x in (a, b)}
    ids = sorted(crossing)
    return dict(zip(ids, with_vectors([article_side(crossing[i]) for i in ids]), strict=True))


def _score_articles(a: Article, b: Article, window_days: int,
                    sides: dict | None = None) -> PairScore:
    """`score_pair` of two articles, with their sentence vectors when their languages
    differ. `sides`: a cache of article_side by id (callers embed their candidates
    beforehand, in one batch: sides_with_vectors)."""
    sides = {} if sides is None else sides
    for x in (a, b):
        if x.id not in sides:
            sides[x.id] = article_side(x)
    if _language(a) != _language(b):
        for x in (a, b):
            if sides[x.id].vector is None:
                sides[x.id] = with_vectors([sides[x.id]])[0]
    return score_pair(sides[a.id], sides[b.id], window_days)


def pair_evidence(a: Article, b: Article, window_days: int,
                  sides: dict | None = None) -> dict[str, object]:
    """What matched for a pair this scorer decided, and which weights decided it (as
    `pair_edge` scores it): the explanation of a stored link."""
    result = _score_articles(a, b, window_days, sides)
    return {"regime": result.regime, **result.evidence}


def pair_edge(a: Article, b: Article, bar: float, floor: float, window_days: int,
              sides: dict | None = None) -> tuple[float, dict[str, float], dict] | None:
    """This scorer's edge for one pair (`a` the one with the smaller id), on the word
    scorer's scale: (score, features, evidence), or None under bar - floor (left out, as
    the word scorer leaves such pairs out). `sides`: a cache of article_side by id."""
    result = _score_articles(a, b, window_days, sides)
    score = clustering_score(result.probability, result.regime, bar)
    if score < bar - floor:
        return None
    return (round(score, 4),
            {**result.features, "crosslingual": 1.0, "probability": round(result.probability, 4),
             "threshold": bar, "bridge": 0.0},
            {"regime": result.regime, **result.evidence})


def rescore(
    articles: Sequence[Article],
    edges: dict[tuple[int, int], float],
    features: dict[tuple[int, int], dict[str, float]],
    bar: float,
    floor: float,
    window_days: int = WINDOW_DAYS,
    max_block: int = 30,
    block_width: int = 8,
    keys: Sequence[Sequence[str]] | None = None,
    order: np.ndarray | None = None,
) -> dict[tuple[int, int], dict[str, object]]:
    """Decide, in place, the candidate pairs of `articles` this scorer `applies` to: drop
    the word scorer's edges for them and add this scorer's, on the word scorer's scale
    (`clustering_score`, `bar` its event threshold; pairs under bar - floor are left out,
    as the word scorer leaves them). Candidates share a language-independent key (a name,
    place, figure or word stem); a key held by many articles pairs each only with its
    time neighbours. A corpus of one tuned language (or of unknown languages) is untouched.
    Returns what matched for each pair it kept (`PairScore.evidence`). `keys`: each
    article's blocking keys when they were fixed beforehand (extractors/events/features.py;
    by default `blocking_keys` over `articles`), `order`: the tie-break of equal times."""
    languages = [_language(a) for a in articles]
    known = {x for x in languages if x}
    if not known or (len(known) == 1 and known <= WORD_SCORER_LANGUAGES):
        return {}
    for pair in [p for p in edges if applies(languages[p[0]], languages[p[1]])]:
        del edges[pair]
        features.pop(pair, None)
    if keys is None:
        parts = [key_parts(a) for a in articles]
        stem_df = Counter(x for _, stems in parts for x in stems)
        keys = [blocking_keys(fixed, stems, stem_df) for fixed, stems in parts]
    postings: dict[str, list[int]] = {}
    for i, held in enumerate(keys):
        for key in held:
            postings.setdefault(key, []).append(i)
    # Only blocks that can hold a pair this scorer decides: two languages, or an untuned one.
    blocks = [members for members in postings.values() if len(members) > 1 and (
        len({languages[i] for i in members}) > 1
        or languages[members[0]] not in WORD_SCORER_LANGUAGES)]
    times = np.array([article_time(a) for a in articles])
    n = len(articles)
    candidates = [divmod(code, n) for code in block_pairs(blocks, times, max_block, block_width,
                                                          order).tolist()]
    candidates = [(i, j) for i, j in candidates if applies(languages[i], languages[j])]
    sides = sides_with_vectors([(articles[i], articles[j]) for i, j in candidates])
    evidence: dict[tuple[int, int], dict[str, object]] = {}
    for i, j in candidates:
        found = pair_edge(articles[i], articles[j], bar, floor, window_days, sides)
        if found is not None:
            edges[(i, j)], features[(i, j)], evidence[(i, j)] = found
    return evidence
