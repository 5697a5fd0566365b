"""The backtest on the shipped data: every case's EU27 imports recomputed by pandas over the
raw trade rows (the HS17 extract read from its shipped Parquet file), the summary recomputed
from the rows, "no data" never shown as 0, and the CLI (table, JSON, CSV) and API answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from critmat import sources
from critmat.reference.countries import group_members
from critmat.scenarios.backtest import backtest, load_cases

HS17_EXTRACT = Path(sources.__file__).parent / "shipped" / "baci-hs17-v202601-2024-extract.parquet"
EU = group_members("EU27")
NEW_CASES = (
    "CN-2023-023/unwrought",
    "CN-2023-039/natural",
    "CN-2023-039/synthetic",
    "CN-2024-033/metal",
    "CN-2024-033/oxide",
)


@pytest.fixture(scope="module")
def rows(real_data_dir: Path) -> pd.DataFrame:
    with duckdb.connect(str(real_data_dir / "critmat.duckdb"), read_only=True) as con:
        return backtest(con).rows.set_index("case")


def _hs92_tonnes(con: duckdb.DuckDBPyConnection, codes: list[str], year: int) -> float:
    """EU27 imports (t) from China by pandas over the raw HS92 rows of the year."""
    raw = con.execute("SELECT * FROM trade_all WHERE series = 'HS92' AND year = ?", [year]).df()
    picked = raw[raw.hs6.isin(codes) & (raw.exporter == "CHN") & raw.importer.isin(EU)]
    return float(picked.quantity_t.sum())


def _hs17_tonnes(code: str) -> tuple[float, float]:
    """EU27 imports (t) from China in 2024 and China's share of the EU27's extra-EU imports,
    by pandas over the shipped Parquet file."""
    raw = pd.read_parquet(HS17_EXTRACT)
    extra_eu = raw[(raw.hs6 == code) & raw.importer.isin(EU) & ~raw.exporter.isin(EU)]
    china = float(extra_eu[extra_eu.exporter == "CHN"].qty_t.sum())
    return china, china / float(extra_eu.qty_t.sum())


def test_every_new_case_runs_on_the_shipped_data(rows: pd.DataFrame) -> None:
    assert set(NEW_CASES) <= set(rows.index)
    assert {c.case for c in load_cases()} == set(NEW_CASES)
    antimony = rows[rows["id"] == "CN-2024-033"]
    assert "261710" not in " ".join(antimony["hs_codes"])  # not the ore code any more
    for case in NEW_CASES:
        assert rows.loc[case, "caveats"], case  # every case carries its caveats


def test_gallium_germanium_2024_from_hs17_and_2022_no_data(
    rows: pd.DataFrame,
) -> None:
    row = rows.loc["CN-2023-023/unwrought"]
    assert (row["before"], row["after"], row["months_in_force"]) == (2022, 2024, 12)
    assert pd.isna(row["before_series"]) and row["after_series"] == "HS17"
    assert row["hs_codes"] == "no data → HS17 811292"
    tonnes, share = _hs17_tonnes("811292")
    assert row["observed_after_t"] == pytest.approx(tonnes, rel=1e-12) and tonnes > 0
    assert row["share_after"] == pytest.approx(share, rel=1e-12)
    assert math.isnan(row["share_before"])
    for key in ("eu_imports_before_t", "observed_change", "predicted_change", "error_pp"):
        assert math.isnan(row[key]), key  # missing, never 0
    assert "2022: no data" in row["notes"]
    # the catalogue's bundling note of the code read comes first
    assert row["caveats"].startswith(
        "HS17 811292 holds gallium, germanium, hafnium, indium, niobium, rhenium and vanadium"
    )


def test_graphite_natural_recomputed_and_synthetic_no_data(
    rows: pd.DataFrame, real_con: duckdb.DuckDBPyConnection
) -> None:
    natural = rows.loc["CN-2023-039/natural"]
    assert natural["hs_codes"] == "HS92 250410;250490"
    before = _hs92_tonnes(real_con, ["250410", "250490"], 2022)
    after = _hs92_tonnes(real_con, ["250410", "250490"], 2024)
    assert natural["eu_imports_before_t"] == pytest.approx(before, rel=1e-12)
    assert natural["observed_after_t"] == pytest.approx(after, rel=1e-12)
    assert natural["observed_change"] == pytest.approx(after / before - 1, rel=1e-12)
    synthetic = rows.loc["CN-2023-039/synthetic"]
    assert synthetic["hs_codes"] == "no data"
    assert math.isnan(synthetic["eu_imports_before_t"]) and math.isnan(
        synthetic["observed_after_t"]
    )
    assert "2022: no data" in synthetic["notes"] and "2024: no data" in synthetic["notes"]


def test_antimony_metal_and_oxide(rows: pd.DataFrame) -> None:
    metal = rows.loc["CN-2024-033/metal"]
    assert (metal["before"], metal["after"], metal["months_in_force"]) == (2023, 2024, 4)
    assert metal["after_series"] == "HS17"
    tonnes, share = _hs17_tonnes("811010")
    assert metal["observed_after_t"] == pytest.approx(tonnes, rel=1e-12)
    assert metal["share_after"] == pytest.approx(share, rel=1e-12)
    assert math.isnan(metal["observed_change"])
    oxide = rows.loc["CN-2024-033/oxide"]
    assert math.isnan(oxide["observed_after_t"]) and pd.isna(oxide["direction_right"])


def _sign(change: float) -> int:
    return 0 if abs(change) < 0.01 else (1 if change > 0 else -1)


def test_summary_recomputed_from_the_rows(real_con: duckdb.DuckDBPyConnection) -> None:
    result = backtest(real_con)
    frame = result.rows
    both = frame[np.isfinite(frame.predicted_change) & np.isfinite(frame.observed_change)]
    pairs = list(zip(both.predicted_change, both.observed_change, strict=True))
    errors = [abs(100 * (p - o)) for p, o in pairs]
    right = sum(_sign(p) == _sign(o) for p, o in pairs)
    summary = result.summary()
    assert summary.compared == len(both) >= 3
    assert summary.mean_absolute_error_pp == pytest.approx(sum(errors) / len(errors))
    assert summary.direction_right == right
    assert set(summary.without_data) == set(frame.case) - set(both.case)
    assert f"direction right in {right} of {len(both)}" in summary.line()


def _cli(real_data_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str):  # type: ignore[no-untyped-def]
    import typer

    from critmat.commands import stress

    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    app = typer.Typer()
    stress.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stress" stays a sub-command
        """Placeholder."""

    return CliRunner().invoke(app, ["stress", "backtest", *args])


def test_cli_table_json_and_csv(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch, real_con: duckdb.DuckDBPyConnection
) -> None:
    line = backtest(real_con).summary().line()
    table = _cli(real_data_dir, monkeypatch)
    assert table.exit_code == 0, table.output
    flat = " ".join(table.stdout.split())
    assert " ".join(line.split()) in flat
    assert "no data" in flat and "811292 holds gallium, germanium" in flat

    document = json.loads(_cli(real_data_dir, monkeypatch, "--format", "json").stdout)
    assert document["summary"]["line"] == line
    by_case = {r["case"]: r for r in document["rows"]}
    assert by_case["CN-2023-039/synthetic"]["observed_after_t"] is None
    assert {r["series"] for r in document["releases"]} == {"HS92", "HS17"}

    csv = _cli(real_data_dir, monkeypatch, "--format", "csv")
    assert csv.exit_code == 0 and csv.stdout.startswith("id,country,measure,case,")
    frame = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    synthetic = frame.set_index("case").loc["CN-2023-039/synthetic"]
    assert pd.isna(synthetic["eu_imports_before_t"])  # an empty cell, not 0
    assert " ".join(line.split()) in " ".join(csv.stderr.split())
