"""A benchmark's server in a child process of its own, so its threads do not compete with
the run being measured."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable


class ChildServer:
    """Runs `target(*args, ports, stop)` in a spawned process: it puts the port it serves on
    `ports` and serves until `stop` is set. `port` once entered."""

    def __init__(self, target: Callable, args: tuple, what: str, start_s: float) -> None:
        self._target, self._args, self._what, self._start_s = target, args, what, start_s

    def __enter__(self):
        ctx = multiprocessing.get_context("spawn")
        ports, self._stop = ctx.Queue(), ctx.Event()
        self._child = ctx.Process(target=self._target, daemon=True,
                                  args=(*self._args, ports, self._stop))
        self._child.start()
        deadline = time.monotonic() + self._start_s
        while True:
            try:
                self.port = ports.get(timeout=0.5)
                return self
            except queue.Empty:
                if not self._child.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"{self._what} did not start") from None

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._child.join(timeout=10)
        if self._child.is_alive():
            self._child.terminate()
