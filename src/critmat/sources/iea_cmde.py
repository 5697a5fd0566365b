"""IEA Critical Minerals Data Explorer: mining and refining supply by country, in the JSON layout
of the public conversion shipped with critmat (``iea_critical_minerals_2024.json.gz``).

The IEA publishes the explorer as a workbook (``CM_Data_Explorer.xlsx``, CC BY 4.0). The file read
here is a third party's restructuring of that workbook into one JSON object (the script
``scripts/convert-iea-data.py`` of barrytho/uk-critical-minerals-dashboard): ``source`` (a
sentence naming the edition, e.g. "IEA Critical Minerals Data Explorer (2024), CC BY 4.0"),
``supply`` and four demand sections (``totalDemand``, ``cleantechByTech``,
``cleantechByMineral``, ``byTechnology``). ``supply`` maps commodity -> ``mining`` or
``refining`` -> ``countries`` (name -> year -> kt or null), ``total`` (year -> kt) and
``top3Share`` (year -> fraction). The file may be gzip-compressed and must be UTF-8 JSON.

What becomes ``stage_production`` (series ``"IEA CMDE <edition>"``), and why:

- stage: ``mining`` -> ``mine``, ``refining`` -> ``refinery``; ``detail`` keeps the file's label;
- year: only the earliest year of the file (2024 in the 2024 edition), the one year the IEA
  reports. The later years (2030, 2035, 2040) are the IEA's *base-case projections* from the
  pipeline of announced projects, not production: stored as years of ``stage_production`` they
  would be taken for output by every "latest year" rule, so they are left out (counted in the
  release notes);
- unit: kt as published; ``quantity_t`` = kt x 1000;
- basis (:data:`BASIS`): the IEA gives copper, cobalt, lithium and nickel in contained metal —
  its 2024 world figures differ by 1 to 15 % from the USGS MCS 2026 ones, which are stated as
  content (lithium: 255 kt against 222 kt Li; a carbonate-equivalent figure would be about five
  times larger); graphite in tonnes of graphite (``gross``); the magnet rare earths (Nd, Pr, Dy,
  Tb) without saying oxide or metal (``unstated``);
- countries: the IEA's names through :func:`critmat.sources.country_names.iso3_from_name`;
  ``Rest of world`` -> ``ROW``; the stated ``total`` -> ``WLD``. A name that is not a country
  and has only nulls is a note sentence the conversion put among the countries (rare earths):
  dropped, and named in the release notes. A name that is not a country but has figures stops
  the import;
- overlap: where the listed countries and ``Rest of world`` add up to more than the stated total
  and the excess equals one listed country's figure (nickel mining: Australia; nickel refining:
  Canada; graphite mining: Tanzania; graphite refining, projections only: Germany), that country
  is counted twice. The total is the IEA's own (its ``top3Share`` is computed on it), so
  ``ROW`` is stored as the total minus the listed countries, with the published value in the
  row's ``note``; any other mismatch is kept as published and noted.
- commodity: the IEA's name; the conversion renamed "Magnet rare earth elements" to "Rare Earth
  Elements" (:data:`IEA_COMMODITY_NAMES` restores it, since it is not total rare earths).

Demand by sector and scenario (STEPS, APS, NZE) is read and checked (numbers, scenario names,
sectors adding up to their totals) but not stored: no dataset for it exists yet.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from critmat.errors import InputFileError
from critmat.sources._common import finalize, parse_year, read_text
from critmat.sources.base import AGGREGATE_COUNTRIES, CanonicalBatch, Publication
from critmat.sources.country_names import aggregate_code, iso3_from_name

IEA_CMDE = Publication(
    "iea-cmde", "CC BY 4.0 (IEA, Critical Minerals Data Explorer, www.iea.org/data-and-statistics)"
)

#: The unit of every figure in the explorer, and tonnes per unit.
UNIT = "kt"
TONNES_PER_UNIT = 1000.0

#: The file's stage keys -> canonical ``stage_production`` stage.
STAGE_OF: dict[str, str] = {"mining": "mine", "refining": "refinery"}

#: Commodity names the conversion changed -> the IEA's own name.
IEA_COMMODITY_NAMES: dict[str, str] = {"Rare Earth Elements": "Magnet rare earth elements"}

#: What a commodity's tonnes weigh (see the module docstring); ``unstated`` for any other.
BASIS: dict[str, str] = {
    "Copper": "content",
    "Cobalt": "content",
    "Lithium": "content",
    "Nickel": "content",
    "Graphite": "gross",
    "Magnet rare earth elements": "unstated",
}

#: The explorer's name of its rest-of-world row, and the code of the stated totals.
REST_OF_WORLD = "Rest of world"
WORLD, _ = AGGREGATE_COUNTRIES

#: Demand scenarios of the explorer: Stated Policies, Announced Pledges, Net Zero Emissions.
SCENARIOS = ("STEPS", "APS", "NZE")
DEMAND_SECTIONS = ("totalDemand", "cleantechByTech", "cleantechByMineral", "byTechnology")

#: Two sums "agree" within this share of the larger one (the file's figures carry ~15 digits).
RELATIVE_TOLERANCE = 1e-6
#: ... or within this many kt (sums of zeros and tiny values).
ABSOLUTE_TOLERANCE_KT = 1e-6


def iea_country_iso3(name: str) -> str | None:
    """ISO3 (or ``ROW``/``WLD``) for a country name of the explorer, ``None`` when it is not a
    country; the shared publisher resolver knows every name of the 2024 edition."""
    return aggregate_code(name) or iso3_from_name(name)


# --------------------------------------------------------------------------------------------
# reading the file


class _Object(dict[str, Any]):
    """A JSON object that remembers the first key it held twice (json keeps the last silently)."""

    duplicate: str | None = None


def _object_hook(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object()
    for key, value in pairs:
        if key in result and result.duplicate is None:
            result.duplicate = key
        result[key] = value
    return result


@dataclass
class _Reader:
    """The file's text and parsed JSON, with error messages that name the line and the path."""

    path: Path
    text: str
    data: Any = None

    def fail(self, reason: str, where: tuple[str, ...], *, occurrence: int = 1) -> NoReturn:
        raise InputFileError(
            self.path, reason, row=self.line_of(where, occurrence), field="/".join(where)
        )

    def line_of(self, where: tuple[str, ...], occurrence: int = 1) -> int | None:
        """The line of the key at ``where`` (its ``occurrence``-th spelling after its parent's),
        found by searching the keys in order; ``None`` when not found."""
        position = 0
        for depth, key in enumerate(where):
            spellings = {json.dumps(key), json.dumps(key, ensure_ascii=False)}
            pattern = "|".join(re.escape(s) for s in spellings)
            matches = re.finditer(rf"(?:{pattern})\s*:", self.text[position:])
            wanted = occurrence if depth == len(where) - 1 else 1
            found = None
            for count, match in enumerate(matches, start=1):
                if count == wanted:
                    found = match
                    break
            if found is None:
                return None
            position += found.end()
        return self.text.count("\n", 0, position) + 1

    def mapping(self, value: Any, where: tuple[str, ...]) -> Mapping[str, Any]:
        """``value`` as a JSON object without repeated keys, else an error naming ``where``."""
        if not isinstance(value, dict):
            kind = "missing" if value is None else f"a {type(value).__name__}, not an object"
            self.fail(f"expected an object: {kind}", where)
        duplicate = getattr(value, "duplicate", None)
        if duplicate is not None:
            self.fail(f"key {duplicate!r} appears twice", (*where, duplicate), occurrence=2)
        return value

    def number(self, value: Any, where: tuple[str, ...]) -> float:
        """A figure in kt (or a share): NaN for null; an error for text, negatives, infinities."""
        if value is None:
            return math.nan
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"not a number: {value!r}", where)
        number = float(value)
        if not math.isfinite(number) or number < 0:
            self.fail(f"expected a non-negative number, found {value!r}", where)
        return number

    def years(self, value: Any, where: tuple[str, ...]) -> dict[int, float]:
        """A ``year -> figure`` object as ints and floats."""
        result: dict[int, float] = {}
        for key, figure in self.mapping(value, where).items():
            year = parse_year(
                key, self.path, row=self.line_of((*where, key)), field="/".join(where)
            )
            result[year] = self.number(figure, (*where, key))
        return result


