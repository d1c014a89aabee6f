"""Who, where and when of single articles on six labelled corpora, in-fold and out of fold.

Data: ../shared/data/facets (see its README): the Giveme5W1H gold dev set (coders' phrases),
halves of Gun Violence Archive news (GVA), MUC-3/4 (upper case), LGL, GeoWebNews and TR-News,
and TempEval-3 date expressions. Readers, scoring and folds: bench/_facet_corpora.py; the
ranker fitting: bench/_facet_fit.py.

Measures (as the data README suggests): who@1 (the first actor matches a gold name as whole
words), where@1 (the main place within 50 km of a gold place, or a name match where the gold
has no position or the answer is an area; Giveme5W1H: phrase containment), when (the event
day equals a gold day). Baselines, scored the same way in the same run: who, the first
capitalised name of the body; where, the first place the gazetteer finds in headline + body;
when, the publication day.

Columns, per corpus and measure:
* in-fold: newsmon as shipped (`extract_facets`, with the weights fitted on all dev data);
* folds: the rankers refitted on grouped folds (GVA by incident, Giveme5W1H by story, the
  others by document; five folds over all corpora at once), each article scored by the
  weights fitted without its fold: the figure to expect on news of the same kinds;
* corpus out: refitted without the whole corpus (leave one corpus out): news of a kind never
  trained on.
Then TempEval-3 date expressions (resolved day = gold day, against the DCT, next to the DCT
itself), the CPU cost per article (`extract_facets` only, process time) and how that cost
grows with text length (pages of 15k/30k/60k characters of dates or names in one sentence:
linear means each doubling costs about 2x). For Giveme5W1H, what its gold allows (answers no
extractor could give from the text) is printed as before.

Run: .venv/bin/python -m bench.facets [--smoke] [--show-misses] [--where-misses]
`--show-misses` prints misses only from the half of the incidents/stories open for reading
(`explore_half`); the other half is never printed, so a final check on it stays honest.
`--where-misses` sorts the out-of-fold where@1 misses of that same half into kinds (no right
candidate at all, with or without the gold's name in the gazetteer; an area around the gold
place or a place inside the gold area chosen; another sense of the same name; a site; the
right candidate ranked second or lower): which kind of signal could still help.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from bench import _facet_corpora as fc
from bench._facet_corpora import phrase_match, tokens
from bench._facet_fit import abstain_margin, fit, leave_margin, problem
from bench._smoke import add_smoke_flag, smoke_requested
from extractors.content.facets import analyse, country_of_url, decide, extract_facets, ranking
from extractors.content.facets.dates import MONTHS, WEEKDAYS, find_dates
from extractors.content.facets.gazetteer import Entry, gazetteer
from extractors.content.facets.places import Site

MEASURES = ("who@1", "where@1", "when")
# Each corpus weighs by its size to this power in a ranker's fit (bench/_facet_fit.py). who:
# 0.75, so GVA's 2,096 shooting reports (named suspects and victims) outweigh Giveme5W1H's 47
# stories (the story's main actor) less than at 0.5; chosen among 0.5, 0.75 and 1 by the
# out-of-fold who@1 of the explore half of the groups, every corpus counting once
# (docs/facets.md).
POWERS = {"when": 0.5, "where": 0.5, "who": 0.75}
# newsmon's `where` is the event's place. LGL, GeoWebNews and TR-News code the most mentioned
# toponym instead (../shared/data/README.md), which is often not where the story happened
# (the seed: "talks in Brussels" between two countries named far more often), so they count
# half in the where fit. Chosen among 1, 0.5, 0.25 and 0 by the out-of-fold where@1 of all
# six corpora (docs/facets.md).
CORPUS_WEIGHTS = {"where": {"lgl": 0.5, "geowebnews": 0.5, "trnews": 0.5}}
FACET_OF = {"who@1": "who", "where@1": "where", "when": "when"}
FOLDS = 5
SMOKE_DOCS = 12  # per corpus
BASELINE_NAMES = {"who@1": "first capitalised name", "where@1": "first place mention",
                  "when": "publication day"}
_CAP_RUN = re.compile(r"(?:[A-Z][\w'’.-]*)(?:\s+(?:[A-Z][\w'’.-]*|of|de|van|von|al|bin))*")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)$")


# --- baselines ----------------------------------------------------------------------------


def first_capitalised_name(text: str) -> str | None:
    for m in _CAP_RUN.finditer(text):
        run = m.group().strip(" .")
        opens_sentence = bool(_SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()]))
        if opens_sentence and " " not in run:
            continue  # "The", "Police": a sentence opener, not a name
        if opens_sentence:
            run = run.split(" ", 1)[1] if run.split()[0] in ("The", "A", "An") else run
        return run
    return None


def first_place(title: str, text: str) -> str | None:
    gaz = gazetteer()
    for m in _CAP_RUN.finditer(title + "\n" + text):
        words = m.group().strip(" .").split()
        for n in range(min(len(words), gaz.max_words), 0, -1):  # longest name first
            for i in range(len(words) - n + 1):
                place = gaz.lookup(" ".join(words[i : i + n]))
                if place:
                    return place
    return None


def place_names(name: str) -> set[str]:
    """Every name the gazetteer resolves to the same place as `name` (demonyms excluded)."""
    gaz = gazetteer()
    canonical = gaz.lookup(name) or name
    return {canonical, name, *gaz.names_of(canonical)}


def place_match(answer: str, gold: str) -> bool:
    return any(phrase_match(n, gold) for n in place_names(answer))


_KEYS_OF: dict[str, set[str]] = {}


def _keys_of(entry: Entry) -> set[str]:
    """Every gazetteer name key with this sense among its senses."""
    if not _KEYS_OF:
        for key, senses in gazetteer().senses_by_key.items():
            for s in senses:
                _KEYS_OF.setdefault(s.id, set()).add(key)
    return _KEYS_OF.get(entry.id, set())


def answer_of(value: Entry | Site | str | None) -> fc.Answer | None:
    """A where answer as the scorer reads it (a canonical name stands for its default)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = gazetteer().defaults.get(value)
        if value is None:
            return None
    if isinstance(value, Site):
        near = value.near
        return fc.Answer(frozenset({value.name}), near.lat if near else None,
                         near.lon if near else None, False)
    return fc.Answer(frozenset({value.name, *_keys_of(value)}), value.lat, value.lon,
                     value.area)


