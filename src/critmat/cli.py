"""Command-line interface (Typer + Rich): the ``critmat`` app, assembled from critmat.commands.

The commands only parse, call the library and present (:mod:`critmat.cli_output`). Exit codes:
0 success, 2 bad input or missing data (message on stderr, no traceback).

Importing this module stays light: the command modules import pandas, DuckDB, the store, the
indicators, the platform and the web stack inside the command functions that need them, so
``critmat --version`` and ``critmat --help`` load none of them (tests/cli/test_cli_imports.py,
benchmarks/cli_start.py).
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from typing import Annotated

import typer

from critmat import __version__
from critmat.cli_output import out
from critmat.commands import (
    admin,
    assess,
    catalogue,
    criticality,
    data,
    geopolrisk,
    member_states,
    origins,
    report,
    statistics,
    stockpile,
    stress,
)

app = typer.Typer(
    help="critmat — critical raw material supply security: data, dependency indicators, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"critmat {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """critmat command line."""


def _add_commands(root: typer.Typer) -> None:
    """Every command and command group, in the order ``critmat --help`` lists them."""
    root.command("materials")(catalogue.materials)
    root.command("material")(catalogue.material)
    root.command("production")(statistics.production)
    root.command("dependency")(statistics.dependency)
    root.command("trend")(statistics.trend)
    root.command("reliance")(statistics.reliance)
    root.command("unit-values")(statistics.unit_values)
    root.command("origins")(origins.origins)
    root.command("restrictions")(catalogue.restrictions)
    root.command("report")(report.report)
    root.command("serve")(admin.serve)
    geopolrisk.register(root)
    criticality.register(root)
    assess.register(root)
    root.add_typer(data.data_app, name="data")
    root.add_typer(admin.users_app, name="users")
    root.add_typer(admin.orgs_app, name="orgs")
    root.add_typer(admin.db_app, name="db")
    stress.register(root)
    member_states.register(root)
    stockpile.register(root)


_add_commands(app)


def main() -> None:
    """Entry point of the ``critmat`` script."""
    app()
