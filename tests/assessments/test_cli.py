"""``critmat assess`` through Typer: table, JSON, reports, and bad files (exit code 2)."""

from __future__ import annotations

import json

import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from critmat.commands import assess
from tests.assessments.conftest import SAMPLE

app = typer.Typer()
assess.register(app)


@app.callback()
def _root() -> None:
    """(a group, so that ``assess`` is a subcommand as in critmat)"""


def test_assess_json_and_reports(real_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    runner = CliRunner()
    html = tmp_path / "report.html"
    result = runner.invoke(
        app, ["assess", str(SAMPLE), "--year", "2023", "-f", "json", "-o", str(html)]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["year"] == 2023 and len(payload["lines"]) == 9
    assert "Priority actions" in html.read_text()
    xlsx = tmp_path / "report.xlsx"
    table = runner.invoke(app, ["assess", str(SAMPLE), "--year", "2023", "-o", str(xlsx)])
    assert table.exit_code == 0 and "above 65 %" in table.stdout
    assert "materials" in load_workbook(xlsx).sheetnames


def test_assess_bad_file(real_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "material,quantity,unit,supplier,supplier country\ncobalt,-1,t,A,FIN\ncobalt,1,t,A,ZZZ\n"
    )
    result = CliRunner().invoke(app, ["assess", str(bad)])
    assert result.exit_code == 2
    assert "row 2" in result.stderr and "row 3" in result.stderr
    assert CliRunner().invoke(app, ["assess", str(bad), "-o", "x.pdf"]).exit_code == 2
