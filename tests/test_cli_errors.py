"""What a user sees when they get something wrong: one or two plain lines, exit code 2,
before Prefect starts and before anything is created. Read commands never create a warehouse.

Every test runs the installed `newsmon` in an empty folder of its own (tests/cli_helpers.py)
and checks the folder is still empty afterwards: no data/, no warehouse, no PREFECT_HOME
(Prefect creates it the moment it starts).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import NEWSMON, ROOT, newsmon, tree, user_env

DEMO_SOURCES = ROOT / "demosite" / "sources.toml"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    here = tmp_path / "user"
    here.mkdir()
    return here


def assert_refused(result, folder: Path, before: set[str], *needles: str) -> str:
    """Exit 2, at most two plain lines on stderr containing every needle, nothing created."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "│" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)
    assert tree(folder) == before, "the command created files"
    return result.stderr


def test_a_broken_sources_file_is_named_before_prefect_starts(folder):
    (folder / "sources.toml").write_text('[[source]]\nname = "Outlet A"\nfeedz = []\n')
    before = tree(folder)
    message = assert_refused(newsmon("run", cwd=folder), folder, before,
                             "sources.toml", "Outlet A", "feedz", "unknown key")
    assert "data" not in tree(folder) and ".prefect-home" not in tree(folder), message


@pytest.mark.parametrize(("sources", "needles"), [
    # a source with nothing to read
    ('[[source]]\nname = "Empty"\nfeeds = []\nsitemaps = []\nurls = []\n',
     ["sources.toml", "source 'Empty' (#1)", "'feeds', 'sitemaps' and 'urls' are all empty"]),
    # the same feed twice in one source (a tracking parameter does not make it another)
    ('[[source]]\nname = "Twice"\nfeeds = ["https://a.example/rss", '
     '"https://A.example/rss?utm_source=x"]\n',
     ["source 'Twice' (#1)", "field 'feeds': item 1", "listed twice", "item 0 of field 'feeds'"]),
    # a feed another source lists already (as its sitemap)
    ('[[source]]\nname = "A"\nsitemaps = ["https://a.example/feed"]\n'
     '[[source]]\nname = "B"\nfeeds = ["https://a.example/feed"]\n',
     ["source 'B' (#2)", "field 'feeds': item 0", "field 'sitemaps' of source 'A' (#1)"]),
    # two sources of one name
    ('[[source]]\nname = "A"\nfeeds = ["https://a.example/1"]\n'
     '[[source]]\nname = "A"\nfeeds = ["https://a.example/2"]\n',
     ["source 'A' (#2)", "field 'name'", "duplicate of source #1"]),
    # a URL that is not http(s)
    ('[[source]]\nname = "Ftp"\nfeeds = ["ftp://a.example/rss"]\n',
     ["source 'Ftp' (#1)", "field 'feeds'", "not an absolute http(s) URL"]),
])
def test_a_source_that_cannot_be_read_as_written_is_named_before_anything_runs(
        folder, sources, needles):
    (folder / "sources.toml").write_text(sources)
    before = tree(folder)
    assert_refused(newsmon("run", cwd=folder), folder, before, *needles)


def test_a_missing_sources_file_points_at_newsmon_init(folder):
    before = tree(folder)
    assert_refused(newsmon("run", cwd=folder), folder, before,
                   "sources.toml: file not found", "newsmon init")


def test_a_broken_watchlists_file_is_refused_before_the_run(folder):
    shutil.copy(DEMO_SOURCES, folder / "sources.toml")
    (folder / "rules.toml").write_text('[[rule]]\nname = "x"\nplaces = ["Brussels"]\n')
    before = tree(folder)
    assert_refused(newsmon("run", "--watchlists", "rules.toml", cwd=folder), folder, before,
                   "rules.toml", "places", "unknown key")


def test_a_warehouse_outside_the_data_dir_is_one_line_not_a_pydantic_dump(folder):
    shutil.copy(DEMO_SOURCES, folder / "sources.toml")
    before = tree(folder)
    outside = {"NEWSMON_WAREHOUSE": str(folder.parent / "elsewhere.duckdb")}
    for args in (["run"], ["sql", "SELECT 1"], ["digest"], ["demo"]):
        message = assert_refused(newsmon(*args, cwd=folder, env=outside), folder, before,
                                 "NEWSMON_WAREHOUSE=", "outside NEWSMON_DATA_DIR=data")
        assert len(message.strip().splitlines()) == 1
        assert "pydantic" not in message and "validation error" not in message.lower()


def test_a_bad_setting_names_its_variable(folder):
    shutil.copy(DEMO_SOURCES, folder / "sources.toml")
    before = tree(folder)
    assert_refused(newsmon("run", cwd=folder, env={"NEWSMON_BATCH_SIZE": "lots"}), folder,
                   before, "NEWSMON_BATCH_SIZE='lots'", "integer")


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "--since", "yesterday"], "--since 'yesterday' is not a date: use ISO 8601, e.g. "
                                      "2021-12-15"),
    (["alerts", "--since", "last week"], "--since 'last week' is not a date"),
    (["digest", "--date", "15/12/2021"], "--date '15/12/2021' is not a day: use YYYY-MM-DD"),
    (["run", "--task-runner", "ray"], "--task-runner 'ray': use thread or dask"),
    (["prune"], "Missing option '--keep-raw-days'"),
    (["run", "--sorces", "x.toml"], "No such option: --sorces"),
    (["sql", "SELECT 1", "--format", "parquet"], "--format parquet needs --output FILE"),
])
def test_bad_parameters_say_what_is_expected(folder, args, needle):
    shutil.copy(DEMO_SOURCES, folder / "sources.toml")
    before = tree(folder)
    assert_refused(newsmon(*args, cwd=folder), folder, before, needle)


