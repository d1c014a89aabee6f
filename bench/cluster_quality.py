"""Same-event clustering quality on real labelled corpora: newsmon vs two baselines.

newsmon runs through its public contract (`extractors.events.cluster_io.cluster_jsonl` on a temp
JSON-lines file), so what is measured is what `newsmon cluster` users get. Baselines, with
their threshold swept and only their best F1 kept (an advantage newsmon does not get):
headline-only rapidfuzz (token_set / token_sort, connected components) and datasketch
MinHash LSH on title + text (num_perm=128, word 1- and 3-shingles). The headline baseline is
also shown tuned the way newsmon is: one setting, the best mean F1 over the dev corpora.
On the small pair pools (20-35 labelled pairs) it also prints how much they can tell: a
paired bootstrap interval of newsmon minus the oracle headline baseline, and the headline
baseline with its threshold chosen by cross-validation instead of with the answers.

Story threads (the level above events) are scored the same way from the `story_id` column:
on giveme5w1h, whose gold groups span weeks, that is the level its labels describe. The UCI
headlines are also clustered in four variants (title + text + date as the corpus comes, title
only with and without the date, title + text without the date): a missing date or body must
count neither for nor against a match, so every variant should beat the oracle headline
baseline.

Run: .venv/bin/python -m bench.cluster_quality [--corpora giveme uci en_train ...] [--smoke]
Prints tables and `name: value` lines. `--smoke` runs a few hundred articles in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz, process
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from bench import _data
from bench._smoke import add_smoke_flag, smoke_requested
from extractors.content.text import normalize_for_matching, words

Labels = dict[str, str]


# --- metrics ----------------------------------------------------------------------------


def bcubed(pred: Labels, gold: Labels) -> tuple[float, float, float]:
    """B-cubed precision, recall, F1 over the items that have a gold label."""
    ids = [i for i in gold if gold[i] is not None]
    cell = Counter((pred[i], gold[i]) for i in ids)
    psize, gsize = Counter(pred[i] for i in ids), Counter(gold[i] for i in ids)
    p = sum(cell[(pred[i], gold[i])] / psize[pred[i]] for i in ids) / len(ids)
    r = sum(cell[(pred[i], gold[i])] / gsize[gold[i]] for i in ids) / len(ids)
    return p, r, _f1(p, r)


def pairwise(pred: Labels, gold: Labels) -> tuple[float, float, float]:
    """Precision, recall, F1 of 'same cluster' over all pairs of items."""
    ids = [i for i in gold if gold[i] is not None]

    def pairs(counts: Counter) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    tp = pairs(Counter((pred[i], gold[i]) for i in ids))
    npred, ngold = pairs(Counter(pred[i] for i in ids)), pairs(Counter(gold[i] for i in ids))
    p = tp / npred if npred else 1.0
    r = tp / ngold if ngold else 1.0
    return p, r, _f1(p, r)


def labelled_pairs(pred: Labels, pairs: list[tuple[str, str, bool]]) -> tuple[float, float, float]:
    """Precision, recall, F1 of 'same event' decisions on human-labelled pairs."""
    tp = sum(1 for a, b, same in pairs if same and pred[a] == pred[b])
    fp = sum(1 for a, b, same in pairs if not same and pred[a] == pred[b])
    fn = sum(1 for a, b, same in pairs if same and pred[a] != pred[b])
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, _f1(p, r)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


# --- systems ----------------------------------------------------------------------------


def newsmon(records: list[dict]) -> tuple[Labels, Labels]:
    """Cluster through the public `newsmon cluster` contract and read its output back:
    (article -> event id, article -> story id)."""
    from extractors.events.cluster_io import cluster_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(src, "w", encoding="utf-8") as handle:
            for r in records:
                row = {k: v for k, v in r.items() if k != "label" and v is not None}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        if cluster_jsonl(src, out) != 0:
            raise SystemExit("newsmon cluster failed")
        with open(out, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
    return {r["id"]: r["event_id"] for r in rows}, {r["id"]: r["story_id"] for r in rows}


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = sparse.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def headline_baseline(records: list[dict]) -> Callable[[float, str], Labels]:
    """Connected components of headline pairs scoring >= threshold (all pairs: small corpora)."""
    titles = [normalize_for_matching(r["title"]) for r in records]
    matrices = {
        name: process.cdist(titles, titles, scorer=scorer, workers=-1, dtype=np.uint8)
        for name, scorer in (("token_set", fuzz.token_set_ratio),
                             ("token_sort", fuzz.token_sort_ratio))
    }

    def run(threshold: float, scorer: str) -> Labels:
        left, right = np.nonzero(matrices[scorer] >= threshold)
        comp = _components(len(records), left, right)
        return {r["id"]: str(c) for r, c in zip(records, comp, strict=True)}

    return run


def minhash_baseline(records: list[dict]) -> Callable[[float, int], Labels]:
    """Connected components of MinHash LSH matches on title + text word shingles."""
    tokens = [words(r["title"] + " " + r["text"]) for r in records]
    sketches: dict[int, list[MinHash]] = {}
    for k in (1, 3):
        sketches[k] = []
        for t in tokens:
            grams = {" ".join(t[i : i + k]) for i in range(max(1, len(t) - k + 1))}
            m = MinHash(num_perm=128, seed=1)
            m.update_batch([g.encode("utf-8") for g in grams])
            sketches[k].append(m)

    def run(threshold: float, k: int) -> Labels:
        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        for i, m in enumerate(sketches[k]):
            lsh.insert(i, m)
        left, right = [], []
        for i, m in enumerate(sketches[k]):
            for j in lsh.query(m):
                left.append(i)
                right.append(j)
        comp = _components(len(records), np.array(left, int), np.array(right, int))
        return {r["id"]: str(c) for r, c in zip(records, comp, strict=True)}

    return run


def _best(run: Callable, grid: list[tuple], score: Callable[[Labels], tuple]) -> tuple:
    """The grid point with the best F1 (last element of the score tuple)."""
    return max(((score(run(*g)), g) for g in grid), key=lambda x: x[0][-1])


# --- corpora ----------------------------------------------------------------------------


def corpora(
    names: list[str], smoke: bool = False
) -> list[tuple[str, list[dict], list | None, bool]]:
    """(name, records, labelled pairs or None, evaluation-only?) per requested corpus.
    `smoke`: only the first gold groups of the clustered corpora (a few hundred articles)."""
    out = []
    for name in names:
        if name == "giveme":
            out.append(("giveme5w1h", _first_groups(_data.giveme5w1h(), 15 if smoke else 0),
                        None, False))
        elif name == "uci":
            out.append(("uci_headlines", _first_groups(_data.uci_headlines(), 6 if smoke else 0),
                        None, False))
        elif name == "pac":
            out.append(("pac_partisan*", _first_groups(_data.pac_partisan(), 30 if smoke else 0),
                        None, True))
        else:
            records, pairs = _data.pair_pool(name + "_pool")
            out.append((name, records, pairs, name == "ru_exam"))
    return out


def _first_groups(records: list[dict], groups: int) -> list[dict]:
    """The records of the first `groups` gold labels (all records when 0)."""
    if not groups:
        return records
    keep = set(sorted({r["label"] for r in records})[:groups])
    return [r for r in records if r["label"] in keep]


def uci_variants(records: list[dict]) -> list[tuple[str, list[dict]]]:
    """The UCI headlines as they come (title + text + date) and with the text or the date
    taken away: newsmon must not read a missing date or body as evidence."""
    return [
        ("title+text+date", records),
        ("title+date", [{**r, "text": ""} for r in records]),
        ("title", [{**r, "text": "", "published": None} for r in records]),
        ("title+text", [{**r, "published": None} for r in records]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+",
                        default=["giveme", "uci", "en_train", "ru_train", "ru_exam", "pac"])
    add_smoke_flag(parser)  # a few hundred articles per corpus, in seconds
    args = parser.parse_args(argv)
    args.smoke = smoke_requested(args)
    if skip := _data.missing("clusters", "pairs"):
        print(skip)
        return 0
    rows = []
    story_rows = []
    head_grids: dict[str, dict[tuple, tuple]] = {}  # corpus -> headline grid point -> scores
    head_grid = [(t, s) for s in ("token_set", "token_sort") for t in range(40, 100, 5)]
    pools: list[tuple[str, list, Labels, dict[tuple, Labels]]] = []
    lsh_grid = [(t / 100, k) for k in (1, 3) for t in range(10, 95, 5)]
    uci_records: list[dict] = []
    for name, records, pairs, held_out in corpora(args.corpora, args.smoke):
        gold = {r["id"]: r["label"] for r in records}

        def score(pred: Labels, gold=gold, pairs=pairs) -> tuple:
            if pairs is not None:
                return (None, None, None) + labelled_pairs(pred, pairs)
            return bcubed(pred, gold) + pairwise(pred, gold)

        start = time.perf_counter()
        ours_labels, story_labels = newsmon(records)
        ours = score(ours_labels)
        seconds = time.perf_counter() - start
        story_rows.append((name, len(records), ours, score(story_labels), len(set(
            story_labels.values())), len(set(ours_labels.values()))))
        if name == "uci_headlines":
            uci_records = records
        head_run = headline_baseline(records)
        head_all = {g: score(head_run(*g)) for g in head_grid}
        head_at = max(head_all, key=lambda g: head_all[g][-1])
        head = head_all[head_at]
        lsh, lsh_at = _best(minhash_baseline(records), lsh_grid, score)
        rows.append((name, len(records), ours, head, head_at, lsh, lsh_at, seconds, held_out))
        head_grids[name] = head_all
        if pairs is not None:
            pools.append((name, pairs, ours_labels, {g: head_run(*g) for g in head_grid}))
        print(f"done {name} in {seconds:.1f}s", file=sys.stderr)

    def fmt(x: float | None) -> str:
        return "  -  " if x is None else f"{x:.3f}"

    print(f"{'corpus':15} {'n':>5} {'system':22} {'B3-P':>6} {'B3-R':>6} {'B3-F1':>6} "
          f"{'pw-P':>6} {'pw-R':>6} {'pw-F1':>6}")
    for name, n, ours, head, head_at, lsh, lsh_at, _, _ in rows:
        for system, m in (("newsmon", ours), (f"headline {head_at[1]}@{head_at[0]}", head),
                          (f"minhash k={lsh_at[1]}@{lsh_at[0]:.2f}", lsh)):
            print(f"{name:15} {n:5d} {system:22} " + " ".join(f"{fmt(x):>6}" for x in m))
    print("(* evaluation only, never tuned on; ru_exam likewise. F1 on labelled pairs for pools)")
    wins = True
    for name, _, ours, head, _, lsh, _, seconds, _ in rows:
        slug = name.rstrip("*")
        print(f"{slug}_newsmon_f1: {_key_f1(ours):.3f}")
        print(f"{slug}_headline_best_f1: {_key_f1(head):.3f}")
        print(f"{slug}_minhash_best_f1: {_key_f1(lsh):.3f}")
        print(f"{slug}_newsmon_seconds: {seconds:.1f}")
        wins &= _key_f1(ours) > max(_key_f1(head), _key_f1(lsh))
    print(f"newsmon_beats_both_everywhere: {wins}")
    dev_tuned = print_dev_tuned_headline(rows, head_grids, head_grid)
    for name, pairs, ours_labels, head_labels in pools:
        print_pool_uncertainty(name, pairs, ours_labels, head_labels, head_grid)
    print_story_level(story_rows)
    if uci_records:
        head = next(row[3] for row in rows if row[0] == "uci_headlines")
        print_uci_variants(uci_records, _key_f1(head), dev_tuned.get("uci_headlines"))
    print_day_by_day([(name, records) for name, records, _, _ in corpora(args.corpora,
                                                                          args.smoke)
                      if name in ("giveme5w1h", "pac_partisan*")])
    return 0


def print_day_by_day(dated: list[tuple[str, list[dict]]]) -> None:
    """The dated corpora as the monitor flow clusters them: articles arriving one
    publication day at a time, matched against the index (extractors/events/incremental.py,
    term statistics of the last 7 days). Incremental clustering equals clustering the
    index's articles at once (checked here and in tests/test_incremental_clustering.py); it
    differs from the batch figures above only by term rarity, which an article takes from
    the days before its arrival, not from the whole corpus. Stories are placed as the flow
    places them (each day's events decided again, against the events stored before), with
    the number of events decided again over the replay: what each day costs."""
    from collections import defaultdict

    from extractors.events.cluster_io import article_from_record
    from extractors.events.clustering import DEFAULT_SETTINGS
    from extractors.events.incremental import MemoryIndex
    from extractors.events.stories import build_stories

    print("\nday by day (the monitor flow's incremental clustering):")
    for name, records in dated:
        slug = name.rstrip("*")
        gold = {r["id"]: r["label"] for r in records}
        by_day = defaultdict(list)
        for r in records:
            a = article_from_record({k: v for k, v in r.items() if k != "label"})
            by_day[a.published_at.date() if a.published_at else None].append(a)
        index = MemoryIndex(DEFAULT_SETTINGS, window_days=7)
        placed: dict = {}  # event id -> Event, as stored
        story_of: dict[str, str] = {}
        decided = 0
        for day in sorted(by_day, key=lambda d: (d is None, d)):
            change = index.add(by_day[day], day=day)
            # Stories as the flow places them: the events decided again, against the others.
            replaced = set(change.events_before.values())
            previous = {a: story_of[e] for a, e in change.events_before.items() if e in story_of}
            stories = build_stories(change.result.events,
                                    [e for i, e in placed.items() if i not in replaced],
                                    story_of, previous)
            decided += len(change.result.events)
            for i in replaced:
                placed.pop(i, None)
            placed.update((e.id, e) for e in change.result.events)
            story_of = {i: sid for i, sid in story_of.items() if i in placed}
            story_of.update(stories.story_of)
        held = {m.article_id: m.event_id for m in index.result().memberships}
        full = {m.article_id: m.event_id for m in index.full().memberships}
        print(f"{slug}_day_by_day_f1: {bcubed(held, gold)[2]:.3f}")
        print(f"{slug}_day_by_day_equals_full_reclustering: {held == full}")
        print(f"{slug}_day_by_day_story_f1: "
              f"{bcubed({a: story_of[e] for a, e in held.items()}, gold)[2]:.3f}")
        print(f"{slug}_day_by_day_events_decided: {decided}")


def print_story_level(story_rows: list[tuple]) -> None:
    """Story threads against the same gold: on giveme5w1h (gold groups spanning weeks) that
    is the level the labels describe; elsewhere it shows what joining events costs."""
    print(f"\n{'corpus':15} {'n':>5} {'level':7} {'groups':>6} {'B3-P':>6} {'B3-R':>6} "
          f"{'B3-F1':>6} (F1 on labelled pairs for pools)")
    for name, n, event, story, n_stories, n_events in story_rows:
        for level, m, groups in (("event", event, n_events), ("story", story, n_stories)):
            cells = (m[0], m[1], m[2]) if m[2] is not None else (m[3], m[4], m[5])
            print(f"{name:15} {n:5d} {level:7} {groups:6d} "
                  + " ".join(f"{x:6.3f}" for x in cells))
    for name, _, event, story, _, _ in story_rows:
        slug = name.rstrip("*")
        print(f"{slug}_story_f1: {_key_f1(story):.3f}")
        if event[0] is not None:
            print(f"{slug}_event_b3_precision: {event[0]:.3f}")
    giveme = next((r for r in story_rows if r[0] == "giveme5w1h"), None)
    if giveme is not None:
        met = _key_f1(giveme[3]) >= 0.90 and giveme[2][0] >= 0.95
        print(f"giveme5w1h_story_target_met (story F1 >= 0.90, event P >= 0.95): {met}")


def print_uci_variants(records: list[dict], oracle: float, dev_tuned: float | None) -> None:
    """newsmon on the UCI headlines with the text or the date taken away, against the
    headline baseline (which reads titles only, so one figure serves every variant)."""
    gold = {r["id"]: r["label"] for r in records}
    print(f"\n{'UCI variant':16} {'B3-P':>6} {'B3-R':>6} {'B3-F1':>6} {'vs oracle':>9} "
          f"{'vs dev-tuned':>12}")
    beats = True
    for variant, rows in uci_variants(records):
        p, r, f = bcubed(newsmon(rows)[0], gold)
        tuned = f"{f - dev_tuned:+12.3f}" if dev_tuned is not None else f"{'-':>12}"
        print(f"{variant:16} {p:6.3f} {r:6.3f} {f:6.3f} {f - oracle:+9.3f} {tuned}")
        slug = variant.replace("+", "_")
        print(f"uci_{slug}_newsmon_f1: {f:.3f}")
        beats &= f > oracle
        if variant == "title+date":
            print(f"uci_title_dated_margin_over_oracle_headline: {f - oracle:+.3f}")
    print(f"uci_headline_oracle_f1: {oracle:.3f}")
    print(f"uci_every_variant_beats_oracle_headline: {beats}")


def _key_f1(scores: tuple) -> float:
    """B-cubed F1 where defined, else F1 on the labelled pairs."""
    return scores[2] if scores[2] is not None else scores[5]


def print_dev_tuned_headline(
    rows: list[tuple], head_grids: dict, grid: list[tuple]
) -> dict[str, float]:
    """The headline baseline tuned the way newsmon is: one setting for every corpus, the one
    with the best mean F1 over the dev corpora, then measured everywhere. Returns its F1 by
    corpus."""
    dev = [row[0] for row in rows if not row[8] and not row[0].endswith("*")]
    if not dev:
        return {}
    at = max(grid, key=lambda g: sum(_key_f1(head_grids[name][g]) for name in dev))
    print(f"headline_dev_tuned_setting: {at[1]}@{at[0]}")
    wins = True
    scores = {}
    for name, _, ours, *_ in rows:
        theirs = scores[name] = _key_f1(head_grids[name][at])
        print(f"{name.rstrip('*')}_headline_dev_tuned_f1: {theirs:.3f}")
        wins &= _key_f1(ours) > theirs
    print(f"newsmon_beats_dev_tuned_headline_everywhere: {wins}")
    return scores


# --- uncertainty on the small pair pools -------------------------------------------------


def _same(labels: Labels, pairs: list[tuple[str, str, bool]]) -> np.ndarray:
    return np.array([labels[a] == labels[b] for a, b, _ in pairs])


def _pair_f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = int(np.sum(predicted & truth))
    fp, fn = int(np.sum(predicted & ~truth)), int(np.sum(~predicted & truth))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def print_pool_uncertainty(
    name: str,
    pairs: list[tuple[str, str, bool]],
    ours: Labels,
    head: dict[tuple, Labels],
    grid: list[tuple],
    draws: int = 2000,
    folds: int = 5,
    repeats: int = 50,
) -> None:
    """How much a pool of 20-35 pairs can tell: (1) a paired bootstrap over the labelled pairs
    of newsmon's F1 minus the oracle headline's (its threshold fixed where it scored best on
    the whole pool); (2) the headline baseline with its threshold picked by cross-validation
    (chosen on 4/5 of the pairs, scored on the other 1/5), which removes the oracle's benefit
    of choosing among 24 settings with the answers in hand."""
    truth = np.array([same for *_, same in pairs])
    ours_same = _same(ours, pairs)
    head_same = {g: _same(head[g], pairs) for g in grid}
    oracle = max(grid, key=lambda g: _pair_f1(head_same[g], truth))
    rng = np.random.default_rng(7)
    diffs = []
    for _ in range(draws):
        pick = rng.integers(0, len(pairs), len(pairs))
        diffs.append(_pair_f1(ours_same[pick], truth[pick])
                     - _pair_f1(head_same[oracle][pick], truth[pick]))
    low, high = np.percentile(diffs, [2.5, 97.5])
    print(f"{name}_newsmon_minus_headline_best_f1_ci95: {low:+.3f} {high:+.3f}")
    print(f"{name}_newsmon_at_least_headline_best_share: {np.mean(np.array(diffs) >= 0):.2f}")
    scores = []
    for _ in range(repeats):
        fold_of = rng.permutation(len(pairs)) % folds
        predicted = np.zeros(len(pairs), bool)
        for k in range(folds):
            train, test = fold_of != k, fold_of == k
            at = max(grid, key=lambda g: _pair_f1(head_same[g][train], truth[train]))
            predicted[test] = head_same[at][test]
        scores.append(_pair_f1(predicted, truth))
    print(f"{name}_headline_cv_f1: {np.mean(scores):.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