def publication_day(published: datetime | date | None) -> date | None:
    return published.date() if isinstance(published, datetime) else published


# --- what the Giveme5W1H gold allows ----------------------------------------------------------

EVENT_WORDS = frozenset(
    """prix series cup championship games olympics open tournament final summit election
    elections festival race match""".split()  # noqa: SIM905
)
COUNT_WORDS = frozenset(
    """a an the one two three four five six seven eight nine ten eleven twelve dozens hundreds
    thousands millions scores several some many few""".split()  # noqa: SIM905
)
RELATIVE_DAYS = {"today": 0, "tonight": 0, "this morning": 0, "this evening": 0,
                 "yesterday": 1, "last night": 1, "tomorrow": -1}
EARLIEST_ZONE, LATEST_ZONE = timedelta(hours=14), timedelta(hours=-11)  # inhabited time zones

RULES = {
    "who": [
        ("not in the text", "no gold who phrase, nor any name in it, occurs in the headline "
                            "or body (whole words, case and accents folded)"),
    ],
    "where": [
        ("a day, not a place", "every gold where phrase is a weekday or month name"),
        ("an event, not a place", "every gold where phrase ends in an event word (Prix, "
                                  "Series, Cup, summit ...) and names no gazetteer place"),
        ("not in the text", "no name in any gold where phrase (a capitalised word that is no "
                            "demonym, weekday or month, nor written in lower case in the "
                            "article), nor another gazetteer name of it, occurs in the text"),
    ],
    "when": [
        ("after publication", "the gold date begins, in the earliest time zone (UTC+14), "
                              "after the article was published (a bare date: after that "
                              "day)"),
        ("not in the text", "the text names no gold date (by its weekday, its day and month, "
                            "ISO form, or today / yesterday / last night / tomorrow against "
                            "the publication day) and none is the publication day in any "
                            "inhabited time zone (UTC-11 to UTC+14; a bare date: that day)"),
    ],
}


