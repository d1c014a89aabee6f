"""Benchmark: record_extractions vs a bare DuckDB Arrow insert of the same 100k article rows.

Texts (3-5 KB) are built from real news sentences (Giveme5W1H clusters in ../shared/data,
Apache-2.0 repository; read at run time, nothing copied). Prints `name: value` lines.

    .venv/bin/python bench/load.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import duckdb  # noqa: E402

from extractors.models import Article, ExtractionOutcome, Facets  # noqa: E402
from warehouse import load  # noqa: E402
from warehouse.db import apply_migrations, open_writer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "clusters" / "giveme5w1h" / "articles.jsonl"
SOURCES = [f"outlet-{c}" for c in "abcdefghijklmnop"]
PLACES = ["Lisbon", "Nairobi", "Seoul", "Lima", "Oslo", "Cairo", "Manila", "Quito", "Riga"]
ACTORS = ["Harbour Council", "Ministry of Health", "Jane Okafor", "United Nations", "Acme Corp"]


def sentences() -> list[str]:
    """Real sentences from the shared news corpus (or a small stand-in if it is absent)."""
    if not CORPUS.exists():
        return [f"The {p} council met on Tuesday to discuss the harbour plan with residents."
                for p in PLACES]
    found = []
    with CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("text") or ""
            found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 40 < len(s) < 400]
    return found


def make_outcomes(n: int, seed: int = 7) -> list[ExtractionOutcome]:
    rng = random.Random(seed)
    pool = sentences()
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    outcomes = []
    for i in range(n):
        source = SOURCES[i % len(SOURCES)]
        url = f"https://{source}.test/2026/11/story-{i}"
        target = rng.randint(3000, 5000)
        parts, size = [], 0
        while size < target:
            s = rng.choice(pool)
            parts.append(s)
            size += len(s) + 1
        text = "\n".join(parts)
        published = t0 + timedelta(minutes=7 * i)
        article = Article(
            id=hashlib.sha256(url.encode()).hexdigest()[:32], url=url, canonical_url=url,
            source=source, title=parts[0][:120], text=text,
            content_hash=hashlib.md5(text.encode()).hexdigest(),  # fast stand-in for the bench
            urls=(url,), author="Staff reporter", published_at=published, date_source="meta",
            language="en", site_name=source, description=parts[1][:200],
            fetched_at=published + timedelta(minutes=20),
            facets=Facets(actors=tuple(rng.sample(ACTORS, 2)), places=(rng.choice(PLACES),),
                          event_date=published.date(), dates=(published.date(), date(2026, 11, 1)),
                          keywords=("harbour", "council", "plan")),
        )
        outcomes.append(ExtractionOutcome(url=url, source=source, status="extracted",
                                          article=article))
    return outcomes


def bare_insert(path: Path, outcomes: list[ExtractionOutcome]) -> tuple[float, float]:
    """Same rows, same table (keys included), one plain INSERT from Arrow. (total s, arrow s).

    The table is built by the real migrations (all of them: the articles table grows), and
    the insert names its columns, so the bench follows the schema instead of breaking on it.
    """
    con = duckdb.connect(str(path))
    apply_migrations(con)
    started = time.perf_counter()
    table = load.to_arrow([load.article_record(o.article, "bench") for o in outcomes],
                          load.ARTICLE_SCHEMA)
    arrow_s = time.perf_counter() - started
    con.register("batch", table)
    columns = ", ".join(table.column_names)
    con.execute(f"INSERT INTO articles ({columns}) SELECT {columns} FROM batch")
    con.close()
    return time.perf_counter() - started, arrow_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    started = time.perf_counter()
    outcomes = make_outcomes(args.rows)
    mb = sum(len(o.article.text.encode()) for o in outcomes) / 1e6
    print(f"cores: {os.cpu_count()}")
    print(f"load_avg_1m_at_start: {os.getloadavg()[0]:.1f}")  # other work on the machine
    print(f"duckdb: {duckdb.__version__}")
    print(f"rows: {args.rows}")
    print(f"text_mb: {mb:.0f}")
    print(f"generate_s: {time.perf_counter() - started:.1f}")

    with tempfile.TemporaryDirectory() as tmp:
        bare_s, arrow_s = bare_insert(Path(tmp) / "bare.duckdb", outcomes)
        target = Path(tmp) / "warehouse.duckdb"
        with open_writer(target):  # the schema, as a run's first open makes it
            pass
        started = time.perf_counter()
        with open_writer(target) as con:
            load.record_extractions(con, "bench", outcomes)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        with open_writer(target) as con:
            load.record_extractions(con, "bench", outcomes)
        again_s = time.perf_counter() - started
        n = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"), read_only=True).execute(
            "SELECT count(*) FROM articles").fetchall()[0][0]
        assert n == args.rows, n

    print(f"bare_arrow_build_s: {arrow_s:.2f}")
    print(f"bare_insert_s: {bare_s:.2f}")
    print(f"bare_rows_per_s: {args.rows / bare_s:.0f}")
    print(f"record_extractions_s: {ours_s:.2f}")
    print(f"record_extractions_rows_per_s: {args.rows / ours_s:.0f}")
    print(f"ratio_record_extractions_vs_bare: {ours_s / bare_s:.2f}")
    print(f"reload_same_batch_s: {again_s:.2f}")
    print(f"reload_rows_per_s: {args.rows / again_s:.0f}")
    print(f"load_avg_1m_at_end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
