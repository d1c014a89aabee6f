"""The warehouse in the analyst's own tools: DuckDB 1.x clients open it, the cookbook in
docs/warehouse.md answers on the demo warehouse, and Parquet exports read back elsewhere.

The DuckDB 1.5 shell is the real one (`duckdb-cli` in the dev extra), run as a subprocess.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from warehouse import db as warehouse_db
from warehouse.queries import run_readonly_sql

DOC = ROOT / "docs" / "warehouse.md"


def duckdb_cli() -> str:
    """The DuckDB 1.x shell installed by the dev extra (beside this Python, else on PATH)."""
    beside = Path(sys.executable).with_name("duckdb")
    found = str(beside) if beside.exists() else shutil.which("duckdb")
    assert found, "the DuckDB shell is missing: pip install -e '.[dev]' installs duckdb-cli"
    return found


def cli_query(path: Path, query: str) -> subprocess.CompletedProcess:
    return subprocess.run([duckdb_cli(), "-readonly", str(path), "-json", "-c", query],
                          capture_output=True, text=True, timeout=120)


def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_shell_is_duckdb_1x():
    version = subprocess.run([duckdb_cli(), "-version"], capture_output=True, text=True,
                             check=True).stdout
    assert version.startswith("v1."), version


def test_demo_warehouse_opens_in_duckdb_1x_shell(demo_run):
    result = cli_query(demo_run["db"], "SELECT count(*) AS n FROM articles")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 22}]


def test_new_files_use_the_configured_storage_version(tmp_path):
    with warehouse_db.open_writer(tmp_path / "default.duckdb") as con:
        assert warehouse_db.storage_version_of(con) == "v1.5.0+"
    with warehouse_db.open_writer(tmp_path / "latest.duckdb", storage_version="latest") as con:
        assert warehouse_db.storage_version_of(con) == "v2.0.0+"
    refused = cli_query(tmp_path / "latest.duckdb", "SELECT 1")
    assert refused.returncode != 0 and "version number" in refused.stderr
    # An existing file keeps its own format, whatever a later writer asks for.
    with warehouse_db.open_writer(tmp_path / "latest.duckdb") as con:
        assert warehouse_db.storage_version_of(con) == "v2.0.0+"


def test_storage_version_setting_is_checked(monkeypatch):
    from pydantic import ValidationError

    from flows.settings import Settings

    monkeypatch.setenv("NEWSMON_STORAGE_VERSION", "latest")
    assert Settings().storage_version == "latest"
    monkeypatch.setenv("NEWSMON_STORAGE_VERSION", "1.5")
    with pytest.raises(ValidationError):
        Settings()


def _content(path: Path) -> dict[str, list]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return {t: sorted(map(str, con.execute(f'SELECT * FROM "{t}"').fetchall()))
                for t in tables}
    finally:
        con.close()


def test_convert_rewrites_an_old_file_for_1x_clients(demo_run, tmp_path):
    old = tmp_path / "old.duckdb"
    shutil.copy(demo_run["db"], old)
    warehouse_db.convert_storage(old, "latest")  # what warehouses made before this default are
    assert cli_query(old, "SELECT 1").returncode != 0
    before = _content(old)

    tip = subprocess.run([sys.executable, "-m", "flows.cli", "sql", "--db", str(old)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "newsmon convert --storage-version v1.5.0" in tip.stdout.replace("\n", " ")

    done = subprocess.run([sys.executable, "-m", "flows.cli", "convert", "--db", str(old)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "v2.0.0+ -> v1.5.0+" in done.stdout
    assert _content(old) == before
    assert (tmp_path / "old.duckdb.bak").exists()
    result = cli_query(old, "SELECT count(*) AS n FROM events")
    assert result.returncode == 0, result.stderr
    # Keys survive the copy: the loaders' upserts need them.
    con = duckdb.connect(str(old), read_only=True)
    keys = con.execute("SELECT count(*) FROM duckdb_constraints() "
                       "WHERE constraint_type = 'PRIMARY KEY'").fetchall()[0][0]
    con.close()
    assert keys >= 10


def test_convert_refuses_a_bad_version_or_missing_file(tmp_path):
    with pytest.raises(warehouse_db.WarehouseError, match="no warehouse"):
        warehouse_db.convert_storage(tmp_path / "none.duckdb")
    with pytest.raises(warehouse_db.WarehouseError, match="use e.g. v1.5.0"):
        warehouse_db.convert_storage(tmp_path / "none.duckdb", "1.5; DROP TABLE x")


@pytest.mark.parametrize("query", doc_blocks("sql"), ids=lambda q: q.split("\n")[0][:50])
def test_every_documented_query_answers_on_the_demo(query, demo_run):
    columns, rows = run_readonly_sql(demo_run["db"], query)
    assert rows, f"no rows on the demo warehouse for:\n{query}"
    in_shell = cli_query(demo_run["db"], query)
    assert in_shell.returncode == 0, in_shell.stderr
    assert len(json.loads(in_shell.stdout)) == len(rows)


def test_documented_parquet_snippets_read_the_export(demo_run, tmp_path, monkeypatch):
    from warehouse.maintenance import export_parquet

    export_parquet(demo_run["db"], tmp_path / "exports")
    monkeypatch.chdir(tmp_path)
    snippets = [s for s in doc_blocks("python") if "exports/" in s]
    tested = [s for s in snippets if "import duckdb" in s or "import pyarrow" in s]
    assert len(tested) == 2, "the DuckDB and pyarrow snippets are in docs/warehouse.md"
    counts = {t: run_readonly_sql(demo_run["db"], f"SELECT count(*) FROM {t}")[1][0][0]
              for t in ("events", "articles")}
    for snippet in tested:
        scope: dict = {}
        exec(compile(snippet, "docs/warehouse.md", "exec"), scope)  # the documented code
        read = {t: scope[t] if isinstance(scope[t], list) else scope[t].to_pylist()
                for t in counts}
        assert {t: len(rows) for t, rows in read.items()} == counts
