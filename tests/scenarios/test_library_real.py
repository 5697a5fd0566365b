"""The library scenarios, the backtest and the CLI on the real default data."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from critmat.reference.restrictions import load_restrictions
from critmat.reference.sectors import load_sector_splits
from critmat.scenarios.backtest import backtest
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import run, sector_exposure
from critmat.scenarios.spec import library_names, load_scenario


def test_library_cites_the_registry() -> None:
    ids = {r.id for r in load_restrictions()}
    names = library_names()
    assert len(names) == 6
    for name in names:
        scenario = load_scenario(name)
        assert scenario.registry_ids and set(scenario.registry_ids) <= ids


@pytest.mark.parametrize("name", library_names())
def test_library_runs_on_real_data(real_con: duckdb.DuckDBPyConnection, name: str) -> None:
    scenario = load_scenario(name)
    result = run(scenario, build_baseline(real_con, scenario))
    assert result.shortfall.shape == (28, scenario.horizon_months)
    total = result.supply + result.demand_reduction + result.stock_draw + result.shortfall
    np.testing.assert_allclose(total, result.demand, atol=1e-6)
    assert (result.shortfall >= -1e-9).all()
    sector_exposure(result, load_sector_splits())


def test_backtest_real(real_con: duckdb.DuckDBPyConnection) -> None:
    result = backtest(real_con)
    rows = result.rows.set_index("case")  # a measure may have several cases
    assert {"CN-2023-039/natural", "ID-2020-NI"} <= set(rows.index)
    assert rows.loc["ID-2020-NI", "predicted_change"] == pytest.approx(-1.0)
    # licensing from 1 Dec 2023 with 2 months without exports: January 2024 is lost
    assert rows.loc["CN-2023-039/natural", "predicted_change"] == pytest.approx(-1 / 12)
    assert "CN-2023-057" in set(result.skipped["id"])


def test_cli_contract(real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from critmat.commands import stress

    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    app = typer.Typer()
    stress.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stress" stays a sub-command
        """Placeholder."""

    runner = CliRunner()
    listed = runner.invoke(app, ["stress", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert {r["name"] for r in json.loads(listed.stdout)} == set(library_names())

    output = tmp_path / "results.csv"
    ran = runner.invoke(
        app, ["stress", "run", "graphite-2023", "--format", "json", "--output", str(output)]
    )
    assert ran.exit_code == 0, ran.output
    payload = json.loads(ran.stdout)
    assert payload["registry_ids"] == ["CN-2023-039"]
    assert {r["importer"] for r in payload["summary"]} >= {"EU27", "DEU"}
    assert output.read_text().startswith("importer,month_index,month,")

    table = runner.invoke(app, ["stress", "run", "rare-earths-2025-04"])
    assert table.exit_code == 0 and "EU27 by month" in table.stdout

    missing = runner.invoke(app, ["stress", "run", "no-such-scenario"])
    assert missing.exit_code == 2

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ntitle: t\nmaterial: cobalt\nbaseline: {years: [2022]}\n"
        "shocks: [{type: export_ban, country: CHN, duration_months: -1}]\n"
    )
    failed = runner.invoke(app, ["stress", "run", str(bad)])
    assert failed.exit_code == 2
    assert "shocks[0].duration_months" in failed.output

    back = runner.invoke(app, ["stress", "backtest", "--format", "csv"])
    assert back.exit_code == 0 and back.stdout.startswith("id,country,measure")
