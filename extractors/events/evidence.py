"""What two articles share, as evidence a person can read: the names, places and dates
behind a same-event decision (#27). Stored with each scored pair (`event_links`) and printed
by `newsmon cluster --pairs`, so an analyst can ask why two articles are, or are not, one
event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from extractors.content.facets import actor_key
from extractors.models import Article, Link


@dataclass(frozen=True)
class _Facts:
    """One article's facets as the sets evidence compares."""

    actors: dict[str, str]  # actor_key -> name as written
    places: dict[str, str]  # casefolded -> name
    dates: frozenset[str]  # ISO dates
    event_date: str | None


_actor_key = lru_cache(maxsize=100_000)(actor_key)


def _facts(article: Article) -> _Facts:
    f = article.facets
    return _Facts({_actor_key(x): x for x in reversed(f.actors)},
                  {p.casefold(): p for p in reversed(f.places)},
                  frozenset(d.isoformat() for d in f.dates),
                  f.event_date.isoformat() if f.event_date else None)


def word_evidence(a: Article, b: Article) -> dict:
    """What two articles share in their facets: actors (by spelling-variant key), places,
    mentioned dates; and each one's event date."""
    return _shared(_facts(a), _facts(b))


def _shared(a: _Facts, b: _Facts) -> dict:
    return {
        "names": [name for key, name in reversed(a.actors.items()) if key in b.actors],
        "places": [name for key, name in reversed(a.places.items()) if key in b.places],
        "dates": sorted(a.dates & b.dates),
        "event_dates": [a.event_date, b.event_date],
    }


def links(
    articles: Sequence[Article],
    edges: dict[tuple[int, int], float],
    features: dict[tuple[int, int], dict[str, float]],
    roots: Sequence[int],
    bar: float,
    crosslingual_evidence: Mapping[tuple[int, int], dict],
) -> tuple[Link, ...]:
    """One Link per scored pair of `articles` (index pairs of `edges`), with its evidence:
    the cross-lingual scorer's (`crosslingual.rescore` returns it) or the facets both share."""
    facts: dict[int, _Facts] = {}
    out = []
    for (i, j), score in sorted(edges.items()):
        f = features[(i, j)]
        if f.get("crosslingual"):
            scorer, evidence = "crosslingual", crosslingual_evidence.get((i, j), {})
        else:
            for k in (i, j):
                if k not in facts:
                    facts[k] = _facts(articles[k])
            scorer, evidence = "words", _shared(facts[i], facts[j])
        out.append(Link(articles[i].id, articles[j].id, roots[i] == roots[j], score,
                        f.get("threshold", bar), scorer, {**evidence, "features": f}))
    return tuple(out)
