"""Story threads: the level above events.

Readers follow a developing story for days or weeks: a crash, then the victims named, then
the investigation. Events stay tight (one happening: a 7-day window, date conflicts); a story
ties related events together without ever merging or splitting them.

An event joins a story when it shares the story's specific terms and names with one of the
story's events seen within `window_days` of it: the cosine of their TF-IDF terms
(`Event.terms`: words frequent in the event and rare in its clustering window) plus the
overlap of the words of their actors and places, rare words weighing most. Events at most
`near_days` apart need less ("the victims named" the day after the crash). An event whose
publication time is unknown is compared with every story: unknown is not far.

Events are placed one at a time, oldest first (ties by id), each joining the story it matches
best or founding a new one, so the result depends on the set of events, not on their order.
The flow places each run's re-clustered window against the stories already stored
(`earlier`), so stories grow run by run as events do. A story founded by an event whose
articles were in a story before takes that story's id again (`previous`), so re-clustering an
event does not rename its story.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from extractors.content.text import words
from extractors.models import Event, Story, StoryResult
from extractors.timezones import naive_as_utc


@dataclass(frozen=True)
class StorySettings:
    """How events are tied into stories; how each value was chosen is in
    docs/clustering.md (giveme5w1h, whose gold groups span weeks, is the dev set)."""

    # A story continues while its events follow one another within this many days.
    window_days: float = 60.0
    # similarity = w_terms * cosine of the terms + w_names * overlap of the name words;
    # an event joins a story when the similarity to one of its events reaches
    # link_threshold, or near_threshold when the two are at most near_days apart.
    w_terms: float = 0.85
    w_names: float = 0.15
    link_threshold: float = 0.30
    near_days: float = 2.0
    near_threshold: float = 0.20
    top_names: int = 8  # actors and places (each) of an event whose words are compared
    # The name overlap of an event with fewer name words than this is scaled down in
    # proportion: one shared word ("Ukraine") is all the names of an event naming nothing
    # else, which says less than events sharing several of their names (unknown is not
    # evidence). giveme5w1h is indifferent to 1-4; 4 keeps ru_exam's stories where they were
    # once junk actors left the facets (docs/clustering.md).
    min_name_words: int = 4
    # An event is compared with the placed events sharing one of its terms or name words;
    # for a word that many share, with the max_postings placed last only (bounded cost).
    max_postings: int = 30


DEFAULT_STORY_SETTINGS = StorySettings()


def story_id(founding_event_id: str) -> str:
    """A new story's id, from the id of the event that founded it."""
    return "st_" + hashlib.sha1(founding_event_id.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ContextCounts:
    """What the whole stored context of a placement weighs in, beyond the events it can
    compare: its size and the events holding each name word (the rarity of name words is
    counted over every event at hand), and its stories (ids a new story may not take)."""

    size: int
    name_docs: Mapping[str, int]
    stories: frozenset[str]


def build_stories(
    events: Sequence[Event],
    earlier: Sequence[Event] = (),
    earlier_story_of: Mapping[str, str] | None = None,
    previous: Mapping[str, str] | None = None,
    settings: StorySettings = DEFAULT_STORY_SETTINGS,
) -> StoryResult:
    """Place `events` into stories.

    `earlier`: stored events already in stories (`earlier_story_of`: event id -> story id),
    which `events` may join; give all the events of those stories, so their records come out
    whole. `previous`: article id -> the story the article was in before this clustering.
    Returns the story of each of `events` and the records of every story they are in.
    """
    earlier_story_of = earlier_story_of or {}
    story_of = place_events(events, earlier, earlier_story_of, previous, settings)
    return StoryResult(story_records(story_of, events, earlier, earlier_story_of), story_of)


def place_events(
    events: Sequence[Event],
    earlier: Sequence[Event],
    earlier_story_of: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
    settings: StorySettings = DEFAULT_STORY_SETTINGS,
    counts: ContextCounts | None = None,
) -> dict[str, str]:
    """The story of each of `events` (event id -> story id), as build_stories places them.

    Without `counts`, `earlier` is the whole stored context. With them (`context_counts` of
    the whole context), `earlier` need hold only the stored events that can be compared
    (`narrow_context`): the placement is the same."""
    previous = previous or {}
    fresh = sorted({e.id: e for e in events}.values(), key=_arrival)
    fresh_ids = {e.id for e in fresh}
    context = sorted(
        (e for e in {e.id: e for e in earlier}.values()
         if e.id not in fresh_ids and e.id in earlier_story_of),
        key=_arrival,
    )
    if counts is None:
        counts = context_counts(context, {earlier_story_of[e.id] for e in context}, settings)
    everyone = [*context, *fresh]
    profiles = _Profiles(everyone, len(context), settings, counts)
    row_story: list[str] = [earlier_story_of[e.id] for e in context]
    taken = set(counts.stories)

    story_of: dict[str, str] = {}
    for row in range(len(context), len(everyone)):
        e = everyone[row]
        best: tuple[float, str] | None = None
        for other, margin in profiles.margins(row):
            sid = row_story[other]
            # The story whose event clears its bar by most (ties: the smaller story id).
            if margin >= 0 and (best is None or (-margin, sid) < (-best[0], best[1])):
                best = (margin, sid)
        story_of[e.id] = best[1] if best else _new_id(e, previous, taken)
        row_story.append(story_of[e.id])
        taken.add(story_of[e.id])
        profiles.index(row)
    return story_of


def story_records(
    story_of: Mapping[str, str], events: Sequence[Event], earlier: Sequence[Event],
    earlier_story_of: Mapping[str, str],
) -> tuple[Story, ...]:
    """The records of the stories `events` are in (`story_of`), from those events and the
    stored events of those stories in `earlier` (give them all)."""
    fresh = {e.id: e for e in events}
    members: dict[str, list[Event]] = defaultdict(list)
    for e in {e.id: e for e in earlier}.values():
        if e.id not in fresh and e.id in earlier_story_of:
            members[earlier_story_of[e.id]].append(e)
    for e in fresh.values():
        members[story_of[e.id]].append(e)
    return tuple(_story(sid, members[sid]) for sid in sorted(set(story_of.values())))


def context_counts(context: Sequence[Event], stories: Iterable[str],
                   settings: StorySettings = DEFAULT_STORY_SETTINGS) -> ContextCounts:
    """The counts of a whole stored context (its events need only ids, actors and places)
    whose events are in `stories`."""
    return _counts(_names_of(context, settings.top_names), stories)


def _counts(names: Sequence[frozenset[str]], stories: Iterable[str]) -> ContextCounts:
    return ContextCounts(len(names), Counter(w for ws in names for w in ws), frozenset(stories))


def narrow_context(
    context: Sequence[tuple[str, int | None, Sequence[str], Sequence[str]]],
    stories: Iterable[str], events: Sequence[Event], by_terms: Collection[str],
    settings: StorySettings = DEFAULT_STORY_SETTINGS,
) -> tuple[ContextCounts, set[str]]:
    """What placing `events` needs of a whole stored context besides the events it can
    compare, and the ids of those: (context_counts, the stored events placement can
    compare). Those are, for each name word of `events`, the `max_postings` context events
    holding it placed last, and `by_terms`, the same for their terms (found by the
    warehouse). `context`: every stored event at hand, none with an id of `events`, as (id,
    first seen in microseconds since 1970 or None, actors, places); `stories`: theirs."""
    # Arrival order (_arrival): microseconds order as the float days do, one to one.
    ordered = sorted(context, key=lambda c: (c[1] is None, c[1] or 0, c[0]))
    names = _name_words([(c[2], c[3]) for c in ordered], settings.top_names)
    fresh_names = {w for ws in _names_of(events, settings.top_names) for w in ws}
    postings: dict[str, list[str]] = defaultdict(list)
    for c, ws in zip(ordered, names, strict=True):
        for w in ws & fresh_names:
            postings[w].append(c[0])
    wanted = set(by_terms)
    for ids in postings.values():
        wanted.update(ids[-settings.max_postings:])
    return _counts(names, stories), wanted


def _time(event: Event) -> float | None:
    """When the event was first seen (published, else fetched), in days; None if unknown.
    Its event date is not used: a date an undated text mentions is often background."""
    if event.first_seen is None:
        return None
    return naive_as_utc(event.first_seen).timestamp() / 86400.0


def _arrival(event: Event) -> tuple[bool, float, str]:
    """Oldest first, events of unknown time last, ties by id."""
    t = _time(event)
    return (t is None, 0.0 if t is None else t, event.id)


def _new_id(event: Event, previous: Mapping[str, str], taken: Collection[str]) -> str:
    """The story most of the event's articles were in before (ties by id), unless another
    story holds that id now; else a new id from the event."""
    before = Counter(previous[a] for a in event.article_ids if a in previous)
    for sid, _ in sorted(before.items(), key=lambda kv: (-kv[1], kv[0])):
        if sid not in taken:
            return sid
    return story_id(event.id)


class _Profiles:
    """What events are compared by, one row per event: unit term vectors, and the words of
    their names weighted by how rare they are among the events at hand. Events placed so far
    are indexed by term and name word; an event is compared only with placed events sharing
    one, and for a word shared by many, with the `max_postings` placed last (the latest).

    The first `placed` rows (the stored events) are placed already, in row order. Only the
    words of the rows still to place are ever looked up, so only those postings are kept,
    and vectors are made only for the rows that can be compared (the rows to place, and
    the last `max_postings` placed rows of each of their words): a window of stored events
    costs their name words (for the rarity weights), not a vector each."""

    def __init__(self, events: Sequence[Event], placed: int, s: StorySettings,
                 counts: ContextCounts):
        self.s = s
        n = len(events)
        self.times = np.array([np.nan if (t := _time(e)) is None else t for e in events])
        names = _names_of(events, s.top_names)
        fresh_df = Counter(w for ws in names[placed:] for w in ws)
        name_idf = _Rarity(counts.size + n - placed, counts.name_docs, fresh_df)
        fresh_terms = {t for e in events[placed:] for t, _ in e.terms}
        fresh_names = set(fresh_df)
        self.term_postings: dict[str, list[int]] = defaultdict(list)
        self.name_postings: dict[str, list[int]] = defaultdict(list)
        for row in range(placed):  # indexed in row order, as if placed one by one
            for t in dict(events[row].terms):
                if t in fresh_terms:
                    self.term_postings[t].append(row)
            for w in names[row]:
                if w in fresh_names:
                    self.name_postings[w].append(row)
        cap = s.max_postings
        wanted = set(range(placed, n))
        for postings in (self.term_postings, self.name_postings):
            for rows in postings.values():
                wanted.update(rows[-cap:])
        self.rows = sorted(wanted)
        self.local = np.full(n, -1, dtype=np.int64)
        self.local[self.rows] = np.arange(len(self.rows))
        terms = [_unit(dict(events[r].terms)) for r in self.rows]
        kept = [names[r] for r in self.rows]
        self.terms = _rows(terms)
        self.names = _rows([{w: 1.0 for w in ws} for ws in kept])
        self.weighted_names = _rows([{w: name_idf[w] for w in ws} for ws in kept])
        self.name_mass = np.array([sum(name_idf[w] for w in ws) for ws in kept])
        self.name_count = np.array([len(ws) for ws in kept], dtype=float)
        self.keys = {r: (list(v), names[r]) for r, v in zip(self.rows, terms, strict=True)
                     if r >= placed}

    def index(self, row: int) -> None:
        """Make a placed event a candidate for the events placed after it."""
        terms, names = self.keys[row]
        for t in terms:
            self.term_postings[t].append(row)
        for w in names:
            self.name_postings[w].append(row)

    def margins(self, row: int) -> list[tuple[int, float]]:
        """(placed row, how far its similarity to `row` clears their bar) for the placed
        events within the story window of it that share a term or name word."""
        cap = self.s.max_postings
        terms, names_ = self.keys[row]
        found = {r for t in terms for r in self.term_postings.get(t, ())[-cap:]}
        found.update(r for w in names_ for r in self.name_postings.get(w, ())[-cap:])
        if not found:
            return []
        others = np.array(sorted(found))
        gap = np.abs(self.times[others] - self.times[row])  # NaN: a time is unknown
        others, gap = others[~(gap > self.s.window_days)], gap[~(gap > self.s.window_days)]
        if len(others) == 0:
            return []
        mine, theirs = self.local[row], self.local[others]
        terms = (self.terms[theirs] @ self.terms[mine].T).toarray().ravel()
        shared = (self.names[theirs] @ self.weighted_names[mine].T).toarray().ravel()
        smaller = np.minimum(self.name_mass[theirs], self.name_mass[mine])
        names = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
        fewer = np.minimum(self.name_count[theirs], self.name_count[mine])
        names *= np.minimum(fewer / max(self.s.min_name_words, 1), 1.0)
        similarity = self.s.w_terms * terms + self.s.w_names * names
        bar = np.where(gap <= self.s.near_days, self.s.near_threshold, self.s.link_threshold)
        return list(zip(others.tolist(), (similarity - bar).tolist(), strict=True))


class _Rarity(dict):
    """name word -> its weight, log((n + 1) / (k + 1)) + 1 for a word k of the n events at
    hand hold (the stored context's counts plus the events to place), made when asked."""

    def __init__(self, n: int, stored: Mapping[str, int], fresh: Mapping[str, int]):
        super().__init__()
        self.n, self.stored, self.fresh = n, stored, fresh

    def __missing__(self, word: str) -> float:
        k = self.stored.get(word, 0) + self.fresh.get(word, 0)
        self[word] = weight = math.log((self.n + 1) / (k + 1)) + 1.0
        return weight


def _rows(vectors: list[dict[str, float]]) -> sparse.csr_matrix:
    """One sparse row per {word: weight} dict, over the words of all of them."""
    vocab: dict[str, int] = {}
    indptr, indices, data = [0], [], []
    for vector in vectors:
        for word, weight in vector.items():
            indices.append(vocab.setdefault(word, len(vocab)))
            data.append(weight)
        indptr.append(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(vectors), max(1, len(vocab))))


