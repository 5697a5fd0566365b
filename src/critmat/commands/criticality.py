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
)
#: Every term's value is text already (three decimals, :func:`_text`).
_EXPLAIN_COLUMNS = columns("stage", "term", "symbol", "value", "unit", "inputs", "note")


def criticality(
    year: Annotated[
        int | None,
        typer.Option("--year", help="Last year of the window (default: latest with data)."),
    ] = None,
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
        typer.Option("--si-sr", help="CSV: material, si_sr [, source]. Default SI_SR = 1."),
    ] = None,
    published_si: Annotated[
        bool,
        typer.Option(
            "--published-si", help="Use the 2023 assessment's SI_SR where --si-sr has none."
        ),
    ] = False,
    explain: Annotated[
        str | None,
        typer.Option("--explain", metavar="MATERIAL", help="Print one material term by term."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """EU criticality assessment (2017 methodology): supply risk and economic importance."""
    from critmat.risk.eu_criticality import EI_THRESHOLD, SR_THRESHOLD, explain_rows
    from critmat.services.risk_criticality import assess_criticality, criticality_request

    with user_errors():
        request = criticality_request(
            year=year,
            window=window,
            ei_inputs=ei_inputs,
            si_sr=si_sr,
            published_si=published_si,
            explain=explain,
        )
        with store_readonly() as store:
            result = assess_criticality(store, request)
    years = f"{result.years[0]}–{result.years[-1]}"
    sources = "; ".join(p.citation() for p in result.provenance)
    if explain:
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
                f"EU supply risk of {breakdown.name}, {years} (term by term)",
                _EXPLAIN_COLUMNS,
                rows,
                caption="; ".join(dict.fromkeys([breakdown.wgi_note, *result.notes]))
                + f". Sources: {sources}",
            )
        )
        return
    emit_rows(
        result.rows(),
        fmt,
        f"EU criticality assessment, data {years} (SR ≥ {SR_THRESHOLD:g} and "
        f"EI ≥ {EI_THRESHOLD:g} = critical)",
        _SUMMARY_COLUMNS,
        caption="; ".join(result.notes)
        + ". EI is empty without --ei-inputs; SI_SR = 1 unless given. "
        + "`critmat criticality --explain MATERIAL` shows every term. "
        + f"Sources: {sources}",
    )


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
