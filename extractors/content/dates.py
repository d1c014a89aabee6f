"""Date mentions in English (and the commonest Russian forms) of news text, resolved
against the publication date.

Hand-written patterns instead of dateparser: dateparser is far too slow for every article, and
news prose uses a small set of forms ("December 15", "Dec. 15, 2021", "15 December", ISO dates,
"yesterday", "on Saturday", "last week"). Year-less dates take the year that puts them nearest
the publication date; weekdays mean the latest such day at or before publication unless "next"
(or unless that is six days back: then the day after publication, see `_weekday`).
Russian: "15 декабря", "15 декабря 2021 года", "вчера", "сегодня", "завтра".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Russian months in the genitive, the case a date takes ("15 декабря").
_RUSSIAN_MONTH_NAMES = """января февраля марта апреля мая июня июля августа сентября октября
    ноября декабря"""
RUSSIAN_MONTHS = {name: n for n, name in enumerate(_RUSSIAN_MONTH_NAMES.split(), start=1)}
WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}


def _either_case(word: str) -> str:
    """'last' -> '[Ll]ast': case-sensitive matching is three times faster than IGNORECASE."""
    return f"[{word[0].upper()}{word[0]}]{word[1:]}"


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(w.capitalize() for w in sorted(words, key=len, reverse=True))


# Month and weekday names count only capitalised, as English writes them.
_MONTH = r"(?P<month>" + _alternatives(MONTHS) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?P<weekday>" + _alternatives(WEEKDAYS) + r")"
_RELATIVE_DAYS = ("yesterday", "today", "tomorrow", "tonight", "вчера", "сегодня", "завтра")
_REL = "|".join(_either_case(w) for w in _RELATIVE_DAYS)
_DAY_SHIFT = {"yesterday": -1, "tomorrow": 1, "вчера": -1, "завтра": 1}  # others: 0
_RU_MONTH = r"(?P<rm>" + "|".join(RUSSIAN_MONTHS) + r")"
_DIR = "|".join(_either_case(w) for w in ("last", "next", "this", "previous", "past"))
_WDIR = "|".join(_either_case(w) for w in ("last", "next", "this", "on", "since"))

# One alternation, tried left to right at each position; named groups tell the forms apart.
_DATE = re.compile(
    r"\b(?:"
    rf"(?P<iso>{_YEAR.replace('year', 'iy')}-(?P<im>[01]\d)-(?P<id>[0-3]\d))"
    rf"|(?P<md>{_MONTH}\s+{_DAY}(?![\d:])(?:,?\s+{_YEAR})?)"
    rf"|(?P<dm>{_DAY.replace('day', 'd2')}\s+(?:of\s+)?"
    rf"{_MONTH.replace('month', 'm2')}(?:,?\s+{_YEAR.replace('year', 'y2')})?)"
    rf"|(?P<ru>(?P<rd>[0-3]?\d)\s+{_RU_MONTH}(?:\s+(?P<ry>(?:19|20)\d\d))?)"
    rf"|(?P<rel>{_REL})"
    rf"|(?P<span>(?P<dir>{_DIR})\s+(?P<unit>week|month|weekend))"
    rf"|(?P<wd>(?:(?P<wdir>{_WDIR})\s+)?{_WEEKDAY})"
    r")\b"
)


@dataclass(frozen=True)
class DateMention:
    """One resolved date and where it sits in the text (character offsets)."""

    value: date
    start: int
    end: int
    relative: bool  # "yesterday", "on Saturday": a date of reporting more often than of events


def _nearest_year(month: int, day: int, published: date) -> date | None:
    """The valid month/day closest to `published` among the previous, same and next year."""
    best = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - published).days) < abs((best - published).days):
            best = candidate
    return best


def _make(year: int | None, month: int, day: int, published: date | None) -> date | None:
    if year is None:
        return _nearest_year(month, day, published) if published else None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekday(name: str, direction: str, published: date) -> date:
    target = WEEKDAYS[name]
    back = (published.weekday() - target) % 7
    if direction == "next":
        return published + timedelta(days=(target - published.weekday()) % 7 or 7)
    if direction in ("last", "since") and back == 0:
        back = 7
    if direction == "on" and back == 6:
        # "on Tuesday" in a story dated Monday is the next day in another time zone far more
        # often than the Tuesday six days earlier (which news would write as a date).
        return published + timedelta(days=1)
    return published - timedelta(days=back)


def _span(direction: str, unit: str, published: date) -> date:
    """'last month' is the middle of the previous month; 'last week' seven days back."""
    sign = 1 if direction == "next" else -1
    if unit == "month":
        month = published.month + sign
        year = published.year + (month - 1) // 12
        return date(year, (month - 1) % 12 + 1, 15)
    return published + timedelta(days=7 * sign)


def find_dates(text: str, published: date | None) -> list[DateMention]:
    """Every date mention in `text` that can be resolved to a calendar day."""
    found: list[DateMention] = []
    for m in _DATE.finditer(text):
        try:
            value, relative = _resolve(m, text, published)
        except (ValueError, OverflowError):  # beyond date.min / date.max
            continue
        if value is not None:
            found.append(DateMention(value, m.start(), m.end(), relative))
    return found


def _resolve(m: re.Match[str], text: str, published: date | None) -> tuple[date | None, bool]:
    """The date one match stands for (None if it cannot be resolved), and if it is relative."""
    if m["iso"]:
        return _make(int(m["iy"]), int(m["im"]), int(m["id"]), published), False
    if m["md"]:
        year = int(m["year"]) if m["year"] else None
        return _make(year, MONTHS[m["month"].lower()], int(m["day"]), published), False
    if m["dm"]:
        year = int(m["y2"]) if m["y2"] else None
        return _make(year, MONTHS[m["m2"].lower()], int(m["d2"]), published), False
    if m["ru"]:
        year = int(m["ry"]) if m["ry"] else None
        return _make(year, RUSSIAN_MONTHS[m["rm"]], int(m["rd"]), published), False
    if published is None:
        return None, False
    if m["rel"]:
        return published + timedelta(days=_DAY_SHIFT.get(m["rel"].lower(), 0)), True
    if m["span"]:
        unit = "week" if m["unit"] == "weekend" else m["unit"]
        direction = {"previous": "last", "past": "last"}.get(m["dir"].lower(), m["dir"].lower())
        if direction == "this":
            return None, True  # "this month" is no particular day
        return _span(direction, unit, published), True
    # A weekday. "Sunday, Dec. 31, 2017": the explicit date that follows says it all.
    if _DATE.match(text, _skip_comma(text, m.end())):
        return None, False
    direction = (m["wdir"] or "on").lower()
    return _weekday(m["weekday"].lower(), direction, published), True


def _skip_comma(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " ,":
        pos += 1
    return pos
