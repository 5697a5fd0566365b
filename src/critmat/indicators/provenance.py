"""Provenance: which dataset, release and years a computed figure comes from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import duckdb

from critmat.store import Release


class _ReleaseRow(NamedTuple):
    """The columns of a ``releases`` row that :func:`provenance_for` reads."""

    dataset: str
    source: str
    version: str
    licence: str
    sha256: str
    year_min: int | None
    year_max: int | None


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

    @classmethod
    def of_release(cls, release: Release | _ReleaseRow, years: tuple[int, ...]) -> Provenance:
        """The entry for ``release`` (a store ``Release`` or a ``releases`` row) used for
        ``years``."""
        return cls(
            dataset=release.dataset,
            source=release.source,
            version=release.version,
            licence=release.licence,
            sha256=release.sha256,
            release_years=(release.year_min, release.year_max),
            years=years,
        )

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
        Provenance.of_release(_ReleaseRow(str(d), str(s), str(v), str(lic), str(sha), y0, y1), used)
        for d, s, v, lic, sha, y0, y1 in rows
    ]
