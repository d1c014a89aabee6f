"""The extraction pool's workers never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

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


def _pages(n: int, prefix: str = "Story") -> list:
    from extractors.models import FetchResult

    body = " ".join(["Officials in Brussels met on Tuesday to talk about the budget."] * 12)
    return [FetchResult(url=f"https://example.test/{prefix}/{i}", source="t", final_url=None,
                        html=f"<html><head><title>{prefix} {i}</title></head><body><article>"
                             f"<h1>{prefix} {i}</h1><p>{body}</p></article></body></html>")
            for i in range(n)]


def spin_in_python(title: str, text: str) -> list[str]:
    """An actor extractor that never returns on one page, in Python code."""
    while "Spin" in title:
        pass
    return []


def stuck_in_c(title: str, text: str) -> list[str]:
    """An actor extractor stuck in C code on one page (minutes of PBKDF2, which never looks
    at signals): only killing the worker ends it."""
    import hashlib

    if "Stuck" in title:
        hashlib.pbkdf2_hmac("sha256", b"x", b"y", 10**9)
    return []


def _outcomes(extractor, pages):
    from extractors.content.article import ExtractionSettings
    from extractors.content.parallel import extract_pages

    return extract_pages(pages, settings=ExtractionSettings(cpu_limit_s=1.0,
                                                            actor_extractor=extractor))


def test_a_page_past_its_cpu_budget_is_too_slow_and_the_batch_goes_on():
    pages = _pages(3) + _pages(1, "Spin") + _pages(3, "After")
    outcomes = _outcomes(spin_in_python, pages)
    statuses = [(o.status, (o.reason or "").split(" ")[0]) for o in outcomes]
    assert statuses[3] == ("failed", "too_slow")
    assert [s for i, (s, _) in enumerate(statuses) if i != 3] == ["extracted"] * 6


def test_a_worker_stuck_in_c_code_is_replaced():
    from extractors.content.parallel import get_pool

    before = get_pool().replaced
    pages = _pages(2) + _pages(1, "Stuck") + _pages(4, "After")
    started = time.monotonic()
    outcomes = _outcomes(stuck_in_c, pages)
    assert [o.status for o in outcomes] == ["extracted"] * 2 + ["failed"] + ["extracted"] * 4
    assert outcomes[2].reason.startswith("too_slow")
    assert get_pool().replaced == before + 1
    assert time.monotonic() - started < 60  # a budget of 1 s (+1 s grace), not minutes


def test_a_worker_killed_from_outside_costs_only_its_page():
    import signal as signals

    from extractors.content.parallel import get_pool

    pool = get_pool()
    pages = _pages(1, "Spin") + _pages(3, "After")
    futures = [pool.submit(p, _settings_spinning_long()) for p in pages]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(w.jobs for w in pool._workers):
        time.sleep(0.05)
    time.sleep(0.5)
    victim = next(w for w in pool._workers if w.jobs and "Spin" in w.jobs[0].page.html)
    os.kill(victim.proc.pid, signals.SIGKILL)
    outcomes = [f.result(timeout=120) for f in futures]
    assert outcomes[0].status == "failed" and "worker died" in outcomes[0].reason
    assert [o.status for o in outcomes[1:]] == ["extracted"] * 3


def _settings_spinning_long():
    from extractors.content.article import ExtractionSettings

    return ExtractionSettings(cpu_limit_s=60.0, actor_extractor=spin_in_python)


def test_a_worker_that_died_idle_is_replaced_when_pages_come():
    import signal as signals

    from extractors.content.parallel import extract_pages, start_workers

    for pid in start_workers():
        os.kill(pid, signals.SIGKILL)
    time.sleep(0.5)
    outcomes = extract_pages(_pages(4, "Later"))
    assert [o.status for o in outcomes] == ["extracted"] * 4


def spin_on(payload: bytes) -> bytes:
    """A worker call that never returns."""
    while payload:
        pass
    return payload


def fail_on(payload: bytes) -> bytes:
    raise ValueError(payload.decode())


def test_a_worker_call_returns_its_bytes_or_fails_clearly_and_pages_go_on():
    """ExtractionPool.call: a function's bytes come back; an error in it, or a call past its
    CPU budget (the worker is replaced), fails that call only."""
    from extractors.content.parallel import CallFailed, extract_pages, get_pool

    pool = get_pool()
    made = pool.call("zlib:compress", b"x" * 1000, 5.0).result(timeout=60)
    assert made == zlib.compress(b"x" * 1000)
    with pytest.raises(CallFailed, match="ValueError: no such thing"):
        pool.call("tests.test_parallel:fail_on", b"no such thing", 5.0).result(timeout=60)
    before = pool.replaced
    started = time.monotonic()
    with pytest.raises(CallFailed, match="CPU budget"):
        pool.call("tests.test_parallel:spin_on", b"spin", 1.0).result(timeout=120)
    assert pool.replaced == before + 1 and time.monotonic() - started < 60
    assert [o.status for o in extract_pages(_pages(3, "After"))] == ["extracted"] * 3
