"""``critmat material``: CRMA status in words, both HS revisions, bundle notes and production
series per stage, in the table, JSON and CSV output (the catalogue alone, no store needed)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from typer.testing import CliRunner

from critmat import cli_output
from critmat.cli import app


def _run(*args: str) -> str:
    # The console's width is fixed when cli_output is first imported (COLUMNS then), which
    # another test may have done: set it for this call so that table cells are not wrapped.
    width = cli_output.out.width
    cli_output.out.width = 250
    try:
        result = CliRunner().invoke(app, ["material", *args])
    finally:
        cli_output.out.width = width
    assert result.exit_code == 0, result.output
    return result.output


def _json(name: str) -> dict[str, Any]:
    document = json.loads(_run(name, "--format", "json"))
    assert isinstance(document, dict)
    return document


def test_gallium_table_shows_both_revisions_bundles_and_series() -> None:
    text = _run("gallium")
    assert "CRMA: critical, strategic" in text
    assert "811291" in text and "811292" in text
    assert "bundled: HS17 811292 also holds germanium, hafnium, indium, niobium" in text
    assert "USGS MCS 2026, 2024, 2023:" in text  # one group of editions
    assert "Gallium (refinery)" in text
    assert "none published" in text  # the by-product extraction stage


def test_gallium_json_stages() -> None:
    stages = {s["name"]: s for s in _json("Ga")["stages"]}
    processing = stages["processing"]
    assert processing["hs_codes"] == ["811291"] and processing["hs17_codes"] == ["811292"]
    assert [p["series"] for p in processing["production"]] == [
        "USGS MCS 2026",
        "USGS MCS 2024",
        "USGS MCS 2023",
        "WMD",
    ]
    assert processing["production"][0]["stage"] == "refinery"
    assert any(n.startswith("HS17 811292 also holds") for n in processing["bundle_notes"])
    assert stages["extraction"]["production"] == [] and stages["extraction"]["hs17_codes"] == []


def test_ree_shows_the_status_of_its_entries() -> None:
    document = _json("REE")
    assert document["id"] == "rare_earths"
    assert document["crma_status"].startswith("not itself listed")
    assert "(hree) critical" in document["crma_status"]
    assert "(ree_magnets) strategic" in document["crma_status"]
    assert "CRMA: not listed" not in _run("REE")


def test_hree_lree_critical_and_magnets_strategic() -> None:
    assert _json("HREE")["crma_status"] == "critical"
    assert _json("LREE")["crma_status"] == "critical"
    magnets = _json("rare earth elements for permanent magnets")
    assert magnets["crma_status"].startswith("strategic; critical as heavy rare earth elements")
    assert [s["name"] for s in magnets["stages"]] == [
        "extraction",
        "processing",
        "metals",
        "magnets",
    ]
    assert magnets["stages"][-1]["hs17_codes"] == ["850511"]


def test_csv_lists_each_code_with_its_revision() -> None:
    rows = list(csv.DictReader(io.StringIO(_run("magnesium", "--format", "csv"))))
    assert {"material", "stage", "revision", "hs6"} == set(rows[0])
    processing = {(r["revision"], r["hs6"]) for r in rows if r["stage"] == "processing"}
    assert processing == {
        ("HS92", "810411"),
        ("HS92", "810419"),
        ("HS17", "810411"),
        ("HS17", "810419"),
    }
