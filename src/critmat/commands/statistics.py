"""Statistics commands: ``production``, ``dependency``, ``trend``, ``reliance``, ``unit-values``.

Each parses its options, asks :mod:`critmat.indicators.lookup` (imported when the command runs,
with pandas and the store) and presents through :mod:`critmat.cli_output`. Registered on the
main app by :mod:`critmat.cli`. GeoPolRisk has its own module, :mod:`critmat.commands.geopolrisk`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from critmat.cli_output import (
    BasisOption,
    Format,
    FormatOpt,
    emit_rows,
    fmt_number,
    out,
    plain,
    print_csv,
    print_json,
    records,
    store_readonly,
    table,
    user_errors,
)

ImporterOpt = Annotated[
    str,
    typer.Option(help="EU27, a group (G7, EEA...), a country, or countries joined by commas."),
]
StageOpt = Annotated[str | None, typer.Option(help="Value-chain stage, e.g. processing.")]
HsOpt = Annotated[str | None, typer.Option("--hs", help="One HS6 code instead of a material.")]
MaterialArg = Annotated[
    str | None, typer.Argument(metavar="[MATERIAL]", help="Material name or alias.")
]
FromOpt = Annotated[int | None, typer.Option("--from", help="First year (default: first).")]
ToOpt = Annotated[int | None, typer.Option("--to", help="Last year (default: last).")]


def production(
    material_name: Annotated[
        str, typer.Argument(metavar="MATERIAL", help="Material name or alias.")
    ],
    year: Annotated[int, typer.Option("--year", "-y", help="Year (World Mining Data: 2018–2024).")],
    fmt: FormatOpt = Format.table,
) -> None:
    """World production by country, largest first, with shares and concentration."""
    from critmat.indicators import lookup

    with user_errors(), store_readonly() as store:
        result = lookup.production(store, material_name, year)
    citation = "; ".join(p.citation() for p in result.provenance)
    rows = [
        {
            "country": r["country"],
            "quantity": r["quantity"],
            "unit": r["unit"],
            "share": r["share"],
            "estimated": bool(r["estimated"]),
            "source": citation,
        }
        for r in records(result.rows)
    ]
    if fmt is not Format.table:
        emit_rows(rows, fmt, "", [])
        return
    s = result.summary
    caption = (
        f"total {fmt_number(s.get('total'))} {result.unit}"
        f" · HHI {fmt_number(s.get('hhi'), 'hhi')}"
        f" · top-3 {fmt_number(s.get('top3_share'), 'share')} · estimated "
        f"{fmt_number(s.get('estimated_share'), 'share')} of the total\nsource: {citation}"
    )
    out.print(
        table(
            f"World production of {result.material.name} ({result.commodity}), {year}",
            [
                ("country", "country", "text"),
                ("quantity", f"quantity ({result.unit})", ""),
                ("share", "share", "share"),
                ("estimated", "estimated", "text"),
            ],
            rows,
            caption,
        )
    )


def dependency(
    material_name: Annotated[
        str | None, typer.Argument(metavar="[MATERIAL]", help="Material name or alias.")
    ] = None,
    year: Annotated[int, typer.Option("--year", "-y", help="Year (BACI: 1995–2024).")] = 2023,
    importer: Annotated[
        str, typer.Option(help="EU27, a group, or a country (ISO3 or name).")
    ] = "EU27",
    stage: Annotated[str | None, typer.Option(help="Value-chain stage, e.g. processing.")] = None,
    hs: Annotated[
        str | None, typer.Option("--hs", help="One HS6 code instead of a material.")
    ] = None,
    basis: Annotated[
        BasisOption, typer.Option(help="mass (tonnes) or value (USD).")
    ] = BasisOption.mass,
    fmt: FormatOpt = Format.table,
) -> None:
    """Where an importer gets a material from: shares by origin, HHI and the CRMA 65% flag."""
    from critmat.indicators import lookup

    with user_errors(), store_readonly() as store:
        result = lookup.dependency(
            store,
            importer=importer,
            year=year,
            basis=basis.value,
            material=material_name,
            stage=stage,
            hs=hs,
        )
    amount_key = "quantity" if result.basis == "mass" else "value"
    summary = result.summary or {}
    payload: dict[str, Any] = {
        "importer": result.importer.name,
        "importer_members": sorted(result.importer.members),
        "year": result.year,
        "basis": result.basis,
        "unit": "t" if result.basis == "mass" else "thousand USD",
        "material": result.material.id if result.material else None,
        "stage": result.stage.name if result.stage else None,
        "hs_codes": list(result.hs_codes),
        "total": plain(summary.get("total", 0.0)),
        "suppliers": plain(summary.get("suppliers", 0)),
        "top_supplier": plain(summary.get("top_supplier")),
        "top_share": plain(summary.get("top_share")),
        "hhi": plain(summary.get("hhi")),
        "top_third_country": plain(summary.get("top_third_country")),
        "top_third_share": plain(summary.get("top_third_share")),
        "exceeds_65": bool(summary.get("exceeds_65", False)),
        "missing_quantity_value_share": plain(summary.get("missing_quantity_value_share")),
        "sources": [
            {
                "country": r["origin"],
                amount_key: r["amount"],
                "share": r["share"],
                "third_country": r["third_country"],
            }
            for r in records(result.sources)
        ],
        "provenance": [p.as_dict() for p in result.provenance],
        "notes": result.notes,
    }
    if fmt is Format.json:
        print_json(payload)
        return
    if fmt is Format.csv:
        print_csv(
            [
                {
                    "importer": payload["importer"],
                    "year": year,
                    "basis": result.basis,
                    "hs_codes": ";".join(result.hs_codes),
                    **row,
                }
                for row in payload["sources"]
            ]
        )
        return
    subject = (
        f"{result.material.name} · {result.stage.label}"
        if result.material and result.stage
        else f"HS {', '.join(result.hs_codes)}"
    )
    flag = "EXCEEDS 65%" if payload["exceeds_65"] else "below 65%"
    caption = (
        f"HS {', '.join(result.hs_codes)} · total {fmt_number(payload['total'])} {payload['unit']}"
        f" · HHI {fmt_number(payload['hhi'], 'hhi')} · largest third country "
        f"{payload['top_third_country'] or '–'} {fmt_number(payload['top_third_share'], 'share')}"
        f" ({flag})\nsource: "
        + "; ".join(p.citation() for p in result.provenance)
        + "".join(f"\nnote: {n}" for n in result.notes)
    )
    out.print(
        table(
            f"Imports of {subject} into {result.importer.name}, {year}, by {result.basis}",
            [
                ("country", "origin", "text"),
                (amount_key, f"{amount_key} ({payload['unit']})", ""),
                ("share", "share", "share"),
            ],
            payload["sources"],
            caption,
        )
    )


def _emit_series(
    result: Any, fmt: Format, title: str, columns: Sequence[tuple[str, str, str]]
) -> None:
    """Print a :class:`~critmat.indicators.lookup.SeriesResult` with its provenance."""
    rows = records(result.rows)
    if fmt is Format.json:
        print_json(
            {
                "importer": result.importer.name,
                "importer_members": sorted(result.importer.members),
                "material": result.selection.material.id if result.selection.material else None,
                "stage": result.selection.stage.name if result.selection.stage else None,
                "hs_codes": list(result.selection.hs_codes),
                "rows": rows,
                "provenance": [p.as_dict() for p in result.provenance],
                "notes": result.notes,
            }
        )
        return
    if fmt is Format.csv:
        print_csv([{"importer": result.importer.name, **row} for row in rows])
        return
    caption = "source: " + "; ".join(p.citation() for p in result.provenance)
    caption += "".join(f"\nnote: {n}" for n in result.notes)
    out.print(table(title, columns, rows, caption))


def trend(
    material_name: MaterialArg = None,
    importer: ImporterOpt = "EU27",
    stage: StageOpt = None,
    hs: HsOpt = None,
    basis: Annotated[BasisOption, typer.Option(help="mass or value.")] = BasisOption.mass,
    first: FromOpt = None,
    last: ToOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Import concentration year by year: top supplier, HHI and the CRMA 65% flag."""
    from critmat.indicators import lookup

    with user_errors(), store_readonly() as store:
        result = lookup.dependency_series(
            store,
            importer=importer,
            basis=basis.value,
            material=material_name,
            stage=stage,
            hs=hs,
            first=first,
            last=last,
        )
    unit = "t" if basis is BasisOption.mass else "kUSD"
    _emit_series(
        result,
        fmt,
        f"Imports of {result.selection.label()} into "
        f"{result.importer.name} by {basis.value}, year by year",
        [
            ("year", "year", "text"),
            ("total", f"total ({unit})", ""),
            ("top_supplier", "top supplier", "text"),
            ("top_share", "share", "share"),
            ("hhi", "HHI", "hhi"),
            ("top_third_country", "top third country", "text"),
            ("top_third_share", "share", "share"),
            ("exceeds_65", "> 65%", "text"),
        ],
    )


