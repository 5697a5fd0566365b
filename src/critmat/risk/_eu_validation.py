"""critmat's EU supply risk against the 2023 assessment, and what the next assessment would say.

- :func:`validate`: per material with a published 2023 SR (Grohol & Veeh 2023,
  doi:10.2873/725585, shipped as :mod:`critmat.reference.eu_assessment`) and an SR here, both
  values, both stages and bases, and the Spearman rank correlation over all of them;
- :func:`outlook`: the assessment on the newest data against the 2023 list — which materials
  would meet the thresholds (SR ≥ 1 and EI ≥ 2.8, CRMA Art. 4(2)) and which would cross them.
  critmat has no EI of its own: EI is the user's input where given, else the 2023 published EI
  (said per row, ``ei_source``); with neither the threshold test is ``None``, never a pass.

Both are pure functions of an :class:`~critmat.risk._eu_types.Assessment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from critmat.reference.eu_assessment import PublishedAssessment, published_for
from critmat.risk._eu_types import EI_THRESHOLD, SR_THRESHOLD, Assessment, Breakdown

#: Reference year of the validation window (five years ending in it: 2018–2022). The 2023
#: assessment averaged mostly 2016–2020; the stage series (USGS MCS refinery, smelter, metal)
#: start in 2021, so 2022 is the first year whose window holds both World Mining Data and
#: the first USGS world tables. Chosen for that reason, not tuned to the result.
VALIDATION_YEAR = 2022
#: |critmat SR − published SR| above which a row is a large difference.
LARGE_DIFFERENCE = 0.5

Change = Literal["enters", "leaves", "stays", "stays out", "no data"]


def _row(record: object, drop: tuple[str, ...] = (), **worked_out: object) -> dict[str, object]:
    """A dataclass record as a row: ``material_id`` as ``material``, ``drop`` left out, the
    ``worked_out`` values replacing or following the fields."""
    fields = {k: v for k, v in asdict(record).items() if k not in drop}  # type: ignore[call-overload]
    row: dict[str, object] = {"material": fields.pop("material_id"), **fields}
    return {**row, **worked_out}


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman rank correlation (ties get their average rank); ``None`` below 3 pairs."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two sequences of the same length")
    if len(xs) < 3:
        return None
    rx = pd.Series(list(xs), dtype=float).rank(method="average")
    ry = pd.Series(list(ys), dtype=float).rank(method="average")
    return float(rx.corr(ry))


@dataclass(frozen=True)
class ValidationRow:
    """One material: critmat's SR and the published 2023 SR, with their stages and bases."""

    material_id: str
    name: str
    published_sr: float
    published_stage: str
    published_basis: str | None
    published_same_stage: float | None
    sr: float
    stage: str
    basis: str
    production_series: str
    trade_series: str
    si_sr: float | None
    eol_rir: float | None

    @property
    def difference(self) -> float:
        return self.sr - self.published_sr

    @property
    def same_side(self) -> bool:
        """Both at or above the SR threshold, or both below."""
        return (self.sr >= SR_THRESHOLD) == (self.published_sr >= SR_THRESHOLD)

    def as_row(self) -> dict[str, object]:
        """The row the CLI and the API show (SR and difference to two decimals)."""
        return _row(
            self,
            drop=("name", "si_sr", "eol_rir"),
            sr=round(self.sr, 2),
            difference=round(self.difference, 2),
            same_side=self.same_side,
        )


@dataclass(frozen=True)
class Validation:
    """The comparison over every comparable material."""

    assessment: Assessment
    rows: tuple[ValidationRow, ...]
    spearman: float | None
    same_side: int
    within: int

    @property
    def n(self) -> int:
        return len(self.rows)

    def large(self) -> tuple[ValidationRow, ...]:
        """Rows differing by more than :data:`LARGE_DIFFERENCE`, largest first."""
        out = [r for r in self.rows if abs(r.difference) > LARGE_DIFFERENCE]
        return tuple(sorted(out, key=lambda r: -abs(r.difference)))


def _basis(row: PublishedAssessment, stage: str) -> str | None:
    if stage == "extraction":
        return row.supply_basis_extraction
    if stage == "processing":
        return row.supply_basis_processing
    return None


