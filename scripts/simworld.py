"""A simulated news world over many days of daily monitor runs: is any article lost?

Outlets publish every day with a random publication lag (an entry shows up hours after the
date it carries), some entries back-dated by days, feeds of limited length, sitemaps of
limited windows (or none), updates of published stories, and outages of feeds, sitemaps and
article pages. The clock is injected (tests/newsworld.py), never slept: each "day" is one real
monitor flow run (Prefect, HTTP on 127.0.0.1, DuckDB) against the world as it is at 06:00.
The first run is a backfill bounded by `--since` (two days back).

It then counts, per article published: was it visible in a feed or sitemap at some run; is
it stored, in its latest visible version; and if not, why. Everything visible at some run must
be stored (exit status 1 otherwise). Articles never visible at any run (they scrolled off a
short feed between two runs with no sitemap to fall back on) cannot be stored by anyone; the
report counts them by reason and checks that the runs warned about those outlets' overflows.

Source health (#29): besides the outlets drawn from the seed, one outlet dies a third of the
way through (its host answers 500 to everything), one's feed and sitemap freeze two thirds of
the way (they answer 200 and list nothing new), one publishes rarely and irregularly, one only
in office hours on weekdays. After every run the `source_health` view must flag exactly what
the world did: failing when every document of an outlet was down at that run (or it is dead),
quiet for the frozen outlet from the first run at which its silence reached the rule's 2 days,
nothing else ever (exit status 1 otherwise).

    .venv/bin/python scripts/simworld.py                # 12 outlets (+4), 30 days (minutes)
    .venv/bin/python scripts/simworld.py --smoke        # 3 outlets (+4), 4 days (a minute)

Run it from the repository root (it imports tests.newsworld). The last page and document
outages happen the day before the last run, so the last run can retry them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # `python scripts/simworld.py`: import the repository's packages
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.newsworld import NewsWorld, Outlet, Story  # noqa: E402

START = datetime(2026, 10, 1, 6, tzinfo=UTC)  # the first run; stories go back 5 days before
BACKLOG_DAYS = 5
FIRST_RUN_SINCE_DAYS = 2  # the first run is a backfill: --since two days back
MAX_DOWN_RUNS = 2  # a page is never down more than this many runs in a row
DIES, FREEZES, RARE, WEEKDAYS = "dies.test", "freezes.test", "rare.test", "weekdays.test"
QUIET_MIN_DAYS = 2  # the source_health view's floor (warehouse/views.sql)


@dataclass
class Report:
    outlets: int
    days: int
    seed: int
    published: int = 0
    visible: int = 0
    stored_latest: int = 0
    stored_older_version: int = 0
    recorded_not_stored: Counter = field(default_factory=Counter)
    recorded_dead: Counter = field(default_factory=Counter)  # of the outlet that died
    lost_visible: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # stored in an older version than seen
    never_visible: Counter = field(default_factory=Counter)
    never_visible_outlets: set[str] = field(default_factory=set)
    warned_outlets: set[str] = field(default_factory=set)
    updates_published: int = 0
    updates_visible: int = 0
    stories_updated: int = 0  # stories with an update visible at a run after their first
    refetched: int = 0
    runs: list[dict] = field(default_factory=list)
    wall_s: float = 0.0
    # source health: what the view flagged, and what the world did
    die_day: int = 0
    freeze_day: int = 0
    flagged: dict[tuple[str, int], str] = field(default_factory=dict)  # (host, day) -> state
    expected: dict[tuple[str, int], str] = field(default_factory=dict)
    frozen_last_new_day: int | None = None  # the last run that saw a new entry of it
    transitions: Counter = field(default_factory=Counter)  # (host, state) -> changes notified

    def first_flag(self, host: str, state: str) -> int | None:
        return min((d for (h, d), s in self.flagged.items() if h == host and s == state),
                   default=None)

    @property
    def false_alarms(self) -> list[tuple[str, int, str]]:
        return sorted((h, d, s) for (h, d), s in self.flagged.items()
                      if self.expected.get((h, d)) != s)

    @property
    def missed(self) -> list[tuple[str, int, str]]:
        return sorted((h, d, s) for (h, d), s in self.expected.items()
                      if self.flagged.get((h, d)) != s)

    @property
    def health_ok(self) -> bool:
        return not self.false_alarms and not self.missed

    @property
    def ok(self) -> bool:
        return not self.lost_visible and self.stored_older_version == 0 \
            and not self.recorded_not_stored and self.health_ok

    def health_lines(self) -> list[str]:
        quiet_from = (None if self.frozen_last_new_day is None
                      else self.frozen_last_new_day + QUIET_MIN_DAYS)
        blips = sorted({(h, d) for (h, d), s in self.expected.items()
                        if s == "failing" and h != DIES})
        return [
            f"source health: {DIES} died at day {self.die_day}, flagged failing at day "
            f"{self.first_flag(DIES, 'failing')}; {FREEZES} froze at day {self.freeze_day} "
            f"(last new entry seen at day {self.frozen_last_new_day}, {QUIET_MIN_DAYS} days of "
            f"silence at day {quiet_from}), flagged quiet at day "
            f"{self.first_flag(FREEZES, 'quiet')}",
            f"  runs at which every document of an outlet was down (flagged failing): "
            f"{len(blips)}; changes notified: " + ", ".join(
                f"{state} {n}" for state, n in sorted(
                    Counter(s for (_, s), n in self.transitions.items()
                            for _ in range(n)).items())),
            f"  false alarms {len(self.false_alarms)}, missed {len(self.missed)}   (must be 0)",
            *(f"FALSE ALARM: {h} day {d}: {s}" for h, d, s in self.false_alarms[:10]),
            *(f"MISSED: {h} day {d}: {s}" for h, d, s in self.missed[:10]),
        ]

    def lines(self) -> list[str]:
        warned = len(self.never_visible_outlets & self.warned_outlets)
        recorded = sum(self.recorded_not_stored.values())
        out = [
            f"simulated world: {self.outlets} outlets, {self.days} daily runs, seed {self.seed}; "
            f"wall time {self.wall_s:.0f} s, load average {_load()}",
            f"published                                  {self.published:6d}",
            f"visible in a feed or sitemap at some run   {self.visible:6d}",
            f"  stored, latest visible version           {self.stored_latest:6d}",
            f"  stored, an older version                 {self.stored_older_version:6d}",
            f"  recorded in the ledger, not stored       {recorded:6d}"
            + "".join(f"\n    {reason}: {n}" for reason, n in
                      sorted(self.recorded_not_stored.items())),
            f"  recorded, not stored: its outlet died    {sum(self.recorded_dead.values()):6d}"
            + "".join(f"\n    {reason}: {n}" for reason, n in
                      sorted(self.recorded_dead.items())),
            f"  lost                                     {len(self.lost_visible):6d}"
            "   (must be 0)",
            f"never visible at any run (lost)            {sum(self.never_visible.values()):6d}",
        ]
        out += [f"  {reason:<41}{n:6d}" for reason, n in sorted(self.never_visible.items())]
        if self.never_visible_outlets:
            out.append(f"  outlets losing entries between runs: {len(self.never_visible_outlets)}"
                       f", warned of an overflow by the runs: {warned}")
        out += [
            f"updates published {self.updates_published}, visible at a run "
            f"{self.updates_visible}; stories seen again with a newer version "
            f"{self.stories_updated}, of which refetched {self.refetched} (the others were "
            "first fetched in their newer version)",
            "runs: " + ", ".join(f"{r['entries']}/{r['candidates']}/{r['articles_new']}"
                                 f"/{r['articles_updated']}" for r in self.runs)
            + "  (entries seen / fetched / new / updated)",
            *self.health_lines(),
            *(f"LOST: {url}" for url in self.lost_visible[:10]),
            *(f"OLDER VERSION: {url}" for url in self.stale[:10]),
            "RESULT: " + ("ok" if self.ok else "ARTICLES LOST"),
        ]
        return out


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def build_world(n_outlets: int, days: int, seed: int) -> NewsWorld:
    """Outlets with their own habits, and every story they will publish; then the four
    outlets of the source health check (their own random stream: the others stay the same)."""
    rng = random.Random(seed)
    world = NewsWorld(now=START)
    end = START + timedelta(days=days - 1)
    for i in range(n_outlets):
        host = f"outlet{i:02d}.test"
        volume = rng.choice([2, 4, 6, 8])
        feed_limit = rng.choice([None, 30, 10, 5, 4])
        has_sitemap = rng.random() < 0.7
        sitemap_days = rng.choice([2.0, 7.0, None])
        world.add_outlet(host, feed_limit=feed_limit, has_sitemap=has_sitemap,
                         sitemap_days=sitemap_days)
        t = START - timedelta(days=BACKLOG_DAYS)
        n = 0
        while True:
            t += timedelta(hours=rng.expovariate(volume / 24))
            if t > end:
                break
            published = t
            lag = timedelta(hours=rng.expovariate(1 / 3))  # most show up within hours
            if rng.random() < 0.1:
                lag = timedelta(hours=rng.uniform(12, 40))  # a CMS queue, an embargo
            appears = published + lag
            if rng.random() < 0.05:
                published = appears - timedelta(days=rng.uniform(1, 5))  # back-dated
            if appears > end:
                continue
            story = world.publish(host, f"s{n:04d}", published=published, appears=appears)
            n += 1
            for _ in range(rng.choice([0] * 17 + [1, 1, 2])):
                world.update(host, story.slug, story.versions[-1]
                             + timedelta(hours=rng.uniform(2, 72)))
    _add_health_outlets(world, days, random.Random(f"{seed}|health"))
    return world


def health_days(days: int) -> tuple[int, int]:
    """(the run from which the dying outlet is dead, the run before which the freezing
    outlet's documents froze); dead from run 2 at the earliest, so that run 1 has fetched
    what the first run's --since left out."""
    return max(2, days // 3), 2 * days // 3


def _add_health_outlets(world: NewsWorld, days: int, rng: random.Random) -> None:
    """An outlet that dies, one whose feed freezes (both busy: 6 and 8 stories a day), one
    that publishes every 1 to 6 days at any hour, one in office hours on weekdays only."""
    end = START + timedelta(days=days - 1)
    _, freeze_day = health_days(days)

    def publish(host: str, stamps: list[datetime]) -> None:
        for n, t in enumerate(stamps):
            appears = t + timedelta(hours=rng.expovariate(1 / 2))
            if appears <= end:
                world.publish(host, f"h{n:04d}", published=t, appears=appears)

    def steady(per_day: float, backlog_days: float = BACKLOG_DAYS) -> list[datetime]:
        stamps, t = [], START - timedelta(days=backlog_days)
        while (t := t + timedelta(hours=rng.expovariate(per_day / 24))) < end:
            stamps.append(t)
        return stamps

    world.add_outlet(DIES, feed_limit=30, sitemap_days=2.0)
    publish(DIES, steady(6))
    world.add_outlet(FREEZES, feed_limit=30, has_sitemap=True, sitemap_days=7.0,
                     frozen_since=START + timedelta(days=freeze_day, hours=-6))
    publish(FREEZES, steady(8))
    # the two with a history the first run can see: its 10-entry feed reaches back weeks
    world.add_outlet(RARE, feed_limit=10, has_sitemap=False)
    rare, t = [], START - timedelta(days=60)
    while (t := t + timedelta(hours=rng.uniform(24, 144))) < end:
        rare.append(t)
    publish(RARE, rare)
    world.add_outlet(WEEKDAYS, feed_limit=None, has_sitemap=True, sitemap_days=7.0)
    publish(WEEKDAYS, [t for t in steady(10, backlog_days=14)
                       if t.weekday() < 5 and 8 <= t.hour < 18])


def plan_outages(world: NewsWorld, days: int, seed: int) -> list[set[tuple[str, str]]]:
    """What is down at each run: feeds and sitemaps 5% of runs, pages 3%, none at the last
    (the source health outlets have only their own scripted faults)."""
    rng = random.Random(f"{seed}|outages")
    plan: list[set[tuple[str, str]]] = []
    streak: Counter = Counter()
    drawn = [o for o in world.outlets.values() if o.host not in (DIES, FREEZES, RARE, WEEKDAYS)]
    for day in range(days):
        down: set[tuple[str, str]] = set()
        if day < days - 1:
            for outlet in drawn:
                for path in ("/feed.xml", "/sitemap.xml"):
                    if rng.random() < 0.05:
                        down.add((outlet.host, path))
                for story in outlet.stories:
                    key = (outlet.host, f"/news/{story.slug}")
                    going_on = 0 < streak[key] < MAX_DOWN_RUNS and rng.random() < 0.5
                    if going_on or (not streak[key] and rng.random() < 0.03):
                        down.add(key)
        for key in list(streak):
            if key not in down:
                del streak[key]
        for key in down:
            streak[key] += 1
        plan.append(down)
    return plan


def _why_not_visible(world: NewsWorld, outlet: Outlet, story: Story) -> str:
    """Why a story that appeared was listed by no document at the next run."""
    if world.now == START:
        return "gone before the first run (backlog)"
    host = outlet.host
    if host in world.dead:
        return "its outlet was dead (source health)"
    if outlet.frozen_since is not None and story.appears > outlet.frozen_since:
        return "its feed had frozen (source health)"
    feed = ("the feed was down" if (host, "/feed.xml") in world.down
            else "scrolled off the feed before the next run")
    if not outlet.has_sitemap:
        sitemap = "no sitemap"
    elif (host, "/sitemap.xml") in world.down:
        sitemap = "the sitemap was down"
    else:
        sitemap = "older than the sitemap window"
    return f"{feed}; {sitemap}"


def simulate(days: int, n_outlets: int, seed: int, workdir: Path,
             progress: bool = False) -> Report:
    """Run the monitor once per simulated day and account for every story."""
    from flows.monitor import monitor
    from flows.settings import format_resolve
    from tests.newsworld import flow_clock
    from warehouse.queries import run_readonly_sql

    started = time.monotonic()
    world = build_world(n_outlets, days, seed)
    outages = plan_outages(world, days, seed)
    sources = world.write_sources(workdir / "sources.toml")
    db = workdir / "sim.duckdb"
    report = Report(len(world.outlets), days, seed)
    report.die_day, report.freeze_day = health_days(days)
    best_visible: dict[str, int] = {}
    first_visible: dict[str, int] = {}
    why_not: dict[str, str] = {}
    saved = {k: os.environ.get(k) for k in ("NEWSMON_RESOLVE", "NEWSMON_MIN_DELAY_PER_HOST_S")}
    with world.serve() as site:
        os.environ["NEWSMON_RESOLVE"] = format_resolve(world.resolve_map(site))
        os.environ["NEWSMON_MIN_DELAY_PER_HOST_S"] = "0"
        try:
            for day in range(days):
                world.now = START + timedelta(days=day)
                world.down = outages[day]
                if day >= report.die_day:
                    world.dead.add(DIES)
                visible = world.visible()
                if any(url not in best_visible for url in visible
                       if url.startswith(f"http://{FREEZES}/")):
                    report.frozen_last_new_day = day  # this run sees a new entry of it
                for url, version in visible.items():
                    best_visible[url] = max(best_visible.get(url, 0), version)
                    first_visible.setdefault(url, version)
                for outlet in world.outlets.values():
                    for story in outlet.stories:
                        if story.appears <= world.now and story.url not in best_visible:
                            why_not.setdefault(story.url, _why_not_visible(world, outlet, story))
                world.refresh(site)
                since = START - timedelta(days=FIRST_RUN_SINCE_DAYS) if day == 0 else None
                with flow_clock(lambda: world.now):  # the run's time is the world's
                    summary = monitor(sources=str(sources), warehouse=str(db), since=since)
                report.runs.append({k: getattr(summary, k) for k in (
                    "entries", "candidates", "articles_new", "articles_updated", "updates")})
                _judge_health(report, world, day, run_readonly_sql(
                    db, "SELECT source, state FROM source_health")[1])
                if progress:
                    print(f"day {day + 1:2d}/{days}: {summary.entries} entries, "
                          f"{summary.candidates} fetched, {summary.articles_new} new, "
                          f"{summary.articles_updated} updated, "
                          f"{len(summary.overflows)} overflow warnings", flush=True)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    report.transitions = Counter(dict(((h, st), n) for h, st, n in run_readonly_sql(
        db, "SELECT source, state, count(*) FROM source_transitions GROUP BY ALL")[1]))
    texts = dict(run_readonly_sql(db, "SELECT canonical_url, text FROM articles")[1])
    ledger = {url: (outcome, reason) for url, outcome, reason in run_readonly_sql(
        db, "SELECT url, outcome, reason FROM entries")[1]}
    report.warned_outlets = {s for (s,) in run_readonly_sql(
        db, "SELECT DISTINCT source FROM overflows")[1]}
    report.refetched = run_readonly_sql(
        db, "SELECT count(*) FROM entries WHERE refetched_at IS NOT NULL")[1][0][0]
    for story in world.stories():
        report.published += 1
        report.updates_published += len(story.versions) - 1
        visible = best_visible.get(story.url)
        if visible is None:
            why = why_not.get(story.url, "never listed")
            report.never_visible[why] += 1
            if not why.startswith("gone before the first run") and "source health" not in why:
                report.never_visible_outlets.add(story.host)
            continue
        report.visible += 1
        report.updates_visible += visible - 1
        report.stories_updated += visible > first_visible[story.url]
        text = texts.get(story.url)
        if text is None:
            outcome, reason = ledger.get(story.url, (None, None))
            if outcome is None:
                report.lost_visible.append(story.url)
            elif story.host == DIES:  # listed, then its outlet died before it was fetched
                report.recorded_dead[f"{outcome}: {reason}"] += 1
            else:
                report.recorded_not_stored[f"{outcome}: {reason}"] += 1
        elif f"This is version {visible} of the report" in text:
            report.stored_latest += 1
        else:
            report.stored_older_version += 1
            report.stale.append(story.url)
    report.wall_s = time.monotonic() - started
    return report


def _judge_health(report: Report, world: NewsWorld, day: int,
                  states: list[tuple[str, str]]) -> None:
    """What the view flagged after one run, next to what the world did at that run."""
    for host, state in states:
        if state in ("failing", "quiet"):
            report.flagged[(host, day)] = state
    for outlet in world.outlets.values():
        documents = ["/feed.xml"] + (["/sitemap.xml"] if outlet.has_sitemap else [])
        if outlet.host in world.dead or all((outlet.host, d) in world.down for d in documents):
            report.expected[(outlet.host, day)] = "failing"
    last = report.frozen_last_new_day
    if last is not None and day - last >= QUIET_MIN_DAYS:
        report.expected[(FREEZES, day)] = "quiet"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--outlets", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="3 outlets, 4 days")
    parser.add_argument("--keep", type=Path, help="keep the warehouse and sources.toml here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.days, args.outlets = 4, 3
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        report = simulate(args.days, args.outlets, args.seed, args.keep, progress=True)
    else:
        with tempfile.TemporaryDirectory(prefix="simworld-") as tmp:
            report = simulate(args.days, args.outlets, args.seed, Path(tmp), progress=True)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
