"""Monte Carlo on a library scenario with the real default data, and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import run
from critmat.scenarios.montecarlo import load_scenario_file, parse_uncertainty, run_montecarlo
from critmat.scenarios.spec import LIBRARY, load_scenario

UNCERTAINTY = {
    "spare_capacity_fraction": {"dist": "uniform", "low": 0.05, "high": 0.2},
    "ramp_up_months": {"dist": "choice", "values": [3, 6, 9]},
    "demand_elasticity": {"dist": "triangular", "low": 0.0, "mode": 0.1, "high": 0.2},
    "shocks[0].duration_months": {"dist": "triangular", "low": 4, "mode": 8, "high": 12},
    "shocks[1].fraction_kept": {"dist": "normal", "mean": 0.48, "sd": 0.1, "low": 0.2, "high": 0.8},
}


def test_cobalt_library_scenario_bands(real_con: duckdb.DuckDBPyConnection) -> None:
    scenario = load_scenario("cobalt-drc-2025")
    baseline = build_baseline(real_con, scenario)
    uncertainty = parse_uncertainty(UNCERTAINTY, scenario, "cobalt-drc-2025.yaml")
    result = run_montecarlo(scenario, baseline, uncertainty, 300, seed=5)
    low, mid, high = result.shortfall_bands
    assert low.shape == (28, 24)
    assert (low <= mid).all() and (mid <= high).all()
    assert (low >= 0).all() and (high <= result.demand[:, None] * (1 + 1e-12)).all()
    eu = result.importers.index("EU27")
    assert high[eu].max() > 0 and (high[eu] > low[eu]).any()
    # the scenario's own point values lie inside the run spread of the horizon total
    point = run(scenario, baseline).shortfall.sum(axis=1)[eu]
    assert result.total_bands[0, eu] <= point <= result.total_bands[2, eu]
    again = run_montecarlo(scenario, baseline, uncertainty, 300, seed=5, chunk_size=33)
    np.testing.assert_array_equal(again.shortfall_bands, result.shortfall_bands)


def test_cli_montecarlo(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from critmat.commands import stress

    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    monkeypatch.delenv("CRITMAT_DASK_SCHEDULER", raising=False)
    app = typer.Typer()
    stress.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stress" stays a sub-command
        """Placeholder."""

    raw = yaml.safe_load((LIBRARY / "cobalt-drc-2025.yaml").read_text(encoding="utf-8"))
    raw["name"] = "cobalt-mc"
    raw["uncertainty"] = UNCERTAINTY
    path = tmp_path / "cobalt-mc.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    assert len(load_scenario_file(path)[1].parameters) == 5

    runner = CliRunner()
    args = ["stress", "montecarlo", str(path), "--runs", "200", "--seed", "9"]
    output = tmp_path / "bands.csv"
    ran = runner.invoke(app, [*args, "--format", "json", "--output", str(output)])
    assert ran.exit_code == 0, ran.output
    payload = json.loads(ran.stdout)
    assert payload["runs"] == 200 and payload["seed"] == 9 and payload["backend"] == "in-process"
    assert [p["parameter"] for p in payload["parameters"]] == list(UNCERTAINTY)
    assert {r["importer"] for r in payload["summary"]} >= {"EU27", "DEU"}
    assert len(payload["bands"]) == 28 * 24
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0].keys() >= {"importer", "month", "shortfall_p5_t", "shortfall_p95_pct"}
    assert len(rows) == 28 * 24

    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert as_csv.exit_code == 0
    assert as_csv.stdout == output.read_text(encoding="utf-8").replace("\r\n", "\n")

    # the command line adds or replaces parameters; a file needs at least one
    table = runner.invoke(
        app,
        [
            "stress",
            "montecarlo",
            "graphite-2023",
            "-n",
            "50",
            "-p",
            "shocks[0].delay_months=choice:1,2,3",
        ],
    )
    assert table.exit_code == 0, table.output
    assert "EU27 by month" in table.stdout and "delay_months ~ choice(1, 2, 3)" in table.stdout
    certain = {k: v for k, v in raw.items() if k != "uncertainty"} | {"name": "cobalt-certain"}
    certain_path = tmp_path / "cobalt-certain.yaml"
    certain_path.write_text(yaml.safe_dump(certain, sort_keys=False), encoding="utf-8")
    nothing = runner.invoke(app, ["stress", "montecarlo", str(certain_path)])
    assert nothing.exit_code == 2 and "no uncertain parameter" in nothing.output
    bad = runner.invoke(app, [*args, "-p", "ramp_up_months=uniform:5"])
    assert bad.exit_code == 2 and "takes 2 numbers" in bad.output

    # `stress run` reads files that carry an uncertainty block (and ignores the block)
    point = runner.invoke(app, ["stress", "run", str(path), "--format", "json"])
    assert point.exit_code == 0, point.output
    assert json.loads(point.stdout)["scenario"] == "cobalt-mc"
