"""Incremental clustering: a run's articles are matched against the stored index, and only
the events they touch are decided again.

The index (warehouse/cluster_index.py keeps it in the warehouse; `MemoryIndex` in memory):

- an entry per article: its features (extractors/events/features.py), which never change
  once made, its copy features (word count, text hash, shingle sketch), its role (an
  original, a same-text copy or a near copy, and of what), and for an original the label of
  its linking component;
- postings: per blocking key, the articles holding it in (time, seq) order. Copy keys (the
  sketch's shingle hashes) over the articles that may be near copies, event keys
  (ArticleFeatures.keys) over the originals;
- the copy pairs found (rapidfuzz ratio >= copy_threshold) and the event edges (pair score
  >= event_threshold - average_floor, with the pair's features).

`update()` takes the arriving articles (new ones, and stored ones whose text changed) and
works out what changes: same-text groups and copy components they touch are decided again,
the postings they enter or leave change the candidate pairs of those keys near the change
only (the block rule of dedup.block_pairs: all pairs of a small block, `block_width`
neighbours in a large one), new candidates are scored with clustering.score_pairs, pairs no
key produces any more lose their edge, and every linking component (edges >=
event_threshold) that gained or lost a member, a linking edge or an edge between two of its
members is grouped again with clustering.group_edges and its events assembled. A new edge
below event_threshold from an arriving article to a stored one in another component changes
neither component's grouping, so the stored one's component is not decided again (at 1M
stored articles, 300 new pages touched 131 events instead of 1,442). Everything else stays
as stored.

Because features are fixed and the block rule, the scoring and the grouping are the ones
`clustering.cluster_features` uses, the index after any sequence of updates gives the same
events as clustering every indexed article at once (`full_clustering`; proven on random
histories and the dev corpora in tests/test_incremental_clustering.py). Ties in time are
broken by `seq`, the order of arrival (and by id within one arrival), where `cluster()`
breaks them by id: for one batch the two agree.

All reads go through an `IndexReader` (the warehouse's, or MemoryIndex), in a few batched
calls per update; nothing here opens a file.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from extractors.content.keys import Keys, KeysArgs, keys_memo
from extractors.content.text import opening
from extractors.events import crosslingual, evidence
from extractors.events.clustering import (
    ClusterSettings,
    _assemble,
    _event_terms,
    cluster_features,
    group_edges,
    score_pairs,
)
from extractors.events.dedup import COMPARE_CHARS
from extractors.events.features import (
    TermStats,
    Tokens,
    TokenSettings,
    copy_features,
    features_of,
    term_matrix,
    tokens_of,
)
from extractors.models import (
    NEAR_COPY,
    ORIGINAL,
    SAME_TEXT,
    Article,
    ClusterResult,
    CopyFeatures,
    Duplicate,
    IndexEdge,
    IndexEntry,
    Link,
)

Entry, Edge = IndexEntry, IndexEdge

# The posting families: copy keys, the word scorer's event keys, and the cross-lingual
# scorer's keys (#27: pairs of two languages, or of a language the word scorer was not tuned
# for, are that scorer's; crosslingual.applies says which).
COPY, EVENT, XLANG = "copy", "event", "xlang"

Pair = tuple[int, int]  # (smaller seq, larger seq)


def _order_time(t: float) -> float:
    return math.inf if math.isnan(t) else t


def copy_keys(entry: Entry) -> list[int]:
    return sorted(set(entry.copy.sketch))


def event_keys(entry: Entry, s: ClusterSettings) -> list[str]:
    return entry.features.keys(s.key_terms)


def xlang_keys(entry: Entry) -> tuple[str, ...]:
    return entry.features.xl_keys


def posting_time(entry: Entry, family: str) -> float:
    """Where an entry sits in its keys' postings (unknown times last)."""
    t = entry.features.when if family == EVENT else entry.features.time
    return _order_time(t)


def _cross(entries: Mapping[int, Entry], pair: Pair) -> bool:
    """Whether the cross-lingual scorer (not the word scorer) decides a pair."""
    return crosslingual.applies(entries[pair[0]].features.language,
                                entries[pair[1]].features.language)


