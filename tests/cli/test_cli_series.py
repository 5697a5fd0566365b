"""`critmat trend`, `reliance`, `unit-values` and custom importer groups on the real data,
checked against values recomputed from the raw SQLite files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.cli.test_cli_real_data import raw_imports, run
from tests.support import EU27


def _raw_exports(raw: Path, members: frozenset[str], codes: set[str], year: int) -> float:
    con = sqlite3.connect(raw / "baci.db")
    iso = dict(con.execute("SELECT country_code, country_iso3 FROM country_codes_V202401b"))
    iso["490"] = "TWN"
    total = 0.0
    rows = con.execute("SELECT i, j, k, q FROM baci_trade WHERE t = ?", [str(year)])
    for i, j, k, q in rows:
        crosses = iso[i.strip()] in members and iso[j.strip()] not in members
        has_quantity = q is not None and str(q).strip() != ""
        if f"{int(k):06d}" in codes and crosses and has_quantity:
            total += float(q)
    return total


def test_trend_matches_each_year(real_data_dir, raw_bundle):
    code, out, err = run(
        real_data_dir,
        "trend",
        "rare earths",
        "--from",
        "2019",
        "--to",
        "2024",
        "--basis",
        "value",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert [r["year"] for r in result["rows"]] == list(range(2019, 2025))
    for row in result["rows"]:
        expected = raw_imports(raw_bundle, EU27, set(result["hs_codes"]), row["year"], "value")
        total = sum(expected.values())
        top = max(expected, key=expected.get)
        assert row["top_supplier"] == top
        assert row["top_share"] == pytest.approx(expected[top] / total)
        assert row["total"] == pytest.approx(total)


def test_reliance_matches_wmd_and_baci(real_data_dir, raw_bundle):
    code, out, err = run(
        real_data_dir, "reliance", "copper", "--from", "2022", "--to", "2022", "--format", "json"
    )
    assert code == 0, err
    [row] = [r for r in json.loads(out)["rows"] if r["commodity"] == "Copper"]
    wmd = sqlite3.connect(raw_bundle / "world_mining_data.db")
    production = sum(
        q
        for iso, q in wmd.execute('SELECT Country_ISO, "2022" FROM "Copper"').fetchall()
        if iso in EU27 and q is not None
    )
    codes = set(json.loads(out)["hs_codes"])
    imports = sum(raw_imports(raw_bundle, EU27, codes, 2022, "mass").values())
    exports = _raw_exports(raw_bundle, EU27, codes, 2022)
    assert row["production"] == pytest.approx(production)
    assert row["imports_t"] == pytest.approx(imports)
    assert row["exports_t"] == pytest.approx(exports)
    # content basis: copper concentrates (HS 260300) at 25 % Cu (hs_content_factors.csv)
    assert codes == {"260300"}
    consumption = production + 0.25 * (imports - exports)
    assert row["import_reliance"] == pytest.approx(0.25 * (imports - exports) / consumption)
    assert row["estimated"] is True


def test_unit_values_match_baci(real_data_dir, raw_bundle):
    code, out, err = run(
        real_data_dir, "unit-values", "--hs", "282200", "--year", "2023", "--format", "json"
    )
    assert code == 0, err
    rows = {r["origin"]: r for r in json.loads(out)["rows"]}
    value = raw_imports(raw_bundle, EU27, {"282200"}, 2023, "value_with_quantity")
    mass = raw_imports(raw_bundle, EU27, {"282200"}, 2023, "mass")
    assert rows["CHN"]["usd_per_t"] == pytest.approx(1000 * value["CHN"] / mass["CHN"])
    assert all(r["usd_per_t"] > 0 for r in rows.values())


def test_custom_group_counts_only_flows_from_outside_it(real_data_dir, raw_bundle):
    code, out, err = run(
        real_data_dir,
        "dependency",
        "--hs",
        "282200",
        "--year",
        "2023",
        "--importer",
        "DEU, FRA,Italy",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    members = frozenset({"DEU", "FRA", "ITA"})
    assert result["importer"] == "DEU+FRA+ITA"
    expected = raw_imports(raw_bundle, members, {"282200"}, 2023, "mass")
    assert result["total"] == pytest.approx(sum(v for v in expected.values() if v > 0))
    assert not {"DEU", "FRA", "ITA"} & {s["country"] for s in result["sources"]}


def test_reliance_for_material_without_matching_series_fails_clearly(real_data_dir):
    code, _out, err = run(real_data_dir, "reliance", "helium")
    assert code == 2 and "apparent consumption cannot be computed" in err
