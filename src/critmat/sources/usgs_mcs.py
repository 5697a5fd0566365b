"""USGS Mineral Commodity Summaries (MCS): world production by country and stage.

Two publication formats are read into ``stage_production`` (one series per edition, e.g.
``"USGS MCS 2026"``):

- the **long data-release CSV** (``MCS2026_Commodities_Data.csv``, MCS 2025 onwards): one row per
  commodity, section, country, statistic, detail and year, with columns ``MCS chapter, Section,
  Commodity, Country, Statistics, Statistics_detail, Unit, Year, Value, Notes, ..., Other
  notes``. Only rows of a ``World ...`` section with ``Statistics = Production`` are world
  production by country; the salient U.S. statistics, import sources, reserves and capacity are
  other things and are left out (counted in the notes). ``Statistics_detail`` names the stage
  ("Refinery production", "Smelter production", "Mine production: Palladium", ...), ``Unit`` the
  unit; ``Notes`` starting with "Estimated" mark estimates; the commodity's ``Other notes`` open
  with the basis, e.g. "(Data in metric tons, antimony content, ...)". The file is Windows-1252.
- the **wide world tables** of MCS 2024 and earlier: a folder (or a zip of it) with one
  ``mcsYYYY-<code>_world.csv`` per commodity (UTF-8 with BOM) and its ``_meta.xml``. Columns
  are ``Source, Country, Type`` then one per figure, named ``Prod_<unit>[_est]_<year>``
  (``Prod_kg_2022``, ``Prod_t_est_2023``, ``Prod_Sponge_t_Est_2022``); ``Cap_*`` (capacity) and
  ``Reserves_*`` are not production and are skipped. ``Type`` names the stage; one commodity
  may have several.
  Country names carry glued footnote marks: a trailing ``e`` = estimated (``Japane``), digits =
  footnote numbers (``Other countries4``), and qualifiers (``Brazil (beneficiated)``,
  ``Argentina, crude ore``), which go to ``note``. The commodity's name comes from the
  ``_meta.xml`` (some of those are not well-formed XML, so they are searched as text).

Cells: numbers may carry thousands commas; ``W`` = withheld (status ``withheld``), ``NA`` = not
available, ``XX`` = not applicable, ``s``/"Less than ½ unit", ranges (``330 - 390``), bounds
(``<100``) and "included with ..." give no single figure (status ``not_available``, the text in
``note``); ``—`` is zero; an ``e`` before a number marks it estimated. Tonnes are NaN whenever
there is no figure, never 0. Units are converted to metric tonnes (:data:`TONNES_PER_UNIT`;
carats at 0.2 g); volumes (helium, rare gases) cannot be and are left out with a note.

Stage (:func:`stage_of`): words of the row label (smelter, refinery, metal/sponge, mine), else
(long format) the section's title, else ``other``. Basis (:func:`basis_of`): "gross weight" ->
``gross``; "content", "contained" or "equivalent" -> ``content``; looked for in the row label,
then the row's notes, then the commodity's notes; else ``unstated``. World totals become ``WLD``
(their "rounded" mark goes to ``note``), "Other countries" ``ROW``; a qualified total ("World
total, natural") keeps its qualifier in ``detail`` so that it stays its own row.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from critmat.errors import InputFileError
from critmat.sources._common import finalize, parse_year
from critmat.sources.base import CanonicalBatch, file_sha256
from critmat.sources.country_names import REST_OF_WORLD, WORLD, iso3_from_name

SOURCE = "usgs"
LICENCE = (
    "Public domain (U.S. Government work, U.S. Geological Survey); cite as U.S. Geological "
    "Survey, Mineral Commodity Summaries {edition}"
)

#: Metric tonnes per published unit (long-format names and world-table abbreviations).
TONNES_PER_UNIT: dict[str, float] = {
    "kilograms": 1e-3,
    "kg": 1e-3,
    "metric tons": 1.0,
    "t": 1.0,
    "thousand metric tons": 1e3,
    "thousand metric dry tons": 1e3,
    "kt": 1e3,
    "million metric tons": 1e6,
    "Mt": 1e6,
    "mmt": 1e6,
    # the metric carat is 0.2 g by definition
    "thousands of carats": 2e-4,
    "kct": 2e-4,
    "million carats": 0.2,
    "mct": 0.2,
}
#: Volume units: no conversion to tonnes without a density, so these rows are left out.
VOLUME_UNITS = frozenset({"million cubic meters", "mcm", "million liters"})

LONG_COLUMNS = (
    "Section",
    "Commodity",
    "Country",
    "Statistics",
    "Statistics_detail",
    "Unit",
    "Year",
    "Value",
    "Notes",
    "Other notes",
)
WORLD_COLUMNS = ("Source", "Country")

_PROD_COLUMN = re.compile(
    r"Prod_(?:(?!est_)(?P<what>[A-Za-z]+)_)??(?P<unit>kg|t|kt|Mt|mmt|kct|mct|mcm)_(?:(?P<est>est)_)?"
    r"(?P<year>\d{4})",
    re.IGNORECASE,
)
_EDITION = re.compile(r"MCS\s*[-_]?\s*(\d{4})", re.IGNORECASE)
_ROUNDED = re.compile(r"\s*\(rounded\)|[,:]\s*rounded\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,]*(\.\d+)?|\.\d+")


@dataclass
class _Cell:
    """A value cell read: tonnes in the published unit (NaN without a figure), status, whether
    the cell itself marks an estimate, and what the cell said when it gave no figure."""

    value: float
    status: str
    estimated: bool = False
    remark: str = ""


@dataclass
class _Reading:
    """Rows read so far from one edition, and the decisions for the provenance notes."""

    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    decisions: dict[str, None] = field(default_factory=dict)  # ordered, without repeats

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def decide(self, decision: str) -> None:
        self.decisions[decision] = None


# ------------------------------------------------------------------------------------- cells
def parse_cell(text: str, path: Path | str, *, row: int, field: str) -> _Cell | None:
    """One value cell; ``None`` for an empty cell (nothing published there)."""
    cell = " ".join(text.replace("\u00a0", " ").split())
    if not cell:
        return None
    lower = cell.lower()
    if cell == "W":
        return _Cell(float("nan"), "withheld")
    if cell == "NA":
        return _Cell(float("nan"), "not_available")
    if cell == "XX":
        return _Cell(float("nan"), "not_available", remark="not applicable (XX)")
    if cell in {"—", "–", "-"}:
        return _Cell(0.0, "reported")
    if cell == "s" or lower.startswith("less than ½"):
        return _Cell(float("nan"), "not_available", remark="less than ½ unit")
    if lower.startswith("included with") or lower.startswith("<") or lower.startswith(">"):
        return _Cell(float("nan"), "not_available", remark=f"published as {cell!r}")
    if re.fullmatch(rf"(?:{_NUMBER.pattern})\s*[-–]\s*(?:{_NUMBER.pattern})", cell):
        return _Cell(float("nan"), "not_available", remark=f"published as the range {cell}")
    estimated = lower.startswith("e") and _NUMBER.fullmatch(cell[1:].strip()) is not None
    number = cell[1:].strip() if estimated else cell
    if _NUMBER.fullmatch(number) is None:
        raise InputFileError(
            path,
            f"not a number nor a USGS mark (W, NA, XX, —, e…): {text!r}",
            row=row,
            field=field,
        )
    return _Cell(float(number.replace(",", "")), "reported", estimated=estimated)


# ---------------------------------------------------------------------- labels and places
def _stage_named(text: str) -> str | None:
    lower = text.lower()
    if not lower or ("capacity" in lower and "production" not in lower):
        return None
    if "smelter" in lower:
        return "smelter"
    if "refinery" in lower or "refined" in lower:
        return "refinery"
    if re.search(r"\b(metal|sponge|ferrosilicon|pig iron|raw steel)\b", lower):
        return "metal"
    if re.search(r"\bm(i)?ne\b|\bmining\b", lower):
        return "mine"
    if "primary production" in lower:  # gallium: primary (low-purity) refined metal
        return "refinery"
    return None


def stage_of(label: str, section: str = "") -> str:
    """The stage a row label names, else the one its section's title names, else ``other``."""
    return _stage_named(label) or _stage_named(section) or "other"


