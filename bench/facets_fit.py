"""Fit the facet rankers' weights on the development corpora, fold by fold, then on all.

For each of the grouped folds (GVA by incident, Giveme5W1H by story, the other corpora by
document; the folds of bench/facets.py) the where / who / when rankers are fitted on the
other folds and scored on this one, and the per-fold figures are printed, so the spread of
a figure over folds is visible next to its mean. Then the rankers are fitted on every
article and the weights printed; `--write` stores them in
extractors/content/facets/ranking.py (between its "fitted" markers), which is what
`extract_facets` ships. bench/facets.py reports the shipped weights (in-fold) next to the
out-of-fold figures and the baselines.

Run: .venv/bin/python -m bench.facets_fit [--smoke] [--write]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bench import _facet_corpora as fc
from bench._smoke import add_smoke_flag, smoke_requested
from bench.facets import FOLDS, MEASURES, _rate, fit_all, read_corpora
from extractors.content.facets import ranking

RANKING = Path(ranking.__file__)
_BLOCK = re.compile(r"(# --- fitted: begin.*?\n)(.*?)(# --- fitted: end ---)", re.DOTALL)


def _literal(name: str, weights: dict[str, float]) -> str:
    items = "".join(f"    {k!r}: {v!r},\n" for k, v in sorted(weights.items(),
                                                           key=lambda kv: (kv[0][0] == "_", kv)))
    return f"{name}: dict[str, float] = {{\n{items}}}\n"


def write(weights: dict[str, dict[str, float]]) -> None:
    block = (_literal("WHERE_WEIGHTS", weights["where"]) + _literal("WHO_WEIGHTS", weights["who"])
             + _literal("WHEN_WEIGHTS", weights["when"]))
    source = RANKING.read_text(encoding="utf-8")
    RANKING.write_text(_BLOCK.sub(lambda m: m[1] + block + m[3], source), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_smoke_flag(parser)
    parser.add_argument("--write", action="store_true",
                        help="store the weights fitted on all articles in ranking.py")
    args = parser.parse_args(argv)
    smoke = smoke_requested(args)
    scored = read_corpora(smoke)
    if scored is None:
        return 0
    folds = 2 if smoke else FOLDS
    assignment = fc.group_folds([s.doc for s in scored], folds)
    print("per fold (fitted on the other folds, scored on this one):")
    for f in range(folds):
        weights = fit_all([s for s, a in zip(scored, assignment, strict=True) if a != f])
        cells = []
        for corpus in fc.ARTICLE_CORPORA:
            for measure in MEASURES:
                part = [s for s, a in zip(scored, assignment, strict=True)
                        if a == f and s.doc.corpus == corpus and s.counts(measure)]
                if part:
                    rate = _rate([s.hit(measure, weights) for s in part])
                    cells.append(f"{corpus}/{measure} {rate:.2f} ({len(part)})")
        print(f"  fold {f}: " + ", ".join(cells))
    weights = fit_all(scored)
    for facet in ("where", "who", "when"):
        print(f"\n{facet} weights (all articles):")
        for name, value in sorted(weights[facet].items(), key=lambda kv: -abs(kv[1])):
            print(f"  {name:20} {value:+.3f}")
    if args.write and not smoke:
        write(weights)
        print(f"\nwritten to {RANKING}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
