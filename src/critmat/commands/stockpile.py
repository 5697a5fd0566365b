"""``critmat stockpile``: strategic stockpiles — the holdings ledger, stock targets sized from
stress tests, and release allocation in a crisis (docs/stockpiles.md).

Register with ``from critmat.commands import stockpile; stockpile.register(app)``. The ledger
commands live here; sizing (:mod:`critmat.commands.stockpile_sizing`) and release allocation
(:mod:`critmat.commands.stockpile_release`) add theirs to the same group. The ledger commands
work on the local platform database (``CRITMAT_DATABASE_URL``, SQLite in the data directory by
default) with the full view of the local user; the service and SQLAlchemy load inside them.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start (critmat.commands).

from collections.abc import Callable
from typing import Annotated, Any

import typer

from critmat.cli_output import Format, emit_rows, out, parse_day, user_errors
from critmat.commands import stockpile_release, stockpile_sizing
from critmat.commands.options import FormatOpt

stockpile_app = typer.Typer(
    help="Strategic stockpiles: holdings, stock targets, release in a crisis.",
    no_args_is_help=True,
)
holders_app = typer.Typer(
    help="Who holds stock (EU level, Member States, companies).", no_args_is_help=True
)
lots_app = typer.Typer(
    help="Lots: one material, form and grade at one place.", no_args_is_help=True
)
book_app = typer.Typer(
    help="Book a movement of stock (each under an idempotency key).", no_args_is_help=True
)
targets_app = typer.Typer(help="Stock targets per material and importer.", no_args_is_help=True)

HOLDER_COLUMNS = (
    ("id", "id", ""),
    ("name", "holder", "text"),
    ("level", "level", "text"),
    ("country", "country", "text"),
    ("organisation_id", "org", ""),
    ("shared", "shared", ""),
)
LOT_COLUMNS = (
    ("id", "lot", ""),
    ("holder", "holder", "text"),
    ("material", "material", "text"),
    ("form", "form", "text"),
    ("purity_pct", "purity %", ""),
    ("location", "location", "text"),
    ("acquired_on", "acquired", "text"),
    ("cost_eur", "cost EUR", ""),
    ("retest_on", "re-test", "text"),
    ("balance_t", "balance t", ""),
)
JOURNAL_COLUMNS = (
    ("entry_id", "entry", ""),
    ("at", "when (UTC)", "text"),
    ("kind", "kind", "text"),
    ("lot_id", "lot", ""),
    ("material", "material", "text"),
    ("holder", "holder", "text"),
    ("quantity_t", "t", ""),
    ("actor", "who", "text"),
    ("idempotency_key", "key", "text"),
    ("reason", "reason", "text"),
)
POSITION_COLUMNS = (
    ("material", "material", "text"),
    ("importer", "importer", "text"),
    ("stock_t", "stock t", ""),
    ("target_t", "target t", ""),
    ("gap_t", "stock − target t", ""),
    ("holders", "holders", ""),
    ("pooled_t", "pooled t", ""),
    ("target_source", "target source", "text"),
)

KeyOpt = Annotated[
    str,
    typer.Option(
        "--key",
        help="Idempotency key: a retry with the same key and values is booked once (e.g. a UUID).",
    ),
]
QuantityOpt = Annotated[float, typer.Option("--quantity", "-q", help="Tonnes (> 0).")]
MaterialOpt = Annotated[str | None, typer.Option(help="Only this material.")]
ReasonOpt = Annotated[str, typer.Option(help="Why (shown in the journal).")]


def register(root: typer.Typer) -> None:
    """Add the ``critmat stockpile`` group and its commands to ``root``."""
    stockpile_app.add_typer(holders_app, name="holders")
    stockpile_app.add_typer(lots_app, name="lots")
    stockpile_app.add_typer(book_app, name="book")
    stockpile_app.add_typer(targets_app, name="targets")
    stockpile_sizing.register(stockpile_app)
    stockpile_release.register(stockpile_app)
    root.add_typer(stockpile_app, name="stockpile")


def _ledger() -> Any:
    """The stockpile service, after checking the platform database's schema."""
    from critmat.config import get_settings
    from critmat.platform.db import ensure_current
    from critmat.services import stockpiles

    ensure_current(get_settings().platform_url)
    return stockpiles


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    from dataclasses import asdict

    return [asdict(item) for item in items]


@holders_app.command("add")
def holders_add(
    name: Annotated[str, typer.Argument(help="Holder name, e.g. 'BAFA rare earths'.")],
    level: Annotated[str, typer.Option(help="eu, member_state or company.")],
    org: Annotated[int, typer.Option("--org", help="Owning organisation id (critmat orgs list).")],
    country: Annotated[str | None, typer.Option(help="Member State ISO3 (not for eu).")] = None,
    shared: Annotated[bool, typer.Option(help="Let every stockpile user see its lots.")] = False,
) -> None:
    """Register a holder of stock."""
    with user_errors():
        holder = _ledger().add_holder(name, level, org, country=country, shared=shared, viewer=None)
    out.print(f"holder {holder.id}: {holder.name} ({holder.level}, {holder.country or 'EU'})")


