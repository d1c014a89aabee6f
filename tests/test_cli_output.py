"""What `newsmon` prints, read the way a user reads it: tables that fit the terminal, list
columns that read as lists, a demo summary with the multi-outlet events, hints that run when
pasted, a progress bar on a terminal and plain lines elsewhere, a digest with every event.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
import subprocess
from datetime import datetime

import pyarrow.parquet as pq
import pytest

from demosite import truth
from flows.output import MIN_COLUMN, fit_widths, shorten
from flows.settings import format_resolve
from tests.cli_helpers import ROOT, newsmon, newsmon_on_terminal, query_rows, user_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")



def _header_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("┃").split("┃")]


def _widths(top_border: str) -> list[int]:
    return [len(part) - 2 for part in top_border.strip().strip("┏┓").split("┳")]


# --- tables -------------------------------------------------------------------------------


@pytest.mark.parametrize(("naturals", "available"), [
    ([80, 10, 10, 30, 40], 84), ([80, 10, 10, 30, 40] + [20] * 7, 63), ([300], 50),
    ([5, 3, 9], 40), ([12] * 30, 60),
])
def test_fitted_widths_fit_and_never_squeeze_a_column(naturals, available):
    widths = fit_widths(naturals, available)
    hidden = len(naturals) - len(widths)
    assert sum(widths) <= available + 3 * hidden  # a left-out column frees its borders
    assert all(w >= min(n, MIN_COLUMN) for w, n in zip(widths, naturals, strict=False))
    assert all(w <= n for w, n in zip(widths, naturals, strict=False))
    if sum(naturals) <= available:
        assert widths == naturals


def test_shortened_text_ends_after_a_whole_word():
    headline = "Pashinian and Aliyev hold 'significant' talks in Brussels"
    assert shorten(headline, 100) == headline
    assert shorten(headline, 30) == "Pashinian and Aliyev hold…"
    assert shorten("x" * 40, 10) == "x" * 9 + "…"  # no space at all: cut inside the word


@pytest.mark.slow
def test_sql_tables_fit_the_terminal_and_wide_shows_every_column(demo_run, tmp_path):
    db = str(demo_run["db"])
    columns = [r[0] for r in query_rows(db, "DESCRIBE events")]
    query = "SELECT * FROM events ORDER BY n_sources DESC, id"

    fitted = newsmon("sql", query, "--db", db, cwd=tmp_path, env={"COLUMNS": "100"})

    assert fitted.returncode == 0, fitted.stderr
    lines = fitted.stdout.splitlines()
    assert lines and all(len(line) <= 100 for line in lines)
    shown = _header_cells(lines[1])
    ids_last = sorted(columns, key=lambda c: c == "id" or c.endswith("_id"))  # a stable sort
    assert 3 <= len(shown) < len(columns) and shown == ids_last[: len(shown)]
    assert shown[0] == "headline"  # `id` comes first in the query, but a reader reads this
    rows = query_rows(db, query)
    naturals = [max(len(c), *(len(str(r[columns.index(c)])) for r in rows)) for c in shown]
    assert all(w >= min(n, MIN_COLUMN) for w, n in zip(_widths(lines[0]), naturals, strict=True))
    hidden = ids_last[len(shown):]
    assert fitted.stderr.strip() == (
        f"{len(hidden)} more columns not shown ({', '.join(hidden)}): --wide shows every "
        "column, --format csv or json every value")

    wide = newsmon("sql", query, "--db", db, "--wide", cwd=tmp_path, env={"COLUMNS": "100"})
    assert wide.returncode == 0 and wide.stderr == ""
    assert _header_cells(wide.stdout.splitlines()[1]) == columns
    assert max(len(line) for line in wide.stdout.splitlines()) > 100


@pytest.mark.slow
def test_list_columns_read_a_semicolon_b_in_tables_and_csv_and_stay_arrays(demo_run, tmp_path):
    db = str(demo_run["db"])
    query = "SELECT id, places FROM events WHERE len(places) >= 2 ORDER BY id LIMIT 1"
    [(event_id, places)] = query_rows(db, query)
    as_text = "; ".join(places)

    table = newsmon("sql", query, "--db", db, cwd=tmp_path, env={"COLUMNS": "250"})
    assert as_text in table.stdout and "['" not in table.stdout
    as_csv = newsmon("sql", query, "--db", db, "--format", "csv", cwd=tmp_path)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["id", "places"],
                                                            [event_id, as_text]]
    as_json = newsmon("sql", query, "--db", db, "--format", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == {"id": event_id, "places": places}
    as_parquet = newsmon("sql", query, "--db", db, "--format", "parquet", "--output",
                         "e.parquet", cwd=tmp_path)
    assert as_parquet.returncode == 0
    parquet = pq.read_table(tmp_path / "e.parquet")
    assert str(parquet.schema.field("places").type) == "list<element: string>"
    assert parquet.to_pylist() == [{"id": event_id, "places": places}]


@pytest.mark.slow
def test_the_default_digest_shows_every_event_the_latest_runs_fetched(demo_run, tmp_path):
    db = str(demo_run["db"])
    [(n_events, fetched)] = query_rows(db, "SELECT (SELECT count(*) FROM events), "
                                      "CAST(max(fetched_at) AS DATE) FROM articles")
    shown = min(10, n_events)
    assert shown > 1

    result = newsmon("digest", "--db", db, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    page = tmp_path / f"digest-{fetched.isoformat()}.html"
    assert result.stdout.strip() == (f"digest of the articles fetched on {fetched.isoformat()}: "
                                     f"{shown} events -> {page.name}")
    assert page.read_text(encoding="utf-8").count('<section class="event"') == shown


# --- running: progress, summary, hints ----------------------------------------------------


def _multi_outlet_events() -> dict[str, set[str]]:
    """Planted event -> its articles' titles, for events reported by two or more outlets."""
    events: dict[str, list[truth.ExpectedArticle]] = {}
    for article in truth.expected_articles():
        events.setdefault(article.planted_event, []).append(article)
    return {name: {a.title for a in arts} for name, arts in events.items()
            if len({a.outlet for a in arts}) >= 2 and not name.startswith("single:")}


