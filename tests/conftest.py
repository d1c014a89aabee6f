"""Shared fixtures: one demo news site, one Prefect test server and one demo warehouse per session.

Everything is real: the demo site is an HTTP server on 127.0.0.1, Prefect runs its own
temporary server (SQLite), and the warehouse is a DuckDB file in a temp dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("NEWSMON_MIN_DELAY_PER_HOST_S", "0.05")  # our own local demo site

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEMO_SOURCES = ROOT / "demosite" / "sources.toml"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A temporary Prefect API for flow tests (~10 s to start, so one per session): a real
    server in a subprocess. Its API URL, for `newsmon` commands the tests run (as
    PREFECT_API_URL) and for reading flow runs back."""
    from prefect.settings import get_current_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield get_current_settings().api.url


@pytest.fixture(scope="session")
def demo_site():
    from demosite.server import DemoSite

    with DemoSite() as site:
        yield site


@pytest.fixture()
def demo_env(demo_site, monkeypatch: pytest.MonkeyPatch):
    """Route the demo outlets' hosts to the local demo server for this test."""
    from flows.settings import format_resolve

    monkeypatch.setenv("NEWSMON_RESOLVE", format_resolve(demo_site.resolve_map))
    return demo_site


@pytest.fixture(scope="session")
def demo_run(prefect_server, demo_site, tmp_path_factory) -> dict:
    """The monitor flow run twice against the demo site into one fresh warehouse."""
    from flows.monitor import monitor
    from flows.settings import format_resolve

    db = tmp_path_factory.mktemp("demo") / "newsmon.duckdb"
    previous = os.environ.get("NEWSMON_RESOLVE")
    os.environ["NEWSMON_RESOLVE"] = format_resolve(demo_site.resolve_map)
    try:
        rules = str(FIXTURES / "demo_watchlists.toml")
        first = monitor(sources=str(DEMO_SOURCES), warehouse=str(db), watchlists=rules)
        second = monitor(sources=str(DEMO_SOURCES), warehouse=str(db), watchlists=rules)
    finally:
        if previous is None:
            os.environ.pop("NEWSMON_RESOLVE", None)
        else:
            os.environ["NEWSMON_RESOLVE"] = previous
    return {"db": db, "first": first, "second": second}
