"""A real `prefect server start` in a subprocess, for tests that need deployments and workers.

`prefect_test_harness` (used in conftest) runs an in-process server, which is enough for
calling a flow. Deployments, `prefect deploy`, `prefect deployment run` and a process worker
need what users run: the CLI against a separate server. This helper starts one on a free
127.0.0.1 port with its own PREFECT_HOME (SQLite lives under it), runs CLI commands against
it, and kills every process group it started, even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
# Settings a developer's shell or profile may hold that would point the CLI elsewhere.
_INHERITED_PREFECT_VARS = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE",
                           "PREFECT_HOME", "PREFECT_PROFILES_PATH", "PREFECT_SERVER_API_HOST",
                           "PREFECT_SERVER_API_PORT", "PREFECT_API_DATABASE_CONNECTION_URL",
                           "PREFECT_SERVER_DATABASE_CONNECTION_URL")


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process_group(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGTERM the whole group `proc` leads (it was started in a new session), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout_s)
    # Children (uvicorn workers, flow-run subprocesses) may outlive the leader.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=timeout_s)


class PrefectServer:
    """One temporary Prefect API server; use as a context manager.

    `env` is the environment every CLI call and worker gets: the API URL of this server, no
    telemetry, no prompts. Logs go to files under `home` (see `log_tail`).
    """

    def __init__(self, home: Path, port: int | None = None, startup_timeout_s: float = 90.0):
        self.home = Path(home)
        self._fixed_port = port
        self.startup_timeout_s = startup_timeout_s
        self._procs: list[subprocess.Popen] = []
        self.server: subprocess.Popen | None = None
        base = {k: v for k, v in os.environ.items() if k not in _INHERITED_PREFECT_VARS}
        self.env: dict[str, str] = {
            **base,
            "PREFECT_HOME": str(self.home),
            "NO_PROXY": "127.0.0.1,localhost",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL":
                f"sqlite+aiosqlite:///{self.home / 'prefect.db'}",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_CLI_PROMPT": "false",
            "PREFECT_CLI_COLORS": "false",
            "PREFECT_CLI_WRAP_LINES": "false",
            "COLUMNS": "200",  # rich would otherwise wrap names and ids in CLI output
            "PYTHONUNBUFFERED": "1",
        }
        self._use_port(port or free_port())

    def _use_port(self, port: int) -> None:
        self.port = port
        self.api_url = f"http://127.0.0.1:{port}/api"
        self.env["PREFECT_API_URL"] = self.api_url
        self.env["PREFECT_SERVER_API_PORT"] = str(port)

    def __enter__(self) -> PrefectServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        """Start `prefect server start` and wait until /api/health answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            self.server = self.spawn(
                ["prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                log_name="server",
            )
            try:
                self.wait_healthy()
                return
            except RuntimeError:
                # free_port() cannot reserve the port: someone may have taken it meanwhile.
                taken = "already in use" in self.log_tail("server", chars=2000).lower()
                if not taken or self._fixed_port or attempt == 2:
                    self.stop()
                    raise
                self._use_port(free_port())
            except BaseException:
                self.stop()
                raise

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited with {self.server.returncode}:\n"
                    + self.log_tail("server")
                )
            try:
                health = httpx.get(f"{self.api_url}/health", timeout=2, trust_env=False)
                if health.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(
            f"prefect server not healthy after {self.startup_timeout_s:.0f}s:\n"
            + self.log_tail("server")
        )

    def spawn(
        self, args: list[str], log_name: str, cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen:
        """Start a long-running CLI process in its own process group; `stop` kills it.

        `args[0]` is a program of this venv (prefect, newsmon) or else one on the PATH (bash).
        """
        program = BIN / args[0]
        log = open(self.home / f"{log_name}.log", "ab")  # noqa: SIM115 - owned by the process
        try:
            proc = subprocess.Popen(
                [str(program) if program.exists() else args[0], *args[1:]], cwd=cwd,
                env={**self.env, **(env or {})},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self._procs.append(proc)
        return proc

    def cli(
        self, *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        timeout_s: float = 60.0, check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run one `prefect ...` command to completion against this server; output in `.stdout`."""
        proc = subprocess.Popen(
            [str(BIN / "prefect"), *args], cwd=cwd, env={**self.env, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop_process_group(proc)
            out, _ = proc.communicate()
            raise TimeoutError(
                f"`prefect {' '.join(args)}` took over {timeout_s:.0f}s:\n{out}"
            ) from None
        finally:
            stop_process_group(proc)
        with open(self.home / "cli.log", "a") as log:
            log.write(f"$ prefect {' '.join(args)}  -> {proc.returncode}\n{out}\n")
        if check and proc.returncode != 0:
            raise RuntimeError(f"`prefect {' '.join(args)}` failed ({proc.returncode}):\n{out}")
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")

    def log_tail(self, log_name: str, chars: int = 6000) -> str:
        """The end of one of the log files under `home` (server, cli, worker...)."""
        path = self.home / f"{log_name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        """Kill every process group this helper started (server last), then any straggler."""
        for proc in reversed(self._procs):
            stop_process_group(proc)
        self._procs.clear()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.stragglers()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            if pids and sig == signal.SIGTERM:
                time.sleep(2)

    def stragglers(self) -> list[int]:
        """Processes that still carry this server's PREFECT_HOME in their environment.

        A worker may start a flow run in a session of its own, out of reach of the group
        kill; the unique temporary PREFECT_HOME marks everything started for this server.
        """
        marker = f"PREFECT_HOME={self.home}".encode()
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ and int(entry.name) != os.getpid():
                found.append(int(entry.name))
        return found
