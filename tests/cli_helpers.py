"""Run the installed `newsmon` command the way a user does: a subprocess in a folder of its own.

The environment is the test's minus anything that would point newsmon or Prefect elsewhere
(NEWSMON_*, PREFECT_API_URL, ...), with a PREFECT_HOME inside the folder: a command that
never started Prefect leaves no PREFECT_HOME behind.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path

import duckdb

NEWSMON = Path(sys.executable).parent / "newsmon"
ROOT = Path(__file__).resolve().parent.parent
_DROPPED = ("NEWSMON_", "PREFECT_API_", "PREFECT_PROFILE", "PREFECT_HOME", "COLUMNS")


def user_env(folder: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update({
        "PREFECT_HOME": str(folder / ".prefect-home"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "NEWSMON_MIN_DELAY_PER_HOST_S": "0.05",  # the local demo site only
        "COLUMNS": "100",
    })
    env.update(extra or {})
    return env


def newsmon(*args: str, cwd: Path, env: Mapping[str, str] | None = None,
            stdin: str | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess:
    """`newsmon ARGS` in `cwd`, output captured as text (stdout and stderr apart)."""
    return subprocess.run(
        [str(NEWSMON), *args], cwd=cwd, env=user_env(cwd, env), input=stdin, text=True,
        capture_output=True, timeout=timeout_s,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )


def newsmon_on_terminal(*args: str, cwd: Path, env: Mapping[str, str] | None = None,
                        answer: str | None = None, columns: int = 100,
                        timeout_s: float = 300) -> tuple[int, str]:
    """`newsmon ARGS` on a pseudo-terminal of `columns` columns: (exit code, all it drew).

    `answer` is typed once the command has printed something (a confirmation prompt).
    """
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    full_env = user_env(cwd, env)
    full_env.pop("COLUMNS")  # the terminal's size says it
    full_env["TERM"] = "xterm-256color"
    proc = subprocess.Popen([str(NEWSMON), *args], cwd=cwd, env=full_env, stdin=follower,
                            stdout=follower, stderr=follower, start_new_session=True)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the command exited and closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
                if answer is not None:
                    os.write(leader, answer.encode())
                    answer = None
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise TimeoutError(f"newsmon {' '.join(args)} took over {timeout_s:.0f}s")
        return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def tree(folder: Path) -> set[str]:
    """Every path under `folder`, relative: to show that a command created nothing."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def query_rows(db: str | Path, query: str) -> list[tuple]:
    """The rows of one query on a warehouse file, read-only, the connection closed after."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()
