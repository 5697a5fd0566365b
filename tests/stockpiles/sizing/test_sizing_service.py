"""The sizing service and CLI on the real store: the sized stock checked by running the engine
with it, the days rules against the baseline's demand, provenance, save as target through the
holdings ledger, and the command line's errors (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import DAYS_PER_MONTH
from critmat.scenarios.montecarlo import draw_parameters, evaluate_chunk
from critmat.services import stockpile_sizing as sizing
from critmat.services import stockpiles, stress
from critmat.stockpiles.sizing import SizingError
from critmat.store import Store, open_store

RUNS = 200


@pytest.fixture
def store(real_data_dir: Path) -> Iterator[Store]:
    found = open_store(real_data_dir / "critmat.duckdb", read_only=True)
    yield found
    found.close()


def _cli() -> typer.Typer:
    from critmat.commands import stockpile

    app = typer.Typer()
    stockpile.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stockpile" stays a sub-command
        """Placeholder."""

    return app


def test_sized_stock_covers_the_confidence_share_of_engine_runs(store: Store) -> None:
    request = sizing.SizingRequest(("cobalt",), runs=RUNS, seed=4, prices_eur_t={"*": 33_000.0})
    answer = sizing.size(request, store)
    (item,) = answer.items
    stock = item.sizing.stock_t
    assert stock > 0 and item.sizing.runs == RUNS

    # the engine itself, run with that stock held by the EU27, leaves ≤ 5 % of runs short
    prepared = stress.prepare("cobalt-drc-2025", None)
    responses = prepared.scenario.responses.model_copy(update={"stockpiles": {"EU27": stock}})
    held = prepared.scenario.model_copy(update={"responses": responses})
    found = build_baseline(store.con, held)
    draws = draw_parameters(prepared.uncertainty, RUNS, 4)
    eu_short = evaluate_chunk(held, found, prepared.uncertainty.targets, draws)[:, 0, :].sum(axis=1)
    assert (eu_short > 1e-6 * stock).mean() <= 0.05
    # and one level less would leave more than 5 % short
    responses = responses.model_copy(update={"stockpiles": {"EU27": stock * 0.999}})
    less = prepared.scenario.model_copy(update={"responses": responses})
    short_less = evaluate_chunk(less, found, prepared.uncertainty.targets, draws)[:, 0, :]
    assert (short_less.sum(axis=1) > 1e-9).mean() > 0.05

    daily = found.demand[0] / DAYS_PER_MONTH
    assert item.days_rules_t["JOGMEC 60 days"] == pytest.approx(60 * daily)
    assert item.days_rules_t["KOMIR 100 days"] == pytest.approx(100 * daily)
    assert item.stock_days == pytest.approx(stock / daily)
    assert item.demand.basis == found.demand_source[0]
    assert answer.scenarios[0]["name"] == "cobalt-drc-2025"
    assert answer.scenarios[0]["baseline_years"] == [2024]
    assert {r["dataset"] for r in answer.releases} == {"trade", "production"}
    document = sizing.document(answer)
    assert document["items"][0]["stock_t"] == pytest.approx(stock)
    assert document["model"]["binaries"] > 0 and "HiGHS" in document["solver"]
    assert sizing.SizingOut.model_validate(document).runs_per_scenario == RUNS


def test_member_states_and_weights(store: Store) -> None:
    request = sizing.SizingRequest(
        ("cobalt",),
        runs=50,
        member_states=True,
        member_state_weights=sizing.parse_member_state_weights(["Germany=2"]),
    )
    answer = sizing.size(request, store)
    by_state = {i.sizing.importer: i for i in answer.items}
    assert len(by_state) == 27 and by_state["DEU"].sizing.weight == 2.0
    assert by_state["FRA"].sizing.weight == 1.0
    assert any("their sum is more" in n for n in answer.notes)
    for item in answer.items:  # missing demand stays missing, never 0 days
        if item.demand.demand_t_per_day is None:
            assert item.stock_days is None and item.days_rules_t["JOGMEC 60 days"] is None


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        ({"materials": ("cobalt",), "confidence": 0.0}, "outside"),
        ({"materials": ("cobalt",), "runs": 0}, "at least 1"),
        ({"materials": ("cobalt",), "runs": sizing.MAX_RUNS + 1}, "at most"),
        ({"materials": ("cobalt",), "horizon_months": 0}, "horizon"),
        (
            {"materials": ("cobalt",), "horizon_months": 4, "scenarios": ("cobalt-drc-2025",)},
            "month 8",
        ),
        ({"materials": ("gallium",)}, "no scenario of gallium"),
        ({"materials": ("cobalt",), "scenarios": ("graphite-2023",)}, "about graphite"),
        ({"materials": ("cobalt",), "scenarios": ("no-such",)}, "no library scenario"),
        ({"materials": ("cobalt",), "budget_eur": 1e6}, "needs a price"),
        ({"materials": ("cobalt",), "prices_eur_t": {"nickel": 5.0}}, "not among"),
    ],
)
def test_bad_requests_are_clear_errors(
    store: Store, request_args: dict[str, object], message: str
) -> None:
    with pytest.raises(Exception, match=message) as caught:
        sizing.size(sizing.SizingRequest(**request_args), store)  # type: ignore[arg-type]
    assert isinstance(caught.value, SizingError | stress.UnknownScenario)


def test_parsing_of_assignments() -> None:
    assert sizing.parse_prices(["30000", "Co=40000"]) == {"*": 30000.0, "cobalt": 40000.0}
    for bad, message in [("DEU", "KEY=NUMBER"), ("DEU=x", "not a number"), ("DEU=-1", "above 0")]:
        with pytest.raises(SizingError, match=message):
            sizing.parse_member_state_weights([bad])
    with pytest.raises(SizingError, match="not an EU Member State"):
        sizing.parse_member_state_weights(["USA=2"])


def test_save_as_target_goes_through_the_ledger(store: Store, tmp_path: Path) -> None:
    from critmat.platform.db import upgrade

    url = f"sqlite:///{tmp_path / 'platform.db'}"
    upgrade(url)
    answer = sizing.size(sizing.SizingRequest(("cobalt",), runs=40), store)
    saved = sizing.save_targets(answer, database_url=url)
    assert saved == [("cobalt", "EU27", answer.items[0].sizing.stock_t)]
    positions = stockpiles.stress_positions("cobalt", None, database_url=url)
    assert positions.target_t["EU27"] == pytest.approx(answer.items[0].sizing.stock_t)


def test_cli_json_and_errors(real_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(real_data_dir))
    argv = ["stockpile", "size", "cobalt", "--runs", "60", "--price", "33000", "--format", "json"]
    ran = CliRunner().invoke(_cli(), argv)
    assert ran.exit_code == 0, ran.output
    printed = json.loads(ran.stdout)
    assert printed["items"][0]["material"] == "cobalt" and printed["runs_per_scenario"] == 60
    assert printed["cost_eur"] == pytest.approx(printed["items"][0]["cost_eur"])
    assert np.isfinite(printed["items"][0]["days60_t"])
    for args, message in [
        (["--confidence", "1.5"], "outside (0, 1]"),
        (["--budget", "1e6", "--price", "x"], "not a number"),
        (["--scenario", "graphite-2023"], "about graphite"),
    ]:
        failed = CliRunner().invoke(_cli(), ["stockpile", "size", "cobalt", *args])
        assert failed.exit_code == 2 and message in failed.output, failed.output


def test_stock_held_in_the_ledger_is_not_bought_again(store: Store, tmp_path: Path) -> None:
    from tests.stockpiles.ledger.support import migrated_ledger, open_lot

    ledger = migrated_ledger(f"sqlite:///{tmp_path / 'platform.db'}")
    open_lot(ledger, 100.0, "h6-held-1", material="cobalt")
    held, _notes = sizing.held_from_ledger(["cobalt"], database_url=ledger.url)
    assert held == {"cobalt/DEU": 100.0, "cobalt/EU27": 100.0}
    request = sizing.SizingRequest(("cobalt",), runs=40, prices_eur_t={"*": 1000.0}, held_t=held)
    (item,) = sizing.size(request, store).items
    assert item.sizing.held_t == 100.0
    assert item.sizing.buy_t == pytest.approx(max(0.0, item.sizing.stock_t - 100.0))
    hold = 0.02 * 24 / 12
    assert item.sizing.cost_eur == pytest.approx(
        1000.0 * (item.sizing.buy_t + hold * item.sizing.stock_t)
    )
