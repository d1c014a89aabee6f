"""Smoke mode for the benchmarks: tiny sizes, seconds, no targets (CI runs `make bench-smoke`).

A benchmark CI never runs rots. Each benchmark takes `--smoke` (or NEWSMON_BENCH_SMOKE=1 in
the environment), runs its whole code path on a few items and prints its usual lines, and
skips with a message (exit 0) when the data it needs (../shared/data) is absent.
"""

from __future__ import annotations

import argparse
import os


def add_smoke_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, seconds, no targets (also NEWSMON_BENCH_SMOKE=1)")


def smoke_requested(args: argparse.Namespace | None = None) -> bool:
    if args is not None and getattr(args, "smoke", False):
        return True
    return os.environ.get("NEWSMON_BENCH_SMOKE", "").strip().lower() in ("1", "true", "yes")
