"""``critmat criticality``: the EU criticality assessment (supply risk, economic importance).

Register on the main app with :func:`register`. :mod:`critmat.services.risk_criticality`
answers (the method: :mod:`critmat.risk.eu_criticality`); this module parses options and
presents.
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
    emit_rows,
    out,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.columns import columns
from critmat.commands.options import FormatOpt

_SUMMARY_COLUMNS = columns(
    *("material", "sr", "sr_stage", "basis", "ei", "critical", "crma_critical"),
    *(("import_reliance", "IR"), "eol_rir", "si_sr"),
    ("production_series", "production", "text"),
)
#: Every term's value is text already (three decimals, :func:`_text`).
_EXPLAIN_COLUMNS = columns("stage", "term", "symbol", "value", "unit", "inputs", "note")
_VALIDATION_COLUMNS = columns(
    "material",
    ("published_sr", "SR 2023", ""),
    ("published_stage", "stage 2023", "text"),
    ("published_basis", "basis 2023", "text"),
    "sr",
    "stage",
    "basis",
    ("difference", "SR − SR 2023", ""),
    ("same_side", "same side of 1", "text"),
    ("production_series", "production", "text"),
    ("trade_series", "trade", "text"),
)
_OUTLOOK_COLUMNS = columns(
    "material",
    "sr",
    "sr_stage",
    ("sr_2023", "SR 2023", ""),
    ("sr_change", "SR ≥ 1", "text"),
    "ei",
    ("ei_source", "EI from", "text"),
    ("meets_2023", "list 2023", "text"),
    ("meets_now", "would meet", "text"),
    ("change", "change", "text"),
    "crma_critical",
)

YearOpt = Annotated[
    int | None,
    typer.Option(
        "--year",
        help="Last year of the window (default: latest with data; with --validate: 2022).",
    ),
]


def criticality(
    year: YearOpt = None,
    window: Annotated[
        int, typer.Option("--window", help="Years averaged, ending in --year (methodology: 5).")
    ] = 5,
    ei_inputs: Annotated[
        Path | None,
        typer.Option(
            "--ei-inputs",
            help="CSV: material, sector, end_use_share, value_added, si_ei "
            "[, value_added_max, source]. Without it EI is left empty.",
        ),
    ] = None,
    si_sr: Annotated[
        Path | None,
        typer.Option("--si-sr", help="CSV: material, si_sr [, source]; overrides the 2023 SI_SR."),
    ] = None,
    eol_rir: Annotated[
        Path | None,
        typer.Option(
            "--eol-rir", help="CSV: material, eol_rir [, source]; overrides the 2023 EoL-RIR."
        ),
    ] = None,
    published: Annotated[
        bool,
        typer.Option(
            "--published/--no-published",
            help="Use the 2023 assessment's SI_SR, EoL-RIR and stage choice (default); "
            "--no-published: SI_SR 1, the catalogue's EoL-RIR, the highest stage.",
        ),
    ] = True,
    published_si: Annotated[
        bool, typer.Option("--published-si", hidden=True, help="Same as --published.")
    ] = False,
    governance: Annotated[
        str | None,
        typer.Option(
            "--governance",
            metavar="SERIES",
            help="Governance series (default: 'WGI six dimensions' when imported).",
        ),
    ] = None,
    explain: Annotated[
        str | None,
        typer.Option("--explain", metavar="MATERIAL", help="Print one material term by term."),
    ] = None,
    validate: Annotated[
        bool,
        typer.Option("--validate", help="Compare SR with the 2023 assessment (Spearman)."),
    ] = False,
    next_assessment: Annotated[
        bool,
        typer.Option(
            "--next", help="Newest data against the 2023 list: who would cross the thresholds."
        ),
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """EU criticality assessment (2017 methodology): supply risk and economic importance."""
    from critmat.services import risk_criticality as crit

    with user_errors():
        request = crit.criticality_request(
            year=year,
            window=window,
            ei_inputs=ei_inputs,
            si_sr=si_sr,
            eol_rir=eol_rir,
            published=published or published_si,
            explain=explain,
            governance_series=governance,
        )
        with store_readonly() as store:
            if validate:
                _print_validation(crit.validate_criticality(store, request), fmt)
                return
            if next_assessment:
                _print_outlook(crit.outlook_criticality(store, request), fmt)
                return
            result = crit.assess_criticality(store, request)
    if explain:
        _print_explain(result, fmt)
        return
    _print_summary(result, fmt)


def _years(result: Any) -> str:
    return f"{result.years[0]}–{result.years[-1]}"


def _sources(result: Any) -> str:
    return "; ".join(p.citation() for p in result.provenance)


def _print_summary(result: Any, fmt: Format) -> None:
    from critmat.risk.eu_criticality import EI_THRESHOLD, SR_THRESHOLD

    emit_rows(
        result.rows(),
        fmt,
        f"EU criticality assessment, data {_years(result)} (SR ≥ {SR_THRESHOLD:g} and "
        f"EI ≥ {EI_THRESHOLD:g} = critical)",
        _SUMMARY_COLUMNS,
        caption="; ".join(result.notes)
        + ". EI is empty without --ei-inputs. "
        + "`critmat criticality --explain MATERIAL` shows every term. "
        + f"Sources: {_sources(result)}",
    )


def _print_explain(result: Any, fmt: Format) -> None:
    from critmat.risk.eu_criticality import explain_rows

    breakdown = result.breakdowns[0]
    payload: dict[str, Any] = breakdown.as_dict()
    payload["provenance"] = [p.as_dict() for p in result.provenance]
    rows = explain_rows(breakdown)
    if emit_document(fmt, payload, rows):
        return
    for row in rows:
        row["value"] = _text(row["value"])
    out.print(
        table(
            f"EU supply risk of {breakdown.name}, {_years(result)} (term by term)",
            _EXPLAIN_COLUMNS,
            rows,
            caption="; ".join(dict.fromkeys([breakdown.wgi_note, *result.notes]))
            + f". Sources: {_sources(result)}",
        )
    )


def _print_validation(validation: Any, fmt: Format) -> None:
    from critmat.services.risk_criticality import validation_document

    rho = "–" if validation.spearman is None else f"{validation.spearman:.3f}"
    _print_document(
        validation_document(validation),
        validation.assessment,
        fmt,
        f"EU supply risk {_years(validation.assessment)} against the 2023 assessment: "
        f"Spearman {rho} over {validation.n} materials; {validation.same_side} of "
        f"{validation.n} on the same side of SR 1; {validation.within} within ±0.5",
        _VALIDATION_COLUMNS,
        ("same_side",),
    )


def _print_outlook(outlook: Any, fmt: Format) -> None:
    from critmat.services.risk_criticality import outlook_document

    document = outlook_document(outlook)
    _print_document(
        document,
        outlook.assessment,
        fmt,
        f"The next assessment on data {_years(outlook.assessment)} against the 2023 list "
        f"(SR ≥ 1 and EI ≥ 2.8): {len(document['crossing'])} materials cross a threshold",
        _OUTLOOK_COLUMNS,
        ("meets_2023", "meets_now", "crma_critical"),
        "EI: your --ei-inputs, else the 2023 EI (assumed unchanged). ",
    )


def _print_document(
    document: dict[str, Any],
    result: Any,
    fmt: Format,
    title: str,
    cols: Any,
    flags: tuple[str, ...],
    note: str = "",
) -> None:
    """``document`` as JSON, its rows as CSV, or a table whose ``flags`` columns read yes/no."""
    rows = document["rows"]
    if emit_document(fmt, document, rows):
        return
    for row in rows:
        for key in flags:
            row[key] = _text(row[key])
    caption = "; ".join(result.notes) + f". {note}Sources: {_sources(result)}"
    out.print(table(title, cols, rows, caption=caption))


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def register(app: typer.Typer) -> None:
    """Add ``criticality`` to ``app``."""
    app.command("criticality")(criticality)
