"""``critmat report``: the offline HTML report on every CRM (:mod:`critmat.reports.html`).

Registered on the main app by :mod:`critmat.cli`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from pathlib import Path
from typing import Annotated

import typer

from critmat.cli_output import out, status, store_readonly, user_errors
from critmat.config import get_settings


def report(
    output: Annotated[Path | None, typer.Option(help="Where to write the HTML file.")] = None,
    year: Annotated[
        int | None, typer.Option(help="Focus year (default: latest with data).")
    ] = None,
) -> None:
    """Write the offline HTML report on every CRM and print its path."""
    from critmat.reports.html import build_report

    settings = get_settings()
    target = output or settings.reports_dir / "critmat-report.html"
    with user_errors(), store_readonly() as store:
        path = build_report(store, target, year=year, progress=status)
    out.print(str(path.resolve()))
