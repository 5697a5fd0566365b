"""The typed answers of :mod:`critmat.services.statistics` and :mod:`critmat.services.catalogue`.

The API serves them as they are (they are its response models and its OpenAPI schema); the CLI
presents them as ``critmat ... --format json`` and its tables, whose field names they follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from critmat import exports
from critmat.reference.concentration import ConcentrationFigures

if TYPE_CHECKING:  # the catalogue's answers are read without the store's libraries
    from critmat.indicators.provenance import Provenance


@dataclass(frozen=True)
class Computed:
    """A typed answer (one of the models below) and, for table-shaped answers, the table a
    CSV/XLSX/JSON download of it holds."""

    model: BaseModel
    table: exports.Table | None = None


Answer = TypeVar("Answer", bound=BaseModel)


def from_record(model: type[Answer], record: object, **worked_out: Any) -> Answer:
    """``model`` whose fields quote ``record``'s attributes of the same name, except those given
    in ``worked_out`` (renamed or computed ones). Validation converts as the constructor does
    (tuples become lists); a field ``record`` lacks raises ``AttributeError``."""
    quoted = {name: getattr(record, name) for name in model.model_fields if name not in worked_out}
    return model.model_validate({**quoted, **worked_out})


def table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], title: str) -> exports.Table:
    """The download table of an answer: ``rows`` (mappings) in ``columns``' order, on a sheet
    named ``title`` with ``title`` as its ``about`` line."""
    provenance = exports.Provenance(title)
    return exports.Table.from_records(rows, list(columns), provenance, sheet=title)


def _utc(value: datetime) -> datetime:
    """Store timestamps are UTC: naive ones get the zone, aware ones are converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A timestamp in an answer: RFC 3339 with the zone, e.g. ``2026-12-01T20:00:00Z``.
UtcTimestamp = Annotated[datetime, AfterValidator(_utc)]


class ProvenanceOut(BaseModel):
    """One input of a figure: the dataset release it comes from and the years used."""

    dataset: str = Field(description="production, trade or governance")
    source: str = Field(description="publication: wmd, baci, wgi")
    version: str
    licence: str
    sha256: str
    release_years: list[int | None] = Field(description="first and last year of the release")
    years: list[int] = Field(description="the years of the release this figure uses")

    @classmethod
    def of(cls, item: Provenance) -> ProvenanceOut:
        return cls.model_validate(item.as_dict())

    def citation(self) -> str:
        """The one-line citation (:meth:`critmat.indicators.provenance.Provenance.citation`)."""
        from critmat.indicators.provenance import Provenance

        first, last = [*self.release_years, None, None][:2]
        return Provenance(
            self.dataset,
            self.source,
            self.version,
            self.licence,
            self.sha256,
            (first, last),
            tuple(self.years),
        ).citation()


# -- materials -------------------------------------------------------------------------------
class MaterialSummaryOut(BaseModel):
    id: str
    name: str
    critical: bool
    strategic: bool
    group: str | None
    wmd_commodity: str | None
    stages: list[str]
    hs_codes: list[str]


class HsCodeOut(BaseModel):
    code: str
    description: str | None


class StageOut(BaseModel):
    name: str
    label: str
    hs_codes: list[HsCodeOut]
    hs_codes_with_data: list[str] = Field(description="codes with rows in the trade release")
    wmd_commodity: str | None
    shared_with: list[str] = Field(description="unrelated materials listing one of its codes")
    notes: str
    sources: list[str]


class WmdSeriesOut(BaseModel):
    commodity: str
    stage: str | None = Field(description="the stage the series measures, if stage-specific")
    unit: str | None
    year_min: int | None
    year_max: int | None


