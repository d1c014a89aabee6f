"""Where: every sense of every place an article names, described by general signals.

A place name may stand for several places (gazetteer.py): each sense becomes a candidate,
with what the article says about the name (how often, how early, in the headline, after
"in", as an organisation's home, in the dateline) and about the sense (its kind and
population, whether the text places it, as in "Erie, Pa.", and how much of the article's
other places lie in its country or US state, and whether its country is the source's).
Named sites ("Wrigley Field", "Hinson Drive") are candidates too: they take the position of
the place named next to them ("Progressive Field in Cleveland") or of the article's most
named city. "No place" is a candidate: the story's places may all be beside the point.
ranking.py weighs the signals; its softmax is `where_confidence`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import regex

from extractors.content.facets.gazetteer import Entry, Gazetteer, fold
from extractors.content.facets.outlet import Outlet
from extractors.content.facets.ranking import Candidate
from extractors.content.facets.scan import PlaceMention, Scan
from extractors.models import Place

DATELINE_WEIGHT = 4.0  # a dateline counts as this many body mentions in the mention list
FUTURE_FACTOR = 0.5  # "can win the title in Abu Dhabi": a place named as a prospect

_DATELINE = regex.compile(
    r"(?:^|\s)(?P<city>\p{Lu}{3,}(?:[ -]\p{Lu}{2,}){0,3})"
    r"(?:,\s*(?P<region>\p{Lu}[\p{L}.]*(?:\s\p{Lu}[\p{L}.]*){0,2}))?"
    r"(?:,\s*(?P<date>[0-3]?\d\s+\p{Lu}{3,9}\.?\s+\d{2,4}))?"
    # a dash ends it, or a wire's credit before a capitalised word: "EUTAW, Ala. (AP)
    # Authorities say" (not an upper-case text's acronym: "LIBERATION FRONT (FMLN) ATTACKED")
    r"\s*(?:\([^)]{1,30}\)\s*(?:(?:--|—|–|-)\s|(?=\p{Lu}\p{Ll}))|(?:--|—|–|-)\s)"
)


@dataclass(frozen=True, slots=True)
class Dateline:
    entry: Entry | None  # the place it names
    day_text: str | None  # "3 JAN 90": the date it carries, if any
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    near: Entry | None  # the place named right after it ("Progressive Field in Cleveland")


def find_dateline(text: str, gaz: Gazetteer) -> Dateline | None:
    """'BRUSSELS --', 'ERIE, Pa. (AP) —', 'SAN SALVADOR, 3 JAN 90 --' near the top."""
    m = _DATELINE.search(text[:800])
    if not m:
        return None
    senses = gaz.senses(m["city"])
    entry = None
    if m["region"]:
        code = gaz.state_code(m["region"])
        outers = [gaz.states_by_code[code]] if code in gaz.states_by_code else []
        outers += [e for e in gaz.senses(m["region"]) if e.kind in ("country", "region")]
        entry = next((s for o in outers for s in senses if gaz.contains(o, s)), None)
    if entry is None and senses:
        entry = gaz.default_sense(m["city"]) or senses[0]
    if entry is None and not m["date"]:
        return None
    return Dateline(entry, m["date"], m.start("city"), m.end())


def _mention_senses(m: PlaceMention, gaz: Gazetteer) -> tuple[Entry, ...]:
    if m.container is not None:
        inside = tuple(s for s in m.senses if gaz.contains(m.container, s))
        if inside:
            return inside
    return m.senses


def _main_sense(m: PlaceMention, gaz: Gazetteer) -> Entry | None:
    senses = _mention_senses(m, gaz)
    if not senses:
        return None
    return next((s for s in senses if gaz.defaults.get(s.name) == s), senses[0])


class _Context:
    """How much of the article's place evidence lies in each country (ISO code) and US
    state (postal code), by name, so a name's own mentions can be left out of its context."""

    def __init__(self, scan: Scan, gaz: Gazetteer) -> None:
        self.countries: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.states: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.totals: dict[str, float] = defaultdict(float)
        for m in scan.places:
            if m.site or m.weak:
                continue
            senses = _mention_senses(m, gaz)
            if not senses:
                continue
            key = fold(m.surface)
            w = m.sent.weight
            self.totals[key] += w
            share = w / len(senses)
            for s in senses:
                if s.code:
                    self.countries[s.code][key] += share
                if s.code == "US" and s.state and s.kind != "country":
                    self.states[s.state][key] += share
        self.total = sum(self.totals.values())

    def country(self, code: str | None, name_key: str) -> float:
        rest = self.total - self.totals.get(name_key, 0.0)
        by_name = self.countries.get(code or "", {})
        return (sum(by_name.values()) - by_name.get(name_key, 0.0)) / rest if rest > 0 else 0.0

    def state(self, state: str, name_key: str) -> float:
        rest = self.total - self.totals.get(name_key, 0.0)
        by_name = self.states.get(state, {})
        return (sum(by_name.values()) - by_name.get(name_key, 0.0)) / rest if rest > 0 else 0.0


