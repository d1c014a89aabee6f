"""Who, where, when and what of one article, without downloaded models.

Clustering compares events by their actors, places and dates, and analysts filter events by
who, where and when, so these must be cheap (a few ms per article), deterministic and
measured. The package reads an article once (scan.py: capitalised names read as places,
sites or actors; dates.py: date mentions resolved against the publication time) and makes
three choices, each among candidates described by a few general signals whose weights are
fitted on labelled news (ranking.py; bench/facets_fit.py fits them, bench/facets.py reports
them on held-out folds next to simple baselines):

- where: every sense of every place named (places.py, gazetteer.py), or no place; the
  chosen place carries its position and `where_confidence`;
- who: the actors named (actors.py), the unnamed subject of the lead ("a gunman"), or
  nobody; up to MAX_WHO, typed person / organisation / country / unnamed;
- when: the days the text's dates resolve to, the dateline's day and the publication day;
  `when_source` says which evidence the day rests on, and without any the event date is the
  publication day ("published").

Mention lists (`actors`, `places`, `dates`, `keywords`) list everything named, most
prominent first (title 3, lead 2, body 1), for search and clustering. Text written all in
capitals is re-cased first (sentences.recase). A better actor extractor (e.g. spaCy) can be
passed in as `actor_extractor` (a module-level function, so extraction worker processes
receive it with the settings).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from extractors.content.facets import actors as _actors
from extractors.content.facets import dates as _dates
from extractors.content.facets import places as _places
from extractors.content.facets import ranking
from extractors.content.facets.actors import actor_key
from extractors.content.facets.gazetteer import Entry, Gazetteer, fold, gazetteer, place_key
from extractors.content.facets.outlet import read_url
from extractors.content.facets.ranking import Candidate
from extractors.content.facets.scan import is_titlecase, scan
from extractors.content.facets.sentences import (
    TITLE_WEIGHT,
    Sentence,
    is_upper_case,
    lower_vocab,
    recase,
    split,
)
from extractors.content.text import STOPWORDS
from extractors.models import Actor, Facets, Place
from extractors.timezones import naive_as_utc

__all__ = [
    "MAX_ACTORS", "MAX_PLACES", "MAX_TEXT_CHARS", "MAX_WHO", "SPECIFIC_SHARE",
    "ActorExtractor", "Analysis", "actor_key", "analyse", "country_of_url", "decide",
    "extract_facets",
    "fold", "gazetteer", "place_key", "record_json",
]

MAX_ACTORS = 10
MAX_WHO = 3  # main actors of one article
WHO_MARGIN = 2.0  # a main actor after the first scores within this of it (e^-2 as likely)
MAX_PLACES = 10
MAX_KEYWORDS = 8
MAX_TEXT_CHARS = 60_000  # ~10,000 words: facets come from the top of an article anyway
MAX_TITLE_CHARS = 1_000
# Event records (extractors/events/records.py): a city named by this share of an event's
# reports beats the country it lies in as the event's place.
SPECIFIC_SHARE = 0.3


class ActorExtractor(Protocol):
    """Names of the actors of an article, most important first (replaces the heuristics)."""

    def __call__(self, title: str, text: str) -> list[str]: ...


@dataclass
class Analysis:
    """One article read, before any choice: the candidates of each facet and the mention
    lists. `decide` turns it into Facets with a set of weights (bench/ refits them)."""

    who: list[Candidate]
    where: list[Candidate]
    when: list[Candidate]  # values: dates.DayEvidence
    actors: list[str]
    places: list[str]
    dates: list[date]
    keywords: list[str]
    fixed_who: tuple[Actor, ...] | None = None  # from an actor_extractor: no ranking


def extract_facets(
    title: str,
    text: str,
    published: datetime | date | None = None,
    language: str | None = None,
    actor_extractor: ActorExtractor | None = None,
    source_country: str | None = None,
    url: str | None = None,
) -> Facets:
    """Who, where, when, and every actor, place and date mentioned, of one article.

    Pure and deterministic; never raises on any string. Written for English, with Russian
    places, dates, titles and function words; `language` (ISO 639-1) only switches off
    lone-word actors for German, which capitalises every noun. `source_country` (ISO 3166-1
    alpha-2, from the source's settings) and `url` (the article's address: its outlet's home
    town; outlet.py) are context for telling places of one name apart.
    """
    return decide(analyse(title, text, published, language, actor_extractor, source_country,
                          url))


def analyse(
    title: str,
    text: str,
    published: datetime | date | None = None,
    language: str | None = None,
    actor_extractor: ActorExtractor | None = None,
    source_country: str | None = None,
    url: str | None = None,
) -> Analysis:
    title = (title or "")[:MAX_TITLE_CHARS]
    text = (text or "")[:MAX_TEXT_CHARS]
    gaz = gazetteer()
    dateline = _places.find_dateline(text, gaz)
    if is_upper_case(title, text):
        title, text = recase(title, gaz), recase(text, gaz)
    sentences = split(title, text)
    vocab = lower_vocab(text)
    titlecase = is_titlecase(title)
    found = scan(sentences, gaz, vocab, titlecase)

    fixed_who = None
    if actor_extractor is not None:
        names = list(dict.fromkeys(actor_extractor(title, text)))
        merged = [_actors.Merged(actor_key(n), n, weight=-float(i), surfaces=Counter({n: 1}))
                  for i, n in enumerate(names)]
        fixed_who = tuple(Actor(c.name, _actors.actor_type(c, gaz)) for c in merged[:MAX_WHO])
        who: list[Candidate] = []
    else:
        merged = _actors.merge(_actors.collect(found.actors), vocab,
                               nouns_capitalised=language == "de")
        unnamed = _actors.unnamed_subject(sentences, gaz)
        who = _actors.candidates(merged, unnamed, sentences, gaz, titlecase)
    actors = _actors.mention_list(merged)
    # Words of people's names ("Jos" of "Jos Verstappen"): a place of that name is likelier
    # that person.
    typed = [(c.name, _actors.actor_type(c, gaz), c.count) for c in merged]
    _places.drop_name_words(found, typed)
    person_words = {fold(w) for name, kind, _ in typed if " " in name and kind == "person"
                    for w in name.split()}
    where = _places.candidates(found, dateline, gaz, source_country, person_words,
                               read_url(url))
    places = _places.mention_list(found, dateline, gaz)

    local_time = _local_time(published, _zone(found, dateline, gaz, source_country))
    pub = local_time.date() if local_time else _day(published)
    dateline_day = _dateline_day(dateline, pub)
    evidence = _dates.day_candidates(sentences, text, pub, local_time, dateline_day)
    when = [Candidate(e, e.features) for e in evidence
            if pub is None or (pub - e.day).days <= RECENT_DAYS]
    mentioned = [e for e in evidence if e.source != "published"]
    dates = [e.day for e in sorted(mentioned, key=lambda e: -e.features.get("mentions", 0.0))]
    return Analysis(who, where, when, actors, places[:MAX_PLACES], dates,
                    _keywords(sentences), fixed_who)


def decide(
    analysis: Analysis,
    where_weights: dict[str, float] | None = None,
    who_weights: dict[str, float] | None = None,
    when_weights: dict[str, float] | None = None,
) -> Facets:
    """The facets of an analysed article under these weights (default: the fitted ones)."""
    where, confidence = None, None
    weights = where_weights or ranking.WHERE_WEIGHTS
    ranked = ranking.ranked(analysis.where, weights)
    best = next((c for c in ranked if c.value is not None), None)
    if best is not None and _null_score(ranked) - best.score <= weights.get(
            ranking.ABSTAIN_MARGIN, float("inf")):
        where = _places.answer(best.value)
        confidence = round(ranking.confidence(best, ranked), 3)
    if analysis.fixed_who is not None:
        who = analysis.fixed_who
    else:
        ranked = ranking.ranked(analysis.who, who_weights or ranking.WHO_WEIGHTS)
        named = [c for c in ranked if c.value is not None]
        # The best actor, and the next ones scored nearly as high (WHO_MARGIN).
        who = tuple(Actor(*c.value) for i, c in enumerate(named[:MAX_WHO])
                    if i == 0 or c.score >= named[0].score - WHO_MARGIN)
    event_date, source = None, None
    if analysis.when:
        weights = when_weights or ranking.WHEN_WEIGHTS
        ranked = ranking.ranked(analysis.when, weights)
        chosen = ranked[0]
        published = next((c for c in ranked if c.features.get("published")), None)
        if published is not None and chosen is not published and (
                chosen.score - published.score <= weights.get(ranking.LEAVE_MARGIN, 0.0)):
            chosen = published  # another day only on clear evidence
        previews = [c for c in ranked if _announces(c.features)]
        if previews:  # a preview's event is the day it announces, not the day it appeared
            chosen = min(previews, key=lambda c: c.value.day)
        event_date, source = chosen.value.day, chosen.value.source
    dates = analysis.dates  # most prominent first: the event date, then by mentions
    if event_date in dates:
        dates = [event_date, *(d for d in dates if d != event_date)]
    return Facets(
        actors=tuple(analysis.actors[:MAX_ACTORS]),
        places=tuple(analysis.places),
        event_date=event_date,
        dates=tuple(dates),
        keywords=tuple(analysis.keywords),
        who=who,
        where=where,
        where_confidence=confidence,
        when_source=source,
    )


# A report is about the last few days: a day more than RECENT_DAYS before publication is
# the story's background ("after the August 29 launch"), never its event date. Chosen on the
# giveme5w1h clustering corpus (bench/cluster_quality.py: story-level B-cubed F1 0.903 at 3
# days, 0.907 at 2, 0.907 at 0): the fitted ranker learns GVA's incident days of follow-up
# reports, which split the reports of one event over days. What it costs on `when`:
# docs/facets.md.
RECENT_DAYS = 2


def _announces(f: dict[str, float]) -> bool:
    """A headline announcing a plan ("upcoming meeting") and a date after publication,
    written out in the lead after a word of plan ("agreed to meet on December 15"): the
    event a preview announces. The
    development corpora hold no previews to fit this on; the seed pair (a preview and the
    report of one summit) and clustering (bench/cluster_quality.py) are what check it."""
    return bool(f.get("after") and f.get("explicit") and f.get("lead") and f.get("future_word")
                and f.get("title_plan"))


def _null_score(ranked: list[Candidate]) -> float:
    return next((c.score for c in ranked if c.value is None), float("-inf"))


# Country-code top-level domains that sites use for their look, not their country.
_VANITY_TLDS = frozenset(
    "io co tv me fm ly ai gg cc ws to la ag sh so nu tk ml ga cf gq im".split())  # noqa: SIM905
_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", re.IGNORECASE)


def country_of_url(url: str | None) -> str | None:
    """The country an outlet's address names ("www.bbc.co.uk" -> "GB", "lemonde.fr" ->
    "FR"), for `source_country`; None for generic domains (.com, .org) and vanity ones."""
    m = _HOST.match(url) if isinstance(url, str) else None
    if not m:
        return None
    tld = m[1].rstrip(".").rsplit(".", 1)[-1].lower()
    if len(tld) != 2 or not tld.isalpha() or tld in _VANITY_TLDS:
        return None
    return "GB" if tld == "uk" else tld.upper()


def record_json(who: tuple[Actor, ...], where: Place | None, when: date | None,
                where_confidence: float | None = None, when_source: str | None = None
                ) -> dict:
    """The who / where / when keys of the CLI's JSON lines (extract and cluster), with the
    additive `where_confidence` and `when_source`."""
    return {
        "who": [{"name": a.name, "type": a.type} for a in who],
        "where": None if where is None else {
            "name": where.name, "country": where.country, "lat": where.lat,
            "lon": where.lon, "id": where.id,
        },
        "when": when.isoformat() if when else None,
        "where_confidence": where_confidence,
        "when_source": when_source,
    }


# --- time ------------------------------------------------------------------------------------


def _day(published: datetime | date | None) -> date | None:
    return published.date() if isinstance(published, datetime) else published


def _zone(found, dateline: _places.Dateline | None, gaz: Gazetteer,
          source_country: str | None) -> str | None:
    """The time zone the publication time is read in: the dateline's place, else a city the
    headline names, else the source's country (None: the time as given, naive = UTC)."""
    if dateline is not None and dateline.entry is not None and dateline.entry.timezone:
        return dateline.entry.timezone
    for m in found.places:
        if m.sent.in_title and not m.weak and not m.demonym and m.senses:
            entry = _places._main_sense(m, gaz)
            if entry is not None and entry.kind == "city" and entry.timezone:
                return entry.timezone
    if source_country:
        country = next((e for e in gaz.defaults.values()
                        if e.kind == "country" and e.code == source_country), None)
        return country.timezone if country else None
    return None