def _contains(text_tokens: list[str], phrase: str) -> bool:
    return fc._inside(tokens(phrase), text_tokens)


def _name_words(phrase: str, lower_words: set[str]) -> list[str]:
    gaz = gazetteer()
    out = []
    for word in re.findall(r"[^\W\d_][\w'’-]*", phrase):
        key = word.casefold()
        if not word[:1].isupper() or key in lower_words or gaz.demonym(word):
            continue
        if key in WEEKDAYS or key in MONTHS or key in COUNT_WORDS:
            continue
        out.append(word)
    return out


def _phrases(row: dict, key: str) -> list[str]:
    return [p["text"] for p in row[key] if p.get("text")]


def _lower_words(row: dict) -> set[str]:
    text = f"{row['title'] or ''} {row['text'] or ''}"
    return {w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if w.islower()}


def names_no_one(row: dict) -> bool:
    """Every gold who phrase is unnamed people ("A gunman", "five people", "Chinese boy")."""
    lower = _lower_words(row)
    phrases = _phrases(row, "who")
    return bool(phrases) and not any(_name_words(p, lower) for p in phrases)


def unanswerable(row: dict) -> dict[str, str | None]:
    """For who / where / when: the first rule of RULES that sets this article's gold answer
    apart as one no extractor could give from the text, or None."""
    text_tokens = tokens(f"{row['title'] or ''} {row['text'] or ''}")
    lower = _lower_words(row)
    return {
        "who": _who_reason(_phrases(row, "who"), text_tokens, lower),
        "where": _where_reason(_phrases(row, "where"), text_tokens, lower),
        "when": _when_reason(row, text_tokens),
    }


def _who_reason(phrases: list[str], text_tokens: list[str], lower: set[str]) -> str | None:
    if not phrases:
        return None
    found = any(_contains(text_tokens, p) or any(_contains(text_tokens, w)
                                                 for w in _name_words(p, lower))
                for p in phrases)
    return None if found else "not in the text"


def _where_reason(phrases: list[str], text_tokens: list[str], lower: set[str]) -> str | None:
    if not phrases:
        return None
    gaz = gazetteer()

    def is_day(p: str) -> bool:
        return all(t in WEEKDAYS or t in MONTHS for t in tokens(p))

    def is_event(p: str) -> bool:
        words = tokens(p)
        return bool(words) and words[-1] in EVENT_WORDS and not any(
            gaz.lookup(" ".join(words[i:j])) for i in range(len(words))
            for j in range(i + 1, len(words) + 1))

    def in_text(p: str) -> bool:
        return any(_contains(text_tokens, n) for w in _name_words(p, lower)
                   for n in place_names(w))

    places = [p for p in phrases if not is_day(p)]
    if not places:
        return "a day, not a place"
    places = [p for p in places if not is_event(p)]
    if not places:
        return "an event, not a place"
    return None if any(in_text(p) for p in places) else "not in the text"


def _when_reason(row: dict, text_tokens: list[str]) -> str | None:
    golds = {date.fromisoformat(p["parsed"]) for p in row["when"] if p.get("parsed")}
    if not golds:
        return None
    value = row.get("published")
    published = datetime.fromisoformat(value) if value and value != "None" else None
    bare = published is not None and published.time() == datetime.min.time()
    moment = None
    if published is not None:
        moment = published if published.tzinfo else published.replace(tzinfo=UTC)

    def after_publication(day: date) -> bool:
        if moment is None:
            return False
        if bare:
            return day > moment.date()
        begins = datetime.combine(day, datetime.min.time(), UTC) - EARLIEST_ZONE
        return begins > moment

    if all(after_publication(d) for d in golds):
        return "after publication"

    def on_publication_day(day: date) -> bool:
        if moment is None:
            return False
        if bare:
            return day == moment.date()
        return (moment + LATEST_ZONE).date() <= day <= (moment + EARLIEST_ZONE).date()

    def named(day: date) -> bool:
        month = day.strftime("%B").casefold()
        forms = [day.strftime("%A"), day.isoformat(), f"{month} {day.day}",
                 f"{day.day} {month}", f"{month[:3]} {day.day}", f"{day.day} {month[:3]}"]
        if any(_contains(text_tokens, f) for f in forms):
            return True
        if moment is None:
            return False
        return any(_contains(text_tokens, word) and abs(
            (moment.date() - timedelta(days=back) - day).days) <= 1
            for word, back in RELATIVE_DAYS.items())

    if any(named(d) or on_publication_day(d) for d in golds):
        return None
    return "not in the text"