def _validation_row(b: Breakdown, published: PublishedAssessment) -> ValidationRow | None:
    stage = b.headline_stage
    if b.sr is None or stage is None:
        return None
    return ValidationRow(
        material_id=b.material_id,
        name=b.name,
        published_sr=published.sr,
        published_stage=published.sr_stage,
        published_basis=_basis(published, published.sr_stage),
        published_same_stage=published.sr_at(stage.stage),
        sr=b.sr,
        stage=stage.stage,
        basis=stage.basis,
        production_series="+".join(stage.production_series),
        trade_series="+".join(stage.trade_series),
        si_sr=stage.si_sr.value,
        eol_rir=stage.eol_rir.value,
    )


def validate(assessment: Assessment) -> Validation:
    """critmat's SR against the published 2023 SR for every material that has both."""
    rows = []
    for b in assessment.breakdowns:
        published = published_for(b.material_id)
        row = _validation_row(b, published) if published else None
        if row is not None:
            rows.append(row)
    return Validation(
        assessment=assessment,
        rows=tuple(rows),
        spearman=spearman([r.sr for r in rows], [r.published_sr for r in rows]),
        same_side=sum(r.same_side for r in rows),
        within=sum(abs(r.difference) <= LARGE_DIFFERENCE for r in rows),
    )


# ---------------------------------------------------------------------------------- outlook
@dataclass(frozen=True)
class OutlookRow:
    """One material on the newest data against the 2023 list."""

    material_id: str
    name: str
    sr: float | None
    sr_stage: str | None
    sr_2023: float | None
    ei: float | None
    ei_source: str
    meets_2023: bool | None
    meets_now: bool | None
    sr_change: Change
    change: Change
    crma_critical: bool

    def as_row(self) -> dict[str, object]:
        """The row the CLI and the API show (SR to two decimals)."""
        return _row(self, sr=None if self.sr is None else round(self.sr, 2))


@dataclass(frozen=True)
class Outlook:
    """:func:`outlook`: every material, and the ones whose threshold test changes."""

    assessment: Assessment
    rows: tuple[OutlookRow, ...]

    def crossing(self) -> tuple[OutlookRow, ...]:
        """Materials that would enter or leave the list, or whose SR crosses 1."""
        return tuple(
            r
            for r in self.rows
            if r.change in ("enters", "leaves") or r.sr_change in ("enters", "leaves")
        )


def _change(before: bool | None, now: bool | None) -> Change:
    if before is None or now is None:
        return "no data"
    if now and not before:
        return "enters"
    if before and not now:
        return "leaves"
    return "stays" if now else "stays out"


def _outlook_row(b: Breakdown) -> OutlookRow:
    published = published_for(b.material_id)
    if b.ei is not None:
        ei: float | None = b.ei.ei
        ei_source = "your inputs"
    elif published is not None:
        ei, ei_source = published.ei, "2023 (unchanged)"
    else:
        ei, ei_source = None, "no EI"
    meets_now = None if b.sr is None or ei is None else b.sr >= SR_THRESHOLD and ei >= EI_THRESHOLD
    sr_2023 = published.sr if published else None
    return OutlookRow(
        material_id=b.material_id,
        name=b.name,
        sr=b.sr,
        sr_stage=b.sr_stage,
        sr_2023=sr_2023,
        ei=ei,
        ei_source=ei_source,
        meets_2023=published.meets_thresholds if published else None,
        meets_now=meets_now,
        sr_change=_change(
            None if sr_2023 is None else sr_2023 >= SR_THRESHOLD,
            None if b.sr is None else b.sr >= SR_THRESHOLD,
        ),
        change=_change(published.meets_thresholds if published else None, meets_now),
        crma_critical=b.crma_critical,
    )


def outlook(assessment: Assessment) -> Outlook:
    """Every material of ``assessment`` against the 2023 list, those that cross first."""
    rows = [_outlook_row(b) for b in assessment.breakdowns]
    order = {"enters": 0, "leaves": 1, "stays": 2, "stays out": 3, "no data": 4}
    rows.sort(key=lambda r: (order[r.change], order[r.sr_change], -(r.sr or 0.0)))
    return Outlook(assessment=assessment, rows=tuple(rows))
