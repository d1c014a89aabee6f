"""newsmon on a real Dask cluster whose worker cannot see the warehouse.

A `dask scheduler` and a `dask worker` run as separate processes, the worker in its own mount
namespace with an empty tmpfs over the data folder (like a worker on another machine). The
monitor flow runs through them with `newsmon run --task-runner dask` and NEWSMON_DASK_ADDRESS,
and must store exactly what a thread-runner run of the same demo site stores: the stages
take data and return data, only the flow process opens the warehouse.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.settings import format_resolve
from tests.conftest import DEMO_SOURCES, ROOT
from tests.test_dask_runner import CONTENT, _snapshot

pytestmark = pytest.mark.slow

DASK = str(Path(sys.executable).with_name("dask"))


def _can_hide_folders() -> str | None:
    """Why the worker cannot be given its own view of the data folder here, if it cannot."""
    if os.geteuid() != 0:
        return "needs root (unshare -m and a tmpfs mount)"
    if shutil.which("unshare") is None:
        return "needs util-linux's unshare"
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs tmpfs /mnt"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot mount in a new namespace: {probe.stderr.strip()}"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """End a process we started, and its children (it leads its own session)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


@pytest.fixture()
def hidden_data_cluster(tmp_path: Path, prefect_server) -> Iterator[tuple[str, Path]]:
    """(scheduler address, data folder the worker cannot see)."""
    if reason := _can_hide_folders():
        pytest.skip(f"Dask worker without the warehouse: {reason}")
    from distributed import Client
    from prefect.settings import PREFECT_API_URL

    data = tmp_path / "data"
    data.mkdir()
    (data / "marker").write_text("the worker must not see this")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "PYTHONPATH": str(ROOT)}
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
         "--no-dashboard"],
        cwd=tmp_path, env=env, start_new_session=True,
        stdout=(logs / "scheduler.log").open("w"), stderr=subprocess.STDOUT,
    )
    worker_cmd = (f"mount -t tmpfs tmpfs {data} && test ! -e {data}/marker && "
                  f"exec {DASK} worker {address} --nworkers 1 --nthreads 1 --no-dashboard")
    worker = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", worker_cmd],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT,
    )
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
        yield address, data
    finally:
        _stop(worker)
        _stop(scheduler)


def _task_prefixes(address: str) -> set[str]:
    """The kinds of tasks the scheduler ran (named after the task functions)."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        return set(client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


def test_a_worker_without_the_warehouse_gives_the_same_warehouse(
    hidden_data_cluster, demo_run, demo_site, tmp_path
):
    from prefect.settings import PREFECT_API_URL

    address, data = hidden_data_cluster
    db = data / "newsmon.duckdb"
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "NEWSMON_RESOLVE": format_resolve(demo_site.resolve_map),
        "NEWSMON_DASK_ADDRESS": address,
        "NEWSMON_BATCH_SIZE": "5",  # several extract batches, so the worker really works
    }
    env.pop("NEWSMON_TASK_RUNNER", None)
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--task-runner", "dask",
         "--sources", str(DEMO_SOURCES), "--db", str(db)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert time.monotonic() - started < 600

    # on our worker: extraction, which also makes the clustering features (#31: the cluster
    # task then has nothing left to do for a run's own articles)
    assert "extract_task" in _task_prefixes(address)
    dask_tables = _snapshot(db)
    thread_tables = _snapshot(demo_run["db"])
    assert dask_tables["articles"], "nothing stored"
    for table in CONTENT:
        assert dask_tables[table] == thread_tables[table], table
