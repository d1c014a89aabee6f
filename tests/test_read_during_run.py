"""Readable while a run writes: a reader started at any moment of a long monitor run gets its
answer after about one batch's write, never an error (docs/warehouse.md, "Concurrency")."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from flows.settings import format_resolve
from tests.conftest import DEMO_SOURCES, ROOT
from warehouse.queries import run_readonly_sql

pytestmark = pytest.mark.slow

# The longest a reader may wait. One batch's write on this machine takes ~0.1-0.5 s (more on a
# loaded one); the bound leaves room for a busy CI machine, far below the reader's own
# 30 s give-up time, so a writer that held the file for a whole run would fail here.
READER_WAIT_BOUND_S = 5.0


def test_reader_gets_answers_throughout_a_slow_run(prefect_server, demo_site, tmp_path):
    from prefect.settings import PREFECT_API_URL

    db = tmp_path / "slow.duckdb"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map),
        "NEWSMON_BATCH_SIZE": "2",               # many small batches: many writes
        "NEWSMON_MIN_DELAY_PER_HOST_S": "0.25",  # a run of several seconds
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", "--sources", str(DEMO_SOURCES),
         "--db", str(db)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    waits: list[float] = []
    errors: list[str] = []
    counts: list[int] = []

    def read_until_the_run_ends() -> None:
        while run.poll() is None:
            if not db.exists():
                time.sleep(0.05)
                continue
            started = time.monotonic()
            try:
                _, rows = run_readonly_sql(db, "SELECT count(*) FROM articles")
                counts.append(rows[0][0])
            except Exception as exc:  # any error at all is what this test is about
                errors.append(repr(exc))
            waits.append(time.monotonic() - started)
            time.sleep(0.02)

    reader = threading.Thread(target=read_until_the_run_ends)
    reader.start()
    output, _ = run.communicate(timeout=600)
    reader.join(timeout=60)

    assert run.returncode == 0, output[-3000:]
    assert not errors, errors[:3]
    assert len(waits) >= 20, f"only {len(waits)} reads during the run"
    assert counts == sorted(counts), "a reader saw articles disappear"
    assert counts[-1] > 0
    worst = max(waits)
    print(f"reads during the run: {len(waits)}, worst wait {worst:.3f}s, "
          f"median {sorted(waits)[len(waits) // 2]:.3f}s")
    assert worst <= READER_WAIT_BOUND_S
