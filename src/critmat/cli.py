"""Command-line interface (Typer + Rich). It only parses, calls the library and presents.

Exit codes: 0 success, 2 bad input or missing data (message on stderr, no traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from critmat import __version__
from critmat.cli_output import (
    BasisOption,
    Format,
    FormatOpt,
    emit_rows,
    err,
    fail,
    fmt_number,
    iso,
    out,
    plain,
    print_csv,
    print_json,
    records,
    status,
    store_readonly,
    table,
    user_errors,
)
from critmat.config import get_settings
from critmat.errors import CritmatError
from critmat.store import open_store

app = typer.Typer(
    help="critmat — critical raw material supply security: data, dependency indicators, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Pull, import and inspect the datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


# -- catalogue ------------------------------------------------------------------
@app.command()
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


@app.command()
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


# -- indicators ------------------------------------------------------------------
@app.command()
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


@app.command()
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


@app.command()
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


@app.command()
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


@app.command("unit-values")
def unit_values_command(
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


@app.command()
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


# -- report ------------------------------------------------------------------
@app.command()
def report(
    output: Annotated[Path | None, typer.Option(help="Where to write the HTML file.")] = None,
    year: Annotated[
        int | None, typer.Option(help="Focus year (default: latest with data).")
    ] = None,
) -> None:
    """Write the offline HTML report on every CRM and print its path."""
    from critmat.reports.html import build_report

    settings = get_settings()
    target = output or settings.reports_dir / "critmat-report.html"
    with user_errors(), store_readonly() as store:
        path = build_report(store, target, year=year, progress=status)
    out.print(str(path.resolve()))


# -- data ------------------------------------------------------------------
@data_app.command("pull")
def data_pull() -> None:
    """Download (if needed) and import the default real dataset (WMD, BACI, WGI)."""
    from critmat.pipeline import pull_default

    with user_errors():
        result = pull_default(get_settings(), progress=status)
    _report_results(result.results)


@data_app.command("ensure")
def data_ensure() -> None:
    """Pull the default dataset only when the store lacks production, trade or governance data."""
    from critmat.pipeline import pull_default

    settings = get_settings()
    if settings.store_path.exists():
        with open_store(settings.store_path, read_only=True) as store:
            current = {r.dataset for r in store.releases(current_only=True)}
        if {"production", "trade", "governance"} <= current:
            status(f"data present in {settings.store_path}")
            return
    with user_errors():
        result = pull_default(settings, progress=status)
    _report_results(result.results)


class ImportKind(StrEnum):
    baci = "baci"
    wmd = "wmd"
    wgi = "wgi"
    bundle = "bundle"


@data_app.command("import")
def data_import(
    kind: Annotated[ImportKind, typer.Argument(help="Dataset format.")],
    path: Annotated[Path, typer.Argument(help="File (CSV, XLSX, zip) as published.")],
    all_codes: Annotated[
        bool,
        typer.Option(
            "--all-codes",
            help="BACI: keep every HS6 code (the full release needs tens of GB of memory); "
            "default: the codes of the material catalogue.",
        ),
    ] = False,
    hs: Annotated[
        list[str] | None, typer.Option("--hs", help="BACI: keep only these HS6 codes.")
    ] = None,
) -> None:
    """Import an original publication: CEPII BACI (zip/CSV), WMD Excel, WGI (xlsx/csv)."""
    from critmat.pipeline import import_file

    options: dict[str, object] = {}
    if kind is ImportKind.baci:
        options["hs_codes"] = _baci_codes(all_codes, hs)
    with user_errors(), Progress(console=err, transient=True) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if kind is ImportKind.baci:
            options["progress"] = advance
        results = import_file(get_settings(), kind.value, path, on_status=status, **options)
    _report_results(results)


def _baci_codes(all_codes: bool, hs: list[str] | None) -> set[str] | None:
    """The HS6 codes a BACI import keeps: given ones, all (None), or the catalogue's."""
    from critmat.reference.materials import load_catalogue

    if hs:
        bad = [code for code in hs if not (len(code) == 6 and code.isdigit())]
        if bad:
            fail(CritmatError(f"--hs takes 6-digit HS codes; not: {', '.join(bad)}"))
        return set(hs)
    if all_codes:
        return None
    return {code for m in load_catalogue().materials for code in m.hs_codes}


