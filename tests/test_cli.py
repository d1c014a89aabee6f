"""The `newsmon` commands over the demo warehouse: what users type, checked end to end."""

from __future__ import annotations

import io
import json

import duckdb
import pytest
from typer.testing import CliRunner

from extractors.content.extract_cmd import run_extract
from flows.cli import app
from warehouse.db import open_reader
from warehouse.queries import raw_pages

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_extract_output_equals_what_the_flow_stored(demo_run, tmp_path):
    """`newsmon extract` on a stored raw page gives the same record the monitor stored."""
    db = demo_run["db"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT url, canonical_url, title, text, published_at, language, actors, places, "
            "event_date FROM articles ORDER BY id LIMIT 3"
        ).fetchall()
    finally:
        con.close()
    with open_reader(db) as con:
        pages = {p.url: p for p in raw_pages(con, [r[0] for r in rows])}
    assert len(pages) == len(rows)
    for url, canonical, title, text, published, language, actors, places, event_date in rows:
        page_file = tmp_path / "page.html"
        page_file.write_text(pages[url].html, encoding="utf-8")
        out = io.StringIO()
        assert run_extract([str(page_file)], url, out) == 0
        record = json.loads(out.getvalue())
        assert record["status"] == "extracted"
        assert record["canonical_url"] == canonical
        assert record["title"] == title
        assert record["text"] == text
        assert record["language"] == language
        assert record["actors"] == list(actors)
        assert record["places"] == list(places)
        assert record["event_date"] == event_date.isoformat()
        assert record["published"][:19] == published.astimezone(
            __import__("datetime").UTC).isoformat()[:19]


def test_sql_formats_and_refusals(demo_run, tmp_path):
    db = str(demo_run["db"])
    res = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM articles", "--db", db,
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    n = json.loads(res.output.strip())["n"]
    assert n > 0
    out = tmp_path / "a.csv"
    res = runner.invoke(app, ["sql", "SELECT id, title FROM articles", "--db", db,
                              "--format", "csv", "--output", str(out)])
    assert res.exit_code == 0
    assert len(out.read_text().splitlines()) == n + 1
    pq = tmp_path / "a.parquet"
    res = runner.invoke(app, ["sql", "SELECT id FROM articles", "--db", db,
                              "--format", "parquet", "--output", str(pq)])
    assert res.exit_code == 0
    assert duckdb.sql(f"SELECT count(*) FROM '{pq}'").fetchall() == [(n,)]
    for statement in ("DELETE FROM articles", "DROP TABLE events"):
        res = runner.invoke(app, ["sql", statement, "--db", db])
        assert res.exit_code == 2
        assert "read-only" in res.output
    res = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM articles", "--db", db,
                              "--format", "json"])
    assert json.loads(res.output.strip())["n"] == n