def basis_of(*texts: str) -> str:
    """``gross``, ``content`` or ``unstated``: the first text that states a basis decides."""
    for text in texts:
        lower = text.lower()
        if re.search(r"\bgross+\s+weight\b", lower):
            return "gross"
        if re.search(r"\b(content|contained|equivalent|eqivalent)\b", lower):
            return "content"
    return "unstated"


def is_capacity(label: str) -> bool:
    lower = label.lower()
    return "capacity" in lower and "production" not in lower


@dataclass(frozen=True)
class _Place:
    """A country cell read: its code (None when no single country), whether it was marked
    estimated, and the qualifier it carried."""

    code: str | None
    estimated: bool
    qualifier: str


def _aggregate(text: str) -> _Place | None:
    lower = text.lower()
    for prefix, code in (("world total", WORLD), ("other countries", REST_OF_WORLD)):
        if lower.startswith(prefix):
            rest = text[len(prefix) :]
            estimated = rest.startswith("e") and not rest[1:2].isalpha()
            rest = rest[1:] if estimated else rest
            qualifier = _ROUNDED.sub("", rest).strip(" ,.;:()")
            return _Place(code, estimated, qualifier.strip(" ,.;:()"))
    if lower in {"other", "others"}:
        return _Place(REST_OF_WORLD, False, "")
    return None