def _report_results(results: Sequence[Any]) -> None:
    for result in results:
        release = result.release
        verb = (
            "imported" if result.status == "imported" else "unchanged (same file already current)"
        )
        out.print(f"{result.dataset}: {verb} — {release.citation()}, {release.row_count:,} rows")


@data_app.command("status")
def data_status(fmt: FormatOpt = Format.table) -> None:
    """Show releases and coverage (years, codes, countries, rows without quantity)."""
    from critmat.store.coverage import coverage

    settings = get_settings()
    with user_errors(), store_readonly() as store:
        releases = store.releases()
        cover = coverage(store)
    rows = [
        {
            "dataset": r.dataset,
            "current": r.is_current,
            "source": r.source,
            "version": r.version,
            "years": f"{r.year_min}–{r.year_max}",
            "rows": r.row_count,
            "licence": r.licence,
            "retrieved_at": iso(r.retrieved_at),
            "imported_at": iso(r.imported_at),
            "sha256": r.sha256,
            "origin": r.origin,
        }
        for r in releases
    ]
    if fmt is Format.json:
        print_json({"store": str(settings.store_path), "releases": rows, "coverage": cover})
        return
    if fmt is Format.csv:
        print_csv(rows)
        return
    out.print(f"store: {settings.store_path}")
    out.print(
        table(
            "Releases",
            [
                ("dataset", "dataset", "text"),
                ("current", "current", "text"),
                ("source", "source", "text"),
                ("version", "version", "text"),
                ("years", "years", "text"),
                ("rows", "rows", ""),
                ("imported_at", "imported", "text"),
            ],
            rows,
        )
    )
    for row in rows:
        if row["current"]:
            out.print(f"[bold]{row['dataset']}[/] licence: {row['licence']}", highlight=False)
            out.print(f"  sha256 {row['sha256']} · from {row['origin']}", highlight=False)
    out.print(
        table(
            "Coverage",
            [
                ("dataset", "dataset", "text"),
                ("years", "years", "text"),
                ("countries", "countries", ""),
                ("codes", "codes/commodities", ""),
                ("rows", "rows", ""),
                ("missing_quantity_share", "rows w/o quantity", "share"),
                ("estimated_share", "rows estimated", "share"),
            ],
            cover,
        )
    )


