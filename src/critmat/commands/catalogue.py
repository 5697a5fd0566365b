"""Catalogue commands: ``materials``, ``material`` and ``restrictions`` (the reference data).

The material catalogue and the export-restriction registry ship with critmat
(:mod:`critmat.reference`); ``restrictions --exposure`` also reads the trade data in the store.
Registered on the main app by :mod:`critmat.cli`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from typing import Annotated, Any

import typer

from critmat.cli_output import (
    BasisOption,
    Format,
    FormatOpt,
    emit_rows,
    fmt_number,
    iso,
    out,
    print_csv,
    print_json,
    records,
    store_readonly,
    table,
    user_errors,
)


def materials(
    fmt: FormatOpt = Format.table,
    critical: Annotated[bool, typer.Option("--critical", help="Only CRMA critical.")] = False,
    strategic: Annotated[bool, typer.Option("--strategic", help="Only CRMA strategic.")] = False,
) -> None:
    """List the material catalogue (CRMA critical and strategic, and the other materials)."""
    from critmat.reference.materials import load_catalogue

    catalogue = load_catalogue()
    chosen = [
        m
        for m in catalogue.materials
        if (not critical or m.critical) and (not strategic or m.strategic)
    ]
    rows = [
        {
            "id": m.id,
            "name": m.name,
            "critical": m.critical,
            "strategic": m.strategic,
            "group": m.group,
            "wmd_commodity": m.wmd_commodity,
            "stages": ";".join(s.name for s in m.stages),
            "hs_codes": ";".join(m.hs_codes),
        }
        for m in chosen
    ]
    emit_rows(
        rows,
        fmt,
        "Materials",
        [
            ("id", "id", "text"),
            ("name", "name", "text"),
            ("critical", "critical", "text"),
            ("strategic", "strategic", "text"),
            ("wmd_commodity", "WMD commodity", "text"),
            ("stages", "stages", "text"),
            ("hs_codes", "HS6 (HS92)", "text"),
        ],
        caption=f"{len(rows)} materials · source: critmat reference catalogue (CRMA Annexes I–II)",
    )


def material(
    name: Annotated[str, typer.Argument(help="Material name, alias or symbol, e.g. 'REE', 'Li'.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show one material: CRMA status, stages and their HS codes, sources."""
    from critmat.reference.materials import load_catalogue

    with user_errors():
        resolved = load_catalogue().resolve(name)
    m = resolved.material
    payload: dict[str, Any] = {
        "id": m.id,
        "name": m.name,
        "critical": m.critical,
        "strategic": m.strategic,
        "crma_critical_entry": m.crma_critical_entry,
        "crma_strategic_entry": m.crma_strategic_entry,
        "group": m.group,
        "members": list(m.members),
        "wmd_commodity": m.wmd_commodity,
        "production_basis": m.production_basis,
        "eol_rir": m.eol_rir,
        "matched_stage": resolved.stage.name if resolved.stage else None,
        "stages": [
            {
                "name": s.name,
                "label": s.label,
                "hs_codes": list(s.hs_codes),
                "notes": s.notes,
                "sources": list(s.sources),
            }
            for s in m.stages
        ],
        "aliases": list(m.aliases),
        "sources": list(m.sources),
    }
    if fmt is Format.json:
        print_json(payload)
        return
    if fmt is Format.csv:
        print_csv(
            [
                {"material": m.id, "stage": s["name"], "hs6": code}
                for s in payload["stages"]
                for code in s["hs_codes"]
            ]
        )
        return
    flags = [
        label for flag, label in ((m.critical, "critical"), (m.strategic, "strategic")) if flag
    ]
    out.print(f"[bold]{m.name}[/] ({m.id}) — CRMA: {', '.join(flags) or 'not listed'}")
    if m.crma_strategic_entry:
        out.print(f"  Annex I entry: {m.crma_strategic_entry}")
    if m.crma_critical_entry:
        out.print(f"  Annex II entry: {m.crma_critical_entry}")
    if m.members:
        out.print(f"  members: {', '.join(m.members)}")
    out.print(
        f"  World Mining Data: {m.wmd_commodity or '—'}"
        + (f" ({m.production_basis})" if m.production_basis else "")
    )
    out.print(f"  EoL-RIR: {fmt_number(m.eol_rir, 'share')}")
    out.print(
        table(
            "Value-chain stages",
            [
                ("name", "stage", "text"),
                ("label", "label", "text"),
                ("hs", "HS6 (HS92)", "text"),
                ("notes", "notes", "text"),
            ],
            [
                {"name": s.name, "label": s.label, "hs": ", ".join(s.hs_codes), "notes": s.notes}
                for s in m.stages
            ],
        )
    )
    if m.aliases:
        out.print("  aliases: " + ", ".join(m.aliases))
    for source in m.sources:
        out.print(f"  source: {source}")


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
    fmt: FormatOpt = Format.table,
) -> None:
    """The export-restriction registry, optionally with an importer's exposure to each measure."""
    from critmat.indicators import lookup
    from critmat.indicators.imports import import_flows
    from critmat.indicators.restrictions import exposure_series, exposure_summary
    from critmat.reference.countries import resolve_country
    from critmat.reference.materials import load_catalogue
    from critmat.reference.restrictions import restrictions_for

    with user_errors():
        material_id = load_catalogue().resolve(material_name).material.id if material_name else None
        iso3 = resolve_country(country) if country else None
        chosen = restrictions_for(material_id, iso3)
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "country": r.country,
                "materials": ";".join(r.materials),
                "measure": r.measure,
                "announced": iso(r.announced),
                "effective": iso(r.effective),
                "suspended_until": iso(r.suspended_until),
                "status": r.status,
                "hs_codes": ";".join(r.hs_codes),
                "title": r.title,
                "sources": " | ".join(r.sources),
            }
            for r in chosen
        ]
        if exposure:
            importer = lookup.resolve_importer(exposure)
            codes = {code for r in chosen for code in r.hs_codes}
            with store_readonly() as store:
                flows = import_flows(store.con, [importer], codes)
            series = exposure_series(flows, [importer], chosen, basis.value, lookup.eu_members())
            summary = {
                str(r["restriction_id"]): r for r in records(exposure_summary(series, chosen))
            }
            for row in rows:
                found = summary.get(row["id"], {})
                row.update(
                    {
                        "importer": importer.name,
                        "basis": basis.value,
                        "targeted": found.get("targeted"),
                        "share_before": found.get("share_before"),
                        "year_before": found.get("year_before"),
                        "share_after": found.get("share_after"),
                        "year_after": found.get("year_after"),
                    }
                )
    columns = [
        ("id", "id", "text"),
        ("country", "country", "text"),
        ("materials", "materials", "text"),
        ("measure", "measure", "text"),
        ("effective", "effective", "text"),
        ("status", "status", "text"),
    ]
    if exposure:
        columns += [
            ("targeted", "targets importer", "text"),
            ("share_before", "share before", "share"),
            ("year_before", "year", "text"),
            ("share_after", "share after", "share"),
            ("year_after", "year", "text"),
        ]
    emit_rows(
        rows,
        fmt,
        "Export restrictions",
        columns,
        caption="source: critmat restriction registry (see `sources` in --format json)",
    )
