"""Reading a company's supply lines from CSV or XLSX, with every problem reported at once.

A file is read completely and checked row by row; nothing is returned unless every row is
valid, and then :class:`SupplyInput` holds the lines. Otherwise :class:`SupplyFileError` lists
every problem with its file, row (1-based as a spreadsheet shows it, header = row 1), column and
reason. Limits: 50 MB, 1 million data rows. XLSX files are opened only after their zip
directory has been checked (member sizes and compression ratio: a zip bomb is refused before
openpyxl reads it), and a cell holding a formula is refused (its value would be whatever the
program that saved it last computed, or nothing).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from critmat.errors import CritmatError, UnknownNameError
from critmat.reference.countries import resolve_country
from critmat.reference.materials import Material, Stage, load_catalogue

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
#: XLSX (zip) safety: total uncompressed size, largest member ratio, number of members.
MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
MAX_RATIO = 200.0
MAX_MEMBERS = 10_000
#: At most this many problems are listed; the count says how many there were in all.
MAX_LISTED_ERRORS = 1000
#: Physical range of one line's annual quantity after unit conversion (tonnes): 1 mg to
#: 10 billion t (world iron-ore mining is about 2.5 billion t a year). Outside it the number or
#: the unit is wrong; the bounds also keep every sum finite and every share well defined.
MIN_LINE_TONNES = 1e-9
MAX_LINE_TONNES = 1e10
#: Largest supplier tier accepted.
MAX_TIER = 100

#: Tonnes per unit. Unit names are matched case-insensitively, except ``Mt`` (megatonne).
UNIT_TO_TONNES: dict[str, float] = {
    "t": 1.0,
    "tonne": 1.0,
    "tonnes": 1.0,
    "metric ton": 1.0,
    "metric tons": 1.0,
    "metric tonne": 1.0,
    "metric tonnes": 1.0,
    "kt": 1e3,
    "kilotonne": 1e3,
    "kilotonnes": 1e3,
    "megatonne": 1e6,
    "megatonnes": 1e6,
    "kg": 1e-3,
    "kilogram": 1e-3,
    "kilograms": 1e-3,
    "g": 1e-6,
    "gram": 1e-6,
    "grams": 1e-6,
    "lb": 0.45359237e-3,
    "lbs": 0.45359237e-3,
    "pound": 0.45359237e-3,
    "pounds": 0.45359237e-3,
    "short ton": 0.90718474,
    "short tons": 0.90718474,
    "long ton": 1.0160469088,
    "long tons": 1.0160469088,
}
#: Spellings refused as ambiguous (metric tonne, megatonne or short ton?).
AMBIGUOUS_UNITS = {"mt": "write t (tonnes) or Mt (million tonnes)", "ton": "write t or short ton"}
AMBIGUOUS_UNITS["tons"] = AMBIGUOUS_UNITS["ton"]

#: Header spellings per column (compared after lower-casing and dropping punctuation, and
#: after taking a unit in brackets off: "Quantity (kg)" is the quantity in kg).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "material": (
        "material",
        "material name",
        "materials",
        "raw material",
        "commodity",
        "product",
        "substance",
    ),
    "hs_code": ("hs", "hs code", "hs6", "hs 6", "hs92", "hs code 6", "tariff code", "cn code"),
    "stage": ("stage", "value chain stage", "processing stage", "form"),
    "quantity": (
        "quantity",
        "qty",
        "annual quantity",
        "amount",
        "volume",
        "annual volume",
        "tonnage",
        "weight",
        "mass",
    ),
    "unit": ("unit", "units", "uom", "unit of measure", "quantity unit"),
    "supplier": ("supplier", "supplier name", "vendor", "vendor name", "seller"),
    "supplier_country": (
        "supplier country",
        "country of supplier",
        "country",
        "supplier country iso3",
        "country of origin of supplier",
        "vendor country",
        "supplier location",
    ),
    "tier": ("tier", "supplier tier"),
    "share": ("share", "share of supply", "supply share", "share of need"),
}
REQUIRED = ("quantity", "supplier", "supplier_country")
_FORMULA = "the cell holds a formula"


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` is 1-based with the header as row 1 (None: the whole file)."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}


class SupplyFileError(CritmatError):
    """A supply-lines file that cannot be assessed; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[RowError], total: int | None = None) -> None:
        self.errors = list(errors)
        self.total = total if total is not None else len(self.errors)
        first = "; ".join(str(e) for e in self.errors[:3])
        more = f" (and {self.total - 3} more)" if self.total > 3 else ""
        noun = "problem" if self.total == 1 else "problems"
        super().__init__(
            f"{self.total} {noun} in the supply file: {first}{more}",
            hint="fix every listed row and upload the file again; nothing was stored",
        )