def _load(path: Path) -> _Reader:
    if not path.is_file():
        raise InputFileError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file")
    text = read_text(
        path, hint="the explorer's JSON is UTF-8; convert the file and import it again"
    )
    reader = _Reader(path, text)
    try:
        reader.data = json.loads(text, object_pairs_hook=_object_hook)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path, f"not valid JSON: {exc.msg} (column {exc.colno})", row=exc.lineno
        ) from exc
    return reader


# --------------------------------------------------------------------------------------------
# supply -> stage_production


@dataclass
class _Block:
    """One commodity and stage of ``supply``: its countries' figures and the stated total."""

    commodity_key: str
    stage_key: str
    countries: dict[str, dict[int, float]]  # ISO3 or ROW -> year -> kt
    names: dict[str, str]  # ISO3 or ROW -> the name in the file
    total: dict[int, float]
    top3_share: dict[int, float]

    @property
    def where(self) -> tuple[str, ...]:
        return ("supply", self.commodity_key, self.stage_key)


@dataclass
class _Supply:
    blocks: list[_Block] = field(default_factory=list)
    dropped_names: list[str] = field(default_factory=list)


def _read_supply(reader: _Reader) -> _Supply:
    top = reader.mapping(reader.data, ())
    supply = _Supply()
    if "supply" not in top:
        reader.fail("missing key 'supply' (the explorer's supply by country)", ("supply",))
    for commodity_key, stages in reader.mapping(top["supply"], ("supply",)).items():
        for stage_key, raw in reader.mapping(stages, ("supply", commodity_key)).items():
            where = ("supply", commodity_key, stage_key)
            if stage_key not in STAGE_OF:
                reader.fail(f"unknown stage {stage_key!r} (expected {', '.join(STAGE_OF)})", where)
            supply.blocks.append(_read_block(reader, raw, commodity_key, stage_key, supply))
    if not supply.blocks:
        reader.fail("no commodity in 'supply'", ("supply",))
    return supply


