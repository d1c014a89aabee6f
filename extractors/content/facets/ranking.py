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
    'ambiguous': -0.701,
    'area:count_share': 0.9093,
    'area:event': 0.0937,
    'area:lead': 0.1016,
    'area:locative': 0.1011,
    'area:qualifier': 0.0486,
    'area:title': 0.5858,
    'as_container': 0.5744,
    'children': -0.0988,
    'city:count_share': -0.4473,
    'city:dateline': 0.3865,
    'city:event': 0.7591,
    'city:lead': -0.2528,
    'city:locative': 0.126,
    'city:qualifier': 0.6832,
    'city:title': 0.1132,
    'container': 0.3769,
    'count': 0.8602,
    'count_share': 1.3687,
    'country:count_share': 0.5479,
    'country:dateline': 0.2528,
    'country:event': -0.1816,
    'country:lead': -0.4813,
    'country:locative': -0.0477,
    'country:qualifier': -1.0532,
    'country:title': -0.5553,
    'county:count_share': -0.2167,
    'county:dateline': 0.1924,
    'county:event': 0.1873,
    'county:lead': 0.2782,
    'county:locative': 0.1056,
    'county:title': 0.5494,
    'ctx_country': 0.6876,
    'ctx_country_rel': 0.7351,
    'ctx_state': 2.4597,
    'ctx_state_rel': 2.062,
    'dateline': 1.3143,
    'default_sense': 0.097,
    'demonym': 0.5098,
    'event': -0.2301,
    'first_place': -0.2279,
    'first_sentence': 0.9813,
    'future': 0.2128,
    'home_country': 0.3769,
    'home_state': 1.1105,
    'implied': -1.0403,
    'inside_named': 0.5892,
    'kind_area': 0.2234,
    'kind_city': -1.8689,
    'kind_country': 0.3294,
    'kind_county': -1.1472,
    'kind_named': 0.2487,
    'kind_region': -0.439,
    'kind_site': 0.0117,
    'lead': 0.5793,
    'locative': 0.9707,
    'mentions': 0.082,
    'most_named': -0.0904,
    'motion': 0.0451,
    'named:event': 0.1217,
    'named:lead': -0.2486,
    'named:locative': 0.8719,
    'named:title': -0.1685,
    'null': 2.6419,
    'order': 0.1602,
    'person_word': -2.1626,
    'population': 2.5689,
    'population_rel': 0.7654,
    'qualifier': -0.0288,
    'region:count_share': 0.5755,
    'region:dateline': 0.4826,
    'region:event': -0.8803,
    'region:lead': 0.447,
    'region:locative': -0.3868,
    'region:qualifier': 0.2926,
    'region:title': -0.2174,
    'sense_rank': 0.3694,
    'site:event': -0.3301,
    'site:lead': 0.7353,
    'site:locative': 0.2006,
    'site:title': -0.2034,
    'site_unplaced': -1.2336,
    'title': 0.1039,
    'unnamed': 0.6913,
    'weak': -0.3904,
    'weight': 0.0039,
    '_abstain_margin': 1.7124,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 2.2901,
    'count_share': 0.3738,
    'country:count_share': -0.3394,
    'country:first_rank': -0.327,
    'country:involved': -0.0003,
    'country:lead': -0.0424,
    'country:lead_subject': -0.1954,
    'country:participant': -0.0043,
    'country:speaker': -0.0557,
    'cued': -1.2874,
    'first_rank': 0.1537,
    'first_sentence': 0.5233,
    'headline_subject': 0.3639,
    'involved': 1.8078,
    'lead': 0.2351,
    'lead_subject': -0.2602,
    'modifier': -0.3985,
    'null': 2.3258,
    'official': -0.6867,
    'organisation:count_share': 0.6062,
    'organisation:first_rank': 0.1697,
    'organisation:headline_subject': -0.1214,
    'organisation:involved': 1.0944,
    'organisation:lead': -0.34,
    'organisation:lead_subject': 0.0707,
    'organisation:participant': -1.5051,
    'organisation:speaker': 0.4919,
    'organisation:title': 0.3873,
    'participant': 0.5269,
    'person:count_share': 0.107,
    'person:first_rank': 0.3111,
    'person:headline_subject': 0.4854,
    'person:involved': 0.7137,
    'person:lead': 0.0215,
    'person:lead_subject': -0.1356,
    'person:participant': 2.0363,
    'person:speaker': -1.484,
    'person:title': -0.359,
    'place_word': -0.6651,
    'speaker': -1.0478,
    'surname_ref': 0.369,
    'title': 0.0283,
    'type_country': -0.4221,
    'type_organisation': -1.9526,
    'type_person': -0.5472,
    'unnamed': 0.5961,
    'weight': -0.3665,
    'words_1': -0.7987,
    'words_2': -0.7969,
    'words_3': -1.3263,
}
WHEN_WEIGHTS: dict[str, float] = {
    'after': -2.7039,
    'background': -0.9103,
    'dateline': 0.6889,
    'day_before': 1.3139,
    'days_before': 1.4111,
    'event_word': 0.324,
    'explicit': -0.0211,
    'first_sentence': 1.5052,
    'future_word': -0.4264,
    'lead': 0.4885,
    'mentions': 1.2293,
    'published': -0.0211,
    'quoted': -0.5918,
    'relative': -0.4439,
    'reporting': -1.0578,
    'span': -0.2662,
    'title': -0.3279,
    'update': -0.3039,
    'weekday': 0.1058,
    '_leave_margin': 0.175,
}
# --- fitted: end ---