# --- scoring ------------------------------------------------------------------------------


class Scored:
    """One article: its analysis, which candidates are right, the baselines' hits."""

    def __init__(self, doc: fc.Doc) -> None:
        self.doc = doc
        started = time.process_time()
        self.analysis = analyse(doc.title, doc.text, doc.published, "en",
                                source_country=country_of_url(doc.url), url=doc.url)
        self.shipped = decide(self.analysis)
        self.seconds = time.process_time() - started
        self.right: dict[str, list[bool]] = {
            "where": [self._where(c.value) for c in self.analysis.where],
            "who": [self._who(c.value[0] if c.value else None) for c in self.analysis.who],
            "when": [self._when(c.value.day) for c in self.analysis.when],
        }
        pub = publication_day(doc.published)
        self.baseline = {
            "who@1": self._who(first_capitalised_name(doc.text)) if doc.who else None,
            "where@1": self._where(first_place(doc.title, doc.text)) if doc.where else None,
            "when": self._when(pub) if doc.when else None,
        }

    def counts(self, measure: str) -> bool:
        return bool(getattr(self.doc, FACET_OF[measure]))

    def _who(self, name: str | None) -> bool:
        return bool(self.doc.who) and fc.who_hit(name, self.doc.who)

    def _where(self, value: Entry | Site | str | None) -> bool:
        return bool(self.doc.where) and fc.where_hit(answer_of(value), self.doc.where)

    def _when(self, day: date | None) -> bool:
        return bool(self.doc.when) and fc.when_hit(day, self.doc.when)

    def hit(self, measure: str, weights: dict[str, dict[str, float]] | None) -> bool:
        """newsmon's hit under these weights (None: as shipped)."""
        facet = FACET_OF[measure]
        if weights is None:
            f = self.shipped
        else:
            f = decide(self.analysis, weights["where"], weights["who"], weights["when"])
        if facet == "who":
            return self._who(f.who[0].name if f.who else None)
        if facet == "where":
            return self._where(self._chosen_where(weights, f.where is not None))
        return self._when(f.event_date)

    def _chosen_where(self, weights: dict[str, dict[str, float]] | None, answered: bool):
        """The candidate behind `decide`'s where (the scorer wants its gazetteer sense)."""
        if not answered:
            return None
        w = ranking.WHERE_WEIGHTS if weights is None else weights["where"]
        return next(c.value for c in ranking.ranked(self.analysis.where, w)
                    if c.value is not None)


def fit_all(scored: list[Scored]) -> dict[str, dict[str, float]]:
    """Weights of the three rankers fitted on these articles, with the decision margins
    (ranking.ABSTAIN_MARGIN, ranking.LEAVE_MARGIN) chosen on the same articles."""
    out = {}
    for facet in ("where", "who", "when"):
        items = [([c.features for c in getattr(s.analysis, facet)], s.right[facet],
                  s.doc.corpus) for s in scored if getattr(s.doc, facet)]
        out[facet] = fit(problem(items, POWERS.get(facet), CORPUS_WEIGHTS.get(facet)))
        pairs = [(f, r) for f, r, _ in items]
        if facet == "where":
            out[facet][ranking.ABSTAIN_MARGIN] = abstain_margin(pairs, out[facet])
        if facet == "when":
            out[facet][ranking.LEAVE_MARGIN] = leave_margin(pairs, out[facet])
    return out


def _rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits) if hits else float("nan")