def _read_block(
    reader: _Reader, raw: Any, commodity_key: str, stage_key: str, supply: _Supply
) -> _Block:
    where = ("supply", commodity_key, stage_key)
    block = reader.mapping(raw, where)
    for required in ("countries", "total"):
        if required not in block:
            reader.fail(f"missing key {required!r}", (*where, required))
    countries: dict[str, dict[int, float]] = {}
    names: dict[str, str] = {}
    for name, figures in reader.mapping(block["countries"], (*where, "countries")).items():
        place = (*where, "countries", name)
        values = reader.years(figures, place)
        code = iea_country_iso3(name)
        if code is None:
            if all(math.isnan(v) for v in values.values()):
                supply.dropped_names.append(name)
                continue
            reader.fail(
                f"{name!r} is not a country name critmat knows, and it has figures",
                place,
            )
        if code in countries:
            reader.fail(f"{name!r} and {names[code]!r} are the same country ({code})", place)
        countries[code] = values
        names[code] = name
    top3 = reader.years(block["top3Share"], (*where, "top3Share")) if "top3Share" in block else {}
    return _Block(
        commodity_key,
        stage_key,
        countries,
        names,
        reader.years(block["total"], (*where, "total")),
        top3,
    )


def _agree(a: float, b: float) -> bool:
    return abs(a - b) <= max(ABSOLUTE_TOLERANCE_KT, RELATIVE_TOLERANCE * max(abs(a), abs(b)))


