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
    'acting': -0.1015,
    'ambiguous': -0.7675,
    'area:count_share': 0.5561,
    'area:event': 0.0536,
    'area:lead': 0.0887,
    'area:locative': 0.0608,
    'area:qualifier': -0.0146,
    'area:title': 0.3983,
    'as_container': 0.3559,
    'children': -0.1973,
    'city:count_share': -0.4286,
    'city:dateline': 0.3316,
    'city:event': 0.6102,
    'city:lead': -0.1026,
    'city:locative': 0.1689,
    'city:qualifier': 1.3708,
    'city:title': 0.2379,
    'container': 0.3307,
    'count': 0.8073,
    'count_share': 1.016,
    'country:count_share': 0.6634,
    'country:dateline': 0.0595,
    'country:event': -0.133,
    'country:lead': -0.3908,
    'country:locative': 0.0286,
    'country:qualifier': -1.0961,
    'country:title': -0.6037,
    'county:count_share': -0.127,
    'county:dateline': 0.3558,
    'county:event': 0.4034,
    'county:lead': 0.0907,
    'county:locative': -0.2127,
    'county:qualifier': 0.1009,
    'county:title': 0.1999,
    'ctx_country': 0.6417,
    'ctx_country_rel': 0.8006,
    'ctx_state': 1.8251,
    'ctx_state_rel': 2.4366,
    'dateline': 0.9219,
    'default_sense': 0.2624,
    'demonym': 0.3517,
    'event': -0.2294,
    'first_place': 0.0356,
    'first_sentence': 0.7961,
    'future': 0.0797,
    'home_country': 0.1886,
    'home_state': 1.187,
    'implied': -0.7009,
    'inside_named': 0.382,
    'kind_area': 0.0823,
    'kind_city': -1.6018,
    'kind_country': -0.0497,
    'kind_county': -0.7427,
    'kind_named': 0.1293,
    'kind_region': -0.5659,
    'kind_site': 0.2598,
    'lead': 0.4799,
    'locative': 0.8145,
    'mentions': 0.4032,
    'most_named': -0.0532,
    'motion': -0.0502,
    'named:event': -0.1995,
    'named:lead': -0.3199,
    'named:locative': 0.8834,
    'named:title': -0.4637,
    'null': 2.4888,
    'order': 0.0206,
    'person_word': -0.3217,
    'population': 2.3017,
    'population_rel': 1.031,
    'qualifier': 0.3727,
    'region:count_share': 0.352,
    'region:dateline': 0.175,
    'region:event': -0.9917,
    'region:lead': 0.4546,
    'region:locative': -0.25,
    'region:qualifier': 0.0117,
    'region:title': -0.3424,
    'sense_rank': 0.46,
    'site:event': 0.0276,
    'site:lead': 0.6591,
    'site:locative': 0.1354,
    'site:title': 0.5493,
    'site_unplaced': -0.6544,
    'source_country': 0.8762,
    'title': -0.0244,
    'title_locative': 0.4433,
    'unnamed': 0.7907,
    'weak': -0.5132,
    'weight': -0.0359,
    '_abstain_margin': 1.1639,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 1.3295,
    'count_share': 0.258,
    'country:count_share': -0.1484,
    'country:first_rank': -0.1519,
    'country:lead': -0.0274,
    'country:lead_subject': -0.104,
    'country:participant': -0.0017,
    'country:speaker': -0.0185,
    'cued': -0.8328,
    'first_rank': 0.0938,
    'first_sentence': 0.3087,
    'headline_subject': 0.3681,
    'headline_verb': 0.7953,
    'involved': 1.0312,
    'lead': 0.342,
    'lead_subject': -0.0986,
    'modifier': 0.193,
    'null': 1.7727,
    'official': -0.3137,
    'organisation:count_share': 0.1208,
    'organisation:first_rank': 0.0641,
    'organisation:headline_subject': 0.0186,
    'organisation:involved': 0.016,
    'organisation:lead': -0.2253,
    'organisation:lead_subject': 0.1707,
    'organisation:participant': -1.0794,
    'organisation:speaker': -0.1343,
    'organisation:title': 0.536,
    'participant': 0.5002,
    'person:count_share': 0.2856,
    'person:first_rank': 0.1816,
    'person:headline_subject': 0.3495,
    'person:headline_verb': 0.7953,
    'person:involved': 1.0152,
    'person:lead': -0.0978,
    'person:lead_subject': -0.1652,
    'person:participant': 1.5813,
    'person:speaker': -0.8691,
    'person:title': -0.26,
    'place_word': -0.881,
    'speaker': -1.022,
    'surname_ref': 0.4848,
    'title': 0.2761,
    'type_country': -0.1899,
    'type_organisation': -1.624,
    'type_person': -0.6514,
    'unnamed': 0.6926,
    'weight': 0.2781,
    'words_1': -0.8405,
    'words_2': -0.6767,
    'words_3': -0.9482,
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
