"""Statistics commands: ``production``, ``dependency``, ``trend``, ``reliance``, ``unit-values``.

Each parses its options, asks :mod:`critmat.services.statistics` (imported when the command runs,
with pandas and the store) and presents its answer through :mod:`critmat.cli_output`. A year not
given is the latest year with data (:func:`critmat.indicators.lookup.year_or_latest`), as in the
API and the web. Registered on the
main app by :mod:`critmat.cli`. GeoPolRisk has its own module, :mod:`critmat.commands.geopolrisk`.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, TypedDict, TypeVar, cast

import typer

from critmat.cli_output import (
    Format,
    emit_document,
    fmt_number,
    out,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.columns import Column, ColumnSpec, columns
from critmat.commands.options import (
    BasisOption,
    FormatOpt,
    FromOpt,
    HsOpt,
    ImporterOpt,
    MaterialArg,
    StageOpt,
    ToOpt,
    TradeYearOpt,
)

if TYPE_CHECKING:  # annotations only: the service and the store load when a command runs
    from critmat.services.statistics_models import (
        Computed,
        DependencyOut,
        ProductionOut,
        ProvenanceOut,
        SeriesOut,
        StrategicDependenciesOut,
    )
    from critmat.services.statistics_reliance import StageRelianceOut
    from critmat.store import Store


class ImportFlow(TypedDict):
    """The imports a trade command asks about: an importer's, of a material (at a stage) or of
    one HS6 code, as the statistics service takes them (keyword arguments)."""

    importer: str
    material: str | None
    stage: str | None
    hs: str | None


Answer = TypeVar("Answer")


def read_store(question: Callable[["Store"], Answer]) -> Answer:
    """``question`` asked of the read-only store (a user error ends the command with its
    message); the production-by-stage command asks through it too."""
    with user_errors(), store_readonly() as store:
        return question(store)


def _answer(question: Callable[["Store"], "Computed"]) -> Any:
    """The model of the statistics service's answer to ``question`` (:func:`read_store`); the
    caller names its type."""
    return read_store(question).model


def _citation(provenance: Sequence["ProvenanceOut"]) -> str:
    return "; ".join(p.citation() for p in provenance)


def _subject(material_id: str | None, stage_name: str | None, hs_codes: Sequence[str]) -> str:
    """``Material · stage label``, the material name, or ``HS code, ...``."""
    from critmat.reference.materials import load_catalogue

    if material_id is None:
        return "HS " + ", ".join(hs_codes)
    material = load_catalogue().get(material_id)
    if stage_name is None:
        return material.name
    return f"{material.name} · {material.stage(stage_name).label}"


def production(
    material_name: Annotated[
        str, typer.Argument(metavar="MATERIAL", help="Material name or alias.")
    ],
    year: Annotated[
        int | None,
        typer.Option("--year", "-y", help="Year (default: the latest with data for the series)."),
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            help="Value-chain stage (processing, refining, extraction, ... or 'all'): "
            "production at that stage from the catalogue's series (USGS, IEA, WMD). "
            "Without it: the World Mining Data series."
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """World production by country, largest first, with shares and concentration."""
    from critmat.commands.production_stage import production_by_stage, stage_hint
    from critmat.reference.materials import load_catalogue
    from critmat.services import statistics

    if stage is not None:
        production_by_stage(material_name, stage, year, fmt)
        return
    answer: ProductionOut = _answer(
        partial(statistics.production, material=material_name, year=year)
    )
    citation = _citation(answer.provenance)
    rows = [
        {
            "country": r.country,
            "quantity": r.quantity,
            "unit": r.unit,
            "share": r.share,
            "estimated": r.estimated,
            "source": citation,
        }
        for r in answer.rows
    ]
    if emit_document(fmt, rows, rows):
        return
    caption = (
        f"total {fmt_number(answer.total)} {answer.unit}"
        f" · HHI {fmt_number(answer.hhi, 'hhi')}"
        f" · top-3 {fmt_number(answer.top3_share, 'share')} · estimated "
        f"{fmt_number(answer.estimated_share, 'share')} of the total\nsource: {citation}"
    )
    hint = stage_hint(material_name)
    caption += f"\n{hint}" if hint else ""
    name = load_catalogue().get(answer.material).name
    out.print(
        table(
            f"World production of {name} ({answer.commodity}), {answer.year}",
            columns("country", ("quantity", f"quantity ({answer.unit})"), "share", "estimated"),
            rows,
            caption,
        )
    )


def dependency(
    material_name: MaterialArg = None,
    year: TradeYearOpt = None,
    importer: Annotated[
        str, typer.Option(help="EU27, a group, or a country (ISO3 or name).")
    ] = "EU27",
    stage: StageOpt = None,
    hs: HsOpt = None,
    basis: Annotated[
        BasisOption, typer.Option(help="mass (tonnes) or value (USD).")
    ] = BasisOption.mass,
    fmt: FormatOpt = Format.table,
    strategic: Annotated[
        bool,
        typer.Option(
            "--strategic", help="Every stage of every CRMA strategic material, in one table."
        ),
    ] = False,
) -> None:
    """Where an importer gets a material from: shares by origin, HHI and the CRMA 65% flag."""
    from critmat.services import statistics

    if strategic:
        _strategic_dependencies(material_name, importer, year, basis.value, fmt)
        return
    flow = ImportFlow(importer=importer, material=material_name, stage=stage, hs=hs)
    answer: DependencyOut = _answer(
        partial(statistics.dependency, year=year, basis=basis.value, **flow)
    )
    amount_key = "quantity" if answer.basis == "mass" else "value"
    payload: dict[str, Any] = answer.model_dump(mode="json")
    # The CLI lists each origin's amount under the basis' key only (the API has both keys).
    payload["sources"] = [
        {
            "country": s.country,
            amount_key: getattr(s, amount_key),
            "share": s.share,
            "third_country": s.third_country,
        }
        for s in answer.sources
    ]
    csv_rows = [
        {
            "importer": answer.importer,
            "year": answer.year,
            "basis": answer.basis,
            "hs_codes": ";".join(answer.hs_codes),
            **row,
        }
        for row in payload["sources"]
    ]
    if emit_document(fmt, payload, csv_rows):
        return
    subject = _subject(answer.material, answer.stage, answer.hs_codes)
    codes = f"{answer.hs_revision or 'HS'} {', '.join(answer.hs_codes)}"
    if answer.total is None:
        figures = "no data (no 65% flag)"
    else:
        flag = "EXCEEDS 65%" if answer.exceeds_65 else "below 65%"
        figures = (
            f"total {fmt_number(answer.total)} {answer.unit}"
            f" · HHI {fmt_number(answer.hhi, 'hhi')} · largest third country "
            f"{answer.top_third_country or '–'} {fmt_number(answer.top_third_share, 'share')}"
            f" ({flag})"
        )
    caption = (
        f"{codes} · {figures}\nsource: "
        + _citation(answer.provenance)
        + f" · series {answer.series}, release {answer.release_id}"
        + "".join(f"\nnote: {n}" for n in answer.notes)
    )
    out.print(
        table(
            f"Imports of {subject} into {answer.importer}, {answer.year}, by {answer.basis}",
            columns(
                ("country", "origin"), (amount_key, f"{amount_key} ({answer.unit})", ""), "share"
            ),
            payload["sources"],
            caption,
        )
    )


def _strategic_dependencies(
    material_name: str | None, importer: str, year: int | None, basis: str, fmt: Format
) -> None:
    """``critmat dependency --strategic``: the table of every strategic material's stages."""
    from critmat.errors import CritmatError
    from critmat.services.context import ServiceContext
    from critmat.services.statistics_trade import strategic_dependencies

    with user_errors():
        if material_name is not None:
            raise CritmatError(
                "--strategic answers for every strategic material: give no MATERIAL",
                hint="critmat dependency --strategic --importer DEU",
            )
        computed = strategic_dependencies(ServiceContext(store_readonly), importer, year, basis)
        answer = cast("StrategicDependenciesOut", computed.model)
    rows = [r.model_dump(mode="json") for r in answer.rows]
    if emit_document(fmt, answer.model_dump(mode="json"), rows):
        return
    shown = [
        r
        | {
            "hs_codes": f"{r['hs_revision'] or ''} {', '.join(r['hs_codes'])}".strip(),
            "exceeds_65": "no data" if r["status"] == "no data" else r["exceeds_65"],
            "note": _short_reason(r["no_data_reason"])
            or ("shared code" if _bundles(r["notes"]) else ""),
        }
        for r in rows
    ]
    bundle_notes = dict.fromkeys(n for r in rows for n in _bundles(r["notes"]))
    caption = "source: " + _citation(answer.provenance)
    caption += "".join(f"\nnote: {n}" for n in [*answer.notes, *bundle_notes])
    out.print(
        table(
            f"Dependency of {answer.importer} for every CRMA strategic material, by "
            f"{answer.basis}, {'in ' + str(year) if year else 'latest year with data'}",
            columns(
                *("material", "stage", "year", ("hs_codes", "HS codes", "text")),
                *("top_third_country", "top_third_share", "hhi", "exceeds_65", "note"),
            ),
            shown,
            caption,
        )
    )


