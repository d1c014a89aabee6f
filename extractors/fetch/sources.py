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

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from extractors.config import named_tables, read_toml, table_label, validate_file
from extractors.fetch.errors import SourcesConfigError
from extractors.fetch.urls import canonicalize
from extractors.models import Source

READ_FIELDS = ("feeds", "sitemaps", "urls")


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
    data = read_toml(path, SourcesConfigError)
    tables = validate_file(path, data, _FileModel, "one or more [[source]] tables and nothing "
                           "else", SourcesConfigError).source
    models = named_tables(path, tables, _SourceModel, "source", SourcesConfigError)
    _check_reading(path, models)
    return [
        Source(
            name=model.name,
            feeds=tuple(model.feeds),
            sitemaps=tuple(model.sitemaps),
            urls=tuple(model.urls),
            language=model.language,
            country=model.country,
            requests_per_second=model.requests_per_second,
        )
        for model in models
    ]


def _check_reading(path: Path, models: list[_SourceModel]) -> None:
    """Every source has something to read, and no feed, sitemap or URL is listed twice (in
    one source or two: the same canonical URL, e.g. differing only in a utm_ parameter)."""
    listed: dict[str, tuple[int, str, int]] = {}  # canonical URL -> (source #, field, item)
    for index, model in enumerate(models, start=1):
        label = table_label("source", index, model.name)
        if not (model.feeds or model.sitemaps or model.urls):
            raise SourcesConfigError(
                f"{path}: {label}: fields 'feeds', 'sitemaps' and 'urls' are all empty: nothing "
                "to read (give at least one feed, sitemap or article URL)")
        for field in READ_FIELDS:
            for item, url in enumerate(getattr(model, field)):
                before = listed.setdefault(canonicalize(url), (index, field, item))
                if before == (index, field, item):
                    continue
                where = ("" if before[0] == index
                         else f" of {table_label('source', before[0], models[before[0] - 1].name)}")
                raise SourcesConfigError(
                    f"{path}: {label}: field {field!r}: item {item} ({url!r}) is listed twice: "
                    f"also item {before[2]} of field {before[1]!r}{where}")