def read_place(name: str) -> _Place:
    """Code, estimate mark and qualifier of a USGS country cell (see the module docstring)."""
    text = re.sub(r"\d+$", "", " ".join(name.replace("\u00a0", " ").split())).strip()
    aggregate = _aggregate(text)
    if aggregate is not None:
        return aggregate
    candidates = [(text, "")]
    paren = re.fullmatch(r"(.*?)\s*\((.*)\)\s*", text)
    if paren:
        candidates.append((paren.group(1), paren.group(2)))
    if "," in text:
        head, _, tail = text.rpartition(",")
        candidates.append((head, tail.strip()))
    for base, qualifier in candidates:
        code = iso3_from_name(base)
        if code is not None:
            return _Place(code, False, qualifier)
        if base.endswith("e") and (code := iso3_from_name(base[:-1])) is not None:
            return _Place(code, True, qualifier)
    return _Place(None, False, "")


def _is_rounded(text: str) -> bool:
    return _ROUNDED.search(text) is not None


def _clean_label(label: str) -> str:
    return " ".join(_ROUNDED.sub("", label).replace("\u00a0", " ").split()).strip(" ,")


def _joined(*parts: str) -> str:
    return "; ".join(p for p in (p.strip() for p in parts) if p)


# ------------------------------------------------------------------------------- the files
def _decode(path: Path | str, data: bytes) -> str:
    """UTF-8 (a BOM allowed), else Windows-1252 (the long MCS CSV); anything else — a NUL byte
    (UTF-16) or a byte Windows-1252 does not define — is refused with its row."""
    if b"\x00" in data[:4096]:
        raise InputFileError(
            path,
            "not a text CSV in UTF-8 or Windows-1252 (NUL bytes: UTF-16?)",
            hint="save the file as CSV UTF-8 or as the CSV USGS publishes",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path,
            f"neither UTF-8 nor Windows-1252: byte 0x{data[exc.start]:02x} cannot be decoded",
            row=data.count(b"\n", 0, exc.start) + 1,
        ) from exc


