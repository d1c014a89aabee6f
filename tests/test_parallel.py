"""The extraction pool's workers never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

START_POOL_AND_WAIT = """
import time
from extractors.content.parallel import start_workers
print(" ".join(str(p) for p in start_workers()), flush=True)  # start every worker
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_pool_workers_exit_when_their_parent_is_killed():
    proc = subprocess.Popen([sys.executable, "-c", START_POOL_AND_WAIT], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers and all(_alive(p) for p in workers)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "pool workers outlived their parent"


def fixed_actors(title: str, text: str) -> list[str]:
    """An actor extractor the worker processes import by name (tests.test_parallel)."""
    return ["Plugged In"]


def test_actor_extractor_reaches_the_worker_processes():
    """The actor extractor is an option of the extraction settings, so pooled (spawned)
    workers use it too; a module global set in this process would not reach them."""
    from extractors.content.article import ExtractionSettings
    from extractors.content.parallel import extract_pages
    from extractors.models import FetchResult

    body = " ".join(["Officials in Brussels met on Tuesday to talk about the budget."] * 12)
    pages = [
        FetchResult(url=f"https://example.test/{i}", source="t", final_url=None,
                    html=f"<html><head><title>Story {i}</title></head><body><article>"
                         f"<h1>Story {i}</h1><p>{body}</p><p>{body}</p></article></body></html>")
        for i in range(4)
    ]
    outcomes = extract_pages(pages, settings=ExtractionSettings(actor_extractor=fixed_actors))
    extracted = [o.article for o in outcomes if o.article is not None]
    assert extracted, [o.reason for o in outcomes]
    assert all(a.facets.actors == ("Plugged In",) for a in extracted)
