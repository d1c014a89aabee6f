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
    'acting': -0.1062,
    'ambiguous': -0.7715,
    'area:count_share': 0.5558,
    'area:event': 0.0529,
    'area:lead': 0.0885,
    'area:locative': 0.0597,
    'area:qualifier': -0.0135,
    'area:title': 0.3995,
    'as_container': 0.3557,
    'children': -0.2008,
    'city:count_share': -0.4078,
    'city:dateline': 0.2997,
    'city:event': 0.6225,
    'city:lead': -0.0921,
    'city:locative': 0.1763,
    'city:qualifier': 1.3784,
    'city:title': 0.2192,
    'container': 0.3202,
    'count': 0.8136,
    'count_share': 1.0291,
    'country:count_share': 0.6714,
    'country:dateline': 0.0589,
    'country:event': -0.1245,
    'country:lead': -0.3935,
    'country:locative': 0.0284,
    'country:qualifier': -1.0986,
    'country:title': -0.6224,
    'county:count_share': -0.1232,
    'county:dateline': 0.4082,
    'county:event': 0.3979,
    'county:lead': 0.1158,
    'county:locative': -0.2171,
    'county:qualifier': 0.0975,
    'county:title': 0.3055,
    'ctx_country': 0.6422,
    'ctx_country_rel': 0.811,
    'ctx_state': 1.8522,
    'ctx_state_rel': 2.4112,
    'dateline': 0.9549,
    'default_sense': 0.2639,
    'demonym': 0.3518,
    'event': -0.2353,
    'first_place': 0.0662,
    'first_sentence': 0.7994,
    'future': 0.0824,
    'home_country': 0.3045,
    'home_state': 1.0926,
    'implied': -0.6919,
    'inside_named': 0.3853,
    'kind_area': 0.0781,
    'kind_city': -1.6129,
    'kind_country': -0.0579,
    'kind_county': -0.7375,
    'kind_named': 0.1453,
    'kind_region': -0.57,
    'kind_site': 0.2655,
    'lead': 0.4812,
    'locative': 0.8141,
    'mentions': 0.4097,
    'most_named': -0.0627,
    'motion': -0.0526,
    'named:event': -0.2249,
    'named:lead': -0.3569,
    'named:locative': 0.8798,
    'named:title': -0.5344,
    'null': 2.4895,
    'order': -0.0314,
    'person_word': -0.3287,
    'population': 2.2775,
    'population_rel': 1.0351,
    'qualifier': 0.3747,
    'region:count_share': 0.3329,
    'region:dateline': 0.1881,
    'region:event': -0.9816,
    'region:lead': 0.4629,
    'region:locative': -0.2431,
    'region:qualifier': 0.011,
    'region:title': -0.3273,
    'sense_rank': 0.4736,
    'site:event': 0.0225,
    'site:lead': 0.6564,
    'site:locative': 0.13,
    'site:title': 0.5569,
    'site_unplaced': -0.6827,
    'source_country': 0.872,
    'title': -0.0029,
    'title_locative': 0.4317,
    'unnamed': 0.786,
    'weak': -0.5022,
    'weight': -0.0517,
    '_abstain_margin': 0.8178,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 1.3324,
    'count_share': 0.2595,
    'country:count_share': -0.1485,
    'country:first_rank': -0.1518,
    'country:lead': -0.0274,
    'country:lead_subject': -0.104,
    'country:participant': -0.0017,
    'country:speaker': -0.0185,
    'cued': -0.832,
    'first_rank': 0.0908,
    'first_sentence': 0.3065,
    'headline_subject': 0.3687,
    'headline_verb': 0.7953,
    'involved': 1.0308,
    'lead': 0.3444,
    'lead_subject': -0.0991,
    'modifier': 0.1936,
    'null': 1.7733,
    'official': -0.3128,
    'organisation:count_share': 0.1213,
    'organisation:first_rank': 0.0655,
    'organisation:headline_subject': 0.0176,
    'organisation:involved': 0.0164,
    'organisation:lead': -0.2229,
    'organisation:lead_subject': 0.1683,
    'organisation:participant': -1.0828,
    'organisation:speaker': -0.134,
    'organisation:title': 0.5343,
    'participant': 0.4991,
    'person:count_share': 0.2866,
    'person:first_rank': 0.1771,
    'person:headline_subject': 0.3511,
    'person:headline_verb': 0.7953,
    'person:involved': 1.0144,
    'person:lead': -0.0976,
    'person:lead_subject': -0.1634,
    'person:participant': 1.5836,
    'person:speaker': -0.8696,
    'person:title': -0.2589,
    'place_word': -0.8801,
    'speaker': -1.0221,
    'surname_ref': 0.4859,
    'title': 0.2753,
    'type_country': -0.1898,
    'type_organisation': -1.6262,
    'type_person': -0.6497,
    'unnamed': 0.6923,
    'weight': 0.2761,
    'words_1': -0.8388,
    'words_2': -0.679,
    'words_3': -0.9478,
}
WHEN_WEIGHTS: dict[str, float] = {
    'after': -2.7119,
    'background': -0.6822,
    'dateline': 0.7378,
    'day_before': 1.3328,
    'days_before': 1.4403,
    'event_word': 0.3265,
    'explicit': 0.0469,
    'first_sentence': 1.4339,
    'future_word': -0.4889,
    'lead': 0.5347,
    'mentions': 1.0949,
    'published': -0.0612,
    'quoted': -0.6339,
    'relative': -0.4586,
    'reporting': -0.7831,
    'span': -0.2381,
    'title': -0.3348,
    'title_plan': 0.0117,
    'update': -0.2908,
    'weekday': 0.0798,
    '_leave_margin': 0.0272,
}
# --- fitted: end ---