def _one_sense_per_name(scan: Scan, dateline: Dateline | None, gaz: Gazetteer) -> None:
    """A name the text places once ("Erie, Pa.", the dateline "RICHMOND, Ind.") means that
    place in every mention of the article."""
    settled: dict[str, tuple[Entry, ...]] = {}
    if dateline is not None and dateline.entry is not None:
        settled[fold(dateline.entry.name)] = (dateline.entry,)
    for m in scan.places:
        if m.container is not None and not m.site:
            inside = _mention_senses(m, gaz)
            if inside:
                settled.setdefault(fold(m.surface), inside)
    if not settled:
        return
    for m in scan.places:
        senses = settled.get(fold(m.surface))
        if senses and not m.site and m.container is None and set(senses) & set(m.senses):
            m.senses = tuple(s for s in m.senses if s in senses)
            m.weak = False


def drop_name_words(scan: Scan, names: list[tuple[str, str, int]]) -> None:
    """One name, one reading per article: a one-word place that is also a word of a
    person's name named at least as often ("his father, Jos" beside "Jos Verstappen"), and a
    demonym ending a name used here ("the Indians" beside "Cleveland Indians"), are those
    names, not places. `names`: (name, type, mentions) of the article's actors."""
    person_words: dict[str, int] = defaultdict(int)
    last_words: set[str] = set()
    for name, kind, count in names:
        words = [fold(w) for w in name.split()]
        if len(words) < 2:
            continue
        last_words.add(words[-1])
        if kind == "person":
            for w in words:
                person_words[w] += count
    if not person_words and not last_words:
        return
    lone: dict[str, int] = defaultdict(int)
    for m in scan.places:
        if " " not in m.surface and not m.demonym and not m.site:
            lone[fold(m.surface)] += 1
    scan.places = [
        m for m in scan.places
        if not (m.demonym and fold(m.surface) in last_words)
        and not (" " not in m.surface and not m.demonym and not m.site and m.container is None
                 and person_words.get(fold(m.surface), 0) >= lone[fold(m.surface)])]


