"""``GET /api/v1/origins`` on the real default data: both views, their releases, and the
figures recomputed by other paths — the shipping view from the raw BACI file of the wheel
(plain ``sqlite3``), the origin view by an iterative propagation over the store's trade rows in
pandas (the physical story, not the linear system of :mod:`critmat.indicators.origins`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from critmat.reference.countries import group_members
from tests.api_stats.conftest import Api
from tests.api_stats.raw import raw_imports

EU27 = group_members("EU27")


def _propagated_origins(
    con: duckdb.DuckDBPyConnection, codes: list[str], year: int, production: dict[str, float]
) -> pd.Series:
    """Origins of EU27's imports by shipping round after round: each country's stock is its
    production (plus, when it ships more than it has, the rest: its own if it produces, else
    'unattributed') and what it received; it ships that mix. Stops when nothing changes."""
    flows = con.execute(
        "SELECT exporter, importer, sum(quantity_t) AS q FROM trade "
        "WHERE quantity_t > 0 AND list_contains(?, hs6) AND year = ? GROUP BY ALL",
        [codes, year],
    ).df()
    flows = flows[flows["exporter"] != flows["importer"]]
    nodes = sorted(set(flows["exporter"]) | set(flows["importer"]))
    labels = [*nodes, "unattributed"]
    z = flows.pivot_table("q", "exporter", "importer", aggfunc="sum").reindex(
        index=nodes, columns=nodes, fill_value=0.0
    )
    z = z.fillna(0.0).to_numpy()
    p = np.array([production.get(c, 0.0) for c in nodes])
    imports, exports = z.sum(axis=0), z.sum(axis=1)
    surplus = np.maximum(0.0, exports - p - imports)
    own = np.zeros((len(nodes), len(labels)))
    for i, c in enumerate(nodes):
        if c in production and production[c] > 0:
            own[i, i] = p[i] + surplus[i]
        else:
            own[i, -1] = surplus[i]
    supply = own.sum(axis=1) + imports
    stock = own.copy()
    for _ in range(100_000):
        mix = stock / np.where(supply > 0, supply, 1.0)[:, None]
        updated = own + z.T @ mix
        if np.abs(updated - stock).max() < 1e-9:
            break
        stock = updated
    mix = stock / np.where(supply > 0, supply, 1.0)[:, None]
    eu = np.array([c in EU27 for c in nodes])
    to_eu = np.where(eu, 0.0, z[:, eu].sum(axis=1))
    return pd.Series(to_eu @ mix, index=labels)


def test_cobalt_eu27_both_views_match_other_paths(
    api: Api, raw_bundle: Path, api_data_dir: Path
) -> None:
    response = api.get("/api/v1/origins", material="cobalt", importer="EU27", year=2023)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stage"], body["origin_stage"], body["year"]) == (
        "intermediate",
        "extraction",
        2023,
    )
    assert body["trade_release"]["series"] == "HS92" and body["trade_release"]["release_id"]
    assert body["production_release"]["series"] == "USGS MCS 2024"
    assert body["production_release"]["release_id"]
    assert {p["dataset"] for p in body["provenance"]} >= {"trade", "stage_production"}

    shipped = {r["country"]: r["quantity_t"] for r in body["by_shipping"]}
    expected = raw_imports(raw_bundle, EU27, set(body["hs_codes"]), 2023, "mass")
    assert shipped.keys() == expected.keys()
    for country, tonnes in expected.items():
        assert shipped[country] == pytest.approx(tonnes, rel=1e-9)

    by_origin = {r["country"]: r["quantity_t"] for r in body["by_origin"]}
    # mass balance: every tonne imported has an origin or is unattributed, none is dropped
    assert sum(by_origin.values()) == pytest.approx(body["imports_t"], rel=1e-9)
    assert sum(shipped.values()) == pytest.approx(body["imports_t"], rel=1e-9)
    assert by_origin["unattributed"] == pytest.approx(body["unattributed_t"])

    con = duckdb.connect(str(api_data_dir / "critmat.duckdb"), read_only=True)
    try:
        mined = con.execute(
            "SELECT country, quantity_t FROM stage_production_all WHERE series = 'USGS MCS 2024' "
            "AND commodity = 'Cobalt' AND stage = 'mine' AND year = 2023 AND quantity_t > 0 "
            "AND country NOT IN ('WLD', 'ROW')"
        ).fetchall()
        propagated = _propagated_origins(con, body["hs_codes"], 2023, dict(mined))
    finally:
        con.close()
    propagated = propagated[propagated > 1e-6 * body["imports_t"]]
    assert set(propagated.index) == set(by_origin)
    for country, tonnes in propagated.items():
        assert by_origin[country] == pytest.approx(tonnes, rel=1e-6, abs=1e-6)


def test_platinum_refiners_are_not_credited_as_origins(api: Api) -> None:
    body = api.get("/api/v1/origins", material="platinum", importer="EU27", year=2023).json()
    shipped = {r["country"]: r["share"] for r in body["by_shipping"]}
    made = {r["country"]: r["share"] for r in body["by_origin"]}
    assert shipped["GBR"] > 0.05 and shipped["CHE"] > 0.05  # the refiners ship it
    assert made.get("GBR", 0.0) < 0.01 and made.get("CHE", 0.0) < 0.01  # they did not mine it
    assert max(made, key=made.__getitem__) == "ZAF"
    assert made["ZAF"] > shipped["ZAF"]


def test_member_state_csv_holds_both_views_with_releases(api: Api) -> None:
    response = api.get("/api/v1/origins", material="cobalt", importer="DEU", format="csv")
    assert response.status_code == 200, response.text
    text = response.text
    rows = list(csv.DictReader(io.StringIO(text[text.index("material,") :])))
    assert {r["view"] for r in rows} == {"by shipping country", "by origin"}
    assert {r["importer"] for r in rows} == {"DEU"}
    assert all(r["trade_release"] and r["production_series"] for r in rows)
    # a Member State's imports from other Member States count (it is not a group)
    assert any(r["eu_member"] == "True" for r in rows if r["view"] == "by shipping country")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"material": "cobalt", "year": 1999}, "cannot be traced in 1999"),
        ({"material": "cobalt", "stage": "extraction"}, "cannot be traced"),
        ({"material": "coblt"}, "unknown material"),
    ],
)
def test_no_data_and_unknown_names_are_404_with_a_hint(
    api: Api, params: dict[str, object], fragment: str
) -> None:
    response = api.get("/api/v1/origins", **params)
    assert response.status_code == 404, response.text
    assert fragment in response.text
