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
    'acting': -0.1328,
    'ambiguous': -0.7428,
    'area:count_share': 0.6173,
    'area:event': 0.102,
    'area:lead': 0.1523,
    'area:locative': 0.0814,
    'area:qualifier': -0.0402,
    'area:title': 0.5048,
    'as_container': 0.3873,
    'children': -0.1816,
    'city:count_share': -0.4917,
    'city:dateline': 0.3717,
    'city:event': 0.5861,
    'city:lead': -0.1036,
    'city:locative': 0.2099,
    'city:qualifier': 1.389,
    'city:title': 0.1695,
    'container': 0.4754,
    'count': 0.7485,
    'count_share': 0.9849,
    'country:count_share': 0.647,
    'country:dateline': 0.0626,
    'country:event': -0.1569,
    'country:lead': -0.3983,
    'country:locative': -0.0182,
    'country:qualifier': -1.0806,
    'country:title': -0.5477,
    'county:count_share': -0.0773,
    'county:dateline': 0.3989,
    'county:event': 0.35,
    'county:lead': 0.0842,
    'county:locative': -0.1948,
    'county:qualifier': 0.0946,
    'county:title': 0.1804,
    'ctx_country': 0.6163,
    'ctx_country_rel': 0.9277,
    'ctx_state': 1.5674,
    'ctx_state_rel': 2.2808,
    'dateline': 0.9473,
    'default_sense': 0.3216,
    'demonym': 0.2995,
    'event': -0.1945,
    'first_place': -0.0531,
    'first_sentence': 0.6838,
    'future': 0.1168,
    'home_country': 0.2297,
    'home_state': 1.1891,
    'implied': -0.6327,
    'inside_named': 0.4191,
    'kind_area': 0.0927,
    'kind_city': -1.6082,
    'kind_country': -0.0183,
    'kind_county': -0.8,
    'kind_named': 0.1446,
    'kind_region': -0.5736,
    'kind_site': 0.2099,
    'lead': 0.5013,
    'locative': 0.8052,
    'mentions': 0.4664,
    'most_named': -0.0559,
    'motion': -0.1301,
    'named:event': -0.204,
    'named:lead': -0.315,
    'named:locative': 0.8511,
    'named:title': -0.5186,
    'null': 2.5528,
    'order': 0.1048,
    'outlet_only': -0.7015,
    'person_word': -0.3484,
    'population': 2.1795,
    'population_rel': 0.9343,
    'qualifier': 0.3661,
    'region:count_share': 0.2896,
    'region:dateline': 0.1141,
    'region:event': -1.0296,
    'region:lead': 0.464,
    'region:locative': -0.2706,
    'region:qualifier': 0.0033,
    'region:title': -0.4199,
    'sense_rank': 0.4491,
    'site:event': 0.158,
    'site:lead': 0.6177,
    'site:locative': 0.1463,
    'site:title': 0.6541,
    'site_unplaced': -0.4696,
    'source_country': 0.8782,
    'title': 0.0226,
    'title_locative': 0.5132,
    'unnamed': 0.6861,
    'url_near': 0.9093,
    'url_state': 1.6742,
    'weak': -0.4441,
    'weight': -0.0004,
    '_abstain_margin': 1.1463,
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