def _local_time(published: datetime | date | None, zone: str | None) -> datetime | None:
    """The publication moment in `zone`, naive ("03:37 UTC" is the evening before in
    Seattle); a time of exactly midnight is a bare date: None, as is a date."""
    if not isinstance(published, datetime) or published.time() == time(0, 0):
        return None
    if zone is None:
        return published.replace(tzinfo=None)
    try:
        return naive_as_utc(published).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    except (ZoneInfoNotFoundError, ValueError, OverflowError):
        return published.replace(tzinfo=None)


_DATELINE_DAY = re.compile(r"([0-3]?\d)\s+([A-Za-z]{3,9})\.?\s+(\d{2,4})")


def _dateline_day(dateline: _places.Dateline | None, published: date | None) -> date | None:
    """The day a dateline carries ("SAN SALVADOR, 3 JAN 90 --")."""
    if dateline is None or not dateline.day_text:
        return None
    m = _DATELINE_DAY.fullmatch(dateline.day_text.strip())
    month = _dates.MONTHS.get(m[2].lower()) if m else None
    if m is None or month is None:
        return None
    year = int(m[3])
    if year < 100:
        year += 1900 if year >= 50 else 2000
    try:
        return date(year, month, int(m[1]))
    except ValueError:
        return None


# --- keywords --------------------------------------------------------------------------------

