"""How the CLI shows results: tables that fit the terminal, and the same rows as CSV/JSON/Parquet.

A table is laid out for a person: numbers right-aligned; id columns (`id`, `..._id`) last,
so that they are the first left out; a command's own tables (`TableColumn`) put the headline
first and show ids only with `--wide`. A table never squeezes a column below a readable
width: columns that do not fit are left out (and named on stderr, with `--wide` and
`--format` as the way to see them), and a cell that is too long is shortened at a word
boundary with an ellipsis. List values print as `a; b` in tables and CSV and stay arrays in
JSON and Parquet. CSV is RFC 4180 quoting with LF line ends (CR LF when asked).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.table import Column, Table

LIST_SEPARATOR = "; "
MIN_COLUMN = 12  # a shown column is at least this wide (or as wide as all its content)
ELLIPSIS = "…"
MAIN_COLUMNS = ("headline", "title")  # what a reader reads a row by


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def cell_text(value: object) -> str:
    """One value as text for a table or CSV cell: NULL is empty, a list is `a; b`."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut after a whole word where there is one."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:  # a word boundary not too far back; else cut inside the word
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def fit_widths(naturals: Sequence[int], available: int, main: int | None = None) -> list[int]:
    """Widths for the leading columns that fit in `available` characters of content.

    Every column gets its natural width when all fit. Otherwise each shown column gets at
    least min(natural, MIN_COLUMN) (the `main` column, a headline: its natural width, up to
    60 % of the room), trailing columns are left out until that fits, and the remaining space
    is shared out evenly (water-filling) up to each natural width.
    """
    widths = list(naturals)
    if sum(widths) <= available:
        return widths
    floors = [min(n, MIN_COLUMN) for n in naturals]
    if main is not None:  # the main column's floor: its whole text, up to 60 % of the width
        floors[main] = max(floors[main], min(naturals[main], available * 3 // 5))
    shown = len(floors)
    # Leaving columns out frees their 3 border/padding characters each.
    while shown > 1 and sum(floors[:shown]) + 3 * (shown - len(floors)) > available:
        shown -= 1
    room = available + 3 * (len(naturals) - shown)
    widths, floors = widths[:shown], floors[:shown]
    if main is not None and main < shown:  # the main column first, the others share the rest
        floors[main] = max(floors[main], min(widths[main], room - sum(floors) + floors[main]))

    def used(level: int) -> int:
        return sum(min(n, max(f, level)) for n, f in zip(widths, floors, strict=True))

    low, high = 0, max(widths)  # the highest level whose widths still fit: binary search
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if used(mid) <= room else (low, mid - 1)
    fitted = [min(n, max(f, low)) for n, f in zip(widths, floors, strict=True)]
    spare = room - sum(fitted)
    for i, natural in enumerate(widths):  # what the even share left over, left to right
        extra = min(spare, natural - fitted[i])
        fitted[i] += extra
        spare -= extra
    if sum(fitted) > room:  # a single column wider than the terminal
        fitted[0] = max(1, room)
    return fitted


def is_id_column(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def print_table(console: Console, columns: Sequence[str], rows: Sequence[Sequence[object]],
                wide: bool = False, title: str | None = None,
                err: Console | None = None, main: str | None = None) -> None:
    """Rows as a table that fits the console (or, `wide`, every column at full width).

    Unless `wide`, id columns go last (the first left out when space runs short) and the
    `main` column (default: a headline or title) gets its full width before the others
    share what is left.
    """
    order = list(range(len(columns)))
    if not wide:
        order.sort(key=lambda i: is_id_column(columns[i]))
        columns = [columns[i] for i in order]
        rows = [[row[i] for i in order] for row in rows]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows if r[i] is not None)
               and any(r[i] is not None for r in rows) for i in range(len(columns))]
    texts = [[_one_line(cell_text(v)) for v in row] for row in rows]
    naturals = [max([len(c), *(len(r[i]) for r in texts)]) for i, c in enumerate(columns)]
    border = 3 * len(columns) + 1
    main = main or next((c for c in MAIN_COLUMNS if c in columns), None)
    main_at = columns.index(main) if main in columns else None
    widths = naturals if wide else fit_widths(naturals, max(1, console.width - border), main_at)
    table = Table(*(Column(c, no_wrap=True, overflow="ellipsis", width=w,
                           justify="right" if number else "left")
                    for c, w, number in zip(columns, widths, numeric, strict=False)), title=title)
    for row in texts:
        table.add_row(*(shorten(cell, w) for cell, w in zip(row, widths, strict=False)))
    if wide:  # as wide as the table: lines run past the terminal (less -S shows them)
        console = Console(file=console.file, width=max(console.width, sum(widths) + border),
                          force_terminal=console.is_terminal, color_system=console.color_system)
    console.print(table)
    hidden = list(columns[len(widths):])
    if hidden and err is not None:
        err.print(
            f"{len(hidden)} more column{'s' if len(hidden) > 1 else ''} not shown "
            f"({', '.join(hidden)}): --wide shows every column, --format csv or json every "
            "value", soft_wrap=True, highlight=False, markup=False,
        )


@dataclass(frozen=True)
class TableColumn:
    """One column of a command's own table: the row key it shows, its heading, and whether
    it is an id that only `--wide` shows."""

    key: str
    heading: str
    wide_only: bool = False


def print_records(console: Console, records: Sequence[Mapping[str, object]],
                  layout: Sequence[TableColumn], wide: bool = False,
                  err: Console | None = None, title: str | None = None) -> None:
    """Records as a table in `layout`'s order (the first column is the main one: it gets
    its full width first); `wide` adds the wide-only columns, in place."""
    shown = [c for c in layout if wide or not c.wide_only]
    print_table(console, [c.heading for c in shown],
                [[record.get(c.key) for c in shown] for record in records],
                wide=wide, err=err, title=title, main=shown[0].heading if shown else None)


def write_result(columns: list[str], rows: list[tuple], fmt: OutputFormat, output: Path | None,
                 console: Console, err: Console, wide: bool = False, crlf: bool = False) -> None:
    """A query result to the terminal (table) or to stdout/`output` as CSV, JSON or Parquet."""
    if fmt is OutputFormat.parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert output is not None, "parquet needs a file"
        pq.write_table(pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows]),
                       str(output))
        return
    if fmt is OutputFormat.table and output is None:
        print_table(console, columns, rows, wide=wide, err=err)
        return
    buf = io.StringIO()
    if fmt is OutputFormat.csv:
        writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(columns)
        writer.writerows([cell_text(v) for v in row] for row in rows)
    elif fmt is OutputFormat.json:
        for row in rows:
            buf.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False,
                                 default=str) + "\n")
    else:  # a table written to a file: tab-separated, one line per row
        buf.write("\t".join(columns) + "\n")
        for row in rows:
            buf.write("\t".join(_one_line(cell_text(v)) for v in row) + "\n")
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:  # newline="": the line ends written are the ones chosen above, on any platform
        output.write_text(buf.getvalue(), encoding="utf-8", newline="")


def phrase_lines(phrases: Sequence[str], width: int, indent: str = "  ",
                 gap: str = "   ") -> list[str]:
    """Phrases ("pages fetched: 19") joined into lines of at most `width` characters, broken
    only between phrases (a phrase longer than a line gets a line of its own)."""
    lines: list[str] = []
    for phrase in phrases:
        if lines and len(lines[-1]) + len(gap) + len(phrase) <= width:
            lines[-1] += gap + phrase
        else:
            lines.append(indent + phrase)
    return lines

