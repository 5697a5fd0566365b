"""Scenario definitions: validated data (pydantic) read from YAML.

A scenario names one material (and stage), the baseline years, the horizon, the shocks and the
responses. Names are resolved while validating (material → catalogue id, countries → ISO3,
groups kept by name), so an error names the file and the field, e.g.
``gallium.yaml, field 'shocks[0].duration_months': Input should be greater than 0``.

Shock kinds (``type``), each from ``country`` (ISO3, name or group such as ``EU27``) towards
``destinations`` (``all``, ``EU`` or a list of countries/groups), from ``start_month`` (0 = the
first month of the horizon) for ``duration_months`` (omitted = to the end of the horizon):

- ``export_ban``: exports stop;
- ``export_quota``: ``fraction_kept`` of normal exports continues;
- ``export_licensing``: ``delay_months`` with no exports, then ``fraction_after`` (default 1);
- ``production_outage``: ``fraction_lost`` of the country's output is lost; its exports and its
  spare capacity shrink by that fraction (destinations are ignored).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from critmat.errors import CritmatError, InputFileError, UnknownNameError
from critmat.reference.countries import group_members, is_group, resolve_country
from critmat.reference.materials import load_catalogue
from critmat.reference.restrictions import load_restrictions

__all__ = [
    "LIBRARY",
    "BaselineSpec",
    "Responses",
    "Scenario",
    "Shock",
    "library_names",
    "load_scenario",
    "parse_scenario",
]

LIBRARY = Path(__file__).parent / "library"
ShockType = Literal["export_ban", "export_quota", "export_licensing", "production_outage"]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _eu() -> frozenset[str]:
    return group_members("EU27")


def _country_or_group(text: str) -> str:
    """ISO3 of a country or the upper-case name of a group; ValueError (for pydantic) if neither."""
    if is_group(text):
        return text.upper()
    try:
        return resolve_country(text)
    except UnknownNameError as exc:
        raise ValueError(f"{exc}" + (f" ({exc.hint})" if exc.hint else "")) from None


def members_of(name: str) -> frozenset[str]:
    """ISO3 members of a resolved country or group name."""
    return group_members(name) if is_group(name) else frozenset({name})


def _eu_importer(text: str) -> str:
    """``EU27`` or the ISO3 of a Member State (keys of stockpiles and demand overrides)."""
    if text.strip().upper() in ("EU27", "EU"):
        return "EU27"
    iso3 = _country_or_group(text)
    if iso3 not in _eu():
        raise ValueError(f"'{text}' is neither EU27 nor an EU Member State")
    return iso3


def _tonnes_by_eu_importer(value: dict[str, float], what: str) -> dict[str, float]:
    """``value``'s tonnes keyed by :func:`_eu_importer` (EU27 or a Member State's ISO3);
    a negative amount is an error naming ``what`` ("demand", "stockpile") and the key."""
    out = {}
    for key, amount in value.items():
        if amount < 0:
            raise ValueError(f"{what} of {key} is negative")
        out[_eu_importer(key)] = float(amount)
    return out


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shock(_Frozen):
    """One disruption (see the module docstring)."""

    type: ShockType
    country: str
    destinations: Literal["all", "EU"] | tuple[str, ...] = "all"
    fraction_kept: float | None = Field(default=None, ge=0.0, le=1.0)
    delay_months: int | None = Field(default=None, ge=0)
    fraction_after: float = Field(default=1.0, ge=0.0, le=1.0)
    fraction_lost: float | None = Field(default=None, ge=0.0, le=1.0)
    start_month: int = Field(default=0, ge=0)
    duration_months: int | None = Field(default=None, gt=0)
    registry_id: str | None = None
    note: str = ""

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return _country_or_group(value)

    @field_validator("destinations", mode="before")
    @classmethod
    def _destinations(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("all", "eu", "eu27"):
            return "all" if value.strip().lower() == "all" else "EU"
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(_country_or_group(str(v)) for v in value)
        return value

    @field_validator("registry_id")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is not None and value not in {r.id for r in load_restrictions()}:
            raise ValueError(f"'{value}' is not an id of the export-restriction registry")
        return value

    @model_validator(mode="after")
    def _parameters(self) -> Shock:
        needed = {
            "export_quota": "fraction_kept",
            "export_licensing": "delay_months",
            "production_outage": "fraction_lost",
        }.get(self.type)
        if needed is not None and getattr(self, needed) is None:
            raise ValueError(f"a {self.type} shock needs {needed}")
        return self

    def origins(self) -> frozenset[str]:
        return members_of(self.country)

    def targets(self, importer: str) -> bool:
        """True if exports towards ``importer`` (an ISO3 Member State) fall under the shock."""
        if self.type == "production_outage" or self.destinations in ("all", "EU"):
            return True
        return any(importer in members_of(d) for d in self.destinations)


class BaselineSpec(_Frozen):
    """Where the baseline comes from: BACI/WMD years (averaged) and optional overrides."""

    years: tuple[int, ...] = Field(min_length=1)
    demand: dict[str, float] = Field(default_factory=dict)  # t/year by EU27 or Member State
    hs_codes: tuple[str, ...] | None = None  # default: the stage's codes

    @field_validator("years")
    @classmethod
    def _years(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1990 <= y <= 2100 for y in value):
            raise ValueError("years must lie between 1990 and 2100")
        return tuple(sorted(set(value)))

    @field_validator("demand")
    @classmethod
    def _demand(cls, value: dict[str, float]) -> dict[str, float]:
        return _tonnes_by_eu_importer(value, "demand")

    @field_validator("hs_codes")
    @classmethod
    def _codes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and any(not re.match(r"^\d{6}$", c) for c in value):
            raise ValueError("HS codes must have 6 digits")
        return value


class Responses(_Frozen):
    """How the EU responds; the defaults are documented in docs/stress-tests.md."""

    spare_capacity_fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    ramp_up_months: int = Field(default=6, ge=0)
    demand_elasticity: float = Field(default=0.0, ge=0.0, le=1.0)
    stockpiles: dict[str, float] = Field(default_factory=dict)  # tonnes held at month 0
    # Optional transshipment: a share of the flows cut by a measure aimed at the EU or named
    # countries (not at all destinations) reaches them through third countries after a lag.
    transshipment_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    transshipment_lag_months: int = Field(default=3, ge=0)

    @field_validator("stockpiles")
    @classmethod
    def _stocks(cls, value: dict[str, float]) -> dict[str, float]:
        return _tonnes_by_eu_importer(value, "stockpile")


class Scenario(_Frozen):
    """A stress-test scenario (validated; names resolved)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    description: str = ""
    material: str
    stage: str | None = None
    registry_ids: tuple[str, ...] = ()
    start: str | None = None  # "YYYY-MM": calendar month of month 0 (labels only)
    horizon_months: int = Field(default=24, ge=1, le=240)
    baseline: BaselineSpec
    shocks: tuple[Shock, ...] = ()
    responses: Responses = Responses()

    @field_validator("material")
    @classmethod
    def _material(cls, value: str) -> str:
        try:
            return load_catalogue().resolve(value).material.id
        except UnknownNameError as exc:
            raise ValueError(f"{exc}" + (f" ({exc.hint})" if exc.hint else "")) from None

    @field_validator("start")
    @classmethod
    def _start(cls, value: str | None) -> str | None:
        if value is not None and not _MONTH.match(value):
            raise ValueError("start must be a month written YYYY-MM")
        return value

    @field_validator("registry_ids")
    @classmethod
    def _registry(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {r.id for r in load_restrictions()}
        for ident in value:
            if ident not in known:
                raise ValueError(f"'{ident}' is not an id of the export-restriction registry")
        return value

    @model_validator(mode="after")
    def _stage(self) -> Scenario:
        material = load_catalogue().get(self.material)
        if self.stage is not None:
            try:
                stage = material.stage(self.stage).name
            except UnknownNameError as exc:
                raise ValueError(f"stage: {exc}" + (f" ({exc.hint})" if exc.hint else "")) from None
            object.__setattr__(self, "stage", stage)
        for shock in self.shocks:
            if shock.start_month >= self.horizon_months:
                raise ValueError(
                    f"shocks: start_month {shock.start_month} is not inside the horizon "
                    f"({self.horizon_months} months)"
                )
        return self

    def month_labels(self) -> list[str]:
        """``YYYY-MM`` of each month when ``start`` is set, else ``m0``, ``m1``..."""
        if self.start is None:
            return [f"m{t}" for t in range(self.horizon_months)]
        year, month = (int(p) for p in self.start.split("-"))
        out = []
        for t in range(self.horizon_months):
            total = year * 12 + month - 1 + t
            out.append(f"{total // 12:04d}-{total % 12 + 1:02d}")
        return out

    def start_date(self) -> date | None:
        return None if self.start is None else date.fromisoformat(self.start + "-01")


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "tagged-union", "literal[")):
            out += ("." if out else "") + part
    return out or "(file)"


