"""A synthetic year of monitoring for bench/history.py, built fast and cached.

A year (by default) of news from `hosts` outlets, `articles` articles in events of 1 to 12
reports (mean about 2.9), each outlet's articles at http://hist-NN.test/YYYY/MM/DD/...:
texts of real news sentences (Giveme5W1H and Gun Violence Archive articles from
../shared/data, read at run time and never copied; without them the demo corpus's
paragraphs), a topic sentence naming the event's people and city, wire copies and light
rewrites. Every table a monitor run fills is filled as a year of runs would have left it:
sources, runs, fetch_log, extraction_log, entries, articles, raw pages (the last `raw_days`
days, in Parquet beside the warehouse), duplicates, events, event_articles, stories and the
cluster index (features, postings, copy pairs, edges within events, the recent days'
document frequencies).

Built through Arrow bulk inserts (no per-row loaders), a day at a time, into the layout of
the code under test (warehouse.db.open_writer, migrations, warehouse.raw_store), and cached
under a folder named by a hash of the parameters and this module's version, so a full year
is generated once and copied for each run.

What is cut for speed, and does not change the cost of a daily run: events are the planted
ones (not clustered: only edges within a planted event are scored and stored), and shingle
sketches are computed for the last `exact_days` days only (older articles get random
sketch values of the same shape: a new page can copy yesterday's article, not last spring's).

`today()` builds the daily run's pages: `pages` new articles of the day after the history
(new events, follow-ups of the last days' events, copies), rendered in the demo outlets'
templates, each host with robots.txt and a news sitemap of its last two days.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import random
import re
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench._data import DATA
from demosite.site import ARTICLE_TEMPLATES, Page, load_corpus, news_sitemap, robots_txt
from extractors.content.facets.gazetteer import gazetteer
from extractors.content.text import words
from extractors.events.clustering import DEFAULT_SETTINGS, event_id, score_pairs
from extractors.events.dedup import sketch
from extractors.events.features import TermStats, Tokens, content_tokens, features_of
from extractors.events.records import actor_keys
from extractors.events.stories import story_id
from extractors.models import Actor, Article, Facets, IndexEntry, Place
from warehouse import load, raw_store
from warehouse.cluster_index import entry_row
from warehouse.db import open_writer
from warehouse.index_sql import ENTRY_COLUMNS

VERSION = 3  # of this generator: a change here rebuilds the cached history
SITEMAP_PATH = "/news-sitemap.xml"
FIRST = ["Jane", "Omar", "Li", "Maria", "Ivan", "Aisha", "Carlos", "Ingrid", "Kwame", "Sofia",
         "Rahul", "Elena", "Tomas", "Amara", "Yuki", "Pierre", "Leila", "Sean", "Nadia", "Diego",
         "Hana", "Viktor", "Grace", "Mehmet", "Olga", "Samuel", "Priya", "Jonas", "Fatima", "Luis"]
LAST = ["Okafor", "Haddad", "Wang", "Lindqvist", "Petrov", "Bello", "Mendes", "Larsen",
        "Mensah", "Rossi", "Sharma", "Popescu", "Novak", "Diallo", "Tanaka", "Laurent", "Karimi",
        "Murphy", "Aziz", "Herrera", "Kim", "Sokolov", "Achieng", "Yilmaz", "Ivanova", "Cohen",
        "Nair", "Berg", "Rahman", "Castro", "Fischer", "Moreau", "Silva", "Keller", "Dubois",
        "Nowak", "Kowalski", "Varga", "Horvat", "Costa"]
ORGS = ["Ministry of Health", "Harbour Council", "United Nations", "World Bank", "Red Cross",
        "Supreme Court", "Central Bank", "Port Authority", "National Assembly", "City Council",
        "Transport Union", "Energy Agency", "Police Department", "Fire Brigade", "Weather Service"]
CITIES = ["Lisbon", "Nairobi", "Seoul", "Lima", "Oslo", "Cairo", "Manila", "Quito", "Riga",
          "Madrid", "Berlin", "Warsaw", "Athens", "Dublin", "Prague", "Vienna", "Budapest",
          "Helsinki", "Stockholm", "Copenhagen", "Brussels", "Amsterdam", "Rome", "Milan",
          "Paris", "Lyon", "Marseille", "Munich", "Hamburg", "Zurich", "Geneva", "Istanbul",
          "Ankara", "Tehran", "Baghdad", "Riyadh", "Dubai", "Doha", "Karachi", "Lahore",
          "Delhi", "Mumbai", "Dhaka", "Bangkok", "Hanoi", "Jakarta", "Sydney", "Melbourne",
          "Auckland", "Tokyo", "Osaka", "Beijing", "Shanghai", "Taipei", "Toronto", "Montreal",
          "Chicago", "Boston", "Denver", "Houston", "Miami", "Atlanta", "Seattle", "Bogota",
          "Caracas", "Santiago", "Buenos Aires", "Montevideo", "Accra", "Lagos", "Dakar",
          "Kampala", "Addis Ababa", "Johannesburg", "Cape Town", "Casablanca", "Tunis", "Algiers"]
VERBS = ["met", "criticised", "praised", "questioned", "visited", "called on", "warned",
         "negotiated with", "signed an agreement with", "rejected a proposal from"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Params:
    articles: int = 1_000_500
    days: int = 365
    raw_days: int = 45
    hosts: int = 20
    pages: int = 300  # the daily run's new pages
    exact_days: int = 3  # days (before today) whose articles get real shingle sketches
    window_days: int = 7
    seed: int = 32

    def key(self) -> str:
        # Not the schema: a cached history is brought up to date by the migrations.
        blob = json.dumps({**asdict(self), "version": VERSION}, sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]


def host(i: int) -> str:
    return f"hist-{i:02d}.test"


def sources_toml(params: Params) -> str:
    return "\n".join(
        f'[[source]]\nname = "{host(i)}"\nsitemaps = ["http://{host(i)}{SITEMAP_PATH}"]\n'
        'language = "en"\n' for i in range(params.hosts))


# --- the text pool ----------------------------------------------------------------------------


@dataclass
class Pool:
    sentences: list[str]
    words: list[list[str]]  # word tokens of each sentence (dedup's words)
    tokens: list[list[str]]  # matching tokens of each sentence (clustering's)
    titles: list[str]


def pool() -> Pool:
    """Real news sentences and headlines (see the module docstring)."""
    texts, titles = [], []
    giveme = DATA / "clusters/giveme5w1h/articles.jsonl"
    gva = DATA / "facets/gva_dev.jsonl"
    for path in (giveme, gva):
        if path.is_file():
            for line in path.open(encoding="utf-8"):
                row = json.loads(line)
                texts.append(row.get("text") or "")
                if row.get("title"):
                    titles.append(row["title"])
    if not texts:  # the demo's own, redistributable, paragraphs
        for a in load_corpus()["articles"]:
            texts.append("\n".join(a["paragraphs"]))
            titles.append(a["title"])
    sentences = sorted({s.strip() for t in texts for s in _SENTENCE.split(t)
                        if 50 < len(s.strip()) < 300 and "\n" not in s.strip()})
    titles = sorted({t.strip() for t in titles if 20 < len(t) < 140})
    stem = DEFAULT_SETTINGS.stem_chars
    return Pool(sentences, [words(s) for s in sentences],
                [content_tokens(s, stem) for s in sentences], titles)


# --- events and articles ----------------------------------------------------------------------


@dataclass
class Topic:
    number: int
    actors: tuple[str, ...]
    city: str
    verb: str
    headline: str
    core: list[int]  # sentence indices every report draws from
    day: int  # the day it started
    story: int  # the topic number of the story it continues


@dataclass
class Synth:
    """One synthetic article."""

    id: str
    url: str
    host: int
    day: int
    published: datetime
    title: str
    sentences: list[int]
    lead: str  # the topic sentence (not in the pool)
    topic: Topic
    copy_of: str | None = None
    kind: str = "report"
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join([self.lead] + [POOL_CACHE["pool"].sentences[i] for i in self.sentences])


POOL_CACHE: dict[str, Pool] = {}


def the_pool() -> Pool:
    if "pool" not in POOL_CACHE:
        POOL_CACHE["pool"] = pool()
    return POOL_CACHE["pool"]


def _article_id(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()[:20]


class World:
    """The day-by-day generator: deterministic in (params, day)."""

    def __init__(self, params: Params, start: date):
        self.p = params
        self.start = start
        self.pool = the_pool()
        self.per_day = params.articles / params.days
        self.recent: list[Topic] = []  # topics of the last week, for follow-ups
        self.yesterday: list[Topic] = []  # the last day's topics: late reports join them
        self.number = 0

    def day_date(self, d: int) -> date:
        return self.start + timedelta(days=d)

    def _topic(self, rng: random.Random, d: int) -> Topic:
        follow = self.recent and rng.random() < 0.2
        base = rng.choice(self.recent) if follow else None
        self.number += 1
        n = len(self.pool.sentences)
        if base is not None:  # a development of a recent story: same people, new facts
            topic = Topic(self.number, base.actors, base.city, rng.choice(VERBS),
                          rng.choice(self.pool.titles),
                          [rng.randrange(n) for _ in range(5)], d, base.story)
        else:
            people = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(2)]
            if rng.random() < 0.4:
                people[1] = rng.choice(ORGS)
            topic = Topic(self.number, tuple(people), rng.choice(CITIES), rng.choice(VERBS),
                          rng.choice(self.pool.titles), [rng.randrange(n) for _ in range(5)], d,
                          self.number)
        return topic

    def _size(self, rng: random.Random) -> int:
        """Reports of one event: 1 (60 %) to 12, mean about 2.9."""
        r = rng.random()
        if r < 0.6:
            return 1
        return min(12, 2 + int(rng.expovariate(1 / 3.5)))

    def day(self, d: int, count: int | None = None) -> list[Synth]:
        """Day d's articles (count: about articles / days)."""
        rng = random.Random(f"{self.p.seed}-{d}")
        target = count if count is not None else int(round(self.per_day * (d + 1))
                                                     - round(self.per_day * d))
        out: list[Synth] = []
        topics = []
        while len(out) < target:
            if self.yesterday and rng.random() < 0.1:  # a late report of yesterday's event
                out.append(self._report(rng, rng.choice(self.yesterday), d, len(out)))
                continue
            topic = self._topic(rng, d)
            topics.append(topic)
            for _ in range(min(self._size(rng), target - len(out))):
                out.append(self._report(rng, topic, d, len(out)))
        # Wire copies and light rewrites of the day's reports, by other outlets.
        for i in range(len(out)):
            if out[i].kind == "report" and rng.random() < 0.05 and i > 0:
                original = out[rng.randrange(i)]
                copy = self._copy(rng, original, d, i, exact=rng.random() < 0.5)
                out[i] = copy
        self.recent = [t for t in self.recent if t.day > d - 7] + topics
        self.yesterday = topics
        return out

    def _report(self, rng: random.Random, topic: Topic, d: int, i: int) -> Synth:
        h = rng.randrange(self.p.hosts)
        day = self.day_date(d)
        a, b = topic.actors
        lead = (f"{a} {topic.verb} {b} in {topic.city} on {WEEKDAYS[day.weekday()]}, "
                f"according to people familiar with the matter.")
        n = len(self.pool.sentences)
        core = rng.sample(topic.core, 3)
        filler = [rng.randrange(n) for _ in range(rng.randint(18, 30))]
        sentences = core[:2] + filler[:4] + core[2:] + filler[4:]
        words_ = topic.headline.split()
        if rng.random() < 0.5 and len(words_) > 4:
            words_ = words_[:-1]
        title = f"{a.split()[-1]}: " + " ".join(words_)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        url = f"http://{host(h)}/{day:%Y/%m/%d}/{slug}-{d}-{i}"
        published = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            minutes=rng.randrange(24 * 60))
        return Synth(_article_id(url), url, h, d, published, title, sentences, lead, topic)

    def _copy(self, rng: random.Random, original: Synth, d: int, i: int, exact: bool) -> Synth:
        h = (original.host + 1 + rng.randrange(self.p.hosts - 1)) % self.p.hosts
        day = self.day_date(d)
        url = f"http://{host(h)}/{day:%Y/%m/%d}/wire-{d}-{i}"
        sentences = list(original.sentences)
        if not exact:  # a light rewrite: one sentence swapped
            sentences[-1] = rng.randrange(len(self.pool.sentences))
        return Synth(_article_id(url), url, h, d, original.published + timedelta(minutes=30),
                     original.title, sentences, original.lead, original.topic,
                     copy_of=original.id, kind="same-text" if exact else "near-copy")


