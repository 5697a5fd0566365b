"""``critmat member-state`` (one Member State's dependencies) and ``critmat member-states``
(the 27 side by side for one material), answered by :mod:`critmat.services.member_states`.

Register with ``from critmat.commands import member_states; member_states.register(app)``.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from typing import TYPE_CHECKING, Annotated, Any

import typer

from critmat.cli_output import Format, emit_document, out, store_readonly, table, user_errors
from critmat.commands.columns import Column
from critmat.commands.options import BasisOption, FormatOpt, StageOpt, TradeYearOpt

if TYPE_CHECKING:  # annotations only: the service loads when a command runs
    from critmat.services.member_states import ImportSplit, MemberStateDependencies
    from critmat.services.statistics_models import ProvenanceOut

CountryArg = Annotated[
    str, typer.Argument(metavar="COUNTRY", help="A Member State: ISO3 code or name (DEU, Germany).")
]
MaterialOpt = Annotated[
    str | None,
    typer.Option(help="One material (default: every strategic raw material); shows its trend."),
]
BasisOpt = Annotated[BasisOption, typer.Option(help="Shares by mass (tonnes) or value (USD).")]

#: The columns of every table after its first ones: the extra-EU share, the largest third
#: country and its share, the flag.
SPLIT_COLUMNS: tuple[Column, ...] = (
    ("extra_eu_share", "extra-EU", "share"),
    ("top_extra_eu_supplier", "top extra-EU", "text"),
    ("top_extra_eu_share", "its share of all", "share"),
)
FLAG_COLUMN: Column = ("flag", "above 65 %", "text")
DEPENDENCY_COLUMNS: tuple[Column, ...] = (
    *(("material", "material", "text"), ("stage", "stage", "text"), ("year", "year", "text")),
    *(("trade", "series", "text"), ("total", "total", "")),
    *(SPLIT_COLUMNS[0], ("intra_eu_share", "intra-EU", "share"), *SPLIT_COLUMNS[1:]),
    *(("top_extra_eu_share_of_extra_eu", "of extra-EU", "share"), FLAG_COLUMN),
    ("refs", "notes", "text"),
)
TREND_COLUMNS: tuple[Column, ...] = (
    *(("year", "year", "text"), ("series", "series", "text"), ("total", "total", "")),
    *SPLIT_COLUMNS,
    FLAG_COLUMN,
)
COMPARISON_COLUMNS: tuple[Column, ...] = (
    *(("country", "country", "text"), ("name", "name", "text")),
    *(("quantity_t", "tonnes", ""), ("value_kusd", "value (kUSD)", "")),
    *(("top_supplier", "top supplier", "text"), ("top_supplier_share", "its share", "share")),
    *SPLIT_COLUMNS,
    FLAG_COLUMN,
)


def _flag(exceeds_65: bool | None) -> str:
    """The flag in a narrow column: yes, no, or no data (never "no" for missing data)."""
    return "no data" if exceeds_65 is None else ("YES" if exceeds_65 else "no")


def _shown(row: "ImportSplit", **extra: Any) -> dict[str, Any]:
    """A row of a table: the figures, the flag and the series (HS revision) it comes from."""
    trade = row.series
    return row.model_dump() | {"flag": _flag(row.exceeds_65), "trade": trade} | extra


def _footnotes(rows: list[dict[str, Any]], notes: list[list[str]]) -> list[str]:
    """Number each distinct note, mark the rows that have it (``refs``), list them."""
    numbered: dict[str, int] = {}
    for row, own in zip(rows, notes, strict=True):
        refs = [numbered.setdefault(n, len(numbered) + 1) for n in own]
        row["refs"] = " ".join(f"[{i}]" for i in refs) or None
    return [f"[{i}] {n}" for n, i in numbered.items()]


def _citation(item: "ProvenanceOut") -> str:
    """A release and the years read in it (a run of years as first–last)."""
    years = item.years
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        used = f"{years[0]}–{years[-1]}"
    else:
        used = ", ".join(str(y) for y in years)
    return f"{item.source} {item.version} ({item.dataset}; years used: {used})"


def _caption(answer_notes: list[str], citations: list[str], footnotes: list[str]) -> str:
    lines = ["source: " + "; ".join(citations), *answer_notes, *footnotes]
    return "\n".join(lines)


def member_state(
    country: CountryArg,
    material: MaterialOpt = None,
    stage: StageOpt = None,
    year: TradeYearOpt = None,
    basis: BasisOpt = BasisOption.mass,
    fmt: FormatOpt = Format.table,
) -> None:
    """A Member State's own dependencies per strategic material: extra- and intra-EU shares,
    the top extra-EU supplier and the 65 % flag (with --material: its trend year by year)."""
    from critmat.services import member_states

    with user_errors(), store_readonly() as store:
        answer = member_states.dependencies(
            store, country, material=material, stage=stage, year=year, basis=basis.value
        )
    if emit_document(fmt, answer.model_dump(mode="json"), member_states.dependency_rows(answer)):
        return
    rows = [_shown(r) for r in answer.dependencies]
    footnotes = _footnotes(rows, [r.notes for r in answer.dependencies])
    citations = [_citation(p) for p in answer.provenance]
    out.print(
        table(
            f"{answer.name} ({answer.country}): imports by origin, {answer.basis} ({answer.unit})",
            DEPENDENCY_COLUMNS,
            rows,
            _caption(answer.notes, citations, footnotes),
        )
    )
    if material is not None:
        _print_trends(answer)


def _print_trends(answer: "MemberStateDependencies") -> None:
    for dep in answer.dependencies:
        if not dep.trend:
            continue
        rows = [p.model_dump() | {"flag": _flag(p.exceeds_65)} for p in dep.trend]
        title = f"{answer.country} · {dep.material_name} · {dep.stage_label}: year by year"
        out.print(table(title, TREND_COLUMNS, rows))


def member_states_compare(
    material: Annotated[str, typer.Argument(metavar="MATERIAL", help="Material name or alias.")],
    stage: StageOpt = None,
    year: TradeYearOpt = None,
    basis: BasisOpt = BasisOption.mass,
    fmt: FormatOpt = Format.table,
) -> None:
    """The 27 Member States side by side for one material stage: tonnes, value, top supplier,
    extra-EU share, top extra-EU supplier and the 65 % flag."""
    from critmat.services import member_states

    with user_errors(), store_readonly() as store:
        answer = member_states.comparison(
            store, material, stage=stage, year=year, basis=basis.value
        )
    if emit_document(fmt, answer.model_dump(mode="json"), member_states.comparison_rows(answer)):
        return
    rows = [_shown(r) for r in answer.member_states]
    codes = answer.member_states[0].hs_codes if answer.member_states else []
    first = answer.member_states[0] if answer.member_states else None
    release = f"{first.series} {', '.join(codes)} ({first.release})" if first else ""
    citations = [_citation(p) for p in answer.provenance]
    out.print(
        table(
            f"{answer.material_name} · {answer.stage_label}: the 27 Member States, "
            f"{answer.year}, {answer.basis} ({answer.unit}) · {release}",
            COMPARISON_COLUMNS,
            rows,
            _caption(answer.notes, citations, []),
        )
    )


def register(app: typer.Typer) -> None:
    """Add ``critmat member-state`` and ``critmat member-states`` to ``app``."""
    app.command("member-state")(member_state)
    app.command("member-states")(member_states_compare)