def candidates(scan: Scan, dateline: Dateline | None, gaz: Gazetteer,
               source_country: str | None, person_words: set[str] | None = None,
               outlet: Outlet | None = None) -> list[Candidate]:
    """Every sense of every place named, every site, and "no place" (value None).
    `person_words`: the words of people's names in the article ("Bailey" of "Lorraine
    Bailey"): a town of that name is likelier that person. `outlet`: the article's
    address read (outlet.py): the outlet's home town is a candidate, and backs the senses
    near it or in its US state."""
    _one_sense_per_name(scan, dateline, gaz)
    if dateline is not None:  # the dateline's own words are not a mention in the story
        for m in scan.places:
            if not m.sent.in_title and m.sent.start + m.start < dateline.end:
                m.dateline = True
    by_id: dict[str, list[PlaceMention]] = defaultdict(list)
    entries: dict[str, Entry] = {}
    named_order: list[str] = []
    for m in scan.places:
        if m.site:
            continue
        for s in _mention_senses(m, gaz):
            if s.id not in entries:
                entries[s.id] = s
                named_order.append(s.id)
            by_id[s.id].append(m)
    if dateline is not None and dateline.entry is not None and dateline.entry.id not in entries:
        entries[dateline.entry.id] = dateline.entry
        named_order.append(dateline.entry.id)
    # The outlet's home town even when the text never names it: a story naming only a
    # neighbourhood ("North Lawndale") on "nbcchicago.com" happened in Chicago.
    outlet_only: set[str] = set()
    home = outlet.homes[0] if outlet is not None and outlet.homes else None
    if home is not None and home.kind in ("city", "county") and home.id not in entries:
        entries[home.id] = home
        named_order.append(home.id)
        outlet_only.add(home.id)
    implied: set[str] = set()  # a named city's country, which the text may never name
    for e in list(entries.values()):
        country = gaz.defaults.get(e.country or "")
        if country is not None and country.id not in entries and by_id.get(e.id) and not all(
                m.weak for m in by_id[e.id]):
            entries[country.id] = country
            named_order.append(country.id)
            implied.add(country.id)
    context = _Context(scan, gaz)
    counts = {i: sum(1 for m in ms if not m.contained and not m.dateline and not m.home)
              for i, ms in by_id.items()}
    home_states = {s.state for m in scan.places if m.home and not m.weak
                   for s in _mention_senses(m, gaz) if s.code == "US" and s.state}
    home_countries = {s.code for m in scan.places if m.home and not m.weak
                      for s in _mention_senses(m, gaz) if s.code}
    most = max(counts.values(), default=0)
    first_named = next((m for m in scan.places if not m.site and not m.demonym
                        and not m.weak and not m.home), None)
    first_id = _main_sense(first_named, gaz).id if first_named and _main_sense(
        first_named, gaz) else None
    named_countries = {e.code for i, e in entries.items() if e.kind == "country" and counts.get(i)}
    named_states = {e.state for i, e in entries.items()
                    if e.kind == "region" and e.code == "US" and by_id.get(i)}
    child_counts: dict[str, int] = defaultdict(int)  # "US", "US-PA": mentions of places inside
    for i, e in entries.items():
        if e.kind != "country" and e.code:
            child_counts[e.code] += counts.get(i, 0)
            if e.code == "US" and e.kind in ("city", "county"):
                child_counts["US-" + e.state] += counts.get(i, 0)
    out: list[Candidate] = [Candidate(None, {"null": 1.0})]
    for rank_, pid in enumerate(named_order):
        e = entries[pid]
        ms = by_id.get(pid, [])
        f = _mention_features(ms)
        f.update(_sense_features(e, ms, gaz))
        key = fold(ms[0].surface) if ms else fold(e.name)
        if e.code:
            f["ctx_country"] = context.country(e.code, key)
        if e.code == "US" and e.state and e.kind != "country":
            f["ctx_state"] = context.state(e.state, key)
        if source_country:
            f["source_country"] = 1.0 if e.code == source_country else -1.0
        f["inside_named"] = 1.0 if _inside_named(e, named_countries, named_states) else 0.0
        f["children"] = math.log1p(_children(e, child_counts))
        if dateline is not None and dateline.entry is not None and dateline.entry.id == pid:
            f["dateline"] = 1.0
        if pid in implied:
            f["implied"] = 1.0
        if pid in outlet_only:
            f["outlet_only"] = 1.0
        if e.code == "US" and e.kind != "country" and e.state in home_states:
            f["home_state"] = 1.0  # the outlet's state ("... - WISTV - Columbia, S.C.")
        if e.code in home_countries:
            f["home_country"] = 1.0
        if pid == first_id:
            f["first_place"] = 1.0
        if counts.get(pid, 0) == most and most > 0:
            f["most_named"] = 1.0
        if most > 0:
            f["count_share"] = counts.get(pid, 0) / most
        if person_words and ms and fold(ms[0].surface) in person_words:
            f["person_word"] = 1.0  # "Bailey" beside "Lorraine Bailey": a surname
        f["order"] = 1.0 / (1.0 + rank_)
        if outlet is not None:
            _outlet_features(f, e, outlet)
        out.append(Candidate(e, f))
    _relative_to_namesakes(out, by_id)
    out += _site_candidates(scan, gaz)
    for cand in out:
        _by_kind(cand.features)
    return out


