"""The CRMA panel: for each critical raw material (strategic ones first), the largest single
third-country share of EU27 extra-EU supply on the material's *main stage*, against the 65%
benchmark of Art. 5(1)(b) of the Critical Raw Materials Act.

The HTML report (:mod:`critmat.reports.model`) and the web dashboard both show it; this module
is the one place the selection rules live:

- *Main stage* (:func:`main_stage`: the one stage rule, then the panel's own fallbacks): the
  first catalogued stage (extraction, then intermediate and processing, ...)
  with EU27 imports on a mass basis in the year whose HS codes are not shared with an unrelated
  material (261590 carries niobium, tantalum and vanadium ores; 261690 PGM and gold ores), else
  the first stage with such imports, else the first with imports by value, else the first whose
  codes are in the trade release.
- *Status*: ``ok``; ``thin`` (below :data:`THIN_TONNES` tonnes imported); ``partial`` (over
  :data:`PARTIAL_VALUE_SHARE` of the import value has no quantity); ``no-quantity`` (value
  only); ``no-imports``; ``no-codes`` (the codes are not in the trade release); ``no-stages``.
- Entries without data of their own (HREE, LREE) use their group entry (rare earths) and say so
  (``data_from``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from critmat.indicators.imports import BASES, ImporterSet, import_concentration, import_sources
from critmat.indicators.refresh import Indicators, stage_code_groups
from critmat.reference.concentration import ConcentrationFigures
from critmat.reference.countries import country_name as _country_name
from critmat.reference.countries import group_members
from critmat.reference.materials import Catalogue, Material, Resolved, Stage

EU = "EU27"
#: EU27 imports below this many tonnes in the year are marked "thin".
THIN_TONNES = 50.0
#: Share of the import value without a quantity above which the mass figure is marked "partial".
PARTIAL_VALUE_SHARE = 0.25

PANEL_STATUSES = ("ok", "thin", "partial", "no-quantity", "no-imports", "no-codes", "no-stages")


def fnum(value: Any) -> float | None:
    """A float, or ``None`` for missing values (NaN, None, pandas NA)."""
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _int(value: Any) -> int | None:
    number = fnum(value)
    return None if number is None else int(number)


def _str(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def country_name(iso3: str | None) -> str:
    """Display name of a country code, falling back to the code itself."""
    if not iso3:
        return "–"
    try:
        return str(_country_name(iso3))
    except Exception:  # unknown or non-ISO code: show it as published
        return iso3


# ------------------------------------------------------------------------------------ records
@dataclass
class ImportFigure(ConcentrationFigures):
    """EU27 (or Member-State) imports of one code group in one year on one basis."""

    exceeds_65: bool
    missing_value_share: float | None


@dataclass
class StageInfo:
    """One value-chain stage of a material with its EU27 figures in the year."""

    name: str
    label: str
    hs_codes: tuple[str, ...]
    codes_present: tuple[str, ...]
    codes_missing: tuple[str, ...]
    notes: str
    mass: ImportFigure | None
    value: ImportFigure | None
    is_main: bool = False


@dataclass
class PanelRow:
    """One material in the CRMA panel (largest third-country share of EU27 supply)."""

    material_id: str
    name: str
    strategic: bool
    data_from: str | None
    stage: str | None
    stage_label: str | None
    hs_codes: tuple[str, ...]
    year: int
    country: str | None
    country_label: str | None
    share: float | None
    total_t: float | None
    suppliers: int | None
    missing_value_share: float | None
    exceeds_65: bool
    status: str  # one of PANEL_STATUSES
    note: str
    other_stages_over: tuple[str, ...]


# ---------------------------------------------------------------------------- import lookups
class ImportIndex:
    """The ``imports`` indicator table (:func:`import_concentration` rows) indexed by code
    group, importer and basis, for the many small look-ups the panel and the report make."""

    def __init__(self, imports: pd.DataFrame) -> None:
        self.frames: dict[tuple[str, str, str], pd.DataFrame] = {
            (str(key[0]), str(key[1]), str(key[2])): frame.set_index("year")
            for key, frame in imports.groupby(["code_group", "importer", "basis"], sort=False)
        }

    def figure(self, group: str, importer: str, basis: str, year: int) -> ImportFigure | None:
        frame = self.frames.get((group, importer, basis))
        if frame is None or year not in frame.index:
            return None
        row = frame.loc[year]
        return ImportFigure(
            total=fnum(row["total"]),
            suppliers=_int(row["suppliers"]),
            top_supplier=_str(row["top_supplier"]),
            top_share=fnum(row["top_share"]),
            hhi=fnum(row["hhi"]),
            top_third_country=_str(row["top_third_country"]),
            top_third_share=fnum(row["top_third_share"]),
            exceeds_65=bool(row["exceeds_65"]),
            missing_value_share=fnum(row["missing_quantity_value_share"]),
        )

    def series(self, group: str, importer: str, basis: str, column: str) -> dict[int, float]:
        """``column`` by year (missing values left out)."""
        frame = self.frames.get((group, importer, basis))
        if frame is None:
            return {}
        out: dict[int, float] = {}
        for year, value in frame[column].items():
            number = fnum(value)
            if number is not None:
                out[int(str(year))] = number
        return out


def eu_imports(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> pd.DataFrame:
    """EU27 import concentration for every catalogued stage, year and basis (the EU27 rows of
    :attr:`Indicators.imports`, without the Member States)."""
    eu = group_members(EU)
    importer = ImporterSet(EU, eu, inside_eu=True)
    sources = import_sources(con, [importer], stage_code_groups(catalogue.materials))
    return pd.concat(
        [import_concentration(sources, basis, eu, {EU: True}) for basis in BASES],
        ignore_index=True,
    )


def codes_in_release(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """HS6 codes with at least one row in the current trade release."""
    return frozenset(str(r[0]) for r in con.execute("SELECT DISTINCT hs6 FROM trade").fetchall())


# ------------------------------------------------------------------------------- the rules
def data_material(material: Material, catalogue: Catalogue) -> tuple[Material, str | None]:
    """The entry whose data stand for ``material``: itself, or its group entry for HREE/LREE."""
    if not material.stages and not material.wmd_commodities and material.group:
        group = catalogue.get(material.group)
        return group, (
            f"Production and trade statistics do not separate the {material.name.lower()} from "
            f"the other rare earths: the figures are those of the group entry “{group.name}”, "
            "shared with the other REE entry."
        )
    return material, None


def stage_info(
    material: Material,
    stage: Stage,
    index: ImportIndex,
    present_codes: frozenset[str] | set[str],
    year: int,
) -> StageInfo:
    """``stage`` of ``material`` with its EU27 import figures in ``year``."""
    group = f"{material.id}/{stage.name}"
    return StageInfo(
        name=stage.name,
        label=stage.label,
        hs_codes=stage.hs_codes,
        codes_present=tuple(c for c in stage.hs_codes if c in present_codes),
        codes_missing=tuple(c for c in stage.hs_codes if c not in present_codes),
        notes=stage.notes,
        mass=index.figure(group, EU, "mass", year),
        value=index.figure(group, EU, "value", year),
    )


def shared_with(catalogue: Catalogue, material: Material, stage: StageInfo) -> list[str]:
    """Names of unrelated catalogue materials that share an HS code of ``stage``."""
    return list(catalogue.shared_with(material.id, material.stage(stage.name)))


def main_stage(
    catalogue: Catalogue, material: Material, stages: Sequence[StageInfo]
) -> StageInfo | None:
    """The stage the panel uses (rule: module docstring), one of ``stages`` (``material``'s).

    First the one stage rule, :meth:`~critmat.reference.materials.Catalogue.choose_stage`,
    with "has data" meaning EU27 imports on a mass basis in the year (unshared codes first).
    Where no stage has such imports the rule answers ``None``, but the panel still needs a row
    that says why its share is missing, so it falls back on purpose: the first stage with
    imports by value only (status ``no-quantity``), else the first whose codes are in the trade
    release (``no-imports``). These fallbacks take catalogue order without preferring unshared
    codes: the row shows no share, so no other material's figures can enter it.
    """
    by_name = {s.name: s for s in stages}

    def has_mass(stage: Stage) -> bool:
        info = by_name.get(stage.name)
        return info is not None and info.mass is not None

    chosen = catalogue.choose_stage(Resolved(material, None), has_mass)
    if chosen is not None:
        return by_name[chosen.name]
    fallbacks = [
        *(s for s in stages if s.value is not None),
        *(s for s in stages if s.codes_present),
    ]
    return fallbacks[0] if fallbacks else None


def panel_row(
    catalogue: Catalogue,
    material: Material,
    source: Material,
    stages: Sequence[StageInfo],
    main: StageInfo | None,
    index: ImportIndex,
    year: int,
) -> PanelRow:
    """The panel row of ``material`` whose data come from ``source`` (itself or its group)."""
    data_from = source.name if source is not material else None
    over = tuple(
        s.label for s in stages if s is not main and s.mass is not None and s.mass.exceeds_65
    )

    def make(
        stage: StageInfo | None,
        hs_codes: tuple[str, ...],
        missing_value_share: float | None,
        status: str,
        note: str,
    ) -> PanelRow:
        return PanelRow(
            material_id=material.id,
            name=material.name,
            strategic=material.strategic,
            data_from=data_from,
            stage=stage.name if stage else None,
            stage_label=stage.label if stage else None,
            hs_codes=hs_codes,
            year=year,
            missing_value_share=missing_value_share,
            status=status,
            note=note,
            other_stages_over=over,
            **_third_country_figures(stage.mass if stage else None),
        )

    if main is None:
        all_codes = tuple(c for s in stages for c in s.hs_codes)
        if all_codes:
            return make(
                None,
                all_codes,
                None,
                "no-codes",
                f"HS {', '.join(all_codes)} not in the trade release",
            )
        return make(None, all_codes, None, "no-stages", "no HS codes catalogued")
    mass = main.mass
    if mass is None:
        note = (
            f"EU27 imports in {year} have no quantity in BACI (value only)"
            if main.value is not None
            else f"no EU27 imports of HS {', '.join(main.codes_present)} in {year}"
        )
        group = f"{source.id}/{main.name}"
        years = index.series(group, EU, "mass", "total") or index.series(
            group, EU, "value", "total"
        )
        if years and max(years) < year:
            note += f" (last year with data: {max(years)})"
        missing = main.value.missing_value_share if main.value else None
        status = "no-quantity" if main.value is not None else "no-imports"
        return make(main, main.hs_codes, missing, status, note)
    notes = []
    status = "ok"
    if mass.missing_value_share is not None and mass.missing_value_share > PARTIAL_VALUE_SHARE:
        status = "partial"
        notes.append(
            f"{mass.missing_value_share:.0%} of the import value has no quantity and is "
            "left out of the mass shares"
        )
    if mass.total is not None and mass.total < THIN_TONNES:
        status = "thin"
        notes.append(f"only {mass.total:,.1f} t imported: shares rest on few flows")
    if main.codes_missing:
        notes.append(f"HS {', '.join(main.codes_missing)} not in the trade release")
    shared = shared_with(catalogue, source, main)
    if shared:
        notes.append(f"HS codes shared with {', '.join(shared)}")
    return make(main, main.codes_present, mass.missing_value_share, status, "; ".join(notes))


def _third_country_figures(mass: ImportFigure | None) -> dict[str, Any]:
    """A panel row's figures of EU27 imports by mass: the largest third-country origin (code
    and name) and its share, the tonnes, the number of origins and the 65 % benchmark; none
    (and not above 65 %) without imports by mass."""
    if mass is None:
        return {
            "country": None,
            "country_label": None,
            "share": None,
            "total_t": None,
            "suppliers": None,
            "exceeds_65": False,
        }
    return {
        "country": mass.top_third_country,
        "country_label": country_name(mass.top_third_country),
        "share": mass.top_third_share,
        "total_t": mass.total,
        "suppliers": mass.suppliers,
        "exceeds_65": mass.exceeds_65,
    }


def panel_materials(catalogue: Catalogue) -> list[Material]:
    """The critical raw materials in panel order: strategic first, then by name."""
    critical = [m for m in catalogue.materials if m.critical]
    critical.sort(key=lambda m: (not m.strategic, m.name.casefold()))
    return critical


def material_panel_row(
    catalogue: Catalogue,
    material: Material,
    index: ImportIndex,
    present_codes: frozenset[str] | set[str],
    year: int,
) -> PanelRow:
    """The panel row of one material (any catalogue entry, critical or not)."""
    source, _note = data_material(material, catalogue)
    stages = [stage_info(source, s, index, present_codes, year) for s in source.stages]
    return panel_row(
        catalogue, material, source, stages, main_stage(catalogue, source, stages), index, year
    )


def crma_panel(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    year: int,
    indicators: Indicators | ImportIndex | None = None,
) -> list[PanelRow]:
    """The CRMA panel for ``year``: one row per critical raw material, strategic ones first.

    ``indicators`` (a full refresh, or its imports already indexed) saves recomputing the EU27
    import concentration; without it only the EU27 rows are computed (about a second on the
    default data). A year without trade data gives rows with status ``no-imports``.
    """
    if isinstance(indicators, ImportIndex):
        index = indicators
    elif indicators is not None:
        index = ImportIndex(indicators.imports.loc[indicators.imports["importer"] == EU])
    else:
        index = ImportIndex(eu_imports(con, catalogue))
    present = codes_in_release(con)
    return [
        material_panel_row(catalogue, material, index, present, year)
        for material in panel_materials(catalogue)
    ]
