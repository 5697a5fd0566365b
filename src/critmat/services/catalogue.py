"""The catalogue service: the material list, one material's entry, and search over materials and
countries. The CLI (``critmat materials|material``), the API (``/materials``, ``/search``) and the
web pages (their search box) ask these and only present the answers.

:func:`search` is the one search ranking of critmat (see its docstring).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, RootModel

from critmat.reference._common import name_key
from critmat.reference.materials import load_catalogue
from critmat.services import statistics_models as m
from critmat.services.statistics_models import Computed, from_record, table

if TYPE_CHECKING:
    from critmat.reference.materials import Catalogue, Stage
    from critmat.store import Store

#: The columns of the material list's download.
MATERIAL_COLUMNS = ["id", "name", "critical", "strategic", "group", "wmd_commodity", "stages"]
MATERIAL_COLUMNS.append("hs_codes")


# -- materials ---------------------------------------------------------------------------------
class StageSeriesOut(BaseModel):
    """One production series of a stage (``critmat.reference.materials.ProductionSeries``)."""

    dataset: str = Field(description="stage_production (USGS, IEA) or production (WMD)")
    series: str = Field(description="e.g. USGS MCS 2026, IEA CMDE 2024, WMD")
    commodity: str = Field(description="the publisher's commodity name in the series")
    stage: str = Field(description="the series' own stage: mine, refinery, smelter, metal, other")
    note: str


class CatalogueStageOut(m.StageOut):
    """A stage with both HS revisions, the notes of its bundled codes and its production series."""

    hs17_codes: list[m.HsCodeOut] = Field(description="HS 2017 codes (BACI HS17)")
    hs17_codes_with_data: list[str] = Field(description="codes with rows in the HS17 trade series")
    bundle_notes: list[str] = Field(description="one per code that holds several materials")
    production: list[StageSeriesOut] = Field(description="in order of preference")
    proxy: bool = Field(
        description="codes of a broader product or a feed: never chosen unless named"
    )


class MaterialDetailOut(m.MaterialOut):
    """One material with its CRMA status in words and its stages in both HS revisions."""

    crma_status: str = Field(description="e.g. 'critical, strategic', 'not listed'")
    stages: list[CatalogueStageOut]  # type: ignore[assignment]  # a StageOut with more fields


def materials(critical: bool | None = None, strategic: bool | None = None) -> Computed:
    """The catalogue's materials in catalogue order; ``critical``/``strategic`` keep only those
    whose CRMA flag equals the value given (``None``: either)."""
    chosen = [
        mat
        for mat in load_catalogue().materials
        if (critical is None or mat.critical == critical)
        and (strategic is None or mat.strategic == strategic)
    ]
    items = [
        from_record(m.MaterialSummaryOut, mat, stages=[s.name for s in mat.stages])
        for mat in chosen
    ]
    rows = [i.model_dump() for i in items]
    download = table(MATERIAL_COLUMNS, rows, "materials")
    return Computed(RootModel[list[m.MaterialSummaryOut]](items), download)


def material_detail(store: Store | None, name: str) -> Computed:
    """One material by id, name, alias or symbol (:class:`~critmat.errors.UnknownNameError` with
    suggestions otherwise): its CRMA entries, stages and HS codes, World Mining Data series,
    recycling input rate, aliases and sources.

    With the ``store``, also which HS codes have rows in the trade release, the years of each
    production series and the provenance of both; without it (the catalogue alone, e.g.
    before any data is imported) those are empty.
    """
    catalogue = load_catalogue()
    resolved = catalogue.resolve(name)
    mat = resolved.material
    present: set[str] = set()
    present17: set[str] = set()
    series_rows: dict[str, tuple[str | None, int | None, int | None]] = {}
    if store is not None:
        present, series_rows = _data_of(store, mat.wmd_commodities)
        from critmat.indicators.flows_cache import trade_codes

        present17 = set(trade_codes(store, "HS17"))
    wmd_series = []
    for commodity in mat.wmd_commodities:
        stage = next((s.name for s in mat.stages if s.wmd_commodity == commodity), None)
        unit, y0, y1 = series_rows.get(commodity, (mat.production_unit, None, None))
        wmd_series.append(
            m.WmdSeriesOut(commodity=commodity, stage=stage, unit=unit, year_min=y0, year_max=y1)
        )
    stages = [_stage_out(catalogue, mat.id, s, (present, present17)) for s in mat.stages]
    used = ["production"] if series_rows else []
    with_trade = any(c in present for c in mat.hs_codes)
    with_trade |= any(c in present17 for s in mat.stages for c in s.hs17_codes)
    used += ["trade"] if with_trade else []
    model = from_record(
        MaterialDetailOut,
        mat,
        crma_status=catalogue.crma_status(mat.id),
        matched_stage=resolved.stage.name if resolved.stage else None,
        wmd_series=wmd_series,
        stages=stages,
        provenance=_provenance(store, used),
    )
    return Computed(model)


def _stage_out(
    catalogue: Catalogue, material_id: str, stage: Stage, present: tuple[set[str], set[str]]
) -> CatalogueStageOut:
    """A stage's answer: its codes of both revisions with their descriptions, which have trade
    rows (``present``: the HS92 and the HS17 codes in the store), the bundle notes of both
    revisions and its series."""

    def codes(revision: str) -> list[m.HsCodeOut]:
        described = (
            (c, catalogue.hs_code(c, revision)) for c in catalogue.hs_codes(stage, revision)
        )
        return [m.HsCodeOut(code=c, description=e.description if e else None) for c, e in described]

    notes = [n for rev in ("HS92", "HS17") for n in catalogue.bundle_notes(stage, rev, material_id)]
    return from_record(
        CatalogueStageOut,
        stage,
        hs_codes=codes("HS92"),
        hs17_codes=codes("HS17"),
        hs_codes_with_data=[c for c in stage.hs_codes if c in present[0]],
        hs17_codes_with_data=[c for c in stage.hs17_codes if c in present[1]],
        shared_with=list(catalogue.shared_with(material_id, stage)),
        bundle_notes=notes,
        production=[from_record(StageSeriesOut, p) for p in stage.production],
    )


def _data_of(
    store: Store, commodities: tuple[str, ...]
) -> tuple[set[str], dict[str, tuple[str | None, int | None, int | None]]]:
    """The HS codes with trade rows, and each production series' unit and first/last year."""
    from critmat.indicators.flows_cache import trade_codes
    from critmat.services.statistics_base import as_int

    series_rows = {
        str(c): (str(u) if u is not None else None, as_int(y0), as_int(y1))
        for c, u, y0, y1 in store.con.execute(
            "SELECT commodity, any_value(unit), min(year), max(year) FROM production "
            "WHERE quantity IS NOT NULL AND list_contains(?, commodity) GROUP BY commodity",
            [list(commodities)],
        ).fetchall()
    }
    return set(trade_codes(store)), series_rows