def _outlet_features(f: dict[str, float], e: Entry, outlet: Outlet) -> None:
    """The address's evidence for a sense: near a town the outlet's host names (Jacksonville,
    Texas on "palestineherald.com"), in its US state (Athens, Ga. on "onlineathens.com", not
    Athens, Greece; any town on "arkansasonline.com")."""
    if e.kind in ("city", "county") and outlet.near(e):
        f["url_near"] = 1.0
    if outlet.same_state(e):
        f["url_state"] = 1.0


# Signals whose weight depends on the kind of place: a country in the headline is less
# often the story's place than a city in the headline is.
KIND_SIGNALS = ("title", "lead", "locative", "event", "count_share", "dateline", "qualifier")
_KIND_FEATURES = ("kind_city", "kind_region", "kind_country", "kind_county", "kind_site",
                  "kind_named", "kind_area")


def _by_kind(f: dict[str, float]) -> None:
    kind = next((k for k in _KIND_FEATURES if f.get(k)), None)
    if kind is not None:
        for signal in KIND_SIGNALS:
            if f.get(signal):
                f[f"{kind[5:]}:{signal}"] = f[signal]


def _relative_to_namesakes(cands: list[Candidate], by_id: dict[str, list[PlaceMention]]
                           ) -> None:
    """Each sense's population and context next to the best of its name's other senses
    (0 for the best): what tells Paris, Texas from Paris, France."""
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for cand in cands:
        ms = by_id.get(cand.value.id, []) if cand.value is not None else []
        if ms:
            groups[fold(ms[0].surface)].append(cand)
    for group in groups.values():
        if len(group) < 2:
            continue
        for signal in ("population", "ctx_country", "ctx_state"):
            top = max(c.features.get(signal, 0.0) for c in group)
            for c in group:
                c.features[signal + "_rel"] = c.features.get(signal, 0.0) - top


def _inside_named(e: Entry, countries: set[str | None], states: set[str]) -> bool:
    """`e` lies in a country or US state the article names."""
    if e.kind == "country":
        return False
    return e.code in countries or (e.code == "US" and e.kind in ("city", "county")
                                   and e.state in states)


def _children(e: Entry, child_counts: dict[str, int]) -> int:
    """Mentions of places inside `e` (a country's or US state's towns)."""
    if e.kind == "country":
        return child_counts.get(e.code or "", 0)
    if e.kind == "region" and e.code == "US":
        return child_counts.get("US-" + e.state, 0)
    return 0


def _mention_features(ms: list[PlaceMention]) -> dict[str, float]:
    ms = [m for m in ms if not m.home]
    named = [m for m in ms if not m.demonym and not m.contained and not m.dateline]
    f: dict[str, float] = {}
    every = [m for m in ms if not m.contained and not m.dateline]
    if every:  # named or by a demonym: how often the article refers to the place at all
        f["mentions"] = math.log1p(len(every))
    if named:
        n = len(named)
        f["count"] = math.log1p(n)
        f["weight"] = math.log1p(sum(m.sent.weight for m in named))
        f["title"] = 1.0 if any(m.sent.in_title for m in named) else 0.0
        if any(m.sent.in_title and m.locative for m in named):
            f["title_locative"] = 1.0  # "... talks in Brussels", "Teen shot in Chelsea"
        f["lead"] = 1.0 if any(m.sent.lead for m in named) else 0.0
        f["first_sentence"] = 1.0 / (1.0 + min(m.sent.index for m in named))
        f["locative"] = sum(m.locative for m in named) / n
        f["motion"] = sum(m.motion for m in named) / n
        f["qualifier"] = sum(m.qualifier for m in named) / n
        f["future"] = sum(m.future for m in named) / n
        f["event"] = sum(m.event for m in named) / n
        f["acting"] = sum(m.acting for m in named) / n
        f["weak"] = 1.0 if all(m.weak for m in named) else 0.0
        f["container"] = 1.0 if any(m.container is not None for m in named) else 0.0
    else:
        f["unnamed"] = 1.0  # only implied: by a demonym, as a container, in the dateline
    demonyms = [m for m in ms if m.demonym]
    if demonyms:
        f["demonym"] = math.log1p(len(demonyms))

    if any(m.contained for m in ms):
        f["as_container"] = 1.0
    return f


_KINDS = ("city", "region", "country", "county", "area")


