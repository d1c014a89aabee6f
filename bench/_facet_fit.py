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

L2 = 1.0  # penalty on the squared weights (features are 0-1 or log counts)


@dataclass
class Problem:
    """Candidates of many articles: their features, which are right, and which article."""

    features: list[dict[str, float]]
    right: list[bool]
    doc: list[int]  # article number of each candidate (non-decreasing)
    weight: list[float]  # weight of each article (indexed by article number)


def problem(items: Sequence[tuple[Sequence[dict[str, float]], Sequence[bool], str]],
            ) -> Problem:
    """From (candidate features, right flags, corpus) per article, articles without a right
    candidate left out unless "null" is a candidate (it is then the right one)."""
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
        weight.append(1.0 / math.sqrt(sizes[corpus]))
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
