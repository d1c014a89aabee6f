"""How far a run has got, for whoever wants to show it.

The monitor flow calls `report(stage, done, total)` at each step (and logs a line, which is
what a deployment's run shows in Prefect). Nothing listens by default; `newsmon run` and
`newsmon demo` listen while the flow runs in their process and draw a progress bar on a
terminal, or print plain lines when the output is not one. A listener must not raise: a
broken display never stops a run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int, int], None]

# The stages the monitor reports, in order, with the unit each counts.
STAGES = {"discover": "sources", "fetch": "pages", "extract": "batches", "cluster": "steps"}

_listeners: list[Listener] = []
_lock = threading.Lock()
_log = logging.getLogger(__name__)


def report(stage: str, done: int, total: int) -> None:
    """Tell every listener that `done` of `total` units of `stage` are finished."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(stage, done, total)
        except Exception:  # the display's problem, not the run's
            _log.exception("progress listener failed")


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener(stage, done, total)` on every report made inside the block."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