def parse_scenario(raw: Any, source: str | Path) -> Scenario:
    """Validate a parsed YAML document; errors are :class:`InputFileError` naming the field."""
    if not isinstance(raw, dict):
        raise InputFileError(source, "a scenario file must be a YAML mapping")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        where = _where(tuple(first["loc"]))
        if where == "(file)" and message.startswith(("stage:", "shocks:")):
            where, message = message.split(":", 1)
            message = message.strip()
        extra = len(exc.errors()) - 1
        if extra:
            message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        raise InputFileError(source, message, field=where) from None


def library_names() -> list[str]:
    """Names of the scenarios shipped in ``critmat/scenarios/library``."""
    return sorted(p.stem for p in LIBRARY.glob("*.yaml"))


def read_scenario_file(name_or_path: str | Path) -> tuple[Path, object]:
    """Find a scenario file (a path, or a library name) and parse its YAML."""
    path = Path(name_or_path)
    if not path.exists():
        candidate = LIBRARY / f"{name_or_path}.yaml"
        if not candidate.exists():
            raise CritmatError(
                f"no scenario file or library scenario '{name_or_path}'",
                hint="`critmat stress list` shows the library: " + ", ".join(library_names()),
            )
        path = candidate
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputFileError(path, f"not valid YAML: {exc}") from None
    return path, raw


def split_uncertainty(raw: object) -> tuple[object, object]:
    """The scenario without its ``uncertainty:`` block, and the block (read by
    :mod:`critmat.scenarios.montecarlo`; a single run ignores it)."""
    if not isinstance(raw, dict):
        return raw, None
    rest = dict(raw)
    return rest, rest.pop("uncertainty", None)


def checked_scenario(raw: object, path: Path) -> Scenario:
    """Validate ``raw`` read from ``path``; a library file's name must equal the scenario's."""
    scenario = parse_scenario(raw, path)
    if scenario.name != path.stem and path.parent == LIBRARY:
        raise InputFileError(
            path, "a library scenario's name must equal its file name", field="name"
        )
    return scenario


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario from a YAML file, or a library scenario by name."""
    path, raw = read_scenario_file(name_or_path)
    return checked_scenario(split_uncertainty(raw)[0], path)