@dataclass
class _Overlap:
    """How the parts of one block and year relate to its stated total."""

    named_sum: float
    rest: float
    total: float
    twice: str | None  # the listed country whose figure equals the excess, if any

    @property
    def excess(self) -> float:
        return self.named_sum + self.rest - self.total

    @property
    def corrected_rest(self) -> float | None:
        """ROW as the total minus the listed countries, when a country is evidently counted
        twice (and the correction leaves ROW non-negative)."""
        if self.twice is None:
            return None
        value = self.total - self.named_sum
        return max(value, 0.0) if _agree(value, 0.0) or value > 0 else None


def _overlap(block: _Block, year: int) -> _Overlap | None:
    """The parts' mismatch with the total in ``year``; ``None`` when they agree or lack figures."""
    total = block.total.get(year, math.nan)
    rest = block.countries.get("ROW", {}).get(year, math.nan)
    named = {c: v.get(year, math.nan) for c, v in block.countries.items() if c != "ROW"}
    if math.isnan(total) or math.isnan(rest) or any(math.isnan(v) for v in named.values()):
        return None
    named_sum = math.fsum(named.values())
    if _agree(named_sum + rest, total):
        return None
    excess = named_sum + rest - total
    twice = next((c for c, v in named.items() if v > 0 and _agree(v, excess)), None)
    return _Overlap(named_sum, rest, total, twice)


def _top3_mismatch(block: _Block, year: int) -> str | None:
    """A note when the published top-3 share is not the three largest countries over the total."""
    share = block.top3_share.get(year, math.nan)
    total = block.total.get(year, math.nan)
    if math.isnan(share) or math.isnan(total) or total == 0:
        return None
    named = sorted(
        (v.get(year, math.nan) for c, v in block.countries.items() if c != "ROW"), reverse=True
    )
    recomputed = math.fsum(v for v in named[:3] if not math.isnan(v)) / total
    if abs(recomputed - share) <= 0.001:
        return None
    return (
        f"{block.commodity_key} {block.stage_key} {year}: published top-3 share {share:.3f}, "
        f"three largest listed countries over the total {recomputed:.3f}"
    )


def _commodity(key: str) -> str:
    return IEA_COMMODITY_NAMES.get(key, key)


def _rows(block: _Block, year: int, notes: list[str]) -> Iterator[dict[str, Any]]:
    """The ``stage_production`` rows of one block in ``year``: countries, ROW and WLD."""
    commodity = _commodity(block.commodity_key)
    base = {
        "commodity": commodity,
        "stage": STAGE_OF[block.stage_key],
        "detail": block.stage_key,
        "year": year,
        "unit": UNIT,
        "basis": BASIS.get(commodity, "unstated"),
        "estimated": False,
        "_row": -1,
    }
    overlap = _overlap(block, year)
    label = f"{commodity} {block.stage_key} {year}"
    rest_note = ""
    rest_value: float | None = None
    if overlap is not None:
        corrected = overlap.corrected_rest
        parts = overlap.named_sum + overlap.rest
        summary = (
            f"{label}: listed countries and {REST_OF_WORLD!r} sum to {parts:g} kt, stated total "
            f"{overlap.total:g} kt"
        )
        if corrected is not None and overlap.twice is not None:
            twice = block.names[overlap.twice]
            rest_value = corrected
            rest_note = (
                f"published {REST_OF_WORLD} {overlap.rest:g} kt includes {twice} "
                f"({overlap.excess:g} kt), listed separately; stored as the total minus the "
                "listed countries"
            )
            notes.append(f"{summary}; the excess is {twice}'s figure, counted twice: {rest_note}")
        else:
            notes.append(f"{summary}; figures kept as published")
    for code, figures in block.countries.items():
        value = figures.get(year, math.nan)
        note = ""
        if code == "ROW" and rest_value is not None:
            value, note = rest_value, rest_note
        yield {**base, "country": code, **_quantity(value), "note": note}
    yield {**base, "country": WORLD, **_quantity(block.total.get(year, math.nan)), "note": ""}


