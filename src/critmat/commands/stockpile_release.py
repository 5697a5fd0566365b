"""``critmat stockpile`` commands of stockpile release (docs/stockpile-release.md):

- ``critmat stockpile release --stock T --requests FILE.csv --rule proportional|maxmin|equal_loss``
- ``critmat stockpile release --from-stress SCENARIO [--stock T]``: the stored triggers on a
  library stress run, and the allocations they fire;
- ``critmat stockpile triggers add|list|remove``.

Everything is computed by :mod:`critmat.services.stockpile_release`; this module parses the
command line and prints. Allocations are recorded in the audit log of the platform database
when it is set up (``critmat db upgrade``); otherwise the answer says it was not.
"""

from pathlib import Path
from typing import Annotated, Any, cast

import typer

from critmat.cli_output import Format
from critmat.commands.options import FormatOpt

triggers_app = typer.Typer(help="Release triggers agreed in advance.", no_args_is_help=True)

#: (key, header, kind) of the award table.
AWARD_COLUMNS = (
    ("member_state", "Member State", "text"),
    ("sector", "Sector", "text"),
    ("tier", "Tier", ""),
    ("requested_t", "Requested t", ""),
    ("consumption_t", "Consumption t/yr", ""),
    ("allocated_t", "Allocated t", ""),
    ("fill_rate", "Fill rate", "share"),
    ("declined_t", "Declined t", ""),
    ("why", "Why", "text"),
)
TRIGGER_COLUMNS = (
    ("id", "Id", ""),
    ("material", "Material", "text"),
    ("condition_text", "Condition", "text"),
    ("rule", "Rule", "text"),
    ("tiers", "Tiers", "text"),
    ("agreed_by", "Agreed by", "text"),
    ("agreed_on", "Agreed on", "text"),
)

StockOpt = Annotated[
    float | None, typer.Option("--stock", help="Stock available for release, tonnes.")
]
RequestsOpt = Annotated[
    Path | None,
    typer.Option(
        "--requests",
        help="CSV: member_state,sector,requested_t,consumption_t,tier,declines (one row each).",
    ),
]
RuleOpt = Annotated[
    str, typer.Option("--rule", help="Fairness rule in a tier: proportional, maxmin, equal_loss.")
]
FromStressOpt = Annotated[
    str | None,
    typer.Option("--from-stress", help="Library scenario: fire the stored triggers on its run."),
]


def _award_rows(answer: Any) -> list[dict[str, Any]]:
    return [a.model_dump() for a in answer.awards]


def _caption(answer: Any) -> str:
    lines = [
        f"Rule: {answer.rule_text}. Stock {answer.stock_t:,.3f} t, requested "
        f"{answer.requested_t:,.3f} t, allocated {answer.allocated_t:,.3f} t "
        f"(unit {answer.unit_t * 1000:g} kg, rounded down).",
        *(
            f"Tier {t.tier}: {t.allocated_t:,.3f} of {t.requested_t:,.3f} t in {t.rounds} "
            f"round(s), {t.passed_on_t:,.3f} t passed on"
            for t in answer.tiers
        ),
        f"Source: {answer.source}.",
        *answer.notes,
    ]
    return "\n".join(lines)


def _print_allocation(answer: Any, title: str) -> None:
    from critmat.cli_output import out, table

    out.print(table(title, AWARD_COLUMNS, _award_rows(answer), _caption(answer)))


