"""What a user reads (#30): help in typer/rich conventions with examples and exit codes, one
stderr line per failed input, housekeeping that is idempotent and explicit, tables laid out
for a person, CSV with LF line ends, and a run summary that says why nothing is new.

Commands run as the installed `newsmon` in a folder of their own (tests/cli_helpers.py).
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import os
import re
import shutil
from pathlib import Path

import pytest

from flows.output import phrase_lines
from tests.cli_helpers import ROOT, newsmon, tree
from tests.test_digest import fill_warehouse

COMMANDS = ("run", "demo", "demo-site", "init", "sql", "convert", "export", "prune", "extract",
            "cluster", "digest", "alerts")
TYPE_REPRS = re.compile(r"<(bool|str|int|path|float|list\[[^\]]*\]|int range|text)>|\{\w+\}")


# --- help -----------------------------------------------------------------------------------


def test_every_help_shows_metavars_examples_and_exit_codes(tmp_path):
    top = newsmon("--help", cwd=tmp_path)
    assert top.returncode == 0, top.stderr
    assert not TYPE_REPRS.search(top.stdout), top.stdout
    assert "Exit status:" in top.stdout
    for code in ("0", "1", "2", "75"):
        assert re.search(rf"^\s*{code}\s+\S", top.stdout, re.MULTILINE), (code, top.stdout)
    for command in COMMANDS:
        assert re.search(rf"│ {re.escape(command)}\s", top.stdout), command
        shown = newsmon(command, "--help", cwd=tmp_path)
        assert shown.returncode == 0, (command, shown.stderr)
        text = shown.stdout
        assert not TYPE_REPRS.search(text), (command, TYPE_REPRS.search(text), text)
        assert "Examples:" in text and f"newsmon {command}" in text.split("Examples:")[1]
        assert "Exit status:" in text and re.search(r"^\s*2\s+usage error", text, re.MULTILINE)


@pytest.mark.parametrize(("command", "usage", "needles"), [
    ("extract", "newsmon extract [OPTIONS] INPUT...", ["--url  ", "URL ", "--out ", "FILE ",
                                                       "--max-bytes ", " N "]),
    ("sql", "newsmon sql [OPTIONS] [QUERY]", ["PATH", "[table|csv|json|parquet]", "--crlf"]),
    ("init", "newsmon init [OPTIONS] [FOLDER]", ["created if missing"]),
    ("cluster", "newsmon cluster [OPTIONS] CORPUS",
     ["id, title, text, [url, source, published, language, summary]"]),
    ("alerts", "newsmon alerts [OPTIONS]", ["DATE", "FILE", "--wide"]),
    ("run", "newsmon run [OPTIONS]", ["--since ", "DATE", "[thread|dask]", "75"]),
])
def test_help_names_values_the_way_clis_do(tmp_path, command, usage, needles):
    text = newsmon(command, "--help", cwd=tmp_path, env={"COLUMNS": "120"}).stdout
    assert usage in text
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.mark.parametrize("command", ["--help", "sql --help"])
def test_the_readme_shows_help_as_newsmon_prints_it(tmp_path, command):
    """Every line of the README's `$ newsmon ... --help` block is a line newsmon prints at
    100 columns (a command added since may add lines, none may differ)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(f"$ newsmon {command}\n", 1)[1].split("```", 1)[0]
    printed = newsmon(*command.split(), cwd=tmp_path, env={"COLUMNS": "100"}).stdout
    actual = {line.rstrip() for line in printed.splitlines()}
    missing = [line for line in block.splitlines() if line.rstrip() not in actual]
    assert not missing, missing


def test_version(tmp_path):
    shown = newsmon("--version", cwd=tmp_path)
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"newsmon {importlib.metadata.version('newsmon')}"


# --- failures: one line each on stderr --------------------------------------------------------


def _bad_inputs(folder: Path) -> dict[str, str]:
    """Input -> the reason `newsmon extract` must give for it."""
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    (folder / "random.bin").write_bytes(b"\x00" + os.urandom(4000))
    (folder / "fake.gz").write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)
    (folder / "a-folder").mkdir()
    return {"image.png": "not HTML: binary content", "random.bin": "not HTML: binary content",
            "fake.gz": "broken gzip file", "a-folder": "not a file: is a directory",
            "missing.html": "cannot read: No such file or directory"}