class MaterialOut(BaseModel):
    id: str
    name: str
    critical: bool
    strategic: bool
    crma_critical_entry: str | None = Field(description="CRMA Annex II §1 item, verbatim")
    crma_strategic_entry: str | None = Field(description="CRMA Annex I §1 item, verbatim")
    group: str | None
    members: list[str]
    matched_stage: str | None = Field(description="the stage the name given refers to, if any")
    wmd_commodity: str | None
    production_basis: str | None
    wmd_series: list[WmdSeriesOut]
    eol_rir: float | None = Field(description="end-of-life recycling input rate (0–1)")
    eol_rir_source: str | None
    stages: list[StageOut]
    aliases: list[str]
    sources: list[str]
    notes: str
    provenance: list[ProvenanceOut]


class ProductionRowOut(BaseModel):
    country: str
    country_name: str | None
    quantity: float | None
    unit: str
    share: float | None
    estimated: bool
    rank: int


class ProductionFigures(BaseModel):
    """The concentration of world production of one commodity in one year
    (:func:`critmat.services.statistics_base.production_figures`): ``total`` in the series'
    unit, ``producers`` (countries), the ``top_country`` and its ``top_share``, ``top3_share``,
    ``hhi`` and ``estimated_share`` (shares 0–1; missing: ``None``). The API's production
    answer and the overview's production block both carry them."""

    total: float | None
    producers: int | None
    top_country: str | None
    top_share: float | None
    top3_share: float | None
    hhi: float | None
    estimated_share: float | None


class CommodityYear(BaseModel):
    """A World Mining Data series (``commodity``) in one year, and the unit of its quantities."""

    commodity: str = Field(description="World Mining Data series")
    year: int
    unit: str


class _MaterialAsked(BaseModel):
    material: str


# The material, its series and year, then its ProductionFigures, then the producers.
class ProductionOut(ProductionFigures, CommodityYear, _MaterialAsked):
    rows: list[ProductionRowOut]
    provenance: list[ProvenanceOut]


class StageProductionRowOut(BaseModel):
    country: str = Field(description="ISO3, or ROW: the publisher's 'other countries'")
    country_name: str | None
    quantity_t: float | None = Field(description="tonnes; null = withheld or not available")
    share: float | None = Field(description="of the sum of the rows with a quantity (0–1)")
    rank: int | None = Field(description="1 = largest; null for ROW and missing figures")
    estimated: bool
    status: str = Field(description="reported, withheld or not_available")
    note: str


class StageProductionOut(BaseModel):
    """World production of one material stage in one year from one release of one series."""

    material: str
    stage: str = Field(description="the catalogue stage, e.g. processing")
    year: int
    dataset: str = Field(description="stage_production (USGS, IEA) or production (WMD)")
    series: str = Field(description="e.g. USGS MCS 2026, IEA CMDE 2024, WMD")
    release_id: str
    release_version: str
    commodity: str = Field(description="the publisher's commodity name in the series")
    production_stage: str = Field(description="the series' own stage: mine, refinery, ...")
    unit: str = Field(description="the publisher's unit (quantities are tonnes)")
    basis: str = Field(description="content, gross or unstated")
    world_t: float | None = Field(description="the published world total (WLD), tonnes")
    total_t: float | None = Field(description="sum of the rows with a quantity: the share base")
    producers: int | None = Field(description="countries with a quantity above zero")
    top_country: str | None
    top_share: float | None
    top3_share: float | None
    hhi: float | None = Field(description="over the ranked countries' shares (ROW left out)")
    rows: list[StageProductionRowOut]
    notes: list[str]
    provenance: list[ProvenanceOut]


class ProductionSeriesOut(BaseModel):
    dataset: str
    series: str
    commodity: str
    production_stage: str
    note: str
    years: list[int] = Field(description="years with figures in the store")
    release_id: str | None


class ProductionStageOut(BaseModel):
    stage: str
    label: str
    series: list[ProductionSeriesOut] = Field(description="in order of preference")
    years: list[int] = Field(description="years with figures (each from its first series)")
    note: str | None = Field(description="why the stage has no figures, if it has none")


