"""Date mentions of news text resolved against the publication date, and the evidence of
each day for the event date (`day_candidates`, weighed by ranking.py).

Hand-written patterns instead of dateparser: dateparser is far too slow for every article, and
news prose uses a small set of forms ("December 15", "Dec. 15, 2021", "15 December", ISO dates,
"yesterday", "last night", "on Saturday", "last week"). Year-less dates take the year that puts
them nearest the publication date; weekdays mean the latest such day at or before publication
unless "next" (or unless that is six days back: then the day after publication, see
`_weekday`).
Clock times ("at 11:30pm") resolve only against a known local publication time: the latest
such moment before it, within CLOCK_HOURS ("11:30pm" in a report published at 00:14 is the
evening before). Weekdays tied to another day ("the Sunday before the election") are not
resolved: they count from that day, not from the publication.
Russian: "15 декабря", "15 декабря 2021 года", "вчера", "сегодня", "завтра".
"Three days ago", "a week ago" count back from publication; a weekday after "will",
"scheduled" or another word of the future is the next such day. Every context look is a
bounded window around the mention, so the scan is linear in the text's length.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
# "last night" (the evening before publication), "this morning" (the publication day).
_PART_DIR = "|".join(_either_case(w) for w in ("last", "this"))
_DIR = "|".join(_either_case(w) for w in ("last", "next", "this", "previous", "past"))
_WDIR = "|".join(_either_case(w) for w in ("last", "next", "this", "on", "since"))
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_COUNT = "|".join([*(_either_case(w) for w in _NUMBERS), r"\d{1,2}"])
# "11:30pm", "7 p.m.", "12:47 a.m.": a time of day, resolved against the publication time.
_CLOCK = r"(?P<hh>[01]?\d)(?::(?P<mm>[0-5]\d))?\s?(?P<ampm>[ap])\.?m\b\.?"
AHEAD_DAYS = 90  # a date without its year lies at most this far after publication
CLOCK_HOURS = 12  # a report's "at 11pm" is within half a day before it was published
# "the Sunday before the election": a weekday counted from another day, not from publication.
_ANCHORED_AFTER = re.compile(r"\s+(?:before|after|prior to|following)\b")
_THE_BEFORE = re.compile(r"\b[Tt]he\s+$")
# Words of the future just before a weekday: "will meet Friday", "scheduled for Tuesday".
_FUTURE_BEFORE = re.compile(
    r"\b(?:will|won't|shall|'ll|scheduled|slated|due|expected|planned|planning|plans to)\b"
    r"[^.;!?]{0,25}$", re.IGNORECASE)

# One alternation, tried left to right at each position; named groups tell the forms apart.
_DATE = re.compile(
    r"\b(?:"
    rf"(?P<iso>{_YEAR.replace('year', 'iy')}-(?P<im>[01]\d)-(?P<id>[0-3]\d))"
    rf"|(?P<md>{_MONTH}\s+{_DAY}(?![\d:])(?:,?\s+{_YEAR})?)"
    rf"|(?P<dm>{_DAY.replace('day', 'd2')}\s+(?:of\s+)?"
    rf"{_MONTH.replace('month', 'm2')}(?:,?\s+{_YEAR.replace('year', 'y2')})?)"
    rf"|(?P<ru>(?P<rd>[0-3]?\d)\s+{_RU_MONTH}(?:\s+(?P<ry>(?:19|20)\d\d))?)"
    rf"|(?P<part>(?P<pdir>{_PART_DIR})\s+(?:night|evening|morning|afternoon))"
    rf"|(?P<ago>(?P<n>{_COUNT})\s+(?:(?P<agounit>days?|weeks?|years?)\s+ago"
    rf"|(?P<earlier>years?)\s+earlier))"
    rf"|(?P<feast>(?P<fdir>{_DIR})?\s*(?P<fname>Thanksgiving(?: Day)?|Christmas(?: Day| Eve)?"
    rf"|New Year's (?:Day|Eve)|Election Day))"
    rf"|(?P<rel>{_REL})"
    rf"|(?P<span>(?P<dir>{_DIR})\s+(?P<unit>week|month|weekend))"
    rf"|(?P<wd>(?:(?P<wdir>{_WDIR})\s+)?{_WEEKDAY})"
    rf"|(?P<clock>{_CLOCK})"
    r")(?!\w)"
)


@dataclass(frozen=True)
class DateMention:
    """One resolved date and where it sits in the text (character offsets)."""

    value: date
    start: int
    end: int
    relative: bool  # "yesterday", "on Saturday": a date of reporting more often than of events
    span: bool = False  # "last week", "last month": a stretch of days, not one day


def _nearest_year(month: int, day: int, published: date) -> date | None:
    """The year of a month and day written without one: the latest that is at most
    AHEAD_DAYS after publication (news looks back further than it looks ahead: "the Oct. 23
    slaying" in May is last October's; "the Dec. 15 summit" in November is next month's)."""
    best = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if (candidate - published).days <= AHEAD_DAYS:
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


def _feast(name: str, direction: str, published: date) -> date | None:
    """Holidays with a calendar rule, the latest at or before publication ("next": after)."""
    def on(year: int) -> date:
        if name.startswith("Thanksgiving"):  # the fourth Thursday of November
            first = date(year, 11, 1)
            return first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        if name == "Election Day":  # the Tuesday after the first Monday of November
            first = date(year, 11, 1)
            return first + timedelta(days=(0 - first.weekday()) % 7 + 1)
        if name.startswith("New Year's"):
            return date(year, 12, 31) if name.endswith("Eve") else date(year, 1, 1)
        return date(year, 12, 24) if name.endswith("Eve") else date(year, 12, 25)

    days = [on(y) for y in (published.year - 1, published.year, published.year + 1)]
    if direction == "next":
        return next(d for d in days if d > published)
    if direction in ("last", "previous", "past"):
        return max(d for d in days if d < published)
    return max(d for d in days if d <= published)


def _span(direction: str, unit: str, published: date) -> date:
    """'last month' is the middle of the previous month; 'last week' seven days back."""
    sign = 1 if direction == "next" else -1
    if unit == "month":
        month = published.month + sign
        year = published.year + (month - 1) // 12
        return date(year, (month - 1) % 12 + 1, 15)
    return published + timedelta(days=7 * sign)


def find_dates(
    text: str, published: date | None, local_time: datetime | None = None
) -> list[DateMention]:
    """Every date mention in `text` that can be resolved to a calendar day.

    `local_time` is the publication moment where the story is set (naive, local); without
    it clock times ("at 11pm") are not resolved."""
    found: list[DateMention] = []
    for m in _DATE.finditer(text):
        try:
            value, relative = _resolve(m, text, published, local_time)
        except (ValueError, OverflowError):  # beyond date.min / date.max
            continue
        if value is not None:
            found.append(DateMention(value, m.start(), m.end(), relative, span=bool(m["span"])))
    return found


def _resolve(
    m: re.Match[str], text: str, published: date | None, local_time: datetime | None
) -> tuple[date | None, bool]:
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
    if m["clock"]:
        return _clock_day(m, text, local_time), True
    if m["ago"]:
        n = int(m["n"]) if m["n"].isdigit() else _NUMBERS[m["n"].lower()]
        unit = (m["agounit"] or m["earlier"]).rstrip("s")
        if unit == "year":
            return _make(published.year - n, published.month, min(published.day, 28)
                         if published.month == 2 else published.day, None), True
        return published - timedelta(days=n * (7 if unit == "week" else 1)), True
    if m["feast"]:
        return _feast(m["fname"], (m["fdir"] or "").lower(), published), True
    if m["part"]:
        back = 1 if m["pdir"].lower() == "last" else 0
        return published - timedelta(days=back), True
    if m["rel"]:
        if _names_it(m, text):
            return None, False  # "USA Today", "Today show": part of a name
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
    if _THE_BEFORE.search(text[max(0, m.start() - 4) : m.start()]) and _ANCHORED_AFTER.match(
        text, m.end()
    ):
        return None, True  # "the Saturday before Election Day": counted from another day
    direction = (m["wdir"] or "on").lower()
    if direction == "on" and _FUTURE_BEFORE.search(text[max(0, m.start() - 40) : m.start()]):
        direction = "next"  # "will meet Friday", "is scheduled for Tuesday"
    return _weekday(m["weekday"].lower(), direction, published), True


# Between a time and its date: "11am on November 6", "11:30pm local time on Thursday".
_TIME_TO_DATE = re.compile(r"[\s,]*(?:(?:local time|[A-Z]{2,4}T?|on|of)\b[\s,]*)*")


def _skip_words(text: str, pos: int) -> int:
    """Past the words between a time and its date."""
    found = _TIME_TO_DATE.match(text, pos)
    return found.end() if found else pos


def _skip_comma(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " ,":
        pos += 1
    return pos


def _names_it(m: re.Match[str], text: str) -> bool:
    """A capitalised "Today" right after a capitalised word ("USA Today") is part of a name."""
    if not m["rel"][0].isupper() or m.start() < 2 or text[m.start() - 1] != " ":
        return False
    before = text[: m.start() - 1].rsplit(None, 1)
    return bool(before) and before[-1][:1].isupper() and before[-1][-1:].isalnum()


def _clock_day(m: re.Match[str], text: str, local_time: datetime | None) -> date | None:
    """The day of "at 11:30pm": the latest such moment at or before the local publication
    time, if within CLOCK_HOURS; None if a date follows ("12:47 a.m. Thursday" says it)."""
    if local_time is None or _DATE.match(text, _skip_words(text, m.end())):
        return None
    hour = int(m["hh"]) % 12 + (12 if m["ampm"] == "p" else 0)
    if int(m["hh"]) > 12:
        return None
    moment = local_time.replace(hour=hour, minute=int(m["mm"] or 0), second=0, microsecond=0)
    if moment > local_time:
        moment -= timedelta(days=1)
    return moment.date() if local_time - moment <= timedelta(hours=CLOCK_HOURS) else None


# --- the event date: each day's evidence ------------------------------------------------------

# Words around a date that say something happened then, or that it is background, a report,
# an update, or a quote's own day. Read in a bounded window around each mention.
EVENT_WORDS = re.compile(
    r"\b(meet|meets|met|meeting|talks|summit|held|hold|holds|took place|take place|agreed to"
    r"|scheduled|signed|attack|attacked|killed|crash|crashed|launch|launched|fired|exploded"
    r"|struck|hit|arrested|convicted|sentenced|elected|voted|died|won|released|fighting"
    r"|happened|occurred|derailed|collided|seized|raised|approved|opened|visit|visited"
    r"|bombing|blast|explosion|shooting|shot|wounded|injured|stabbed|murdered|robbed|found)\b",
    re.IGNORECASE,
)
_BACKGROUND_WORDS = re.compile(
    r"\b(since|previous|previously|earlier|ago|former|formerly|the last|last year|in the past"
    r"|anniversary|history|historic|used to|had been|once)\b",
    re.IGNORECASE,
)
_UPDATE_WORDS = re.compile(r"\b(toll|rose to|risen to|climbed to|has risen|now stands)\b")
_REPORTING_BEFORE = re.compile(
    r"\b(said|says|told|announced|added|confirmed|reported|stated|wrote|tweeted)\s+(on\s+)?$",
    re.IGNORECASE,
)
_REPORTING_AFTER = re.compile(
    r"^\s*,?\s*(said|says|told|announced|added|confirmed|reported|stated|wrote|tweeted)\b",
    re.IGNORECASE,
)
_FUTURE_WORDS = re.compile(
    r"\b(will|won't|shall|scheduled|slated|due to|expected to|planned|plans to|set to|set for"
    r"|agreed to|upcoming|is to|are to)\b", re.IGNORECASE)
# The signature line of an embedded social-media post, just before its date.
_EMBED_SIGNATURE = re.compile(r"\(@\w{1,30}\)\s*$")
_QUOTE_MARKS = re.compile(r"[\"“”]")
WINDOW = 80  # characters read on each side of a date mention
EVIDENCE_FEATURES = ("explicit", "weekday", "relative", "span", "dateline")


@dataclass(frozen=True, slots=True)
class DayEvidence:
    """What the text says for one day: its mentions' signals, summed (see day_candidates)."""

    day: date
    features: dict[str, float]
    source: str  # "dateline", "text" or "published" (no mention: only the publication day)


def _kind(m: re.Match[str]) -> str:
    if m["iso"] or m["md"] or m["dm"] or m["ru"]:
        return "explicit"
    if m["wd"]:
        return "weekday"
    if m["span"] or m["ago"]:
        return "span"
    return "relative"  # yesterday, today, tonight, last night, a feast, a clock time


def _mentions(text: str, published: date | None, local_time: datetime | None
              ) -> list[tuple[DateMention, str]]:
    found = []
    for m in _DATE.finditer(text):
        try:
            value, relative = _resolve(m, text, published, local_time)
        except (ValueError, OverflowError, StopIteration):
            continue
        if value is not None:
            found.append((DateMention(value, m.start(), m.end(), relative,
                                      span=bool(m["span"])), _kind(m)))
    return found


def day_candidates(sentences: list, text: str, published: date | None,
                   local_time: datetime | None, dateline_day: date | None
                   ) -> list[DayEvidence]:
    """Every day the article's dates resolve to, with the signals of its mentions (kind,
    position, event words near, background, reporting, future and quotes around, distance
    from publication), plus the publication day, which competes with no mention at all."""
    from bisect import bisect_right

    acc: dict[date, dict[str, float]] = {}
    body = [s for s in sentences if not s.in_title]
    starts = [s.start for s in body]
    located = []
    for sent in sentences:
        if sent.in_title:
            located += [(sent, mention, kind, sent.text, 0)
                        for mention, kind in _mentions(sent.text, published, local_time)]
    for mention, kind in _mentions(text, published, local_time):
        i = bisect_right(starts, mention.start) - 1
        if i >= 0:
            located.append((body[i], mention, kind, text, body[i].start))
    for sent, mention, kind, raw, offset in located:
        at, end = mention.start, mention.end
        if _EMBED_SIGNATURE.search(raw[max(0, at - 40) : at]):
            continue  # "— Seattle Fire (@SeattleFire) November 10, 2016": a post's date
        lo = max(offset, at - WINDOW) if offset >= 0 else max(0, at - WINDOW)
        before, after = raw[lo:at], raw[end : end + WINDOW]
        f = acc.setdefault(mention.value, defaultdict(float))
        f["mentions"] += 1.0
        f[kind] += 1.0
        f["title"] = max(f["title"], 1.0 if sent.in_title else 0.0)
        f["lead"] += 1.0 if sent.lead else 0.0
        f["first_sentence"] = max(f["first_sentence"], 1.0 / (1.0 + sent.index))
        if EVENT_WORDS.search(before[-60:]) or EVENT_WORDS.search(after[:60]):
            f["event_word"] += 1.0
        if _BACKGROUND_WORDS.search(before):
            f["background"] += 1.0
        if _REPORTING_BEFORE.search(before[-20:]) or _REPORTING_AFTER.match(after[:20]):
            f["reporting"] += 1.0
        if _UPDATE_WORDS.search(before + after):
            f["update"] += 1.0
        if _FUTURE_WORDS.search(before[-40:]):
            f["future_word"] += 1.0
        if mention.relative and len(_QUOTE_MARKS.findall(raw[max(offset, at - 300) : at])) % 2:
            f["quoted"] += 1.0  # an odd number of quote marks before: inside a quote
    if dateline_day is not None:
        f = acc.setdefault(dateline_day, defaultdict(float))
        f["dateline"] = 1.0
    if published is not None:
        acc.setdefault(published, defaultdict(float))
    title = next((s.text for s in sentences if s.in_title), "")
    plans = bool(_FUTURE_WORDS.search(title))  # "EU official details upcoming meeting"
    out = []
    for day, raw_f in acc.items():
        n = raw_f.get("mentions", 0.0)
        f: dict[str, float] = {}
        if n:
            f["mentions"] = math.log1p(n)
            for k in ("explicit", "weekday", "relative", "span", "event_word", "background",
                      "reporting", "update", "future_word", "quoted"):
                if raw_f.get(k):
                    f[k] = raw_f[k] / n
            f["lead"] = math.log1p(raw_f.get("lead", 0.0))
            f["title"] = raw_f.get("title", 0.0)
            f["first_sentence"] = raw_f.get("first_sentence", 0.0)
        if raw_f.get("dateline"):
            f["dateline"] = 1.0
        if published is not None:
            d = (day - published).days
            if d == 0:
                f["published"] = 1.0
            elif d == -1:
                f["day_before"] = 1.0
            elif d < -1:
                f["days_before"] = 1.0
            else:
                f["after"] = 1.0
        else:
            f["no_publication"] = 1.0
        if plans and n:
            f["title_plan"] = 1.0
        source = "dateline" if raw_f.get("dateline") else "text" if n else "published"
        out.append(DayEvidence(day, f, source))
    out.sort(key=lambda e: (abs((e.day - published).days) if published else 0, e.day))
    return out
