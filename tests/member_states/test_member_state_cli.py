"""``critmat member-state`` and ``critmat member-states`` on the real default data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from critmat.cli import app

runner = CliRunner()


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"CRITMAT_DATA_DIR": str(data_dir)})
    return result.exit_code, result.stdout, result.stderr


def test_json_names_release_stage_and_no_data(real_data_dir: Path) -> None:
    code, out, _ = run(real_data_dir, "member-state", "DEU", "--material", "cobalt", "-f", "json")
    assert code == 0
    answer = json.loads(out)
    by_stage = {d["stage"]: d for d in answer["dependencies"]}
    assert by_stage["processing"]["series"] == "HS17"
    assert by_stage["processing"]["release_id"] is not None
    assert by_stage["processing"]["exceeds_65"] is False
    assert by_stage["extraction"]["total"] is None and by_stage["extraction"]["exceeds_65"] is None


def test_the_27_as_csv(real_data_dir: Path) -> None:
    code, out, _ = run(
        real_data_dir, "member-states", "cobalt", "--stage", "processing", "-f", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 27 and {r["series"] for r in rows} == {"HS17"}


def test_table_says_no_data_never_no(real_data_dir: Path) -> None:
    code, out, _ = run(real_data_dir, "member-state", "DEU", "--material", "cobalt")
    assert code == 0
    assert "no data" in out and "year by year" in out


def test_bad_countries_are_refused_with_what_to_type(real_data_dir: Path) -> None:
    code, _, err = run(real_data_dir, "member-state", "GER")
    assert code == 2 and "did you mean: DEU" in err
    code, _, err = run(real_data_dir, "member-state", "CHE")
    assert code == 2 and "not an EU Member State" in err and "--importer CHE" in err