@dataclass(frozen=True, slots=True)
class SupplyLine:
    """One validated supply line; ``quantity_t`` in tonnes. ``stage`` is None when neither the
    file nor the material name chose one (the assessment then picks the stage with trade data).
    """

    row: int
    material_id: str
    stage: str | None
    hs_code: str | None
    quantity: float
    unit: str
    quantity_t: float
    supplier: str
    supplier_country: str
    tier: int | None = None
    share: float | None = None
    material_text: str = ""


@dataclass(frozen=True)
class SupplyInput:
    """A file's lines with what identifies the file (name, sha256, encoding read)."""

    filename: str
    sha256: str
    encoding: str
    lines: tuple[SupplyLine, ...]
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header in the file


# ----------------------------------------------------------------------------- headers, cells
def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)[\s_]*[(\[](?P<unit>[^)\]]+)[)\]]\s*$")


def _unit_factor(text: str) -> tuple[float | None, str | None]:
    """(tonnes per unit, None) or (None, reason)."""
    raw = text.strip()
    if raw == "Mt":
        return 1e6, None
    low = re.sub(r"\s+", " ", raw.lower().rstrip("."))
    if low in AMBIGUOUS_UNITS:
        return None, f"ambiguous unit '{raw}': {AMBIGUOUS_UNITS[low]}"
    if low in UNIT_TO_TONNES:
        return UNIT_TO_TONNES[low], None
    if not low:
        return None, "no unit given"
    return None, f"unknown unit '{raw}' (use t, kg, lb, kt, Mt, short ton, ...)"


def map_headers(header: Sequence[str]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Columns found (canonical -> index), a unit given in a header (e.g. quantity -> "t"), and
    problems (duplicate columns)."""
    lookup = {_key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
    found: dict[str, int] = {}
    header_units: dict[str, str] = {}
    problems: list[str] = []
    for index, cell in enumerate(header):
        text = str(cell or "").strip()
        name = lookup.get(_key(text))
        unit = None
        if name is None:
            match = _UNIT_IN_HEADER.match(text)
            if match:
                name = lookup.get(_key(match.group("name")))
                unit = match.group("unit").strip()
        if name is None:
            continue
        if name in found:
            problems.append(f"two columns mean '{name}': '{header[found[name]]}' and '{text}'")
            continue
        found[name] = index
        if unit is not None and name == "quantity":
            header_units[name] = unit
    return found, header_units, problems


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_number(value: Any) -> float | None:
    """A number from a cell: 1234.5, "1,234.5", "1 234,5", "1234,5"; None if not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if number == number and abs(number) != float("inf") else None
    text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not text:
        return None
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif "," in text and "." in text:
        # "1.234,5" (continental) or "1,234.5": the last separator is the decimal one
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# ----------------------------------------------------------------------------- file readers
def _decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) trying UTF-8 with BOM, UTF-8, then Windows-1252 (cp1252)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16: cp1252 would decode it into nonsense
    try:
        return data.decode("cp1252"), "Windows-1252 (cp1252)"
    except UnicodeDecodeError:
        return None


def _csv_rows(name: str, data: bytes) -> tuple[Iterator[list[str]], str]:
    decoded = _decode(data)
    if decoded is None:
        raise SupplyFileError(
            [
                RowError(
                    name,
                    None,
                    None,
                    "cannot read the text: it is not UTF-8, UTF-8 with BOM or Windows-1252 "
                    "(cp1252); save it as CSV UTF-8",
                )
            ]
        )
    text, encoding = decoded
    if "\x00" in text:
        raise SupplyFileError(
            [RowError(name, None, None, "the file holds NUL bytes: not a CSV text file")]
        )
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t", "|"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _checked_rows(name, reader), encoding