@pytest.mark.slow
def test_demo_on_a_terminal_shows_a_progress_bar_the_multi_outlet_events_and_hints_that_run(
    tmp_path,
):
    code, screen = newsmon_on_terminal("demo", "--db", "demo.duckdb", cwd=tmp_path, columns=80)

    text = ANSI.sub("", screen).replace("\r\n", "\n")
    assert code == 0, text[-3000:]
    n_pages = len(truth.expected_articles())
    assert "━" in text and "starting Prefect" in text
    n_outlets = len({a.outlet for a in truth.expected_articles()})
    assert re.search(rf"discover\s.*{n_outlets}/{n_outlets}\s+sources", text)
    assert re.search(rf"fetch\s.*{n_pages}/{n_pages}\s+pages", text)
    final = text[text.rindex("newsmon run "):]  # what stays on screen after the bars
    lines = final.split("\n")
    assert all(len(line) <= 80 for line in lines if not line.startswith("  /"))

    headlines = [_header_cells(line.replace("│", "┃"))[0] for line in lines
                 if line.startswith("│")]
    for event, titles in _multi_outlet_events().items():
        assert any(_is_whole_word_prefix(h, t) for h in headlines for t in titles), (event, text)
    for headline in headlines:
        assert not headline.endswith("…") or headline[-2] != " "

    hints = [line.strip() for line in lines[lines.index("Next:") + 1:] if line.strip()]
    assert len(hints) == 3 and all(hint.endswith(("digest --db demo.duckdb",
                                                  "--db demo.duckdb")) for hint in hints)
    for hint in hints:  # pasted into a shell as printed, each one runs
        done = subprocess.run(["bash", "-c", hint], cwd=tmp_path, env=user_env(tmp_path),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (hint, done.stderr)
        assert shlex.split(hint)[1] in ("digest", "sql")


def _is_whole_word_prefix(shown: str, title: str) -> bool:
    """`shown` is `title`, or a start of it that ends at a word's end, plus an ellipsis."""
    if shown == title:
        return True
    start = shown.removesuffix("…").rstrip()
    return shown.endswith("…") and title.startswith(start) and title[len(start):][:1] in " ,;:-"


@pytest.mark.slow
def test_run_without_a_terminal_prints_plain_progress_lines(demo_site, tmp_path):
    shutil.copy(ROOT / "demosite" / "sources.toml", tmp_path / "sources.toml")
    env = {"NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map)}

    result = newsmon("run", "--db", "w.duckdb", "--since", "2019-11-01", cwd=tmp_path,
                     env={**env, "COLUMNS": "80"})

    assert result.returncode == 0, result.stderr
    # Off a terminal, the summary breaks lines between phrases, never inside one.
    summary = result.stdout[result.stdout.index("newsmon run "):result.stdout.index("Next:")]
    assert all(len(line) <= 80 for line in summary.splitlines())
    assert re.search(r"^  .*pages fetched: \d+ \(\d+ failed\)", summary, re.MULTILINE), summary
    assert re.search(r"articles: \d+ new \(.*\d+ before --since.*\), 0 updated", summary), summary
    assert "\x1b" not in result.stdout + result.stderr and "━" not in result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("newsmon: ")]
    n_outlets = len({a.outlet for a in truth.expected_articles()})
    assert progress[0] == f"newsmon: discover 1/{n_outlets} sources"
    assert f"newsmon: discover {n_outlets}/{n_outlets} sources" in progress
    assert re.fullmatch(r"newsmon: fetch (\d+)/\1 pages", progress[-3]), progress
    assert re.fullmatch(r"newsmon: extract (\d+)/\1 batches", progress[-2]), progress
    assert progress[-1] == "newsmon: cluster 1/1 steps"
    # --since bounded the backfill to what was published since then.
    [(n, oldest)] = query_rows(tmp_path / "w.duckdb",
                          "SELECT count(*), min(published_at) FROM articles")
    assert n > 0 and oldest >= datetime.fromisoformat("2019-11-01T00:00:00+00:00")
    assert "Top events fetched on" in result.stdout