@pytest.mark.parametrize("command", [
    ["sql", "SELECT count(*) FROM articles"],
    ["sql"],  # no query: how to open DuckDB's shell, which needs a warehouse too
    ["digest"],
    ["alerts"],
    ["export", "--out", "parquet"],
    ["prune", "--keep-raw-days", "30", "--yes"],
])
@pytest.mark.parametrize("db", ["data/typo.duckdb", "/nonexistent/dir/x.duckdb"])
def test_read_commands_never_create_a_warehouse(folder, command, db):
    before = tree(folder)
    assert_refused(newsmon(*command, "--db", db, cwd=folder), folder, before,
                   f"no warehouse at {db} (run `newsmon run` or `newsmon demo` first)")
    assert not Path("/nonexistent").exists()


def test_alerts_evaluate_without_rules_says_where_rules_come_from(folder):
    before = tree(folder)
    assert_refused(newsmon("alerts", "--evaluate", cwd=folder), folder, before,
                   "--watchlists FILE", "NEWSMON_WATCHLISTS")


def _corpus_line(i: int) -> str:
    return f'{{"id": "a{i}", "title": "Talks in Brussels {i}", "text": "Leaders met."}}\n'


def test_cluster_names_the_line_that_is_not_utf8(folder):
    corpus = folder / "corpus.jsonl"
    corpus.write_bytes(_corpus_line(1).encode()
                       + _corpus_line(2).replace("Talks", "Gespr\xe4che").encode("latin-1")
                       + _corpus_line(3).encode())
    before = tree(folder)
    result = newsmon("cluster", "corpus.jsonl", "--out", "out.jsonl", cwd=folder)
    assert result.returncode == 2
    assert result.stderr.strip() == ("corpus.jsonl:2: not UTF-8 text (byte 0xe4 at column 29); "
                                     "newsmon cluster reads UTF-8")
    assert tree(folder) == before  # no output, no temporary file
    corpus.write_bytes(_corpus_line(1).encode() + _corpus_line(2).encode("utf-16-le"))
    result = newsmon("cluster", "corpus.jsonl", cwd=folder)
    assert result.returncode == 2
    assert "corpus.jsonl:2: not UTF-8 text (NUL bytes: UTF-16?)" in result.stderr


@pytest.mark.parametrize("command", [
    ["cluster", "corpus.jsonl", "--out", "missing/out.jsonl"],
    ["extract", "page.html", "--out", "missing/out.jsonl"],
    ["sql", "SELECT 1", "--output", "missing/out.csv", "--format", "csv"],
    ["digest", "--out", "missing/digest.html"],
])
def test_output_into_a_missing_folder_is_refused_before_any_work(folder, command):
    (folder / "corpus.jsonl").write_text(_corpus_line(1))
    (folder / "page.html").write_text("<html><body><p>Hello</p></body></html>")
    before = tree(folder)
    assert_refused(newsmon(*command, cwd=folder), folder, before,
                   "missing/", "the folder missing does not exist")


def test_a_dead_prefect_server_is_two_lines_not_a_traceback(folder):
    shutil.copy(DEMO_SOURCES, folder / "sources.toml")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    before = tree(folder)
    for command in (["run"], ["demo"]):
        message = assert_refused(newsmon(*command, cwd=folder, env={"PREFECT_API_URL": url}),
                                 folder, before,
                                 f"no Prefect server answers at PREFECT_API_URL={url}",
                                 "prefect server start", "unset PREFECT_API_URL")
        assert len(message.strip().splitlines()) == 2
    # The same URL set the way docs/deploy.md once said: in the Prefect profile.
    configured = subprocess.run(
        [str(NEWSMON.parent / "prefect"), "config", "set", f"PREFECT_API_URL={url}"],
        env=user_env(folder), capture_output=True, text=True, check=True, timeout=120,
    )
    assert "PREFECT_API_URL" in configured.stdout
    before = tree(folder)
    assert_refused(newsmon("run", cwd=folder), folder, before,
                   f"no Prefect server answers at PREFECT_API_URL={url}")


def test_init_writes_starter_files_that_load_and_never_overwrites(folder):
    from extractors.fetch.sources import load_sources
    from reports.watchlists import load_watchlists

    written = newsmon("init", cwd=folder)

    assert written.returncode == 0, written.stderr
    assert tree(folder) == {"sources.toml", "watchlists.toml"}
    demo = load_sources(DEMO_SOURCES)
    assert load_sources(folder / "sources.toml") == demo  # the demo outlets, ready to run
    assert "# [[source]]" in (folder / "sources.toml").read_text()  # and how to add yours
    assert load_watchlists(folder / "watchlists.toml").rules
    (folder / "sources.toml").write_text("# mine\n")
    before = tree(folder)
    assert_refused(newsmon("init", cwd=folder), folder, before,
                   "sources.toml, watchlists.toml already exist: nothing written", "--force")
    assert (folder / "sources.toml").read_text() == "# mine\n"
    assert newsmon("init", "--force", cwd=folder).returncode == 0
    assert load_sources(folder / "sources.toml") == demo


def test_demo_site_on_a_busy_port_says_so(folder):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        before = tree(folder)
        assert_refused(newsmon("demo-site", "--port", str(port), cwd=folder), folder, before,
                       f"cannot serve on 127.0.0.1:{port}", "--port")
