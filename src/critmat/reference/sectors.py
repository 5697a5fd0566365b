"""Downstream exposure: how each material's use splits between applications and sectors.

Data: ``critmat/reference/data/sector_splits.csv``, one row per (material, application,
sector) with ``share`` (fraction of the material's use, 0..1), ``estimate`` (true where the
share is derived, rounded or recalled rather than read from a table of the cited source),
``source`` (required on every row) and ``notes``. The shares of a material add up to at most
1; a material without rows has no sourced split. Users pass their own file in the same format
(``critmat stress run --sectors FILE``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference._common import data_path, read_csv_rows, required_cell
from critmat.reference.materials import load_catalogue

__all__ = ["SectorSplit", "load_sector_splits"]

COLUMNS = ("material", "application", "sector", "share", "estimate", "source", "notes")


@dataclass(frozen=True)
class SectorSplit:
    """One application of a material and the share of the material's use it takes."""

    material: str  # catalogue id
    application: str
    sector: str
    share: float
    estimate: bool
    source: str
    notes: str


def _parse(path: Path, row_no: int, row: dict[str, str]) -> SectorSplit:
    need = functools.partial(required_cell, path, row_no, row)
    try:
        material = load_catalogue().resolve(need("material")).material.id
    except UnknownNameError as exc:
        raise InputFileError(path, str(exc), row=row_no, field="material", hint=exc.hint) from None
    try:
        share = float(need("share"))
    except ValueError:
        raise InputFileError(path, "share is not a number", row=row_no, field="share") from None
    if not 0.0 <= share <= 1.0:
        raise InputFileError(path, f"share {share} is outside 0..1", row=row_no, field="share")
    estimate_text = need("estimate").lower()
    if estimate_text not in ("true", "false"):
        raise InputFileError(path, "estimate must be true or false", row=row_no, field="estimate")
    return SectorSplit(
        material=material,
        application=need("application"),
        sector=need("sector"),
        share=share,
        estimate=estimate_text == "true",
        source=need("source"),
        notes=(row.get("notes") or "").strip(),
    )


def _load(path: Path) -> tuple[SectorSplit, ...]:
    rows = [_parse(path, row_no, row) for row_no, row in read_csv_rows(path, COLUMNS)]
    totals: dict[str, float] = {}
    for split in rows:
        totals[split.material] = totals.get(split.material, 0.0) + split.share
    for material, total in totals.items():
        if total > 1.0 + 1e-9:
            raise InputFileError(
                path, f"shares of '{material}' add up to {total:.3f}, more than 1", field="share"
            )
    return tuple(rows)


@functools.cache
def _default() -> tuple[SectorSplit, ...]:
    return _load(data_path("sector_splits.csv"))


def load_sector_splits(path: str | Path | None = None) -> tuple[SectorSplit, ...]:
    """The shipped splits (cached) or a user file in the same format; errors name row and field."""
    return _default() if path is None else _load(Path(path))
