"""A retried flow run (same run id) takes pages it already fetched from the warehouse."""

from __future__ import annotations

import pytest
from prefect import flow

from demosite import truth
from extractors.models import Candidate, Source
from flows.settings import get_settings
from flows.tasks import fetch_task
from warehouse import load

pytestmark = pytest.mark.slow


@flow
def _fetch_twice(db: str, run_id: str, candidates: list[Candidate]):
    settings = get_settings().fetch_settings()
    sources = [Source(name="Outlet A")]
    first = fetch_task(candidates, sources, settings, db, run_id, 1, resumed=True)
    second = fetch_task(candidates, sources, settings, db, run_id, 1, resumed=True)
    return first, second


def test_pages_fetched_earlier_in_the_run_are_not_fetched_again(
    prefect_server, demo_env, tmp_path
):
    db = str(tmp_path / "w.duckdb")
    load.start_run(db, "run-1", parameters={})
    urls = [a.canonical_url for a in truth.expected_articles()][:4]
    candidates = [Candidate(url, "Outlet A", "list") for url in urls]
    demo_env.clear_log()

    first, second = _fetch_twice(db, "run-1", candidates)

    page_requests = [entry for entry in demo_env.request_log if entry[2] != "/robots.txt"]
    assert len(page_requests) == len(urls), "the second call must not touch the network"
    assert [p.url for p in second] == [p.url for p in first] == urls
    assert [p.html for p in second] == [p.html for p in first]
    assert all(p.ok for p in second)
