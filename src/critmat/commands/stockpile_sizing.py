"""``critmat stockpile`` commands of stockpile sizing (docs/stockpile-sizing.md)."""

import typer


def register(group: typer.Typer) -> None:
    """Add the sizing commands to the ``critmat stockpile`` group."""