def reliance(
    material_name: Annotated[str, typer.Argument(metavar="MATERIAL", help="Material or alias.")],
    importer: ImporterOpt = "EU27",
    first: FromOpt = None,
    last: ToOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Apparent consumption and import reliance (estimated), year by year."""
    from critmat.indicators import lookup

    with user_errors(), store_readonly() as store:
        result = lookup.reliance(
            store, importer=importer, material=material_name, first=first, last=last
        )
    _emit_series(
        result,
        fmt,
        f"Apparent consumption of {result.selection.label()} in "
        f"{result.importer.name} (tonnes, estimated)",
        [
            ("commodity", "WMD series", "text"),
            ("stage", "trade stage", "text"),
            ("year", "year", "text"),
            ("production", "production", ""),
            ("imports_t", "imports", ""),
            ("exports_t", "exports", ""),
            ("apparent_consumption", "consumption", ""),
            ("import_reliance", "import reliance", "share"),
            ("ir_out_of_range", "IR outside 0–1", "text"),
        ],
    )


def unit_values(
    material_name: MaterialArg = None,
    year: Annotated[int, typer.Option("--year", "-y", help="Year.")] = 2023,
    importer: ImporterOpt = "EU27",
    stage: StageOpt = None,
    hs: HsOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Unit values (USD/t) of imports by origin, with outliers flagged (modified z > 3.5)."""
    from critmat.indicators import lookup

    with user_errors(), store_readonly() as store:
        result = lookup.unit_value_table(
            store, importer=importer, year=year, material=material_name, stage=stage, hs=hs
        )
    _emit_series(
        result,
        fmt,
        f"Unit values of {result.selection.label()} imported by {result.importer.name}, {year}",
        [
            ("hs6", "HS6", "text"),
            ("origin", "origin", "text"),
            ("quantity_t", "tonnes", ""),
            ("value_kusd", "kUSD", ""),
            ("usd_per_t", "USD/t", ""),
            ("robust_z", "robust z", "hhi"),
            ("outlier", "outlier", "text"),
        ],
    )