@pytest.mark.parametrize("out", [["--out", "x.jsonl"], []])
def test_every_failed_input_is_one_stderr_line_whatever_the_output(tmp_path, out):
    bad = _bad_inputs(tmp_path)
    (tmp_path / "page.html").write_text("<html><body><p>Hello.</p></body></html>")
    for name, reason in bad.items():
        alone = newsmon("extract", name, *out, cwd=tmp_path)
        assert alone.returncode == 1
        [line] = alone.stderr.splitlines()
        assert line.startswith(f"error: {name}: {reason}"), line
    together = newsmon("extract", "page.html", *bad, *out, cwd=tmp_path)
    assert together.returncode == 1
    lines = together.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == list(bad), lines  # in input order
    assert not any("page.html" in line for line in lines)


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["sql"], ["digest"], ["alerts"],
                                     ["convert"], ["export", "--out", "parquet"],
                                     ["prune", "--keep-raw-days", "1"], ["run"]])
def test_a_file_that_is_no_warehouse_is_one_line(tmp_path, command):
    _bad_inputs(tmp_path)
    shutil.copy(ROOT / "demosite" / "sources.toml", tmp_path / "sources.toml")
    refused = newsmon(*command, "--db", "image.png", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.splitlines() == [
        "error: image.png is not a DuckDB warehouse (no DuckDB file header)"]


def test_cluster_names_a_binary_file_in_a_few_lines_and_a_folder_in_one(tmp_path):
    _bad_inputs(tmp_path)
    (tmp_path / "noise.bin").write_bytes((bytes(range(128, 256)) + b"\n") * 50)
    binary = newsmon("cluster", "noise.bin", cwd=tmp_path)
    lines = binary.stderr.splitlines()
    assert binary.returncode == 2 and len(lines) == 11, lines
    assert lines[-1] == "noise.bin: 40 more malformed lines"
    folder = newsmon("cluster", "a-folder", cwd=tmp_path)
    assert folder.stderr.splitlines() == ["a-folder: cannot read: Is a directory"]


# --- housekeeping ---------------------------------------------------------------------------


def test_convert_to_the_format_a_warehouse_has_does_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    fill_warehouse(db)  # new warehouses are written in v1.5.0
    before = (db.stat().st_mtime_ns, db.stat().st_ino)

    again = newsmon("convert", "--storage-version", "v1.5.0", "--db", str(db), cwd=tmp_path)

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{db}: already v1.5.0, nothing to do"
    assert (db.stat().st_mtime_ns, db.stat().st_ino) == before
    assert not db.with_name("w.duckdb.bak").exists()
    latest = newsmon("convert", "--storage-version", "latest", "--db", str(db), cwd=tmp_path)
    assert latest.returncode == 0 and "-> v2" in latest.stdout
    assert db.with_name("w.duckdb.bak").exists()
    said = newsmon("convert", "--storage-version", "latest", "--db", str(db), cwd=tmp_path)
    assert said.stdout.strip() == f"{db}: already latest (v2.0.0+), nothing to do"


def test_init_creates_the_folder_it_is_given(tmp_path):
    made = newsmon("init", "some/new/dir", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert {"some/new/dir/sources.toml", "some/new/dir/watchlists.toml"} <= tree(tmp_path)
    (tmp_path / "a-file").write_text("")
    refused = newsmon("init", "a-file", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.startswith("error: a-file is a file")


# --- tables ---------------------------------------------------------------------------------

SEED = "Pashinian and Aliyev hold 'significant' talks in Brussels"


@pytest.fixture()
def alerted(tmp_path) -> Path:
    """A warehouse with one stored alert on the seed event."""
    db = tmp_path / "w.duckdb"
    fill_warehouse(db)
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "caucasus-talks"\nplaces_any = ["Armenia", "Azerbaijan"]'
                     '\nmin_sources = 2\n')
    done = newsmon("alerts", "--evaluate", "--watchlists", str(rules), "--db", str(db),
                   cwd=tmp_path)
    assert done.returncode == 0 and "1 new alerts" in done.stdout, done.stdout + done.stderr
    return db


def test_alerts_show_the_headline_whole_at_100_columns_and_ids_only_when_wide(alerted, tmp_path):
    shown = newsmon("alerts", "--db", str(alerted), cwd=tmp_path, env={"COLUMNS": "100"})

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines)
    header = [c.strip() for c in lines[1].strip("┃").split("┃")]
    assert header[:2] == ["headline", "rule"] and "event_id" not in header
    assert "run_id" not in header
    row = next(line for line in lines if SEED in line)  # the whole headline
    cells = row.strip("│").split("│")
    outlets = cells[header.index("outlets")]
    assert outlets.endswith("2 ") and outlets.startswith("  "), "numbers are right-aligned"

    wide = newsmon("alerts", "--wide", "--db", str(alerted), cwd=tmp_path, env={"COLUMNS": "100"})
    assert "event_id" in wide.stdout and "run_id" in wide.stdout and "seed" in wide.stdout


def test_sql_tables_put_ids_last_and_numbers_right(alerted, tmp_path):
    query = "SELECT id, headline, n_sources FROM events WHERE id = 'seed'"
    shown = newsmon("sql", query, "--db", str(alerted), cwd=tmp_path, env={"COLUMNS": "100"})
    header = [c.strip() for c in shown.stdout.splitlines()[1].strip("┃").split("┃")]
    assert header == ["headline", "n_sources", "id"]
    wide = newsmon("sql", query, "--db", str(alerted), "--wide", cwd=tmp_path)
    assert [c.strip() for c in wide.stdout.splitlines()[1].strip("┃").split("┃")] == [
        "id", "headline", "n_sources"]  # --wide: the query's own order


def test_csv_is_rfc_4180_with_lf_line_ends_unless_asked(alerted, tmp_path):
    query = ("SELECT 'a, \"quoted\"' AS text, 'two' || chr(10) || 'lines' AS note, 3 AS n "
             "UNION ALL SELECT 'plain', '', 4")
    plain = newsmon("sql", query, "--db", str(alerted), "--format", "csv", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "\r" not in plain.stdout
    assert plain.stdout == 'text,note,n\n"a, ""quoted""","two\nlines",3\nplain,,4\n'
    assert list(csv.reader(io.StringIO(plain.stdout))) == [
        ["text", "note", "n"], ['a, "quoted"', "two\nlines", "3"], ["plain", "", "4"]]
    out = tmp_path / "x.csv"
    crlf = newsmon("sql", query, "--db", str(alerted), "--format", "csv", "--crlf",
                   "--output", str(out), cwd=tmp_path)
    assert crlf.returncode == 0
    assert out.read_bytes().count(b"\r\n") == 3 and out.read_bytes().endswith(b"4\r\n")


def test_summary_lines_break_between_phrases_only():
    phrases = ["sources: 4", "entries: 19", "to fetch: 19 (0 updated, 0 retries)",
               "pages fetched: 19 (0 failed)", "articles: 0 new (19 already stored), 0 updated"]
    for width in (30, 60, 80, 200):
        lines = phrase_lines(phrases, width)
        assert all(len(line) <= width for line in lines if "   " in line.strip())
        assert [p for line in lines for p in line.strip().split("   ")] == phrases


# --- the flow says why nothing is new ---------------------------------------------------------


@pytest.mark.slow
def test_a_run_says_why_nothing_is_new_in_its_summary_and_artifact(make_world):
    from datetime import timedelta

    from tests.newsworld import NewsWorld
    from tests.test_never_lose import _artifacts, _now

    t0 = _now()
    world = NewsWorld(now=t0)
    world.add_outlet("quiet.test")
    for slug in ("a", "b", "c"):
        world.publish("quiet.test", slug, appears=t0 - timedelta(hours=1))
    w = make_world(world)
    assert w.run().new_articles() == "3 new, 0 updated"

    unchanged = w.run()  # the feed and the sitemap answer 304 Not Modified
    assert unchanged.new_articles() == (
        "0 new (2 feeds and sitemaps unchanged since the last run), 0 updated")

    world.now = t0 + timedelta(minutes=30)
    world.publish("quiet.test", "d")
    one_more = w.run()
    assert one_more.new_articles() == "1 new (3 already stored), 0 updated"
    summary = _artifacts(one_more.run_id)["monitor-summary"].data
    assert "**Articles:** 1 new (3 already stored), 0 updated" in summary


@pytest.fixture()
def make_world(prefect_server, tmp_path, monkeypatch):
    from tests.test_never_lose import World

    made = []

    def make(world):
        made.append(World(world, tmp_path, monkeypatch))
        return made[-1]

    yield make
    for w in made:
        w.close()

