"""``critmat stockpile``: strategic stockpiles — the holdings ledger, stock targets sized from
stress tests, and release allocation in a crisis (docs/stockpiles.md).

Register with ``from critmat.commands import stockpile; stockpile.register(app)``. The ledger
commands live here; sizing (:mod:`critmat.commands.stockpile_sizing`) and release allocation
(:mod:`critmat.commands.stockpile_release`) add theirs to the same group.
"""

import typer

from critmat.commands import stockpile_release, stockpile_sizing

stockpile_app = typer.Typer(
    help="Strategic stockpiles: holdings, stock targets, release in a crisis.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    """Add the ``critmat stockpile`` group and its commands to ``root``."""
    stockpile_sizing.register(stockpile_app)
    stockpile_release.register(stockpile_app)
    root.add_typer(stockpile_app, name="stockpile")
