"""Reading supply files: header spellings, units, encodings, and every bad-file case with
row-precise errors."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from critmat.risk import _company_input as ci
from critmat.risk.company import SupplyFileError, read_supply_bytes, read_supply_file

SAMPLE = Path(__file__).parents[1] / "data" / "company_supply_sample.csv"


def problems(data: bytes, name: str = "lines.csv") -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(SupplyFileError) as caught:
        read_supply_bytes(name, data)
    return [(e.row, e.column, e.reason) for e in caught.value.errors]


def test_sample_reads():
    supply = read_supply_file(SAMPLE)
    assert supply.encoding == "UTF-8" and len(supply.lines) == 9
    magnets = next(line for line in supply.lines if line.hs_code == "850511")
    assert magnets.quantity_t == pytest.approx(180.0)  # 180 000 kg
    assert magnets.material_id == "rare_earths" and magnets.stage == "magnets"
    first = supply.lines[0]
    assert (first.row, first.supplier_country, first.share, first.tier) == (2, "BEL", 0.6, 1)
    assert len(supply.sha256) == 64


@pytest.mark.parametrize(
    ("header", "unit_col"),
    [
        ("material name;HS;qty;unit;vendor;country of supplier", True),
        ("Material;HS code;Quantity (kg);Supplier name;Supplier country", False),
        ("raw material,hs6,Annual quantity,UoM,Supplier,Supplier Country", True),
    ],
)
def test_header_spellings(header, unit_col):
    sep = ";" if ";" in header else ","
    row = (
        ["cobalt oxide", "282200", "1500", "kg", "X", "DE"]
        if unit_col
        else [
            "cobalt oxide",
            "282200",
            "1500",
            "X",
            "DE",
        ]
    )
    supply = read_supply_bytes("h.csv", (header + "\n" + sep.join(row) + "\n").encode())
    assert supply.lines[0].quantity_t == pytest.approx(1.5)
    assert supply.lines[0].supplier_country == "DEU"


@pytest.mark.parametrize(
    ("unit", "tonnes"),
    [
        ("t", 2.0),
        ("kg", 0.002),
        ("lb", 2 * 0.45359237e-3),
        ("Mt", 2e6),
        ("kt", 2e3),
        ("tonnes", 2.0),
        ("short ton", 2 * 0.90718474),
    ],
)
def test_units(unit, tonnes):
    data = f"material,quantity,unit,supplier,supplier country\ncobalt,2,{unit},S,FIN\n".encode()
    assert read_supply_bytes("u.csv", data).lines[0].quantity_t == pytest.approx(tonnes)


def test_all_row_errors_at_once():
    data = (
        b"Material,Quantity,Unit,Supplier,Supplier country\n"
        b"cobalt,-5,t,A,FIN\n"  # row 2: negative
        b"cobalt,abc,t,A,FIN\n"  # row 3: not a number
        b"cobalt,5,furlong,A,FIN\n"  # row 4: unknown unit
        b"cobalt,5,t,A,XXY\n"  # row 5: unknown country
        b"unobtainium,5,t,A,FIN\n"  # row 6: unknown material
        b"cobalt,5,MT,A,FIN\n"  # row 7: ambiguous unit
        b"cobalt,5,t,A,FIN\n"  # row 8: fine
    )
    found = problems(data)
    assert [(r, c) for r, c, _ in found] == [
        (2, "Quantity"),
        (3, "Quantity"),
        (4, "Unit"),
        (5, "Supplier country"),
        (6, "Material"),
        (7, "Unit"),
    ]
    reasons = " | ".join(r for *_x, r in found)
    assert "negative" in reasons and "'abc' is not a number" in reasons
    assert "unknown unit 'furlong'" in reasons and "unknown country" in reasons
    assert "ambiguous unit 'MT'" in reasons


def test_missing_columns_empty_and_header_only():
    found = problems(b"Material,Supplier\ncobalt,A\n")
    assert found[0][0] == 1 and "missing column(s)" in found[0][2]
    assert "quantity" in found[0][2] and "supplier_country" in found[0][2]
    assert problems(b"") == [(None, None, "the file is empty")]
    assert problems(b"\n\n  \n") == [(None, None, "the file is empty")]
    only = problems(b"material,quantity,unit,supplier,supplier country\n")
    assert "no supply lines" in only[0][2]


def test_hs_code_checks():
    head = "material,hs code,quantity,unit,supplier,supplier country\n"
    found = problems(
        (head + "cobalt,283691,1,t,A,FIN\n,12,1,t,A,FIN\n,999999,1,t,A,FIN\n").encode()
    )
    assert [(r, c) for r, c, _ in found] == [(2, "hs code"), (3, "hs code"), (4, "hs code")]
    assert "not a code of Cobalt" in found[0][2]


def test_encodings():
    text = (
        "material,quantity,unit,supplier,supplier country\n"
        "cobalt,1,t,Société Générale Métaux,Côte d'Ivoire\n"
    )
    bom = read_supply_bytes("b.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert bom.encoding == "UTF-8 with BOM" and bom.lines[0].supplier_country == "CIV"
    win = read_supply_bytes("w.csv", text.encode("cp1252"))
    assert win.encoding == "Windows-1252 (cp1252)"
    assert win.lines[0].supplier == "Société Générale Métaux"
    # bytes that are neither UTF-8 nor cp1252 (0x81 is undefined in cp1252)
    found = problems(b"material,quantity\n\x81\x8d\x90,1\n")
    assert "not UTF-8, UTF-8 with BOM or Windows-1252" in found[0][2]
    found = problems("material,quantity\n".encode("utf-16"))
    assert "not UTF-8" in found[0][2]


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_reads_and_refuses_formulas():
    header = ["Material", "Quantity (t)", "Supplier", "Supplier country"]
    good = read_supply_bytes("a.xlsx", _xlsx([header, ["graphite", 12.5, "S", "CHN"]]))
    assert good.encoding == "XLSX" and good.lines[0].quantity_t == 12.5
    found = problems(
        _xlsx(
            [
                header,
                ["graphite", "=2*6", "S", "CHN"],
                ["graphite", 3, "S", "CHN"],
                ["cobalt", 1, '=HYPERLINK("x")', "FIN"],
            ]
        ),
        "f.xlsx",
    )
    assert [(r, c) for r, c, _ in found][:2] == [(2, "Quantity (t)"), (4, "Supplier")]
    assert "formula" in found[0][2]


def test_zip_bomb_disguised_as_xlsx_is_refused_before_openpyxl(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))

    def never(*_a, **_k):  # openpyxl must not be reached
        raise AssertionError("openpyxl opened a zip bomb")

    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    found = problems(buffer.getvalue(), "bomb.xlsx")
    assert len(found) == 1 and "zip bomb" in found[0][2]


def test_damaged_xlsx():
    found = problems(b"PK\x03\x04 this is not a zip", "broken.xlsx")
    assert "damaged" in found[0][2]


def test_size_and_row_limits(monkeypatch, tmp_path):
    monkeypatch.setattr(ci, "MAX_BYTES", 100)
    found = problems(
        b"material,quantity,unit,supplier,supplier country\n" + b"cobalt,1,t,S,FIN\n" * 10
    )
    assert "at most" in found[0][2] and "MB" in found[0][2]
    monkeypatch.setattr(ci, "MAX_BYTES", 50 * 2**20)
    monkeypatch.setattr(ci, "MAX_ROWS", 3)
    found = problems(
        b"material,quantity,unit,supplier,supplier country\n" + b"cobalt,1,t,S,FIN\n" * 5
    )
    assert found == [(5, None, "more than 3 rows: refused")]


def test_numbers():
    assert ci.parse_number("1,234.5") == 1234.5
    assert ci.parse_number("1.234,5") == 1234.5
    assert ci.parse_number("1 234,5") == 1234.5
    assert ci.parse_number("12,5") == 12.5
    assert ci.parse_number("1,234") == 1234.0
    assert ci.parse_number("nan") is None and ci.parse_number("") is None


def test_a_cell_over_the_csv_field_limit_is_a_row_error():
    """A 2 MB cell (the csv module's field limit is 128 kB) was a crash, not a row error."""
    assert problems(b"x" * 2_000_000) == [
        (
            1,
            None,
            "not a readable CSV row (field larger than field limit (131072)); "
            "check the quoting and the delimiter",
        )
    ]