def cross_validate(scored: list[Scored], folds: int
                   ) -> tuple[dict[int, dict[str, bool]], dict[int, dict[str, bool]]]:
    """Out-of-fold hits per article (index -> measure -> hit): grouped folds, and leave one
    corpus out."""
    assignment = fc.group_folds([s.doc for s in scored], folds)
    by_fold: dict[int, dict[str, bool]] = {}
    for f in range(folds):
        train = [s for s, a in zip(scored, assignment, strict=True) if a != f]
        weights = fit_all(train)
        for i, (s, a) in enumerate(zip(scored, assignment, strict=True)):
            if a == f:
                by_fold[i] = {m: s.hit(m, weights) for m in MEASURES if s.counts(m)}
    by_corpus: dict[int, dict[str, bool]] = {}
    for corpus in sorted({s.doc.corpus for s in scored}):
        weights = fit_all([s for s in scored if s.doc.corpus != corpus])
        for i, s in enumerate(scored):
            if s.doc.corpus == corpus:
                by_corpus[i] = {m: s.hit(m, weights) for m in MEASURES if s.counts(m)}
    return by_fold, by_corpus


# --- dates and scaling ------------------------------------------------------------------------


def date_expressions(cases: list[fc.DateCase]) -> tuple[float, float]:
    """Share of TempEval-3 full-day expressions resolved to their gold day, and the share
    whose gold day is the document date (the baseline)."""
    hits = 0
    for c in cases:
        i = c.sentence.find(c.expression)
        if i < 0:
            i = c.sentence.lower().find(c.expression.lower())
        j = i + len(c.expression)
        found = [m for m in find_dates(c.sentence, c.dct) if m.start < j and m.end > i]
        hits += bool(found) and i >= 0 and found[0].value == c.value
    return _rate([True] * hits + [False] * (len(cases) - hits)), _rate(
        [c.value == c.dct for c in cases])


