"""The one governance weight: ``critmat.risk.geopolrisk.governance_weight`` is the rule, and the
set-based scores, the per-origin breakdown and the company method all follow it."""

from __future__ import annotations

import math

import duckdb
import pytest

from critmat.indicators.imports import ImporterSet, import_flows
from critmat.risk import _company_method as cm
from critmat.risk import geopolrisk as gpr


@pytest.mark.parametrize(
    ("pv", "weight"),
    [
        (2.5, 0.0),  # most stable end of the scale
        (3.1, 0.0),  # beyond it: clipped
        (0.0, 0.5),
        (-1.5, 0.8),
        (-2.5, 1.0),
        (-2.9, 1.0),  # clipped at the least stable end
        (None, 0.5),  # missing: the peer's rule
        (math.nan, 0.5),  # NaN counts as missing
    ],
)
def test_governance_weight(pv: float | None, weight: float) -> None:
    assert gpr.governance_weight(pv) == pytest.approx(weight, abs=1e-15)


def test_company_method_uses_the_rule() -> None:
    for pv in (None, math.nan, -2.7, -1.3, -0.2, 0.0, 0.4, 1.9, 2.6):
        assert cm.instability(pv) == gpr.governance_weight(pv)


def test_governance_weights_table_applies_the_rule_to_every_estimate() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE governance (country VARCHAR, indicator VARCHAR, year INTEGER, "
        "estimate DOUBLE)"
    )
    con.executemany(
        "INSERT INTO governance VALUES (?, ?, ?, ?)",
        [
            ("DEU", "PV", 2022, 0.61),
            ("COD", "PV", 2022, -1.83),
            ("NOR", "PV", 2022, 3.2),
            ("TWN", "PV", 2022, None),  # no estimate: no row, the caller's missing rule applies
            ("FRA", "PV", 2022, float("nan")),
            ("DEU", "GE", 2022, -2.0),  # another indicator
            ("DEU", "PV", 2019, 0.7),  # another year
        ],
    )
    table = gpr.governance_weights(con, [2022])
    got = {row.country: row.w for row in table.itertuples()}
    assert got == {
        "DEU": gpr.governance_weight(0.61),
        "COD": gpr.governance_weight(-1.83),
        "NOR": 0.0,
    }
    assert list(table["year"]) == [2022, 2022, 2022]


def test_scores_weight_each_origin_by_the_rule(real_con: duckdb.DuckDBPyConnection) -> None:
    """Germany's weighted cobalt imports in 2022 equal Σ tonnes × governance_weight(PV),
    recomputed here from the trade and governance tables."""
    importer = ImporterSet.country("DEU")
    codes = gpr.commodity_codes(["Cobalt"])["Cobalt"]
    rows = gpr.geopolrisk_scores(real_con, [importer], ["Cobalt"], [2022])
    flows = import_flows(real_con, [importer], codes, [2022])
    pv = dict(
        real_con.execute(
            "SELECT country, estimate FROM governance WHERE indicator = 'PV' AND year = 2022 "
            "AND estimate IS NOT NULL AND NOT isnan(estimate)"
        ).fetchall()
    )
    tonnes = flows.groupby("origin")["quantity_t"].sum()
    expected = sum(float(t) * gpr.governance_weight(pv.get(o)) for o, t in tonnes.items())
    assert expected > 0
    assert float(rows["weighted_imports"].iloc[0]) == pytest.approx(expected, rel=1e-9)
