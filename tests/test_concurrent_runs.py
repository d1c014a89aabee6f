"""Two monitor runs on one warehouse at the same time: the second waits for the first (one run
at a time per warehouse), both finish, nothing is duplicated, and `runs` counts only what
each run inserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from demosite import truth
from flows.settings import format_resolve
from tests.conftest import DEMO_SOURCES, ROOT
from warehouse.db import hold_run_lock

pytestmark = pytest.mark.slow


def test_two_concurrent_runs_complete_without_duplicates(prefect_server, demo_site, tmp_path):
    from prefect.settings import PREFECT_API_URL

    db = tmp_path / "shared.duckdb"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),  # the session's test server
        "NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map),
        "NEWSMON_BATCH_SIZE": "5",  # many small write batches
    }
    command = [sys.executable, "-m", "flows.cli", "run", "--sources", str(DEMO_SOURCES),
               "--db", str(db)]
    # Hold the run lock until both runs have said they wait, so that they surely overlap.
    held = hold_run_lock(db, "the-test", wait_s=0)
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs: list[list[str]] = [[], []]

    def read(i: int) -> None:
        assert runs[i].stdout is not None
        outputs[i].extend(runs[i].stdout)

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(2)]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 240
        while not all(any("waiting up to" in line for line in out) for out in outputs):
            assert time.monotonic() < deadline, "".join(outputs[0] + outputs[1])[-3000:]
            assert all(run.poll() is None for run in runs), "".join(outputs[0] + outputs[1])
            time.sleep(0.2)
    finally:
        held.release()
    for run, reader in zip(runs, readers, strict=True):
        run.wait(timeout=300)
        reader.join(10)
    said = ["".join(out) for out in outputs]
    assert [run.returncode for run in runs] == [0, 0], "\n\n".join(said)

    con = duckdb.connect(str(db), read_only=True)
    try:
        n, n_ids, n_urls = con.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT canonical_url) FROM articles"
        ).fetchone()
        urls = {url for (url,) in con.execute("SELECT canonical_url FROM articles").fetchall()}
        members, member_articles = con.execute(
            "SELECT count(*), count(DISTINCT article_id) FROM event_articles"
        ).fetchone()
        runs_rows = con.execute("SELECT status, counts FROM runs").fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM event_articles WHERE event_id NOT IN (SELECT id FROM events)"
        ).fetchone()[0]
    finally:
        con.close()
    expected = {a.canonical_url for a in truth.expected_articles()}
    assert urls == expected
    assert n == n_ids == n_urls == len(expected)
    assert members == member_articles == n
    assert orphans == 0
    assert [status for status, _ in runs_rows] == ["completed", "completed"]
    # Honest totals: the first run inserted everything, the second nothing.
    assert sorted(json.loads(counts)["articles_new"] for _, counts in runs_rows) == [
        0, len(expected)]