class IndexReader(Protocol):
    """What an update reads from the index (batched; see warehouse/cluster_index.py)."""

    def entries(self, seqs: Iterable[int]) -> dict[int, Entry]: ...

    def entries_by_id(self, ids: Iterable[str]) -> dict[str, Entry]: ...

    def same_hash(self, hashes: Iterable[str]) -> list[Entry]: ...

    def key_stats(self, family: str, keys: Iterable) -> dict:
        """key -> (postings, lowest time, highest time) of the keys that have postings."""
        ...

    def postings(self, family: str, ranges: Mapping) -> dict:
        """key -> [(time, seq)] of its postings with lo <= time <= hi, ranges: key -> (lo, hi)."""
        ...

    def between(self, family: str, spans: Iterable[tuple]) -> dict:
        """(key, (t1, s1), (t2, s2)) -> postings of key strictly between the two positions."""
        ...

    def copy_pairs(self, seqs: Iterable[int]) -> list[tuple[int, int, float]]: ...

    def edges(self, seqs: Iterable[int]) -> list[Edge]:
        """Edges with an end among `seqs`."""
        ...

    def component_members(self, labels: Iterable[int]) -> list[int]: ...

    def copies_of(self, seqs: Iterable[int]) -> list[Entry]:
        """Entries that copy one of `seqs`."""
        ...

    def openings(self, seqs: Iterable[int]) -> dict[int, str]:
        """Normalised text openings (extractors.events.features.opening) of these articles."""
        ...

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """The articles' facts (texts may be left out)."""
        ...

    def texts(self, ids: Iterable[str]) -> dict[str, Article]:
        """The whole articles, texts too."""
        ...

    def events_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id -> its current event id."""
        ...


@dataclass
class IndexChange:
    """What an update changes; `result` holds the events, memberships and copies decided
    again, for the articles in `article_ids` (their old rows are replaced)."""

    put: dict[int, Entry] = field(default_factory=dict)  # new or changed entries, by seq
    drop: set[int] = field(default_factory=set)  # entries removed (replaced versions)
    postings_add: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    postings_del: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    copy_pairs_add: dict[Pair, float] = field(default_factory=dict)
    copy_pairs_del: set[Pair] = field(default_factory=set)
    edges_add: dict[Pair, Edge] = field(default_factory=dict)
    edges_del: set[Pair] = field(default_factory=set)
    stats: TermStats = field(default_factory=TermStats)  # the arrivals' document frequencies
    result: ClusterResult = field(default_factory=lambda: ClusterResult((), (), ()))
    article_ids: list[str] = field(default_factory=list)
    events_before: dict[str, str] = field(default_factory=dict)  # article id -> old event
    scored_pairs: int = 0


# --- the block rule, kept up to date ---------------------------------------------------------


def block_rule(members: Sequence[int], small: bool, width: int) -> set[Pair]:
    """dedup.block_pairs for one key: members in posting order; all pairs of a small block,
    else each with its `width` successors."""
    pairs = set()
    n = len(members)
    for i in range(n):
        last = n if small else min(n, i + width + 1)
        for j in range(i + 1, last):
            a, b = members[i], members[j]
            pairs.add((a, b) if a < b else (b, a))
    return pairs


@dataclass
class _KeyChange:
    deleted: dict[int, float] = field(default_factory=dict)  # seq -> posting time
    inserted: dict[int, float] = field(default_factory=dict)


def _candidate_diff(
    reader: IndexReader, family: str, changes: Mapping, s: ClusterSettings
) -> tuple[set[Pair], set[Pair], dict]:
    """Candidate pairs that appear and disappear when `changes` (key -> _KeyChange) are
    applied to the postings, and the new sizes of the changed keys. Only the stored
    postings near each change are read: a pair changes only if a change lies between its
    ends, and then both ends are within `block_width` (plus the deletions) of it."""
    if not changes:
        return set(), set(), {}
    stats = reader.key_stats(family, changes.keys())
    width, limit = s.block_width, s.max_block
    sizes = {}
    ranges: dict = {}
    radius: dict = {}
    for key, ch in changes.items():
        n, lo, hi = stats.get(key, (0, math.inf, -math.inf))
        n_new = n - len(ch.deleted) + len(ch.inserted)
        sizes[key] = n_new
        if n == 0:
            continue
        if n <= limit or n_new <= limit or math.isinf(hi - lo) or math.isnan(hi - lo):
            ranges[key] = [(-math.inf, math.inf)]
            continue
        margin = width + len(ch.deleted) + 1
        radius[key] = max(1.0, (hi - lo) / n * 2 * (margin + 1))
    added: set[Pair] = set()
    removed: set[Pair] = set()
    pending = dict(radius)
    fetched: dict = {}
    while pending or ranges:
        for key, r in pending.items():
            points = sorted({*changes[key].deleted.values(), *changes[key].inserted.values()})
            if math.isinf(r) or any(math.isinf(p) for p in points):
                ranges[key] = [(-math.inf, math.inf)]
            else:
                ranges[key] = _merged([(p - r, p + r) for p in points])
        got = reader.postings(family, {k: v for k, v in ranges.items()}) if ranges else {}
        retry = {}
        for key, spans in ranges.items():
            rows = sorted(got.get(key, []))
            n, lo, hi = stats[key]
            if key in pending and not _enough(rows, spans, changes[key], lo, hi,
                                               width + len(changes[key].deleted) + 1):
                retry[key] = pending[key] * 4
                continue
            fetched[key] = (rows, spans)
        ranges = {}
        pending = retry
    for key, ch in changes.items():
        n = stats.get(key, (0, 0, 0))[0]
        rows, spans = fetched.get(key, ([], [(-math.inf, math.inf)]))
        old_small, new_small = n <= limit, sizes[key] <= limit
        inserted = sorted((t, q) for q, t in ch.inserted.items())
        for lo, hi in spans:
            old = [q for t, q in rows if lo <= t <= hi]
            new = sorted([(t, q) for t, q in rows if lo <= t <= hi and q not in ch.deleted]
                         + [(t, q) for t, q in inserted if lo <= t <= hi])
            before = block_rule(old, old_small, width)
            after = block_rule([q for _, q in new], new_small, width)
            added |= after - before
            removed |= before - after
    return added, removed - added, sizes


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    spans = sorted(spans)
    out = [spans[0]]
    for lo, hi in spans[1:]:
        if lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _enough(rows: list, spans: list, ch: _KeyChange, lo: float, hi: float, need: int) -> bool:
    """Whether the fetched postings hold `need` stored neighbours on each side of every
    change point (or reach the key's first or last posting)."""
    points = [*((t, q) for q, t in ch.deleted.items()), *((t, q) for q, t in ch.inserted.items())]
    for point in points:
        span = next(sp for sp in spans if sp[0] <= point[0] <= sp[1])
        inside = [r for r in rows if span[0] <= r[0] <= span[1]]
        before = sum(1 for r in inside if r < point)
        after = sum(1 for r in inside if r > point)
        if before < need and span[0] > lo:
            return False
        if after < need and span[1] < hi:
            return False
    return True


def _still_candidates(
    reader: IndexReader, family: str, pairs: Iterable[Pair], entries: Mapping[int, Entry],
    keys_of, changes: Mapping, sizes: Mapping, s: ClusterSettings,
) -> set[Pair]:
    """Those of `pairs` (stored pairs some key stopped producing) that another shared key
    still produces: their rank distance in its postings after the change is at most
    block_width, or the key's block is small."""
    keep: set[Pair] = set()
    spans = []
    for pair in pairs:
        a, b = entries[pair[0]], entries[pair[1]]
        first, second = sorted([(posting_time(a, family), a.seq),
                                (posting_time(b, family), b.seq)])
        spans += [(k, first, second, pair) for k in set(keys_of(a)) & set(keys_of(b))]
    if not spans:
        return keep
    counts = reader.between(family, [(k, x, y) for k, x, y, _ in spans])
    stats = reader.key_stats(family, {k for k, *_ in spans})
    for k, x, y, pair in spans:
        n = sizes[k] if k in sizes else stats.get(k, (0,))[0]
        between = counts.get((k, x, y), 0)
        ch = changes.get(k)
        if ch is not None:  # the stored count, moved by this update's changes in between
            between -= sum(1 for q, t in ch.deleted.items() if x < (t, q) < y)
            between += sum(1 for q, t in ch.inserted.items() if x < (t, q) < y)
        if n <= s.max_block or between + 1 <= s.block_width:
            keep.add(pair)
    return keep


# --- the update ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """An article arriving in the index (new, or a stored article whose text changed)."""

    article: Article
    tokens: Tokens
    copy: CopyFeatures


def arrivals_of(articles: Iterable[Article], s: ClusterSettings) -> list[Arrival]:
    """Tokenise arriving articles (the costly part; stats-free, so it may run anywhere)."""
    return [Arrival(a, tokens_of(a, s.tokens), copy_features(a)) for a in articles]


@dataclass(frozen=True)
class PreparedFeatures:
    """An article's arrival features made where it was extracted (the extraction worker
    holds its text already), so the flow process need not make them: used only for an
    article whose feature inputs (`inputs`) and token settings are the ones stored."""

    inputs: bytes  # feature_inputs of the article they were made from
    settings: TokenSettings
    tokens: Tokens
    copy: CopyFeatures
    keys: Keys | None = None  # its article_keys (the cross-lingual scorer reads them too)


def feature_inputs(article: Article) -> bytes:
    """A digest of every field of `article` its arrival features read (tokens_of,
    crosslingual.key_parts, copy_features): equal digests, equal features."""
    read = (article.title, article.text, article.description, article.language,
            article.content_hash, tuple(article.facets.actors), tuple(article.facets.places))
    return hashlib.blake2b(repr(read).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def prepare_features(article: Article, settings: TokenSettings) -> PreparedFeatures:
    """`article`'s arrival features, to travel with it (extractors/content/parallel.py),
    with the article keys its tokens were made from."""
    with keys_memo() as made:
        tokens = tokens_of(article, settings)
    return PreparedFeatures(feature_inputs(article), settings, tokens, copy_features(article),
                            made.get(crosslingual.keys_args(article)))


def prepared_keys(arrivals: Iterable[Arrival], prepared: Mapping[str, PreparedFeatures]
                  ) -> dict[KeysArgs, Keys]:
    """The article keys prepared for `arrivals` as they are (same feature inputs), to seed
    keys_memo around the update: the cross-lingual scorer then need not make them again."""
    return {crosslingual.keys_args(a.article): p.keys for a in arrivals
            if (p := prepared.get(a.article.id)) is not None and p.keys is not None
            and p.inputs == feature_inputs(a.article)}


def pack_features(prepared: PreparedFeatures) -> bytes:
    """Prepared features as they travel and wait for the cluster step: pickled, ~5 KB for a
    news article (as objects, ~45 KB: a run's worth held until clustering would weigh)."""
    return pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_features(packed: bytes) -> PreparedFeatures:
    """pack_features' features back (made by this process's own extraction workers)."""
    return pickle.loads(packed)


def prepared_arrivals(
    articles: Iterable[Article], prepared: Mapping[str, PreparedFeatures], s: ClusterSettings,
) -> tuple[dict[str, Arrival], list[Article]]:
    """The arrivals whose features were prepared for the article as it is now (by id), and
    the articles left to tokenise (arrivals_of): none prepared, or prepared from another
    version of the article or with other settings."""
    ready: dict[str, Arrival] = {}
    left: list[Article] = []
    for a in articles:
        p = prepared.get(a.id)
        if p is not None and p.settings == s.tokens and p.inputs == feature_inputs(a):
            ready[a.id] = Arrival(a, p.tokens, p.copy)
        else:
            left.append(a)
    return ready, left


class _State:
    """Entries read or changed during one update (reads are cached, changes win)."""

    def __init__(self, reader: IndexReader):
        self.reader = reader
        self.known: dict[int, Entry] = {}
        self.change = IndexChange()
        self.arriving: dict[int, Article] = {}  # seq -> arriving article

    def openings(self, seqs: Iterable[int]) -> dict[int, str]:
        seqs = set(seqs)
        out = {q: opening(self.arriving[q].text, COMPARE_CHARS) for q in seqs
               if q in self.arriving}
        out.update(self.reader.openings(seqs - set(out)))
        return out

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        ids = set(ids)
        out = {a.id: a for a in self.arriving.values() if a.id in ids}
        out.update(self.reader.articles(ids - set(out)))
        return out

    def texts(self, ids: Iterable[str]) -> dict[str, Article]:
        """Whole articles (their texts too): what the cross-lingual scorer reads."""
        ids = set(ids)
        out = {a.id: a for a in self.arriving.values() if a.id in ids}
        out.update(self.reader.texts(ids - set(out)))
        return out

    def get(self, seqs: Iterable[int]) -> dict[int, Entry]:
        seqs = set(seqs)
        missing = [q for q in seqs if q not in self.known and q not in self.change.put]
        if missing:
            self.known.update(self.reader.entries(missing))
        return {q: self.change.put.get(q) or self.known[q] for q in seqs
                if q in self.change.put or q in self.known}

    def put(self, entry: Entry) -> None:
        self.change.put[entry.seq] = entry


def update(
    reader: IndexReader, arrivals: Sequence[Arrival], first_seq: int, window: TermStats,
    s: ClusterSettings,
) -> IndexChange:
    """Index `arrivals` (seqs from `first_seq` on, in id order) and decide again what they
    touch. `window`: the document frequencies of the recent stored articles that new
    features are weighed against (the arrivals' own originals are added to them)."""
    state = _State(reader)
    change = state.change
    arrivals = sorted({a.article.id: a for a in arrivals}.values(), key=lambda a: a.article.id)
    if not arrivals:
        return change
    replaced = reader.entries_by_id(a.article.id for a in arrivals)
    state.known.update({e.seq: e for e in replaced.values()})
    change.drop = {e.seq for e in replaced.values()}
    # Placeholder features (no weights yet): copies are decided before term statistics.
    fresh: dict[int, Entry] = {}
    for offset, arrival in enumerate(arrivals):
        seq = first_seq + offset
        feats = features_of(arrival.article, arrival.tokens, TermStats(1, _ones(arrival),
                                                                       _ones_names(arrival)),
                            seq, s.tokens)
        fresh[seq] = Entry(arrival.article.id, seq, feats, arrival.copy)
        state.arriving[seq] = arrival.article
    tokens = {seq: a.tokens for seq, a in zip(fresh, arrivals, strict=True)}
    for entry in fresh.values():
        state.put(entry)

    touched = _decide_same_text(state, fresh, s)
    copy_members = _decide_near_copies(state, fresh, touched, s)
    # Term statistics: the window's plus the arrivals that are originals; then real features.
    originals = [q for q in fresh if state.get([q])[q].role == ORIGINAL]
    change.stats = TermStats.of(tokens[q] for q in originals)
    stats = window.plus(change.stats)
    for q, arrival in zip(fresh, arrivals, strict=True):
        entry = state.get([q])[q]
        own = stats if q in originals else stats.plus(TermStats.of([tokens[q]]))
        state.put(replace(entry, features=features_of(arrival.article, tokens[q], own, q,
                                                       s.tokens)))
    _update_events(state, fresh, copy_members, s)
    return change


def _ones(arrival: Arrival) -> dict[str, int]:
    return dict.fromkeys(arrival.tokens.document, 1)


def _ones_names(arrival: Arrival) -> dict[str, int]:
    return dict.fromkeys(arrival.tokens.names, 1)


def _decide_same_text(state: _State, fresh: Mapping[int, Entry], s: ClusterSettings) -> set[int]:
    """Same-text groups of the arrivals' (and replaced versions') hashes, decided again:
    the earliest member is the original, the others copy it. Returns the seqs whose role
    changed or arrived."""
    change = state.change
    hashes = {e.copy.content_hash for e in [*fresh.values(), *state.get(change.drop).values()]}
    stored = [e for e in state.reader.same_hash(hashes) if e.seq not in change.drop]
    state.known.update({e.seq: e for e in stored})
    members: dict[str, list[Entry]] = defaultdict(list)
    for e in [*stored, *fresh.values()]:
        if e.copy.n_words >= s.min_copy_words and e.copy.content_hash:
            members[e.copy.content_hash].append(e)
    touched = set(fresh)
    for group in members.values():
        group.sort(key=lambda e: e.time_key)
        head = group[0]
        if head.role == SAME_TEXT:
            state.put(replace(head, role=ORIGINAL, copy_of=None, copy_score=0.0))
            touched.add(head.seq)
        for e in group[1:]:
            if e.role != SAME_TEXT or e.copy_of != head.seq:
                state.put(replace(e, role=SAME_TEXT, copy_of=head.seq, copy_score=100.0))
                touched.add(e.seq)
    return touched


def _decide_near_copies(
    state: _State, fresh: Mapping[int, Entry], touched: set[int], s: ClusterSettings
) -> set[int]:
    """Copy postings and pairs brought up to date for the articles that entered or left the
    near-copy candidates, and the copy components they touch walked again (dedup's rule:
    in arrival order, an article copies the earliest non-copy it matches). Returns the
    members of the components walked."""
    change = state.change
    entries = state.get(touched | change.drop)
    changes: dict = defaultdict(_KeyChange)
    leaving, entering = set(), set()
    for q, e in entries.items():
        before = state.known.get(q)
        was = before is not None and before.may_copy(s.min_copy_words) and q not in fresh
        now = q not in change.drop and e.may_copy(s.min_copy_words)
        if was and (not now or q in change.drop):
            leaving.add(q)
            for k in copy_keys(before):
                changes[k].deleted[q] = posting_time(before, COPY)
        if now and (not was):
            entering.add(q)
            for k in copy_keys(e):
                changes[k].inserted[q] = posting_time(e, COPY)
    for k, ch in changes.items():
        change.postings_add[COPY] += [(k, t, q) for q, t in ch.inserted.items()]
        change.postings_del[COPY] += [(k, q) for q in ch.deleted]
    added, removed, sizes = _candidate_diff(state.reader, COPY, changes, s)
    added = {p for p in added if not (set(p) & leaving)}
    stored_pairs = {(a, b): sc for a, b, sc in state.reader.copy_pairs(leaving | entering
                                                                        | _ends(added | removed))}
    gone = {p for p in stored_pairs if set(p) & leaving}
    maybe = {p for p in removed if p in stored_pairs and p not in gone}
    if maybe:
        ends = state.get(_ends(maybe))
        gone |= maybe - _still_candidates(state.reader, COPY, maybe, ends, copy_keys, changes,
                                          sizes, s)
    found = _copy_scores(state, added, s)
    change.copy_pairs_del |= gone
    change.copy_pairs_add.update(found)
    pairs = {p: sc for p, sc in stored_pairs.items() if p not in gone}
    pairs.update(found)
    seeds = entering | leaving | _ends(gone) | _ends(found)
    members, links = _copy_components(state, seeds - change.drop, pairs, gone)
    _walk(state, members, links)
    return members


def _ends(pairs: Iterable[Pair]) -> set[int]:
    return {q for p in pairs for q in p}


def _copy_scores(state: _State, pairs: set[Pair], s: ClusterSettings) -> dict[Pair, float]:
    """rapidfuzz ratio of the normalised openings of candidate copy pairs (kept when they
    reach copy_threshold)."""
    if not pairs:
        return {}
    pairs_list = sorted(pairs)
    texts = state.openings({q for p in pairs_list for q in p})
    left = [texts.get(a, "") for a, _ in pairs_list]
    right = [texts.get(b, "") for _, b in pairs_list]
    scores = process.cpdist(left, right, scorer=fuzz.ratio, score_cutoff=s.copy_threshold,
                            workers=-1)
    return {p: float(sc) for p, sc in zip(pairs_list, scores.tolist(), strict=True)
            if sc >= s.copy_threshold}


def _copy_components(
    state: _State, seeds: set[int], pairs: dict[Pair, float], gone: set[Pair]
) -> tuple[set[int], dict[int, list[tuple[int, float]]]]:
    """Every article connected to `seeds` by copy pairs, and their links."""
    links: dict[int, list[tuple[int, float]]] = defaultdict(list)
    seen: set[int] = set()
    frontier = set(seeds)
    known_pairs = dict(pairs)
    while frontier:
        seen |= frontier
        for a, b, sc in state.reader.copy_pairs(frontier):
            if (a, b) not in gone and (a, b) not in state.change.copy_pairs_del:
                known_pairs.setdefault((a, b), sc)
        nxt = set()
        for (a, b) in known_pairs:
            if a in frontier and b not in seen:
                nxt.add(b)
            if b in frontier and a not in seen:
                nxt.add(a)
        frontier = nxt - state.change.drop
    for (a, b), sc in known_pairs.items():
        if a in seen and b in seen:
            links[a].append((b, sc))
            links[b].append((a, sc))
    return seen, links


def _walk(state: _State, members: set[int], links: Mapping[int, list[tuple[int, float]]]) -> None:
    """dedup._near_copies' walk over one update's copy components."""
    if not members:
        return
    entries = state.get(members)
    rank = sorted(entries, key=lambda q: entries[q].time_key)
    position = {q: i for i, q in enumerate(rank)}
    original_of: dict[int, tuple[int, float]] = {}
    for q in rank:
        earlier = [(position[j], j, sc) for j, sc in links.get(q, ())
                   if j in position and position[j] < position[q] and j not in original_of]
        if earlier:
            _, j, sc = min(earlier)
            original_of[q] = (j, sc)
    for q, e in entries.items():
        if e.role == SAME_TEXT:
            continue
        if q in original_of:
            j, sc = original_of[q]
            if e.role != NEAR_COPY or e.copy_of != j or e.copy_score != sc:
                state.put(replace(e, role=NEAR_COPY, copy_of=j, copy_score=sc))
        elif e.role == NEAR_COPY:
            state.put(replace(e, role=ORIGINAL, copy_of=None, copy_score=0.0))


def _update_events(
    state: _State, fresh: Mapping[int, Entry], copy_members: set[int],
    s: ClusterSettings,
) -> None:
    change = state.change
    reader = state.reader
    # Which articles enter or leave the originals (and so the event postings).
    look = set(change.put) | change.drop
    entries = state.get(look)
    keys_of = {EVENT: lambda e: event_keys(e, s), XLANG: xlang_keys}
    changes: dict = {EVENT: defaultdict(_KeyChange), XLANG: defaultdict(_KeyChange)}
    entering, leaving = set(), set()
    for q in look:
        before = state.known.get(q) if q not in fresh else None
        was = before is not None and before.role == ORIGINAL
        e = entries.get(q)
        now = e is not None and q not in change.drop and e.role == ORIGINAL
        for family, keys in keys_of.items():
            if was and not now:
                for k in keys(before):
                    changes[family][k].deleted[q] = posting_time(before, family)
            if now and not was:
                for k in keys(e):
                    changes[family][k].inserted[q] = posting_time(e, family)
        if was and not now:
            leaving.add(q)
        if now and not was:
            entering.add(q)
    added, removed, sizes = {}, {}, {}
    for family in keys_of:
        for k, ch in changes[family].items():
            change.postings_add[family] += [(k, t, q) for q, t in ch.inserted.items()]
            change.postings_del[family] += [(k, q) for q in ch.deleted]
        found, lost, sizes[family] = _candidate_diff(reader, family, changes[family], s)
        found = {p for p in found if not (set(p) & leaving)}
        # Each pair is one scorer's (crosslingual.applies): the other family's are not its.
        ends = state.get(_ends(found | lost))
        added[family] = {p for p in found if _cross(ends, p) == (family == XLANG)}
        removed[family] = {p for p in lost if all(q in ends for q in p)
                           and _cross(ends, p) == (family == XLANG)}
    # Score the new candidate pairs (both ends' features; pairs oriented by id).
    scored = _score(state.get(_ends(added[EVENT])), added[EVENT], s)
    scored.update(_score_across(state, added[XLANG], s))
    change.scored_pairs = len(added[EVENT]) + len(added[XLANG])
    stored = {(e.a, e.b) if e.a < e.b else (e.b, e.a): e for e in reader.edges(
        leaving | entering | _ends(removed[EVENT]) | _ends(removed[XLANG]))}
    gone = {p for p in stored if set(p) & leaving}
    for family in keys_of:
        maybe = {p for p in removed[family] if p in stored and p not in gone}
        if maybe:
            both = state.get(_ends(maybe))
            gone |= maybe - _still_candidates(reader, family, maybe, both, keys_of[family],
                                              changes[family], sizes[family], s)
    change.edges_del |= gone
    change.edges_add.update(scored)
    # Linking components to decide again: those that gain or lose a member or an edge, and
    # those whose originals gain or lose a copy.
    seeds = entering | leaving | _edge_seeds(state, scored, entering | leaving, s) | _ends(gone)
    seeds |= _copy_roots(state, copy_members)
    labels = {e.comp for e in state.get(seeds).values() if e.comp is not None}
    labels |= {state.known[q].comp for q in leaving
               if q in state.known and state.known[q].comp is not None}
    members = set(reader.component_members(labels)) if labels else set()
    members |= seeds
    members = {q for q, e in state.get(members - change.drop).items() if e.role == ORIGINAL}
    _decide_components(state, members, scored, gone, s)


def _edge_seeds(state: _State, scored: Mapping[Pair, Edge], moving: set[int],
                s: ClusterSettings) -> set[int]:
    """The ends of new edges whose linking components are decided again. A new edge below
    event_threshold between an arriving (or leaving) original and a stored one in another
    component links nothing: the stored end's component keeps its members and its inner
    edges, so its grouping and events are what they were, and the edge's evidence link is
    made with the arriving end's group. Only the arriving end is decided then (a component
    that the arriving article joins is reached through its linking edges). Every other new
    edge (linking, within a component, or between two stored articles) decides both ends."""
    ends = state.get(_ends(scored))
    out: set[int] = set()
    for pair, edge in scored.items():
        a, b = (ends.get(q) for q in pair)
        within = a is not None and b is not None and a.comp is not None and a.comp == b.comp
        if edge.score >= s.event_threshold or within or not (set(pair) & moving):
            out.update(pair)
        else:
            out.update(set(pair) & moving)
    return out


def _score(entries: Mapping[int, Entry], pairs: set[Pair], s: ClusterSettings
           ) -> dict[Pair, Edge]:
    """Score candidate pairs; the edges (score >= event_threshold - average_floor)."""
    if not pairs:
        return {}
    seqs = sorted(entries, key=lambda q: entries[q].id)
    local = {q: i for i, q in enumerate(seqs)}
    feats = [entries[q].features for q in seqs]
    oriented = sorted(tuple(sorted(p, key=lambda q: local[q])) for p in pairs)
    left = np.array([local[a] for a, _ in oriented], dtype=np.int64)
    right = np.array([local[b] for _, b in oriented], dtype=np.int64)
    edges, features = score_pairs(feats, left, right, s)
    out = {}
    for (i, j), score in edges.items():
        a, b = seqs[i], seqs[j]
        out[(min(a, b), max(a, b))] = Edge(a, b, score, features[(i, j)])
    return out


def _score_across(state: _State, pairs: set[Pair], s: ClusterSettings) -> dict[Pair, Edge]:
    """The cross-lingual scorer's edges among candidate pairs (crosslingual.pair_edge): it
    reads the two texts, so only new candidates are read."""
    if not pairs:
        return {}
    entries = state.get(_ends(pairs))
    arts = state.texts({entries[q].id for q in _ends(pairs)})
    sides = crosslingual.sides_with_vectors(  # one batch for the sentence model
        [tuple(arts[entries[q].id] for q in pair) for pair in pairs])
    out = {}
    for pair in pairs:
        a, b = sorted(pair, key=lambda q: entries[q].id)
        found = crosslingual.pair_edge(arts[entries[a].id], arts[entries[b].id],
                                       s.event_threshold, s.average_floor, s.window_days, sides)
        if found is not None:
            out[pair] = Edge(a, b, found[0], found[1])
    return out


def _decide_components(
    state: _State, members: set[int], scored: Mapping[Pair, Edge], gone: set[Pair],
    s: ClusterSettings,
) -> None:
    """Group the linking components holding `members` again and assemble their events."""
    change = state.change
    reader = state.reader
    if not members:
        return
    # Expand to whole components: stored edges (and the new ones) over the members.
    edges: dict[Pair, Edge] = {}
    seen = set(members)
    frontier = set(members)
    while frontier:
        found = [e for e in reader.edges(frontier)]
        found += [e for p, e in scored.items() if set(p) & frontier]
        nxt = set()
        for e in found:
            p = (min(e.a, e.b), max(e.a, e.b))
            if p in gone or p in change.edges_del:
                continue
            p_edge = scored.get(p, e)
            edges[p] = p_edge
            if p_edge.score >= s.event_threshold:
                for q in p:
                    if q not in seen:
                        nxt.add(q)
        entries = state.get(nxt)
        nxt = {q for q in nxt if q in entries and entries[q].role == ORIGINAL
               and q not in change.drop}
        seen |= nxt
        frontier = nxt
    entries = state.get(seen)
    originals = sorted((q for q in seen if entries[q].role == ORIGINAL),
                       key=lambda q: entries[q].id)
    edges = {p: e for p, e in edges.items() if p[0] in entries and p[1] in entries
             and entries[p[0]].role == ORIGINAL and entries[p[1]].role == ORIGINAL
             and p[0] not in change.drop and p[1] not in change.drop}
    # Components by linking edges, then the grouping within each.
    parent = {q: q for q in originals}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p, e in edges.items():
        if e.score >= s.event_threshold:
            a, b = find(p[0]), find(p[1])
            if a != b:
                parent[max(a, b)] = min(a, b)
    comps: dict[int, list[int]] = defaultdict(list)
    for q in originals:
        comps[find(q)].append(q)
    inner_of: dict[int, dict[Pair, Edge]] = defaultdict(dict)  # edges within each component
    for p, e in edges.items():
        if find(p[0]) == find(p[1]):
            inner_of[find(p[0])][p] = e
    groups: list[list[int]] = []
    group_edges_of: list[dict[Pair, Edge]] = []
    for label, comp in comps.items():
        for q in comp:
            if entries[q].comp != label:
                state.put(replace(state.get([q])[q], comp=label))
        inner = inner_of[label]
        local = {q: i for i, q in enumerate(comp)}  # comp is sorted by id
        feats = [entries[q].features for q in comp]
        loc_edges, loc_feats = {}, {}
        for e in inner.values():
            i, j = sorted((local[e.a], local[e.b]))
            loc_edges[(i, j)] = e.score
            loc_feats[(i, j)] = e.features
        roots = group_edges(feats, loc_edges, loc_feats, s)
        by_root: dict[int, list[int]] = defaultdict(list)
        for i, r in enumerate(roots):
            by_root[r].append(comp[i])
        for group in by_root.values():
            gset = set(group)
            groups.append(group)
            group_edges_of.append({p: e for p, e in inner.items()
                                   if p[0] in gset and p[1] in gset})
    _assemble_groups(state, groups, group_edges_of, s)
    change.result = replace(change.result, links=_links(state, groups, scored, gone, s))


def _links(state: _State, groups: list[list[int]], scored: Mapping[Pair, Edge],
           gone: set[Pair], s: ClusterSettings) -> tuple[Link, ...]:
    """The evidence links (#27) of every edge with an end among the originals decided again
    (their old links are replaced): what clustering them all at once gives for these pairs
    (extractors.events.evidence.links)."""
    change = state.change
    group_of = {q: k for k, group in enumerate(groups) for q in group}
    if not group_of:
        return ()
    found = {(min(e.a, e.b), max(e.a, e.b)): e for e in state.reader.edges(group_of)}
    found.update({p: e for p, e in scored.items() if set(p) & group_of.keys()})
    found = {p: e for p, e in found.items() if p not in gone and p not in change.edges_del
             and not set(p) & change.drop}
    entries = state.get(_ends(found))
    found = {p: e for p, e in found.items() if all(
        q in entries and entries[q].role == ORIGINAL for q in p)}
    cross = {p for p, e in found.items() if e.features.get("crosslingual")}
    arts = state.articles({entries[q].id for q in _ends(found)})
    arts.update(state.texts({entries[q].id for q in _ends(cross)}))
    # Two-language pairs are explained with their sentence vectors, as `_score_across`
    # decided them (the vectors are memoised by text: those it just embedded cost nothing).
    sides = crosslingual.sides_with_vectors(
        [(arts[entries[p[0]].id], arts[entries[p[1]].id]) for p in cross])
    out = []
    for p, e in found.items():
        a, b = sorted((arts[entries[p[0]].id], arts[entries[p[1]].id]), key=lambda x: x.id)
        same = p[0] in group_of and p[1] in group_of and group_of[p[0]] == group_of[p[1]]
        f = e.features
        if f.get("crosslingual"):
            scorer = "crosslingual"
            shown = crosslingual.pair_evidence(a, b, s.window_days, sides)
        else:
            scorer, shown = "words", evidence.word_evidence(a, b)
        out.append(Link(a.id, b.id, same, e.score, f.get("threshold", s.event_threshold),
                        scorer, {**shown, "features": dict(f)}))
    return tuple(sorted(out, key=lambda k: (k.article_id, k.other_id)))


def _assemble_groups(
    state: _State, groups: list[list[int]], edges_of: list[dict[Pair, Edge]],
    s: ClusterSettings,
) -> None:
    """Events of the groups decided again, with their copies; every article of them and
    every changed copy is in change.article_ids."""
    change = state.change
    reader = state.reader
    originals = {q for g in groups for q in g}
    # Copies hang on their original (following copy_of chains to it).
    copies = {e.seq: e for e in reader.copies_of(originals)
              if e.seq not in change.drop}
    copies.update({q: e for q, e in change.put.items() if e.role != ORIGINAL})
    frontier = set(copies)
    while frontier:  # copies of copies
        more = {e.seq: e for e in reader.copies_of(frontier) if e.seq not in change.drop
                and e.seq not in copies}
        more = {q: change.put.get(q, e) for q, e in more.items()}
        copies.update(more)
        frontier = set(more)
    copies = {q: change.put.get(q, e) for q, e in copies.items()}
    copies = {q: e for q, e in copies.items() if e.role != ORIGINAL}
    entries = state.get(originals | set(copies) | {e.copy_of for e in copies.values()})
    root_of = {q: _root(state, q) for q in copies}
    copies = {q: e for q, e in copies.items() if root_of.get(q) in originals}
    ids = [entries[q].id for q in originals] + [e.id for e in copies.values()]
    arts = state.articles(ids)
    change.article_ids = sorted(set(ids))
    change.events_before = reader.events_of(change.article_ids)
    copy_of = {}
    for e in copies.values():
        kind = SAME_TEXT if e.role == SAME_TEXT else NEAR_COPY
        score = 100.0 if kind == SAME_TEXT else round(e.copy_score, 2)
        copy_of[e.id] = Duplicate(e.id, entries[e.copy_of].id, kind, score)
    events, memberships, duplicates = [], [], []
    for group, inner in zip(groups, edges_of, strict=True):
        group = sorted(group, key=lambda q: entries[q].id)
        local = {q: i for i, q in enumerate(group)}
        gids = {entries[q].id for q in group}
        mine = {cid: d for cid, d in copy_of.items() if entries_root(cid, copy_of, gids)}
        ordered = sorted([arts[entries[q].id] for q in group] + [arts[c] for c in mine],
                         key=lambda a: a.id)
        origs = [arts[entries[q].id] for q in group]
        loc_edges, loc_feats = {}, {}
        for e in inner.values():
            i, j = sorted((local[e.a], local[e.b]))
            loc_edges[(i, j)] = e.score
            loc_feats[(i, j)] = e.features
        feats = [entries[q].features for q in group]
        matrix, vocab = term_matrix(feats)
        roots = [0] * len(group)
        terms = _event_terms(matrix, vocab, roots, s.event_terms)
        result = _assemble(ordered, origs, roots, loc_edges, loc_feats, mine, terms)
        events += result.events
        memberships += result.memberships
        duplicates += result.duplicates
    change.result = ClusterResult(tuple(sorted(duplicates, key=lambda d: d.article_id)),
                                  tuple(sorted(events, key=lambda e: e.id)),
                                  tuple(sorted(memberships, key=lambda m: (m.event_id,
                                                                           m.article_id))))


def entries_root(copy_id: str, copy_of: Mapping[str, Duplicate], group_ids: set[str]) -> bool:
    root = copy_id
    hops = 0
    while root in copy_of and hops < 100:
        root = copy_of[root].duplicate_of
        hops += 1
    return root in group_ids


def _root(state: _State, seq: int) -> int | None:
    """The original a copy hangs on now (following copy_of chains)."""
    entry = state.get([seq]).get(seq)
    hops = 0
    while entry is not None and entry.role != ORIGINAL and hops < 100:
        entry = state.get([entry.copy_of]).get(entry.copy_of)
        hops += 1
    return entry.seq if entry is not None and entry.role == ORIGINAL else None


def _copy_roots(state: _State, copy_members: set[int]) -> set[int]:
    """Originals whose copies may have changed: the roots, before and after, of every
    article whose role or copy_of changed, and of the near-copy components walked."""
    roots = set()
    for q, e in list(state.change.put.items()):
        before = state.known.get(q)
        if before is not None and (before.role, before.copy_of) == (e.role, e.copy_of):
            continue
        for ref in (e.copy_of, before.copy_of if before is not None else None):
            if ref is not None:
                roots.add(ref)
    for q in state.change.drop:  # a replaced version that was a copy: its original changes
        before = state.known.get(q)
        if before is not None and before.copy_of is not None:
            roots.add(before.copy_of)
    roots |= copy_members
    out = set()
    for q in roots:
        r = _root(state, q)
        if r is not None:
            out.add(r)
        before = state.known.get(q)
        if before is not None and before.copy_of is not None:
            r = _root(state, before.copy_of)
            if r is not None:
                out.add(r)
    return out - state.change.drop


# --- the reference: everything at once --------------------------------------------------------


def full_clustering(entries: Iterable[Entry], articles: Mapping[str, Article],
                    s: ClusterSettings) -> ClusterResult:
    """Cluster every indexed article at once from its stored features and copy features:
    what incremental updates must equal."""
    entries = list(entries)
    by_id = sorted(entries, key=lambda e: e.id)
    # copies, as dedup decides them from copy features
    copy_of = _full_copies(by_id, articles, s)
    originals = [e for e in by_id if e.id not in copy_of]
    ordered = [articles[e.id] for e in by_id]
    feats = [e.features for e in originals]
    return cluster_features(ordered, feats, copy_of, s)


def _full_copies(entries: list[Entry], articles: Mapping[str, Article], s: ClusterSettings
                 ) -> dict[str, Duplicate]:
    """dedup.find_duplicates over entries, with ties in time broken by seq for blocking."""
    from extractors.events.dedup import block_pairs

    found: dict[str, Duplicate] = {}
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.copy.n_words >= s.min_copy_words and e.copy.content_hash:
            groups[e.copy.content_hash].append(e)
    for group in groups.values():
        group.sort(key=lambda e: e.time_key)
        for e in group[1:]:
            found[e.id] = Duplicate(e.id, group[0].id, SAME_TEXT, 100.0)
    rest = [e for e in entries if e.id not in found and e.copy.n_words >= s.min_copy_words]
    if len(rest) < 2:
        return found
    postings: dict[int, list[int]] = defaultdict(list)
    for i, e in enumerate(rest):
        for h in e.copy.sketch:
            postings[h].append(i)
    times = np.array([e.features.time for e in rest])
    order = np.array([e.seq for e in rest])
    pairs = block_pairs(postings.values(), times, s.max_block, s.block_width, order)
    n = len(rest)
    left, right = pairs // n, pairs % n
    norm = [opening(articles[e.id].text, COMPARE_CHARS) for e in rest]
    scores = process.cpdist([norm[i] for i in left], [norm[j] for j in right],
                            scorer=fuzz.ratio, score_cutoff=s.copy_threshold, workers=-1)
    links: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for i, j, sc in zip(left.tolist(), right.tolist(), scores.tolist(), strict=True):
        if sc >= s.copy_threshold:
            links[i].append((j, sc))
            links[j].append((i, sc))
    rank = sorted(range(n), key=lambda i: rest[i].time_key)
    position = {i: p for p, i in enumerate(rank)}
    original_of: dict[int, tuple[int, float]] = {}
    for i in rank:
        earlier = [(position[j], j, sc) for j, sc in links.get(i, ())
                   if position[j] < position[i] and j not in original_of]
        if earlier:
            _, j, sc = min(earlier)
            original_of[i] = (j, sc)
    for i, (j, sc) in original_of.items():
        found[rest[i].id] = Duplicate(rest[i].id, rest[j].id, NEAR_COPY, round(sc, 2))
    return found


# --- an index in memory (tests, benchmarks; the warehouse's is warehouse/cluster_index.py) ----


class MemoryIndex:
    """The index kept in memory, with the same reads as the warehouse's."""

    def __init__(self, settings: ClusterSettings, window_days: int | None = None):
        self.s = settings
        self.window_days = window_days  # term statistics of the last days only (None: all)
        self.days: list[tuple[object, TermStats]] = []
        self.by_seq: dict[int, Entry] = {}
        self.seq_of: dict[str, int] = {}
        self._postings: dict[str, dict] = {COPY: defaultdict(list), EVENT: defaultdict(list),
                                           XLANG: defaultdict(list)}
        self.pairs: dict[Pair, float] = {}
        self.edge: dict[Pair, Edge] = {}
        self.arts: dict[str, Article] = {}
        self.event_of: dict[str, str] = {}
        self.member: dict = {}
        self.duplicate: dict = {}
        self.event: dict = {}
        self.link: dict[tuple[str, str], Link] = {}
        self.stats = TermStats()
        self.next_seq = 0

    def add(self, articles: Iterable[Article], day=None) -> IndexChange:
        """Index arriving articles (new or changed) and apply what changes. With a
        window, `day` (a date) is when they arrive: term statistics then come from the
        articles that arrived in the window_days before it (as in the monitor flow)."""
        articles = list(articles)
        for a in articles:
            self.arts[a.id] = a
        window = self.stats
        if self.window_days is not None and day is not None:
            window = TermStats()
            for seen, stats in self.days:
                if seen is not None and 0 <= (day - seen).days <= self.window_days:
                    window = window.plus(stats)
        change = update(self, arrivals_of(articles, self.s), self.next_seq, window, self.s)
        self.apply(change)
        self.days.append((day, change.stats))
        self.next_seq += len({a.id for a in articles})
        return change

    def apply(self, change: IndexChange) -> None:
        for q in change.drop:
            entry = self.by_seq.pop(q)
            if self.seq_of.get(entry.id) == q:
                del self.seq_of[entry.id]
        for q, e in change.put.items():
            self.by_seq[q] = e
            self.seq_of[e.id] = q
        for family in (COPY, EVENT, XLANG):
            for key, q in change.postings_del.get(family, ()):
                self._postings[family][key] = [p for p in self._postings[family][key] if p[1] != q]
            for key, t, q in change.postings_add.get(family, ()):
                self._postings[family][key].append((t, q))
                self._postings[family][key].sort()
        for p in change.copy_pairs_del:
            self.pairs.pop(p, None)
        self.pairs.update(change.copy_pairs_add)
        for p in change.edges_del:
            self.edge.pop(p, None)
        self.edge.update(change.edges_add)
        for q in change.drop:  # nothing may point at a replaced version
            for p in [p for p in self.pairs if q in p]:
                del self.pairs[p]
            for p in [p for p in self.edge if q in p]:
                del self.edge[p]
        for a in change.article_ids:
            self.event_of.pop(a, None)
            self.member.pop(a, None)
            self.duplicate.pop(a, None)
        changed = set(change.article_ids)
        for p in [p for p in self.link if changed & set(p)]:
            del self.link[p]
        self.link.update({(k.article_id, k.other_id): k for k in change.result.links})
        for m in change.result.memberships:
            self.event_of[m.article_id] = m.event_id
            self.member[m.article_id] = m
        for d in change.result.duplicates:
            self.duplicate[d.article_id] = d
        for e in change.result.events:
            self.event[e.id] = e
        alive = set(self.event_of.values())
        for eid in [eid for eid in self.event if eid not in alive]:
            del self.event[eid]
        self.stats = self.stats.plus(change.stats)

    def result(self) -> ClusterResult:
        """The clustering the index holds now."""
        return ClusterResult(
            tuple(sorted(self.duplicate.values(), key=lambda d: d.article_id)),
            tuple(sorted(self.event.values(), key=lambda e: e.id)),
            tuple(sorted(self.member.values(), key=lambda m: (m.event_id, m.article_id))),
            tuple(self.link[p] for p in sorted(self.link)))

    def events(self) -> dict[str, str]:
        return dict(self.event_of)

    # IndexReader
    def entries(self, seqs):
        return {q: self.by_seq[q] for q in seqs if q in self.by_seq}

    def entries_by_id(self, ids):
        return {i: self.by_seq[self.seq_of[i]] for i in ids if i in self.seq_of}

    def same_hash(self, hashes):
        hashes = set(hashes)
        return [e for e in self.by_seq.values() if e.copy.content_hash in hashes]

    def key_stats(self, family, keys):
        out = {}
        for k in keys:
            rows = self._postings[family].get(k)
            if rows:
                out[k] = (len(rows), rows[0][0], rows[-1][0])
        return out

    def postings(self, family, ranges):
        return {k: [p for p in self._postings[family].get(k, []) if lo <= p[0] <= hi]
                for k, spans in ranges.items() for lo, hi in [(spans[0][0], spans[-1][1])]}

    def between(self, family, spans):
        return {(k, x, y): sum(1 for p in self._postings[family].get(k, []) if x < p < y)
                for k, x, y in spans}

    def copy_pairs(self, seqs):
        seqs = set(seqs)
        return [(a, b, sc) for (a, b), sc in self.pairs.items() if a in seqs or b in seqs]

    def edges(self, seqs):
        seqs = set(seqs)
        return [e for p, e in self.edge.items() if p[0] in seqs or p[1] in seqs]

    def component_members(self, labels):
        labels = set(labels)
        return [q for q, e in self.by_seq.items() if e.comp in labels]

    def copies_of(self, seqs):
        seqs = set(seqs)
        return [e for e in self.by_seq.values() if e.copy_of in seqs]

    def openings(self, seqs):
        return {q: opening(self.arts[self.by_seq[q].id].text, COMPARE_CHARS)
                for q in seqs if q in self.by_seq}

    def articles(self, ids):
        return {i: self.arts[i] for i in ids}

    texts = articles

    def events_of(self, ids):
        return {i: self.event_of[i] for i in ids if i in self.event_of}

    def full(self) -> ClusterResult:
        """Everything indexed, clustered at once from the stored features."""
        return full_clustering(self.by_seq.values(), self.arts, self.s)