# --- the articles as newsmon stores them -----------------------------------------------------


_PLACES: dict[str, Place | None] = {}


def _place(city: str) -> Place | None:
    if city not in _PLACES:
        gaz = gazetteer()
        key = gaz.lookup(city)
        country = gaz.country_of(city)
        _PLACES[city] = Place(city, (country or "")[:2].upper() or None, None, None,
                              f"geonames:{key}" if key else None)
    return _PLACES[city]


def article_of(s: Synth, fetched: datetime) -> Article:
    t = s.topic
    when = s.published.date()
    who = tuple(Actor(x, "organisation" if x in ORGS else "person") for x in t.actors)
    facets = Facets(actors=t.actors, places=(t.city,), event_date=when, dates=(when,),
                    keywords=tuple(t.headline.lower().split()[:3]), who=who,
                    where=_place(t.city))
    text = s.text
    pool = the_pool()
    all_words = _words(s.lead) + [w for i in s.sentences for w in pool.words[i]]
    digest = hashlib.sha256(" ".join(all_words).encode("utf-8")).hexdigest()[:32]
    return Article(id=s.id, url=s.url, canonical_url=s.url, source=host(s.host), title=s.title,
                   text=text, content_hash=digest, urls=(s.url,),
                   author="Staff reporter", published_at=s.published, date_source="meta",
                   language="en", site_name=host(s.host), description=None, fetched_at=fetched,
                   facets=facets)


