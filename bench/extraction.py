"""Body-text quality and speed of newsmon's extractor vs bare trafilatura, on the same pages.

Two real data sets from ../shared/data (see its README for sources and licences):

* extraction/ (trafilatura's evaluation set, 645 pages of news, blogs, shops): snippet
  precision / recall / F1 as trafilatura evaluates itself - a `with` snippet found in the text
  is a true positive, missing a false negative; a `without` snippet found is a false positive,
  absent a true negative.
* extraction_more/scrapinghub/ (181 news pages with the full article body): the benchmark's
  own measure - 4-token shingle precision / recall per page, averaged, F1 of the averages.

newsmon = `extract_article` on a FetchResult built from the file (text = article.text; a
skipped or failed page counts as empty text). bare = `trafilatura.extract(html, url=url)`.
Both get the same decoded HTML and are timed page by page in the same run. Because the quality
gate deliberately drops non-articles, scores are printed on all pages and on the pages newsmon
kept (the fair comparison for a news pipeline). Prints `name: value` lines.

    .venv/bin/python bench/extraction.py [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._smoke import add_smoke_flag, smoke_requested  # noqa: E402
from extractors.content.article import extract_article  # noqa: E402
from extractors.fetch.http import decode_html  # noqa: E402
from extractors.models import FetchResult  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page:
    url: str
    html: str
    with_: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    body: str = ""  # full ground-truth body (scrapinghub)


def newsmon_text(page: Page) -> tuple[str, str]:
    """(text, status) of newsmon's extractor; skipped/failed pages give empty text."""
    outcome = extract_article(FetchResult(url=page.url, source="bench", final_url=page.url,
                                          html=page.html))
    return (outcome.article.text if outcome.article else ""), outcome.status


def bare_text(page: Page) -> str:
    return trafilatura.extract(page.html, url=page.url) or ""


def load_snippet_set(root: Path) -> list[Page]:
    items = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    return [
        Page(url, decode_html((root / "pages" / item["file"]).read_bytes(), None),
             tuple(s for s in item.get("with") or () if s), tuple(s for s in item.get("without")
                                                                   or () if s))
        for url, item in items.items()
    ]


def load_scrapinghub(root: Path) -> list[Page]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in truth.items():
        raw = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        # the benchmark's README: pages are stored UTF-8 whatever they declare
        pages.append(Page(item.get("url") or key, decode_html(raw, "text/html; charset=utf-8"),
                          body=item["articleBody"]))
    return pages


def snippet_counts(text: str, page: Page) -> Counter:
    counts: Counter = Counter()
    for snippet in page.with_:
        counts["tp" if snippet in text else "fn"] += 1
    for snippet in page.without:
        counts["fp" if snippet in text else "tn"] += 1
    return counts


def snippet_scores(counts: Counter) -> dict[str, float]:
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = (tp + tn) / (tp + tn + fp + fn) if tp + tn + fp + fn else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


def _shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def shingle_pr(truth: str, predicted: str) -> tuple[float, float]:
    """Per-page precision and recall on 4-token shingles (scrapinghub's evaluate.py measure)."""
    want, got = _shingles(truth), _shingles(predicted)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def shingle_scores(pairs: Iterable[tuple[float, float]]) -> dict[str, float]:
    pairs = list(pairs)
    if not pairs:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    precision = sum(p for p, _ in pairs) / len(pairs)
    recall = sum(r for _, r in pairs) / len(pairs)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def run_both(pages: list[Page]) -> tuple[list[tuple[str, str]], list[str], float, float]:
    """Both extractors page by page (interleaved, so machine load hits both alike)."""
    if pages:  # warm-up: model and gazetteer loading is a once-per-process cost, not per page
        newsmon_text(pages[0])
        bare_text(pages[0])
    ours, bare = [], []
    t_ours = t_bare = 0.0
    for page in pages:
        start = time.perf_counter()
        ours.append(newsmon_text(page))
        t_ours += time.perf_counter() - start
        start = time.perf_counter()
        bare.append(bare_text(page))
        t_bare += time.perf_counter() - start
    return ours, bare, t_ours, t_bare


def report(name: str, value: float | int | str) -> None:
    print(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}", flush=True)


def bench_snippets(pages: list[Page]) -> None:
    ours, bare, t_ours, t_bare = run_both(pages)
    kept = [i for i, (_, status) in enumerate(ours) if status == "extracted"]
    report("snippets.pages", len(pages))
    report("snippets.newsmon.kept", len(kept))
    report("snippets.newsmon.skipped", sum(s == "skipped" for _, s in ours))
    report("snippets.newsmon.failed", sum(s == "failed" for _, s in ours))
    subsets: dict[str, list[int]] = {"all": list(range(len(pages))), "kept": kept}
    for subset, idx in subsets.items():
        for who, texts in (("newsmon", [t for t, _ in ours]), ("trafilatura", bare)):
            counts = sum((snippet_counts(texts[i], pages[i]) for i in idx), Counter())
            for metric, value in snippet_scores(counts).items():
                report(f"snippets.{subset}.{who}.{metric}", value)
    report("snippets.newsmon.pages_per_s", len(pages) / t_ours)
    report("snippets.trafilatura.pages_per_s", len(pages) / t_bare)


def bench_scrapinghub(pages: list[Page]) -> None:
    ours, bare, t_ours, t_bare = run_both(pages)
    kept = [i for i, (_, status) in enumerate(ours) if status == "extracted"]
    report("scrapinghub.pages", len(pages))
    report("scrapinghub.newsmon.kept", len(kept))
    report("scrapinghub.newsmon.skipped", sum(s == "skipped" for _, s in ours))
    for subset, idx in {"all": list(range(len(pages))), "kept": kept}.items():
        for who, texts in (("newsmon", [t for t, _ in ours]), ("trafilatura", bare)):
            scores = shingle_scores(shingle_pr(pages[i].body, texts[i]) for i in idx)
            for metric, value in scores.items():
                report(f"scrapinghub.{subset}.{who}.{metric}", value)
    report("scrapinghub.newsmon.pages_per_s", len(pages) / t_ours)
    report("scrapinghub.trafilatura.pages_per_s", len(pages) / t_bare)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each set")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if smoke_requested(args):
        args.limit = 5
    snippets_dir = args.data / "extraction"
    scrapinghub_dir = args.data / "extraction_more" / "scrapinghub"
    if not snippets_dir.is_dir() and not scrapinghub_dir.is_dir():
        print(f"skipped: no extraction data under {args.data} (see bench/extraction.py docstring)")
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    report("cores", cores)
    report("processes", 1)
    report("trafilatura.version", trafilatura.__version__)
    loaders: list[tuple[Path, Callable[[Path], list[Page]], Callable[[list[Page]], None]]] = [
        (snippets_dir, load_snippet_set, bench_snippets),
        (scrapinghub_dir, load_scrapinghub, bench_scrapinghub),
    ]
    for folder, load, bench in loaders:
        if not folder.is_dir():
            print(f"skipped: {folder} is absent")
            continue
        pages = load(folder)[: args.limit]
        bench(pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