def _short_reason(reason: str | None) -> str:
    """A no-data reason short enough for a table cell (the JSON has it whole)."""
    if reason is None:
        return ""
    if reason.startswith("none of its codes"):
        return "codes not in the trade data"
    return reason.split(" on the ")[0].replace("no imports of", "no imports:")


def _bundles(notes: Sequence[str]) -> list[str]:
    """The notes that say a code holds several materials."""
    return [n for n in notes if "figures from it cover all of them" in n]


def _emit_series(
    answer: "SeriesOut",
    fmt: Format,
    title: str,
    columns: Sequence[Column],
    drop: Sequence[str] = (),
) -> None:
    """Print a series answer with its provenance (``drop``: row keys the CLI does not show)."""
    rows = [{k: v for k, v in row.items() if k not in drop} for row in answer.rows]
    payload = answer.model_dump(mode="json", exclude={"basis"}) | {"rows": rows}
    if emit_document(fmt, payload, [{"importer": answer.importer, **row} for row in rows]):
        return
    caption = "source: " + _citation(answer.provenance)
    caption += "".join(f"\nnote: {n}" for n in answer.notes)
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
    from critmat.services import statistics

    flow = ImportFlow(importer=importer, material=material_name, stage=stage, hs=hs)
    answer: SeriesOut = _answer(
        partial(statistics.dependency_series, basis=basis.value, first=first, last=last, **flow)
    )
    unit = "t" if basis is BasisOption.mass else "kUSD"
    _emit_series(
        answer,
        fmt,
        f"Imports of {_subject(answer.material, answer.stage, answer.hs_codes)} into "
        f"{answer.importer} by {basis.value}, year by year",
        columns(
            *("year", ("series", "series", "text"), ("total", f"total ({unit})")),
            *("top_supplier", "top_share", "hhi"),
            *("top_third_country", "top_third_share", "exceeds_65"),
        ),
    )


