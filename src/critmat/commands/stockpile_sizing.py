"""``critmat stockpile`` commands of stockpile sizing (docs/stockpile-sizing.md)."""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start (critmat.commands).

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from critmat.cli_output import (
    Format,
    emit_document,
    fmt_number,
    out,
    status,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.options import FormatOpt, output_option

if TYPE_CHECKING:  # annotations only: the service loads when a command runs
    from critmat.services.stockpile_sizing import SizingAnswer

#: The table of sized stocks: (row key, header, kind).
ITEM_COLUMNS = (
    ("material", "material", "text"),
    ("importer", "importer", "text"),
    ("stock_t", "stock t", ""),
    ("held_t", "held t", ""),
    ("buy_t", "to buy t", ""),
    ("share_runs_covered", "runs covered", "share"),
    ("share_shortfall_covered", "shortfall covered", "share"),
    ("cost_eur", "cost EUR", ""),
    ("stock_days", "days of demand", ""),
    ("days60_t", "60 days t", ""),
    ("days100_t", "100 days t", ""),
    ("weight", "weight", ""),
)
CURVE_COLUMNS = (
    ("stock_t", "stock t", ""),
    ("share_shortfall_covered", "shortfall covered", "share"),
    ("share_runs_covered", "runs fully covered", "share"),
    ("cost_eur", "cost EUR", ""),
)

MaterialsArg = Annotated[
    list[str], typer.Argument(help="One or more materials (names or aliases).", show_default=False)
]


def register(group: typer.Typer) -> None:
    """Add the sizing commands to the ``critmat stockpile`` group."""
    group.command("size")(size_command)


def size_command(
    materials: MaterialsArg,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario", help="Library scenario (repeat; default: every one of the material)."
        ),
    ] = None,
    runs: Annotated[int, typer.Option(help="Monte Carlo runs per scenario.")] = 1000,
    seed: Annotated[int, typer.Option(help="numpy default_rng seed of the runs.")] = 1,
    confidence: Annotated[float, typer.Option(help="Share of runs to cover, in (0, 1].")] = 0.95,
    horizon: Annotated[int, typer.Option(help="Months the stock must cover.")] = 24,
    budget: Annotated[
        float | None, typer.Option(help="Budget, EUR (purchase plus holding).")
    ] = None,
    price: Annotated[
        list[str] | None,
        typer.Option(help="Price EUR/t: NUMBER for every material, or MATERIAL=NUMBER (repeat)."),
    ] = None,
    holding_cost: Annotated[
        float, typer.Option(help="Holding cost, fraction of the price per year.")
    ] = 0.02,
    member_states: Annotated[
        bool, typer.Option("--member-states", help="Size each Member State, not one EU27 pool.")
    ] = False,
    weight: Annotated[
        list[str] | None,
        typer.Option(help="Priority of a Member State, ISO3=W (repeat; default 1)."),
    ] = None,
    sector_weight: Annotated[
        list[str] | None,
        typer.Option(
            help="Priority of sectors naming WORD, WORD=W (default defence=3 aerospace=3)."
        ),
    ] = None,
    held_from_ledger: Annotated[
        bool,
        typer.Option("--held-from-ledger", help="Subtract stock held in the holdings ledger."),
    ] = False,
    save_target: Annotated[
        bool, typer.Option("--save-target", help="Store each sized stock as its stock target.")
    ] = False,
    fmt: FormatOpt = Format.table,
    output: Annotated[
        Path | None, output_option("Write the cost curves (CSV) to this file.")
    ] = None,
) -> None:
    """Size stock targets against stress-test shortfalls (HiGHS), beside the 60- and 100-day
    rules. Table: the sized stocks and each cost curve; JSON: the whole answer; CSV: the
    sized stocks. See docs/stockpile-sizing.md."""
    from critmat.services import stockpile_sizing as sizing
    from critmat.stockpiles.sizing import DEFAULT_SECTOR_WEIGHTS

    with user_errors():
        held: dict[str, float] = {}
        if held_from_ledger:
            held, notes = sizing.held_from_ledger(materials)
            for note in notes:
                status(note)
        sectors = sizing.parse_assignments(sector_weight or [], "--sector-weight")
        request = sizing.SizingRequest(
            materials=tuple(materials),
            scenarios=tuple(scenario or ()),
            runs=runs,
            seed=seed,
            confidence=confidence,
            horizon_months=horizon,
            budget_eur=budget,
            prices_eur_t=sizing.parse_prices(price or []),
            holding_cost=holding_cost,
            member_states=member_states,
            member_state_weights=sizing.parse_member_state_weights(weight or []),
            sector_weights=sectors or DEFAULT_SECTOR_WEIGHTS,
            held_t=held,
        )
        with store_readonly() as store:
            answer = sizing.size(request, store, max_runs=None)
        if save_target:
            saved = sizing.save_targets(answer)
            status(f"stored {len(saved)} stock target(s): {sizing.target_source(answer)}")
    document = sizing.document(answer)
    if output is not None:
        from critmat import exports

        exports.write_csv(output, exports.Table.from_records(document["curve"]))
        status(f"wrote {len(document['curve'])} cost-curve rows to {output}")
    if emit_document(fmt, document, document["items"]):
        return
    _print_tables(answer, document)


def _print_tables(answer: "SizingAnswer", document: dict[str, Any]) -> None:
    request, solution = answer.request, answer.solution
    model = solution.model
    scenarios = "; ".join(
        f"{s['name']} ({s['stage']}, HS {', '.join(s['hs_codes'])}, "
        f"baseline {'/'.join(map(str, s['baseline_years']))}, {s['runs']:,} runs)"
        for s in answer.scenarios
    )
    releases = "; ".join(f"{r['source']} {r['version']}" for r in answer.releases)
    caption = "\n".join(
        [
            f"{request.confidence:.4g} of runs covered over {request.horizon_months} months, "
            f"seed {request.seed}; scenarios: {scenarios}",
            f"cost {fmt_number(solution.cost_eur)} EUR (purchase plus {request.holding_cost:.3g}"
            f"/year holding); budget {fmt_number(request.budget_eur)} EUR"
            + (" — binding" if solution.budget_binding else ""),
            f"MILP: {model.variables:,} variables ({model.binaries:,} binary), "
            f"{model.constraints:,} constraints, {model.nonzeros:,} non-zeros, "
            f"{solution.solve_seconds:.2f} s; {solution.solver}",
            "days rules: 60 days (JOGMEC) and 100 days (KOMIR) of the baseline demand; "
            + "; ".join(
                f"{r['material']}/{r['importer']} demand = {r['demand_basis']}, "
                f"{fmt_number(r['share_demand_apparent_consumption'], 'share')} of Member "
                "States' demand from apparent consumption"
                + (
                    f", no demand figure: {r['members_without_demand']}"
                    if r["members_without_demand"]
                    else ""
                )
                for r in document["items"]
            ),
            f"releases read: {releases}",
            *(f"note: {n}" for n in document["notes"]),
        ]
    )
    out.print(
        table(
            "Stock sized against stress-test shortfalls", ITEM_COLUMNS, document["items"], caption
        )
    )
    for item in answer.items:
        key = (item.sizing.material, item.sizing.importer)
        rows = [r for r in document["curve"] if (r["material"], r["importer"]) == key]
        shown = sorted({round(k * (len(rows) - 1) / 12) for k in range(13)})
        out.print(table(f"Cost curve {key[0]} · {key[1]}", CURVE_COLUMNS, [rows[k] for k in shown]))
