"""What two articles share, as evidence a person can read: the names, places and dates
behind a same-event decision (#27). Stored with each scored pair (`event_links`) and printed
by `newsmon cluster --pairs`, so an analyst can ask why two articles are, or are not, one
event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from extractors.content.facets import actor_key
from extractors.models import Article, Link

_actor_key = lru_cache(maxsize=100_000)(actor_key)


def word_evidence(a: Article, b: Article) -> dict:
    """What two articles share in their facets: actors (by spelling-variant key), places,
    mentioned dates; and each one's event date."""
    keys_b = {_actor_key(x) for x in b.facets.actors}
    places_b = {p.casefold() for p in b.facets.places}
    dates_b = set(b.facets.dates)
    return {
        "names": [x for x in a.facets.actors if _actor_key(x) in keys_b],
        "places": [p for p in a.facets.places if p.casefold() in places_b],
        "dates": sorted(d.isoformat() for d in set(a.facets.dates) & dates_b),
        "event_dates": [d.isoformat() if d else None
                        for d in (a.facets.event_date, b.facets.event_date)],
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
    out = []
    for (i, j), score in sorted(edges.items()):
        a, b = articles[i], articles[j]
        f = features[(i, j)]
        if f.get("crosslingual"):
            scorer, evidence = "crosslingual", crosslingual_evidence.get((i, j), {})
        else:
            scorer, evidence = "words", word_evidence(a, b)
        out.append(Link(a.id, b.id, roots[i] == roots[j], score, f.get("threshold", bar),
                        scorer, {**evidence, "features": f}))
    return tuple(out)
