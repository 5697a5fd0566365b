"""Origin tracing, the service: an importer's imports of a material stage by shipping country
and by country of origin, side by side.

``critmat origins``, ``GET /api/v1/origins`` and the origin cards of the material and Member
State pages ask :func:`origins` and only present. The figures are
:func:`critmat.indicators.origin_networks.trace_stage`'s (re-export correction, Kastner et al.
2011: ``docs/methods.md``, "Origin tracing"). The stage is chosen by
:meth:`critmat.reference.materials.Catalogue.choose_stage` (a stage "has data" when its goods
have trade flows in a year its origin stage has production), the year by
:func:`critmat.indicators.lookup.year_or_latest` over those years (the latest by default).
Every answer names the trade release (BACI HS92) and the production release and series of its
source term; tonnes of unknown origin are the row ``unattributed``, never dropped.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from critmat.errors import NoDataError
from critmat.indicators import lookup
from critmat.indicators.origin_networks import StageOrigins, trace_stage, traced_years_all
from critmat.indicators.origins import UNATTRIBUTED
from critmat.indicators.provenance import Provenance
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.services.statistics_base import provenance, records, safe_country_name
from critmat.services.statistics_models import Computed, ProvenanceOut, from_record, table
from critmat.store import Release, Store

__all__ = ["OriginRowOut", "OriginsOut", "ReleaseRefOut", "choose_traced_stage", "origins"]

#: The trade series origin tracing reads (the ``trade`` table: BACI HS92, every year).
TRADE_SERIES = "HS92"


class OriginRowOut(BaseModel):
    """One country's part of the importer's imports (tonnes and share of the imports)."""

    country: str = Field(description="ISO3, or 'unattributed' (origin unknown)")
    country_name: str | None
    quantity_t: float = Field(description="tonnes (gross weight of the traded goods)")
    share: float = Field(description="of the importer's imports in tonnes (0–1)")
    eu_member: bool = Field(description="the country is an EU Member State")


class ReleaseRefOut(BaseModel):
    """The release one input of the answer comes from."""

    dataset: str
    series: str
    release_id: str
    version: str


class OriginsOut(BaseModel):
    """An importer's imports of one material stage in one year, by shipping country and by
    country of origin (re-export correction; see ``docs/methods.md``)."""

    material: str
    stage: str = Field(description="the catalogue stage whose goods are traced")
    origin_stage: str = Field(description="the stage whose producers are the origins")
    year: int
    importer: str
    hs_codes: list[str] = Field(description="HS92 codes of the traded goods (tonnes added)")
    imports_t: float = Field(description="the importer's imports in tonnes (flows with a quantity)")
    by_shipping: list[OriginRowOut] = Field(description="by the last shipping country (BACI)")
    by_origin: list[OriginRowOut] = Field(description="by the country that produced it")
    unattributed_t: float = Field(description="tonnes of unknown origin (row 'unattributed')")
    unattributed_share: float | None
    unattributed_via: list[OriginRowOut] = Field(
        description="where the tonnes of unknown origin entered the network"
    )
    credited: list[OriginRowOut] = Field(
        description="producers credited with exports above their recorded production"
    )
    missing_quantity_value_share: float | None = Field(
        description="share of the import value whose flows have no quantity (left out)"
    )
    trade_release: ReleaseRefOut
    production_release: ReleaseRefOut
    notes: list[str]
    provenance: list[ProvenanceOut]


def _has_source(traced: dict[str, tuple[Stage | None, list[int]]], stage: Stage) -> bool:
    return bool(traced.get(stage.name, (None, []))[1])


def choose_traced_stage(
    store: Store, material: str, stage: str | None
) -> tuple[Material, Stage, list[int]]:
    """The material, the stage (the one stage rule; "has data" = traceable in some year) and
    the years its origins can be traced in."""
    catalogue = load_catalogue()
    resolved = catalogue.resolve(material)
    found = resolved.material
    traced = traced_years_all(store.con, found)
    chosen = catalogue.choose_stage(resolved, lambda s: _has_source(traced, s), named=stage)
    if chosen is None:
        raise NoDataError(
            f"no stage of {found.name} can be traced to its origins: none has both trade "
            "flows and production of its own or an earlier stage",
            hint=f"`critmat material {found.id}` lists its stages and production series",
        )
    origin, years = traced.get(chosen.name, (None, []))
    if not years:
        why = (
            "no production series at this stage or before it"
            if origin is None
            else f"no year with both trade of its codes and production of its {origin.name} stage"
        )
        others = [s.name for s in found.stages if _has_source(traced, s)]
        raise NoDataError(
            f"the {chosen.name} stage of {found.name} cannot be traced: {why}",
            hint=f"stages that can: {', '.join(others)}" if others else None,
        )
    return found, chosen, years


def _release(store: Store, dataset: str, series: str) -> Release | None:
    datasets = ("production", "stage_production") if dataset == "production" else (dataset,)
    for name in datasets:
        for release in store.current_releases(name):  # type: ignore[arg-type]
            if release.series == series:
                return release
    return None


def _ref(release: Release | None, dataset: str, series: str) -> ReleaseRefOut:
    if release is None:
        return ReleaseRefOut(dataset=dataset, series=series, release_id="", version="")
    return from_record(ReleaseRefOut, release, release_id=str(release.release_id))


def _rows(frame_records: list[dict[str, object]], eu: frozenset[str]) -> list[OriginRowOut]:
    return [
        OriginRowOut(
            country=str(r["country"]),
            country_name=(
                "unattributed (origin unknown)"
                if r["country"] == UNATTRIBUTED
                else safe_country_name(str(r["country"]))
            ),
            quantity_t=float(str(r["quantity_t"])),
            share=float(str(r["share"])),
            eu_member=str(r["country"]) in eu,
        )
        for r in frame_records
    ]


def _top(rows: list[OriginRowOut], limit: int = 3) -> str:
    return ", ".join(f"{r.country} {r.quantity_t:,.0f} t" for r in rows[:limit])


def _notes(answer: StageOrigins, model_rows: dict[str, list[OriginRowOut]]) -> list[str]:
    share = answer.unattributed_t / answer.imports_t if answer.imports_t else 0.0
    notes = [
        "by country of origin: re-export correction (Kastner, Kastner & Nonhebel 2011): the "
        "world trade network of these codes solved with production as its source term; each "
        "country's exports carry the origin mix of its production plus imports",
        "tonnes are gross weights of the traded goods (codes added) and flows without a "
        "quantity are left out; production is in the series' tonnes (often metal content)",
    ]
    if answer.origin_stage != answer.stage:
        notes.append(
            f"the {answer.stage} stage has no production series: its goods are traced to the "
            f"producers of the {answer.origin_stage} stage"
        )
    if answer.importer.name == "EU27":
        notes.append(
            "flows between EU Member States are not imports of the EU27 and are left out of "
            "both views; they stay in the network, so material re-exported through a Member "
            "State keeps its origin (EU origins are marked eu_member)"
        )
    if answer.unattributed_t > 0:
        notes.append(
            f"{answer.unattributed_t:,.0f} t ({share:.1%}) of unknown origin, shown as "
            "'unattributed': shipped by countries that exported more than they produced and "
            f"imported, with no production figure (largest: {_top(model_rows['via'])})"
        )
    if model_rows["credited"]:
        notes.append(
            "producers exporting more than their recorded production plus imports are "
            "credited with the surplus (gross-weight trade against content production, or "
            f"stocks): {_top(model_rows['credited'])} of these imports"
        )
    missing = answer.missing_quantity_value_share
    if missing is not None and missing >= 0.0005:
        notes.append(f"{missing:.1%} of the import value has no quantity and is left out")
    catalogue = load_catalogue()
    for code in answer.hs_codes:
        note = catalogue.bundle_note(code, TRADE_SERIES, answer.material_id)
        if note:
            notes.append(note)
    return notes


def _compute(
    store: Store, material: Material, stage: Stage, year: int, importer: str
) -> OriginsOut:
    chosen = lookup.resolve_importer(importer)
    answer = trace_stage(store.con, material, stage, year, chosen)
    if answer is None:  # years come from traced_years_all, so this is a changed store
        raise NoDataError(f"no trade or production for {material.name} {stage.name} in {year}")
    eu = lookup.eu_members()
    rows = {
        "shipping": _rows(records(answer.by_shipping), eu),
        "origin": _rows(records(answer.by_origin), eu),
        "via": _rows(records(answer.unattributed_via), eu),
        "credited": _rows(records(answer.credited), eu),
    }
    trade = store.current_release("trade", TRADE_SERIES)
    produced = _release(store, "production", answer.production_series)
    used = (answer.year,)
    return from_record(
        OriginsOut,
        answer,  # stage, origin_stage, year, hs_codes, imports_t, unattributed_t, missing_...
        material=material.id,
        importer=chosen.name,
        by_shipping=rows["shipping"],
        by_origin=rows["origin"],
        unattributed_share=answer.unattributed_t / answer.imports_t if answer.imports_t else None,
        unattributed_via=rows["via"],
        credited=rows["credited"],
        trade_release=_ref(trade, "trade", TRADE_SERIES),
        production_release=_ref(produced, "production", answer.production_series),
        notes=_notes(answer, rows),
        provenance=provenance(
            Provenance.of_release(r, used) for r in (trade, produced) if r is not None
        ),
    )


#: Columns of an origins download: one row per country and view.
_COLUMNS = [
    "material",
    "stage",
    "origin_stage",
    "year",
    "importer",
    "view",
    "country",
    "country_name",
    "quantity_t",
    "share",
    "eu_member",
    "trade_release",
    "production_series",
    "production_release",
]


def origins(
    store: Store,
    material: str,
    importer: str = "EU27",
    stage: str | None = None,
    year: int | None = None,
) -> Computed:
    """``importer``'s imports of ``material`` at ``stage`` (default: the stage rule) in
    ``year`` (default: the latest traceable year) by shipping country and by country of
    origin, with the releases of both inputs and the notes of what is unattributed."""
    found, chosen, years = choose_traced_stage(store, material, stage)
    if year is not None and year not in years:
        raise NoDataError(
            f"{found.name} {chosen.name} cannot be traced in {year}",
            hint="years with trade and production: " + ", ".join(str(y) for y in years),
        )
    picked = lookup.year_or_latest(year, years[0], years[-1], f"{found.name} origin tracing")
    model = _compute(store, found, chosen, picked, importer)
    common = {
        "material": model.material,
        "stage": model.stage,
        "origin_stage": model.origin_stage,
        "year": model.year,
        "importer": model.importer,
        "trade_release": f"{model.trade_release.series} {model.trade_release.version}",
        "production_series": model.production_release.series,
        "production_release": model.production_release.version,
    }
    table_rows = [
        common | {"view": view} | r.model_dump()
        for view, rows in (
            ("by shipping country", model.by_shipping),
            ("by origin", model.by_origin),
        )
        for r in rows
    ]
    title = f"origins {model.material} {model.stage} {model.importer}"
    return Computed(model, table(_COLUMNS, table_rows, title))
