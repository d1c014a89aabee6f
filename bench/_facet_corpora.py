"""Readers, scoring and folds for the who / where / when development corpora.

The corpora live in ../shared/data/facets (read-only; see its README): the Giveme5W1H gold dev
set (coders' phrases), halves of Gun Violence Archive news (GVA), MUC-3/4, LGL, GeoWebNews and
TR-News, and TempEval-3 date expressions. Every article corpus is read into one record shape
(`Doc`), so the benchmark and the weight fitting treat them alike.

Scoring, as the data README suggests:
* who@1: the first actor matches a gold name as whole words (the words of one occur in the
  other in order; case, accents and punctuation folded: "Horne" matches "Nyreek Horne");
* where@1: the main place lies within 50 km of a gold place; where the gold place has no
  coordinates, or the answer is an area (a country or province, whose point is only a
  representative one), a match of names counts (the answer's name or another gazetteer
  name of it equals the gold name or one of its alternates, folded). Giveme5W1H gives
  phrases, not places: a phrase containing the answer's name (or the reverse) counts;
* when: the event day equals a gold day.

Folds (`group_folds`): articles of one incident (GVA), story (Giveme5W1H) or document (the
others) stay in one fold, so nothing read from an incident is checked on the same incident.
`explore_half` marks the groups whose misses may be read while developing (the rest is
never printed), so a last figure on groups nobody looked at stays available.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bench._data import DATA

FACETS = DATA / "facets"
# Corpus name -> file; giveme5w1h has its own shape (coders' phrases).
ARTICLE_CORPORA = {
    "giveme5w1h": "giveme5w1h_gold_dev.jsonl",
    "gva": "gva_dev.jsonl",
    "muc34": "muc34_dev.jsonl",
    "lgl": "lgl_dev.jsonl",
    "geowebnews": "geowebnews_dev.jsonl",
    "trnews": "trnews_dev.jsonl",
}
DATES_FILE = "tbaq_dates_dev.jsonl"
NEAR_KM = 50.0

_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class GoldPlace:
    name: str
    alt: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    phrase: bool = False  # a coder's phrase ("northern Afghan city of Mazar-i-Sharif")


@dataclass(frozen=True)
class Doc:
    id: str
    corpus: str
    group: str  # incident, story or document: one fold holds all of a group
    title: str
    text: str
    published: datetime | date | None
    url: str | None
    who: tuple[str, ...] | None  # None: the source gives no answer
    where: tuple[GoldPlace, ...] | None
    when: frozenset[date] | None


@dataclass(frozen=True)
class DateCase:
    """One TempEval-3 date expression: its sentence, the document date and the gold day."""

    id: str
    doc: str
    dct: date
    sentence: str
    expression: str
    value: date


def available() -> bool:
    return FACETS.is_dir()


def _parse_published(value: str | None) -> datetime | date | None:
    if not value or value == "None":
        return None
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value)


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _giveme(path: Path) -> list[Doc]:
    docs = []
    for r in _read(path):
        who = tuple(p["text"] for p in r["who"] if p.get("text"))
        where = tuple(GoldPlace(p["text"], phrase=True) for p in r["where"] if p.get("text"))
        when = frozenset(date.fromisoformat(p["parsed"]) for p in r["when"] if p.get("parsed"))
        docs.append(Doc(
            id=r["id"], corpus="giveme5w1h", group=r["category"], title=r["title"] or "",
            text=r["text"] or "", published=_parse_published(r.get("published")),
            url=r.get("url"), who=who or None, where=where or None, when=when or None,
        ))
    return docs


def _common(corpus: str, path: Path) -> list[Doc]:
    docs = []
    for r in _read(path):
        gold = r["gold"]
        where = None
        if gold.get("where"):
            where = tuple(
                GoldPlace(g["name"], tuple(g.get("alt") or ()), g.get("lat"), g.get("lon"))
                for g in gold["where"])
        when = frozenset(date.fromisoformat(d) for d in gold["when"]) if gold.get("when") else None
        docs.append(Doc(
            id=r["id"], corpus=corpus, group=str(r.get("incident") or r["id"]),
            title=r.get("title") or "", text=r["text"] or "",
            published=_parse_published(r.get("published")), url=r.get("url"),
            who=tuple(gold["who"]) if gold.get("who") else None, where=where, when=when,
        ))
    return docs


def giveme_rows() -> list[dict]:
    """The Giveme5W1H gold rows as published (coders' phrases with their counts)."""
    return _read(FACETS / ARTICLE_CORPORA["giveme5w1h"])


def load(corpus: str) -> list[Doc]:
    path = FACETS / ARTICLE_CORPORA[corpus]
    return _giveme(path) if corpus == "giveme5w1h" else _common(corpus, path)


def load_dates() -> list[DateCase]:
    return [
        DateCase(r["id"], r["doc"], date.fromisoformat(r["dct"]), r["sentence"],
                 r["expression"], date.fromisoformat(r["value"]))
        for r in _read(FACETS / DATES_FILE)
    ]


# --- folds -------------------------------------------------------------------------------


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16)


