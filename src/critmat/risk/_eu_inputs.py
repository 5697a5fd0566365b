"""User-supplied inputs of the EU criticality assessment: economic-importance and SI_SR files.

critmat ships no end-use shares, sector value added or substitution indices: they come from the
Commission's factsheets or the user's own study. Both files are CSV (UTF-8, header row, one
material per catalogue id or any name the catalogue resolves).

**Economic-importance file** (``--ei-inputs``), one row per material and sector:

===================  =========================================================================
column               meaning
===================  =========================================================================
``material``         catalogue id or name
``sector``           NACE Rev. 2 two-digit sector (e.g. ``C24``), unique per material
``end_use_share``    A_s: share of the material's end uses in that sector, fraction 0–1; the
                     shares of one material add up to 1 (±0.02 for rounding)
``value_added``      Q_s: the sector's value added, any currency unit, the same in the whole file
``si_ei``            SI_EI of the material, 0 < SI_EI ≤ 1, the same on all its rows
``value_added_max``  optional: value added of the largest NACE two-digit manufacturing sector,
                     the scaling reference (same unit); default: the largest ``value_added`` in
                     the file
``source``           optional: where the row's figures come from
===================  =========================================================================

**SI_SR file** (``--si-sr``): columns ``material``, ``si_sr`` (0 < SI_SR ≤ 1), optional ``source``.
**EoL-RIR file** (``--eol-rir``): columns ``material``, ``eol_rir`` (fraction, 0 ≤ EoL-RIR < 1),
optional ``source``. Both override the 2023 assessment's published values.

Errors name the file, the row (the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference.materials import Catalogue, load_catalogue

EI_COLUMNS = ("material", "sector", "end_use_share", "value_added", "si_ei")
EI_OPTIONAL = ("value_added_max", "source")
SI_COLUMNS = ("material", "si_sr")
SHARE_TOLERANCE = 0.02


@dataclass(frozen=True)
class SectorInput:
    """One end-use sector of a material: A_s and Q_s as given, with the file row."""

    sector: str
    end_use_share: float
    value_added: float
    source: str
    row: int


@dataclass(frozen=True)
class EiInput:
    """Economic-importance inputs of one material (from one file)."""

    material_id: str
    sectors: tuple[SectorInput, ...]
    si_ei: float
    value_added_max: float
    value_added_max_given: bool
    path: str


@dataclass(frozen=True)
class SiInput:
    """SI_SR of one material with its source."""

    material_id: str
    si_sr: float
    source: str


def _read(path: Path, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise InputFileError(path, "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(path, "not a UTF-8 text file") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputFileError(
            path,
            f"missing column(s) {', '.join(missing)}; "
            f"the header has: {', '.join(header) or '(none)'}",
            row=1,
            hint="required columns: " + ", ".join(required),
        )
    rows = []
    for row_no, raw in enumerate(reader, start=2):
        if None in raw:
            raise InputFileError(path, "more cells than header columns", row=row_no)
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if any(row.values()):
            rows.append((row_no, row))
    if not rows:
        raise InputFileError(path, "no data rows")
    return rows


def _number(path: Path, row: int, column: str, text: str) -> float:
    if not text:
        raise InputFileError(path, "value required", row=row, field=column)
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"'{text}' is not a number", row=row, field=column) from None
    if not math.isfinite(value):
        raise InputFileError(path, f"'{text}' is not a finite number", row=row, field=column)
    return value


def _material(path: Path, row: int, text: str, catalogue: Catalogue) -> str:
    if not text:
        raise InputFileError(path, "value required", row=row, field="material")
    try:
        return catalogue.resolve(text).material.id
    except UnknownNameError as exc:
        raise InputFileError(
            path, f"unknown material '{text}'", row=row, field="material", hint=exc.hint
        ) from None


def _index(path: Path, row: int, column: str, value: float) -> float:
    if not 0 < value <= 1:
        raise InputFileError(path, f"{value:g} is outside 0 < {column} ≤ 1", row=row, field=column)
    return value


def read_ei_inputs(path: str | Path) -> dict[str, EiInput]:
    """Parse and check an economic-importance file (see the module docstring)."""
    file = Path(path)
    catalogue = load_catalogue()
    rows = _read(file, EI_COLUMNS)
    by_material: dict[str, list[tuple[int, dict[str, str], str]]] = {}
    for row_no, row in rows:
        material_id = _material(file, row_no, row["material"], catalogue)
        by_material.setdefault(material_id, []).append((row_no, row, material_id))

    has_max = "value_added_max" in rows[0][1]
    maxima: set[float] = set()
    largest = 0.0
    parsed: dict[str, tuple[list[SectorInput], float]] = {}
    for material_id, items in by_material.items():
        sectors: list[SectorInput] = []
        si_values: set[float] = set()
        seen: set[str] = set()
        for row_no, row, _ in items:
            sector = row["sector"]
            if not sector:
                raise InputFileError(file, "value required", row=row_no, field="sector")
            if sector.upper() in seen:
                raise InputFileError(
                    file,
                    f"sector '{sector}' given twice for {material_id}",
                    row=row_no,
                    field="sector",
                )
            seen.add(sector.upper())
            share = _number(file, row_no, "end_use_share", row["end_use_share"])
            if not 0 <= share <= 1:
                raise InputFileError(
                    file,
                    f"{share:g} is not a share between 0 and 1"
                    + (" (percent? give fractions)" if 1 < share <= 100 else ""),
                    row=row_no,
                    field="end_use_share",
                )
            value_added = _number(file, row_no, "value_added", row["value_added"])
            if value_added < 0:
                raise InputFileError(
                    file, "value added cannot be negative", row=row_no, field="value_added"
                )
            largest = max(largest, value_added)
            si = _index(file, row_no, "si_ei", _number(file, row_no, "si_ei", row["si_ei"]))
            si_values.add(si)
            if len(si_values) > 1:
                raise InputFileError(
                    file,
                    f"si_ei of {material_id} differs between its rows ({sorted(si_values)})",
                    row=row_no,
                    field="si_ei",
                )
            if has_max and row.get("value_added_max"):
                maxima.add(_number(file, row_no, "value_added_max", row["value_added_max"]))
                if len(maxima) > 1:
                    raise InputFileError(
                        file,
                        "value_added_max must be the same on every row",
                        row=row_no,
                        field="value_added_max",
                    )
            sectors.append(SectorInput(sector, share, value_added, row.get("source", ""), row_no))
        total = sum(s.end_use_share for s in sectors)
        if abs(total - 1) > SHARE_TOLERANCE:
            first, last = items[0][0], items[-1][0]
            raise InputFileError(
                file,
                f"end-use shares of {material_id} (rows {first}–{last}) add up to {total:.3f}, "
                f"not 1 (±{SHARE_TOLERANCE})",
                row=last,
                field="end_use_share",
            )
        parsed[material_id] = (sectors, si_values.pop())

    given = bool(maxima)
    reference = maxima.pop() if maxima else largest
    if reference <= 0:
        raise InputFileError(file, "the largest value added is 0: nothing to scale by")
    if reference < largest:
        raise InputFileError(
            file,
            f"value_added_max {reference:g} is below a sector's value_added {largest:g}",
            field="value_added_max",
        )
    return {
        material_id: EiInput(
            material_id=material_id,
            sectors=tuple(sectors),
            si_ei=si,
            value_added_max=reference,
            value_added_max_given=given,
            path=str(file),
        )
        for material_id, (sectors, si) in parsed.items()
    }


def _read_fractions(
    path: str | Path, column: str, check: Callable[[Path, int, float], float]
) -> dict[str, SiInput]:
    """``material, <column>[, source]`` rows, one per material, each value passed to ``check``."""
    file = Path(path)
    catalogue = load_catalogue()
    out: dict[str, SiInput] = {}
    for row_no, row in _read(file, ("material", column)):
        material_id = _material(file, row_no, row["material"], catalogue)
        if material_id in out:
            raise InputFileError(file, f"{material_id} given twice", row=row_no, field="material")
        value = check(file, row_no, _number(file, row_no, column, row[column]))
        out[material_id] = SiInput(material_id, value, row.get("source", "") or str(file))
    return out


def read_si_sr(path: str | Path) -> dict[str, SiInput]:
    """Parse and check an SI_SR file (``material, si_sr[, source]``; 0 < SI_SR ≤ 1)."""
    return _read_fractions(path, "si_sr", lambda f, r, v: _index(f, r, "si_sr", v))


def _recycling_rate(path: Path, row: int, value: float) -> float:
    if not 0 <= value < 1:
        hint = " (percent? give fractions)" if 1 <= value <= 100 else ""
        raise InputFileError(
            path, f"{value:g} is outside 0 ≤ eol_rir < 1{hint}", row=row, field="eol_rir"
        )
    return value


def read_eol_rir(path: str | Path) -> dict[str, SiInput]:
    """Parse and check an EoL-RIR file (``material, eol_rir[, source]``; fraction 0 ≤ x < 1)."""
    return _read_fractions(path, "eol_rir", _recycling_rate)
