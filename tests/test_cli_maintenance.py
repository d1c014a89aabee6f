"""Keeping a warehouse and its files in order, through the `newsmon` command a user types:
prune gives disk space back and asks before dropping everything, watchlists apply to events
already stored, `extract` has the fetcher's size cap, and output files honour the umask.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import NEWSMON, ROOT, newsmon, newsmon_on_terminal, query_rows, user_env
from warehouse.maintenance import warehouse_bytes
from warehouse.raw_store import raw_dir
from warehouse.sql import STORAGE_VERSION_OF_FILE

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
STARTER_RULES = ROOT / "flows" / "templates" / "watchlists.toml"
MiB = 1024 * 1024


@pytest.fixture()
def warehouse(demo_run, tmp_path: Path) -> Path:
    """A copy of the session's demo warehouse (and its raw pages) that this test may change."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(demo_run["db"], copy)
    if raw_dir(demo_run["db"]).is_dir():
        shutil.copytree(raw_dir(demo_run["db"]), raw_dir(copy))
    return copy



def _content(db: Path) -> dict:
    """What prune must never change: rows of the kept tables, and every constraint."""
    return {
        "articles": query_rows(db, "SELECT id, canonical_url, title FROM articles ORDER BY id"),
        "events": query_rows(db, "SELECT id, headline, n_sources FROM events ORDER BY id"),
        "members": query_rows(db, "SELECT article_id, event_id FROM event_articles ORDER BY 1"),
        "constraints": query_rows(db, "SELECT table_name, constraint_text "
                                      "FROM duckdb_constraints() ORDER BY ALL"),
        "views": query_rows(db, "SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                "ORDER BY 1"),
        "storage format": query_rows(db, STORAGE_VERSION_OF_FILE),  # 1.x clients still open it
    }


@pytest.mark.slow
def test_prune_gives_the_space_back_and_asks_before_dropping_everything(warehouse, tmp_path):
    db = str(warehouse)
    [(n_raw,)] = query_rows(warehouse, "SELECT count(*) FROM raw_pages")
    kept = _content(warehouse)
    size_before = warehouse_bytes(warehouse)  # the file and the raw pages beside it
    assert n_raw > 0

    # Everything would go: without a terminal to ask on, only --yes will do.
    refused = newsmon("prune", "--keep-raw-days", "0", "--db", db, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"error: this would drop all {n_raw} stored raw pages; "
                                      "pass --yes to do it")
    # On a terminal it asks; "n" keeps them.
    code, screen = newsmon_on_terminal("prune", "--keep-raw-days", "0", "--db", db,
                                       cwd=tmp_path, answer="n\n")
    assert code == 1, screen
    assert f"Drop all {n_raw} stored raw pages (articles and events stay)? [y/N]" in screen
    assert "nothing dropped" in screen
    too_recent = newsmon("prune", "--keep-raw-days", "36500", "--db", db, cwd=tmp_path)
    assert too_recent.returncode == 0
    assert f"none of the {n_raw} stored raw pages is older than 36500 days" in too_recent.stdout
    assert query_rows(warehouse, "SELECT count(*) FROM raw_pages") == [(n_raw,)]
    assert warehouse_bytes(warehouse) == size_before

    pruned = newsmon("prune", "--keep-raw-days", "0", "--yes", "--db", db, cwd=tmp_path)

    assert pruned.returncode == 0, pruned.stderr
    size_after = warehouse_bytes(warehouse)
    assert size_after < size_before
    assert not list(raw_dir(warehouse).rglob("*.parquet"))  # the raw pages' files are gone
    figures = re.fullmatch(r"dropped (\d+) raw pages; \S+: (.+) -> (.+) \((.+) freed\)",
                           pruned.stdout.strip())
    assert figures, pruned.stdout
    assert int(figures[1]) == n_raw
    assert query_rows(warehouse, "SELECT count(*) FROM raw_pages") == [(0,)]
    assert _content(warehouse) == kept  # articles, events, keys and views as they were
    assert not list(tmp_path.glob("*.compact*"))
    # The compacted file is a working warehouse: a writer can still store into it.
    evaluated = newsmon("alerts", "--evaluate", "--watchlists", str(STARTER_RULES), "--db", db,
                        cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr


@pytest.mark.slow
def test_alerts_evaluate_applies_rules_to_stored_events_once(warehouse, tmp_path):
    db = str(warehouse)
    [(n_events,)] = query_rows(warehouse, "SELECT count(*) FROM events")
    [(alerts_before,)] = query_rows(warehouse, "SELECT count(*) FROM alerts")

    first = newsmon("alerts", "--evaluate", "--watchlists", str(STARTER_RULES), "--db", db,
                    cwd=tmp_path, env={"COLUMNS": "200"})

    assert first.returncode == 0, first.stderr
    new = re.search(r"(\d+) rules on (\d+) stored events: (\d+) new alerts", first.stdout)
    assert new, first.stdout
    assert (int(new[1]), int(new[2])) == (3, n_events)
    assert int(new[3]) >= 1
    assert "caucasus" in first.stdout  # the seed event: Armenia and Azerbaijan, two outlets
    stored = query_rows(warehouse, "SELECT rule, event_id FROM alerts WHERE run_id IS NULL")
    assert len(stored) == int(new[3])
    assert query_rows(warehouse, "SELECT count(*) FROM alerts") == [(alerts_before + len(stored),)]

    again = newsmon("alerts", "--evaluate", "--watchlists", str(STARTER_RULES), "--db", db,
                    cwd=tmp_path)
    assert again.returncode == 0  # nothing changed since: nothing to look at
    assert "3 rules on 0 stored events: 0 new alerts" in again.stdout
    assert query_rows(warehouse, "SELECT count(*) FROM alerts") == [(alerts_before + len(stored),)]

    # --since bounds the events looked at by when they were last seen.
    later = newsmon("alerts", "--evaluate", "--since", "2030-01-01", "--watchlists",
                    str(STARTER_RULES), "--db", db, cwd=tmp_path)
    assert "3 rules on 0 stored events: 0 new alerts" in later.stdout
    [(recent,)] = query_rows(warehouse,
                             "SELECT count(*) FROM events WHERE last_seen >= '2021-01-01'")
    since = newsmon("alerts", "--evaluate", "--since", "2021-01-01", "--watchlists",
                    str(STARTER_RULES), "--db", db, cwd=tmp_path)
    assert f"3 rules on {recent} stored events" in since.stdout and 0 < recent < n_events
    # The listing shows the stored matches.
    listed = newsmon("alerts", "--db", db, cwd=tmp_path, env={"COLUMNS": "200"})
    assert "caucasus" in listed.stdout
    # An edited rule is a new rule: it looks at every stored event again.
    edited = tmp_path / "edited.toml"
    edited.write_text(STARTER_RULES.read_text().replace("min_sources = 2", "min_sources = 1", 1))
    assert edited.read_text() != STARTER_RULES.read_text()
    changed = newsmon("alerts", "--evaluate", "--watchlists", str(edited), "--db", db,
                      cwd=tmp_path)
    assert f"3 rules on {n_events} stored events" in changed.stdout


def test_extract_applies_the_fetch_size_cap_to_files(tmp_path):
    page = PAGES / "politico-meadows.html"
    big = tmp_path / "big.html"
    big.write_bytes(b"<html><body>" + b"<p>word</p>" * (6 * MiB // 11) + b"</body></html>")
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<html><body>" + b" " * (6 * MiB) + b"</body></html>"))

    result = newsmon("extract", str(big), str(bomb), str(page), cwd=tmp_path)

    assert result.returncode == 1  # some input failed
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in records] == ["failed", "failed", "extracted"]
    for record in records[:2]:
        assert record["reason"] == ("too large: over the 5 MiB cap of fetched pages "
                                    "(--max-bytes raises it)")
    # The cap can be raised (and lowered) for the command.
    small = newsmon("extract", str(page), "--max-bytes", "1000", cwd=tmp_path)
    assert json.loads(small.stdout)["reason"] == ("too large: over the 1000 bytes cap of "
                                                  "fetched pages (--max-bytes raises it)")
    raised = newsmon("extract", str(bomb), "--max-bytes", str(8 * MiB), cwd=tmp_path)
    assert "too large" not in (json.loads(raised.stdout)["reason"] or "")


@pytest.mark.slow
def test_output_files_honour_the_umask(demo_run, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "a", "title": "Talks in Brussels", "text": "Leaders met."}\n')
    db = str(demo_run["db"])
    writers = {
        "cluster.jsonl": ["cluster", str(corpus), "--out", "cluster.jsonl"],
        "extract.jsonl": ["extract", str(PAGES / "orf-wien.html"), "--out", "extract.jsonl"],
        "query.csv": ["sql", "SELECT id FROM events", "--db", db, "--format", "csv",
                      "--output", "query.csv"],
        "digest.html": ["digest", "--db", db, "--out", "digest.html"],
        "parquet/events.parquet": ["export", "--db", db, "--out", "parquet"],
    }
    for umask, mode in ((0o022, 0o644), (0o007, 0o660)):
        for name, args in writers.items():
            target = tmp_path / name
            if target.exists():
                target.unlink()
            shell = f"umask {umask:03o} && exec {NEWSMON} " + shlex.join(args)
            done = subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=user_env(tmp_path),
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, (name, done.stderr)
            assert stat.S_IMODE(target.stat().st_mode) == mode, (name, oct(umask))
