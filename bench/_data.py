"""Loaders for the labelled clustering corpora in ../shared/data (read-only, not copied).

Every loader returns plain records in the `newsmon cluster` input shape
({"id", "title", "text", "url", "source", "published", "language"}) plus a gold "label",
so benchmarks feed the public contract exactly what a user would.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

DATA = Path(os.environ.get("NEWSMON_SHARED_DATA", "/work/shared/data"))


def missing(*folders: str) -> str | None:
    """Why a benchmark must skip (exit 0): the first of these folders of DATA that is absent."""
    for folder in folders:
        if not (DATA / folder).is_dir():
            return f"skipped: {DATA / folder} is absent (the shared data folder, read-only)"
    return None


def _id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def giveme5w1h() -> list[dict]:
    """419 full-text articles in 70 events (empty texts kept, as in real crawls)."""
    rows = []
    with open(DATA / "clusters/giveme5w1h/articles.jsonl", encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            rows.append({
                "id": r["id"], "title": r["title"] or "", "text": r["text"] or "",
                "url": r["url"], "source": r["source_domain"], "published": r["date_publish"],
                "language": "en", "label": r["cluster"],
            })
    return rows


def uci_headlines() -> list[dict]:
    """3,622 headlines in 56 stories; title = text = headline."""
    rows = []
    with open(DATA / "headlines/uci_headlines_dev.csv", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            when = datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, tz=UTC)
            rows.append({
                "id": "uci" + r["ID"], "title": r["TITLE"], "text": r["TITLE"], "url": r["URL"],
                "source": r["PUBLISHER"], "published": when.isoformat(), "language": "en",
                "label": r["STORY"],
            })
    return rows


def pac_partisan() -> list[dict]:
    """146 two-article stories (left and right outlet). Evaluation only: never tune on it."""
    rows = []
    path = DATA / "clusters/pac_partisan/articles_annotations_1.jsonl"
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            rows.append({
                "id": r["id"], "title": r["title"] or "", "text": r["text"] or "",
                "source": r["source"], "published": r["date"], "language": "en",
                "label": r["cluster"],
            })
    return rows


def pair_pool(name: str) -> tuple[list[dict], list[tuple[str, str, bool]]]:
    """Articles of a tgcontest pool (deduplicated by URL) and its labelled (a, b, same) pairs."""
    csv.field_size_limit(1 << 30)
    language = "ru" if name.startswith("ru") else "en"
    articles: dict[str, dict] = {}
    pairs = []
    with open(DATA / f"pairs/{name}.tsv", encoding="utf-8") as handle:
        for r in csv.DictReader(handle, delimiter="\t"):
            ids = []
            for side in ("first", "second"):
                url = r[f"INPUT:{side}_url"]
                aid = _id(url)
                articles.setdefault(aid, {
                    "id": aid, "title": r[f"INPUT:{side}_title"], "text": r[f"INPUT:{side}_text"],
                    "url": url, "source": url.split("/")[2] if "//" in url else "",
                    "published": None, "language": language, "label": None,
                })
                ids.append(aid)
            if ids[0] != ids[1]:
                pairs.append((ids[0], ids[1], r["GOLDEN:quality"] == "OK"))
    return list(articles.values()), pairs


def _split_headline(text: str) -> tuple[str, str]:
    """SemEval texts are an article's head and tail; the first line is usually the headline.
    A first line over 200 characters is body: then the first sentence stands in for it."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    if len(first) <= 200:
        return first.strip(), rest.strip()
    cut = first.find(". ", 20, 200)
    return (first[: cut + 1], text[cut + 2 :]) if cut > 0 else ("", text)


_LOWER = "abcdefghijklmnopqrstuvwxyz"  # an augmented pair's ids end in its language


def semeval8() -> list[dict]:
    """SemEval-2022 Task 8 dev pairs (../shared/data/multilingual): {"id", "a", "b", "lang",
    "augmented", "overall", "geography", "entities", "time", "same", "group"}, where a and b
    are `newsmon cluster` article records, `same` is True (overall <= 1.5), False (>= 2.5) or
    None (left out of F1), and `group` joins pairs that share an article (an augmented pair
    shares its articles with the real pair it was translated from), so folds never split an
    article. Measurement only: the texts are never copied into the project."""
    rows = []
    with open(DATA / "multilingual/semeval8_dev.jsonl", encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            sides = []
            ids = r["pair_id"].split("_")
            for k, (aid, lang) in enumerate(zip(ids, (r["lang1"], r["lang2"]), strict=True)):
                title, text = _split_headline(r[f"text{k + 1}"])
                sides.append({"id": f"{r['pair_id']}/{k}", "title": title, "text": text,
                              "language": lang, "article": aid.rstrip(_LOWER)})
            overall = float(r["overall"])
            rows.append({
                "id": r["pair_id"], "a": sides[0], "b": sides[1],
                "lang": f"{r['lang1']}-{r['lang2']}", "augmented": bool(r["augmented"]),
                "overall": overall, "geography": float(r["geography"]),
                "entities": float(r["entities"]), "time": float(r["time"]),
                "same": True if overall <= 1.5 else False if overall >= 2.5 else None,
            })
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in rows:
        parent[find(r["a"]["article"])] = find(r["b"]["article"])
    for r in rows:
        r["group"] = find(r["a"]["article"])
    return rows