def _checked_rows(name: str, reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module cannot split (a cell over its 128 kB field limit,
    or a line break inside an unclosed quote at the end) ends the file with a row error."""
    row_no = 0
    try:
        for row in reader:
            row_no += 1
            yield list(row)
    except csv.Error as exc:
        raise SupplyFileError(
            [
                RowError(
                    name,
                    row_no + 1,
                    None,
                    f"not a readable CSV row ({exc}); check the quoting and the delimiter",
                )
            ]
        ) from None


def _check_zip(name: str, data: bytes) -> None:
    """Refuse an archive whose members would unpack to too much, before openpyxl opens it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SupplyFileError(
            [RowError(name, None, None, "not a valid XLSX file (the zip container is damaged)")]
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise SupplyFileError(
                [RowError(name, None, None, f"the XLSX holds {len(members)} parts: refused")]
            )
        total = 0
        for info in members:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > MAX_RATIO:
                raise SupplyFileError(
                    [
                        RowError(
                            name,
                            None,
                            None,
                            f"refused: part '{info.filename}' would unpack {ratio:.0f}-fold to "
                            f"{info.file_size:,} bytes (a zip bomb?)",
                        )
                    ]
                )
        if total > MAX_UNZIPPED_BYTES:
            raise SupplyFileError(
                [
                    RowError(
                        name,
                        None,
                        None,
                        f"refused: the XLSX would unpack to {total:,} bytes "
                        f"(at most {MAX_UNZIPPED_BYTES:,})",
                    )
                ]
            )
        if "xl/workbook.xml" not in {m.filename for m in members}:
            raise SupplyFileError(
                [RowError(name, None, None, "not an XLSX workbook (no xl/workbook.xml)")]
            )


def _xlsx_rows(name: str, data: bytes, errors: list[RowError]) -> Iterator[list[Any]]:
    """Rows of the first sheet; formula cells are reported into ``errors`` and read as empty."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    _check_zip(name, data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise SupplyFileError(
            [RowError(name, None, None, f"cannot read the XLSX: {type(exc).__name__}")]
        ) from None
    try:
        sheet = book.worksheets[0]
        header: list[Any] | None = None
        for row_no, row in enumerate(sheet.iter_rows(), start=1):
            values: list[Any] = []
            for col_no, cell in enumerate(row, start=1):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or (
                    isinstance(value, str) and value.startswith("=")
                ):
                    label = (
                        str(header[col_no - 1])
                        if header and col_no <= len(header)
                        else get_column_letter(col_no)
                    )
                    errors.append(
                        RowError(
                            name,
                            row_no,
                            label,
                            _FORMULA + "; paste values only (formulas are refused)",
                        )
                    )
                    value = None
                values.append(value)
            if header is None and any(v not in (None, "") for v in values):
                header = values
            yield values
    finally:
        book.close()


def _is_xlsx(name: str, data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04") or name.lower().endswith((".xlsx", ".xlsm"))


# ----------------------------------------------------------------------------- rows
def _resolve_material(
    text: str, hs: str | None, stage_text: str
) -> tuple[Material | None, Stage | None, str | None, str | None, str | None]:
    """(material, stage, hs, column, reason) - column/reason set on a problem."""
    catalogue = load_catalogue()
    material: Material | None = None
    stage: Stage | None = None
    if hs is not None:
        code = hs.replace(".", "").replace(" ", "")
        if len(code) == 5 and code.isdigit():
            code = "0" + code  # a spreadsheet dropped the leading zero
        if not (len(code) == 6 and code.isdigit()):
            return None, None, None, "hs_code", f"'{hs}' is not a 6-digit HS code"
        hs = code
    if text:
        try:
            resolved = catalogue.resolve(text)
        except UnknownNameError as exc:
            hint = f" (did you mean {', '.join(exc.suggestions)}?)" if exc.suggestions else ""
            return None, None, None, "material", f"unknown material '{text}'{hint}"
        material, stage = resolved.material, resolved.stage
    if hs is not None:
        pairs = catalogue.by_hs(hs)
        if material is None:
            if not pairs:
                return None, None, None, "hs_code", f"HS {hs} is not a code of any catalogued CRM"
            if len({m.id for m, _s in pairs}) > 1:
                names = ", ".join(sorted({m.name for m, _s in pairs}))
                return None, None, None, "hs_code", f"HS {hs} is shared by {names}: name one"
            material, stage = pairs[0]
        else:
            related = catalogue.related_ids(material.id)
            match = [(m, s) for m, s in pairs if m.id in related]
            if not match:
                return (
                    None,
                    None,
                    None,
                    "hs_code",
                    f"HS {hs} is not a code of {material.name} "
                    f"({', '.join(material.hs_codes) or 'none catalogued'})",
                )
            if stage is None or hs not in stage.hs_codes:
                stage = match[0][1]
    if material is None:
        return None, None, None, "material", "give a material or an HS code"
    if stage_text:
        try:
            named = material.stage(stage_text.replace(" ", "_"))
        except UnknownNameError:
            labels = ", ".join(s.name for s in material.stages)
            return (
                None,
                None,
                None,
                "stage",
                f"{material.name} has no stage '{stage_text}' (stages: {labels})",
            )
        if hs is not None and hs not in named.hs_codes:
            return None, None, None, "stage", f"HS {hs} is not a code of the stage '{named.name}'"
        stage = named
    return material, stage, hs, None, None


_Resolution = tuple[Material | None, Stage | None, str | None, str | None, str | None]


@dataclass
class _RowCache:
    """Per-file memo of what repeats across rows: material and country lookups, and equal
    texts (kept once in memory: a million rows name a few hundred suppliers)."""

    materials: dict[tuple[str, str | None, str], _Resolution] = field(default_factory=dict)
    countries: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def material(self, text: str, hs: str | None, stage_text: str) -> _Resolution:
        key = (text, hs, stage_text)
        found = self.materials.get(key)
        if found is None:
            found = self.materials[key] = _resolve_material(text, hs, stage_text)
        return found

    def country(self, text: str) -> tuple[str | None, str | None]:
        """(ISO3, None) or (None, reason)."""
        found = self.countries.get(text)
        if found is None:
            try:
                found = (resolve_country(text), None)
            except UnknownNameError:
                found = (None, f"unknown country code or name '{text}'")
            self.countries[text] = found
        return found

    def text(self, value: str) -> str:
        return self.texts.setdefault(value, value)


def parse_rows(
    name: str,
    rows: Iterator[list[Any]],
    errors: list[RowError],
) -> tuple[list[SupplyLine], dict[str, str]]:
    """Validate ``rows`` (first non-empty one is the header); problems go to ``errors``."""
    cache = _RowCache()
    header: list[str] | None = None
    columns: dict[str, int] = {}
    header_units: dict[str, str] = {}
    lines: list[SupplyLine] = []
    data_rows = 0
    for row_no, raw in enumerate(rows, start=1):
        if header is None:
            if not any(_cell_text(v) for v in raw):
                continue
            header = [_cell_text(v) for v in raw]
            columns, header_units, problems = map_headers(header)
            for problem in problems:
                errors.append(RowError(name, row_no, None, problem))
            missing = [c for c in REQUIRED if c not in columns]
            if "material" not in columns and "hs_code" not in columns:
                missing.insert(0, "material or hs_code")
            if "unit" not in columns and "quantity" not in header_units:
                missing.append("unit (a column, or in the quantity header: 'Quantity (t)')")
            if missing:
                errors.append(
                    RowError(
                        name,
                        row_no,
                        None,
                        "missing column(s): "
                        + ", ".join(missing)
                        + f"; found: {', '.join(h for h in header if h) or 'nothing'}",
                    )
                )
                break
            continue
        if not any(_cell_text(v) for v in raw):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise SupplyFileError(
                [RowError(name, row_no, None, f"more than {MAX_ROWS:,} rows: refused")]
            )
        line = _parse_line(name, row_no, raw, header, columns, header_units, errors, cache)
        if line is not None:
            lines.append(line)
    if header is None:
        errors.append(RowError(name, None, None, "the file is empty"))
    elif not errors and not lines:
        errors.append(RowError(name, None, None, "the file has a header but no supply lines"))
    names = {} if header is None else {key: header[i] for key, i in columns.items()}
    return lines, names


def _parse_line(
    name: str,
    row_no: int,
    raw: list[Any],
    header: list[str],
    columns: dict[str, int],
    header_units: dict[str, str],
    errors: list[RowError],
    cache: _RowCache,
) -> SupplyLine | None:
    def get(key: str) -> Any:
        index = columns.get(key)
        return raw[index] if index is not None and index < len(raw) else None

    def label(key: str) -> str:
        index = columns.get(key)
        return header[index] if index is not None else key

    before = len(errors)

    def bad(key: str, reason: str) -> None:
        errors.append(RowError(name, row_no, label(key), reason))

    material_text = _cell_text(get("material"))
    hs_text = _cell_text(get("hs_code")) or None
    material, stage, hs, column, reason = cache.material(
        material_text, hs_text, _cell_text(get("stage"))
    )
    if reason is not None:
        bad(column or "material", reason)

    raw_quantity = get("quantity")
    quantity = parse_number(raw_quantity)
    if quantity is None:
        shown = _cell_text(raw_quantity)
        bad("quantity", f"'{shown}' is not a number" if shown else "no quantity")
    elif quantity < 0:
        bad("quantity", f"negative quantity {quantity:g}")
    elif quantity == 0:
        bad("quantity", "quantity is zero (leave the line out)")

    unit_text = _cell_text(get("unit")) or header_units.get("quantity", "")
    factor, unit_problem = _unit_factor(unit_text)
    if unit_problem is not None:
        bad("unit" if "unit" in columns else "quantity", unit_problem)
    elif quantity is not None and quantity > 0 and factor is not None:
        tonnes_problem = _tonnes_problem(quantity, unit_text, quantity * factor)
        if tonnes_problem is not None:
            bad("quantity", tonnes_problem)

    supplier = _cell_text(get("supplier"))
    if not supplier:
        bad("supplier", "no supplier name")
    country_text = _cell_text(get("supplier_country"))
    country: str | None = None
    if not country_text:
        bad("supplier_country", "no supplier country")
    else:
        country, country_problem = cache.country(country_text)
        if country_problem is not None:
            bad("supplier_country", country_problem)

    tier: int | None = None
    tier_text = _cell_text(get("tier"))
    if tier_text:
        number = parse_number(tier_text)
        if number is None or not number.is_integer() or not 1 <= number <= MAX_TIER:
            bad("tier", f"'{tier_text}' is not a tier (1, 2, 3 ... {MAX_TIER})")
        else:
            tier = int(number)

    share: float | None = None
    share_text = _cell_text(get("share"))
    if share_text:
        percent = share_text.endswith("%")
        number = parse_number(share_text.rstrip("%"))
        if number is not None and percent:
            number /= 100
        if number is None or not 0 <= number <= 1:
            bad("share", f"'{share_text}' is not a share (0-1, or a percentage such as 40%)")
        else:
            share = number

    if len(errors) > before:
        return None
    assert material is not None and quantity is not None and factor is not None
    assert country is not None
    return SupplyLine(
        row=row_no,
        material_id=material.id,
        stage=stage.name if stage is not None else None,
        hs_code=hs,
        quantity=quantity,
        unit=cache.text(unit_text),
        quantity_t=quantity * factor,
        supplier=cache.text(supplier),
        supplier_country=country,
        tier=tier,
        share=share,
        material_text=cache.text(material_text or (f"HS {hs}" if hs else material.name)),
    )


def _tonnes_problem(quantity: float, unit: str, tonnes: float) -> str | None:
    """Why ``quantity`` ``unit`` (= ``tonnes`` t) is outside the physical range of one line, or
    None when it is inside."""
    given = f"{quantity:g} {unit}".strip()
    if not tonnes <= MAX_LINE_TONNES:  # also catches an overflow to infinity
        return (
            f"{given} is more than {MAX_LINE_TONNES:g} t (10 billion t), the most one line may "
            "hold: check the number and the unit"
        )
    if tonnes < MIN_LINE_TONNES:
        return (
            f"{given} is less than {MIN_LINE_TONNES:g} t (1 mg), the least one line may hold: "
            "check the number and the unit"
        )
    return None


def read_supply_bytes(name: str, data: bytes) -> SupplyInput:
    """Validate a CSV or XLSX file's bytes; raise :class:`SupplyFileError` listing every problem."""
    name = Path(name).name or "upload"
    if len(data) > MAX_BYTES:
        raise SupplyFileError(
            [
                RowError(
                    name,
                    None,
                    None,
                    f"the file has {len(data):,} bytes; at most {MAX_BYTES // (1024 * 1024)} MB "
                    "are accepted (split it by material or site)",
                )
            ]
        )
    if not data.strip():
        raise SupplyFileError([RowError(name, None, None, "the file is empty")])
    errors: list[RowError] = []
    if _is_xlsx(name, data):
        encoding = "XLSX"
        lines, columns = parse_rows(name, _xlsx_rows(name, data, errors), errors)
    else:
        rows, encoding = _csv_rows(name, data)
        lines, columns = parse_rows(name, rows, errors)
    if errors:
        # a formula cell is read as empty: report the formula, not the empty value as well
        formulas = {(e.row, e.column) for e in errors if e.reason.startswith(_FORMULA)}
        errors = [
            e for e in errors if e.reason.startswith(_FORMULA) or (e.row, e.column) not in formulas
        ]
        errors.sort(key=lambda e: e.row or 0)
        raise SupplyFileError(errors[:MAX_LISTED_ERRORS], total=len(errors))
    return SupplyInput(
        filename=name,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        lines=tuple(lines),
        columns=columns,
    )


def read_supply_file(path: str | Path) -> SupplyInput:
    """:func:`read_supply_bytes` of a file on disk (its size is checked before reading)."""
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise CritmatError(f"cannot read {file}: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise SupplyFileError(
            [
                RowError(
                    file.name,
                    None,
                    None,
                    f"the file has {size:,} bytes; at most {MAX_BYTES // (1024 * 1024)} MB "
                    "are accepted (split it by material or site)",
                )
            ]
        )
    return read_supply_bytes(file.name, file.read_bytes())
