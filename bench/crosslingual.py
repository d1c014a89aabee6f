"""Same event across languages: the pair scorer of extractors.events.crosslingual on the
SemEval-2022 Task 8 dev pairs (../shared/data/multilingual), next to the baselines.

Gold: `overall` <= 1.5 is the same event, >= 2.5 a different one, the rest is left out of F1;
Pearson is taken of the score against -overall over every pair of a group (labelled or not).
Groups: "cross" (two languages), "mono" (one language other than English and Russian: the
pairs the new scorer decides), "en" and "ru" (one language the word scorer was tuned on: the
pairs it keeps deciding).

How the shipped weights were chosen, and how this reports them (the way bench.cluster_quality
reports clustering): a logistic regression (L2 = `L2`) over `crosslingual.FEATURES`, one per
regime, and the threshold with the best F1 over the training pairs' own out-of-fold
probabilities (an inner cross-validation: the probabilities of weights that saw a pair sit
high and pick too high a threshold). Folds: pairs are grouped by their articles (an augmented
pair is a translation of a real pair and shares its articles), so no article sits on both
sides; 5 folds by group, nested: each outer fold is only scored, by weights and a threshold
chosen on the other four (in-fold: the same weights and threshold on their own training
pairs), printed side by side; for the cross-lingual pairs also leave-one-language-pair-out,
and the two-language feature sets compared (`candidate_sets`), each out of fold and chosen
inside each training fold. `--fit` prints the weights fitted on all dev pairs and the
thresholds chosen on all of them (5-fold out-of-fold probabilities), which is what
`crosslingual.WEIGHTS` and `THRESHOLDS` hold.

Baselines in the same run: the character 4-gram cosine of the two texts (the issue's
baseline) with its oracle threshold (best F1 with the answers in hand) and with its threshold
cross-validated on the same folds; newsmon before this scorer (the word scorer on each pair:
`newsmon cluster` of the two articles, as main had it); and the shipped `newsmon cluster
--pairs` over the dev file (in-sample for its weights: the out-of-fold figures are the honest
ones). Facets: for pairs with a non-English side, how well the keys agree with what the
annotators said of geography, entities and time (AUC of shared places / names / dates
against "same" vs "different"; 0.5 is what an unknown facet gives).

Run: .venv/bin/python -m bench.crosslingual [--fit] [--smoke]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import tempfile
import time
from collections import Counter

import numpy as np

from bench import _data
from bench._smoke import add_smoke_flag, smoke_requested

FOLDS = 5
L2 = 0.3  # ridge on the weights: 0.1, 0.3, 1, 3 and 10 compared out of fold (0.1-0.3 best)
GROUPS = ("cross", "mono", "en", "ru")


def group_of(pair: dict) -> str:
    a, b = pair["lang"].split("-")
    if a != b:
        return "cross"
    return a if a in ("en", "ru") else "mono"


# --- metrics and the model -----------------------------------------------------------------


def f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = int(np.sum(predicted & truth))
    fp, fn = int(np.sum(predicted & ~truth)), int(np.sum(~predicted & truth))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def pearson(score: np.ndarray, overall: np.ndarray) -> float:
    if len(score) < 3 or np.std(score) == 0:
        return 0.0
    return float(np.corrcoef(score, -overall)[0, 1])


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float | None = None) -> np.ndarray:
    """Weights [bias, w...] of an L2-regularised logistic regression (Newton's method)."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    ridge = (L2 if l2 is None else l2) * np.diag(np.r_[0.0, np.ones(xb.shape[1] - 1)])
    for _ in range(40):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        gradient = xb.T @ (p - y) + ridge @ w
        hessian = xb.T @ (xb * (p * (1 - p))[:, None]) + ridge
        w -= np.linalg.lstsq(hessian, gradient, rcond=None)[0]
    return w


def best_threshold(score: np.ndarray, truth: np.ndarray) -> float:
    """The threshold with the best F1 (ties: nearest 0.5)."""
    grid = np.round(np.arange(0.02, 0.98, 0.01), 2)
    return float(max(grid, key=lambda t: (f1(score >= t, truth), -abs(t - 0.5))))


def fold_of(pair: dict) -> int:
    return int(hashlib.sha1(pair["group"].encode()).hexdigest(), 16) % FOLDS


# --- systems --------------------------------------------------------------------------------


def char_grams(text: str, n: int = 4) -> Counter[str]:
    folded = " ".join(text.casefold().split())
    return Counter(folded[i : i + n] for i in range(len(folded) - n + 1))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def baseline_scores(pairs: list[dict]) -> np.ndarray:
    """Character 4-gram cosine of title + text (the issue's baseline)."""
    return np.array([
        cosine(char_grams(p["a"]["title"] + " " + p["a"]["text"]),
               char_grams(p["b"]["title"] + " " + p["b"]["text"]))
        for p in pairs
    ])


def before_decisions(pairs: list[dict]) -> np.ndarray:
    """newsmon before this scorer: the word scorer's clustering of each pair alone."""
    from dataclasses import replace

    from extractors.events.cluster_io import article_from_record
    from extractors.events.clustering import cluster

    out = []
    for p in pairs:
        a, b = article_from_record(p["a"]), article_from_record(p["b"])
        # Languages taken away: the word scorer decides, as it did on main.
        a, b = replace(a, language=None), replace(b, language=None)
        events = {m.article_id: m.event_id for m in cluster([a, b]).memberships}
        out.append(events[a.id] == events[b.id])
    return np.array(out)


def features(pairs: list[dict]) -> tuple[np.ndarray, list[dict]]:
    """The scorer's features of every pair (crosslingual.FEATURES order) and the raw
    evidence, from the articles as `newsmon cluster` reads them (facets included)."""
    from extractors.events import crosslingual as xl
    from extractors.events.cluster_io import article_from_record

    sides = {}
    for p in pairs:
        for k in ("a", "b"):
            r = p[k]
            if r["id"] not in sides:
                record = {f: v for f, v in r.items() if f != "article"}
                sides[r["id"]] = xl.side_of(article_from_record(record))
    # Sentence vectors only for articles of two-language pairs, as clustering embeds them.
    crossing = sorted({p[k]["id"] for p in pairs if group_of(p) == "cross" for k in "ab"})
    start = time.perf_counter()
    sides.update(zip(crossing, xl.with_vectors([sides[i] for i in crossing]), strict=True))
    print(f"sentence vectors: {len(crossing)} articles in {time.perf_counter() - start:.1f}s")
    rows, raw = [], []
    for p in pairs:
        result = xl.score_pair(sides[p["a"]["id"]], sides[p["b"]["id"]])
        rows.append([result.features.get(k, 0.0) for k in xl.FEATURES])
        raw.append(result.evidence)
    return np.array(rows, dtype=float), raw


def shipped(pairs: list[dict]) -> tuple[np.ndarray, np.ndarray, float]:
    """`newsmon cluster --pairs` over the pairs, through its public contract: (same_event,
    score, seconds)."""
    from extractors.events.pairs import pairs_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(src, "w", encoding="utf-8") as handle:
            for p in pairs:
                side = {k: {f: v for f, v in p[k].items() if f != "article"} for k in "ab"}
                handle.write(json.dumps({"id": p["id"], **side}, ensure_ascii=False) + "\n")
        start = time.perf_counter()
        if pairs_jsonl(src, out) != 0:
            raise SystemExit("newsmon cluster --pairs failed")
        seconds = time.perf_counter() - start
        with open(out, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
    return (np.array([r["same_event"] for r in rows]), np.array([r["score"] for r in rows]),
            seconds)


# --- reports ----------------------------------------------------------------------------------


def probability_of(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(w[0] + x @ w[1:])))


def out_of_fold_probability(x: np.ndarray, labelled: np.ndarray, truth: np.ndarray,
                            folds: np.ndarray) -> np.ndarray:
    """Each pair's probability from the model fitted on the labelled pairs of the other
    folds."""
    probability = np.zeros(len(x))
    for k in sorted(set(folds.tolist())):
        train, test = (folds != k) & labelled, folds == k
        if truth[train].any():
            probability[test] = probability_of(fit_logistic(x[train], truth[train].astype(float)),
                                               x[test])
    return probability


def chosen_threshold(x: np.ndarray, labelled: np.ndarray, truth: np.ndarray,
                     folds: np.ndarray) -> float:
    """The threshold a model over `x` ships with: the best F1 over the pairs' own
    out-of-fold probabilities (folds as given), never over the probabilities of a model
    that saw the pairs it is judged on (those sit high and pick too high a threshold)."""
    probability = out_of_fold_probability(x, labelled, truth, folds)
    return best_threshold(probability[labelled], truth[labelled])


def cross_validate(x: np.ndarray, labelled: np.ndarray, truth: np.ndarray,
                   folds: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(mean in-fold F1, out-of-fold probability, out-of-fold decision) of the model.
    Nested: each outer fold is only scored, by weights fitted on the other folds and the
    threshold `chosen_threshold` picks from those folds alone (an inner cross-validation
    over them), so the out-of-fold figure is what shipping the procedure gives. In-fold:
    the same weights and threshold on their own training pairs."""
    probability = np.zeros(len(x))
    decision = np.zeros(len(x), bool)
    in_fold = []
    for k in sorted(set(folds.tolist())):
        inside, test = folds != k, folds == k
        train = inside & labelled
        if not truth[train].any():
            continue
        w = fit_logistic(x[train], truth[train].astype(float))
        at = chosen_threshold(x[inside], labelled[inside], truth[inside], folds[inside])
        in_fold.append(f1(probability_of(w, x[train]) >= at, truth[train]))
        probability[test] = probability_of(w, x[test])
        decision[test] = probability[test] >= at
    return float(np.mean(in_fold)) if in_fold else 0.0, probability, decision


def threshold_cv(score: np.ndarray, labelled: np.ndarray, truth: np.ndarray,
                 folds: np.ndarray) -> np.ndarray:
    """Decisions of a single-score baseline whose threshold is chosen on the other folds."""
    decision = np.zeros(len(score), bool)
    for k in sorted(set(folds.tolist())):
        train, test = (folds != k) & labelled, folds == k
        decision[test] = score[test] >= best_threshold(score[train], truth[train])
    return decision


def facet_agreement(pairs: list[dict], raw: list[dict], x: np.ndarray) -> None:
    """Keys against the annotators' geography / entities / time, on pairs with a non-English
    side: AUC of the shared keys for "same" (<= 1.5) against "different" (>= 2.5)."""
    from extractors.events import crosslingual as xl

    col = {k: i for i, k in enumerate(xl.FEATURES)}
    some = [i for i, p in enumerate(pairs) if p["lang"] != "en-en"]
    print("\nfacets of non-English articles vs the annotators (AUC; 0.5 = unknown):")
    for facet, key in (("geography", "places"), ("entities", "names"), ("time", "dates")):
        same = [x[i, col[key]] for i in some if pairs[i][facet] <= 1.5]
        different = [x[i, col[key]] for i in some if pairs[i][facet] >= 2.5]
        value = _auc(np.array(same), np.array(different))
        known = sum(1 for i in some if raw[i][key])
        print(f"facet_{facet}_auc ({key} shared, {len(same)} same / {len(different)} "
              f"different, {known} pairs share one): {value:.3f}")


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if not len(pos) or not len(neg):
        return 0.5
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true",
                        help="print the weights fitted on all dev pairs (crosslingual.WEIGHTS)")
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if skip := _data.missing("multilingual"):
        print(skip)
        return 0
    from extractors.events import crosslingual as xl

    pairs = _data.semeval8()
    if smoke_requested(args):
        pairs = [p for p in pairs if fold_of(p) == 0][:60]
    start = time.perf_counter()
    x, raw = features(pairs)
    print(f"features: {len(pairs)} pairs in {time.perf_counter() - start:.1f}s")
    base = baseline_scores(pairs)
    before = before_decisions(pairs)
    ours_same, ours_score, seconds = shipped(pairs)
    print(f"newsmon_cluster_pairs_seconds ({len(pairs)} pairs): {seconds:.1f}")
    overall = np.array([p["overall"] for p in pairs])
    labelled = np.array([p["same"] is not None for p in pairs])
    truth = np.array([bool(p["same"]) for p in pairs])
    folds = np.array([fold_of(p) for p in pairs])
    groups = np.array([group_of(p) for p in pairs])
    langs = np.array([p["lang"] for p in pairs])

    print(f"\n{'group':6} {'n':>4} {'same':>4} {'system':34} {'F1':>6} {'Pearson':>8}")
    fitted: dict[str, list[float]] = {}
    thresholds: dict[str, float] = {}
    for group in GROUPS:
        m = groups == group
        lm = m & labelled
        if not lm.any():
            continue

        def row(system: str, decision: np.ndarray, score: np.ndarray | None,
                m=m, lm=lm, group=group) -> None:
            value = f1(decision[lm], truth[lm])
            corr = f"{pearson(score[m], overall[m]):8.3f}" if score is not None else f"{'-':>8}"
            print(f"{group:6} {int(lm.sum()):4d} {int(truth[lm].sum()):4d} {system:34} "
                  f"{value:6.3f} {corr}")
            slug = system.split(" (")[0].replace(" ", "_").replace("-", "_")
            print(f"{group}_{slug}_f1: {value:.3f}")

        def model_rows(label: str, key: str, xs: np.ndarray, m=m, lm=lm,
                       group=group) -> None:
            """In-fold and out-of-fold rows of a model over `xs`; its weights fitted on all
            of the group's pairs go to `fitted[key]`."""
            in_fold, probability, decision = cross_validate(xs[m], lm[m], truth[m], folds[m])
            oof = np.zeros(len(pairs))
            oof[m] = probability
            oof_decision = np.zeros(len(pairs), bool)
            oof_decision[m] = decision
            print(f"{group:6} {'':4} {'':4} {label + ', in-fold (mean of 5)':34} {in_fold:6.3f}")
            print(f"{group}_{label.split(',')[0].replace(' ', '_')}_in_fold_f1: {in_fold:.3f}")
            row(f"{label}, out-of-fold", oof_decision, oof)
            print(f"{group}_{label.split(',')[0].replace(' ', '_')}_out_of_fold_pearson: "
                  f"{pearson(oof[m], overall[m]):.3f}")
            fitted[key] = fit_logistic(xs[lm], truth[lm].astype(float)).tolist()
            thresholds[key] = chosen_threshold(xs[m], lm[m], truth[m], folds[m])

        oracle_at = best_threshold(base[lm], truth[lm])
        row(f"4-gram cosine, oracle @{oracle_at:.2f}", base >= oracle_at, base)
        row("4-gram cosine, cross-validated", threshold_cv(base, lm, truth, folds), base)
        row("newsmon before (word scorer)", before, None)
        row("newsmon cluster --pairs (shipped)", ours_same, ours_score)
        if group == "cross":
            meaning = x[:, list(xl.FEATURES).index("meaning")]
            at = best_threshold(meaning[lm], truth[lm])
            row(f"sentence vectors alone, oracle @{at:.2f}", meaning >= at, meaning)
            row("sentence vectors, cross-validated", threshold_cv(meaning, lm, truth, folds),
                meaning)
            keys_only = x[:, : list(xl.FEATURES).index(xl.VECTOR_FEATURES[0])]
            model_rows("keys, no vectors", "cross_keys", keys_only)
        if group in ("cross", "mono"):
            model_rows("scorer", group, x)
            if group == "cross":
                leave_one_out(x, lm, truth, langs, m, folds)
                feature_sets(x, m, lm, truth, folds, overall)
        for lang in sorted(set(langs[m].tolist())):
            lm_lang = lm & (langs == lang)
            print(f"       {lang}: {int(lm_lang.sum())} pairs, shipped F1 "
                  f"{f1(ours_same[lm_lang], truth[lm_lang]):.3f}, 4-gram oracle "
                  f"{f1(base[lm_lang] >= best_threshold(base[lm_lang], truth[lm_lang]), truth[lm_lang]):.3f}")  # noqa: E501
    every = np.ones(len(pairs), bool)
    print(f"all_pairs_shipped_pearson: {pearson(ours_score[every], overall):.3f}")
    print(f"all_pairs_4gram_pearson: {pearson(base, overall):.3f}")
    facet_agreement(pairs, raw, x)
    if args.fit:
        names = ("bias", *xl.FEATURES)
        print("\nWEIGHTS = {")
        for group, key in (("cross", "cross"), ("cross_keys", "cross_keys"), ("mono", "same")):
            if group in fitted:
                body = ", ".join(f'"{n}": {v:.3f}' for n, v in zip(names, fitted[group],
                                                                    strict=False)
                                 if n not in xl.VECTOR_FEATURES or group == "cross")
                print(f'    "{key}": {{{body}}},')
        print("}")
        print("THRESHOLDS = {" + ", ".join(
            f'"{"same" if g == "mono" else g}": {t:.2f}' for g, t in thresholds.items()) + "}")
    return 0


def candidate_sets(x: np.ndarray) -> dict[str, np.ndarray]:
    """The two-language feature sets compared (#27, third pass): the one main had, the
    shipped one (the raw cosine beside its spread `meaning`: a knee at the floor), and two
    other general shapes of the vectors' evidence (convex in the cosine; the cosine where
    names agree)."""
    from extractors.events import crosslingual as xl

    col = {k: i for i, k in enumerate(xl.FEATURES)}
    before = np.delete(x, col["cosine"], axis=1)
    meaning, names = x[:, [col["meaning"]]], x[:, [col["names"]]]
    return {"without cosine (main before)": before, "with cosine (shipped)": x,
            "meaning squared": np.hstack([before, meaning**2]),
            "meaning x names": np.hstack([before, meaning * names])}


def feature_sets(x: np.ndarray, group: np.ndarray, labelled: np.ndarray, truth: np.ndarray,
                 folds: np.ndarray, overall: np.ndarray) -> None:
    """Each candidate feature set out of fold, and the choice among them made inside each
    outer training fold (by its own nested out-of-fold F1), so that the figure pays for the
    choice; the set shipped is the one that choice makes on all pairs."""
    sets = {name: xs[group] for name, xs in candidate_sets(x).items()}
    lm, t, k_of = labelled[group], truth[group], folds[group]

    def nested_f1(xs: np.ndarray, where: np.ndarray) -> float:
        _, _, decision = cross_validate(xs[where], lm[where], t[where], k_of[where])
        return f1(decision[lm[where]], t[where][lm[where]])

    probability, decision, picks = np.zeros(len(lm)), np.zeros(len(lm), bool), []
    for k in sorted(set(k_of.tolist())):
        inside, test = k_of != k, k_of == k
        pick = max(sets, key=lambda name: nested_f1(sets[name], inside))
        picks.append(pick)
        xs, train = sets[pick], inside & lm
        w = fit_logistic(xs[train], t[train].astype(float))
        probability[test] = probability_of(w, xs[test])
        decision[test] = probability[test] >= chosen_threshold(xs[inside], lm[inside],
                                                               t[inside], k_of[inside])
    for name, xs in sets.items():
        in_fold, p, d = cross_validate(xs, lm, t, k_of)
        print(f"cross  {'':4} {'':4} {name[:34]:34} {f1(d[lm], t[lm]):6.3f} "
              f"{pearson(p, overall[group]):8.3f}  (in-fold {in_fold:.3f})")
    value = f1(decision[lm], t[lm])
    print(f"cross  {'':4} {'':4} {'feature set chosen in each fold':34} {value:6.3f} "
          f"{pearson(probability, overall[group]):8.3f}  ({', '.join(picks)})")
    print(f"cross_feature_set_chosen_in_fold_f1: {value:.3f}")
    print(f"cross_feature_set_chosen_in_fold_pearson: {pearson(probability, overall[group]):.3f}")
    everything = np.ones(len(lm), bool)
    print(f"feature set chosen on all pairs: "
          f"{max(sets, key=lambda name: nested_f1(sets[name], everything))}")


def leave_one_out(x: np.ndarray, labelled: np.ndarray, truth: np.ndarray,
                  langs: np.ndarray, cross: np.ndarray, folds: np.ndarray) -> None:
    """Cross-lingual F1 with each language pair scored by a model fitted on the others (its
    threshold chosen on theirs alone, as `cross_validate` does)."""
    decision = np.zeros(len(x), bool)
    for lang in sorted(set(langs[cross].tolist())):
        inside, test = cross & (langs != lang), cross & (langs == lang)
        train = inside & labelled
        w = fit_logistic(x[train], truth[train].astype(float))
        at = chosen_threshold(x[inside], labelled[inside], truth[inside], folds[inside])
        decision[test] = probability_of(w, x[test]) >= at
    value = f1(decision[cross & labelled], truth[cross & labelled])
    print(f"{'cross':6} {'':4} {'':4} {'scorer, leave one language pair out':34} {value:6.3f}")
    print(f"cross_scorer_leave_one_language_pair_out_f1: {value:.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