@functools.lru_cache(maxsize=100_000)
def _words(text: str) -> list[str]:
    return words(text)


@functools.lru_cache(maxsize=100_000)
def _lead_tokens(text: str) -> tuple[str, ...]:
    return tuple(content_tokens(text, DEFAULT_SETTINGS.stem_chars))


def tokens_of_synth(s: Synth, article: Article) -> Tokens:
    """Clustering's tokens of a synthetic article from its sentences' tokens (the same as
    tokenising its text)."""
    pool = the_pool()
    stem = DEFAULT_SETTINGS.stem_chars
    body = list(_lead_tokens(s.lead))
    for i in s.sentences:
        body += pool.tokens[i]
        if len(body) >= 800:
            break
    names = set()
    for name in article.facets.actors[:10] + article.facets.places[:10]:
        names.update(content_tokens(name, stem))
    return Tokens(tuple(content_tokens(s.title, stem)), (), tuple(body[:800]), frozenset(names))


def _fake_sketch(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(sorted(int(x) for x in rng.integers(0, 2**32 - 1, 8, dtype=np.uint64)))


_CORPUS: dict = {}


def html_page(s: Synth, article: Article) -> str:
    """The article in one of the demo outlets' templates (as served on the daily run)."""
    if "corpus" not in _CORPUS:
        _CORPUS["corpus"] = load_corpus()
    corpus = _CORPUS["corpus"]
    outlets = corpus["outlets"]
    outlet = {**outlets[s.host % len(outlets)], "host": host(s.host),
              "brand": f"Outlet {s.host}", "sitemap": SITEMAP_PATH, "sitemap_index": None}
    paragraphs = [s.lead] + [the_pool().sentences[i] for i in s.sentences]
    grouped = [" ".join(paragraphs[i:i + 2]) for i in range(0, len(paragraphs), 2)]
    item = {"title": s.title, "path": s.url.split(host(s.host), 1)[1], "outlet": host(s.host),
            "slug": s.id, "author": "Staff reporter", "published": s.published.isoformat(),
            "paragraphs": grouped, "feed_tracking": False}
    return ARTICLE_TEMPLATES[outlets[s.host % len(outlets)]["host"]](outlet, item, [])


# --- the build ---------------------------------------------------------------------------------


def history_start(params: Params, today: date) -> date:
    return today - timedelta(days=params.days)


def build(params: Params, folder: Path, today: date, progress=print) -> Path:
    """Write the history into folder/warehouse.duckdb (and its raw pages); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "warehouse.duckdb"
    for stale in (db, db.with_name(db.name + ".wal"), raw_store.raw_dir(db)):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    world = World(params, history_start(params, today))
    s = DEFAULT_SETTINGS
    rng = np.random.default_rng(params.seed)
    seq = 0
    recent_stats: list[TermStats] = []
    story_rows: dict[str, dict] = {}
    story_of_topic: dict[int, str] = {}
    started = time.monotonic()
    with open_writer(db) as con:
        load.upsert_sources(con, [])
    listed: list[dict] = []  # the last day's articles, as sitemaps list them
    for d in range(params.days):
        day = world.day_date(d)
        synths = world.day(d)
        if d == params.days - 1:
            listed = [{"host": x.host, "title": x.title, "url": x.url,
                       "published": x.published.isoformat()} for x in synths]
        run_id = f"history-{day.isoformat()}"
        fetched = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
        arts = [article_of(x, fetched) for x in synths]
        by_id = {a.id: a for a in arts}
        tokens = {x.id: tokens_of_synth(x, by_id[x.id]) for x in synths}
        originals = [x for x in synths if x.copy_of is None]
        day_stats = TermStats.of(tokens[x.id] for x in originals)
        window = TermStats()
        for st in recent_stats[-(params.window_days):]:
            window = window.plus(st)
        stats = window.plus(day_stats)
        exact = d >= params.days - params.exact_days
        entries: list[IndexEntry] = []
        seq_of: dict[str, int] = {}
        for x in sorted(synths, key=lambda x: x.id):
            a = by_id[x.id]
            feats = features_of(a, tokens[x.id], stats, seq, s.tokens)
            n_words = sum(len(the_pool().words[i]) for i in x.sentences) + len(_words(x.lead))
            sk = tuple(sketch(a.text)) if exact else _fake_sketch(rng)
            role = "original" if x.copy_of is None else x.kind
            entries.append(IndexEntry(a.id, seq, feats, _copy(n_words, a.content_hash, sk), role))
            seq_of[a.id] = seq
            seq += 1
        synth_of = {x.id: x for x in synths}
        entries = [_with_copy_of(e, synth_of, seq_of) for e in entries]
        _write_day(con_path=db, params=params, day=day, d=d, run_id=run_id, fetched=fetched,
                   synths=synths, arts=arts, entries=entries, seq_of=seq_of, s=s,
                   day_stats=day_stats, story_rows=story_rows, story_of_topic=story_of_topic,
                   today=today)
        recent_stats.append(day_stats)
        if d % 30 == 0 or d == params.days - 1:
            progress(f"history: day {d + 1}/{params.days}, {seq} articles, "
                     f"{time.monotonic() - started:.0f} s")
    with open_writer(db) as con:
        load.upsert_sources(con, [_source(i) for i in range(params.hosts)])
        rows = [{"id": sid, **row} for sid, row in story_rows.items()]
        con.execute(_UPSERT_STORIES, batch=pa.Table.from_pylist(rows, schema=_STORY_SCHEMA))
        con.execute("INSERT INTO watermarks VALUES ('cluster-index', $at, NULL) "
                    "ON CONFLICT (name) DO UPDATE SET handled_until = excluded.handled_until",
                    {"at": datetime.combine(today, datetime.min.time(), UTC)})
    (folder / "params.json").write_text(json.dumps(asdict(params), indent=1))
    with open(folder / "world.pkl", "wb") as handle:  # where today's pages continue from
        pickle.dump({"recent": world.recent, "yesterday": world.yesterday,
                     "number": world.number, "listed": listed, "today": today}, handle)
    return db


def _copy(n_words: int, chash: str, sk: tuple[int, ...]):
    from extractors.models import CopyFeatures

    return CopyFeatures(n_words, chash, sk)


def _with_copy_of(e: IndexEntry, synth_of, seq_of) -> IndexEntry:
    from dataclasses import replace

    x = synth_of.get(e.id) if e.role != "original" else None
    if x is None:
        return e
    score = 100.0 if x.kind == "same-text" else 95.0
    return replace(e, copy_of=seq_of[x.copy_of], copy_score=score)


def _source(i: int):
    from extractors.models import Source

    return Source(host(i), sitemaps=(f"http://{host(i)}{SITEMAP_PATH}",), language="en")


_STORY_SCHEMA = pa.schema([
    ("id", pa.string()), ("title", pa.string()), ("first_seen", pa.timestamp("us", tz="UTC")),
    ("last_seen", pa.timestamp("us", tz="UTC")), ("n_events", pa.int32()),
    ("n_articles", pa.int32()), ("actors", pa.list_(pa.string())),
    ("places", pa.list_(pa.string()))])
_UPSERT_STORIES = """
INSERT INTO stories (id, title, first_seen, last_seen, n_events, n_articles, actors, places,
                     updated_at)
SELECT id, title, first_seen, last_seen, n_events, n_articles, actors, places, now() FROM batch
ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, n_events = excluded.n_events,
    n_articles = excluded.n_articles
"""


def _write_day(con_path: Path, params: Params, day: date, d: int, run_id: str,
               fetched: datetime, synths: list[Synth], arts: list[Article],
               entries: list[IndexEntry], seq_of: dict[str, int], s, day_stats: TermStats,
               story_rows: dict, story_of_topic: dict, today: date) -> None:
    """One day of history into the warehouse, in bulk."""
    from warehouse import cluster_index as ci

    by_id = {a.id: a for a in arts}
    entry_of = {e.id: e for e in entries}
    # events: planted topics; edges scored within each
    groups: dict[int, list[str]] = defaultdict(list)
    copies = {x.id: x for x in synths if x.copy_of is not None}
    for x in synths:
        if x.copy_of is None:
            groups[x.topic.number].append(x.id)
    edges, event_rows, member_rows = [], [], []
    dup_rows = [{"article_id": c.id, "duplicate_of": c.copy_of,
                 "kind": c.kind, "score": 100.0 if c.kind == "same-text" else 95.0}
                for c in copies.values()]
    topic_of = {x.topic.number: x.topic for x in synths}
    copies_of: dict[str, list[str]] = defaultdict(list)
    for c in copies.values():
        copies_of[c.copy_of].append(c.id)
    comp_of: dict[str, int] = {}
    # Every within-event pair of the day, scored in one call.
    day_ids = sorted({i for ids in groups.values() for i in ids})
    local = {i: k for k, i in enumerate(day_ids)}
    pairs = [(local[a], local[b]) for ids in groups.values() for x, a in enumerate(sorted(ids))
             for b in sorted(ids)[x + 1:]]
    best: dict[str, tuple[float, dict]] = {}
    if pairs:
        left, right = zip(*pairs, strict=True)
        scored, features = score_pairs([entry_of[i].features for i in day_ids],
                                       np.array(left), np.array(right), s)
        for (i, j), sc in scored.items():
            a, b = entry_of[day_ids[i]].seq, entry_of[day_ids[j]].seq
            edges.append({"a": a, "b": b, "score": sc,
                          "features": list(features[(i, j)].items())})
            for k in (day_ids[i], day_ids[j]):
                if sc > best.get(k, (-1.0, {}))[0]:
                    best[k] = (sc, features[(i, j)])
    for number, ids in groups.items():
        ids = sorted(ids)
        label = min(entry_of[i].seq for i in ids)
        for i in ids:
            comp_of[i] = label
        everyone = ids + [c for i in ids for c in copies_of.get(i, [])]
        eid = event_id(min(everyone))
        topic = topic_of[number]
        sid = story_of_topic.setdefault(topic.story, story_id(eid))
        terms: Counter[str] = Counter()
        for i in ids:
            f = entry_of[i].features
            terms.update(dict(zip(f.terms, f.weights, strict=True)))
        top = sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:30]
        first = min(by_id[i].published_at for i in everyone)
        last = max(by_id[i].published_at for i in everyone)
        head = by_id[ids[0]]
        event_rows.append({
            "id": eid, "headline": head.title, "event_date": head.facets.event_date,
            "first_seen": first, "last_seen": last, "actors": list(topic.actors),
            "places": [topic.city], "keywords": list(head.facets.keywords),
            "n_articles": len(everyone), "n_sources": len({by_id[i].source for i in ids}),
            "n_copies": len(everyone) - len(ids),
            **load.record_columns(head.facets.who, head.facets.where),
            "actor_keys": list(actor_keys(topic.actors)), "story_id": sid,
            "terms": [(t, round(float(w), 4)) for t, w in top]})
        for i in everyone:
            score, feats_ = best.get(i, (1.0, {"singleton": 1.0}) if len(ids) == 1
                                     else (0.0, {}))
            if i in copies:
                score, feats_ = 0.95, {"copy": 1.0}
            member_rows.append({"article_id": i, "event_id": eid, "score": score,
                                "features": list(feats_.items())})
        row = story_rows.setdefault(sid, {"title": head.title, "first_seen": first,
                                          "last_seen": last, "n_events": 0, "n_articles": 0,
                                          "actors": list(topic.actors), "places": [topic.city]})
        row["last_seen"] = max(row["last_seen"], last)
        row["n_events"] += 1
        row["n_articles"] += len(everyone)
    from dataclasses import replace

    entries = [replace(e, comp=comp_of.get(e.id)) for e in entries]
    outcomes_log = [{"url": a.url, "run_id": run_id, "source": a.source, "status": "extracted",
                     "reason": None, "article_id": a.id} for a in arts]
    fetch_rows = [{"run_id": run_id, "url": a.url, "source": a.source, "status_code": 200,
                   "error_class": None, "error": None, "n_bytes": 60_000 + len(a.text),
                   "elapsed_ms": 120.0, "attempt": 1, "fetched_at": fetched, "kind": "page"}
                  for a in arts]
    fetch_rows += [{"run_id": run_id, "url": f"http://{host(i)}{SITEMAP_PATH}",
                    "source": host(i), "status_code": 200, "error_class": None, "error": None,
                    "n_bytes": 9_000, "elapsed_ms": 80.0, "attempt": 1, "fetched_at": fetched,
                    "kind": "document"} for i in range(params.hosts)]
    entry_rows = [{"source": a.source, "url": a.url, "guid": None, "via": "sitemap",
                   "title": a.title, "published_at": a.published_at, "updated": None,
                   "stored_updated": None, "outcome": "stored", "reason": None,
                   "seen_at": fetched, "run_id": run_id, "refetched_at": None} for a in arts]
    raw_rows = []
    with_raw = (today - day).days <= params.raw_days
    if with_raw:
        from extractors.models import FetchResult

        pages = [FetchResult(url=a.url, source=a.source, final_url=a.url, status_code=200,
                             content_type="text/html; charset=utf-8",
                             html=html_page(x, a), fetched_at=fetched)
                 for x, a in zip(synths, arts, strict=True)]
        files = raw_store.write_pages(con_path, f"{run_id}-0", pages)
        raw_rows = [{"url": p.url, "source": p.source, "final_url": p.url, "status_code": 200,
                     "fetched_at": fetched, "content_type": p.content_type,
                     "n_bytes": files[p.url].n_bytes, "file": files[p.url].file}
                    for p in pages]
    postings = {"copy": [], "event": []}
    for e in entries:
        if e.role != "same-text" and e.copy.n_words >= 6:
            postings["copy"] += [{"key": k, "t": e.features.time, "seq": e.seq}
                                 for k in sorted(set(e.copy.sketch))]
        if e.role == "original":
            postings["event"] += [{"key": ci.key_hash(k), "t": e.features.when, "seq": e.seq}
                                  for k in e.features.keys(s.key_terms)]
    with open_writer(con_path, checkpoint=(d % 20 == 19)) as con, con.transaction():
        con.execute("INSERT INTO runs VALUES ($r, NULL, $t, $t, 'completed', '{}', '{}')",
                    {"r": run_id, "t": fetched})
        con.execute(_INSERT_ALL.format(table="fetch_log", cols=_cols(load.FETCH_SCHEMA)),
                    batch=load.to_arrow(fetch_rows, load.FETCH_SCHEMA))
        con.execute("INSERT INTO extraction_log SELECT url, run_id, source, status, reason, "
                    "article_id, now() FROM batch",
                    batch=load.to_arrow(outcomes_log, load.EXTRACTION_SCHEMA))
        con.execute(f"INSERT INTO articles ({_cols(load.ARTICLE_SCHEMA)}) SELECT "
                    f"{_cols(load.ARTICLE_SCHEMA)} FROM batch",
                    batch=load.to_arrow([load.article_record(a, run_id) for a in arts],
                                        load.ARTICLE_SCHEMA))
        con.execute("INSERT INTO entries (source, url, guid, via, title, published_at, updated, "
                    "stored_updated, outcome, reason, first_seen_at, last_seen_at, first_run_id, "
                    "last_run_id, refetched_at) SELECT source, url, guid, via, title, "
                    "published_at, updated, stored_updated, outcome, reason, seen_at, seen_at, "
                    "run_id, run_id, refetched_at FROM batch",
                    batch=load.to_arrow(entry_rows, load.ENTRY_SCHEMA))
        if raw_rows:
            con.execute(f"INSERT INTO raw_pages ({_cols(load.RAW_SCHEMA)}) SELECT "
                        f"{_cols(load.RAW_SCHEMA)} FROM batch",
                        batch=load.to_arrow(raw_rows, load.RAW_SCHEMA))
        con.execute("INSERT INTO events (" + _cols(load.EVENT_SCHEMA) + ", updated_at) SELECT "
                    + _cols(load.EVENT_SCHEMA) + ", $t FROM batch", {"t": fetched},
                    batch=load.to_arrow(event_rows, load.EVENT_SCHEMA))
        con.execute("INSERT INTO event_articles SELECT * FROM batch",
                    batch=load.to_arrow(member_rows, load.MEMBERSHIP_SCHEMA))
        if dup_rows:
            con.execute("INSERT INTO duplicates SELECT * FROM batch",
                        batch=load.to_arrow(dup_rows, load.DUPLICATE_SCHEMA))
        con.execute(f"INSERT INTO cluster_articles ({ENTRY_COLUMNS}, indexed_at) SELECT "
                    f"{ENTRY_COLUMNS}, $t FROM batch", {"t": fetched},
                    batch=load.to_arrow(map(entry_row, entries), ci.ENTRY_SCHEMA))
        for family, rows in postings.items():
            table = "cluster_copy_keys" if family == "copy" else "cluster_event_keys"
            con.execute(f"INSERT INTO {table} SELECT * FROM batch",
                        batch=load.to_arrow(rows, ci._postings_schema(family)))
        if edges:
            con.execute("INSERT INTO cluster_edges SELECT * FROM batch",
                        batch=load.to_arrow(edges, ci.EDGE_SCHEMA))
        copy_pairs = [{"a": entry_of[c.copy_of].seq, "b": entry_of[c.id].seq,
                       "score": 100.0 if c.kind == "same-text" else 95.0}
                      for c in copies.values() if c.kind == "near-copy"]
        if copy_pairs:
            con.execute("INSERT INTO cluster_copy_pairs SELECT * FROM batch",
                        batch=load.to_arrow(copy_pairs, ci.PAIR_SCHEMA))
        if (today - day).days <= params.window_days + 1:
            stats = day_stats
            rows = [{"day": day, "kind": "docs", "term": "", "docs": stats.docs}]
            rows += [{"day": day, "kind": "term", "term": t, "docs": n}
                     for t, n in stats.terms.items()]
            rows += [{"day": day, "kind": "name", "term": t, "docs": n}
                     for t, n in stats.names.items()]
            con.execute("INSERT INTO cluster_term_days SELECT * FROM batch",
                        batch=load.to_arrow(rows, ci.TERM_DAY_SCHEMA))


_INSERT_ALL = "INSERT INTO {table} ({cols}) SELECT {cols} FROM batch"


def _cols(schema: pa.Schema) -> str:
    return ", ".join(schema.names)


# --- the daily run's site ------------------------------------------------------------------


def today_site(params: Params, folder: Path, stored_listed: bool = True,
               ) -> tuple[dict[tuple[str, str], Page], list[str]]:
    """The pages of the day after the history: `pages` new articles (new events, late
    reports of yesterday's events, follow-ups of the week's stories, copies), each host with
    robots.txt and a news sitemap of its yesterday's (already stored; left out without
    `stored_listed`, for a run into an empty warehouse: the same new pages to fetch, no
    stored ones) and today's articles. Returns the pages and the URLs new today."""
    from demosite.site import _html

    with open(folder / "world.pkl", "rb") as handle:
        state = pickle.load(handle)
    today = state["today"]
    world = World(params, history_start(params, today))
    world.recent, world.yesterday, world.number = (state["recent"], state["yesterday"],
                                                   state["number"])
    fresh = world.day(params.days, count=params.pages)
    pages: dict[tuple[str, str], Page] = {}
    listed: dict[int, list[dict]] = defaultdict(list)
    for item in state["listed"] if stored_listed else ():
        listed[item["host"]].append({"title": item["title"], "outlet": host(item["host"]),
                                     "path": item["url"].split(host(item["host"]), 1)[1],
                                     "published": item["published"]})
    outlets = load_corpus()["outlets"]
    fetched = datetime.now(UTC)
    for x in fresh:
        path = x.url.split(host(x.host), 1)[1]
        listed[x.host].append({"title": x.title, "outlet": host(x.host), "path": path,
                               "published": x.published.isoformat()})
        pages[(host(x.host), path)] = _html(html_page(x, article_of(x, fetched)))
    for h in range(params.hosts):
        outlet = {**outlets[h % len(outlets)], "host": host(h), "brand": f"Outlet {h}",
                  "sitemap": SITEMAP_PATH, "sitemap_index": None}
        pages[(host(h), SITEMAP_PATH)] = Page(news_sitemap(outlet, listed[h]).encode(),
                                              "application/xml; charset=utf-8")
        pages[(host(h), "/robots.txt")] = Page(robots_txt(outlet).encode(),
                                               "text/plain; charset=utf-8")
    return pages, [x.url for x in fresh]
