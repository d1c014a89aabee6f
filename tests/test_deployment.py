"""prefect.yaml against a real Prefect server: deploy, schedule, trigger, run with a worker.

What a user does, in order: create the process work pool (limited to one run at a time), run
`prefect deploy --all` from the checkout, trigger `monitor/adhoc` with `prefect deployment run`,
and let `prefect worker start --pool newsmon-pool` run it against the bundled demo news site.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC
from pathlib import Path
from uuid import UUID

import duckdb
import pytest
from prefect import flow, task
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import ConcurrencyLimitStrategy, FlowRun, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import PrefectHTTPStatusError
from prefect.states import Cancelled, Pending

from demosite import truth
from demosite.server import DemoSite
from flows.settings import format_resolve
from tests.prefect_server import PrefectServer

# The server tests (marked prefect_server) share one server, ~20 s to start; the task-runner
# tests at the end need none.

ROOT = Path(__file__).resolve().parent.parent
DEMO_SOURCES = ROOT / "demosite" / "sources.toml"
POOL = "newsmon-pool"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> PrefectServer:
    """A fresh server with the pool created and both deployments deployed from prefect.yaml."""
    srv = PrefectServer(tmp_path_factory.mktemp("prefect-home"))
    # A run that finds the deployment busy is re-queued for now + this many seconds (default 30).
    srv.env["PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"] = "0"
    srv.env["NEWSMON_HOME"] = str(ROOT)  # fills the pull step's {{ $NEWSMON_HOME }}
    with srv:
        srv.cli("work-pool", "create", POOL, "--type", "process")
        srv.cli("work-pool", "set-concurrency-limit", POOL, "1")
        srv.cli("deploy", "--all", cwd=ROOT)
        yield srv


@pytest.fixture(scope="module")
def client(server: PrefectServer):
    with SyncPrefectClient(server.api_url) as prefect_client:
        yield prefect_client


def _run_worker_once(server: PrefectServer, env: dict[str, str], cwd: Path) -> str:
    """One `prefect worker start --run-once`: submit what is due, wait for it, exit."""
    out = server.cli("worker", "start", "--pool", POOL, "--run-once", env=env, cwd=cwd,
                     timeout_s=150)
    return out.stdout


def _state(client: SyncPrefectClient, run_id: UUID) -> FlowRun:
    return client.read_flow_run(run_id)


def _runs_of(client: SyncPrefectClient, deployment_id: UUID) -> list[FlowRun]:
    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    )


@pytest.mark.prefect_server
@pytest.mark.slow
def test_daily_is_scheduled_and_adhoc_is_not(client):
    daily = client.read_deployment_by_name("monitor/daily")
    adhoc = client.read_deployment_by_name("monitor/adhoc")

    assert len(daily.schedules) == 1
    schedule = daily.schedules[0]
    assert isinstance(schedule.schedule, CronSchedule)
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 * * *", "UTC")
    assert schedule.active
    assert adhoc.schedules == []

    for deployment in (daily, adhoc):
        assert deployment.entrypoint == "flows/monitor.py:monitor"
        assert deployment.work_pool_name == POOL
        assert deployment.parameters == {"sources": "sources.toml"}
        assert deployment.global_concurrency_limit is not None
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
        # The pull step was filled from NEWSMON_HOME at deploy time: the checkout itself.
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ]
    assert client.read_work_pool(POOL).concurrency_limit == 1


@pytest.mark.prefect_server
@pytest.mark.slow
def test_the_scheduler_creates_daily_runs_at_six_utc(client):
    """Catches a server that stores the cron schedule but never creates its runs."""
    daily = client.read_deployment_by_name("monitor/daily")
    deadline = time.monotonic() + 30  # the scheduler looks at new deployments every ~5 s
    while not (runs := _runs_of(client, daily.id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert runs, "no scheduled run was created for monitor/daily"
    for run in runs:
        start = run.expected_start_time.astimezone(UTC)
        assert (start.hour, start.minute, start.second) == (6, 0, 0)
        assert run.state.type == StateType.SCHEDULED


@pytest.mark.prefect_server
@pytest.mark.slow
def test_a_bad_since_is_refused_before_a_run_exists(server, client):
    adhoc = client.read_deployment_by_name("monitor/adhoc")
    before = _runs_of(client, adhoc.id)

    out = server.cli("deployment", "run", "monitor/adhoc", "--param", "since=not a date",
                     check=False)

    assert out.returncode != 0
    assert "Validation failed for field 'since'" in out.stdout, out.stdout
    assert "'not a date'" in out.stdout
    assert _runs_of(client, adhoc.id) == before
    # The same through the Python client: refused by the server, nothing created.
    with pytest.raises(PrefectHTTPStatusError, match="Validation failed for field 'since'") as err:
        client.create_flow_run_from_deployment(adhoc.id, parameters={"since": "last week"})
    assert err.value.response.status_code == 409
    assert _runs_of(client, adhoc.id) == before


@pytest.mark.prefect_server
@pytest.mark.slow
def test_a_second_run_of_a_deployment_waits_for_the_first(client):
    adhoc = client.read_deployment_by_name("monitor/adhoc")
    first, second = (client.create_flow_run_from_deployment(adhoc.id) for _ in range(2))

    # What a worker does before it starts a run: propose Pending, which takes the slot.
    assert client.set_flow_run_state(first.id, Pending()).status == SetStateStatus.ACCEPT
    queued = client.set_flow_run_state(second.id, Pending())

    assert queued.status == SetStateStatus.REJECT
    assert (queued.state.type, queued.state.name) == (
        StateType.SCHEDULED, "AwaitingConcurrencySlot"
    )
    for run in (first, second):
        client.set_flow_run_state(run.id, Cancelled())
    assert client.read_deployment(adhoc.id).global_concurrency_limit.active_slots == 0


@pytest.mark.prefect_server
@pytest.mark.slow
def test_adhoc_and_daily_runs_fill_the_warehouse_one_at_a_time(server, client, tmp_path):
    db = tmp_path / "w.duckdb"
    with DemoSite() as site:
        worker_env = {"NEWSMON_RESOLVE": format_resolve(site.resolve_map)}
        # A relative path: it resolves only if the pull step moved the run into the checkout
        # (the worker itself runs elsewhere).
        out = server.cli("deployment", "run", "monitor/adhoc", "--param",
                         f"sources={DEMO_SOURCES.relative_to(ROOT)}", "--param", f"warehouse={db}")
        adhoc_id = UUID(re.search(r"UUID: ([0-9a-f-]{36})", out.stdout).group(1))
        # The daily deployment triggered at the same moment, into the same warehouse.
        daily = client.read_deployment_by_name("monitor/daily")
        daily_id = client.create_flow_run_from_deployment(
            daily.id, parameters={"sources": str(DEMO_SOURCES), "warehouse": str(db)}
        ).id

        first_log = _run_worker_once(server, worker_env, cwd=tmp_path)
        states = {rid: _state(client, rid).state for rid in (adhoc_id, daily_id)}
        finished = [rid for rid, s in states.items() if s.is_final()]
        waiting = [rid for rid, s in states.items() if s.type == StateType.SCHEDULED]
        # One run at a time: the pool's limit kept the second one queued, not dropped.
        assert len(finished) == 1 and len(waiting) == 1, (states, first_log)

        second_log = _run_worker_once(server, worker_env, cwd=tmp_path)

    runs = {rid: _state(client, rid) for rid in (adhoc_id, daily_id)}
    for rid, run in runs.items():
        assert run.state.type == StateType.COMPLETED, (
            f"{rid}: {run.state.name} {run.state.message}\n{first_log}\n{second_log}"
        )
    first, second = sorted(runs.values(), key=lambda r: r.start_time)
    assert first.end_time <= second.start_time

    for run in (first, second):
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        )
        kinds = {(a.key, a.type) for a in artifacts}
        assert ("monitor-summary", "markdown") in kinds, (run.name, kinds)
        assert ("top-events", "table") in kinds, (run.name, kinds)
        assert ("monitor-digest", "markdown") in kinds, (run.name, kinds)
        assert ("monitor-fetch-progress", "progress") in kinds, (run.name, kinds)
        # the coverage ledger rows the run touched (the first run saw every entry)
        assert run is second or ("coverage-ledger", "table") in kinds, (run.name, kinds)

    con = duckdb.connect(str(db), read_only=True)
    try:
        articles = con.execute("SELECT count(DISTINCT canonical_url) FROM articles").fetchall()
        events = con.execute("SELECT count(*) FROM events").fetchall()
        warehouse_runs = con.execute(
            "SELECT flow_run_id, status FROM runs ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()
    assert articles == [(len(truth.expected_articles()),)]
    assert events[0][0] > 0
    assert warehouse_runs == [(str(first.id), "completed"), (str(second.id), "completed")]


# --- task runners (flows/runners.py) -------------------------------------------------------


def test_threads_by_default_and_dask_on_request(monkeypatch):
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.runners import LOCAL_CLUSTER, select_task_runner, task_runner_from_env

    monkeypatch.delenv("NEWSMON_TASK_RUNNER", raising=False)
    monkeypatch.delenv("NEWSMON_DASK_ADDRESS", raising=False)
    assert isinstance(task_runner_from_env(), ThreadPoolTaskRunner)

    monkeypatch.setenv("NEWSMON_TASK_RUNNER", "dask")
    local = task_runner_from_env()
    assert isinstance(local, DaskTaskRunner)
    assert local.address is None
    assert local.cluster_kwargs == LOCAL_CLUSTER
    assert (LOCAL_CLUSTER["n_workers"], LOCAL_CLUSTER["threads_per_worker"]) == (2, 1)

    monkeypatch.setenv("NEWSMON_DASK_ADDRESS", "tcp://10.1.2.3:8786")
    remote = task_runner_from_env()
    assert remote.address == "tcp://10.1.2.3:8786"
    assert remote.cluster_kwargs == {}

    with pytest.raises(ValueError, match="'threads'"):
        select_task_runner("threads")  # type: ignore[arg-type]


def test_a_bad_runner_name_in_the_environment_is_refused(monkeypatch):
    from pydantic import ValidationError

    from flows.runners import task_runner_from_env

    monkeypatch.setenv("NEWSMON_TASK_RUNNER", "ray")
    with pytest.raises(ValidationError, match="task_runner"):
        task_runner_from_env()


def test_with_task_runner_copies_the_flow_with_the_runner():
    from prefect_dask import DaskTaskRunner

    from flows.monitor import monitor
    from flows.runners import with_task_runner

    dasked = with_task_runner(monitor, "dask", "tcp://127.0.0.1:1")
    assert isinstance(dasked.task_runner, DaskTaskRunner)
    assert dasked.name == "monitor" and dasked.fn is monitor.fn
    assert not isinstance(monitor.task_runner, DaskTaskRunner)  # the original is untouched


@task
def _worker_pid(_: int) -> int:
    time.sleep(0.2)  # long enough for the scheduler to hand tasks to both workers
    return os.getpid()


@flow
def _spread() -> set[int]:
    return {future.result() for future in _worker_pid.map(range(8))}


@pytest.mark.slow
def test_dask_runner_runs_submitted_tasks_in_two_local_worker_processes(prefect_server):
    from flows.runners import with_task_runner

    pids = with_task_runner(_spread, "dask")()

    assert os.getpid() not in pids
    assert len(pids) == 2
