"""Read and validate sources.toml into `Source` records.

A typo in the config should stop a run before any request is made, with a message that says
which file, which source and which field are wrong; unknown keys are errors for that reason.

    [[source]]
    name = "outlet-a"
    feeds = ["https://outlet-a.test/rss.xml"]
    sitemaps = ["https://outlet-a.test/news-sitemap.xml"]
    urls = []
    language = "en"
    country = "GB"
    requests_per_second = 2.0
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from extractors.fetch.errors import SourcesConfigError
from extractors.models import Source


class _SourceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1)
    feeds: list[str] = []
    sitemaps: list[str] = []
    urls: list[str] = []
    language: str | None = Field(default=None, min_length=2, max_length=16)
    country: str | None = Field(default=None, min_length=2, max_length=3)
    requests_per_second: float | None = Field(default=None, gt=0)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("feeds", "sitemaps", "urls")
    @classmethod
    def _http_urls(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            parts = urlsplit(value.strip())
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ValueError(f"item {i} is not an absolute http(s) URL: {value!r}")
            if "@" in parts.netloc:  # the message must not repeat the password
                raise ValueError(f"item {i} carries a user name or password in the URL "
                                 f"(host {parts.hostname}): newsmon does not send credentials")
        return [v.strip() for v in values]


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: list[dict] = Field(min_length=1)


def load_sources(path: str | Path) -> list[Source]:
    """Parse `path`; raise SourcesConfigError naming file, source and field on any problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourcesConfigError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourcesConfigError(f"{path}: not valid TOML: {exc}") from exc

    try:
        tables = _FileModel.model_validate(data).source
    except ValidationError as exc:
        raise SourcesConfigError(
            f"{path}: expected one or more [[source]] tables and nothing else: "
            + "; ".join(_describe(err) for err in exc.errors())
        ) from exc

    sources: list[Source] = []
    first_index: dict[str, int] = {}
    for index, table in enumerate(tables, start=1):
        label = f"source #{index}"
        if isinstance(table.get("name"), str) and table["name"].strip():
            label = f"source {table['name'].strip()!r} (#{index})"
        try:
            model = _SourceModel.model_validate(table)
        except ValidationError as exc:
            raise SourcesConfigError(
                f"{path}: {label}: " + "; ".join(_describe(err) for err in exc.errors())
            ) from exc
        if model.name in first_index:
            raise SourcesConfigError(
                f"{path}: {label}: field 'name': duplicate of source #{first_index[model.name]}"
            )
        first_index[model.name] = index
        sources.append(
            Source(
                name=model.name,
                feeds=tuple(model.feeds),
                sitemaps=tuple(model.sitemaps),
                urls=tuple(model.urls),
                language=model.language,
                country=model.country,
                requests_per_second=model.requests_per_second,
            )
        )
    return sources


def _describe(error: dict) -> str:
    """One pydantic error as "field 'x': message" (unknown keys say so plainly)."""
    field = ".".join(str(part) for part in error["loc"]) or "(table)"
    if error["type"] == "extra_forbidden":
        return f"field {field!r}: unknown key"
    message = error["msg"].removeprefix("Value error, ")
    return f"field {field!r}: {message}"
