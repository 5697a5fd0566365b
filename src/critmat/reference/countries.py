"""Countries and country groups: ISO3 resolution, M49 mapping, EU27/EEA/OCT/candidates/partners/G7.

Countries are ISO 3166-1 alpha-3 codes everywhere in critmat. Names and codes come from
``pycountry`` (ISO 3166-1, plus ISO 3166-3 for retired codes); the spellings pycountry does not know
(``"DR Congo"``, ``"Congo, D.R."``, BACI and World Bank short names) and the group memberships are
data in ``critmat/reference/data/country_groups.yaml``, each group with its sources:

- ``EU27``: the current 27 Member States, used for every year (documented choice).
- ``EEA``: EU27 + Iceland, Liechtenstein, Norway (EEA Agreement).
- ``OCT``: the 13 Overseas Countries and Territories of Council Decision (EU) 2021/1764 (Annex II
  TFEU without the former UK OCTs); Bonaire, Saba and Sint Eustatius share the code BES.
- ``EU_CANDIDATES`` and ``EU_POTENTIAL_CANDIDATES`` (Kosovo, code ``XKX``, which is not ISO).
- ``STRATEGIC_PARTNERS``: the 15 of RESourceEU, COM(2025) 945, footnote 34.
- ``G7``.

``m49_to_iso3`` maps UN M49 / ISO numeric codes and the UN Comtrade reporter codes that BACI and
World Mining Data use (France 251, India 699, USA 842, Taiwan 490, ...; table
``m49_extra.csv``).

``country_converter`` is not used: version 1.3.2 fails to build its table under pandas 3 (Namibia's
ISO2 ``NA`` is read as missing).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pycountry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference._common import data_path, load_yaml, name_key, suggest

__all__ = [
    "GroupInfo",
    "country_name",
    "group_info",
    "group_members",
    "group_names",
    "is_group",
    "m49_to_iso3",
    "memberships",
    "resolve_country",
    "resolve_importer",
]

#: Codes critmat accepts as countries although ISO 3166-1 does not define them.
NON_ISO_CODES: Mapping[str, str] = {"XKX": "Kosovo"}


@dataclass(frozen=True)
class GroupInfo:
    """A country group: canonical name, label, members (ISO3), aliases, notes and sources."""

    name: str
    label: str
    members: frozenset[str]
    aliases: tuple[str, ...]
    notes: str
    sources: tuple[str, ...]


class _GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    aliases: list[str] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    notes: str = ""
    sources: list[str] = Field(min_length=1)


class _GroupsFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    groups: dict[str, _GroupIn]
    country_aliases: dict[str, str] = Field(default_factory=dict)
    short_names: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class _CountryData:
    short_names: Mapping[str, str]
    groups: Mapping[str, GroupInfo]
    group_keys: Mapping[str, str]  # name_key(alias) -> group name
    country_keys: Mapping[str, str]  # name_key(name or code) -> ISO3
    m49: Mapping[int, str | None]


def _is_known_iso3(code: str) -> bool:
    return code in NON_ISO_CODES or pycountry.countries.get(alpha_3=code) is not None


def _load_m49_extra(path: Path) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                code = int(row["code"])
            except (KeyError, ValueError):
                raise InputFileError(
                    path, "code must be an integer", row=row_no, field="code"
                ) from None
            iso3 = row.get("iso3") or None
            if iso3 is not None and not (
                _is_known_iso3(iso3) or pycountry.historic_countries.get(alpha_3=iso3) is not None
            ):
                raise InputFileError(path, f"unknown ISO3 code '{iso3}'", row=row_no, field="iso3")
            if not row.get("source"):
                raise InputFileError(path, "a source is required", row=row_no, field="source")
            out[code] = iso3
    return out


def _build(path: Path) -> _CountryData:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
        data = _GroupsFileIn.model_validate(raw)
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputFileError(path, f"not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputFileError(
            path, first["msg"], field=".".join(str(p) for p in first["loc"])
        ) from exc

    country_keys: dict[str, str] = {}
    for country in pycountry.countries:
        iso3 = country.alpha_3
        for text in (
            country.alpha_2,
            iso3,
            country.name,
            getattr(country, "official_name", None),
            getattr(country, "common_name", None),
        ):
            if text:
                country_keys.setdefault(name_key(text), iso3)
    for code, name in NON_ISO_CODES.items():
        country_keys[name_key(code)] = code
        country_keys[name_key(name)] = code
    for alias, iso3 in data.country_aliases.items():
        if not _is_known_iso3(iso3):
            raise InputFileError(
                path, f"unknown ISO3 code '{iso3}'", field=f"country_aliases.{alias}"
            )
        country_keys[name_key(alias)] = iso3
    for iso3, short in data.short_names.items():
        if not _is_known_iso3(iso3):
            raise InputFileError(path, f"unknown ISO3 code '{iso3}'", field=f"short_names.{iso3}")
        country_keys.setdefault(name_key(short), iso3)

    groups: dict[str, GroupInfo] = {}
    group_keys: dict[str, str] = {}

    def members_of(gname: str, chain: tuple[str, ...]) -> set[str]:
        """Direct members plus those of included groups (any file order, no cycles)."""
        g = data.groups[gname]
        members: set[str] = set()
        for inc in g.includes:
            if inc not in data.groups:
                raise InputFileError(
                    path, f"unknown group '{inc}'", field=f"groups.{gname}.includes"
                )
            if inc in chain:
                raise InputFileError(
                    path,
                    f"groups include each other: {' -> '.join((*chain, inc))}",
                    field=f"groups.{gname}.includes",
                )
            members |= members_of(inc, (*chain, inc))
        for iso3 in g.members:
            if not _is_known_iso3(iso3):
                raise InputFileError(
                    path, f"unknown ISO3 code '{iso3}'", field=f"groups.{gname}.members"
                )
            if iso3 in members:
                raise InputFileError(
                    path, f"member '{iso3}' listed twice", field=f"groups.{gname}.members"
                )
            members.add(iso3)
        return members

    for gname, g in data.groups.items():
        for text in (gname, *g.aliases):
            key = name_key(text)
            if key in group_keys and group_keys[key] != gname:
                raise InputFileError(
                    path,
                    f"alias '{text}' already names group '{group_keys[key]}'",
                    field=f"groups.{gname}.aliases",
                )
            group_keys[key] = gname
        groups[gname] = GroupInfo(
            name=gname,
            label=g.label,
            members=frozenset(members_of(gname, (gname,))),
            aliases=tuple(g.aliases),
            notes=g.notes,
            sources=tuple(g.sources),
        )
    m49 = _load_m49_extra(data_path("m49_extra.csv"))
    return _CountryData(data.short_names, groups, group_keys, country_keys, m49)


@functools.cache
def _default_data() -> _CountryData:
    return _build(data_path("country_groups.yaml"))


def load_country_groups(path: str | Path | None = None) -> Mapping[str, GroupInfo]:
    """Load and validate the group file (the shipped one, cached, when ``path`` is None).

    Raises :class:`critmat.errors.InputFileError` naming the group and field for an unknown ISO3
    code, a member listed twice, a group alias used twice or a missing source.
    """
    if path is None:
        return _default_data().groups
    return _build(Path(path)).groups


def group_names() -> tuple[str, ...]:
    """Canonical names of the shipped groups (``EU27``, ``EEA``, ``OCT``, ...)."""
    return tuple(_default_data().groups)


def is_group(text: str) -> bool:
    """True if ``text`` names a group (canonical name or alias such as ``"EU"``, ``"EU-27"``)."""
    return name_key(text) in _default_data().group_keys


def group_info(name: str) -> GroupInfo:
    """The group named ``name`` (case-insensitive, aliases allowed); UnknownNameError otherwise."""
    data = _default_data()
    gname = data.group_keys.get(name_key(name))
    if gname is None:
        choices = [*data.groups, *(a for g in data.groups.values() for a in g.aliases)]
        raise UnknownNameError("country group", name, suggest(name, choices))
    return data.groups[gname]


def group_members(name: str) -> frozenset[str]:
    """ISO3 codes of the members of group ``name`` (``"EU"`` → the 27 Member States)."""
    return group_info(name).members


def memberships(iso3: str) -> tuple[str, ...]:
    """Names of the groups that ``iso3`` belongs to, in file order (e.g. NOR → EEA, partners)."""
    code = resolve_country(iso3)
    return tuple(g.name for g in _default_data().groups.values() if code in g.members)


def resolve_country(text: str) -> str:
    """Return the ISO3 code of a country given as ISO3, ISO2, numeric (M49/ISO) code or a name.

    Case, accents, spaces and punctuation are ignored: ``"DR Congo"``, ``"Congo, D.R."`` → COD,
    ``"Türkiye"``/``"Turkey"`` → TUR, ``"South Korea"`` → KOR, ``"180"`` → COD, ``"Kosovo"`` → XKX.
    Unknown input raises ``UnknownNameError("country", text, suggestions)``.
    """
    data = _default_data()
    stripped = str(text).strip()
    if stripped.isdigit():
        iso3 = m49_to_iso3(stripped)
        if iso3 is not None:
            return iso3
        raise UnknownNameError("country", stripped)
    iso3 = data.country_keys.get(name_key(stripped))
    if iso3 is None:
        names = [c.name for c in pycountry.countries]
        names += [getattr(c, "common_name", "") for c in pycountry.countries]
        raise UnknownNameError("country", stripped, suggest(stripped, [n for n in names if n]))
    return iso3


def country_name(iso3: str) -> str:
    """Short English name of an ISO3 code (critmat short name, else pycountry common name/name).

    Knows Kosovo (XKX) and retired ISO 3166-3 codes (SUN, CSK, ...). UnknownNameError otherwise.
    """
    code = iso3.strip().upper()
    short = _default_data().short_names.get(code)
    if short:
        return short
    if code in NON_ISO_CODES:
        return NON_ISO_CODES[code]
    country = pycountry.countries.get(alpha_3=code)
    if country is not None:
        return str(getattr(country, "common_name", None) or country.name)
    historic = pycountry.historic_countries.get(alpha_3=code)
    if historic is not None:
        return str(historic.name)
    raise UnknownNameError("country", iso3)


def m49_to_iso3(code: int | str) -> str | None:
    """ISO3 for a UN M49 / ISO 3166-1 numeric code, or ``None`` if it is not one country.

    Also maps the UN Comtrade reporter codes used by BACI and World Mining Data (251 France, 579
    Norway, 699 India, 757 Switzerland, 842 USA, 490 Taiwan, 58 Belgium-Luxembourg → BEL, 280 →
    DEU) and historic entities to their ISO 3166-3 codes (810 → SUN). Aggregates (697 'Europe
    EFTA, nes', 711 SACU) give ``None``. Non-numeric input gives ``None``.
    """
    try:
        number = int(str(code).strip())
    except ValueError:
        return None
    extra = _default_data().m49
    if number in extra:
        return extra[number]
    country = pycountry.countries.get(numeric=f"{number:03d}")
    return str(country.alpha_3) if country is not None else None


def resolve_importer(text: str) -> tuple[str, frozenset[str]]:
    """Resolve an importer given as a group or a country.

    A group name or alias gives ``(canonical group name, members)``, e.g. ``("EU27", {...27})``;
    a country gives ``(iso3, {iso3})``. Groups are tried first, so ``"EU"`` is the group.
    """
    if is_group(text):
        info = group_info(text)
        return info.name, info.members
    iso3 = resolve_country(text)
    return iso3, frozenset({iso3})
