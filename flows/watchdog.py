"""Nothing a run started outlives it, even when the run is killed with SIGKILL.

A `newsmon run` starts processes it does not control: Prefect's temporary API server (a
uvicorn child of Prefect's own making), a Dask LocalCluster, the extraction pool. A process
killed with SIGKILL runs no clean-up, and those children would live on (Prefect's server for
good). So the CLI starts this watchdog first: a small process in a session of its own (a
Ctrl-C or a kill of the run's process group leaves it be) that notes the run's descendants
every second and, once the run is gone, ends those still running: SIGTERM, then SIGKILL after
a few seconds. psutil compares each process's start time, so a reused pid is never hit.

    python -m flows.watchdog PID
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import psutil

POLL_S = 1.0  # how often the watchdog notes the run's descendants
GRACE_S = 3.0  # between SIGTERM and SIGKILL


def start() -> subprocess.Popen:
    """Start the watchdog of this process."""
    return subprocess.Popen(
        [sys.executable, "-m", "flows.watchdog", str(os.getpid())],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def watch(pid: int) -> None:
    """Note `pid`'s descendants until it is gone, then end them (and theirs)."""
    try:
        run = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    me = os.getpid()
    known: dict[int, psutil.Process] = {}
    while _alive(run):
        known.update((p.pid, p) for p in _descendants(run) if p.pid != me)
        time.sleep(POLL_S)
    left = [p for p in known.values() if p.is_running()]
    for process in list(left):  # adopted by init now: their own children too
        left.extend(c for c in _descendants(process) if c.pid != me)
    for process in left:
        with contextlib.suppress(psutil.Error):  # gone meanwhile
            process.terminate()
    _, alive = psutil.wait_procs(left, timeout=GRACE_S)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


if __name__ == "__main__":  # pragma: no cover - started by start()
    watch(int(sys.argv[1]))
