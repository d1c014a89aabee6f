"""The one TOML loader for newsmon's config files (sources.toml, watchlists.toml).

A typo in a config file should stop a run before any request is made, with a message naming
the file, the table (by its `name` when it has one) and the field; unknown keys are errors.
Each file defines its tables as pydantic models; this module reads and checks them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, error: type[Exception]) -> dict:
    """The parsed file; `error` names the file and says why it cannot be used."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc


def validate_file(path: Path, data: dict, model: type[M], shape: str,
                  error: type[Exception]) -> M:
    """The whole file against `model`; `shape` says what the file should hold."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"{path}: expected {shape}: {describe_all(exc)}") from exc


def named_tables(path: Path, tables: list[dict], model: type[M], kind: str,
                 error: type[Exception]) -> list[M]:
    """Each `[[kind]]` table validated, named in errors as "kind 'name' (#n)" (or "kind #n"),
    with no two of the same name."""
    out: list[M] = []
    first_index: dict[str, int] = {}
    for index, table in enumerate(tables, start=1):
        label = table_label(kind, index, table.get("name"))
        try:
            item = model.model_validate(table)
        except ValidationError as exc:
            raise error(f"{path}: {label}: {describe_all(exc)}") from exc
        name = getattr(item, "name", None)
        if name in first_index:
            raise error(f"{path}: {label}: field 'name': duplicate of {kind} #{first_index[name]}")
        first_index[name] = index
        out.append(item)
    return out


def table_label(kind: str, index: int, name: object) -> str:
    """How errors name the `index`th `[[kind]]` table: "source 'Outlet A' (#2)" or "source #2"."""
    if isinstance(name, str) and name.strip():
        return f"{kind} {name.strip()!r} (#{index})"
    return f"{kind} #{index}"


def describe(error: dict) -> str:
    """One pydantic error as "field 'x': message" (unknown keys say so plainly)."""
    field = ".".join(str(part) for part in error["loc"]) or "(table)"
    if error["type"] == "extra_forbidden":
        return f"field {field!r}: unknown key"
    return f"field {field!r}: {error['msg'].removeprefix('Value error, ')}"


def describe_all(exc: ValidationError) -> str:
    return "; ".join(describe(err) for err in exc.errors())
