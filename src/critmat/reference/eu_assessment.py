"""Published results of the 2023 EU criticality assessment (``data/eu_crm_assessment_2023.csv``).

Source: Grohol M., Veeh C. (2023), *Study on the critical raw materials for the EU 2023 — Final
report*, European Commission, DG GROW, doi:10.2873/725585. The values were not typed from the
report by critmat: they are a **transcription** by the CritMAT project (``meyerdata/CritMAT``,
``input_data/seeds/eureport_results.csv``), with its column shifts and a duplicate row corrected
(each correction is in ``notes``). Every row says so in ``value_status`` (``transcribed``) and
``source``. Use them to compare, not as critmat's own results.

One row per assessed raw material (87 individual materials and the three groups HREE, LREE, PGM).
Columns:

- ``material``: the name the report uses; ``material_id``: critmat catalogue id, empty when the
  catalogue has no entry (hydrogen, roundwood...) or when the report assesses a group member the
  catalogue keeps inside its group (dysprosium...); ``group``: ``hree``, ``lree`` or ``pgm``
  for group members;
- ``sr``, ``ei``: headline supply risk and economic importance; ``sr_stage``: ``extraction`` or
  ``processing``, the stage whose SR is the headline (the higher one);
- ``sr_extraction``, ``sr_processing``: SR per stage (empty when the stage was not assessed);
- ``supply_basis_extraction``, ``supply_basis_processing``: which supply the SR used —
  ``GS+EU`` (global supply and EU sourcing), ``GSonly``, ``EUonly`` or ``EU``;
- ``ir_extraction_pct``, ``ir_processing_pct``, ``eol_rir_pct``: import reliance and end-of-life
  recycling input rate, in percent as published;
- ``si_ei``, ``si_sr``: substitution indices (empty where the transcription has none);
- ``crma_critical``: ``yes`` when the material (or its group) is on the CRMA Annex II list;
- ``value_status``, ``notes``, ``source``.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from critmat.errors import InputFileError
from critmat.reference._common import data_path
from critmat.reference.materials import load_catalogue

__all__ = ["PublishedAssessment", "load_eu_assessment_2023", "published_for"]

FILE_NAME = "eu_crm_assessment_2023.csv"
COLUMNS = (
    "material",
    "material_id",
    "group",
    "sr",
    "ei",
    "sr_stage",
    "sr_extraction",
    "sr_processing",
    "supply_basis_extraction",
    "supply_basis_processing",
    "ir_extraction_pct",
    "ir_processing_pct",
    "eol_rir_pct",
    "si_ei",
    "si_sr",
    "crma_critical",
    "value_status",
    "notes",
    "source",
)
_BASES = ("", "GS+EU", "GSonly", "EUonly", "EU")
_STATUSES = ("transcribed", "checked")


@dataclass(frozen=True)
class PublishedAssessment:
    """One material's published 2023 results (see the module docstring for the columns)."""

    material: str
    material_id: str | None
    group: str | None
    sr: float
    ei: float
    sr_stage: str
    sr_extraction: float | None
    sr_processing: float | None
    supply_basis_extraction: str | None
    supply_basis_processing: str | None
    ir_extraction_pct: float | None
    ir_processing_pct: float | None
    eol_rir_pct: float | None
    si_ei: float | None
    si_sr: float | None
    crma_critical: bool
    value_status: str
    notes: str
    source: str

    @property
    def meets_thresholds(self) -> bool:
        """SR ≥ 1 and EI ≥ 2.8, the thresholds of CRMA Art. 4(2)."""
        return self.sr >= 1.0 and self.ei >= 2.8

    def sr_at(self, stage: str) -> float | None:
        """Published SR of ``extraction`` or ``processing`` (``None`` if not assessed)."""
        if stage == "extraction":
            return self.sr_extraction
        if stage == "processing":
            return self.sr_processing
        return None


def _number(path: Path, row: int, column: str, text: str, required: bool) -> float | None:
    text = text.strip()
    if not text:
        if required:
            raise InputFileError(path, "value required", row=row, field=column)
        return None
    try:
        return float(text)
    except ValueError:
        raise InputFileError(path, f"'{text}' is not a number", row=row, field=column) from None


@functools.cache
def load_eu_assessment_2023(path: str | None = None) -> tuple[PublishedAssessment, ...]:
    """Load and validate the published 2023 results (the shipped file unless ``path``)."""
    file = Path(path) if path else data_path(FILE_NAME)
    catalogue = load_catalogue()
    rows: list[PublishedAssessment] = []
    seen: set[str] = set()
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputFileError(file, f"missing columns: {', '.join(missing)}", row=1)
        for row_no, raw in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            name = row["material"]
            if not name:
                raise InputFileError(file, "value required", row=row_no, field="material")
            if name in seen:
                raise InputFileError(file, f"duplicate material '{name}'", row=row_no)
            seen.add(name)
            material_id = row["material_id"] or None
            if material_id is not None and material_id not in catalogue:
                raise InputFileError(
                    file, f"unknown material id '{material_id}'", row=row_no, field="material_id"
                )
            group = row["group"] or None
            if group is not None and group not in catalogue:
                raise InputFileError(file, f"unknown group '{group}'", row=row_no, field="group")
            stage = row["sr_stage"]
            if stage not in ("extraction", "processing"):
                raise InputFileError(
                    file, "must be 'extraction' or 'processing'", row=row_no, field="sr_stage"
                )
            for column in ("supply_basis_extraction", "supply_basis_processing"):
                if row[column] not in _BASES:
                    raise InputFileError(
                        file,
                        f"'{row[column]}' is not one of {_BASES[1:]}",
                        row=row_no,
                        field=column,
                    )
            if row["value_status"] not in _STATUSES:
                raise InputFileError(
                    file, f"must be one of {_STATUSES}", row=row_no, field="value_status"
                )
            if not row["source"]:
                raise InputFileError(file, "value required", row=row_no, field="source")

            def num(
                column: str, required: bool = False, _row: int = row_no, _r: dict[str, str] = row
            ) -> float | None:
                return _number(file, _row, column, _r[column], required)

            sr, ei = num("sr", True), num("ei", True)
            assert sr is not None and ei is not None  # required=True guarantees a value
            rows.append(
                PublishedAssessment(
                    material=name,
                    material_id=material_id,
                    group=group,
                    sr=sr,
                    ei=ei,
                    sr_stage=stage,
                    sr_extraction=num("sr_extraction"),
                    sr_processing=num("sr_processing"),
                    supply_basis_extraction=row["supply_basis_extraction"] or None,
                    supply_basis_processing=row["supply_basis_processing"] or None,
                    ir_extraction_pct=num("ir_extraction_pct"),
                    ir_processing_pct=num("ir_processing_pct"),
                    eol_rir_pct=num("eol_rir_pct"),
                    si_ei=num("si_ei"),
                    si_sr=num("si_sr"),
                    crma_critical=row["crma_critical"] == "yes",
                    value_status=row["value_status"],
                    notes=row["notes"],
                    source=row["source"],
                )
            )
    return tuple(rows)


def published_for(material_id: str) -> PublishedAssessment | None:
    """The published 2023 row of a catalogue material, or ``None`` when it has none."""
    for row in load_eu_assessment_2023():
        if row.material_id == material_id:
            return row
    return None
