"""Catalogue commands: ``materials``, ``material`` and ``restrictions`` (the reference data).

The material catalogue and the export-restriction registry ship with critmat
(:mod:`critmat.reference`); ``restrictions --exposure`` also reads the trade data in the store.
The answers are :mod:`critmat.services.catalogue`'s and :mod:`critmat.services.statistics`'
(imported when a command runs); these commands only present them. Registered on the main app
by :mod:`critmat.cli`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from contextlib import nullcontext
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from critmat.cli_output import (
    Format,
    emit_document,
    emit_rows,
    fmt_number,
    iso,
    out,
    parse_day,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.columns import columns
from critmat.commands.options import BasisOption, FormatOpt

if TYPE_CHECKING:  # annotations only: the services load when a command runs
    from critmat.services.catalogue import MaterialDetailOut, StageSeriesOut
    from critmat.services.statistics_models import RestrictionsOut


def materials(
    fmt: FormatOpt = Format.table,
    critical: Annotated[bool, typer.Option("--critical", help="Only CRMA critical.")] = False,
    strategic: Annotated[bool, typer.Option("--strategic", help="Only CRMA strategic.")] = False,
) -> None:
    """List the material catalogue (CRMA critical and strategic, and the other materials)."""
    from critmat.services import catalogue

    answer = catalogue.materials(critical or None, strategic or None).model
    rows = [
        item.model_dump() | {"stages": ";".join(item.stages), "hs_codes": ";".join(item.hs_codes)}
        for item in answer.root  # type: ignore[attr-defined]
    ]
    emit_rows(
        rows,
        fmt,
        "Materials",
        columns(
            *("id", "name", "critical", "strategic", "wmd_commodity"),
            *("stages", "hs_codes"),
        ),
        caption=f"{len(rows)} materials · source: critmat reference catalogue (CRMA Annexes I–II)",
    )


def material(
    name: Annotated[str, typer.Argument(help="Material name, alias or symbol, e.g. 'REE', 'Li'.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show one material: CRMA status, stages with their HS92 and HS17 codes, bundled codes,
    production series, sources."""
    from critmat.services import catalogue

    with user_errors():
        answer = cast("MaterialDetailOut", catalogue.material_detail(None, name).model)
    payload: dict[str, Any] = answer.model_dump(
        include={
            *("id", "name", "crma_status", "critical", "strategic", "crma_critical_entry"),
            *("crma_strategic_entry", "group", "members", "wmd_commodity", "production_basis"),
            *("eol_rir", "matched_stage", "aliases", "sources"),
        }
    )
    payload["stages"] = [
        {
            "name": s.name,
            "label": s.label,
            "hs_codes": [c.code for c in s.hs_codes],
            "hs17_codes": [c.code for c in s.hs17_codes],
            "bundle_notes": s.bundle_notes,
            "production": [p.model_dump() for p in s.production],
            "proxy": s.proxy,
            "notes": s.notes,
            "sources": s.sources,
        }
        for s in answer.stages
    ]
    csv_rows = [
        {"material": answer.id, "stage": s["name"], "revision": revision, "hs6": code}
        for s in payload["stages"]
        for revision, key in (("HS92", "hs_codes"), ("HS17", "hs17_codes"))
        for code in s[key]
    ]
    if emit_document(fmt, payload, csv_rows):
        return
    out.print(f"[bold]{answer.name}[/] ({answer.id}) — CRMA: {answer.crma_status}")
    if answer.crma_strategic_entry:
        out.print(f"  Annex I entry: {answer.crma_strategic_entry}")
    if answer.crma_critical_entry:
        out.print(f"  Annex II entry: {answer.crma_critical_entry}")
    if answer.members:
        out.print(f"  members: {', '.join(answer.members)}")
    out.print(
        f"  World Mining Data: {answer.wmd_commodity or '—'}"
        + (f" ({answer.production_basis})" if answer.production_basis else "")
    )
    out.print(f"  EoL-RIR: {fmt_number(answer.eol_rir, 'share')}")
    out.print(
        table(
            "Value-chain stages",
            columns(("name", "stage"), "label", ("hs", "HS92"), ("hs17", "HS17", "text"))
            + columns(("production", "production series (preferred first)", "text"), "notes"),
            [
                {"name": s.name + (" (proxy)" if s.proxy else ""), "label": s.label}
                | {"hs": ", ".join(c.code for c in s.hs_codes)}
                | {"hs17": ", ".join(c.code for c in s.hs17_codes)}
                | {"production": _series_text(s.production) or "none published"}
                | {"notes": s.notes}
                for s in answer.stages
            ],
        )
    )
    bundles = dict.fromkeys(n for s in answer.stages for n in s.bundle_notes)
    for note in bundles:
        out.print(f"  bundled: {note}")
    if answer.aliases:
        out.print("  aliases: " + ", ".join(answer.aliases))
    for source in answer.sources:
        out.print(f"  source: {source}")


