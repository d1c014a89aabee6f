"""Extraction across the machine's cores.

HTML parsing is CPU-bound and holds the GIL, so pages are extracted in a process pool sized
to the machine; one pool per process, started on first use and reused by every batch.
`spawn` workers avoid forking a process that runs Prefect's threads.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from extractors.content.article import DEFAULT_EXTRACTION, ExtractionSettings, extract_article
from extractors.models import ExtractionOutcome, FetchResult

MIN_PAGES_FOR_POOL = 8  # below this, shipping pages to workers costs more than it saves

_pool: ProcessPoolExecutor | None = None


def worker_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def _exit_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: end the worker when the process that made the pool is gone.

    A worker holds both ends of its task queue, so it never sees end-of-file: without this,
    a flow process killed with SIGKILL (or a Dask worker torn down) leaves its workers behind.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=worker_count(), mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent, initargs=(os.getpid(),),
        )
        atexit.register(shutdown_pool)
    return _pool


def _ready(_: int) -> bool:
    """Runs in a worker: by then importing this module has imported the extractor."""
    return True


def warm_up() -> None:
    """Start the pool's workers now, in the background: each imports the extractor (seconds
    on a busy machine), so a run's first batch does not wait for them."""
    if worker_count() < 2:
        return
    pool = _get_pool()
    threading.Thread(target=lambda: list(pool.map(_ready, range(worker_count()))),
                     name="warm-extraction-pool", daemon=True).start()


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def extract_pages(
    pages: Sequence[FetchResult], use_pool: bool = True,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
) -> list[ExtractionOutcome]:
    """`extract_article` over `pages`, in input order; parallel when it pays."""
    if not use_pool or worker_count() < 2 or len(pages) < MIN_PAGES_FOR_POOL:
        return [extract_article(page, settings) for page in pages]
    chunksize = max(1, len(pages) // (worker_count() * 4))
    extract = functools.partial(extract_article, settings=settings)
    return list(_get_pool().map(extract, pages, chunksize=chunksize))