def _quantity(kt: float) -> dict[str, Any]:
    if math.isnan(kt):
        return {"quantity_t": math.nan, "status": "not_available"}
    return {"quantity_t": kt * TONNES_PER_UNIT, "status": "reported"}


# --------------------------------------------------------------------------------------------
# demand: checked, not stored


@dataclass
class _DemandCheck:
    """What the demand sections hold, and the sums that do not add up (label -> count of
    figures off, largest relative gap)."""

    series: int = 0
    scenarios: set[str] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    mismatches: dict[str, tuple[int, float]] = field(default_factory=dict)

    def summary(self) -> str:
        found = (
            f"{self.series} figure sets, scenarios {', '.join(sorted(self.scenarios))}, years "
            f"{min(self.years, default=0)}-{max(self.years, default=0)}"
        )
        if not self.mismatches:
            return f"{found}; every sector sum matches its total"
        gaps = "; ".join(
            f"{label} ({count} figures, up to {gap:.1%})"
            for label, (count, gap) in self.mismatches.items()
        )
        return f"{found}; sums off by more than {DEMAND_TOLERANCE:.1%}: {gaps}"


#: Demand parts "add up" to their total within this share (the explorer rounds its sectors).
DEMAND_TOLERANCE = 1e-3


def _scenario_block(
    reader: _Reader, raw: Any, where: tuple[str, ...], check: _DemandCheck
) -> dict[tuple[str, int], float]:
    """A demand figure set: the reported year and one ``year -> kt`` object per scenario, as
    ``(scenario or "reported", year) -> kt``."""
    result: dict[tuple[str, int], float] = {}
    for key, value in reader.mapping(raw, where).items():
        if key in SCENARIOS:
            for year, figure in reader.years(value, (*where, key)).items():
                result[(key, year)] = figure
                check.years.add(year)
            check.scenarios.add(key)
        elif re.fullmatch(r"\d{4}", key):
            result[("reported", int(key))] = reader.number(value, (*where, key))
        else:
            reader.fail(
                f"unknown scenario {key!r} (expected a year or {', '.join(SCENARIOS)})",
                (*where, key),
            )
    check.series += 1
    return result


def _compare(
    check: _DemandCheck,
    label: str,
    parts: list[dict[tuple[str, int], float]],
    whole: dict[tuple[str, int], float],
) -> None:
    for key, expected in whole.items():
        values = [p.get(key, math.nan) for p in parts]
        if math.isnan(expected) or expected == 0 or any(math.isnan(v) for v in values):
            continue
        gap = abs(math.fsum(values) - expected) / expected
        if gap > DEMAND_TOLERANCE:
            count, largest = check.mismatches.get(label, (0, 0.0))
            check.mismatches[label] = (count + 1, max(largest, gap))


def _check_demand(reader: _Reader) -> _DemandCheck:
    top = reader.mapping(reader.data, ())
    check = _DemandCheck()
    for section in DEMAND_SECTIONS:
        if section not in top:
            continue
        for name, raw in reader.mapping(top[section], (section,)).items():
            _check_demand_entry(reader, section, name, raw, check)
    return check


