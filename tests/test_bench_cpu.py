"""bench/_cpu.py's stage clocks: each stage its own CPU time, so a run's stages add up and
what no stage covers (`untimed` in bench.pipeline) is the rest, not a double count."""

from __future__ import annotations

import threading
import time

from bench._cpu import StageClock


def _spin(seconds: float) -> None:
    """Burn `seconds` of this thread's CPU."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_stage_called_within_another_is_taken_out_of_it() -> None:
    clock = StageClock()
    inner = clock.wrap("inner", _spin)

    def outer_work() -> None:
        _spin(0.05)
        inner(0.05)
        inner(0.05)

    outer = clock.wrap("outer", outer_work)
    started = time.thread_time()
    outer()
    total = time.thread_time() - started
    assert 0.04 < clock.seconds["outer"] < 0.08  # its own 0.05 s, not the inner 0.1 s too
    assert 0.09 < clock.seconds["inner"] < 0.14
    assert abs(sum(clock.seconds.values()) - total) < 0.01


def test_a_stage_in_another_thread_counts_that_threads_cpu() -> None:
    clock = StageClock()
    worker = threading.Thread(target=clock.wrap("threaded", _spin), args=(0.05,))
    worker.start()
    worker.join()
    assert 0.04 < clock.seconds["threaded"] < 0.08
    assert clock.threads == {worker.ident}