def _sense_features(e: Entry, ms: list[PlaceMention], gaz: Gazetteer) -> dict[str, float]:
    f: dict[str, float] = {"kind_" + e.kind: 1.0}
    if e.kind in ("city", "county"):
        f["population"] = math.log10(1 + e.population) / 7.0
    senses = gaz.senses(ms[0].surface) if ms else (e,)
    if len(senses) > 1:
        f["ambiguous"] = math.log(len(senses))
        position = next((i for i, s in enumerate(senses) if s.id == e.id), len(senses))
        f["sense_rank"] = 1.0 / (1.0 + position)
    if gaz.defaults.get(e.name) == e:
        f["default_sense"] = 1.0
    return f


_ABBREVIATED = {"st": "street", "ave": "avenue", "rd": "road", "blvd": "boulevard",
                "dr": "drive", "hwy": "highway"}


def site_key(name: str) -> str:
    """"Wall St." and "Wall Street" are one site."""
    return " ".join(_ABBREVIATED.get(w.rstrip("."), w) for w in fold(name).split())


def _site_candidates(scan: Scan, gaz: Gazetteer) -> list[Candidate]:
    sites: dict[str, list[PlaceMention]] = defaultdict(list)
    for m in scan.places:
        if m.site:
            sites[site_key(m.surface)].append(m)
    if not sites:
        return []
    counts: dict[str, int] = defaultdict(int)
    best: dict[str, Entry] = {}
    for m in scan.places:
        s = None if m.site or m.demonym or m.weak else _main_sense(m, gaz)
        if s is not None and s.kind == "city":
            counts[s.id] += 1
            best[s.id] = s
    fallback = best[max(counts, key=lambda k: counts[k])] if counts else None
    out = []
    for ms in sites.values():
        near = _near(ms, scan, gaz) or fallback
        f = _mention_features(ms)
        f["kind_named" if all(m.named for m in ms) else "kind_site"] = 1.0
        if near is None:
            f["site_unplaced"] = 1.0
        out.append(Candidate(Site(ms[0].surface, near), f))
    return out


_NEAR = re.compile(r"(?:\s+[a-z]+){0,2}?(?:,\s*|\s+(?:in|near|outside)\s+(?:the\s+)?)$")


def _near(ms: list[PlaceMention], scan: Scan, gaz: Gazetteer) -> Entry | None:
    """The place named right after a site: "Progressive Field in Cleveland"."""
    for site in ms:
        for m in scan.places:
            if (m.sent is site.sent and not m.site and not m.demonym
                    and 0 <= m.start - site.end <= 40
                    and _NEAR.fullmatch(site.sent.text[site.end : m.start] or " ")):
                sense = _main_sense(m, gaz)
                if sense is not None:
                    return sense
    return None


def answer(value: Entry | Site | None) -> Place | None:
    if value is None:
        return None
    if isinstance(value, Site):
        near = value.near
        if near is None:
            return Place(value.name)
        return Place(value.name, near.code, near.lat, near.lon, None)
    return value.place()


def mention_list(scan: Scan, dateline: Dateline | None, gaz: Gazetteer) -> list[str]:
    """Every gazetteer place named (not weak), by weight: title 3, lead 2, body 1, half for a
    prospect; the dateline's place counts DATELINE_WEIGHT more. Sites are `where` candidates
    but not listed: read from capitalised runs, a title-case headline makes sites of any
    phrase ("South Korea Seizes Ship Suspected"), and clustering compares these lists
    (story-level B-cubed F1 on giveme5w1h, the clustering dev set: 0.907 without sites, 0.903
    with the sites named in the body, 0.899 with all)."""
    weight: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for m in scan.places:
        if m.weak or m.contained or m.home or m.site:
            continue
        sense = _main_sense(m, gaz)
        if sense is None:
            continue
        name = sense.name
        weight[name] += m.sent.weight * (FUTURE_FACTOR if m.future else 1.0)
        first.setdefault(name, m.order)
    if dateline is not None and dateline.entry is not None:
        weight[dateline.entry.name] += DATELINE_WEIGHT
        first[dateline.entry.name] = -1
    return sorted(weight, key=lambda p: (-weight[p], first[p], p))
