"""Provenance: which dataset, release and years a computed figure comes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class Provenance:
    """Where one input of a figure came from.

    ``years`` are the years of that dataset the figure uses (not the whole release span).
    """

    dataset: str
    source: str
    version: str
    licence: str
    sha256: str
    release_years: tuple[int | None, int | None]
    years: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["release_years"] = list(self.release_years)
        data["years"] = list(self.years)
        return data

    def citation(self) -> str:
        used = ", ".join(str(y) for y in self.years) if self.years else "all years"
        return f"{self.source} {self.version} ({self.dataset}; years used: {used})"


def provenance_for(
    con: duckdb.DuckDBPyConnection, datasets: Iterable[str], years: Iterable[int] = ()
) -> list[Provenance]:
    """Provenance of the current releases of ``datasets`` in the store behind ``con``.

    Connections without a ``releases`` table (hand-made test tables) give an empty list.
    """
    wanted = list(datasets)
    has_releases = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'releases'"
    ).fetchall()[0][0]
    if not has_releases:
        return []
    rows = con.execute(
        "SELECT dataset, source, version, licence, sha256, year_min, year_max FROM releases "
        "WHERE is_current AND list_contains(?, dataset) ORDER BY dataset",
        [wanted],
    ).fetchall()
    used = tuple(sorted(set(years)))
    return [
        Provenance(
            dataset=str(d),
            source=str(s),
            version=str(v),
            licence=str(lic),
            sha256=str(sha),
            release_years=(y0, y1),
            years=used,
        )
        for d, s, v, lic, sha, y0, y1 in rows
    ]
