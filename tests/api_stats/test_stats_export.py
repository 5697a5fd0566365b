"""CSV and XLSX downloads of the statistics answers open, and formula-like cells are
neutralised (critmat.exports writes them)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from critmat.exports import neutralise, safe_filename, to_csv, to_xlsx
from critmat.services.statistics_models import table as answer_table
from tests.api_stats.conftest import Api


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("China", "China"),
        ("", ""),
        (-1.5, -1.5),
        (3, 3),
        (True, True),
        (None, None),
        (float("nan"), None),
        (["DEU", "=1"], "DEU;'=1"),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_csv_and_xlsx_of_a_hostile_table() -> None:
    rows_in = [{"name": "=cmd|' /C calc'!A0", "amount": -3.0}]
    table = answer_table(["name", "amount"], rows_in, "t")  # a statistics answer's download
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert rows == [["name", "amount"], ["'=cmd|' /C calc'!A0", "-3.0"]]
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert sheet is not None
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -3.0
    assert safe_filename('a/b"c;d', "csv") == "a-b-c-d.csv"


def test_dependency_csv_end_to_end(api: Api) -> None:
    response = api.get("/api/v1/dependency", material="cobalt", year=2023, format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    body = api.get("/api/v1/dependency", material="cobalt", year=2023).json()
    assert [r["country"] for r in rows] == [s["country"] for s in body["sources"]]
    assert float(rows[0]["quantity"]) == pytest.approx(body["sources"][0]["quantity"])


def test_production_xlsx_end_to_end(api: Api) -> None:
    response = api.get("/api/v1/materials/cobalt/production", year=2023, format="xlsx")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    assert response.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = list(sheet.values)
    header = list(values[0])
    assert header[:5] == ["material", "commodity", "year", "rank", "country"]
    assert values[1][header.index("country")] == "COD"
    for row in values[1:]:
        for cell in row:
            assert not (isinstance(cell, str) and cell[:1] in "=+-@")


def test_user_text_in_a_download_is_neutralised(api: Api) -> None:
    # A custom importer group echoes the user's text into the file; it must not be a formula.
    response = api.get(
        "/api/v1/dependency", hs="282200", year=2023, importer="-DEU,FRA", format="csv"
    )
    assert response.status_code == 200, response.text
    for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))):
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)
