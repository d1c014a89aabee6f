"""Security checks: what newsmon refuses to fetch, to run and to write down.

Real components throughout: a live DemoSite on 127.0.0.1 (reached under a public-looking name
through FetchSettings.resolve, which routes inside the transport and is not subject to the
private-host check), the real Fetcher, a real DuckDB warehouse.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import duckdb
import pytest

from demosite.server import DemoSite
from demosite.site import Page
from extractors.fetch.errors import SourcesConfigError
from extractors.fetch.http import Fetcher, FetchSettings
from extractors.fetch.sources import load_sources
from extractors.models import FetchResult, Source
from warehouse import load, queries
from warehouse.db import open_writer
from warehouse.queries import ReadOnlyViolation

PUBLIC_NAME = "example.test"  # routed to the local server; not an IP literal, so "public"
SECRET_BODY = b"<html><body><p>internal secret</p></body></html>"
PASSWORD = "s3cret-pw-91"
COOKIE = "sess-cookie-7f3a"


def _fetch(settings: FetchSettings, *urls: str) -> list[FetchResult]:
    async def run() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            return [await fetcher.fetch_page(u, "test") for u in urls]

    return asyncio.run(run())


def _redirector(handler, host: str, path: str) -> bool:
    """/to?url=X answers 302 to X; /cookie sets a cookie (500 when the query has `fail`)."""
    raw = handler.path
    if path == "/to":
        target = raw.split("url=", 1)[1]
        handler.send_response(302)
        handler.send_header("Location", target)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return True
    if path == "/cookie":
        body = b"<html><body><p>hello</p></body></html>"
        handler.send_response(500 if "fail" in raw else 200)
        handler.send_header("Set-Cookie", f"session={COOKIE}; Path=/; HttpOnly")
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True
    return False


@pytest.fixture()
def site():
    pages = {(h, "/secret"): Page(SECRET_BODY, "text/html; charset=utf-8")
             for h in (PUBLIC_NAME, "127.0.0.1", "localhost")}
    with DemoSite(pages=pages, fault=_redirector) as server:
        yield server


def _requested(site: DemoSite, path: str) -> list:
    return [entry for entry in site.request_log if entry[2] == path]


# --- only http(s) ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://outlet.test/feed.xml", "file:///etc/passwd",
                                 "gopher://outlet.test/1", "//outlet.test/feed.xml"])
def test_sources_with_a_non_http_url_are_refused(tmp_path: Path, url: str):
    path = tmp_path / "sources.toml"
    path.write_text(f'[[source]]\nname = "Bad"\nfeeds = ["{url}"]\n', encoding="utf-8")
    with pytest.raises(SourcesConfigError) as info:
        load_sources(path)
    message = str(info.value)
    assert "http(s)" in message and "feeds" in message and str(path) in message


def test_fetcher_refuses_a_file_url():
    [result] = _fetch(FetchSettings(), "file:///etc/passwd")
    assert result.error_class == "UnsupportedScheme"
    assert result.html is None and result.n_bytes in (None, 0)


# --- private hosts --------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}",
                                  "169.254.169.254", "10.0.0.8", "192.168.1.1:{port}"])
def test_private_hosts_are_refused_before_any_request(site: DemoSite, host: str):
    url = f"http://{host.format(port=site.port)}/secret"
    [result] = _fetch(FetchSettings(allow_private_hosts=False), url)
    assert result.error_class == "PrivateHost", result.error
    assert site.request_log == []  # not even robots.txt


def test_the_same_loopback_url_is_fetched_when_private_hosts_are_allowed(site: DemoSite):
    """Control for the test above: the server is up and would have answered."""
    [result] = _fetch(FetchSettings(allow_private_hosts=True),
                      f"http://127.0.0.1:{site.port}/secret")
    assert result.ok and "internal secret" in (result.html or "")


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret",
                                    "http://localhost:{port}/secret",
                                    "http://169.254.169.254/latest/meta-data/",
                                    "http://[::ffff:127.0.0.1]:{port}/secret",
                                    "file:///etc/passwd"])
def test_redirects_are_checked_again(site: DemoSite, target: str):
    settings = FetchSettings(resolve={PUBLIC_NAME: f"127.0.0.1:{site.port}"})
    location = target.format(port=site.port)
    [result] = _fetch(settings, f"http://{PUBLIC_NAME}/to?url={location}")
    expected = "UnsupportedScheme" if location.startswith("file:") else "PrivateHost"
    assert result.error_class == expected, result.error
    assert _requested(site, "/to") and not _requested(site, "/secret")
    assert result.html is None


def test_a_redirect_to_a_public_name_is_followed(site: DemoSite):
    """Control: the redirect endpoint works, so the refusals above are the check's doing."""
    settings = FetchSettings(resolve={PUBLIC_NAME: f"127.0.0.1:{site.port}"})
    [result] = _fetch(settings, f"http://{PUBLIC_NAME}/to?url=http://{PUBLIC_NAME}/secret")
    assert result.ok and result.final_url == f"http://{PUBLIC_NAME}/secret"


