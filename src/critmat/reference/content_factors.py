"""Content factors: how much of a material one tonne of a traded HS code holds, so that trade
(BACI: gross weight of the product) can be compared with production on one basis.

Data: ``critmat/reference/data/hs_content_factors.csv``, one row per (HS revision, code,
material) with ``content_of`` (what the factor counts: ``Cu``, ``WO3``-derived ``W``, ``TiO2``,
or the product itself), ``factor`` (tonnes of content per tonne of product, 0..1) and the range
``factor_low``..``factor_high`` it is uncertain within, ``method`` — how it was found:

- ``stoichiometry``: the mass fraction of a pure compound (exact);
- ``typical_grade``: the grade at which the product is traded (ores, concentrates), with the
  mineral's stoichiometric content as the upper bound where that helps;
- ``same_form``: production and trade count the same product by weight (factor 1);

and ``source`` (required on every row) and ``note``. A code without a row has no content
factor: its trade is not compared with production (the answer says so).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from critmat.errors import InputFileError
from critmat.reference._common import HS6, data_path, read_csv_rows, required_cell

__all__ = [
    "METHODS",
    "ContentFactor",
    "content_factor",
    "load_content_factors",
    "on_production_basis",
]

COLUMNS = (
    "revision",
    "hs6",
    "material",
    "content_of",
    "factor",
    "factor_low",
    "factor_high",
    "method",
    "source",
    "note",
)
METHODS = ("stoichiometry", "typical_grade", "same_form")


@dataclass(frozen=True)
class ContentFactor:
    """Tonnes of ``content_of`` per tonne of the traded product ``hs6`` (of ``revision``)."""

    revision: str
    hs6: str
    material: str
    content_of: str
    factor: float
    factor_low: float
    factor_high: float
    method: str
    source: str
    note: str

    def describe(self) -> str:
        """``HS92 260300: 0.25 t Cu per t (0.20–0.35, typical_grade)``."""
        spread = (
            ""
            if self.factor_low == self.factor_high
            else f"{self.factor_low:g}–{self.factor_high:g}, "
        )
        return (
            f"{self.revision} {self.hs6}: {self.factor:g} t {self.content_of} per t "
            f"({spread}{self.method})"
        )


def _fraction(path: Path, row_no: int, row: dict[str, str], column: str) -> float:
    text = required_cell(path, row_no, row, column)
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"'{text}' is not a number", row=row_no, field=column) from None
    if not 0.0 < value <= 1.0:
        raise InputFileError(path, f"{value} is outside 0 < factor <= 1", row=row_no, field=column)
    return value


def _parse(path: Path, row_no: int, row: dict[str, str]) -> ContentFactor:
    def need(column: str) -> str:
        return required_cell(path, row_no, row, column)

    code = need("hs6")
    if not HS6.match(code):
        raise InputFileError(path, f"'{code}' is not a 6-digit HS code", row=row_no, field="hs6")
    method = need("method")
    if method not in METHODS:
        raise InputFileError(
            path,
            f"method '{method}' is not one of {', '.join(METHODS)}",
            row=row_no,
            field="method",
        )
    low, central, high = (
        _fraction(path, row_no, row, column) for column in ("factor_low", "factor", "factor_high")
    )
    if not low <= central <= high:
        raise InputFileError(
            path, f"factor {central} is not within {low}..{high}", row=row_no, field="factor"
        )
    return ContentFactor(
        revision=need("revision").upper(),
        hs6=code,
        material=need("material"),
        content_of=need("content_of"),
        factor=central,
        factor_low=low,
        factor_high=high,
        method=method,
        source=need("source"),
        note=(row.get("note") or "").strip(),
    )


def _load(path: Path) -> Mapping[tuple[str, str, str], ContentFactor]:
    found: dict[tuple[str, str, str], ContentFactor] = {}
    for row_no, row in read_csv_rows(path, COLUMNS):
        factor = _parse(path, row_no, row)
        key = (factor.revision, factor.hs6, factor.material)
        if key in found:
            raise InputFileError(path, f"a second row for {' '.join(key)}", row=row_no, field="hs6")
        found[key] = factor
    return found


@functools.cache
def _default() -> Mapping[tuple[str, str, str], ContentFactor]:
    return _load(data_path("hs_content_factors.csv"))


def load_content_factors(
    path: str | Path | None = None,
) -> Mapping[tuple[str, str, str], ContentFactor]:
    """The shipped factors (cached) or a file in the same format, by (revision, hs6, material);
    errors name the row and field."""
    return _default() if path is None else _load(Path(path))


def content_factor(hs6: str, material: str, revision: str = "HS92") -> ContentFactor | None:
    """The content factor of ``material`` in code ``hs6`` of ``revision``, or ``None``."""
    return _default().get((revision.upper(), hs6, material))


def on_production_basis(factor: ContentFactor | None, basis: str) -> ContentFactor | None:
    """``factor`` for comparing trade with a production series counted on ``basis``.

    A series that counts the gross weight of the product (USGS chromite, IEA graphite:
    ``basis`` "gross") is compared with the traded gross weight as it is: factor 1
    (``same_form``); a content series (``content``, ``unstated``) keeps the code's factor. A code
    without a factor stays without one: the weight of an unlike product is never taken as is.
    """
    if factor is None or basis != "gross" or factor.method == "same_form":
        return factor
    return ContentFactor(
        revision=factor.revision,
        hs6=factor.hs6,
        material=factor.material,
        content_of=f"gross weight (not {factor.content_of})",
        factor=1.0,
        factor_low=1.0,
        factor_high=1.0,
        method="same_form",
        source="the production series counts the gross weight of the product, as BACI does",
        note=f"instead of {factor.factor:g} t {factor.content_of} per t for a content series",
    )
