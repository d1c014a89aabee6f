"""What an article's address says about its place: the outlet's home town.

A local outlet names its town in its host ("nbcchicago.com", "palestineherald.com",
"pittsburgh.cbslocal.com"). That town is no place of the story by itself (a Chicago paper
reports on Gary too), so it is context for the article's own candidates (places.py): a
sense near it or in its US state is likelier the one meant, and a story naming only a
neighbourhood ("North Lawndale") likely happened there. Only the address's text is read;
nothing is fetched. A path's words ("/city/arlington/") were tried too and cost more than
they gave (docs/facets.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from extractors.content.facets.gazetteer import Entry, gazetteer

MIN_NAME = 5  # shorter host fragments ("pare", "tama", "dese") are mostly not names
MAX_NAME = 20  # longest run of letters read as one name ("westpalmbeach": 13)
MAX_SENSES = 12  # senses of a host's name kept (most prominent first)
MAX_HOST_CHARS = 253  # a DNS name's limit
NEAR_KM = 80.0  # a town this close to the outlet's home is in its area
# a latitude difference beyond this is farther than NEAR_KM (a degree is >= 111.19 km)
_NEAR_DEGREES = NEAR_KM / 111.19
# Host labels that are no outlet's name: the web's furniture.
_GENERIC = frozenset(
    "www www2 m mobile amp edition news com org net co gov edu ac".split())  # noqa: SIM905
_LETTERS = re.compile(r"[a-z]+")
_HOST = re.compile(rf"^[a-z][a-z0-9+.-]*://([^/:?#@]{{1,{MAX_HOST_CHARS}}})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Outlet:
    """An article's address read: the senses of the place name its host holds (empty when
    it holds none), most prominent first."""

    homes: tuple[Entry, ...]

    def near(self, e: Entry) -> bool:
        """`e` is one of the host's places or lies within NEAR_KM of one of its towns."""
        if e.lat is None or e.lon is None:
            return False
        for h in self.homes:
            if h.id == e.id:
                return True
            if (h.lat is not None and h.lon is not None and h.kind in ("city", "county")
                    and abs(h.lat - e.lat) <= _NEAR_DEGREES
                    and _km(h.lat, h.lon, e.lat, e.lon) <= NEAR_KM):
                return True
        return False

    def same_state(self, e: Entry) -> bool:
        """`e` lies in (or is) a US state one of the host's places lies in (or is)."""
        return e.code == "US" and e.kind != "country" and any(
            h.code == "US" and h.state == e.state for h in self.homes)


def read_url(url: str | None) -> Outlet | None:
    """The outlet context of an address; None without an address."""
    if not isinstance(url, str) or not url:
        return None
    m = _HOST.match(url)
    if m is None:
        return None
    return Outlet(_host_homes(m[1].lower()))


@lru_cache(maxsize=4096)  # an outlet's articles come in batches
def _host_homes(host: str) -> tuple[Entry, ...]:
    """The senses of the first place name a host's labels begin or end with."""
    for label in host.split(".")[:-1]:  # the top-level domain names no town
        if label in _GENERIC:
            continue
        for chunk in _LETTERS.findall(label):
            senses = _name_at_edge(chunk)
            if senses:
                return senses[:MAX_SENSES]
    return ()


def _name_at_edge(chunk: str) -> tuple[Entry, ...]:
    """The longest place name (towns, counties, regions) that begins or ends a run of
    letters ("nbcchicago", "houstonchronicle"), one word or two ("kansascity",
    "sanantonio")."""
    gaz = gazetteer()
    n = len(chunk)
    for size in range(min(n, MAX_NAME), MIN_NAME - 1, -1):
        for part in dict.fromkeys((chunk[:size], chunk[n - size:])):
            senses = gaz.senses(part)
            cut = 3
            while not senses and cut < size - 2:  # two words run together
                senses = gaz.senses(part[:cut] + " " + part[cut:])
                cut += 1
            senses = tuple(s for s in senses if s.kind in ("city", "county", "region"))
            if senses:
                return senses
    return ()


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p = math.pi / 180
    h = (math.sin((lat2 - lat1) * p / 2) ** 2
         + math.cos(lat1 * p) * math.cos(lat2 * p) * math.sin((lon2 - lon1) * p / 2) ** 2)
    return 12742.0 * math.asin(min(1.0, math.sqrt(h)))
