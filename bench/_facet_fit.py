"""Fitting the facet rankers: a conditional logit over each article's candidates.

Each article offers candidates (places, actors, days), each described by named features
(extractors/content/facets: places.py, actors.py, dates.py); the gold marks which are right.
The model scores a candidate by a weighted sum of its features and is fitted to put the
probability mass of each article on its right candidates: the loss is, per article,
log-sum-exp over all candidates minus log-sum-exp over the right ones, plus an L2 penalty.
Articles where no candidate is right teach "no place" / "nobody" where those are candidates
and are left out otherwise. Corpora weigh by the square root of their size, so the large
Gun Violence set does not drown the others and the small ones do not dominate.

scipy's L-BFGS does the fitting here, in the benchmark; the package only holds the weights
(a dict per facet in extractors/content/facets/ranking.py) and scores with plain sums.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

POWER = 0.5
L2 = 0.1  # penalty on the squared weights (features are 0-1 or log counts)


@dataclass
class Problem:
    """Candidates of many articles: their features, which are right, and which article."""

    features: list[dict[str, float]]
    right: list[bool]
    doc: list[int]  # article number of each candidate (non-decreasing)
    weight: list[float]  # weight of each article (indexed by article number)


def problem(items: Sequence[tuple[Sequence[dict[str, float]], Sequence[bool], str]],
            power: float | None = None, corpus_weight: dict[str, float] | None = None
            ) -> Problem:
    """From (candidate features, right flags, corpus) per article, articles without a right
    candidate left out unless "null" is a candidate (it is then the right one).
    `corpus_weight`: a factor on the weight of each article of a corpus (default 1)."""
    sizes = Counter(corpus for _, _, corpus in items)
    feats: list[dict[str, float]] = []
    right: list[bool] = []
    doc: list[int] = []
    weight: list[float] = []
    for cand_feats, flags, corpus in items:
        flags = list(flags)
        if not any(flags):
            nulls = [i for i, f in enumerate(cand_feats) if f.get("null")]
            if not nulls:
                continue
            flags = [i in nulls for i in range(len(flags))]
        if len(flags) < 2:
            continue  # nothing to choose between
        d = len(weight)
        weight.append((corpus_weight or {}).get(corpus, 1.0)
                      / sizes[corpus] ** (POWER if power is None else power))
        feats.extend(cand_feats)
        right.extend(flags)
        doc.extend([d] * len(flags))
    return Problem(feats, right, doc, weight)


def fit(prob: Problem, l2: float = L2) -> dict[str, float]:
    """The weights minimising the conditional log loss plus l2 * |w|^2 / 2."""
    if not prob.features:
        return {}
    names = sorted({k for f in prob.features for k in f})
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros((len(prob.features), len(names)))
    for row, f in enumerate(prob.features):
        for k, v in f.items():
            x[row, index[k]] = v
    y = np.asarray(prob.right, dtype=bool)
    doc = np.asarray(prob.doc)
    starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    doc_w = np.asarray(prob.weight)[doc[starts]]
    group = np.searchsorted(starts, np.arange(len(doc)), side="right") - 1  # row -> article
    cand_w = doc_w[group]
    scale = doc_w.sum()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[group])
        all_sum = np.add.reduceat(e, starts)
        s_pos = np.where(y, s, -np.inf)
        top_pos = np.maximum.reduceat(s_pos, starts)
        e_pos = np.exp(s_pos - top_pos[group])
        pos_sum = np.add.reduceat(e_pos, starts)
        per_doc = (np.log(all_sum) + top) - (np.log(pos_sum) + top_pos)
        p = e / all_sum[group]
        q = e_pos / pos_sum[group]
        grad = x.T @ ((p - q) * cand_w)
        value = (float(per_doc @ doc_w) + 0.5 * l2 * float(w @ w)) / scale
        return value, grad / scale + l2 * w / scale

    result = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B",
                      options={"maxiter": 500})
    return {n: round(float(v), 4) for n, v in zip(names, result.x, strict=True)
            if abs(v) >= 1e-4}


WRONG_COST = 0.5  # a wrong place costs half a right one when choosing to answer "no place"


def _score(features: dict[str, float], weights: dict[str, float]) -> float:
    return sum(weights.get(k, 0.0) * v for k, v in features.items())


def abstain_margin(items: Sequence[tuple[Sequence[dict[str, float]], Sequence[bool]]],
                   weights: dict[str, float], wrong_cost: float = WRONG_COST) -> float:
    """The margin by which "no place" must outscore the best place before no place is
    answered: the one maximising right answers - wrong_cost * wrong answers."""
    gaps = []
    for feats, right in items:
        scores = [_score(f, weights) for f in feats]
        nulls = [s for f, s in zip(feats, scores, strict=True) if f.get("null")]
        named = [(s, r) for f, s, r in zip(feats, scores, right, strict=True) if not f.get("null")]
        if not named:
            continue
        best, ok = max(named, key=lambda sr: sr[0])
        gaps.append(((nulls[0] if nulls else -math.inf) - best, ok))
    gaps.sort()
    # Answer when gap <= margin: try each gap as the margin (and never abstaining).
    utility = sum((1.0 if ok else -wrong_cost) for _, ok in gaps)  # margin = +inf
    best_margin, best_utility = math.inf, utility
    for gap, ok in reversed(gaps):
        utility -= 1.0 if ok else -wrong_cost  # this one now abstains
        if utility > best_utility + 1e-9:
            best_margin, best_utility = gap - 1e-6, utility
    return round(best_margin, 4) if best_margin != math.inf else 1e9


def leave_margin(items: Sequence[tuple[Sequence[dict[str, float]], Sequence[bool]]],
                 weights: dict[str, float]) -> float:
    """How much another day must outscore the publication day to be the event date: the
    smallest margin with the most right days (the publication day wins ties)."""
    cases = []
    for feats, right in items:
        scores = [_score(f, weights) for f in feats]
        pub = [i for i, f in enumerate(feats) if f.get("published")]
        if not pub:
            continue
        top = max(range(len(feats)), key=lambda i: scores[i])
        if top == pub[0]:
            continue
        cases.append((scores[top] - scores[pub[0]], bool(right[top]), bool(right[pub[0]])))
    cases.sort()
    # With margin m, a case leaves the publication day when gap > m.
    hits = sum(moved for _, moved, _ in cases)  # m = -inf: every case moves
    best_margin, best_hits = 0.0, None
    for gap, moved, stayed in [(-math.inf, False, False), *cases]:
        if gap != -math.inf:
            hits += stayed - moved  # this case (and those below) now stays
        if best_hits is None or hits > best_hits:
            best_margin, best_hits = max(gap, 0.0), hits
    return round(best_margin, 4)
