"""Import reliance on one basis: trade times its content factor, recomputed with pandas on a
hand-made store; a value outside 0–100 % gets a reason, never a bare negative percentage; the
content-factor file is sourced row by row and bad files are refused with row and field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.support import EU27, canonical_connection

from critmat.errors import InputFileError
from critmat.indicators.consumption import apparent_consumption_many
from critmat.indicators.imports import ImporterSet
from critmat.reference.content_factors import (
    METHODS,
    content_factor,
    load_content_factors,
)
from critmat.reference.materials import load_catalogue

EU = ImporterSet("EU27", EU27, inside_eu=True)
TRADE = ["year", "exporter", "importer", "hs6", "value_kusd", "quantity_t"]
PRODUCTION = ["commodity", "country", "year", "quantity", "unit", "estimated"]


def _con() -> object:
    trade = pd.DataFrame(
        [
            # copper concentrate (260300): EU imports 400 t, exports 40 t gross
            (2022, "CHL", "ESP", "260300", 100.0, 300.0),
            (2022, "PER", "DEU", "260300", 50.0, 100.0),
            (2022, "ESP", "CHN", "260300", 10.0, 40.0),
            (2022, "ESP", "DEU", "260300", 99.0, 999.0),  # intra-EU: neither
            # tungsten concentrate (261100): imports 100 t, exports 1,000 t gross
            (2022, "RWA", "AUT", "261100", 10.0, 100.0),
            (2022, "PRT", "CHN", "261100", 10.0, 1000.0),
        ],
        columns=TRADE,
    )
    production = pd.DataFrame(
        [
            ("Copper", "ESP", 2022, 100.0, "metr. t", False),
            ("Tungsten (W)", "PRT", 2022, 500.0, "metr. t", False),
            ("Tungsten (W)", "CHN", 2022, 9000.0, "metr. t", False),
        ],
        columns=PRODUCTION,
    )
    return canonical_connection(trade=trade, production=production)


def _row(frame: pd.DataFrame, material: str) -> pd.Series:
    rows = frame.loc[(frame["material"] == material) & (frame["year"] == 2022)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_copper_reliance_on_the_content_basis_recomputed() -> None:
    catalogue = load_catalogue()
    frame = apparent_consumption_many(_con(), [EU], [catalogue.get("copper")], [2022])
    row = _row(frame, "copper")
    factor = content_factor("260300", "copper")
    assert factor is not None and factor.source
    imports, exports = 400.0 * factor.factor, 40.0 * factor.factor
    consumption = 100.0 + imports - exports
    assert (row["imports_t"], row["exports_t"]) == (400.0, 40.0)
    assert row["imports_content_t"] == pytest.approx(imports)
    assert row["apparent_consumption"] == pytest.approx(consumption)
    assert row["import_reliance"] == pytest.approx((imports - exports) / consumption)
    low = 360.0 * factor.factor_low / (100.0 + 360.0 * factor.factor_low)
    high = 360.0 * factor.factor_high / (100.0 + 360.0 * factor.factor_high)
    assert (row["import_reliance_low"], row["import_reliance_high"]) == pytest.approx((low, high))
    assert not row["ir_out_of_range"] and row["ir_reason"] is None
    assert "260300" in row["content_factors"]


def test_a_net_exporter_gets_a_reason_not_a_negative_percentage() -> None:
    catalogue = load_catalogue()
    frame = apparent_consumption_many(_con(), [EU], [catalogue.get("tungsten")], [2022])
    row = _row(frame, "tungsten")
    factor = content_factor("261100", "tungsten")
    assert factor is not None
    net = (100.0 - 1000.0) * factor.factor
    assert row["import_reliance_computed"] == pytest.approx(net / (500.0 + net))
    assert row["import_reliance_computed"] < 0
    assert pd.isna(row["import_reliance"]) and bool(row["ir_out_of_range"])
    assert str(row["ir_reason"]).startswith("net exporter: exports exceed imports")


def test_exports_above_production_and_imports_are_explained() -> None:
    catalogue = load_catalogue()
    con = _con()
    con.execute("UPDATE production SET quantity = 10 WHERE country = 'PRT'")  # type: ignore[attr-defined]
    frame = apparent_consumption_many(con, [EU], [catalogue.get("tungsten")], [2022])
    row = _row(frame, "tungsten")
    assert row["apparent_consumption"] < 0
    assert pd.isna(row["import_reliance"]) and bool(row["ir_out_of_range"])
    assert "exports exceed production + imports" in str(row["ir_reason"])


def test_every_factor_row_is_sourced_and_names_a_catalogue_material() -> None:
    catalogue = load_catalogue()
    factors = load_content_factors()
    assert factors
    for factor in factors.values():
        catalogue.get(factor.material)  # raises for an unknown id
        assert factor.source and factor.method in METHODS
        assert 0 < factor.factor_low <= factor.factor <= factor.factor_high <= 1


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"factor": "1.5"}, "factor"),
        ({"factor": "abc"}, "factor"),
        ({"source": ""}, "source"),
        ({"method": "guess"}, "method"),
        ({"hs6": "2603"}, "hs6"),
        ({"factor_low": "0.5"}, "factor"),  # low above the central factor
    ],
)
def test_bad_factor_files_are_refused_with_row_and_field(
    tmp_path: Path, cells: dict[str, str], field: str
) -> None:
    row = {
        "revision": "HS92",
        "hs6": "260300",
        "material": "copper",
        "content_of": "Cu",
        "factor": "0.25",
        "factor_low": "0.2",
        "factor_high": "0.35",
        "method": "typical_grade",
        "source": "a source",
        "note": "",
    } | cells
    path = tmp_path / "factors.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    with pytest.raises(InputFileError) as caught:
        load_content_factors(path)
    assert caught.value.row == 2 and caught.value.field == field
