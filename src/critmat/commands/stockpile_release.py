"""``critmat stockpile`` commands of stockpile release (docs/stockpile-release.md)."""

import typer


def register(group: typer.Typer) -> None:
    """Add the release commands to the ``critmat stockpile`` group."""
