"""One rule for times without a zone: a naive datetime means UTC, everywhere in newsmon.

Feeds, pages, config files and command lines all produce naive datetimes now and then;
comparing a naive one with an aware one raises, and guessing the machine's zone would make
results depend on where a run happens. Use these instead of `replace(tzinfo=...)` by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def naive_as_utc(moment: datetime) -> datetime:
    """`moment` with UTC attached if it has no zone; an aware one is returned unchanged."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def to_utc(moment: datetime) -> datetime:
    """`moment` in UTC (a naive one is taken to be UTC already)."""
    return naive_as_utc(moment).astimezone(UTC)


def start_of_day_utc(day: date | datetime) -> datetime:
    """A date as the start of that day in UTC; a datetime as itself (naive means UTC)."""
    if isinstance(day, datetime):
        return naive_as_utc(day)
    return datetime.combine(day, time(), UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
