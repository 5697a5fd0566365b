"""The query parameters and download responses the statistics, risk and stress routes share:
one declaration of each (its limits and its description in the OpenAPI schema)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError

from critmat.api.stats_serving import Format
from critmat.exports import MEDIA_TYPES
from critmat.server.errors import responses


class Basis(StrEnum):
    """The basis of trade shares: tonnes or value."""

    mass = "mass"
    value = "value"


MaterialPath = Annotated[
    str,
    Path(min_length=1, max_length=100, description="Material id, name, alias or symbol."),
]
MaterialQ = Annotated[
    str | None,
    Query(min_length=1, max_length=100, description="Material id, name or alias, e.g. 'REE'."),
]
#: The material of a question that needs one (required).
RequiredMaterialQ = Annotated[
    str, Query(min_length=1, max_length=100, description="Material id, name or alias.")
]
HsQ = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{6}$", description="One HS92 6-digit code instead of a material."),
]
StageQ = Annotated[
    str | None,
    Query(min_length=1, max_length=40, description="Value-chain stage, e.g. processing."),
]
YearQ = Annotated[
    int | None, Query(ge=1900, le=2100, description="Year (default: the latest with data).")
]
ImporterQ = Annotated[
    str,
    Query(
        min_length=2,
        max_length=200,
        description="EU27, a group (G7, EEA...), a country (ISO3 or name), or countries "
        "joined by commas treated as one economy.",
    ),
]
FromQ = Annotated[
    int | None, Query(alias="from", ge=1900, le=2100, description="First year (default: first).")
]
ToQ = Annotated[
    int | None, Query(alias="to", ge=1900, le=2100, description="Last year (default: last).")
]
FormatQ = Annotated[
    Format,
    Query(
        alias="format",
        description="json, or a download: csv (UTF-8) or xlsx. Cells that a spreadsheet "
        "could run as a formula are prefixed with an apostrophe.",
    ),
]

TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
            MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        }
    }
}


def route_responses(
    not_found: str, *, bad_request: str | None = None, downloads: bool = True
) -> dict[int | str, dict[str, Any]]:
    """A route's OpenAPI ``responses=`` besides 401/422 (added to every route from its access
    rule and parameters): 400 (described as ``bad_request`` if given) and 503, 404 described as
    ``not_found``, and with ``downloads`` the csv and xlsx media types of ``format``."""
    answered = {**responses(400, 503), 404: {"description": not_found}}
    if bad_request is not None:
        answered[400] = {"description": bad_request}
    return {**answered, **TABLE_RESPONSES} if downloads else answered


@dataclass(frozen=True)
class StageQuestion:
    """The query string of a question about one material at one value-chain stage in one year
    (``Annotated[StageQuestion, Depends()]``): its fields are the route's parameters in the
    OpenAPI schema and, but for ``fmt`` (the answer's format), the question's cache key."""

    material: RequiredMaterialQ
    stage: StageQ = None
    year: YearQ = None
    fmt: FormatQ = "json"

    def params(self) -> dict[str, object]:
        """The question without its format (:func:`~critmat.api.stats_serving.serve` keys the
        format itself)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "fmt"}


@dataclass(frozen=True)
class ImportedStageQuestion(StageQuestion):
    """A :class:`StageQuestion` about one importer's imports (default: the EU27)."""

    importer: ImporterQ = "EU27"


@dataclass(frozen=True)
class MaterialYearQuestion:
    """The parameters of a question about one material (the path's) in one year, and the
    answer's format (``Annotated[MaterialYearQuestion, Depends()]``)."""

    material: MaterialPath
    year: YearQ = None
    fmt: FormatQ = "json"


@dataclass(frozen=True)
class MaterialStageQuestion(MaterialYearQuestion):
    """A :class:`MaterialYearQuestion` at one value-chain stage, shares on a ``basis``."""

    stage: StageQ = None
    basis: Basis = Basis.mass


def one_of_material_or_hs(material: str | None, hs: str | None) -> None:
    """A 422 unless exactly one of ``material`` and ``hs`` is given."""
    if (material is None) == (hs is None):
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "material"),
                    "msg": "give either material or hs (a 6-digit HS code), not both or neither",
                    "type": "value_error",
                }
            ]
        )


def stem(*parts: object) -> str:
    """A download's file name stem: the given parts joined by hyphens, empty ones left out."""
    return "-".join(str(p) for p in parts if p is not None and p != "")
