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
    'acting': 0.0617,
    'ambiguous': -0.6933,
    'area:count_share': 0.9422,
    'area:event': 0.0473,
    'area:lead': 0.1018,
    'area:locative': 0.0592,
    'area:qualifier': -0.0046,
    'area:title': 0.6498,
    'as_container': 0.7442,
    'children': -0.0988,
    'city:count_share': -0.4844,
    'city:dateline': 0.3652,
    'city:event': 0.7548,
    'city:lead': -0.2889,
    'city:locative': 0.1414,
    'city:qualifier': 0.8185,
    'city:title': 0.0012,
    'container': 0.4839,
    'count': 0.8761,
    'count_share': 1.4033,
    'country:count_share': 0.6022,
    'country:dateline': 0.23,
    'country:event': -0.1484,
    'country:lead': -0.5991,
    'country:locative': -0.0081,
    'country:qualifier': -1.066,
    'country:title': -0.3581,
    'county:count_share': -0.2781,
    'county:dateline': 0.1959,
    'county:event': 0.24,
    'county:lead': 0.2676,
    'county:locative': 0.0987,
    'county:title': 0.4356,
    'ctx_country': 0.6691,
    'ctx_country_rel': 0.5903,
    'ctx_state': 2.4234,
    'ctx_state_rel': 2.1238,
    'dateline': 1.2694,
    'default_sense': 0.1137,
    'demonym': 0.4303,
    'event': -0.254,
    'first_place': -0.1954,
    'first_sentence': 0.8591,
    'future': 0.2614,
    'home_country': 0.349,
    'home_state': 1.0871,
    'implied': -0.9869,
    'inside_named': 0.5287,
    'kind_area': 0.3095,
    'kind_city': -1.8052,
    'kind_country': 0.2999,
    'kind_county': -1.1418,
    'kind_named': 0.1146,
    'kind_region': -0.4597,
    'kind_site': 0.0699,
    'lead': 0.6363,
    'locative': 0.892,
    'mentions': 0.1945,
    'most_named': -0.1413,
    'motion': 0.0107,
    'named:event': 0.1536,
    'named:lead': -0.2215,
    'named:locative': 0.921,
    'named:title': -0.383,
    'null': 2.6129,
    'order': 0.0963,
    'person_word': -1.7437,
    'population': 2.6725,
    'population_rel': 0.7224,
    'qualifier': 0.0527,
    'region:count_share': 0.6214,
    'region:dateline': 0.4782,
    'region:event': -0.9096,
    'region:lead': 0.4805,
    'region:locative': -0.3866,
    'region:qualifier': 0.3048,
    'region:title': -0.3173,
    'sense_rank': 0.342,
    'site:event': -0.3917,
    'site:lead': 0.8959,
    'site:locative': 0.0664,
    'site:title': 0.1109,
    'site_unplaced': -1.1364,
    'source_country': 0.9002,
    'title': 0.139,
    'title_locative': 0.3816,
    'unnamed': 0.6776,
    'weak': -0.4408,
    'weight': -0.0733,
    '_abstain_margin': 1.2356,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 2.1145,
    'count_share': 0.4392,
    'country:count_share': -0.3187,
    'country:first_rank': -0.3188,
    'country:involved': -0.0002,
    'country:lead': -0.0448,
    'country:lead_subject': -0.1872,
    'country:participant': -0.004,
    'country:speaker': -0.0447,
    'cued': -1.4118,
    'first_rank': 0.2859,
    'first_sentence': 0.5416,
    'headline_subject': 0.3848,
    'involved': 1.7317,
    'lead': 0.3169,
    'lead_subject': -0.3258,
    'modifier': 0.2871,
    'null': 2.362,
    'official': -0.5718,
    'organisation:count_share': 0.5105,
    'organisation:first_rank': 0.4483,
    'organisation:headline_subject': -0.1285,
    'organisation:involved': 0.7414,
    'organisation:lead': -0.1935,
    'organisation:lead_subject': -0.0064,
    'organisation:participant': -1.5985,
    'organisation:speaker': -0.0551,
    'organisation:title': 0.4437,
    'participant': 0.5553,
    'person:count_share': 0.2474,
    'person:first_rank': 0.1563,
    'person:headline_subject': 0.5134,
    'person:involved': 0.9905,
    'person:lead': -0.0758,
    'person:lead_subject': -0.1322,
    'person:participant': 2.1578,
    'person:speaker': -1.1676,
    'person:title': -0.3765,
    'place_word': -1.3025,
    'speaker': -1.2673,
    'surname_ref': 0.367,
    'title': 0.0672,
    'type_country': -0.3984,
    'type_organisation': -2.1204,
    'type_person': -0.4742,
    'unnamed': 0.6311,
    'weight': -0.3503,
    'words_1': -0.8853,
    'words_2': -0.84,
    'words_3': -1.2677,
}
WHEN_WEIGHTS: dict[str, float] = {
    'after': -2.6968,
    'background': -0.9105,
    'dateline': 0.6878,
    'day_before': 1.3119,
    'days_before': 1.4083,
    'event_word': 0.3246,
    'explicit': -0.0203,
    'first_sentence': 1.5047,
    'future_word': -0.4704,
    'lead': 0.4889,
    'mentions': 1.2266,
    'published': -0.0235,
    'quoted': -0.593,
    'relative': -0.4427,
    'reporting': -1.0571,
    'span': -0.2663,
    'title': -0.3275,
    'title_plan': 0.0134,
    'update': -0.3038,
    'weekday': 0.1059,
    '_leave_margin': 0.1772,
}
# --- fitted: end ---