# --- newsmon sql is read-only -----------------------------------------------------------------


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "newsmon.duckdb"
    with open_writer(db) as con:
        load.upsert_sources(con, [Source("Outlet A", feeds=("http://outlet-a.test/feed.xml",))])
    return db


def _snapshot(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY ALL").fetchall()
        sources = con.execute("SELECT * FROM sources ORDER BY name").fetchall()
        settings = con.execute("SELECT name, value FROM duckdb_settings() ORDER BY name").fetchall()
    finally:
        con.close()
    return tables, sources, settings


WRITES = [
    "DELETE FROM sources",
    "DROP TABLE sources",
    "INSERT INTO sources (name) VALUES ('x')",
    "UPDATE sources SET language = 'xx'",
    "CREATE TABLE t AS SELECT 1",
    "ALTER TABLE sources ADD COLUMN x INTEGER",
    "COPY sources TO '{out}'",
    "COPY (SELECT * FROM sources) TO '{out}' (FORMAT csv)",
    "EXPORT DATABASE '{dir}'",
    "ATTACH '{dir}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA enable_profiling",
    "SET threads = 1",
    "CHECKPOINT",
    "SELECT 1; DROP TABLE sources",
    "CALL pragma_version(); DELETE FROM sources",
]


@pytest.mark.parametrize("statement", WRITES)
def test_newsmon_sql_refuses_writes_and_changes_nothing(warehouse: Path, tmp_path: Path,
                                                        statement: str):
    out = tmp_path / "out.csv"
    query = statement.format(out=out, dir=tmp_path / "export")
    before = _snapshot(warehouse)
    with pytest.raises(ReadOnlyViolation):
        queries.run_readonly_sql(warehouse, query)
    assert _snapshot(warehouse) == before
    assert not out.exists() and not (tmp_path / "export").exists()


def test_newsmon_sql_refuses_explain_analyze_copy(warehouse: Path, tmp_path: Path):
    out = tmp_path / "leak.csv"
    with contextlib.suppress(ReadOnlyViolation, duckdb.Error):
        queries.run_readonly_sql(warehouse, f"EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'")
    assert not out.exists()


def test_newsmon_sql_still_answers_reads(warehouse: Path):
    """Control: the refusals above are not a refusal of everything."""
    columns, rows = queries.run_readonly_sql(
        warehouse, "WITH s AS (SELECT name FROM sources) SELECT count(*) AS n FROM s")
    assert columns == ["n"] and rows == [(1,)]
    _, rows = queries.run_readonly_sql(warehouse, "PRAGMA table_info('sources')")
    assert rows


# --- no credentials or cookies written down -------------------------------------------------


def _fetch_log_text(db: Path) -> str:
    _, rows = queries.run_readonly_sql(
        db, "SELECT url, error, error_class, source FROM fetch_log ORDER BY url")
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_cookies_are_not_logged(site: DemoSite, tmp_path: Path):
    settings = FetchSettings(resolve={PUBLIC_NAME: f"127.0.0.1:{site.port}"}, max_retries=0)
    results = _fetch(settings, f"http://{PUBLIC_NAME}/cookie", f"http://{PUBLIC_NAME}/cookie?fail=1",
                     f"http://{PUBLIC_NAME}/to?url=/cookie?fail=2")
    assert [r.ok for r in results] == [True, False, False]
    db = tmp_path / "newsmon.duckdb"
    with open_writer(db) as con:
        load.record_fetches(con, "run-1", results, raw=True)
    assert COOKIE not in _fetch_log_text(db)
    assert all(COOKIE not in repr(r) for r in results)


def test_passwords_in_urls_are_not_logged(site: DemoSite, tmp_path: Path):
    settings = FetchSettings(resolve={PUBLIC_NAME: f"127.0.0.1:{site.port}"}, max_retries=0)
    base = f"http://user:{PASSWORD}@{PUBLIC_NAME}"
    results = _fetch(settings, f"{base}/cookie", f"{base}/cookie?fail=1", f"{base}:99999/x")
    db = tmp_path / "newsmon.duckdb"
    with open_writer(db) as con:
        load.record_fetches(con, "run-1", results, raw=True)
    assert PASSWORD not in _fetch_log_text(db)
    assert all(PASSWORD not in f"{r.url} {r.final_url} {r.error}" for r in results)


# --- paths in config stay inside the data directory -----------------------------------------


def test_warehouse_path_cannot_escape_the_data_dir(tmp_path: Path, monkeypatch):
    from flows.settings import Settings

    monkeypatch.setenv("NEWSMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSMON_WAREHOUSE", os.path.join(tmp_path, "data", "..", "x.duckdb"))
    with pytest.raises(ValueError):
        Settings().warehouse_path  # noqa: B018