def _provenance(store: Store | None, datasets: list[str]) -> list[m.ProvenanceOut]:
    if store is None or not datasets:
        return []
    from critmat.indicators.provenance import provenance_for

    return [m.ProvenanceOut.of(p) for p in provenance_for(store.con, datasets)]


# -- countries (the names search and the country list share) ----------------------------------
@functools.cache
def all_countries() -> tuple[tuple[str, str], ...]:
    """``(ISO3, display name)`` of every country: ISO 3166-1 and the non-ISO codes (XKX)."""
    import pycountry

    from critmat.reference.countries import NON_ISO_CODES, country_name

    codes = {c.alpha_3 for c in pycountry.countries} | set(NON_ISO_CODES)
    return tuple(sorted((code, country_name(code)) for code in codes))


# -- search ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchHit:
    """One search result: a material (``id`` its catalogue id) or a country (``id`` its ISO3),
    its display ``name``, the text that ``matched`` (a name, alias, symbol, WMD series or code)
    and its ``score`` (0–1, rounded to 4 places; higher is better)."""

    kind: str  # "material" or "country"
    id: str
    name: str
    matched: str
    score: float


@dataclass(frozen=True)
class _Entry:
    kind: str
    id: str
    name: str
    text: str
    key: str
    weight: float  # ids and names rank above aliases


