"""The fitted weights of the facet rankers, and how a ranker scores its candidates.

Each facet is a choice among candidates: the places an article names (each sense of each
name, plus "no place"), the actors it names (plus "nobody"), the days its dates resolve to
(plus the publication day). A candidate is described by a few general signals (features.md
lists them: position, frequency, dateline, title, gazetteer population and containment,
country context, locative words, date evidence); its score is a weighted sum, and the
candidates' softmax is the confidence of the chosen one.

The weights below are fitted by `python -m bench.facets_fit --write` (a conditional logit
over each article's candidates, L2-regularised, on the development corpora of
../shared/data/facets); bench/facets.py prints the same model refitted on training folds and
scored on held-out folds next to these in-fold figures. Do not edit them by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Candidate(Generic[T]):
    value: T
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def score(candidates: Sequence[Candidate], weights: Mapping[str, float]) -> None:
    for cand in candidates:
        cand.score = sum(weights.get(name, 0.0) * v for name, v in cand.features.items())


def ranked(candidates: Sequence[Candidate], weights: Mapping[str, float]) -> list[Candidate]:
    """Candidates best first (ties keep their given order) with their scores set."""
    score(candidates, weights)
    return sorted(candidates, key=lambda c: -c.score)


def confidence(best: Candidate, candidates: Sequence[Candidate]) -> float:
    """The softmax probability of `best` among `candidates` (scores set)."""
    top = max(c.score for c in candidates)
    total = sum(math.exp(c.score - top) for c in candidates)
    return math.exp(best.score - top) / total if total else 0.0


# Decision thresholds stored with the weights (not features): "where" answers no place when
# "no place" outscores the best place by more than ABSTAIN_MARGIN; "when" leaves the
# publication day only for a day that outscores it by more than LEAVE_MARGIN.
ABSTAIN_MARGIN = "_abstain_margin"
LEAVE_MARGIN = "_leave_margin"


# --- fitted: begin (written by bench/facets_fit.py) ---
WHERE_WEIGHTS: dict[str, float] = {
    'ambiguous': -0.9173,
    'as_container': 0.0466,
    'children': 0.0261,
    'container': 0.2284,
    'count': 0.514,
    'count_share': 0.2439,
    'ctx_country': 0.1338,
    'ctx_state': 0.9597,
    'dateline': 0.7036,
    'default_sense': 0.2567,
    'demonym': 1.1073,
    'first_place': -0.005,
    'first_sentence': 0.0349,
    'future': 0.1059,
    'implied': -1.0313,
    'inside_named': 0.9998,
    'kind_area': 0.08,
    'kind_city': -0.8211,
    'kind_country': -0.3036,
    'kind_county': 0.1919,
    'kind_named': 0.3186,
    'kind_region': -0.3538,
    'kind_site': -0.4148,
    'lead': 0.138,
    'locative': 0.9673,
    'most_named': 0.4269,
    'motion': 0.156,
    'null': 1.3027,
    'order': 0.5448,
    'person_word': -0.7625,
    'population': 0.7253,
    'qualifier': 0.0586,
    'sense_rank': 0.6721,
    'site_unplaced': -0.6837,
    'title': 0.4823,
    'unnamed': 0.417,
    'weak': -0.4387,
    'weight': 0.3117,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 1.3681,
    'cued': -0.6702,
    'first_rank': -0.0849,
    'first_sentence': -0.0405,
    'headline_subject': 0.0306,
    'lead': 0.1612,
    'lead_subject': -0.1229,
    'modifier': 0.0437,
    'null': 1.7526,
    'official': -0.409,
    'participant': 1.4927,
    'place_word': -0.9534,
    'speaker': -1.346,
    'surname_ref': 0.7354,
    'title': -0.1824,
    'type_country': -0.1068,
    'type_organisation': -1.4149,
    'type_person': -0.4511,
    'unnamed': 0.2202,
    'weight': 0.4626,
    'words_1': -0.9155,
    'words_2': -0.3961,
    'words_3': -0.6611,
}
WHEN_WEIGHTS: dict[str, float] = {
    'after': -1.2223,
    'background': -0.1826,
    'dateline': 0.275,
    'day_before': 0.741,
    'event_word': 0.4131,
    'explicit': 0.4811,
    'first_sentence': 0.6864,
    'future_word': -0.2966,
    'lead': 0.544,
    'mentions': 0.8903,
    'older': 0.3247,
    'published': -0.223,
    'quoted': -0.1683,
    'relative': -0.0883,
    'reporting': -0.4839,
    'span': -0.7284,
    'title': 0.0409,
    'update': -0.0436,
    'week_before': 0.3796,
    'weekday': 0.4496,
}
# --- fitted: end ---
