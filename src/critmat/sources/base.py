"""The canonical tables every importer produces, and the batch that carries them to the store.

Canonical tables (one current release per dataset kind in the store):

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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

Dataset = Literal["production", "trade", "governance"]

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
}

#: Columns that identify a row; no two rows of a release may share them.
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("commodity", "country", "year"),
    "trade": ("year", "exporter", "importer", "hs6"),
    "governance": ("country", "year", "indicator"),
}
#: Columns holding ISO3 country codes.
COUNTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("country",),
    "trade": ("exporter", "importer"),
    "governance": ("country",),
}


@dataclass
class CanonicalBatch:
    """One dataset release, parsed and checked, ready for the store.

    ``source`` names the publication (``"wmd"``, ``"baci"``, ``"wgi"``); ``version`` its release
    as the publisher names it (e.g. ``"HS92 V202401b"``); ``origin`` where the file came from;
    ``sha256`` identifies the input (two imports with the same sha256 are the same release);
    ``notes`` lists decisions taken on the data (dropped rows, mapped codes) for the provenance log.
    """

    dataset: Dataset
    source: str
    version: str
    licence: str
    origin: str
    sha256: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
