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
    'acting': 0.0063,
    'ambiguous': -0.6856,
    'area:count_share': 0.8403,
    'area:event': -0.0005,
    'area:lead': 0.1473,
    'area:locative': 0.055,
    'area:qualifier': -0.0605,
    'area:title': 0.6715,
    'as_container': 0.4968,
    'children': -0.1014,
    'city:count_share': -0.6448,
    'city:dateline': 0.3411,
    'city:event': 0.6765,
    'city:lead': -0.1959,
    'city:locative': 0.1408,
    'city:qualifier': 1.5014,
    'city:title': 0.0419,
    'container': 0.4068,
    'count': 0.878,
    'count_share': 1.2374,
    'country:count_share': 0.6928,
    'country:dateline': 0.0977,
    'country:event': -0.0674,
    'country:lead': -0.4342,
    'country:locative': -0.1023,
    'country:qualifier': -1.1678,
    'country:title': -0.5085,
    'county:count_share': -0.1435,
    'county:dateline': 0.2493,
    'county:event': 0.1755,
    'county:lead': 0.2185,
    'county:locative': -0.0214,
    'county:title': 0.3824,
    'ctx_country': 0.6144,
    'ctx_country_rel': 0.8711,
    'ctx_state': 2.0893,
    'ctx_state_rel': 2.3038,
    'dateline': 1.1314,
    'default_sense': 0.1054,
    'demonym': 0.2356,
    'event': -0.2331,
    'first_place': -0.022,
    'first_sentence': 0.9161,
    'future': 0.2363,
    'home_country': 0.3692,
    'home_state': 1.12,
    'implied': -0.8161,
    'inside_named': 0.3631,
    'kind_area': 0.303,
    'kind_city': -1.6938,
    'kind_country': 0.095,
    'kind_county': -1.1448,
    'kind_named': 0.0223,
    'kind_region': -0.4629,
    'kind_site': 0.1797,
    'lead': 0.4965,
    'locative': 0.8569,
    'mentions': 0.3349,
    'most_named': 0.0794,
    'motion': -0.0265,
    'named:event': -0.217,
    'named:lead': -0.315,
    'named:locative': 0.9483,
    'named:title': -0.5913,
    'null': 2.7015,
    'order': 0.0273,
    'person_word': -0.4512,
    'population': 2.6492,
    'population_rel': 0.6841,
    'qualifier': 0.3422,
    'region:count_share': 0.4926,
    'region:dateline': 0.4433,
    'region:event': -1.0091,
    'region:lead': 0.4465,
    'region:locative': -0.3326,
    'region:qualifier': 0.0691,
    'region:title': -0.4813,
    'sense_rank': 0.337,
    'site:event': 0.2088,
    'site:lead': 0.6294,
    'site:locative': 0.1691,
    'site:title': 0.5135,
    'site_unplaced': -0.6267,
    'source_country': 0.8643,
    'title': 0.0281,
    'title_locative': 0.3743,
    'unnamed': 0.8595,
    'weak': -0.3493,
    'weight': -0.055,
    '_abstain_margin': 0.9983,
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
