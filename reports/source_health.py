"""Source health: what the `source_health` view says of each source, the changes that deserve
an alert, and the lines the CLI, the digest and a run's artifacts print.

The view (warehouse/views.sql) judges each source from its stored run outcomes: failing (its
latest run read nothing of it), quiet (no new entry for 3x its usual interval and at least
2 days), new (too little history to know) or healthy. After every run the flow compares each
source's state with the last change it notified (`source_transitions`) and raises one alert
per change, through the watchlists' Apprise delivery: it turned failing, it turned quiet, it
recovered. A source that stays failing for ten runs is announced once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from reports.watchlists import SOURCE_HEALTH_RULE
from warehouse import queries
from warehouse.db import open_reader

PROBLEMS = ("failing", "quiet")
HISTORY_DAYS = 90  # the view's window (views.sql)
Change = Literal["failing", "quiet", "recovered"]


def duration(span: timedelta | None) -> str:
    """A span as people say it: "40 min", "6 h", "2.5 days"."""
    if span is None:
        return "—"
    seconds = span.total_seconds()
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.1f} days"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class SourceHealth:
    """One row of the `source_health` view."""

    source: str
    state: str  # failing | quiet | new | healthy
    failed_runs: int = 0
    last_success_at: datetime | None = None
    last_new_entry_at: datetime | None = None
    silent_for: timedelta | None = None
    usual_interval: timedelta | None = None
    entries_dated: int = 0  # entries dated in the view's 90 days
    last_run_at: datetime | None = None
    last_status: str | None = None  # ok | degraded | failed
    last_problem: str | None = None
    in_latest_run: bool = True  # false: its latest run is not the latest run (removed?)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SourceHealth:
        interval = row.get("usual_interval_s")
        return cls(
            source=row["source"], state=row["state"], failed_runs=row["failed_runs"] or 0,
            last_success_at=row["last_success_at"], last_new_entry_at=row["last_new_entry_at"],
            silent_for=row["silent_for"],
            usual_interval=timedelta(seconds=interval) if interval is not None else None,
            entries_dated=row["entries_dated_90d"] or 0, last_run_at=row["last_run_at"],
            last_status=row["last_status"], last_problem=row["last_problem"],
            in_latest_run=bool(row.get("in_latest_run", True)),
        )

    @property
    def unhealthy(self) -> bool:
        return self.state in PROBLEMS

    @property
    def label(self) -> str:
        """The state as `newsmon sources` shows it: "failing (3 runs)", "quiet", ..."""
        if self.state == "failing":
            return f"failing ({_plural(self.failed_runs, 'run')})"
        return self.state

    def describe(self) -> str:
        """One line: why the source is in its state."""
        if self.state == "failing":
            return f"{_plural(self.failed_runs, 'run')} in a row read nothing: {self.last_problem}"
        if self.state == "quiet":
            if self.usual_interval is None:
                return (f"no entry dated in the last {HISTORY_DAYS} days "
                        f"(new entries last seen {_day(self.last_new_entry_at)})")
            return (f"no new entry for {duration(self.silent_for)} (usual interval "
                    f"{duration(self.usual_interval)}; last new entry "
                    f"{_day(self.last_new_entry_at)})")
        if self.state == "new":
            return (f"too little history to know its usual interval ({self.entries_dated} "
                    f"entries dated in the last {HISTORY_DAYS} days)")
        said = f"usual interval {duration(self.usual_interval)}"
        if self.last_status == "degraded":
            said += f"; latest run: {self.last_problem}"
        return said


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "never"


@dataclass(frozen=True)
class Transition:
    """A change of a source's health worth one alert."""

    source: str
    state: Change
    previous: str | None  # failing | quiet | None (healthy or new)
    detail: str

    @property
    def headline(self) -> str:
        if self.state == "recovered":
            return f"{self.source} recovered (was {self.previous})"
        return f"{self.source} is {self.state}"


def transitions(current: Iterable[SourceHealth], notified: Mapping[str, str]) -> list[Transition]:
    """The changes since the last ones notified: a source turned failing or quiet (or from
    one to the other), or it is neither any more. `notified`: source -> the state of the last
    change notified for it; no entry means healthy. `new` counts as healthy: it is no problem
    anyone could act on."""
    changes = []
    for health in current:
        before = notified.get(health.source)
        was = before if before in PROBLEMS else None
        now = health.state if health.state in PROBLEMS else None
        if was == now:
            continue
        changes.append(Transition(health.source, now or "recovered", was,  # type: ignore[arg-type]
                                  health.describe()))
    return changes


def transition_records(changes: Iterable[Transition], run_id: str, at: datetime) -> list[dict]:
    """`source_transitions` rows of one run's changes."""
    return [{"source": c.source, "run_id": run_id, "run_at": at, "state": c.state,
             "previous": c.previous, "detail": c.detail} for c in changes]


def alert_records(changes: Iterable[Transition], run_id: str, at: datetime) -> list[dict]:
    """`alerts` rows (rule 'source-health') of one run's changes: one each, delivered as the
    watchlists' alerts are. Their event_id is `source:<name>@<run id>`, not an event's."""
    return [{"rule": SOURCE_HEALTH_RULE, "event_id": f"source:{c.source}@{run_id}",
             "run_id": run_id, "why": c.detail, "headline": c.headline,
             "event_date": at.date(), "n_sources": 0} for c in changes]


def read_source_health(db: str | Path, names: Iterable[str] | None = None) -> list[SourceHealth]:
    """The view's rows (of `names`, or of every source), failing first."""
    with open_reader(db) as con:
        rows = queries.source_health(con, None if names is None else list(names))
    return [SourceHealth.from_row(r) for r in rows]


# `newsmon sources`: what matters first (columns that do not fit the terminal are left out
# from the right, and named).
SOURCES_COLUMNS = ["source", "state", "why", "last new entry", "usual interval",
                   "last success", "last run"]


def sources_table(health: Iterable[SourceHealth]) -> list[tuple]:
    """`newsmon sources` rows, in SOURCES_COLUMNS order."""
    return [(h.source, h.label, h.describe(), _when(h.last_new_entry_at),
             duration(h.usual_interval), _when(h.last_success_at), _when(h.last_run_at))
            for h in health]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"
