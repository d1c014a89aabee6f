"""The one place newsmon reads its environment (`NEWSMON_*` variables).

Defaults are defined once, where they are used: fetching in `FetchSettings`, the warehouse's
wait in `warehouse.db`; the fields below only expose them as variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractors.fetch.http import FetchSettings
from warehouse.db import DEFAULT_STORAGE_VERSION, STORAGE_VERSION_PATTERN, WRITER_TIMEOUT_S

if TYPE_CHECKING:
    from extractors.content.article import ExtractionSettings

_FETCH = FetchSettings()  # the fetch defaults


RunnerKind = Literal["thread", "dask"]


class Settings(BaseSettings):
    """Runtime settings; every field can be set as `NEWSMON_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the warehouse and caches live")
    warehouse: Path | None = Field(
        default=None, description="DuckDB file; default <data_dir>/newsmon.duckdb"
    )
    watchlists: Path | None = Field(
        default=None, description="watchlists.toml evaluated after every load (optional)"
    )
    user_agent: str = _FETCH.user_agent
    # host=127.0.0.1:PORT pairs, comma separated: route hosts to a local server (demo, tests).
    # Trusted: a routed host connects there without the private-address check.
    resolve: str = ""
    # Prefect costs ~35 ms of CPU per task run in the flow process and as much in its API:
    # 100 pages per task keep that under 1 ms a page (bench/prefect_overhead.py: 8.5 % at 100,
    # 19.8 % at 50 pages per batch, quiet 2-core machine).
    batch_size: int = Field(default=100, ge=1, description="Pages per fetch/extract task")
    cluster_window_days: int = Field(default=7, ge=1)
    extraction_fast: bool = Field(
        default=False,
        description="never run trafilatura's fallback extractors (by default they run on pages "
        "where its fast pass finds under 100 words): a little faster, slightly lower F1",
    )
    writer_timeout_s: float = Field(
        default=WRITER_TIMEOUT_S, gt=0,
        description="How long a run waits for another writer to let go of the warehouse",
    )
    run_wait_s: float = Field(
        default=600.0, ge=0,
        description="How long a run waits for another run on the same warehouse to finish "
        "before it refuses to start (one run at a time per warehouse)",
    )
    storage_version: str = Field(
        default=DEFAULT_STORAGE_VERSION, pattern=STORAGE_VERSION_PATTERN,
        description="DuckDB storage format of NEW warehouse files: v1.5.0 (default) opens in "
        "DuckDB 1.5.x clients; 'latest' is DuckDB's newest format (docs/warehouse.md)",
    )
    min_delay_per_host_s: float = Field(
        default=_FETCH.min_delay_per_host_s, ge=0,
        description="Spacing between requests to one host (politeness)",
    )
    global_concurrency: int = Field(
        default=_FETCH.global_concurrency, ge=1,
        description="Requests in flight at once over all hosts",
    )
    task_runner: RunnerKind = Field(
        default="thread", description="Prefect task runner: thread, or dask (see docs/deploy.md)"
    )
    dask_address: str | None = Field(
        default=None, description="An existing Dask scheduler (tcp://host:8786); default: local"
    )
    fail_on_partial: bool = Field(
        default=False,
        description="A run in which some sources failed (or read only in part) fails like a "
        "run in which every source failed: Prefect state Failed, `newsmon run` exit code 1 "
        "instead of 3",
    )
    allow_private_hosts: bool = Field(
        default=False,
        description="Trusted: fetch hosts that are or resolve to private/loopback addresses "
        "(demo, tests, intranet monitoring); off, every hop's resolved addresses are checked",
    )

    connect_timeout_s: float = Field(default=_FETCH.connect_timeout_s, gt=0)
    read_timeout_s: float = Field(default=_FETCH.read_timeout_s, gt=0,
                                  description="Longest silence mid-body")
    total_timeout_s: float = Field(default=_FETCH.total_timeout_s, gt=0,
                                   description="One attempt, end to end")
    max_retries: int = Field(default=_FETCH.max_retries, ge=0,
                             description="Retries after the first attempt")

    def extraction_settings(self) -> ExtractionSettings:
        from extractors.content.article import (
            ExtractionSettings,  # imports trafilatura: only when used
        )

        return ExtractionSettings(fast=self.extraction_fast)

    def fetch_settings(self) -> FetchSettings:
        return FetchSettings(
            user_agent=self.user_agent,
            resolve=self.resolve_map,
            min_delay_per_host_s=self.min_delay_per_host_s,
            global_concurrency=self.global_concurrency,
            allow_private_hosts=self.allow_private_hosts,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            total_timeout_s=self.total_timeout_s,
            max_retries=self.max_retries,
        )

    @model_validator(mode="after")
    def _warehouse_inside_data_dir(self) -> Settings:
        """Paths from the environment stay inside the data directory (no `../` escapes)."""
        if self.warehouse is not None:
            inside = self.warehouse.resolve().is_relative_to(self.data_dir.resolve())
            if not inside:
                raise ValueError(
                    f"NEWSMON_WAREHOUSE={self.warehouse} is outside NEWSMON_DATA_DIR="
                    f"{self.data_dir}: move it inside, or unset NEWSMON_WAREHOUSE and pass "
                    "--db PATH"
                )
        return self

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse if self.warehouse is not None else self.data_dir / "newsmon.duckdb"

    @property
    def resolve_map(self) -> dict[str, str]:
        return parse_resolve(self.resolve)


def describe_settings_error(exc: ValidationError) -> str:
    """A settings ValidationError as one line naming the NEWSMON_* variables at fault."""
    problems = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            name = "NEWSMON_" + str(error["loc"][0]).upper()
            problems.append(f"{name}={error['input']!r}: {message}")
        else:  # a check across fields: its message names them
            problems.append(message)
    return "; ".join(problems)


def parse_resolve(spec: str) -> dict[str, str]:
    """Parse `host=ip:port,host2=ip:port` into a dict; blank entries are ignored."""
    out: dict[str, str] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, target = item.partition("=")
        if not sep or not host.strip() or not target.strip():
            raise ValueError(f"NEWSMON_RESOLVE entry {item!r} is not host=ip:port")
        out[host.strip().lower()] = target.strip()
    return out


def format_resolve(mapping: dict[str, str]) -> str:
    return ",".join(f"{host}={target}" for host, target in sorted(mapping.items()))


def get_settings() -> Settings:
    return Settings()
