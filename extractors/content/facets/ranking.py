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
    'ambiguous': -0.7,
    'area:count_share': 0.9402,
    'area:event': 0.0606,
    'area:lead': 0.1182,
    'area:locative': 0.0353,
    'area:qualifier': 0.0004,
    'area:title': 0.6709,
    'as_container': 0.7476,
    'children': -0.0987,
    'city:count_share': -0.4805,
    'city:dateline': 0.3699,
    'city:event': 0.7532,
    'city:lead': -0.2602,
    'city:locative': 0.132,
    'city:qualifier': 0.8096,
    'city:title': 0.0734,
    'container': 0.4554,
    'count': 0.8291,
    'count_share': 1.4251,
    'country:count_share': 0.6082,
    'country:dateline': 0.2222,
    'country:event': -0.1393,
    'country:lead': -0.5959,
    'country:locative': 0.0055,
    'country:qualifier': -1.0499,
    'country:title': -0.3091,
    'county:count_share': -0.2715,
    'county:dateline': 0.1986,
    'county:event': 0.2331,
    'county:lead': 0.2845,
    'county:locative': 0.0956,
    'county:title': 0.499,
    'ctx_country': 0.673,
    'ctx_country_rel': 0.599,
    'ctx_state': 2.4303,
    'ctx_state_rel': 2.1127,
    'dateline': 1.2758,
    'default_sense': 0.1064,
    'demonym': 0.4271,
    'event': -0.2437,
    'first_place': -0.1894,
    'first_sentence': 0.8779,
    'future': 0.2526,
    'home_country': 0.3475,
    'home_state': 1.0991,
    'implied': -0.9933,
    'inside_named': 0.5314,
    'kind_area': 0.32,
    'kind_city': -1.8017,
    'kind_country': 0.3045,
    'kind_county': -1.1282,
    'kind_named': 0.1211,
    'kind_region': -0.4646,
    'kind_site': 0.0076,
    'lead': 0.6083,
    'locative': 0.9628,
    'mentions': 0.1731,
    'most_named': -0.1426,
    'motion': 0.0307,
    'named:event': 0.1556,
    'named:lead': -0.2129,
    'named:locative': 0.896,
    'named:title': -0.1988,
    'null': 2.6414,
    'order': 0.0868,
    'person_word': -1.7136,
    'population': 2.6405,
    'population_rel': 0.711,
    'qualifier': 0.0574,
    'region:count_share': 0.6288,
    'region:dateline': 0.4851,
    'region:event': -0.9042,
    'region:lead': 0.5034,
    'region:locative': -0.3905,
    'region:qualifier': 0.2973,
    'region:title': -0.3014,
    'sense_rank': 0.3553,
    'site:event': -0.4028,
    'site:lead': 0.7712,
    'site:locative': 0.1888,
    'site:title': -0.213,
    'site_unplaced': -1.19,
    'source_country': 0.8915,
    'title': 0.221,
    'unnamed': 0.7152,
    'weak': -0.4235,
    'weight': -0.0246,
    '_abstain_margin': 1.3711,
}
WHO_WEIGHTS: dict[str, float] = {
    'count': 2.1175,
    'count_share': 0.4103,
    'country:count_share': -0.3221,
    'country:first_rank': -0.3214,
    'country:involved': -0.0002,
    'country:lead': -0.0455,
    'country:lead_subject': -0.188,
    'country:participant': -0.0039,
    'country:speaker': -0.0459,
    'cued': -1.3879,
    'first_rank': 0.2802,
    'first_sentence': 0.5202,
    'headline_subject': 0.3419,
    'involved': 1.7666,
    'lead': 0.3193,
    'lead_subject': -0.3315,
    'modifier': -0.4972,
    'null': 2.3812,
    'official': -0.5891,
    'organisation:count_share': 0.5347,
    'organisation:first_rank': 0.4446,
    'organisation:headline_subject': -0.0875,
    'organisation:involved': 0.7132,
    'organisation:lead': -0.2287,
    'organisation:lead_subject': -0.0011,
    'organisation:participant': -1.5705,
    'organisation:speaker': -0.0389,
    'organisation:title': 0.3858,
    'participant': 0.5415,
    'person:count_share': 0.1977,
    'person:first_rank': 0.157,
    'person:headline_subject': 0.4294,
    'person:involved': 1.0536,
    'person:lead': -0.0665,
    'person:lead_subject': -0.1424,
    'person:participant': 2.1159,
    'person:speaker': -1.1832,
    'person:title': -0.2949,
    'place_word': -1.2866,
    'speaker': -1.268,
    'surname_ref': 0.3932,
    'title': 0.0909,
    'type_country': -0.4023,
    'type_organisation': -2.1688,
    'type_person': -0.4702,
    'unnamed': 0.66,
    'weight': -0.258,
    'words_1': -0.8946,
    'words_2': -0.8776,
    'words_3': -1.269,
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
