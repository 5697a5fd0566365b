"""``critmat assess``: company supply-chain risk assessment (:mod:`critmat.services.assessments`;
the report files are :mod:`critmat.reports.company`'s).

Register with ``from critmat.commands import assess; assess.register(app)``.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from pathlib import Path
from typing import Annotated, Any

import typer

from critmat.cli_output import (
    Format,
    emit_document,
    err,
    out,
    parse_day,
    status,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.columns import columns
from critmat.commands.options import FormatOpt, output_option
from critmat.errors import CritmatError

MATERIAL_COLUMNS = columns(
    *("material", "stage", "tonnes", ("top_third_country", "largest third country")),
    *("top_third_share", ("exceeds_65", "> 65 %"), "geopolrisk", "restricted_share"),
    "options",
)
REPORT_SUFFIXES = (".html", ".xlsx", ".json")


def _material_rows(result: Any) -> list[dict[str, Any]]:
    restricted: dict[str, float] = {}
    for hit in result.restrictions:
        restricted[hit.material_key] = max(restricted.get(hit.material_key, 0.0), hit.share)
    return [
        {
            "material": m.material_name,
            "stage": m.stage_label,
            "hs_codes": ";".join(m.hs_codes),
            "tonnes": m.tonnes,
            "top_third_country": m.top_third_country,
            "top_third_share": m.top_third_share,
            "exceeds_65": "yes" if m.exceeds_65 else "no",
            "geopolrisk": m.geopolrisk,
            "restricted_share": restricted.get(m.key, 0.0),
            "options": ", ".join(o.country for o in m.options[:3]),
        }
        for m in result.materials
    ]


def assess(
    file: Annotated[Path, typer.Argument(help="Supply lines, CSV or XLSX.")],
    importer: Annotated[
        str, typer.Option("--importer", "-i", help="Where the company is: EU27 or a country.")
    ] = "EU27",
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="Trade year (default: the latest).")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Date of the export restrictions, YYYY-MM-DD (default: today)."),
    ] = None,
    fmt: FormatOpt = Format.table,
    output: Annotated[
        Path | None, output_option("Write the report: report.html, .xlsx or .json.")
    ] = None,
) -> None:
    """Supply-chain risk of a company's supply lines (CRMA Art. 24): exposure by material and
    origin country (look-through via trade data), the 65 % benchmark, GeoPolRisk, export
    restrictions, diversification options and priority actions. See docs/company-assessment.md.
    """
    from critmat.risk.company import SupplyFileError
    from critmat.services import assessments

    if output is not None and output.suffix.lower() not in REPORT_SUFFIXES:
        with user_errors():
            raise CritmatError(
                f"cannot write a report as '{output.suffix or output.name}'",
                hint="use --output report.html, report.xlsx or report.json",
            )
    with user_errors():
        day = parse_day(on)
        try:
            supply = assessments.read_file(file)
        except SupplyFileError as exc:
            for problem in exc.errors:
                err.print(f"[red]✗[/] {problem}", highlight=False, markup=True)
            if exc.total > len(exc.errors):
                err.print(f"... and {exc.total - len(exc.errors)} more", highlight=False)
            raise
        with store_readonly() as store:
            result = assessments.assess(store, supply, importer=importer, year=year, on=day)
    if output is not None:
        from critmat.reports.company import report_bytes

        output.write_bytes(report_bytes(result, output.suffix.lower()[1:], file.stem))
        status(f"report written to {output}")
    rows = _material_rows(result)
    if emit_document(fmt, result.model_dump(mode="json"), rows):
        return
    caption = (
        f"{result.lines_total:,} lines, {result.total_tonnes:,.0f} t; "
        f"company in {result.importer}; "
        f"trade {result.year}; restrictions in force on {result.assessed_on.isoformat()}\n"
        "sources: " + "; ".join(result.provenance)
    )
    out.print(table(f"Supply-chain assessment of {file.name}", MATERIAL_COLUMNS, rows, caption))
    out.print()
    out.print("[bold]Priority actions[/]")
    for action in result.actions:
        out.print(f"  {action.priority}. {action.text}", highlight=False, markup=False)
    if not result.actions:
        out.print("  none on these data")


def register(app: typer.Typer) -> None:
    app.command("assess")(assess)