@holders_app.command("list")
def holders_list(fmt: FormatOpt = Format.table) -> None:
    """List holders."""
    with user_errors():
        rows = _rows(_ledger().list_holders(None))
    emit_rows(rows, fmt, "Stock holders", HOLDER_COLUMNS)


@lots_app.command("add")
def lots_add(
    holder: Annotated[int, typer.Option(help="Holder id (critmat stockpile holders list).")],
    material: Annotated[str, typer.Option(help="Material (catalogue name or alias).")],
    form: Annotated[str, typer.Option(help="oxide, metal, alloy, concentrate, ...")],
    location: Annotated[str, typer.Option(help="Where the lot is stored.")],
    acquired: Annotated[str, typer.Option(help="Acquisition day, YYYY-MM-DD.")],
    quantity: QuantityOpt,
    key: KeyOpt,
    purity: Annotated[float | None, typer.Option(help="Purity, %.")] = None,
    cost: Annotated[float | None, typer.Option(help="Acquisition cost of the lot, EUR.")] = None,
    retest: Annotated[
        str | None, typer.Option(help="Shelf-life / re-test day, YYYY-MM-DD.")
    ] = None,
    reason: ReasonOpt = "",
) -> None:
    """Open a lot with its purchase (booked under --key)."""
    with user_errors():
        service = _ledger()
        from critmat.stockpiles.ledger import BookingKind, BookingRequest, LotSpec

        day = parse_day(acquired, "--acquired")
        assert day is not None
        spec = LotSpec(
            holder, material, form, location, day, purity, cost, parse_day(retest, "--retest")
        )
        answer = service.book(
            BookingRequest(BookingKind.purchase, 0, quantity, reason=reason, new_lot=spec),
            key,
            None,
        )
    _said(answer)


def _said(answer: Any) -> None:
    again = " (already booked under this key; nothing new)" if answer.replayed else ""
    moves = ", ".join(f"lot {lot} {t:+,.3f} t" for lot, t in answer.entries)
    balances = ", ".join(f"lot {lot} {t:,.3f} t" for lot, t in answer.balances_t.items())
    out.print(f"booking {answer.id} ({answer.kind}): {moves}; balance {balances}{again}")


@lots_app.command("list")
def lots_list(
    material: MaterialOpt = None,
    holder: Annotated[int | None, typer.Option(help="Only this holder.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List lots with their balances (the sum of their journal), tonnes."""
    with user_errors():
        rows = _rows(_ledger().list_lots(None, material=material, holder_id=holder))
    emit_rows(rows, fmt, "Stock lots", LOT_COLUMNS)


def _booking_command(kind: str, moves: bool) -> Callable[..., None]:
    def command(
        lot: Annotated[int, typer.Option(help="The lot (critmat stockpile lots list).")],
        quantity: QuantityOpt,
        key: KeyOpt,
        into: Annotated[
            int | None, typer.Option(help="The receiving lot (transfer, rotation).")
        ] = None,
        reason: ReasonOpt = "",
    ) -> None:
        with user_errors():
            service = _ledger()
            from critmat.stockpiles.ledger import BookingKind, BookingRequest

            request = BookingRequest(BookingKind(kind), lot, quantity, into, reason)
            answer = service.book(request, key, None)
        _said(answer)

    what = "from --lot into --into" if moves else ("into" if kind == "purchase" else "out of")
    command.__doc__ = f"Book a {kind} of --quantity tonnes {what}{'' if moves else ' --lot'}."
    return command


for _kind, _moves in (
    ("purchase", False),
    ("transfer", True),
    ("rotation", True),
    ("release", False),
    ("write-off", False),
):
    book_app.command(_kind)(_booking_command(_kind, _moves))


@stockpile_app.command("journal")
def journal_command(
    material: MaterialOpt = None,
    lot: Annotated[int | None, typer.Option(help="Only this lot.")] = None,
    limit: Annotated[int, typer.Option(help="Entries, newest first (at most 200).")] = 50,
    fmt: FormatOpt = Format.table,
) -> None:
    """The journal: every booking's signed tonnes per lot, newest first."""
    with user_errors():
        rows = _rows(_ledger().journal(None, material=material, lot_id=lot, limit=limit))
    emit_rows(rows, fmt, "Stock journal (t: + into the lot, − out of it)", JOURNAL_COLUMNS)


@stockpile_app.command("positions")
def positions_command(material: MaterialOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Stock against target per material and Member State (EU27: EU-level holdings), tonnes."""
    with user_errors():
        answer = _ledger().positions(None, material=material)
    caption = "; ".join((f"as of {answer.as_of}", answer.provenance, *answer.notes))
    emit_rows(_rows(list(answer.rows)), fmt, "Stock against target", POSITION_COLUMNS, caption)


@targets_app.command("set")
def targets_set(
    material: Annotated[str, typer.Argument(help="Material.")],
    importer: Annotated[str, typer.Argument(help="EU27 or a Member State's ISO3 code.")],
    tonnes: Annotated[float, typer.Argument(help="Target, tonnes (≥ 0).")],
    source: Annotated[str, typer.Option(help="Where the target comes from.")],
) -> None:
    """Store a stock target (earlier targets stay as history)."""
    with user_errors():
        _ledger().set_target(material, importer, tonnes, source=source, viewer=None)
    out.print(f"target of {importer} for {material}: {tonnes:,.1f} t ({source})")
