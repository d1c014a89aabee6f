"""A monitor run killed with SIGKILL at any stage, then started again, ends exactly like one
clean run: same articles, duplicates, events and memberships (full-table hashes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.settings import format_resolve
from tests.conftest import DEMO_SOURCES, ROOT

pytestmark = pytest.mark.slow

# What a run stores, minus columns that say when or by which run a row was written.
CONTENT = {
    "articles": "id, canonical_url, list_sort(urls), source, title, author, published_at, "
                "language, text, content_hash, actors, places, event_date, keywords, tags",
    "duplicates": "article_id, duplicate_of, kind, score",
    "events": "id, headline, event_date, first_seen, last_seen, actors, places, keywords, "
              "n_articles, n_sources, n_copies",
    "event_articles": "article_id, event_id, score",
}
# Log lines after which the run is killed: the first is mid-fetch (later batches still to
# fetch), the second mid-extraction, the third between the articles' clustering features
# (made in extraction, by the local pool's features call or by the cluster task: each logs
# a line so, the first of them ends the run)
# and the clustering's one transaction (index, events, stories).
KILL_POINTS = {
    "fetching": "fetch batch 1:",
    "extracting": "extract batch 2:",
    "loading": "clustering: features of ",
}


def table_hashes(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: con.execute(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::VARCHAR, '|' "
                f"ORDER BY t::VARCHAR)), '') FROM (SELECT {cols} FROM {table}) AS t"
            ).fetchall()[0][0]
            for table, cols in CONTENT.items()
        }
    finally:
        con.close()


def _command(db: Path) -> list[str]:
    return [sys.executable, "-m", "flows.cli", "run", "--sources", str(DEMO_SOURCES),
            "--db", str(db)]


@pytest.fixture(scope="module")
def run_env(prefect_server, demo_site) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_LOGGING_LEVEL": "INFO",
        "NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map),
        "NEWSMON_BATCH_SIZE": "4",
    }


@pytest.fixture(scope="module")
def clean_hashes(run_env, tmp_path_factory) -> dict[str, str]:
    db = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    subprocess.run(_command(db), cwd=ROOT, env=run_env, check=True, capture_output=True,
                   timeout=300)
    return table_hashes(db)


def _run_and_kill_at(marker: str, db: Path, env: dict[str, str]) -> str:
    """Start a run, SIGKILL its whole process group right after `marker` is logged."""
    proc = subprocess.Popen(_command(db), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    deadline = time.monotonic() + 240
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        if time.monotonic() > deadline:
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen[-30:])
    return "".join(seen)


@pytest.mark.parametrize("stage", list(KILL_POINTS))
def test_killed_run_then_rerun_equals_one_clean_run(stage, run_env, clean_hashes, tmp_path):
    db = tmp_path / "killed.duckdb"
    _run_and_kill_at(KILL_POINTS[stage], db, run_env)
    rerun = subprocess.run(_command(db), cwd=ROOT, env=run_env, capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert table_hashes(db) == clean_hashes