def _check_demand_entry(
    reader: _Reader, section: str, name: str, raw: Any, check: _DemandCheck
) -> None:
    where = (section, name)
    entry = reader.mapping(raw, where)
    if section == "cleantechByMineral":
        _scenario_block(reader, entry, where, check)
        return
    if section == "byTechnology":
        minerals = reader.mapping(entry.get("minerals"), (*where, "minerals"))
        for mineral, block in minerals.items():
            _scenario_block(reader, block, (*where, "minerals", mineral), check)
        return
    sectors = reader.mapping(entry.get("sectors"), (*where, "sectors"))
    parts = [
        _scenario_block(reader, block, (*where, "sectors", sector), check)
        for sector, block in sectors.items()
    ]
    blocks = {
        key: _scenario_block(reader, entry[key], (*where, key), check)
        for key in ("total", "totalClean", "otherUses", "totalDemand", "cleanShare")
        if key in entry
    }
    clean = blocks.get("totalClean", blocks.get("total"))
    if clean is not None:
        _compare(check, f"{section} {name}: sectors vs clean technologies", parts, clean)
    if clean is not None and "otherUses" in blocks and "totalDemand" in blocks:
        _compare(
            check,
            f"{section} {name}: clean technologies + other uses vs total",
            [clean, blocks["otherUses"]],
            blocks["totalDemand"],
        )


# --------------------------------------------------------------------------------------------
# the batch


def _edition(reader: _Reader, reported_year: int) -> tuple[str, str | None]:
    """The explorer's edition from the file's ``source`` sentence (``(2024)``), else the year of
    its data; and a note when it had to be guessed."""
    source = reader.mapping(reader.data, ()).get("source")
    match = re.search(r"\((\d{4})\)", source) if isinstance(source, str) else None
    if match:
        return match[1], None
    return str(reported_year), f"no edition in 'source'; named after the data year {reported_year}"


def read_iea_cmde(path: Path) -> CanonicalBatch:
    """Read the explorer's JSON (plain or gzipped) into ``stage_production`` rows of its
    reported year, as the series ``"IEA CMDE <edition>"``; see the module docstring."""
    path = Path(path)
    reader = _load(path)
    supply = _read_supply(reader)
    all_years = sorted(
        {y for b in supply.blocks for y in b.total}
        | {y for b in supply.blocks for v in b.countries.values() for y in v}
    )
    if not all_years:
        reader.fail("no years in 'supply'", ("supply",))
    reported_year = all_years[0]
    projections = all_years[1:]
    demand = _check_demand(reader)
    notes: list[str] = []
    records = [row for block in supply.blocks for row in _rows(block, reported_year, notes)]
    notes += [m for b in supply.blocks if (m := _top3_mismatch(b, reported_year))]
    table = finalize("stage_production", pd.DataFrame.from_records(records), path)
    edition, edition_note = _edition(reader, reported_year)
    commodities = sorted(set(table["commodity"]))
    head = [
        f"supply of {len(commodities)} commodities ({', '.join(commodities)}), mining -> mine, "
        f"refining -> refinery, year {reported_year}; {UNIT} x {TONNES_PER_UNIT:g} = tonnes",
        "projections left out (base case from announced projects, not production): "
        + (", ".join(str(y) for y in projections) if projections else "none in the file"),
        "basis: " + "; ".join(f"{c} {BASIS.get(c, 'unstated')}" for c in commodities),
        f"'{REST_OF_WORLD}' -> ROW, each block's total -> WLD",
        "commodity names restored: "
        + ", ".join(f"{k!r} -> {v!r}" for k, v in IEA_COMMODITY_NAMES.items()),
    ]
    if supply.dropped_names:
        head.append(
            f"{len(supply.dropped_names)} note sentence(s) listed as countries, with no figures, "
            "dropped: "
            + "; ".join(repr(n[:60] + ("..." if len(n) > 60 else "")) for n in supply.dropped_names)
        )
    head.append("demand read and checked, not stored (no dataset for it yet): " + demand.summary())
    if edition_note:
        head.append(edition_note)
    return IEA_CMDE.batch(
        path,
        "stage_production",
        table,
        version=f"IEA Critical Minerals Data Explorer {edition} (supply {reported_year})",
        notes=head + notes,
        series=f"IEA CMDE {edition}",
    )