def _series_text(production: "list[StageSeriesOut]") -> str:
    """The series in preference order, one USGS MCS group per commodity and stage:
    "USGS MCS 2026, 2024, 2023: Gallium (refinery) → WMD: Gallium"."""
    parts: list[tuple[str, str]] = []  # (series label, "commodity (stage)")
    for series in production:
        what = series.commodity + (f" ({series.stage})" if series.dataset != "production" else "")
        edition = series.series.removeprefix("USGS MCS ")
        if parts and edition != series.series and parts[-1][1] == what:
            label = parts[-1][0]
            if label.startswith("USGS MCS "):
                parts[-1] = (f"{label}, {edition}", what)
                continue
        parts.append((series.series, what))
    return " → ".join(f"{label}: {what}" for label, what in parts)


def restrictions(
    material_name: Annotated[
        str | None, typer.Option("--material", help="Filter by material.")
    ] = None,
    country: Annotated[str | None, typer.Option(help="Filter by restricting country.")] = None,
    exposure: Annotated[
        str | None,
        typer.Option(
            help="Also compute the exposure of this importer (e.g. EU27) before/after each measure."
        ),
    ] = None,
    basis: Annotated[BasisOption, typer.Option(help="Basis of the exposure.")] = BasisOption.value,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Day 'in force' is read for, YYYY-MM-DD (default: today)."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The export-restriction registry: each measure with the registry's status and whether it
    is in force on the day (--on, default today); optionally with an importer's exposure."""
    from critmat.services import statistics

    with user_errors():
        day = parse_day(on)
        # The registry alone needs no store; an importer's exposure reads its trade.
        with store_readonly() if exposure else nullcontext(None) as store:
            computed = statistics.restrictions(
                store,
                material=material_name,
                country=country,
                exposure=exposure or None,
                basis=basis.value,
                on=day,
            )
    answer = cast("RestrictionsOut", computed.model)
    rows: list[dict[str, Any]] = []
    for r in answer.restrictions:
        row: dict[str, Any] = {
            "id": r.id,
            "country": r.country,
            "materials": ";".join(r.materials),
            "measure": r.measure,
            "announced": iso(r.announced),
            "effective": iso(r.effective),
            "suspended_until": iso(r.suspended_until),
            "status": r.status,
            "in_force": r.in_force,
            "as_of": iso(r.as_of),
            "hs_codes": ";".join(r.hs_codes),
            "title": r.title,
            "sources": " | ".join(r.sources),
        }
        if exposure:
            row |= {
                "importer": r.importer,
                "basis": r.basis,
                "targeted": r.targeted,
                "share_before": r.share_before,
                "year_before": r.year_before,
                "share_after": r.share_after,
                "year_after": r.year_after,
            }
        rows.append(row)
    shown = columns("id", "country", "materials", "measure", "effective", "status", "in_force")
    if exposure:
        shown += columns("targeted", "share_before", "year_before", "share_after", "year_after")
    emit_rows(
        rows,
        fmt,
        "Export restrictions",
        shown,
        caption="in force on "
        + (answer.restrictions[0].as_of.isoformat() if answer.restrictions else "-")
        + "; source: critmat restriction registry (see `sources` in --format json)",
    )