_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*[a-z]\b")  # English keywords


def _lemma(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _keywords(sentences: list[Sentence]) -> list[str]:
    """Frequent content words and word pairs, weighted by position."""
    uni: Counter[str] = Counter()
    uni_weight: dict[str, float] = defaultdict(float)
    bi: Counter[str] = Counter()
    bi_weight: dict[str, float] = defaultdict(float)
    for sent in sentences:
        prev = None
        for m in _LOWER_WORD.finditer(sent.text):
            low = m.group()
            if len(low) < 4 or low in STOPWORDS:
                prev = None
                continue
            lemma = _lemma(low)
            uni[lemma] += 1
            uni_weight[lemma] += sent.weight
            if prev is not None and sent.text[prev[1] : m.start()] == " ":
                pair = f"{prev[0]} {lemma}"
                bi[pair] += 1
                bi_weight[pair] += sent.weight
            prev = (lemma, m.end())
    scored = [(w * 1.5, p) for p, w in bi_weight.items() if bi[p] >= 2]
    scored += [
        (w, u)
        for u, w in uni_weight.items()
        if (uni[u] >= 2 or w >= TITLE_WEIGHT) and not u.endswith(("ed", "ly"))
    ]
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[str] = []
    for _, term in scored:
        if any(term in c.split() for c in chosen if " " in c):
            continue
        chosen.append(term)
        if len(chosen) == MAX_KEYWORDS:
            break
    return chosen


def where_entry(place: Place | None) -> Entry | None:
    """The gazetteer sense behind a `where` (None for a site or no place)."""
    if place is None or place.id is None:
        return None
    gaz = gazetteer()
    return next((e for e in gaz.senses(place.name) if e.id == place.id), None)
