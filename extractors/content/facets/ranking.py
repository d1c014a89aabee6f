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
    'acting': -0.0968,
    'ambiguous': -0.7742,
    'area:count_share': 0.565,
    'area:event': 0.0474,
    'area:lead': 0.1027,
    'area:locative': 0.0713,
    'area:qualifier': -0.0118,
    'area:title': 0.4145,
    'as_container': 0.2711,
    'children': -0.2023,
    'city:count_share': -0.4509,
    'city:dateline': 0.3389,
    'city:event': 0.6656,
    'city:lead': -0.1524,
    'city:locative': 0.1833,
    'city:qualifier': 1.7136,
    'city:title': 0.1817,
    'container': 0.3187,
    'count': 0.8649,
    'count_share': 0.9628,
    'country:count_share': 0.6707,
    'country:dateline': 0.0602,
    'country:event': -0.1121,
    'country:lead': -0.386,
    'country:locative': -0.004,
    'country:qualifier': -1.1581,
    'country:title': -0.621,
    'county:count_share': -0.1367,
    'county:dateline': 0.3774,
    'county:event': 0.3755,
    'county:lead': 0.1269,
    'county:locative': -0.1012,
    'county:title': 0.3626,
    'ctx_country': 0.6406,
    'ctx_country_rel': 0.8248,
    'ctx_state': 1.9894,
    'ctx_state_rel': 2.2011,
    'dateline': 0.9747,
    'default_sense': 0.1371,
    'demonym': 0.3663,
    'event': -0.2282,
    'first_place': 0.0048,
    'first_sentence': 0.8974,
    'future': 0.0646,
    'home_country': 0.3655,
    'home_state': 1.148,
    'implied': -0.7081,
    'inside_named': 0.3706,
    'kind_area': 0.1139,
    'kind_city': -1.5241,
    'kind_country': 0.0069,
    'kind_county': -0.834,
    'kind_named': 0.1124,
    'kind_region': -0.5691,
    'kind_site': 0.2204,
    'lead': 0.4979,
    'locative': 0.8708,
    'mentions': 0.4002,
    'most_named': -0.0219,
    'motion': -0.0546,
    'named:event': -0.241,
    'named:lead': -0.2992,
    'named:locative': 0.8099,
    'named:title': -0.5771,
    'null': 2.4738,
    'order': 0.0339,
    'person_word': -0.2841,
    'population': 2.2718,
    'population_rel': 0.9942,
    'qualifier': 0.4284,
    'region:count_share': 0.3147,
    'region:dateline': 0.1981,
    'region:event': -0.9969,
    'region:lead': 0.4834,
    'region:locative': -0.2111,
    'region:qualifier': -0.1153,
    'region:title': -0.2903,
    'sense_rank': 0.4539,
    'site:event': 0.0332,
    'site:lead': 0.6224,
    'site:locative': 0.1226,
    'site:title': 0.5414,
    'site_unplaced': -0.8616,
    'source_country': 0.8755,
    'title': 0.0118,
    'title_locative': 0.4166,
    'unnamed': 0.803,
    'weak': -0.3945,
    'weight': -0.1242,
    '_abstain_margin': 0.9526,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 2.1548,
    'count_share': 0.4744,
    'country:count_share': -0.3244,
    'country:first_rank': -0.3231,
    'country:involved': -0.0002,
    'country:lead': -0.0477,
    'country:lead_subject': -0.1979,
    'country:participant': -0.0032,
    'country:speaker': -0.0431,
    'cued': -1.4367,
    'first_rank': 0.2991,
    'first_sentence': 0.5433,
    'headline_subject': 0.3579,
    'involved': 1.521,
    'lead': 0.3394,
    'lead_subject': -0.2421,
    'modifier': 0.2499,
    'null': 2.4119,
    'official': -0.5339,
    'organisation:count_share': 0.5218,
    'organisation:first_rank': 0.4494,
    'organisation:headline_subject': -0.307,
    'organisation:involved': 0.3583,
    'organisation:lead': -0.2577,
    'organisation:lead_subject': 0.1423,
    'organisation:participant': -1.5721,
    'organisation:speaker': -0.0979,
    'organisation:title': 0.5142,
    'participant': 0.5193,
    'person:count_share': 0.2771,
    'person:first_rank': 0.1727,
    'person:headline_subject': 0.6649,
    'person:involved': 1.1629,
    'person:lead': -0.0044,
    'person:lead_subject': -0.1865,
    'person:participant': 2.0946,
    'person:speaker': -1.1693,
    'person:title': -0.4309,
    'place_word': -1.39,
    'speaker': -1.3102,
    'surname_ref': 0.3765,
    'title': 0.0833,
    'type_country': -0.4037,
    'type_organisation': -2.1834,
    'type_person': -0.4741,
    'unnamed': 0.6492,
    'weight': -0.365,
    'words_1': -0.9074,
    'words_2': -0.8961,
    'words_3': -1.2576,
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