def _records(path: Path | str, text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputFileError(path, "empty file") from None
    except csv.Error as exc:
        raise InputFileError(path, f"not a CSV file ({exc})", row=1) from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, record in enumerate(reader, start=2):
                if any(cell.strip() for cell in record):
                    yield number, record + [""] * (len(header) - len(record))
        except csv.Error as exc:
            raise InputFileError(path, f"broken CSV ({exc})", row=reader.line_num) from exc

    return header, rows()


def _require(path: Path | str, header: Sequence[str], wanted: Sequence[str]) -> dict[str, int]:
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputFileError(
            path,
            f"missing columns {', '.join(missing)} (found: {', '.join(h for h in header if h)})",
            row=1,
            field=missing[0],
        )
    return {name: header.index(name) for name in header if name}


def edition_of(*texts: str) -> int | None:
    """The MCS edition a file name or ``Source`` cell names (``MCS2026`` -> 2026), if any."""
    for text in texts:
        found = _EDITION.search(text)
        if found:
            return int(found.group(1))
    return None


def _edition_option(edition: int | str | None) -> int | None:
    if edition is None:
        return None
    found = re.fullmatch(r"(?:USGS\s+)?(?:MCS\s*)?(\d{4})", str(edition).strip(), re.IGNORECASE)
    if found is None:
        raise InputFileError("--edition", f"not an MCS edition: {edition!r} (e.g. 2026)")
    return int(found.group(1))


def _choose_edition(path: Path, found: int | None, given: int | None) -> int:
    if found is not None and given is not None and found != given:
        raise InputFileError(
            path, f"the file is MCS {found}, --edition says {given}", hint="drop --edition"
        )
    edition = found if found is not None else given
    if edition is None:
        raise InputFileError(
            path,
            "cannot tell the MCS edition from the file",
            hint="pass --edition YEAR (e.g. --edition 2026)",
        )
    return edition


# ------------------------------------------------------------------------- the long format
def _long_rows(reading: _Reading, name: str, text: str) -> int | None:
    """Read the long data-release CSV into ``reading``; return the edition its name gives."""
    path = reading.path
    header, records = _records(path, text)
    col = _require(path, header, LONG_COLUMNS)
    for number, record in records:

        def cell(column: str, record: list[str] = record) -> str:
            return record[col[column]].strip()

        if not cell("Section").startswith("World"):
            reading.skip(f"{cell('Section').split('—')[0].strip()} rows (not world production)")
            continue
        if cell("Statistics") != "Production":
            reading.skip(f"world {cell('Statistics').lower() or 'unlabelled'} rows")
            continue
        unit = cell("Unit")
        if unit in VOLUME_UNITS:
            reading.skip(f"{cell('Commodity')} rows in {unit} (a volume, not tonnes)")
            continue
        _add_row(
            reading,
            number=number,
            commodity=cell("Commodity"),
            country=cell("Country"),
            label=cell("Statistics_detail"),
            section=cell("Section"),
            unit=unit,
            year=parse_year(cell("Year"), path, row=number, field="Year"),
            value=cell("Value"),
            value_field="Value",
            notes=_row_notes(cell("Notes")),
            commodity_notes=cell("Other notes"),
            estimated_column=False,
        )
    return edition_of(name)


def _row_notes(notes: str) -> list[str]:
    """A long-format ``Notes`` cell as its `` -- ``-separated parts (a shifted cell holding the
    critical-mineral flag, as in the 2026 yttrium row, is no note)."""
    if notes in {"Yes", "No"}:
        return []
    return [part.strip() for part in notes.split(" -- ") if part.strip()]


def _add_row(
    reading: _Reading,
    *,
    number: int,
    commodity: str,
    country: str,
    label: str,
    section: str,
    unit: str,
    year: int,
    value: str,
    value_field: str,
    notes: list[str],
    commodity_notes: str,
    estimated_column: bool,
) -> None:
    path = reading.path
    place = read_place(country)
    if place.code is None:
        reading.skip(f"rows of {country!r}, which is not one country (e.g. row {number})")
        return
    parsed = parse_cell(value, path, row=number, field=value_field)
    if parsed is None:
        reading.skip("empty cells")
        return
    factor = TONNES_PER_UNIT.get(unit)
    if factor is None:
        raise InputFileError(
            path, f"unknown unit {unit!r} for {commodity}", row=number, field=value_field
        )
    estimated_note = any(re.match(r"estimated\b", n, re.IGNORECASE) for n in notes)
    other_notes = [n for n in notes if not re.fullmatch(r"estimated\s*\.?", n, re.IGNORECASE)]
    detail = _clean_label(label)
    qualifier = place.qualifier
    if (
        place.code in (WORLD, REST_OF_WORLD)
        and qualifier
        and not re.match(r"(exclud|includ)", qualifier, re.IGNORECASE)
    ):
        detail = f"{detail} ({qualifier})"
        qualifier = ""
    rounded = _is_rounded(label) or _is_rounded(country)
    reading.rows.append(
        {
            "commodity": commodity,
            "stage": stage_of(label, section),
            "detail": detail,
            "country": place.code,
            "year": year,
            "quantity_t": parsed.value * factor,
            "unit": unit,
            "basis": basis_of(label, *notes, commodity_notes),
            "estimated": estimated_column or place.estimated or parsed.estimated or estimated_note,
            "status": parsed.status,
            "note": _joined(
                qualifier,
                "rounded" if rounded else "",
                parsed.remark,
                *other_notes,
            ),
            "_row": number,
        }
    )


# ------------------------------------------------------------------ the wide world tables
@dataclass(frozen=True)
class _Meta:
    """What a ``_meta.xml`` says about its commodity."""

    commodity: str
    basis_hint: str
    column_notes: Mapping[str, str]
    #: The world table's ``Type`` values the metadata lists (used where the CSV leaves it empty).
    types: tuple[str, ...] = ()


def read_meta(text: str) -> _Meta:
    """Commodity name (the ``Commodity`` domain value, else the title), the commodity's basis
    text and each world column's definition and unit, from a ``_meta.xml`` read as text."""
    domain = re.search(
        r"<attrlabl>\s*Commodity\s*</attrlabl>.*?<edomv>(.*?)</edomv>\s*<edomvd>(.*?)</edomvd>",
        text,
        re.S,
    )
    title = re.search(r"<title>\s*Mineral Commodity Summaries \d{4}\s*-\s*(.*?) Data Release", text)
    if domain:
        commodity, hint = domain.group(1).strip(), domain.group(2).strip()
    elif title:
        commodity, hint = title.group(1).strip().title(), ""
    else:
        commodity, hint = "", ""
    world = text.split("world.csv</enttypl>", 1)[-1]
    notes: dict[str, str] = {}
    types: tuple[str, ...] = ()
    for attr in re.findall(r"<attr>(.*?)</attr>", world, re.S):
        label = re.search(r"<attrlabl>\s*(.*?)\s*</attrlabl>", attr, re.S)
        if label is None:
            continue
        if label.group(1) == "Type":
            types = tuple(v.strip() for v in re.findall(r"<edomv>(.*?)</edomv>", attr, re.S))
        parts = re.findall(r"<attrdef>(.*?)</attrdef>|<attrunit>(.*?)</attrunit>", attr, re.S)
        notes[label.group(1)] = " ".join(" ".join(p).strip() for p in parts)
    return _Meta(commodity, hint, notes, types)


@dataclass(frozen=True)
class _ProdColumn:
    index: int
    name: str
    unit: str
    year: int
    estimated: bool


def _production_columns(path: Path | str, header: Sequence[str]) -> list[_ProdColumn]:
    columns = []
    for index, name in enumerate(header):
        found = _PROD_COLUMN.fullmatch(name)
        if found:
            unit = found.group("unit")
            unit = unit if unit in TONNES_PER_UNIT or unit in VOLUME_UNITS else unit.lower()
            year = parse_year(found.group("year"), path, row=1, field=name)
            columns.append(_ProdColumn(index, name, unit, year, bool(found.group("est"))))
        elif name.lower().startswith("prod_") and "note" not in name.lower():
            raise InputFileError(
                path,
                f"production column {name!r} does not read as Prod_<unit>[_est]_<year>",
                row=1,
                field=name,
            )
    return columns


def _type_column(path: Path | str, header: Sequence[str]) -> int:
    """The ``Type`` column; in a few files (2024 fluorspar) its header is the type itself."""
    if "Type" in header:
        return header.index("Type")
    if len(header) > 2 and not re.match(r"(Prod|Cap|Reserves)_", header[2], re.IGNORECASE):
        return 2
    raise InputFileError(path, "no Type column", row=1, field="Type")


def _world_rows(reading: _Reading, name: str, text: str, meta: _Meta | None) -> int | None:
    """Read one ``_world.csv`` into ``reading``; return the edition its Source cells give."""
    where = f"{reading.path}!{name}" if reading.path.name != name else str(reading.path)
    header, records = _records(where, text)
    col = _require(where, header, WORLD_COLUMNS)
    type_index = _type_column(where, header)
    production = _production_columns(where, header)
    skipped = [h for h in header if re.match(r"(Cap|Reserves)_", h, re.IGNORECASE)]
    if meta is None or not meta.commodity:
        raise InputFileError(
            where,
            "no _meta.xml beside it naming the commodity",
            hint="keep each mcsYYYY-<code>_meta.xml next to its _world.csv",
        )
    if not production:
        reading.skip(f"files with capacity or reserves only ({name})")
        return edition_of(name)
    notes_index = next(
        (i for i, h in enumerate(header) if h.lower() in {"prod_notes", "prod_note"}), None
    )
    editions: set[int] = set()
    rows_before = len(reading.rows)
    for number, record in records:
        source = record[col["Source"]].strip()
        label = record[type_index].strip()
        if not record[col["Country"]].strip():
            continue
        if found := edition_of(source):
            editions.add(found)
        if not label and len(meta.types) == 1:
            label = meta.types[0]
            reading.decide(f"{name}: empty Type cells read as the _meta.xml's {label!r}")
        if not label or label in {"NA", "XX"}:
            reading.skip("rows without a Type")
            continue
        if is_capacity(label):
            reading.skip("capacity rows")
            continue
        row_note = record[notes_index].strip() if notes_index is not None else ""
        for column in production:
            if column.unit in VOLUME_UNITS:
                reading.skip(f"{meta.commodity} figures in {column.unit} (a volume, not tonnes)")
                continue
            year_note = row_note if _names_estimate(row_note, column.year) else ""
            _add_row(
                reading,
                number=number,
                commodity=meta.commodity,
                country=record[col["Country"]],
                label=label,
                section="",
                unit=column.unit,
                year=column.year,
                value=record[column.index],
                value_field=column.name,
                notes=[n for n in (row_note,) if n] + (["Estimated"] if year_note else []),
                commodity_notes=" ".join((meta.column_notes.get(column.name, ""), meta.basis_hint)),
                estimated_column=column.estimated,
            )
    if skipped:
        reading.skip("capacity/reserves columns", len(skipped))
    if len(reading.rows) == rows_before:
        reading.skip(f"{name}: no production figure")
    if len(editions) > 1:
        raise InputFileError(where, f"Source names several editions: {sorted(editions)}")
    return editions.pop() if editions else edition_of(name)


def _names_estimate(note: str, year: int) -> bool:
    """True when a row note says this year's figure is estimated ("estimated in 2022 also",
    "Production in 2021 is also estimated")."""
    lower = note.lower()
    return "estimat" in lower and str(year) in lower


# ----------------------------------------------------------------------------- the inputs
def _members(path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of the files to read: a folder's files, a zip's members, a gzip's content,
    or the file itself."""
    if path.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(path.rglob("*")) if p.is_file()]
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return [(path.name.removesuffix(".gz"), gzip.decompress(data))]
        except (OSError, EOFError) as exc:
            raise InputFileError(path, f"not a readable gzip file ({exc})") from exc
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [
                    (Path(info.filename).name, archive.read(info))
                    for info in archive.infolist()
                    if not info.is_dir() and not Path(info.filename).name.startswith(".")
                ]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputFileError(path, f"not a readable zip file ({exc})") from exc
    return [(path.name, data)]


def _meta_for(metas: Mapping[str, _Meta], stem: str) -> _Meta | None:
    """The metadata of a world table: same stem, else the stem before a second code
    (``mcs2023-zirco-hafni`` -> ``mcs2023-zirco``)."""
    if stem in metas:
        return metas[stem]
    edition, _, codes = stem.partition("-")
    return metas.get(f"{edition}-{codes.split('-')[0]}")


def _is_long(text: str) -> bool:
    first = text.split("\n", 1)[0]
    return "Statistics_detail" in first and "Section" in first


def read_usgs_mcs(path: Path, *, edition: int | str | None = None) -> CanonicalBatch:
    """Read an MCS publication (long CSV, plain or gzipped; a world-tables folder or zip; one
    world CSV) into a ``stage_production`` batch of series ``"USGS MCS <edition>"``.

    ``edition`` (e.g. ``2024``) is needed only when neither the file names nor the ``Source``
    cells say it; when both say it they must agree.
    """
    path = Path(path)
    given = _edition_option(edition)
    reading = _Reading(path)
    files = _members(path)
    metas = {
        n.removesuffix("_meta.xml").lower(): read_meta(_decode(path, d))
        for n, d in files
        if n.lower().endswith("_meta.xml")
    }
    found: set[int] = set()
    kinds: set[str] = set()
    for name, data in files:
        lower = name.lower()
        if not lower.endswith(".csv"):
            continue
        text = _decode(path if len(files) == 1 else f"{path}!{name}", data)
        if _is_long(text):
            kinds.add("long")
            edition_found = _long_rows(reading, name, text)
        elif lower.endswith("_world.csv"):
            kinds.add("world")
            meta = _meta_for(metas, lower.removesuffix("_world.csv"))
            edition_found = _world_rows(reading, name, text, meta)
        else:
            reading.skip(f"files that are neither the long CSV nor a _world.csv ({name})")
            continue
        if edition_found is not None:
            found.add(edition_found)
    if not kinds:
        raise InputFileError(
            path,
            "no MCS data: expected the long data-release CSV or mcsYYYY-<code>_world.csv files",
        )
    if len(kinds) > 1:
        raise InputFileError(path, "mixes the long CSV and world tables; import them apart")
    if len(found) > 1:
        raise InputFileError(path, f"holds several MCS editions: {sorted(found)}")
    year = _choose_edition(path, found.pop() if found else None, given)
    return _batch(reading, year, kinds.pop())


def _batch(reading: _Reading, edition: int, kind: str) -> CanonicalBatch:
    if not reading.rows:
        raise InputFileError(reading.path, "no world production rows found")
    frame = pd.DataFrame(reading.rows)
    table = finalize("stage_production", frame, reading.path)
    years = f"{table['year'].min()}–{table['year'].max()}"
    what = "data release" if kind == "long" else "world tables"
    notes = [
        f"MCS {edition} {what}: {len(table):,} world production figures by country, {years}, "
        f"{table['commodity'].nunique()} commodities",
        "left out: "
        + "; ".join(f"{n:,} {reason}" for reason, n in sorted(reading.skipped.items())),
        *reading.decisions,
        "tonnes converted from the published unit (carats at 0.2 g); W = withheld, NA/XX/s, "
        "ranges and bounds = not_available, all with NaN tonnes",
    ]
    return CanonicalBatch(
        dataset="stage_production",
        source=SOURCE,
        version=f"MCS {edition} {what} (world production by country)",
        licence=LICENCE.format(edition=edition),
        origin=str(reading.path),
        sha256=_input_sha256(reading.path),
        table=table,
        notes=notes,
        series=f"USGS MCS {edition}",
    )


def _input_sha256(path: Path) -> str:
    """sha256 of the file, or of a folder's files (names and bytes, in name order)."""
    if not path.is_dir():
        return file_sha256(path)
    import hashlib

    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(member.relative_to(path).as_posix().encode() + b"\0")
        digest.update(file_sha256(member).encode())
    return digest.hexdigest()
