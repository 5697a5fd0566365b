"""The refresh's shared-work paths give the same tables as the one-question functions.

:func:`~critmat.indicators.imports.sources_and_concentration` keeps the grouped flows in DuckDB
for both bases' concentration, and :func:`~critmat.indicators.refresh.exposure_both_bases`
groups the restricted flows once for both bases; here each is recomputed the plain way
(:func:`group_flows` + :func:`import_concentration`, :func:`exposure_series` per basis) on the
real default dataset and the tables compared cell by cell.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pandas.testing as pdt
import pytest

from critmat.indicators.imports import (
    BASES,
    group_flows,
    import_concentration,
    import_flows,
    sources_and_concentration,
)
from critmat.indicators.refresh import (
    default_importers,
    exposure_both_bases,
    plain_text,
    stage_code_groups,
    with_categories,
)
from critmat.indicators.restrictions import exposure_series
from critmat.reference.countries import group_members
from critmat.reference.materials import load_catalogue
from critmat.reference.restrictions import load_restrictions


@pytest.fixture
def coded_flows(real_con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every importer's flows of every code, as the refresh hands them on (categories)."""
    return with_categories(import_flows(real_con, default_importers()))


def test_sources_and_concentration_match_grouping_then_concentration(
    coded_flows: pd.DataFrame,
) -> None:
    groups = stage_code_groups(load_catalogue().materials)
    eu = group_members("EU27")
    inside = {s.name: s.inside_eu for s in default_importers()}
    sources, concentration = sources_and_concentration(coded_flows, groups, eu, inside)
    plain_sources = group_flows(coded_flows, groups)
    plain_concentration = pd.concat(
        [import_concentration(plain_sources, basis, eu, inside) for basis in BASES],
        ignore_index=True,
    )
    assert len(sources) > 100_000 and set(concentration["basis"]) == set(BASES)
    pdt.assert_frame_equal(plain_text(sources), plain_text(plain_sources))
    pdt.assert_frame_equal(plain_text(concentration), plain_text(plain_concentration))


def test_exposure_on_both_bases_matches_exposure_per_basis(coded_flows: pd.DataFrame) -> None:
    restrictions = load_restrictions()
    importers = default_importers()
    eu = group_members("EU27")
    both = exposure_both_bases(coded_flows, importers, restrictions, eu)
    per_basis = pd.concat(
        [
            exposure_series(coded_flows, importers, restrictions, basis, eu).assign(basis=basis)
            for basis in BASES
        ],
        ignore_index=True,
    )
    assert not both.empty and set(both["basis"]) == set(BASES)
    pdt.assert_frame_equal(plain_text(both), plain_text(per_basis))