class ProductionStagesOut(BaseModel):
    material: str
    stages: list[ProductionStageOut]


# -- trade -----------------------------------------------------------------------------------
class SourceOut(BaseModel):
    country: str
    quantity: float | None = Field(default=None, description="tonnes (mass basis)")
    value: float | None = Field(default=None, description="thousand USD (value basis)")
    share: float | None
    third_country: bool


class ImportConcentrationOut(ConcentrationFigures, BaseModel):
    """The concentration of an importer's imports of a set of HS codes in one year on one basis
    (a row of :func:`critmat.indicators.imports.import_concentration`): ``total`` (tonnes or
    thousand USD), ``suppliers`` (origins), the largest origin and its share, the HHI of the
    origins' shares, the largest third-country origin and its share, whether that share is over
    the CRMA's 65 % benchmark, and the share of the import value without a quantity (0–1)."""

    exceeds_65: bool | None = Field(
        description="largest third-country share above 65 % (CRMA Art. 5(1)(b)); null: no data"
    )
    missing_quantity_value_share: float | None


class _DependencyQuestion(BaseModel):
    importer: str
    importer_members: list[str]
    year: int
    basis: str
    unit: str
    material: str | None
    stage: str | None
    hs_codes: list[str]


# The question's fields, then its ImportConcentrationOut figures, then the origins.
class DependencyOut(ImportConcentrationOut, _DependencyQuestion):
    """Same fields as ``critmat dependency --format json``. No imports on the basis in the
    year is no data: ``total`` and ``exceeds_65`` null, a note, and ``years_with_data``."""

    series: str | None = Field(
        default=None, description="the one trade series the figure comes from (HS92, HS17)"
    )
    hs_revision: str | None = Field(default=None, description="the HS revision of hs_codes")
    release_id: int | None = Field(default=None, description="id of that trade release")
    years_with_data: list[int] = Field(
        default_factory=list,
        description="years in which the importer has imports of the codes on this basis, "
        "each read in its own series",
    )
    sources: list[SourceOut]
    provenance: list[ProvenanceOut]
    notes: list[str]


class _StrategicStage(BaseModel):
    material: str
    material_name: str
    stage: str
    stage_label: str
    year: int | None = Field(description="the year of the figure (asked, or the latest with data)")
    series: str | None = Field(description="the one trade series the figure comes from")
    hs_revision: str | None
    release_id: int | None
    release: str | None = Field(description="the trade release, cited")
    hs_codes: list[str] = Field(description="the codes read, in hs_revision")


# The stage and its release, then its ImportConcentrationOut figures, then what is missing.
class StrategicDependencyOut(ImportConcentrationOut, _StrategicStage):
    """One material stage's dependency; no data: every figure and ``exceeds_65`` null, with
    ``no_data_reason``."""

    status: str = Field(description="'data' or 'no data'")
    no_data_reason: str | None
    years_with_data: list[int]
    notes: list[str] = Field(description="bundle notes of shared codes, codes without rows")


class StrategicDependenciesOut(BaseModel):
    """Same fields as ``critmat dependency --strategic --format json``."""

    importer: str
    importer_members: list[str]
    basis: str
    unit: str
    year: int | None = Field(description="the year asked (null: each stage's latest year)")
    rows: list[StrategicDependencyOut]
    provenance: list[ProvenanceOut]
    notes: list[str]


class SeriesOut(BaseModel):
    """Same fields as ``critmat trend|reliance|unit-values --format json``."""

    importer: str
    importer_members: list[str]
    material: str | None
    stage: str | None
    hs_codes: list[str]
    basis: str | None = None
    rows: list[dict[str, Any]]
    provenance: list[ProvenanceOut]
    notes: list[str]


class _MemberState(BaseModel):
    country: str
    name: str


# A Member State has a row only where it imports: its suppliers are never missing.
class MemberStateOut(ImportConcentrationOut, _MemberState):
    suppliers: int