@functools.cache
def _search_index() -> tuple[_Entry, ...]:
    import pycountry

    entries: list[_Entry] = []
    for mat in load_catalogue():
        texts = [(mat.id, 1.0), (mat.name, 1.0)]
        texts += [(a, 0.95) for a in mat.aliases]
        texts += [(a, 0.95) for stage in mat.stages for a in stage.aliases]
        texts += [(c, 0.9) for c in mat.wmd_commodities]
        for text, weight in texts:
            entries.append(_Entry("material", mat.id, mat.name, text, name_key(text), weight))
    for iso3, name in all_countries():
        record = pycountry.countries.get(alpha_3=iso3)
        texts = [(iso3, 0.97), (name, 0.97)]
        if record is not None:
            texts += [(str(record.name), 0.9), (str(record.alpha_2), 0.85)]
            official = getattr(record, "official_name", None)
            if official:
                texts.append((str(official), 0.85))
        for text, weight in texts:
            entries.append(_Entry("country", iso3, name, text, name_key(text), weight))
    return tuple(e for e in entries if e.key)


def _score(query: str, entry: _Entry) -> float:
    if entry.key == query:
        return 1.0
    if entry.key.startswith(query):
        return 0.85 + 0.1 * len(query) / len(entry.key)
    if len(query) >= 3 and query in entry.key:
        return 0.7 + 0.1 * len(query) / len(entry.key)
    if len(query) < 3:
        return 0.0
    matcher = difflib.SequenceMatcher(None, query, entry.key)
    if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
        return 0.0
    ratio = matcher.ratio()
    return 0.6 * ratio if ratio >= 0.6 else 0.0


def search(query: str, limit: int) -> list[SearchHit]:
    """Materials and countries matching ``query``, best first, at most ``limit``: the one search
    ranking of critmat (API ``/search``, the web's search box).

    Names are compared by their lookup key (case, accents and punctuation ignored). A text scores
    1 when equal to the query, 0.85–0.95 when it starts with it, 0.7–0.8 when it contains it
    (queries of 3 characters or more), else 0.6 × its similarity when that is at least 0.6;
    times the text's weight: 1 for a material's id and name, 0.97 a country's ISO3 and name,
    0.95 a material alias, 0.9 a WMD series or a country's ISO name, 0.85 its ISO2 code or
    official name; a stage's alias (e.g. "NdFeB magnets") counts as its material's alias. A text
    equal to the query ranks above every text that is not, whatever the weights (what the query
    names exactly comes first). Each material or country counts once, by its best text; ties:
    materials first, then by name.
    """
    key = name_key(query)
    best: dict[tuple[str, str], tuple[float, _Entry]] = {}
    named: set[tuple[str, str]] = set()  # what one of whose texts equals the query
    if key:
        for entry in _search_index():
            score = _score(key, entry) * entry.weight
            if score <= 0:
                continue
            found = (entry.kind, entry.id)
            if entry.key == key:
                named.add(found)
            if found not in best or score > best[found][0]:
                best[found] = (score, entry)
    ranked = sorted(
        best.values(),
        key=lambda se: (
            (se[1].kind, se[1].id) not in named,
            -se[0],
            se[1].kind != "material",
            se[1].name,
        ),
    )
    return [SearchHit(e.kind, e.id, e.name, e.text, round(s, 4)) for s, e in ranked[:limit]]
