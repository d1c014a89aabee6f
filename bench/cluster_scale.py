"""How deduplication + event clustering scale: 10k, 50k, 100k articles.

The corpus is real text (giveme5w1h full texts + UCI headlines) resampled to the size with
light edits per copy (a word dropped or two swapped in the headline, ~3% of body words dropped
or swapped, publication shifted by up to two days), so it holds syndicated copies, light
rewrites and big stories like a real crawl. Gold label = the story of the base article.
Facets are extracted once per base article and reused (with shifted dates) by its variants:
facet extraction is the caller's cost, measured by its own benchmark.

Each size runs in a forked child, so its peak RSS (ru_maxrss, includes the inherited corpus)
is its own. datasketch MinHash LSH (num_perm=128, threshold 0.5, word sets of the first 200
words) runs on the same input for time and B-cubed F1.

Run: .venv/bin/python -m bench.cluster_scale [--sizes 10000 50000 100000]
Prints `name: value` lines.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import time
from dataclasses import replace
from datetime import timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from bench import _data
from bench._smoke import add_smoke_flag, smoke_requested
from bench.cluster_quality import bcubed
from extractors.content.facets import extract_facets
from extractors.content.text import content_hash, words
from extractors.events.cluster_io import parse_published
from extractors.events.clustering import cluster
from extractors.models import Article


def base_articles() -> list[tuple[Article, str]]:
    """Real articles with facets, and their gold story label."""
    out = []
    for r in _data.giveme5w1h() + _data.uci_headlines():
        published = parse_published(r["published"])
        facets = extract_facets(r["title"], r["text"], published, "en")
        out.append((Article(
            id=r["id"], url=r["url"], canonical_url=r["url"], source=r["source"], title=r["title"],
            text=r["text"], content_hash=content_hash(r["text"]), published_at=published,
            language="en", facets=facets,
        ), r["label"]))
    return out


def _edit(tokens: list[str], rng: random.Random, rate: float) -> list[str]:
    """Drop or swap about `rate` of the words (at least one edit for short texts)."""
    tokens = list(tokens)
    for _ in range(max(1, int(len(tokens) * rate))):
        if len(tokens) < 3:
            break
        k = rng.randrange(len(tokens) - 1)
        if rng.random() < 0.5:
            del tokens[k]
        else:
            tokens[k], tokens[k + 1] = tokens[k + 1], tokens[k]
    return tokens


def resample(base: list[tuple[Article, str]], n: int, seed: int = 7) -> tuple[list[Article], dict]:
    """n articles: every base article once, then lightly edited variants of random ones."""
    rng = random.Random(seed)
    articles, gold = [], {}
    for k in range(n):
        a, label = base[k] if k < len(base) else rng.choice(base)
        if k >= len(base):
            shift = timedelta(hours=rng.uniform(-48, 48))
            title = " ".join(_edit(a.title.split(), rng, 0.0)) if rng.random() < 0.5 else a.title
            text = a.text if a.text == a.title else " ".join(_edit(a.text.split(), rng, 0.03))
            if a.text == a.title:
                text = title
            f = a.facets
            a = replace(
                a, id=f"v{k}", url=f"https://outlet{k % 997}.test/{k}",
                canonical_url=f"https://outlet{k % 997}.test/{k}", source=f"outlet{k % 997}",
                title=title, text=text, content_hash=content_hash(text),
                published_at=a.published_at + shift if a.published_at else None,
                facets=replace(f, event_date=f.event_date),
            )
        articles.append(a)
        gold[a.id] = label
    return articles, gold


def minhash_lsh(articles: list[Article]) -> dict[str, int]:
    """Baseline: connected components of LSH matches on word sets."""
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sketches = []
    for i, a in enumerate(articles):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([w.encode("utf-8") for w in set(words(a.title + " " + a.text)[:200])])
        lsh.insert(i, m)
        sketches.append(m)
    left, right = [], []
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            left.append(i)
            right.append(j)
    n = len(articles)
    graph = sparse.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    return {a.id: int(c) for a, c in zip(articles, comp, strict=True)}


def _child(system: str, articles: list[Article], queue: multiprocessing.Queue) -> None:
    start = time.perf_counter()
    if system == "newsmon":
        result = cluster(articles)
        pred = {m.article_id: m.event_id for m in result.memberships}
    else:
        pred = minhash_lsh(articles)
    seconds = time.perf_counter() - start
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, pred))


def run(system: str, articles: list[Article]) -> tuple[float, float, dict]:
    """Run one system in a forked child: (seconds, peak RSS MiB, predicted labels)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(system, articles, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 50_000, 100_000])
    parser.add_argument("--minhash-max", type=int, default=100_000,
                        help="skip the MinHash baseline above this size")
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if skip := _data.missing("clusters/giveme5w1h", "headlines"):
        print(skip)
        return 0
    if smoke_requested(args):
        args.sizes, args.minhash_max = [300, 600], 600
    start = time.perf_counter()
    base = base_articles()
    print(f"base_articles: {len(base)}")
    print(f"facet_seconds_for_base: {time.perf_counter() - start:.1f}")
    times = []
    for n in args.sizes:
        articles, gold = resample(base, n)
        seconds, rss, pred = run("newsmon", articles)
        times.append(seconds)
        print(f"newsmon_{n}_seconds: {seconds:.1f}")
        print(f"newsmon_{n}_peak_rss_mib: {rss:.0f}")
        print(f"newsmon_{n}_bcubed_f1: {bcubed(pred, gold)[2]:.3f}")
        if n <= args.minhash_max:
            seconds, rss, pred = run("minhash", articles)
            print(f"minhash_{n}_seconds: {seconds:.1f}")
            print(f"minhash_{n}_peak_rss_mib: {rss:.0f}")
            print(f"minhash_{n}_bcubed_f1: {bcubed(pred, gold)[2]:.3f}")
        sys.stdout.flush()
    if len(args.sizes) > 1:
        slope = np.polyfit(np.log(args.sizes), np.log(times), 1)[0]
        print(f"newsmon_growth_exponent: {slope:.2f}")
    print(f"total_seconds: {time.perf_counter() - start:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
