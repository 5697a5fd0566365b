"""Invariants of the concentration measures on random trade tables (hypothesis)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import EU27, canonical_connection

from critmat.indicators.imports import ImporterSet, import_concentration, import_sources
from critmat.sources.base import CANONICAL_COLUMNS

ORIGINS = ["CHN", "COD", "USA", "BRA", "FIN", "DEU", "ZAF"]

flows = st.lists(
    st.tuples(
        st.sampled_from(ORIGINS),
        st.sampled_from(["DEU", "FRA", "ITA"]),
        st.floats(min_value=0.001, max_value=1e6),
        st.one_of(st.none(), st.floats(min_value=0.001, max_value=1e6)),
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda f: (f[0], f[1]),
)


@settings(max_examples=60, deadline=None)
@given(flows)
def test_shares_sum_to_one_and_hhi_is_bounded(rows):
    frame = pd.DataFrame(
        [(2020, o, i, "282200", v, q) for o, i, v, q in rows if o != i],
        columns=list(CANONICAL_COLUMNS["trade"]),
    )
    con = canonical_connection(trade=frame)
    eu = ImporterSet("EU27", EU27, inside_eu=True)
    sources = import_sources(con, [eu], {"g": ["282200"]})
    for basis in ("mass", "value"):
        result = import_concentration(sources, basis, EU27, {"EU27": True})
        for _, row in result.iterrows():
            assert 1 / row["suppliers"] - 1e-12 <= row["hhi"] <= 1 + 1e-12
            assert row["top_share"] ** 2 <= row["hhi"] + 1e-12
            assert row["top_third_share"] <= row["top_share"] + 1e-12
        extra = frame[~frame["exporter"].isin(EU27)]
        column = "quantity_t" if basis == "mass" else "value_kusd"
        expected_total = extra[column].sum(min_count=1)
        if result.empty:
            assert pd.isna(expected_total) or expected_total == 0
        else:
            assert result.iloc[0]["total"] == pytest.approx(expected_total)
