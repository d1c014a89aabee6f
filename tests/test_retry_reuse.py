"""A retried flow run (same run id) takes pages it already fetched from the warehouse."""

from __future__ import annotations

import pytest
from prefect import flow

from demosite import truth
from extractors.fetch.charset import page_html
from extractors.models import Candidate, Source
from flows.pipeline import fetch_job
from flows.run_store import RunStore
from flows.settings import get_settings
from flows.stages import extract
from flows.tasks import fetch_task

pytestmark = pytest.mark.slow


@flow
def _fetch_twice(db: str, run_id: str, candidates: list[Candidate]):
    """The flow's path for one batch, twice: the job (with what this run already stored), the
    fetch task, and the batch written as the flow writes it."""
    settings = get_settings().fetch_settings()
    sources = {"Outlet A": Source(name="Outlet A")}
    store = RunStore(db, run_id, timeout_s=30)
    first = fetch_task(fetch_job(store, 1, candidates, sources, {}, resumed=True), settings)
    store.record_batch(first.pages, extract(first.pages, use_pool=False))
    second = fetch_task(fetch_job(store, 1, candidates, sources, {}, resumed=True), settings)
    return first.pages, second.pages


def test_pages_fetched_earlier_in_the_run_are_not_fetched_again(
    prefect_server, demo_env, tmp_path
):
    db = str(tmp_path / "w.duckdb")
    RunStore(db, "run-1", timeout_s=30).start({}, None, [])
    urls = [a.canonical_url for a in truth.expected_articles()][:4]
    candidates = [Candidate(url, "Outlet A", "list") for url in urls]
    demo_env.clear_log()

    first, second = _fetch_twice(db, "run-1", candidates)

    page_requests = [entry for entry in demo_env.request_log if entry[2] != "/robots.txt"]
    assert len(page_requests) == len(urls), "the second call must not touch the network"
    assert [p.url for p in second] == [p.url for p in first] == urls
    assert [page_html(p) for p in second] == [page_html(p) for p in first]
    assert all(p.ok for p in second)
