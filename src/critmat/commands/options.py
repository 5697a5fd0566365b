"""The command-line options and arguments that several commands share, declared once.

Each is an ``Annotated`` type for a Typer parameter: the name, the short flag and the help text
``--help`` shows. A command whose option reads differently (another help text, another default)
declares its own. Importing this module is cheap (Typer and the standard library only), as
``critmat --help`` needs (:mod:`critmat.commands`).
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from enum import StrEnum
from typing import Annotated, Any

import typer

from critmat.cli_output import Format


class BasisOption(StrEnum):
    """What trade is measured in: ``mass`` (tonnes) or ``value`` (thousand USD)."""

    mass = "mass"
    value = "value"


#: ``--format/-f``: table (the default of every command), json or csv.
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]

#: The optional material of the trade statistics (``[MATERIAL]``; ``--hs`` instead).
MaterialArg = Annotated[
    str | None, typer.Argument(metavar="[MATERIAL]", help="Material name or alias.")
]
#: The importer of the trade statistics: EU27, a group, a country or several.
ImporterOpt = Annotated[
    str,
    typer.Option(help="EU27, a group (G7, EEA...), a country, or countries joined by commas."),
]
StageOpt = Annotated[str | None, typer.Option(help="Value-chain stage, e.g. processing.")]
HsOpt = Annotated[str | None, typer.Option("--hs", help="One HS6 code instead of a material.")]
#: ``--year/-y`` of a one-year trade answer (None: the latest year with trade data).
TradeYearOpt = Annotated[
    int | None, typer.Option("--year", "-y", help="Year (default: the latest with trade data).")
]
FromOpt = Annotated[int | None, typer.Option("--from", help="First year (default: first).")]
ToOpt = Annotated[int | None, typer.Option("--to", help="Last year (default: last).")]


def output_option(help: str) -> Any:
    """``--output/-o FILE``, with ``help`` saying what the command writes to the file; for
    ``Annotated[Path | None, output_option(...)] = None``."""
    return typer.Option("--output", "-o", help=help)