def group_folds(docs: list[Doc], k: int) -> list[int]:
    """Each doc's fold (0..k-1); all docs of a group share one. Groups are dealt to folds in
    a fixed pseudo-random order (by hash), balancing their sizes; a corpus with fewer groups
    than k (Giveme5W1H: 6 stories) uses one fold per group."""
    folds: list[int] = [0] * len(docs)
    by_corpus: dict[str, dict[str, list[int]]] = {}
    for i, d in enumerate(docs):
        by_corpus.setdefault(d.corpus, {}).setdefault(d.group, []).append(i)
    for groups in by_corpus.values():
        sizes = [0] * k
        for group in sorted(groups, key=lambda g: (-len(groups[g]), _hash(g))):
            fold = min(range(min(k, len(groups))), key=lambda f: (sizes[f], f))
            sizes[fold] += len(groups[group])
            for i in groups[group]:
                folds[i] = fold
    return folds


def explore_half(doc: Doc) -> bool:
    """The half of the groups whose misses may be read while developing rules."""
    return _hash("explore:" + doc.group) % 2 == 0


# --- matching ----------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Folded word tokens: "Mazar-i-Sharif" -> ["mazar", "i", "sharif"]."""
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return [t for t in _NON_WORD.split(bare.casefold().replace("_", " ")) if t]


def _inside(needle: list[str], hay: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def phrase_match(answer: str, gold: str) -> bool:
    """Either phrase contains the other as whole words."""
    a, g = tokens(answer), tokens(gold)
    return _inside(a, g) or _inside(g, a)


def _in_order(needle: list[str], hay: list[str]) -> bool:
    """Every word of `needle` occurs in `hay`, in order ("Samuel Walker" in "Samuel 'Lil'
    Sam' Walker")."""
    it = iter(hay)
    return bool(needle) and all(w in it for w in needle)


def who_hit(name: str | None, gold: tuple[str, ...]) -> bool:
    """The answer's words occur in a gold name in order, or the gold name's in the answer."""
    if not name:
        return False
    a = tokens(name)
    return any(_in_order(a, g) or _in_order(g, a) for g in map(tokens, gold))


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p = math.pi / 180
    h = (math.sin((lat2 - lat1) * p / 2) ** 2
         + math.cos(lat1 * p) * math.cos(lat2 * p) * math.sin((lon2 - lon1) * p / 2) ** 2)
    return 12742.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Answer:
    """A predicted place as the scorer sees it: its names (canonical, surface and other
    gazetteer names), its point and whether it is an area (country, province)."""

    names: frozenset[str]
    lat: float | None
    lon: float | None
    area: bool


def where_hit(answer: Answer | None, gold: tuple[GoldPlace, ...]) -> bool:
    if answer is None:
        return False
    keys = {" ".join(tokens(n)) for n in answer.names}
    for g in gold:
        if g.phrase:
            if any(phrase_match(n, g.name) for n in answer.names):
                return True
            continue
        if (g.lat is not None and answer.lat is not None
                and km(g.lat, g.lon, answer.lat, answer.lon) <= NEAR_KM):
            return True
        if (g.lat is None or answer.area or answer.lat is None) and (
                keys & {" ".join(tokens(n)) for n in (g.name, *g.alt)}):
            return True
    return False


def when_hit(day: date | None, gold: frozenset[date]) -> bool:
    return day is not None and day in gold
