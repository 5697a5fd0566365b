"""Terminal presentation shared by the CLI commands: formats, tables, JSON/CSV, errors.

Only presentation lives here; the commands call the library and hand results to these.
Importing this module is cheap (no pandas, DuckDB or store): the heavy libraries load inside
the helpers that need them, when a command runs.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console, Group

from critmat.config import get_settings
from critmat.errors import CritmatError

if TYPE_CHECKING:
    # For annotations only: pandas, the store (DuckDB) and Rich's tables load inside the
    # functions that use them, so that ``import critmat.cli`` stays light
    # (tests/cli/test_cli_imports.py).
    import pandas as pd

    from critmat.store import Store

# Tables are for reading: when stdout is not a terminal, print at a width a pager or a log
# shows well rather than Rich's 80-column default.
WIDTH = shutil.get_terminal_size(fallback=(140, 40)).columns
out = Console(width=max(WIDTH, 100))
err = Console(stderr=True, width=max(WIDTH, 100), soft_wrap=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


# -- presentation helpers -------------------------------------------------------------------------
def json_tree(value: Any) -> Any:
    """``value`` (mappings and lists of anything) with every leaf as JSON holds it, by the one
    rule :func:`critmat.exports.json_value` (NaN, infinity and pandas' missing values: null)."""
    from critmat.exports import json_value

    if isinstance(value, dict):
        return {str(k): json_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_tree(v) for v in value]
    return json_value(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as mappings of JSON values (:func:`json_tree`)."""
    rows: list[dict[str, Any]] = json_tree(frame.to_dict(orient="records"))
    return rows


def print_json(payload: Any) -> None:
    """``payload`` as indented JSON on stdout (leaves by :func:`json_tree`)."""
    text = json.dumps(json_tree(payload), ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write(text + "\n")


def print_csv(rows: Sequence[dict[str, Any]]) -> None:
    """Rows as CSV on stdout, neutralised like every download (the output often lands in a
    spreadsheet); missing and non-finite values are empty fields."""
    from critmat import exports

    if not rows:
        return
    sys.stdout.write(exports.csv_text(exports.Table.from_records(rows), line_end="\n"))


def fmt_number(value: Any, kind: str = "") -> str:
    value = json_tree(value)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "text":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "share" and isinstance(value, int | float):
        return f"{value:.1%}"
    if kind == "hhi" and isinstance(value, int | float):
        return f"{value:.3f}"
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(
    title: str,
    columns: Sequence[tuple[str, str, str]],
    rows: Sequence[dict[str, Any]],
    caption: str | None = None,
) -> Group:
    """A Rich table; ``columns`` are (key, header, kind) with kind '', 'text', 'share' or 'hhi'.

    The caption (totals, source, notes) goes below the table at full width.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for _key, header, kind in columns:
        table.add_column(header, justify="left" if kind == "text" else "right")
    for row in rows:
        table.add_row(*(fmt_number(row.get(key), kind) for key, _h, kind in columns))
    heading = Text(title, style="bold")
    if not caption:
        return Group(heading, table)
    return Group(heading, table, Text(caption, style="dim"))


def fail(exc: CritmatError) -> NoReturn:
    err.print(f"[bold red]error:[/] {exc}", highlight=False)
    if exc.hint:
        err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except CritmatError as exc:
        fail(exc)


def status(message: str) -> None:
    err.print(f"[dim]·[/] {message}", highlight=False)


def store_readonly() -> Store:
    from critmat.store import open_store

    return open_store(get_settings().store_path, read_only=True)


def emit_rows(
    rows: list[dict[str, Any]],
    fmt: Format,
    title: str,
    columns: Sequence[tuple[str, str, str]],
    caption: str | None = None,
) -> None:
    if fmt is Format.json:
        print_json(rows)
    elif fmt is Format.csv:
        print_csv(rows)
    else:
        out.print(table(title, columns, rows, caption))


def emit_document(fmt: Format, document: Any, csv_rows: Sequence[dict[str, Any]]) -> bool:
    """Print ``document`` for ``--format json`` or ``csv_rows`` for ``csv`` and say so (True);
    False for a table, which the command prints itself."""
    if fmt is Format.json:
        print_json(document)
        return True
    if fmt is Format.csv:
        print_csv(csv_rows)
        return True
    return False


def iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def parse_day(text: str | None, option: str = "--on") -> date | None:
    """A day given as YYYY-MM-DD on the command line (None when not given); a clear error
    naming the option otherwise."""
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CritmatError(
            f"{option} '{text}' is not a date", hint=f"e.g. {option} 2025-06-30"
        ) from None
