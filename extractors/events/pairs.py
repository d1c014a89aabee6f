"""`newsmon cluster --pairs`: is each given pair of articles one event, and why.

Input lines: {"id", "a": {article}, "b": {article}}, each article as in `newsmon cluster`
(extractors/events/cluster_io.py), with "language" (ISO 639-1) where known. Output lines, in
input order: {"id", "same_event", "score", "evidence"}. The decision is the one clustering
makes for the pair on its own: a copy (extractors/events/dedup.py) is one event; a pair the
cross-lingual scorer `applies` to (two languages, or one other than English and Russian) is
decided by it (extractors/events/crosslingual.py), any other pair by the word scorer
(extractors/events/clustering.py). `score` is in [0, 1] on the word scorer's scale, where
`evidence.threshold` (its event_threshold, 0.38) is the bar for every pair; `evidence` names
the scorer and what matched: names, places, dates, figures, text similarity, conflicts.
The whole input is validated before anything is written, as for `newsmon cluster`.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from extractors.events import crosslingual
from extractors.events.cluster_io import CorpusError, article_from_record, write_lines
from extractors.events.clustering import DEFAULT_SETTINGS, ClusterSettings, score_pair
from extractors.events.dedup import find_duplicates
from extractors.events.evidence import word_evidence
from extractors.models import Article


def decide(a: Article, b: Article, settings: ClusterSettings = DEFAULT_SETTINGS) -> dict:
    """{"same_event", "score", "evidence"} of one pair (see the module docstring)."""
    bar = settings.event_threshold
    copies = find_duplicates(sorted([a, b], key=lambda x: x.id),
                             copy_threshold=settings.copy_threshold,
                             min_copy_words=settings.min_copy_words,
                             max_block=settings.max_block, block_width=settings.block_width)
    if copies:
        return {"same_event": True, "score": 1.0,
                "evidence": {"scorer": "copy", "kind": copies[0].kind,
                             "copy_similarity": copies[0].score, "threshold": bar}}
    if crosslingual.applies(a.language, b.language):
        result = crosslingual.score_pair(crosslingual.side_of(a), crosslingual.side_of(b),
                                         settings.window_days)
        score = crosslingual.clustering_score(result.probability, result.regime, bar)
        return {"same_event": result.same_event, "score": round(score, 4), "evidence": {
            "scorer": "crosslingual", "regime": result.regime, "threshold": bar,
            "probability": round(result.probability, 4), **result.evidence,
            "features": result.features}}
    score, features = score_pair(a, b, settings)
    return {"same_event": score >= bar, "score": round(min(1.0, max(0.0, score)), 4),
            "evidence": {"scorer": "words", "threshold": bar, **word_evidence(a, b),
                         "features": features}}


def read_pairs(path: str) -> list[tuple[str, Article, Article]]:
    """Every pair of a JSON-lines file, or CorpusError listing every bad line by number."""
    pairs: list[tuple[str, Article, Article]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{path}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                                f"at column {exc.start + 1}); newsmon cluster reads UTF-8")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                pair_id = record.get("id")
                if not isinstance(pair_id, str) or not pair_id.strip():
                    raise ValueError("missing, empty or non-string 'id'")
                sides = []
                for key in ("a", "b"):
                    if not isinstance(record.get(key), dict):
                        raise ValueError(f"missing {key!r} article (a JSON object)")
                    try:
                        sides.append(article_from_record(record[key]))
                    except ValueError as exc:
                        raise ValueError(f"article {key!r}: {exc}") from None
            except ValueError as exc:  # JSONDecodeError is a ValueError
                problems.append(f"{path}:{number}: {exc}")
                continue
            if pair_id in seen:
                problems.append(f"{path}:{number}: duplicate id {pair_id!r} "
                                f"(first on line {seen[pair_id]})")
                continue
            seen[pair_id] = number
            pairs.append((pair_id, sides[0], sides[1]))
    if problems:
        raise CorpusError(problems)
    return pairs


def pairs_jsonl(
    in_path: str,
    out_path: str | None,
    settings: ClusterSettings = DEFAULT_SETTINGS,
    stderr: TextIO | None = None,
) -> int:
    """Run `newsmon cluster --pairs`: 0 on success, 2 when the input has malformed lines."""
    err = stderr or sys.stderr
    try:
        pairs = read_pairs(in_path)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return 2
    except OSError as exc:
        print(f"{in_path}: {exc}", file=err)
        return 2
    write_lines(out_path, ({"id": pair_id, **decide(a, b, settings)}
                           for pair_id, a, b in pairs))
    return 0