def reliance(
    material_name: Annotated[str, typer.Argument(metavar="MATERIAL", help="Material or alias.")],
    importer: ImporterOpt = "EU27",
    stage: Annotated[
        str | None,
        typer.Option(
            help="Reliance at one value-chain stage: a stage, 'all', or 'default' (the stage "
            "the EU 2023 assessment used, else extraction). Without it: the mine-stage table."
        ),
    ] = None,
    first: FromOpt = None,
    last: ToOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Apparent consumption and import reliance on the content basis, year by year (with
    --stage: the stage's own production against the trade of its HS codes)."""
    from critmat.services import statistics_reliance

    def asked(service: Callable[..., Any], **more: str) -> Any:
        question = partial(service, importer=importer, material=material_name, first=first)
        return _answer(partial(question, last=last, **more))

    answer: SeriesOut
    if stage is None:
        answer = asked(statistics_reliance.reliance)
        title = (
            f"Apparent consumption of {_subject(answer.material, None, answer.hs_codes)} in "
            f"{answer.importer} (tonnes of content, estimated)"
        )
        shown: tuple[Any, ...] = ("commodity", ("stage", "trade stage"), "year", "production")
        lead = ""
    else:
        by_stage: StageRelianceOut = asked(statistics_reliance.stage_reliance, stage=stage)
        answer = by_stage
        title = (
            f"Import reliance of {answer.importer} on {_subject(answer.material, None, ())} "
            "by stage (tonnes of content, estimated)"
        )
        shown = (
            *("stage", "year", ("production_t", "production", "")),
            ("production_series", "production series", "text"),
            *(("trade_series", "trade", "text"), ("hs_codes", "HS6", "text")),
        )
        lead = f"stage: {by_stage.stage_choice}\n"
    if fmt is not Format.table:
        _emit_series(answer, fmt, "", ())
        return
    _print_reliance(answer, title, shown, lead)


def _print_reliance(
    answer: "SeriesOut", title: str, first_columns: Sequence[ColumnSpec], lead: str
) -> None:
    """The reliance table: ``first_columns``, then imports, exports, consumption and IR."""
    rows = [row | {"import_reliance": _reliance_text(row)} for row in answer.rows]
    caption = lead + "source: " + _citation(answer.provenance)
    caption += "".join(f"\nnote: {n}" for n in answer.notes)
    out.print(
        table(
            title,
            columns(
                *first_columns,
                *(("imports_content_t", "imports", ""), ("exports_content_t", "exports", "")),
                *("apparent_consumption", ("import_reliance", "import reliance (range)", "text")),
            ),
            rows,
            caption,
        )
    )


def _reliance_text(row: dict[str, Any]) -> str:
    """``31.0% (25–40%)``, or the reason there is no import reliance."""
    value = row.get("import_reliance")
    if value is None:
        return str(row.get("ir_reason") or "no data")
    low, high = row.get("import_reliance_low"), row.get("import_reliance_high")
    spread = f" ({low:.0%}–{high:.0%})" if low is not None and high is not None else ""
    return f"{value:.1%}{spread}"


def unit_values(
    material_name: MaterialArg = None,
    year: TradeYearOpt = None,
    importer: ImporterOpt = "EU27",
    stage: StageOpt = None,
    hs: HsOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Unit values (USD/t) of imports by origin, with outliers flagged (modified z > 3.5)."""
    from critmat.services import statistics

    flow = ImportFlow(importer=importer, material=material_name, stage=stage, hs=hs)
    answer: SeriesOut = _answer(partial(statistics.unit_values, year=year, **flow))
    years = sorted({y for p in answer.provenance for y in p.years})
    _emit_series(
        answer,
        fmt,
        f"Unit values of {_subject(answer.material, answer.stage, answer.hs_codes)} imported "
        f"by {answer.importer}, {', '.join(map(str, years))}",
        columns("hs6", "origin", "quantity_t", "value_kusd", "usd_per_t", "robust_z", "outlier"),
        drop=("year",),  # one year for all rows: it is in the title
    )
