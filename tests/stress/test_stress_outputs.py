"""Stress-test output built once (critmat.services.stress_output): the CLI's JSON is the
service's document, and text a user controls (a scenario title, a sector-split file) that
begins with a formula character leaves every CSV and XLSX as inert text."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from critmat import exports
from critmat.errors import InputFileError
from critmat.reference.sectors import load_sector_splits
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import run
from critmat.scenarios.spec import LIBRARY, load_scenario
from critmat.services import stress, stress_output

HOSTILE = '=HYPERLINK("http://evil.example/","click")'
FORMULA_START = ("=", "+", "-", "@")


def _cli() -> typer.Typer:
    from critmat.commands import stress as stress_command

    app = typer.Typer()
    stress_command.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stress" stays a sub-command
        """Placeholder."""

    return app


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _alike(got: object, want: object) -> bool:
    """Equal, floats to 1e-12 relative: the baseline's sums over DuckDB may differ in the last
    digits between two reads of the same data (apparent consumption, 1 ulp)."""
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(_alike(got[k], want[k]) for k in got)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(_alike(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(got, float) and isinstance(want, float | int):
        return got == pytest.approx(want, rel=1e-12, abs=1e-12)
    return got == want


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _definition(name: str) -> dict[str, object]:
    raw = stress.library_raw(name)
    assert raw["name"] == name
    return raw


def test_a_formula_like_scenario_name_is_refused() -> None:
    definition = _definition("germanium-2023")
    with pytest.raises(InputFileError) as caught:
        stress.prepare(None, {**definition, "name": "=cmd"})
    assert caught.value.field == "name"


def test_cli_library_csv_neutralises_a_formula_like_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "library"
    shutil.copytree(LIBRARY, copy)
    file = copy / "germanium-2023.yaml"
    lines = file.read_text(encoding="utf-8").splitlines()
    lines = [f"title: '{HOSTILE}'" if line.startswith("title:") else line for line in lines]
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(stress, "LIBRARY", copy)

    listed = CliRunner().invoke(_cli(), ["stress", "list", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    rows = _csv(listed.stdout)
    header, body = rows[0], rows[1:]
    germanium = dict(zip(header, next(r for r in body if r[0] == "germanium-2023"), strict=True))
    assert germanium["title"] == "'" + HOSTILE
    assert not any(f.startswith(FORMULA_START) for r in body for f in r if not _is_number(f))
    # JSON is for programs: the title as written
    as_json = CliRunner().invoke(_cli(), ["stress", "list", "--format", "json"])
    assert (
        next(e for e in json.loads(as_json.stdout) if e["name"] == "germanium-2023")["title"]
        == HOSTILE
    )


def test_sector_table_export_neutralises_formula_like_applications(
    real_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    splits_file = tmp_path / "splits.csv"
    splits_file.write_text(
        "material,application,sector,share,estimate,source,notes\n"
        f'rare_earths,"{HOSTILE.replace(chr(34), chr(34) * 2)}",@sector,0.5,true,+src,\n'
        "rare_earths,magnets,-electronics,0.5,false,a survey,\n",
        encoding="utf-8",
    )
    scenario = load_scenario("rare-earths-2025-04")
    result = run(scenario, build_baseline(real_con, scenario))
    table = stress_output.sectors_table(result, load_sector_splits(splits_file), "splits.csv")
    assert table.rows and {r["application"] for r in table.rows} == {HOSTILE, "magnets"}
    assert table.source.endswith("; sector splits: splits.csv")

    rows = _csv(exports.csv_text(table.export()))
    assert rows[0][:3] == ["importer", "application", "sector"]
    text_cells = [f for r in rows[1:] for f in r if not _is_number(f)]
    assert (
        "'" + HOSTILE in text_cells and "'@sector" in text_cells and "'-electronics" in text_cells
    )
    assert not any(f.startswith(FORMULA_START) for f in text_cells)
    book = load_workbook(io.BytesIO(exports.encode(table.export(), "xlsx")))
    cells = [c for row in book["data"].iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert "'" + HOSTILE in {c.value for c in cells}


def test_cli_run_json_is_the_service_document(
    real_data_dir: Path, real_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    ran = CliRunner().invoke(_cli(), ["stress", "run", "graphite-2023", "--format", "json"])
    assert ran.exit_code == 0, ran.output
    printed = json.loads(ran.stdout)
    prepared = stress.load("graphite-2023")
    found = build_baseline(real_con, prepared.scenario)
    document = json.loads(stress_output.run_document(stress.run(prepared, found)).model_dump_json())
    assert list(printed) == [
        "scenario",
        "title",
        "material",
        "stage",
        "hs_codes",
        "baseline_years",
        "registry_ids",
        "params",
        "shocked_world_output_share",
        "notes",
        "summary",
        "monthly",
        "sectors",
    ]
    assert _alike(printed, {key: document[key] for key in printed})
    assert document["importers"][0] == "EU27" and len(document["months"]) == 24


def test_cli_montecarlo_json_is_the_service_document(
    real_data_dir: Path, real_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    argv = ["stress", "montecarlo", "cobalt-drc-2025", "--runs", "40", "--seed", "3"]
    ran = CliRunner().invoke(_cli(), [*argv, "--workers", "1", "--format", "json"])
    assert ran.exit_code == 0, ran.output
    printed = json.loads(ran.stdout)
    # the document carries its run time (a figure, not checked: time belongs in benchmarks/)
    assert printed["backend"] == "in-process" and isinstance(printed["seconds"], int | float)
    prepared = stress.load("cobalt-drc-2025")
    found = build_baseline(real_con, prepared.scenario)
    result = stress.montecarlo(prepared, found, 40, 3)
    document = json.loads(stress_output.montecarlo_document(result).model_dump_json())
    shared = {key: value for key, value in printed.items() if key not in {"backend", "seconds"}}
    assert _alike(shared, {key: document[key] for key in shared})
    assert len(printed["bands"]) == 28 * len(document["months"])