def _names_of(events: Sequence[Event], limit: int) -> list[frozenset[str]]:
    """Each event's name words: stems of the words of its main actors and places
    ("Fuentes" meets "Gloria Fuentes"; the 6-letter stems of clustering, so "Korea" meets
    "Korean")."""
    return _name_words([(e.actors, e.places) for e in events], limit)


def _name_words(names: Sequence[tuple[Sequence[str], Sequence[str]]], limit: int
                ) -> list[frozenset[str]]:
    """_names_of for (actors, places) pairs. Each distinct name is split once (names
    repeat across a window's events)."""
    memo: dict[str, list[str]] = {}

    def stems(name: str) -> list[str]:
        if name not in memo:
            memo[name] = [w[:6] for w in words(name) if len(w) > 2]
        return memo[name]

    return [frozenset(w for name in (*actors[:limit], *places[:limit]) for w in stems(name))
            for actors, places in names]


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


def _story(sid: str, events: list[Event]) -> Story:
    """A story's record from all its events: the headline of its biggest event (ties: the
    earliest), its span, and the actors and places that most of its articles carry."""
    events = sorted(events, key=_arrival)
    lead = min(events, key=lambda e: (-e.n_articles, _arrival(e)))
    firsts = [naive_as_utc(e.first_seen) for e in events if e.first_seen is not None]
    lasts = [naive_as_utc(t) for e in events if (t := e.last_seen or e.first_seen) is not None]
    return Story(
        id=sid,
        title=lead.headline,
        event_ids=tuple(e.id for e in events),
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
        n_events=len(events),
        n_articles=sum(e.n_articles for e in events),
        actors=_by_articles(events, "actors"),
        places=_by_articles(events, "places"),
    )


def _by_articles(events: list[Event], facet: str, limit: int = 10) -> tuple[str, ...]:
    """Names ranked by the number of articles of the events that have them among their
    top five; ties by name."""
    counts: Counter[str] = Counter()
    for e in events:
        for name in getattr(e, facet)[:5]:
            counts[name] += max(1, e.n_articles)
    return tuple(n for n, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])