def release(
    stock: StockOpt = None,
    requests: RequestsOpt = None,
    rule: RuleOpt = "proportional",
    from_stress: FromStressOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Allocate a released stock to requests by Member State and sector (priority tiers, a
    fairness rule), or fire the stored triggers on a stress run."""
    from critmat.cli_output import emit_document, print_json, user_errors
    from critmat.errors import CritmatError
    from critmat.services import stockpile_release as service

    with user_errors():
        if from_stress is not None:
            if requests is not None:
                raise CritmatError(
                    "--from-stress takes its requests from the run",
                    "drop --requests, or drop --from-stress and give --stock and --requests",
                )
            _from_stress(from_stress, stock, fmt)
            return
        if stock is None or requests is None:
            raise CritmatError(
                "give --stock and --requests (or --from-stress SCENARIO)",
                "e.g. critmat stockpile release --stock 1200 --requests requests.csv "
                "--rule proportional",
            )
        answer = service.allocate_release(
            stock,
            service.read_requests_file(requests),
            rule,
            source=str(requests),
            audit_mode="best_effort",
        )
    if fmt is Format.json:
        print_json(answer.model_dump(mode="json"))
        return
    if not emit_document(fmt, answer.model_dump(mode="json"), _award_rows(answer)):
        _print_allocation(answer, f"Release of {answer.stock_t:,.3f} t — {answer.rule}")


def _from_stress(scenario: str, stock: float | None, fmt: Format) -> None:
    from critmat.cli_output import out, print_csv, print_json, store_readonly, table
    from critmat.services import stockpile_release as service

    answer = service.simulate_from_stress(
        scenario, store_readonly(), stock_t=stock, audit_mode="best_effort"
    )
    if fmt is Format.json:
        print_json(answer.model_dump(mode="json"))
        return
    if fmt is Format.csv:
        print_csv(
            [
                {"trigger": f.trigger.id, "month": f.month, **row}
                for f in answer.firings
                if f.allocation
                for row in _award_rows(f.allocation)
            ]
        )
        return
    rows = [
        {
            "id": f.trigger.id,
            "condition_text": f.trigger.condition_text,
            "fired": "yes" if f.fired else "no",
            "month": f.month,
            "stock": f.stock_available_t,
            "why": f.why,
        }
        for f in answer.firings
    ]
    columns = (
        ("id", "Trigger", ""),
        ("condition_text", "Condition", "text"),
        ("fired", "Fired", "text"),
        ("month", "Month", "text"),
        ("stock", "Stock t", ""),
        ("why", "Why", "text"),
    )
    caption = "\n".join([f"Source: {answer.source}.", *answer.notes])
    out.print(table(f"Release triggers on {scenario}", columns, rows, caption))
    for f in answer.firings:
        if f.allocation:
            _print_allocation(f.allocation, f"Trigger {f.trigger.id}: release in {f.month}")


def _tiers(text: str | None) -> dict[str, int]:
    """``defence=1,aerospace=1,*=2`` as a mapping; a clear error otherwise."""
    from critmat.errors import CritmatError

    tiers: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        sector, _, tier = part.partition("=")
        if not sector.strip() or not tier.strip().isdigit():
            raise CritmatError(
                f"--tiers: '{part}' is not SECTOR=TIER", "e.g. --tiers defence=1,aerospace=1,*=2"
            )
        tiers[sector.strip()] = int(tier)
    return tiers


def _platform() -> None:
    from critmat.config import get_settings
    from critmat.platform.db import ensure_current

    ensure_current(get_settings().platform_url)


@triggers_app.command("add")
def triggers_add(
    material: Annotated[str, typer.Argument(help="Material name or alias.")],
    agreed_by: Annotated[str, typer.Option(help="Who agreed the trigger.")],
    agreed_on: Annotated[str, typer.Option(help="When, YYYY-MM-DD.")],
    condition: Annotated[str, typer.Option(help="shortfall or measure.")] = "shortfall",
    threshold_pct: Annotated[
        float | None, typer.Option(help="Shortfall ≥ this % of demand (shortfall).")
    ] = None,
    months: Annotated[int | None, typer.Option(help="For this many consecutive months.")] = None,
    importer: Annotated[str, typer.Option(help="EU27 or a Member State (ISO3).")] = "EU27",
    measure: Annotated[str | None, typer.Option(help="Registry id in force (measure).")] = None,
    rule: RuleOpt = "proportional",
    tiers: Annotated[
        str | None, typer.Option(help="SECTOR=TIER,... with * for the rest, e.g. defence=1,*=2.")
    ] = None,
    note: Annotated[str, typer.Option(help="Free text kept with the trigger.")] = "",
    fmt: FormatOpt = Format.table,
) -> None:
    """Store a release trigger agreed in advance."""
    from critmat.cli_output import emit_rows, parse_day, user_errors
    from critmat.services import stockpile_release as service
    from critmat.stockpiles.triggers import Condition, TriggerSpec

    with user_errors():
        _platform()
        day = parse_day(agreed_on, "--agreed-on")
        assert day is not None
        stored = service.add_trigger(
            TriggerSpec(
                material=material,
                condition=cast(Condition, condition),  # checked by the service
                rule=rule,
                importer=importer,
                threshold_pct=threshold_pct,
                months=months,
                measure_id=measure,
                tiers=_tiers(tiers),
            ),
            agreed_by=agreed_by,
            agreed_on=day,
            note=note,
        )
    emit_rows(_trigger_rows([stored]), fmt, "Release trigger stored", TRIGGER_COLUMNS)


def _trigger_rows(items: list[Any]) -> list[dict[str, Any]]:
    rows = [t.model_dump(mode="json") for t in items]
    for row in rows:
        row["tiers"] = ", ".join(f"{k}={v}" for k, v in row["tiers"].items()) or "all tier 1"
    return rows


@triggers_app.command("list")
def triggers_list(
    material: Annotated[str | None, typer.Argument(help="Only this material.")] = None,
    removed: Annotated[bool, typer.Option(help="Also the removed ones.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """The stored release triggers."""
    from critmat.cli_output import emit_rows, user_errors
    from critmat.services import stockpile_release as service

    with user_errors():
        _platform()
        found = service.list_triggers(material, include_removed=removed)
    emit_rows(_trigger_rows(found), fmt, "Release triggers", TRIGGER_COLUMNS)


@triggers_app.command("remove")
def triggers_remove(
    trigger_id: Annotated[int, typer.Argument(help="Id from `triggers list`.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Remove a release trigger (kept in the record as removed)."""
    from critmat.cli_output import emit_rows, user_errors
    from critmat.services import stockpile_release as service

    with user_errors():
        _platform()
        gone = service.remove_trigger(trigger_id)
    emit_rows(_trigger_rows([gone]), fmt, "Release trigger removed", TRIGGER_COLUMNS)


def register(group: typer.Typer) -> None:
    """Add the release commands to the ``critmat stockpile`` group."""
    group.command("release")(release)
    group.add_typer(triggers_app, name="triggers")


__all__ = ["register"]