class MemberStatesOut(BaseModel):
    material: str
    stage: str
    hs_codes: list[str]
    year: int
    basis: str
    unit: str
    member_states: list[MemberStateOut] = Field(
        description="the 27 Member States, each counting all its partners (also other "
        "Member States); third country = outside the EU; no row = no imports on this basis"
    )
    provenance: list[ProvenanceOut]
    notes: list[str]


# -- restrictions ------------------------------------------------------------------------------
class RestrictionOut(BaseModel):
    id: str
    country: str
    materials: list[str]
    measure: str
    title: str
    announced: date | None
    effective: date | None
    suspended_from: date | None
    suspended_until: date | None
    ended: date | None
    status: str = Field(description="the registry's status, as recorded on status_as_of")
    status_as_of: date
    in_force: bool = Field(
        description="whether the measure applies on as_of by its own dates (effective, "
        "suspended, ended)"
    )
    as_of: date = Field(description="the day in_force is read for (today unless on= is given)")
    confidence: str
    targets: list[str]
    hs_codes: list[str]
    hs_precision: str
    notes: str
    sources: list[str]
    importer: str | None = None
    basis: str | None = None
    targeted: bool | None = None
    year_before: int | None = None
    share_before: float | None = None
    year_after: int | None = None
    share_after: float | None = None


class RestrictionsOut(BaseModel):
    restrictions: list[RestrictionOut]
    provenance: list[ProvenanceOut] = Field(description="trade release (with exposure= only)")
    source: str


# -- countries ---------------------------------------------------------------------------------
class CountrySummaryOut(BaseModel):
    iso3: str
    name: str
    groups: list[str]


class GroupOut(BaseModel):
    name: str
    label: str


class EuImportOut(BaseModel):
    material: str
    material_name: str
    stage: str
    hs_codes: list[str]
    value_kusd: float | None = Field(description="EU27 imports from the country, thousand USD")
    value_share: float | None = Field(description="share of all extra-EU imports, by value")
    quantity_t: float | None
    quantity_share: float | None = Field(description="share of all extra-EU imports, by mass")
    rank_by_value: int | None = Field(description="the country's rank among EU suppliers")


class GovernancePointOut(BaseModel):
    year: int
    estimate: float | None
    percentile: float | None
    lower: float | None = None
    upper: float | None = None


class GovernanceSeriesOut(BaseModel):
    indicator: str
    points: list[GovernancePointOut]


class CountryOut(BaseModel):
    iso3: str
    iso2: str | None
    name: str
    official_name: str | None
    groups: list[GroupOut]
    eu_member: bool
    eea: bool
    strategic_partner: bool
    eu_candidate: bool
    oct: bool
    year: int = Field(description="year of the EU27 import figures")
    eu_imports: list[EuImportOut]
    governance: list[GovernanceSeriesOut]
    provenance: list[ProvenanceOut]
    notes: list[str]


# -- search, data ------------------------------------------------------------------------------
class SearchHitOut(BaseModel):
    kind: str = Field(description="material or country")
    id: str
    name: str
    matched: str = Field(description="the name or alias that matched")
    score: float
    url: str


class SearchOut(BaseModel):
    query: str
    results: list[SearchHitOut]


class ReleaseOut(BaseModel):
    release_id: int
    dataset: str
    current: bool
    source: str
    version: str
    licence: str
    origin: str
    sha256: str
    year_min: int | None
    year_max: int | None
    rows: int
    retrieved_at: UtcTimestamp | None
    imported_at: UtcTimestamp
    notes: list[str]


class CoverageOut(BaseModel):
    dataset: str
    years: str
    year_min: int | None
    year_max: int | None
    countries: int
    codes: int
    rows: int
    missing_quantity_share: float | None
    estimated_share: float | None


class DataReleasesOut(BaseModel):
    releases: list[ReleaseOut]
    coverage: list[CoverageOut]