def scaling(sizes: tuple[int, ...]) -> dict[str, list[tuple[int, float]]]:
    """CPU ms of extract_facets on one-sentence pages of dates and of names, by size."""
    units = {
        "dates": "on Thursday, December 15, 2021 and yesterday, ",
        "names": "President Nikol Pashinian met Ilham Aliyev in Brussels, ",
    }
    out: dict[str, list[tuple[int, float]]] = {}
    published = datetime(2021, 12, 16, 12, 0, tzinfo=UTC)
    for kind, unit in units.items():
        rows = []
        for size in sizes:
            text = (unit * (size // len(unit) + 1))[:size]
            started = time.process_time()
            extract_facets("Talks", text, published)
            rows.append((size, 1000 * (time.process_time() - started)))
        out[kind] = rows
    return out


# --- report -------------------------------------------------------------------------------


def read_corpora(smoke: bool) -> list[Scored] | None:
    """Every article of the six corpora analysed (smoke: the first groups of each); None,
    with a message, when the data is absent."""
    if not fc.available():
        print(f"skipped: {fc.FACETS} is absent (see ../shared/data/README.md)")
        return None
    gazetteer()  # built once, outside the timing
    docs: list[fc.Doc] = []
    for corpus in fc.ARTICLE_CORPORA:
        part = fc.load(corpus)
        docs += _first_groups(part, SMOKE_DOCS) if smoke else part
    return [Scored(d) for d in docs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_smoke_flag(parser)
    parser.add_argument("--show-misses", action="store_true",
                        help="print misses of the explore half of the groups")
    parser.add_argument("--where-misses", action="store_true",
                        help="count the kinds of out-of-fold where misses of the explore half")
    args = parser.parse_args(argv)
    smoke = smoke_requested(args)
    scored = read_corpora(smoke)
    if scored is None:
        return 0
    folds = 2 if smoke else FOLDS
    by_fold, by_corpus = cross_validate(scored, folds)

    corpora = list(fc.ARTICLE_CORPORA)
    print(f"{'corpus':11} {'measure':8} {'n':>5} {'baseline':>9} {'in-fold':>8} "
          f"{'folds':>7} {'corpus out':>10}   baseline is")
    lines = []
    for corpus in [*corpora, "ALL"]:
        for measure in MEASURES:
            idx = [i for i, s in enumerate(scored) if s.counts(measure)
                   and (corpus == "ALL" or s.doc.corpus == corpus)]
            if not idx:
                continue
            base = _rate([bool(scored[i].baseline[measure]) for i in idx])
            ours = _rate([scored[i].hit(measure, None) for i in idx])
            oof = _rate([by_fold[i][measure] for i in idx])
            loco = _rate([by_corpus[i][measure] for i in idx])
            print(f"{corpus:11} {measure:8} {len(idx):>5} {base:9.3f} {ours:8.3f} {oof:7.3f} "
                  f"{loco:10.3f}   {BASELINE_NAMES[measure]}")
            key = f"facets_{corpus.lower()}_{measure.replace('@', '_at_')}"
            lines += [f"{key}_baseline: {base:.3f}", f"{key}_newsmon: {ours:.3f}",
                      f"{key}_folds: {oof:.3f}", f"{key}_corpus_out: {loco:.3f}",
                      f"{key}_articles: {len(idx)}"]
    cases = fc.load_dates()
    cases = cases[:40] if smoke else cases
    resolved, dct = date_expressions(cases)
    print(f"\nTempEval-3 full-day date expressions: {len(cases)}, resolved {resolved:.3f} "
          f"(the document date: {dct:.3f})")
    lines += [f"facets_tbaq_resolved: {resolved:.3f}", f"facets_tbaq_baseline: {dct:.3f}"]
    _when_sources(scored)
    _giveme_ceiling([s for s in scored if s.doc.corpus == "giveme5w1h"])

    cpu = sum(s.seconds for s in scored)
    print(f"\nCPU per article (extract_facets, process time): {1000 * cpu / len(scored):.2f} ms "
          f"over {len(scored)} articles")
    lines.append(f"facets_cpu_ms_per_article: {1000 * cpu / len(scored):.2f}")
    sizes = (2_000, 4_000) if smoke else (15_000, 30_000, 60_000)
    for kind, rows in scaling(sizes).items():
        cells = ", ".join(f"{n // 1000}k chars {ms:.1f} ms" for n, ms in rows)
        ratio = rows[-1][1] / max(rows[-2][1], 1e-6)
        print(f"cost of one-sentence pages of {kind}: {cells} (last doubling x{ratio:.2f})")
        lines.append(f"facets_scaling_{kind}_last_doubling: {ratio:.2f}")
    print()
    print("\n".join(lines))
    if args.show_misses:
        _show_misses(scored, by_fold)
    if args.where_misses:
        print_where_misses(where_misses(scored, folds))
    return 0


def _first_groups(docs: list[fc.Doc], n: int) -> list[fc.Doc]:
    groups: dict[str, list[fc.Doc]] = defaultdict(list)
    for d in docs:
        groups[d.group].append(d)
    out: list[fc.Doc] = []
    for g in groups.values():
        if len(out) >= n:
            break
        out += g
    return out


def _when_sources(scored: list[Scored]) -> None:
    """How often `when` rests on each kind of evidence, and how often it is right then."""
    print("\nwhen_source (share of articles with a gold day; hit rate):")
    for corpus in fc.ARTICLE_CORPORA:
        part = [s for s in scored if s.doc.corpus == corpus and s.doc.when]
        if not part:
            continue
        cells = []
        for source in ("dateline", "text", "published", None):
            sel = [s for s in part if s.shipped.when_source == source]
            if sel:
                hits = _rate([s._when(s.shipped.event_date) for s in sel])
                cells.append(f"{source}: {len(sel) / len(part):.2f} ({hits:.2f})")
        print(f"  {corpus:11} " + ", ".join(cells))


def _giveme_ceiling(scored: list[Scored]) -> None:
    if not scored:
        return
    rows = {r["id"]: r for r in fc.giveme_rows()}
    print("\nGiveme5W1H: what the gold allows (an answer is set apart when a rule below "
          "says no extractor could give it from the text):")
    for measure, facet in zip(MEASURES, ("who", "where", "when"), strict=True):
        counted = [s for s in scored if s.counts(measure)]
        reasons = [unanswerable(rows[s.doc.id])[facet] for s in counted]
        apart = sum(1 for r in reasons if r)
        fair = [s for s, r in zip(counted, reasons, strict=True) if not r]
        ceiling = (len(counted) - apart) / max(1, len(counted))
        ours = _rate([s.hit(measure, None) for s in fair])
        print(f"  {measure}: {apart} of {len(counted)} set apart, ceiling {ceiling:.3f}; "
              f"newsmon on the answerable rest {ours:.3f}")
        for reason, rule in RULES[facet]:
            print(textwrap.fill(f"{reasons.count(reason):>3}  {reason}: {rule}", width=100,
                                initial_indent="    ", subsequent_indent=" " * 9))
        key = measure.replace("@", "_at_")
        print(f"facets_{key}_ceiling: {ceiling:.3f}")


def _show_misses(scored: list[Scored], by_fold: dict[int, dict[str, bool]]) -> None:
    show: Callable[[fc.Doc], bool] = fc.explore_half
    for i, s in enumerate(scored):
        if not show(s.doc):
            continue
        missed = [m for m in MEASURES if s.counts(m) and not by_fold[i][m]]
        if not missed:
            continue
        f = s.shipped
        print(f"\n[{s.doc.corpus} {s.doc.group}] {s.doc.title[:90]}  missed: {', '.join(missed)}")
        print(f"  newsmon who={[a.name for a in f.who]} where={f.where.name if f.where else None}"
              f" ({f.where_confidence}) when={f.event_date} ({f.when_source})")
        print(f"  gold who={list(s.doc.who or ())[:4]} where={[g.name for g in s.doc.where or ()]}"
              f" when={sorted(str(d) for d in s.doc.when or ())}")



def where_miss_kind(s: Scored, weights: dict[str, float]) -> str:
    """What an article's where answer under these weights is: "hit", or the kind of miss."""
    ranked = ranking.ranked(s.analysis.where, weights)
    right = {id(c): r for c, r in zip(s.analysis.where, s.right["where"], strict=True)}
    named = [c for c in ranked if c.value is not None]
    null = next((c.score for c in ranked if c.value is None), -math.inf)
    best = named[0] if named else None
    if best is not None and null - best.score > weights.get(ranking.ABSTAIN_MARGIN, math.inf):
        best = None
    if best is not None and right[id(best)]:
        return "hit"
    good = [c for c in named if right[id(c)]]
    if not good:
        gaz = gazetteer()
        known = any(gaz.senses(n) for g in s.doc.where or () for n in (g.name, *g.alt))
        return ("no right candidate, gold name in the gazetteer" if known
                else "no right candidate, gold name not in the gazetteer")
    if best is None:
        return "no place answered"
    chosen, first = best.value, good[0].value
    if isinstance(chosen, Site):
        return "a site chosen"
    if isinstance(first, Entry):
        gaz = gazetteer()
        if gaz.contains(chosen, first):
            return f"granularity: {chosen.kind} chosen around the gold {first.kind}"
        if gaz.contains(first, chosen):
            return f"granularity: {chosen.kind} chosen inside the gold {first.kind}"
        if chosen.name == first.name:
            return "another sense of the same name"
    return "right candidate ranked 2nd" if named.index(good[0]) == 1 else (
        "right candidate ranked 3rd or lower")


def where_misses(scored: list[Scored], folds: int) -> dict[str, Counter]:
    """Per corpus, the kinds of out-of-fold where answers of the explore half (grouped
    folds as in `cross_validate`; the other half is not looked at)."""
    assignment = fc.group_folds([s.doc for s in scored], folds)
    kinds: dict[str, Counter] = defaultdict(Counter)
    for f in range(folds):
        weights = fit_all([s for s, a in zip(scored, assignment, strict=True) if a != f])
        for s, a in zip(scored, assignment, strict=True):
            if a == f and s.doc.where and fc.explore_half(s.doc):
                kinds[s.doc.corpus][where_miss_kind(s, weights["where"])] += 1
    return kinds


def print_where_misses(kinds: dict[str, Counter]) -> None:
    print("\nwhere@1 out of fold, explore half: share of articles by kind of answer")
    for corpus in fc.ARTICLE_CORPORA:
        counts = kinds.get(corpus)
        if not counts:
            continue
        n = sum(counts.values())
        print(f"  {corpus} ({n} articles)")
        for kind, k in counts.most_common():
            print(f"    {k / n:6.3f}  {kind}")


if __name__ == "__main__":
    sys.exit(main())
