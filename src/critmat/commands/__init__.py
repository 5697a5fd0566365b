"""CLI command groups per capability, registered on the main app in :mod:`critmat.cli`.

Each module exposes ``register(app: typer.Typer) -> None`` and presents through
:mod:`critmat.cli_output`.
"""
