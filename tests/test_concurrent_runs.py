"""Two monitor runs on one warehouse at the same time: both finish, nothing is duplicated."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from demosite import truth
from flows.settings import format_resolve
from tests.conftest import DEMO_SOURCES, ROOT

pytestmark = pytest.mark.slow


def test_two_concurrent_runs_complete_without_duplicates(prefect_server, demo_site, tmp_path):
    from prefect.settings import PREFECT_API_URL

    db = tmp_path / "shared.duckdb"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),  # the session's test server
        "NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map),
        "NEWSMON_BATCH_SIZE": "5",  # many small write batches, so the two runs interleave
    }
    command = [sys.executable, "-m", "flows.cli", "run", "--sources", str(DEMO_SOURCES),
               "--db", str(db)]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n\n".join(outputs)

    con = duckdb.connect(str(db), read_only=True)
    try:
        n, n_ids, n_urls = con.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT canonical_url) FROM articles"
        ).fetchone()
        members, member_articles = con.execute(
            "SELECT count(*), count(DISTINCT article_id) FROM event_articles"
        ).fetchone()
        statuses = con.execute("SELECT status FROM runs").fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM event_articles WHERE event_id NOT IN (SELECT id FROM events)"
        ).fetchone()[0]
    finally:
        con.close()
    assert n == n_ids == n_urls == len(truth.expected_articles())
    assert members == member_articles == n
    assert orphans == 0
    assert statuses == [("completed",), ("completed",)]
