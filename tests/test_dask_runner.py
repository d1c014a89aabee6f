"""The Dask task runner path stores exactly what the default (thread) runner stores."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import DEMO_SOURCES

# Content tables and the columns that do not depend on when or by which run they were loaded.
CONTENT = {
    "articles": "id, canonical_url, urls, source, title, author, published_at, language, text, "
                "content_hash, actors, places, event_date, keywords",
    "duplicates": "article_id, duplicate_of, kind, score",
    "events": "id, headline, event_date, actors, places, keywords, n_articles, n_sources, "
              "n_copies",
    "event_articles": "article_id, event_id, score",
}


def _snapshot(db) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: con.execute(f"SELECT {cols} FROM {table} ORDER BY ALL").fetchall()
            for table, cols in CONTENT.items()
        }
    finally:
        con.close()


@pytest.mark.slow
def test_dask_runner_gives_the_same_warehouse(demo_run, demo_env, tmp_path):
    from flows.monitor import monitor
    from flows.runners import with_task_runner

    db = tmp_path / "dask.duckdb"
    summary = with_task_runner(monitor, "dask")(sources=str(DEMO_SOURCES), warehouse=str(db))
    assert summary.articles_new > 0
    dask_tables = _snapshot(db)
    thread_tables = _snapshot(demo_run["db"])
    for table in CONTENT:
        assert dask_tables[table] == thread_tables[table], table


def test_monitor_flow_and_its_tasks_can_be_shipped_to_a_dask_worker():
    """Dask ships the flow (in the run context) and task functions by value: their globals must
    pickle. A module-level object holding a lock once broke every Dask run."""
    import cloudpickle

    from flows import tasks
    from flows.monitor import monitor

    for shipped in (monitor, tasks.discover_task, tasks.fetch_task, tasks.extract_task,
                    tasks.cluster_task, tasks.features_task, tasks.embed_task,
                    tasks.match_task, tasks.deliver_task):
        assert cloudpickle.loads(cloudpickle.dumps(shipped)).name == shipped.name
