"""Source health end to end (#29): a run that cannot reach its sources says so, and a feed
that goes quiet is noticed.

Real parts only: outlets served on 127.0.0.1 (tests/newsworld.py), a host that does not
resolve (.invalid), a port nobody listens on, a host answering 500 to everything, the
session's Prefect server (flow run states and artifacts read back from its API), `newsmon`
run as a user runs it, and notifications posted through Apprise to a local webhook.

Two days pass between the first and the second run: the first runs in-process with the flow's
clock set two days back (tests/newsworld.py `flow_clock`), the second is `newsmon run` at the
real time. In between, one outlet's feed froze and one outlet's host came back.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType

from flows.settings import format_resolve
from tests.cli_helpers import newsmon
from tests.newsworld import NewsWorld, flow_clock
from tests.test_never_lose import _artifacts
from tests.test_watchlists import Webhook

pytestmark = pytest.mark.slow

HOURS = timedelta(hours=1)
NOWHERE = "https://no-such-host.invalid/rss.xml"


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flow_run_state(run_id: str):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(run_id)).state


def titles(hook: Webhook) -> list[str]:
    return sorted(p["title"] for p in hook.payloads)


class Outlets:
    """Four outlets of the news world, two sources that cannot be reached, their files."""

    def __init__(self, folder: Path, now: datetime) -> None:
        self.folder = folder
        self.world = NewsWorld(now=now)
        start = now - timedelta(days=10)
        for host in ("steady.test", "frozen.test", "flaky.test", "broken.test"):
            self.world.add_outlet(host, has_sitemap=host != "frozen.test")
            for n in range(21):  # one story every 12 hours for 10 days
                self.world.publish(host, f"{host[:3]}{n:02d}", appears=start + 12 * n * HOURS)
        self.world.outlets["frozen.test"].frozen_since = now - timedelta(days=2, hours=3)
        self.world.dead.add("broken.test")
        self.site = self.world.serve().start()
        self.refused_port = closed_port()
        self.sources = self.world.write_sources(folder / "sources.toml")
        extra = (f'\n[[source]]\nname = "Nowhere"\nfeeds = ["{NOWHERE}"]\n'
                 '\n[[source]]\nname = "Refused"\nfeeds = ["http://refused.test/feed.xml"]\n')
        self.sources.write_text(self.sources.read_text() + extra)
        self.unreachable = folder / "unreachable.toml"
        self.unreachable.write_text(extra)
        self.db = folder / "newsmon.duckdb"
        self.env = {
            "NEWSMON_RESOLVE": format_resolve({
                **self.world.resolve_map(self.site),
                "refused.test": f"127.0.0.1:{self.refused_port}"}),
            "NEWSMON_MAX_RETRIES": "0",  # a dead host fails at once (the default retries 3x)
            "COLUMNS": "250",
        }

    def watchlists(self, hook: Webhook) -> Path:
        """A rule no event matches, and the webhook to deliver to."""
        path = self.folder / "watchlists.toml"
        path.write_text('[[rule]]\nname = "nothing"\nplaces_any = ["Atlantis"]\n\n'
                        f'[delivery]\nurls = ["{hook.url}"]\n')
        return path


@pytest.fixture()
def outlets(prefect_server, tmp_path, monkeypatch):
    made = Outlets(tmp_path, datetime.now(UTC))
    for name, value in made.env.items():
        monkeypatch.setenv(name, value)
    yield made
    made.site.stop()


def sources_table(out: str) -> dict[str, str]:
    """source -> state, from `newsmon sources`."""
    return dict(re.findall(r"│ (\S+)\s+│ (failing \(\d+ runs?\)|quiet|new|healthy)\s", out))


def test_failing_quiet_and_recovering_sources_in_every_place_a_user_looks(
        outlets, prefect_server, tmp_path):
    from flows.monitor import SourcesFailed, monitor

    world = outlets.world
    two_days_ago = world.now - timedelta(days=2)
    with Webhook() as hook:
        rules = outlets.watchlists(hook)

        # --- run 1, two days ago: flaky.test is down too --------------------------------
        world.now = two_days_ago
        world.down |= {("flaky.test", "/feed.xml"), ("flaky.test", "/sitemap.xml")}
        world.refresh(outlets.site)
        with flow_clock(lambda: two_days_ago):
            first = monitor(sources=str(outlets.sources), warehouse=str(outlets.db),
                            watchlists=str(rules), return_state=True)
        summary = first.result()
        assert first.type == StateType.COMPLETED
        assert first.message == ("4 of 6 sources failed, 0 read in part: Nowhere, Refused, "
                                 "broken.test, flaky.test")
        assert flow_run_state(summary.run_id).type == StateType.COMPLETED
        reasons = {p["source"]: p["reason"] for p in summary.source_problems}
        assert reasons["Nowhere"].startswith(
            f"every feed and sitemap failed (1): ConnectError x1; e.g. {NOWHERE}: ")
        assert "ConnectError x1" in reasons["Refused"]
        assert reasons["flaky.test"].startswith("every feed and sitemap failed (2): HTTP 500 x2")
        # robots.txt answers 500 too: RFC 9309 says assume everything is disallowed
        assert reasons["broken.test"].startswith(
            "every feed and sitemap failed (2): RobotsDisallowed x2; e.g. "
            "http://broken.test/feed.xml: robots.txt unavailable (")
        assert summary.counts()["documents_failed"] == 6
        assert titles(hook) == [f"newsmon source health: {s} is failing"
                                for s in ("Nowhere", "Refused", "broken.test", "flaky.test")]
        artifact = _artifacts(summary.run_id)["monitor-summary"].data
        for source, reason in reasons.items():  # one line per failed source, with its reason
            assert f"- failed: {source}: {reason}" in artifact

        # --- run 2, now, as a user runs it: frozen.test has been quiet for two days -------
        world.now = datetime.now(UTC)
        world.down.clear()  # flaky.test is back
        world.refresh(outlets.site)
        env = {**outlets.env, "PREFECT_API_URL": prefect_server}
        second = newsmon("run", "--sources", str(outlets.sources), "--db", str(outlets.db),
                         "--watchlists", str(rules), cwd=tmp_path, env=env)
        assert second.returncode == 3, second.stdout + second.stderr
        out = second.stdout
        for source in ("Nowhere", "Refused", "broken.test"):
            assert re.search(rf"^  failed\s+{re.escape(source)}: every feed and sitemap failed",
                             out, re.M), out
        assert re.search(r"^  quiet\s+frozen\.test: no new entry for 2\.0 days \(usual interval "
                         r"12 h;", out, re.M), out
        assert not re.search(r"^  (failed|quiet)\s+(steady|flaky)", out, re.M)
        assert "3 of 6 sources failed, 0 read in part: Nowhere, Refused, broken.test" in out
        assert "(exit code 3)" in second.stderr
        run_id = re.search(r"newsmon run (\S+)", out).group(1)
        state = flow_run_state(run_id)
        assert state.type == StateType.COMPLETED and state.message.startswith("3 of 6 sources")
        # one alert per change: frozen.test went quiet, flaky.test came back; no repeats
        assert titles(hook) == sorted([
            *(f"newsmon source health: {s} is failing"
              for s in ("Nowhere", "Refused", "broken.test", "flaky.test")),
            "newsmon source health: flaky.test recovered (was failing)",
            "newsmon source health: frozen.test is quiet",
        ])

        shown = newsmon("sources", "--db", str(outlets.db), cwd=tmp_path, env=env)
        assert shown.returncode == 0, shown.stderr
        assert sources_table(shown.stdout) == {
            "Nowhere": "failing (2 runs)", "Refused": "failing (2 runs)",
            "broken.test": "failing (2 runs)", "frozen.test": "quiet",
            "flaky.test": "healthy", "steady.test": "healthy"}, shown.stdout
        assert "6 sources: 3 failing, 1 quiet, 2 healthy" in shown.stdout

        # --- run 3: only the unreachable sources: the run fails ---------------------------
        third = newsmon("run", "--sources", str(outlets.unreachable), "--db",
                        str(outlets.db), "--watchlists", str(rules), cwd=tmp_path, env=env)
        assert third.returncode == 1, third.stdout + third.stderr
        assert "error: every source failed (2): Nowhere, Refused (exit code 1)" in third.stderr
        run_id = re.search(r"newsmon run (\S+)", third.stdout).group(1)
        state = flow_run_state(run_id)
        assert state.type == StateType.FAILED
        assert state.message == "every source failed (2): Nowhere, Refused"
        assert len(hook.payloads) == 6  # still failing: nothing new to tell

    # --- run 4: NEWSMON_FAIL_ON_PARTIAL makes a partial run fail ------------------------
    outlets.world.now = datetime.now(UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSMON_FAIL_ON_PARTIAL", "true")
        strict = monitor(sources=str(outlets.sources), warehouse=str(outlets.db),
                         return_state=True)
    assert strict.type == StateType.FAILED
    with pytest.raises(SourcesFailed) as failed:
        strict.result()
    assert failed.value.summary.status == "failed"
    assert failed.value.summary.sources_failed == 3
