"""The README's Prefect section, run as written on a fresh copy of the checkout.

Each "# Terminal N" part of the block runs in a bash of its own, the way a user pastes it:
the server, the demo site and the worker keep running in the background, terminal 4 deploys,
triggers a run, waits for it (`--watch`) and queries the warehouse. The only changes are the
ports (4200 and 8765 may be taken on a shared machine: free ones replace them everywhere,
and the server gets its port from PREFECT_SERVER_API_PORT) and an environment with nothing
of the developer's Prefect or newsmon settings, a PREFECT_HOME of its own and no prompts.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.prefect_server import PrefectServer, free_port

ROOT = Path(__file__).resolve().parent.parent
SECTION = "### Scheduled and ad-hoc runs with a Prefect server"


def readme_blocks(readme: str) -> list[str]:
    """The ```sh blocks of the Prefect section (up to the next heading)."""
    section = readme[readme.index(SECTION):]
    section = section[:section.index("\n### ", len(SECTION))]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


def readme_terminals(readme: str) -> dict[int, str]:
    """Terminal number -> its lines, from the first ```sh block of the Prefect section."""
    block = readme_blocks(readme)[0]
    terminals: dict[int, list[str]] = {}
    current = None
    for line in block.splitlines():
        heading = re.match(r"# Terminal (\d+)", line)
        if heading:
            current = terminals.setdefault(int(heading.group(1)), [])
        elif line.strip() and current is not None:
            current.append(line)
    return {n: "\n".join(lines) for n, lines in terminals.items()}


def fresh_checkout(target: Path) -> Path:
    """The files a clone would have (tracked and new, not ignored), plus this venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def _environ_of(srv: PrefectServer, word: bytes) -> bytes:
    """The environment of the (non-shell) process started for `srv` whose command line has
    `word`: what the block's `export`s gave it."""
    for pid in srv.stragglers():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if word in command and not command[0].endswith(b"bash"):
                return Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
    raise AssertionError(f"no process with {word!r} in its command line")


def _wait_for(check, what: str, timeout_s: float, logs) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {timeout_s:.0f}s\n{logs()}")


@pytest.mark.prefect_server
@pytest.mark.slow
def test_the_readme_prefect_section_runs_verbatim(tmp_path):
    api_port, site_port = free_port(), free_port()
    terminals = {
        n: script.replace("127.0.0.1:4200", f"127.0.0.1:{api_port}").replace("8765",
                                                                            str(site_port))
        for n, script in readme_terminals((ROOT / "README.md").read_text()).items()
    }
    assert sorted(terminals) == [1, 2, 3, 4]
    for n, script in terminals.items():  # fresh terminals: each block sets the telemetry off
        assert "export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false" in script, n
    checkout = fresh_checkout(tmp_path / "newsmon")
    home = tmp_path / "prefect-home"
    srv = PrefectServer(home)
    srv.env = {  # nothing of the developer's Prefect, newsmon or telemetry settings
        **{k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "NEWSMON_")) and k != "DO_NOT_TRACK"},
        "PREFECT_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false", "PREFECT_CLI_COLORS": "false", "COLUMNS": "200",
        "PYTHONUNBUFFERED": "1",
    }
    home.mkdir()

    def logs() -> str:
        return "\n".join(f"--- terminal {n}:\n{srv.log_tail(f'terminal-{n}', 3000)}"
                         for n in (1, 2, 3))

    def shell(n: int, **env: str):
        return srv.spawn(["bash", "-e", "-c", terminals[n]], log_name=f"terminal-{n}",
                         cwd=checkout, env=env)

    try:
        shell(1, PREFECT_SERVER_API_PORT=str(api_port))
        health = f"http://127.0.0.1:{api_port}/api/health"

        def healthy() -> bool:
            try:
                return httpx.get(health, timeout=2, trust_env=False).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(healthy, "prefect server start", 120, logs)

        shell(2)
        _wait_for(lambda: "export NEWSMON_RESOLVE=" in srv.log_tail("terminal-2"),
                  "newsmon demo-site", 60, logs)
        printed = re.search(r"^export NEWSMON_RESOLVE=.*$", srv.log_tail("terminal-2"), re.M)
        assert printed.group(0) in terminals[3].splitlines(), "README and demo-site disagree"

        shell(3)
        _wait_for(lambda: "started" in srv.log_tail("terminal-3"), "the worker", 120, logs)

        done = subprocess.run(["bash", "-e", "-c", terminals[4]], cwd=checkout, env=srv.env,
                              capture_output=True, text=True, timeout=420)
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{logs()}"
        server_env = _environ_of(srv, b"server")
        assert b"DO_NOT_TRACK=1" in server_env
        assert b"PREFECT_SERVER_ANALYTICS_ENABLED=false" in server_env

        # Why did a run fail? The README's second block, with the run's id, as terminal 4 runs
        flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout).group(1)
        why = readme_blocks((ROOT / "README.md").read_text())[1]
        setup = "\n".join(line for line in terminals[4].splitlines()
                          if line.startswith((". ", "export ")))
        script = setup.replace("127.0.0.1:4200", f"127.0.0.1:{api_port}") + "\n" + \
            why.replace("FLOW_RUN_ID", flow_run_id)
        asked = subprocess.run(["bash", "-e", "-c", script], cwd=checkout, env=srv.env,
                               capture_output=True, text=True, timeout=120)
        assert asked.returncode == 0, f"{asked.stdout}\n{asked.stderr}"
    finally:
        srv.stop()

    assert "Flow run finished successfully" in done.stdout, done.stdout
    assert flow_run_id in asked.stdout and "COMPLETED" in asked.stdout.upper(), asked.stdout
    assert "Finished in state Completed" in asked.stdout, asked.stdout  # the run's own log
    assert re.search(r"Outlet A\s*│\s*(new|healthy)", done.stdout), done.stdout  # newsmon sources
    assert (checkout / "sources.toml").is_file() and (checkout / "watchlists.toml").is_file()
    con = duckdb.connect(str(checkout / "data" / "newsmon.duckdb"), read_only=True)
    try:
        per_source = dict(con.execute(
            "SELECT source, count(*) FROM articles GROUP BY source").fetchall())
        [(oldest,)] = con.execute("SELECT min(published_at) FROM articles").fetchall()
    finally:
        con.close()
    assert sum(per_source.values()) > 0 and len(per_source) >= 2, per_source
    assert oldest.date().isoformat() >= "2019-11-01"  # the README's since= bounded the run
    for source, n in per_source.items():  # the README's last command printed them
        assert re.search(rf"{re.escape(source)}\s*│\s*{n}\b", done.stdout), done.stdout


def test_the_deployments_read_what_newsmon_init_writes_and_run_code_that_exists():
    """prefect.yaml's entrypoints exist, and the sources file both deployments default to is
    one `newsmon init` writes (the README's terminal 4 runs it before deploying)."""
    from flows.starter import starter_files

    spec = (ROOT / "prefect.yaml").read_text()
    entrypoints = re.findall(r"^\s+entrypoint: (\S+)$", spec, re.M)
    defaults = re.findall(r"^\s+sources: (\S+)$", spec, re.M)
    assert len(entrypoints) == len(defaults) == 2
    for entrypoint in entrypoints:
        path, function = entrypoint.split(":")
        assert f"def {function}(" in (ROOT / path).read_text()
    assert set(defaults) <= set(starter_files())
    assert "newsmon init" in readme_terminals((ROOT / "README.md").read_text())[4]
