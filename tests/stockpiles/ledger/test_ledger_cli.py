"""``critmat stockpile`` on a fresh local platform database (SQLite): the worked example of
docs/stockpiles.md, the idempotent retry, a refused release (exit 2, message and hint), CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from critmat.cli import app

runner = CliRunner()


@pytest.fixture
def cli(tmp_path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CRITMAT_DATABASE_URL", raising=False)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    run("db", "upgrade")
    run("orgs", "add", "Agency DE", "--kind", "agency", "--country", "DEU")
    return run


def test_worked_example_books_once_refuses_overdraw_and_exports(cli) -> None:  # type: ignore[no-untyped-def]
    assert "holder 1" in cli(
        "stockpile",
        "holders",
        "add",
        "DE stock",
        "--level",
        "member_state",
        "--org",
        "1",
        "--country",
        "DEU",
    )
    lot = (
        "stockpile",
        "lots",
        "add",
        "--holder",
        "1",
        "--material",
        "Ga",
        "--form",
        "metal",
        "--location",
        "Hamburg",
        "--acquired",
        "2026-01-05",
        "--quantity",
        "40",
        "--key",
        "ga-1",
    )
    assert "balance lot 1 40.000 t" in cli(*lot)
    assert "already booked under this key" in cli(*lot)
    refused = cli(
        "stockpile", "book", "release", "--lot", "1", "--quantity", "55", "--key", "r1", code=2
    )
    assert "lot 1 holds 40.0 t; a release of 55.0 t was refused" in refused
    assert "hint" in refused
    cli("stockpile", "book", "write-off", "--lot", "1", "--quantity", "2.5", "--key", "w1")
    cli("stockpile", "targets", "set", "gallium", "DEU", "60", "--source", "60 days")
    rows = list(csv.DictReader(io.StringIO(cli("stockpile", "positions", "-f", "csv"))))
    assert [(r["importer"], r["stock_t"], r["target_t"], r["gap_t"]) for r in rows] == [
        ("DEU", "37.5", "60.0", "-22.5")
    ]
    journal = json.loads(cli("stockpile", "journal", "-f", "json"))
    assert [(e["kind"], e["quantity_t"]) for e in journal] == [
        ("write-off", -2.5),
        ("purchase", 40.0),
    ]
    assert "unknown material" in cli("stockpile", "lots", "list", "--material", "galium", code=2)
