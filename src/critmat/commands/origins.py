"""``critmat origins MATERIAL``: an importer's imports by shipping country and by country of
origin, side by side.

The answer is :func:`critmat.services.origins.origins` (re-export correction: the world trade
network of the stage's codes solved with production as its source term, ``docs/methods.md``);
this module prints it. Registered on the main app by :mod:`critmat.cli`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start (critmat.commands).

from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from critmat import cli_output as cli
from critmat.commands.options import FormatOpt, StageOpt

if TYPE_CHECKING:
    from critmat.services.origins import OriginRowOut, OriginsOut

#: The side-by-side table: the shipping country's rank, then the two views.
_COLUMNS = (
    ("rank", "#", "text"),
    ("shipping", "by shipping country", "text"),
    ("shipping_t", "t", ""),
    ("shipping_share", "share", "share"),
    ("origin", "by country of origin", "text"),
    ("origin_t", "t", ""),
    ("origin_share", "share", "share"),
)

_MaterialArg = Annotated[str, typer.Argument(help="Material name or alias, e.g. cobalt.")]
_ImporterOpt = Annotated[
    str, typer.Option(help="EU27 (extra-EU imports), a Member State or another country.")
]
_YearOpt = Annotated[
    int | None,
    typer.Option("--year", "-y", help="Year (default: the latest with trade and production)."),
]
_TopOpt = Annotated[int, typer.Option(help="Rows of the table (the JSON and CSV hold all).")]


def _label(row: "OriginRowOut | None") -> str | None:
    if row is None:
        return None
    return row.country + (" (EU)" if row.eu_member else "")


def _side_by_side(answer: "OriginsOut", top: int) -> list[dict[str, Any]]:
    shipping, origin = answer.by_shipping, answer.by_origin
    rows: list[dict[str, Any]] = []
    for i in range(min(max(len(shipping), len(origin)), top)):
        ship = shipping[i] if i < len(shipping) else None
        made = origin[i] if i < len(origin) else None
        rows.append(
            {
                "rank": str(i + 1),
                "shipping": _label(ship),
                "shipping_t": None if ship is None else ship.quantity_t,
                "shipping_share": None if ship is None else ship.share,
                "origin": _label(made),
                "origin_t": None if made is None else made.quantity_t,
                "origin_share": None if made is None else made.share,
            }
        )
    unknown = next((r for r in origin if r.country == "unattributed"), None)
    if unknown is not None and origin.index(unknown) >= top:  # never hidden by --top
        rows.append(
            {"rank": "…", "origin": "unattributed", "origin_t": unknown.quantity_t}
            | {"origin_share": unknown.share}
        )
    return rows


def _caption(answer: "OriginsOut") -> str:
    trade, made = answer.trade_release, answer.production_release
    lines = [
        f"imports {cli.fmt_number(answer.imports_t)} t · HS92 {', '.join(answer.hs_codes)} · "
        f"origins: producers of the {answer.origin_stage} stage",
        f"trade: BACI {trade.series} release {trade.release_id} ({trade.version}) · "
        f"production: {made.series} release {made.release_id} ({made.version})",
    ]
    return "\n".join(lines + [f"note: {n}" for n in answer.notes])


def _csv_rows(answer: "OriginsOut") -> list[dict[str, Any]]:
    common = {
        "material": answer.material,
        "stage": answer.stage,
        "origin_stage": answer.origin_stage,
        "year": answer.year,
        "importer": answer.importer,
        "trade_release_id": answer.trade_release.release_id,
        "production_series": answer.production_release.series,
        "production_release_id": answer.production_release.release_id,
    }
    views = (("by shipping country", answer.by_shipping), ("by origin", answer.by_origin))
    return [common | {"view": view} | r.model_dump() for view, rows in views for r in rows]


def origins(
    material: _MaterialArg,
    importer: _ImporterOpt = "EU27",
    stage: StageOpt = None,
    year: _YearOpt = None,
    top: _TopOpt = 15,
    fmt: FormatOpt = cli.Format.table,
) -> None:
    """Imports by shipping country and by country of origin (re-export correction)."""
    from critmat.services.origins import origins as trace

    with cli.user_errors(), cli.store_readonly() as store:
        answer = cast("OriginsOut", trace(store, material, importer, stage, year).model)
    if cli.emit_document(fmt, answer.model_dump(mode="json"), _csv_rows(answer)):
        return
    title = (
        f"{answer.importer} imports of {answer.material} · {answer.stage}, {answer.year}: "
        "by shipping country and by country of origin"
    )
    cli.out.print(cli.table(title, _COLUMNS, _side_by_side(answer, top), _caption(answer)))
