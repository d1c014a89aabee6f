"""Many sources at once: hosts are discovered and fetched side by side, a slow or dead host
holds back nobody, and each host's politeness still holds (measured on the server).

The outlets are demosite/outlets.py's (robots.txt, an RSS feed, article pages per host),
served by one DemoSite whose fault hook records when each request arrived and answers after
a delay, like a distant server.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from demosite.outlets import FEED_PATH, build_outlets, outlet_host, outlets_sources_toml
from demosite.server import DemoSite

pytestmark = pytest.mark.slow

LATENCY_S = 0.15
DELAY_S = 1.0  # NEWSMON_MIN_DELAY_PER_HOST_S in these tests (the default)
# Arrival times are taken by the server: a request's trip (thread scheduling on a busy 2-core
# machine, a new connection) may add this much to one gap and take it from the next.
JITTER_S = 0.1


@dataclass
class Distant:
    """A fault hook: every answer comes after `latency` (or the host's own), robots.txt of
    `dead_robots` hosts never comes, and every request's arrival is recorded."""

    latency: float = LATENCY_S
    slow: dict[str, float] = field(default_factory=dict)  # host -> its latency
    dead_robots: set[str] = field(default_factory=set)
    arrivals: list[tuple[float, str, str]] = field(default_factory=list)  # (time, host, path)
    runs_end: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, handler, host: str, path: str) -> bool:
        with self._lock:
            self.arrivals.append((time.monotonic(), host, path))
        if path == "/robots.txt" and host in self.dead_robots:
            time.sleep(3.0)  # longer than the test's read timeout
            handler.close_connection = True
            return True
        time.sleep(self.slow.get(host, self.latency))
        return False

    def by_host(self) -> dict[str, list[tuple[float, str]]]:
        out: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for at, host, path in sorted(self.arrivals):
            out[host].append((at, path))
        return out


def _run(tmp_path: Path, n: int, hook: Distant, monkeypatch, *, entries: int = 2,
         crawl_delay: dict[int, float] | None = None, runs: int = 1, **env: str):
    """Serve n outlets, run the monitor `runs` times into one warehouse; (summaries, db, the
    server's log). `hook.runs_end` gets the number of requests seen at the end of each run."""
    from flows.monitor import monitor
    from flows.settings import format_resolve

    sources = tmp_path / "sources.toml"
    sources.write_text(outlets_sources_toml(n), encoding="utf-8")
    db = tmp_path / "many.duckdb"
    summaries = []
    with DemoSite(pages=build_outlets(n, entries, crawl_delay), fault=hook) as site:
        monkeypatch.setenv("NEWSMON_RESOLVE", format_resolve(site.resolve_map))
        monkeypatch.setenv("NEWSMON_MIN_DELAY_PER_HOST_S", str(DELAY_S))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for _ in range(runs):
            summaries.append(monitor(sources=str(sources), warehouse=str(db)))
            hook.runs_end.append(len(hook.arrivals))
        log = site.request_log
    return summaries, db, log


def _rows(db: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def _peak_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_many_hosts_are_discovered_side_by_side_and_each_keeps_its_spacing(
    prefect_server, tmp_path, monkeypatch
):
    n = 24
    hook = Distant()
    summaries, db, _log = _run(tmp_path, n, hook, monkeypatch, crawl_delay={3: 2.0})

    assert summaries[0].articles_new == 2 * n
    assert _rows(db, "SELECT count(*) FROM articles") == [(2 * n,)]
    per_host = hook.by_host()
    # Side by side: feed requests of many hosts were in flight at once (a serial loop has 1).
    feeds = [(at, at + LATENCY_S) for host in per_host
             for at, path in per_host[host] if path == FEED_PATH]
    assert len(feeds) == n
    assert _peak_overlap(feeds) >= 8
    for host, requests in per_host.items():
        paths = [path for _, path in requests]
        assert paths[0] == "/robots.txt" and paths[1] == FEED_PATH, (host, paths)
        starts = [at for at, _ in requests]
        gaps = [b - a for a, b in zip(starts[1:], starts[2:], strict=False)]
        # every request after the feed keeps the host's delay (the server sees the spacing)
        assert all(g >= DELAY_S - JITTER_S for g in gaps), (host, gaps)
        robots_to_feed = starts[1] - starts[0]
        if host == outlet_host(3):  # its robots.txt asks for Crawl-delay: 2
            assert robots_to_feed >= 2.0 - JITTER_S, robots_to_feed
            assert all(g >= 2.0 - JITTER_S for g in gaps), gaps
        else:  # no rule asks for more: the feed follows robots.txt without the default delay
            assert robots_to_feed < DELAY_S, (host, robots_to_feed)


def test_a_slow_host_does_not_hold_back_the_others(prefect_server, tmp_path, monkeypatch):
    n = 16
    slow = outlet_host(0)
    hook = Distant(slow={slow: 3.0})
    summaries, db, log = _run(tmp_path, n, hook, monkeypatch)

    assert summaries[0].articles_new == 2 * n  # the slow host's pages come too, in the end
    slow_feed_done = max(t for t, host, path, _ in log if host == slow and path == FEED_PATH)
    first_page = {}
    for t, host, path, _ in log:
        if path.startswith("/news/"):
            first_page.setdefault(host, t)
    others = [h for h in first_page if h != slow]
    early = [h for h in others if first_page[h] < slow_feed_done]
    # Pages of hosts already discovered were fetched while the slow host was still answering
    # (only hosts discovered in the same task as the slow one may wait for it).
    assert len(early) >= len(others) // 2, (len(early), len(others))


def test_a_host_whose_robots_txt_times_out_fails_alone(prefect_server, tmp_path, monkeypatch):
    n = 6
    dead = outlet_host(2)
    hook = Distant(dead_robots={dead})
    summaries, db, _log = _run(tmp_path, n, hook, monkeypatch,
                               NEWSMON_READ_TIMEOUT_S="0.5", NEWSMON_MAX_RETRIES="0")

    assert summaries[0].articles_new == 2 * (n - 1)
    [(error_class, error)] = _rows(
        db, f"SELECT error_class, error FROM fetch_log WHERE url = 'http://{dead}{FEED_PATH}'")
    assert error_class == "ReadTimeout" and error.startswith("robots.txt: read timeout"), error
    # the dead host's answer is not kept (the next run asks again); the others' are
    robots = {host for (host,) in _rows(db, "SELECT host FROM robots")}
    assert robots == {f"http://{outlet_host(i)}" for i in range(n) if i != 2}
    # and its source keeps no success mark, so the next run reads all its entries
    marks = dict(_rows(db, "SELECT name, last_success_at IS NOT NULL FROM sources"))
    assert marks == {f"Source {i}": i != 2 for i in range(n)}


def test_a_second_run_asks_no_robots_txt_and_only_the_feeds(prefect_server, tmp_path,
                                                           monkeypatch):
    n = 10
    hook = Distant(latency=0.0)
    summaries, db, _log = _run(tmp_path, n, hook, monkeypatch, runs=2)

    assert [s.articles_new for s in summaries] == [2 * n, 0]
    second = [(host, path) for _, host, path in hook.arrivals[hook.runs_end[0]:]]
    assert sorted(second) == sorted((outlet_host(i), FEED_PATH) for i in range(n))
    assert summaries[1].candidates == 0