# -- service and administration ----------------------------------------------
users_app = typer.Typer(help="Platform users (admin).", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations (admin).", no_args_is_help=True)
db_app = typer.Typer(help="The platform database.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(orgs_app, name="orgs")
app.add_typer(db_app, name="db")

CLI_ACTOR = "cli"


def _platform_url() -> str:
    return get_settings().platform_url


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the platform database to the newest schema."""
    from sqlalchemy.engine import make_url

    from critmat.platform.db import upgrade

    url = _platform_url()
    with user_errors():
        revision = upgrade(url)
    out.print(f"platform database at schema {revision} ({make_url(url).render_as_string()})")


@orgs_app.command("add")
def orgs_add(
    name: Annotated[str, typer.Argument(help="Organisation name.")],
    kind: Annotated[str, typer.Option(help="agency, company, supplier, research, ...")] = "other",
    country: Annotated[str | None, typer.Option(help="Country (ISO3 or name).")] = None,
) -> None:
    """Add an organisation."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction
    from critmat.reference.countries import resolve_country

    with user_errors():
        ensure_current(_platform_url())
        iso3 = resolve_country(country) if country else None
        with transaction(_platform_url()) as db:
            org = accounts.create_org(db, name, kind=kind, country=iso3, actor=CLI_ACTOR)
            org_id = org.id
    out.print(f"organisation {org_id}: {name}")


@orgs_app.command("list")
def orgs_list(fmt: FormatOpt = Format.table) -> None:
    """List organisations."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            rows = [
                {
                    "id": o.id,
                    "name": o.name,
                    "kind": o.kind,
                    "country": o.country,
                    "users": len(o.users),
                }
                for o in accounts.list_orgs(db)
            ]
    emit_rows(
        rows,
        fmt,
        "Organisations",
        [
            ("id", "id", "text"),
            ("name", "name", "text"),
            ("kind", "kind", "text"),
            ("country", "country", "text"),
            ("users", "users", ""),
        ],
    )


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="E-mail address (the login).")],
    role: Annotated[str, typer.Option(help="admin, analyst, member_state, company, supplier.")],
    org: Annotated[str, typer.Option(help="Organisation id or name.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user. Without --password-stdin a random password is generated and printed once."""
    from critmat.platform import accounts, security
    from critmat.platform.db import ensure_current, transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password, generated = security.generate_password(), True
    with user_errors():
        ensure_current(_platform_url())
        parsed_role = accounts.parse_role(role)
        with transaction(_platform_url()) as db:
            organisation = accounts.get_org(db, org)
            user = accounts.create_user(
                db,
                email,
                password,
                role=parsed_role,
                organisation=organisation,
                name=name,
                actor=CLI_ACTOR,
            )
            summary = f"user {user.id}: {user.email} ({user.role}, {organisation.name})"
    out.print(summary)
    if generated:
        out.print(f"password (shown once): {password}", highlight=False)


@users_app.command("list")
def users_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List users."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            org_id = accounts.get_org(db, org).id if org else None
            rows = [
                {
                    "id": u.id,
                    "email": u.email,
                    "name": u.name,
                    "role": u.role,
                    "organisation": u.organisation.name,
                    "disabled": u.disabled,
                    "last_login_at": iso(u.last_login_at),
                }
                for u in accounts.list_users(db, org_id)
            ]
    emit_rows(
        rows,
        fmt,
        "Users",
        [
            ("id", "id", "text"),
            ("email", "e-mail", "text"),
            ("role", "role", "text"),
            ("organisation", "organisation", "text"),
            ("disabled", "disabled", "text"),
            ("last_login_at", "last login", "text"),
        ],
    )


@users_app.command("disable")
def users_disable(
    email: Annotated[str, typer.Argument(help="E-mail or id of the user.")],
) -> None:
    """Disable a user: ends their sessions and revokes their API tokens."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            user = accounts.get_user(db, email)
            accounts.set_disabled(db, user, True, actor=CLI_ACTOR)
            address = user.email
    out.print(f"disabled {address}")


@users_app.command("unlock")
def users_unlock(
    email: Annotated[str, typer.Argument(help="E-mail or id of the user.")],
    address: Annotated[
        str | None,
        typer.Option(help="Also clear the throttle of this client address (all accounts)."),
    ] = None,
) -> None:
    """Clear the login throttle of a user (from every address), so they can log in at once."""
    from critmat.platform import accounts
    from critmat.platform.db import ensure_current, transaction

    with user_errors():
        ensure_current(_platform_url())
        with transaction(_platform_url()) as db:
            removed = accounts.unlock(db, email, address=address, actor=CLI_ACTOR)
    out.print(f"unlocked {email.strip().lower()} ({removed} login counters cleared)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    migrate: Annotated[
        bool, typer.Option(help="Migrate the platform database before starting.")
    ] = True,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated addresses of reverse proxies whose X-Forwarded-For is "
            "believed (default: $CRITMAT_TRUSTED_PROXIES; none: the headers are ignored)."
        ),
    ] = None,
) -> None:
    """Start the web UI and the JSON API (one process)."""
    import uvicorn

    from critmat.api.app import create_app
    from critmat.api.server import proxy_options
    from critmat.platform.bootstrap import ensure_first_admin
    from critmat.platform.db import upgrade

    settings = get_settings()
    with user_errors():
        if migrate:
            upgrade(settings.platform_url)
        first = ensure_first_admin(settings.platform_url)
        application = create_app(settings)
    url = f"http://{host}:{port}/"
    out.print(f"critmat {__version__} serving {url}  (API: {url}api/v1/docs)")
    if first is not None:
        out.print(
            f"first start: log in as [bold]{first.email}[/] with password "
            f"[bold]{first.password}[/] (shown once; add users with `critmat users add`)"
        )
    proxies = None if trusted_proxies is None else trusted_proxies.split(",")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        **proxy_options(settings, proxies),
    )


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"critmat {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """critmat command line."""


def _register_command_modules() -> None:
    """Command groups that live in :mod:`critmat.commands` (one module per capability)."""
    from critmat.commands import assess, criticality, geopolrisk, stress

    geopolrisk.register(app)
    criticality.register(app)
    assess.register(app)
    stress.register(app)


_register_command_modules()


def main() -> None:
    """Entry point of the ``critmat`` script."""
    app()
