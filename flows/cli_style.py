"""How every `newsmon` command reads: help text, metavars, examples and exit codes.

One mechanism for all commands, so that a command added later reads like the others without
doing anything: `NewsmonTyper.command()` builds every command with `NewsmonCommand`, which

- shows a value's metavar (`PATH`, `DATE`, `N`, `URL`, `[table|csv|json]`) and nothing for a
  flag, where typer would print `<bool>`, `<path>` or `<list[str]>`;
- names arguments the click way: `QUERY`, `[FOLDER]`, `INPUT...` (not `{inputs}...`);
- shows help text as written: `[url, source, ...]` is not taken for rich markup.

Options many commands share are defined here once (`DbOption`, `WideOption`, ...), and
`usage_notes()` writes the examples and exit status that end each command's help. A new
command follows the same pattern:

    @app.command(epilog=usage_notes([("newsmon thing --db data/x.duckdb", "what it does")],
                                     codes=(EXIT_OK, EXIT_USAGE)))
    def thing(db: DbOption = None, n: Annotated[int, typer.Option("--n", metavar="N")] = 5):

A new exit code goes into EXIT_CODES (so that `newsmon --help` lists it) and into the `codes`
of the commands that can end with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

# --- exit codes (README "Exit status"; `newsmon --help`) ----------------------------------

EXIT_OK = 0
EXIT_SOME_FAILED = 1  # some inputs failed; each is named on stderr
EXIT_USAGE = 2  # a bad option, argument, file or setting: nothing was done
EXIT_SOURCES_FAILED = 3  # a run completed, but some sources failed or were read in part
EXIT_RUN_IN_PROGRESS = 75  # EX_TEMPFAIL: another run holds the warehouse; try again later

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_SOME_FAILED: "some inputs failed (each named on stderr; the others were done); run, "
                      "demo: every source failed",
    EXIT_USAGE: "usage error: a bad option, argument, file or setting; nothing was done",
    EXIT_SOURCES_FAILED: "(run, demo) the run completed, but some sources failed or were read in "
                         "part (each is named)",
    EXIT_RUN_IN_PROGRESS: "(run, demo) another run holds the warehouse; try again later",
}


ExitCode = int | tuple[int, str]  # a code of EXIT_CODES, or a code with its own meaning

# What 1 means for a run: not "some inputs", but nothing of any source (extractors/fetch/health.py)
EXIT_RUN_FAILED: ExitCode = (EXIT_SOME_FAILED, "every source failed (or some did, with "
                             "NEWSMON_FAIL_ON_PARTIAL=true); each is named")
RUN_CODES: tuple[ExitCode, ...] = (EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, EXIT_SOURCES_FAILED,
                                   EXIT_RUN_IN_PROGRESS)


def exit_status(codes: Sequence[ExitCode] = (EXIT_OK, EXIT_USAGE)) -> str:
    """The exit codes a command can end with, one a line."""
    said = [c if isinstance(c, tuple) else (c, EXIT_CODES[c]) for c in codes]
    return "Exit status:\n" + "\n".join(f"  {code:<3} {meaning}" for code, meaning in said)


def usage_notes(examples: Sequence[tuple[str, str]] = (),
                codes: Sequence[ExitCode] = (EXIT_OK, EXIT_USAGE)) -> str:
    """The end of a command's help: examples (command, what it does), then the exit status."""
    parts = []
    if examples:
        lines = [line for command, what in examples
                 for line in ([f"  # {what}"] if what else []) + [f"  {command}"]]
        parts.append("Examples:\n" + "\n".join(lines))
    parts.append(exit_status(codes))
    return "\n\n".join(parts)


# --- metavars -----------------------------------------------------------------------------

_METAVAR_OF_TYPE = {Path: "PATH", int: "N", float: "NUMBER", str: "TEXT"}


def _default_metavar(param: TyperOption | TyperArgument) -> str:
    """A metavar for a parameter that names none: by its type, or its choices."""
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in descriptor.choices or ()) + "]"
    annotation = descriptor.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "[" + "|".join(str(m.value) for m in annotation) + "]"
    if descriptor.is_path:
        return "PATH"
    return _METAVAR_OF_TYPE.get(annotation, "VALUE") if isinstance(annotation, type) else "VALUE"


class _Option(TyperOption):
    """An option that shows its metavar, and nothing for a flag."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or _default_metavar(self)


class _Argument(TyperArgument):
    """An argument named by its metavar (default: its name in capitals), without a type."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "arg").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self._rich_display_name()
        return name if self.required else f"[{name}]"


def _restyle(params: list) -> list:
    """Give typer's parameters the display above (same objects; only display methods differ)."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
            param.help = escape(param.help) if param.help else param.help
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
            param.help = escape(param.help) if param.help else param.help
    return params


class _Styled:
    """Shared by commands and the group: escaped help text, restyled parameters."""

    def _escape_texts(self) -> None:
        for name in ("help", "epilog", "short_help"):
            text = getattr(self, name, None)
            if text:
                setattr(self, name, escape(text))

    def get_params(self, ctx: Any) -> list:
        return _restyle(super().get_params(ctx))  # type: ignore[misc]


class NewsmonCommand(_Styled, TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._escape_texts()


class NewsmonGroup(_Styled, TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._escape_texts()


class NewsmonTyper(typer.Typer):
    """A Typer app whose commands are all `NewsmonCommand`s (unless one asks otherwise)."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any):
        return super().command(*args, cls=cls or NewsmonCommand, **kwargs)


# --- options several commands share -------------------------------------------------------

DbOption = Annotated[
    Path | None, typer.Option("--db", metavar="PATH", help="DuckDB warehouse (default: "
                              "$NEWSMON_WAREHOUSE or data/newsmon.duckdb)")
]
WatchlistsOption = Annotated[Path | None, typer.Option(
    "--watchlists", metavar="FILE", help="Watchlist rules (default: $NEWSMON_WATCHLISTS)")]
WideOption = Annotated[bool, typer.Option(
    "--wide", help="Tables: every column (ids too) at full width, wider than the terminal if "
    "need be")]


def out_option(help: str, flag: str = "--out", metavar: str = "FILE") -> Any:
    """An output file option: `--out FILE`."""
    return typer.Option(flag, metavar=metavar, help=help)
