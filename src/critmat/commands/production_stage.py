"""``critmat production MATERIAL --stage STAGE``: world production at one value-chain stage.

The answers are :func:`critmat.services.statistics.stage_production` (one stage, one year, one
release of one series) and :func:`~critmat.services.statistics.production_stages` (which stages
have production series); this module prints them. :func:`critmat.commands.statistics.
production` hands over here when ``--stage`` is given (``--stage all``: every stage with
figures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from critmat.cli_output import Format, emit_document, fmt_number, out, store_readonly, table
from critmat.commands.columns import columns
from critmat.commands.statistics import read_store
from critmat.errors import CritmatError

if TYPE_CHECKING:
    from critmat.services.statistics_models import ProductionStagesOut, StageProductionOut
    from critmat.store import Store

#: ``--stage all``: every stage of the material whose series hold figures.
ALL_STAGES = "all"

_COLUMNS = columns(
    ("rank", "rank", ""),
    "country",
    ("quantity_t", "quantity (t)"),
    "share",
    "estimated",
    ("status", "status", "text"),
)


def _csv_rows(answer: StageProductionOut) -> list[dict[str, Any]]:
    head = {
        "material": answer.material,
        "stage": answer.stage,
        "year": answer.year,
        "series": answer.series,
        "release_id": answer.release_id,
        "commodity": answer.commodity,
        "production_stage": answer.production_stage,
        "basis": answer.basis,
    }
    return [head | r.model_dump() for r in answer.rows]


def _world(world_t: float | None) -> str:
    return "not published" if world_t is None else f"{fmt_number(world_t)} t (published)"


def _print(answer: StageProductionOut) -> None:
    from critmat.reference.materials import load_catalogue

    material = load_catalogue().get(answer.material)
    caption = (
        f"world total {_world(answer.world_t)} · sum of rows "
        f"{fmt_number(answer.total_t)} t · HHI {fmt_number(answer.hhi, 'hhi')} · top-3 "
        f"{fmt_number(answer.top3_share, 'share')} · basis {answer.basis}\n"
        f"series: {answer.series} '{answer.commodity}' {answer.production_stage} · release "
        f"{answer.release_id} ({answer.release_version})"
        + "".join(f"\nnote: {n}" for n in answer.notes)
    )
    rows = [r.model_dump() for r in answer.rows]
    title = f"World production of {material.name} · {answer.stage}, {answer.year}"
    out.print(table(title, _COLUMNS, rows, caption))


def _one(store: Store, material: str, stage: str, year: int | None) -> StageProductionOut:
    from critmat.services import statistics

    return cast(
        "StageProductionOut", statistics.stage_production(store, material, stage, year).model
    )


def _stages(store: Store, material: str) -> ProductionStagesOut:
    from critmat.services import statistics

    return cast("ProductionStagesOut", statistics.production_stages(store, material).model)


def _answers(store: Store, material: str, stage: str, year: int | None) -> list[StageProductionOut]:
    """The answer for one stage, or one per stage with figures (``all``: the year asked where
    the stage has it, else its latest, with a note)."""
    if stage.strip().lower() != ALL_STAGES:
        return [_one(store, material, stage, year)]
    listed = _stages(store, material)
    answers = []
    for entry in listed.stages:
        if not entry.years:
            continue
        shown = year if year is None or year in entry.years else entry.years[-1]
        answer = _one(store, material, entry.stage, shown)
        if shown != year and year is not None:
            answer.notes.insert(0, f"no figures for {year} at this stage: {shown} is shown")
        answers.append(answer)
    return answers


def production_by_stage(material: str, stage: str, year: int | None, fmt: Format) -> None:
    """Print the production of ``material`` at ``stage`` (or every stage: ``all``)."""
    answers = read_store(lambda store: _answers(store, material, stage, year))
    one = stage.strip().lower() != ALL_STAGES
    documents = [a.model_dump(mode="json") for a in answers]
    csv_rows = [row for a in answers for row in _csv_rows(a)]
    if emit_document(fmt, documents[0] if one else documents, csv_rows):
        return
    if not answers:
        out.print(f"No stage of {material} has production figures in the store.")
    for answer in answers:
        _print(answer)


def _span(years: list[int]) -> str:
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def stage_hint(material: str) -> str | None:
    """A line naming the stages with production by stage, for the WMD table's caption."""
    with store_readonly() as store:
        try:
            listed = _stages(store, material)
        except CritmatError:  # the hint is optional; the WMD answer has been printed already
            return None
    found = [f"{s.stage} ({_span(s.years)})" for s in listed.stages if s.years]
    if not found:
        return None
    return (
        "production by stage: " + ", ".join(found) + f" — `critmat production {material} "
        "--stage NAME` (or --stage all)"
    )
