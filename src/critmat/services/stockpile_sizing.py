"""Stock targets sized against stress tests (docs/stockpile-sizing.md), answered once for the
CLI, the API and the web page.

A sizing request names materials and, optionally, library scenarios (default: every library
scenario of each material); each scenario's Monte Carlo runs (its ``uncertainty:`` block,
``numpy.random.default_rng(seed)``) are evaluated by the stress engine with no stock held, and
each run's shortfall over the horizon — tonnes of material content, per importer — is one
sample of :func:`critmat.stockpiles.sizing.size_stocks`. The runs of several scenarios of a
material are pooled, each run counting once. The answer holds, per material and importer, the
sized stock beside the days-of-consumption rules (60 days, JOGMEC; 100 days, KOMIR) computed
from the baseline's demand, how much of the demand the data cover, the cost curve, and the
provenance: scenarios, runs, seed, baseline years and the store releases read.

"Save as target" (:func:`save_targets`) stores each sized stock through
:func:`critmat.services.stockpiles.set_target` with a source line naming the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from critmat.exports import json_value
from critmat.reference.countries import group_members, resolve_country
from critmat.reference.materials import load_catalogue
from critmat.reference.sectors import SectorSplit, load_sector_splits
from critmat.scenarios.baseline import Baseline
from critmat.scenarios.montecarlo import draw_parameters, evaluate_chunk
from critmat.scenarios.spec import Scenario
from critmat.services import stress
from critmat.services.context import ServiceContext
from critmat.stockpiles.sizing import (
    DAYS_PER_MONTH,
    DAYS_RULES,
    DEFAULT_SECTOR_WEIGHTS,
    CurvePoint,
    ItemSizing,
    SizingError,
    SizingItem,
    SizingSolution,
    check_confidence,
    check_runs,
    cost_curve,
    material_weight,
    size_stocks,
)
from critmat.store import Store

__all__ = [
    "MAX_RUNS",
    "RULE_KEYS",
    "DemandCover",
    "SizedItem",
    "SizingAnswer",
    "SizingOut",
    "SizingRequest",
    "curve_rows",
    "document",
    "held_from_ledger",
    "item_rows",
    "parse_assignments",
    "parse_member_state_weights",
    "parse_prices",
    "save_targets",
    "size",
    "target_source",
]

#: The most runs per scenario a service request (API, web) may ask for; the CLI has no bound.
MAX_RUNS = stress.MAX_RUNS
#: The longest horizon a scenario may have (months; the scenario schema's bound).
MAX_HORIZON = 240


@dataclass(frozen=True)
class SizingRequest:
    """What to size. Prices in EUR/t by material id ("*": every material without its own);
    weights of Member States by ISO3 (default 1); sector weights by a word of the sector's name
    (default: defence and aerospace 3)."""

    materials: tuple[str, ...]
    scenarios: tuple[str, ...] = ()
    runs: int = 1000
    seed: int = 1
    confidence: float = 0.95
    horizon_months: int = 24
    budget_eur: float | None = None
    prices_eur_t: Mapping[str, float] = field(default_factory=dict)
    holding_cost: float = 0.02
    member_states: bool = False  # size each Member State (else the EU27 as one pool)
    member_state_weights: Mapping[str, float] = field(default_factory=dict)
    sector_weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SECTOR_WEIGHTS)
    held_t: Mapping[str, float] = field(default_factory=dict)  # "material/importer" → t held


@dataclass(frozen=True)
class DemandCover:
    """The demand a material's days rules are computed from, and how much of it data cover.

    ``demand_t_per_day``: the importer's baseline demand (apparent consumption where the stage
    matches a WMD series and it is positive, else imports), None when there is none;
    ``share_apparent_consumption``: of the 27 Member States' demand, the share that is apparent
    consumption (the rest is imports only: domestic output missing); ``members_without``: the
    Member States with no demand figure at all (neither consumption nor imports: missing, not 0).
    """

    basis: str
    demand_t_per_day: float | None
    share_apparent_consumption: float | None
    members_without: tuple[str, ...]


@dataclass(frozen=True)
class SizedItem:
    """One material and importer: the sized stock and what it sits beside."""

    sizing: ItemSizing
    stage: str
    demand: DemandCover
    stock_days: float | None  # the sized stock in days of demand
    days_rules_t: dict[str, float | None]  # rule name → tonnes (None without demand)
    curve: tuple[CurvePoint, ...]
    shortfall_t: np.ndarray  # the samples sized on: tonnes short over the horizon, per run


@dataclass(frozen=True)
class SizingAnswer:
    """A sizing run with its provenance and notes."""

    request: SizingRequest
    solution: SizingSolution
    items: tuple[SizedItem, ...]
    scenarios: tuple[dict[str, Any], ...]  # name, material, stage, hs_codes, years, runs, params
    releases: tuple[dict[str, Any], ...]  # dataset, series, release_id, source, version
    notes: tuple[str, ...]
    sector_notes: tuple[str, ...]
    on: date


# ================================================================================ checks
def _check(request: SizingRequest, max_runs: int | None) -> None:
    check_confidence(request.confidence)
    check_runs(request.runs, max_runs)
    if not 1 <= request.horizon_months <= MAX_HORIZON:
        raise SizingError(
            f"horizon {request.horizon_months} months is outside 1 to {MAX_HORIZON}",
            hint="e.g. --horizon 24",
        )
    if not request.materials:
        raise SizingError("no material to size", hint="e.g. critmat stockpile size cobalt")
    for name, weight in (*request.member_state_weights.items(), *request.sector_weights.items()):
        if not weight > 0:
            raise SizingError(f"priority weight of {name} is {weight}; it must be above 0")


def _materials(names: Sequence[str]) -> tuple[str, ...]:
    """Catalogue ids, in the order given, once each (UnknownNameError with suggestions)."""
    catalogue = load_catalogue()
    return tuple(dict.fromkeys(catalogue.resolve(n).material.id for n in names))


def _scenarios(materials: Sequence[str], names: Sequence[str]) -> dict[str, list[str]]:
    """Library scenario names per material: those asked for, else every one of the material."""
    entries = stress.library_entries()
    by_name = {e["name"]: e for e in entries}
    chosen: dict[str, list[str]] = {m: [] for m in materials}
    for name in names:
        if name not in by_name:
            raise stress.UnknownScenario(name, sorted(by_name))
        material = by_name[name]["material"]
        if material not in chosen:
            raise SizingError(
                f"scenario '{name}' is about {material}, which is not among the materials sized "
                f"({', '.join(materials)})",
                hint=f"add {material} to the materials, or leave out --scenario {name}",
            )
        chosen[material].append(name)
    for material, found in chosen.items():
        if not found:
            if names:
                raise SizingError(f"no scenario given for {material}", hint=_hint(entries))
            found.extend(e["name"] for e in entries if e["material"] == material)
        if not found:
            raise SizingError(
                f"the scenario library has no scenario of {material}", hint=_hint(entries)
            )
    return chosen


def _hint(entries: Sequence[stress.LibraryEntry]) -> str:
    listed = ", ".join(f"{e['name']} ({e['material']})" for e in entries)
    return f"the library: {listed}; `critmat stress list` shows it"


# ================================================================================ samples
def _horizon(scenario: Scenario, months: int) -> Scenario:
    """The scenario over ``months`` with no stock held (so that a run's shortfall is the gross
    need a stock must cover)."""
    late = [s.start_month for s in scenario.shocks if s.start_month >= months]
    if late:
        raise SizingError(
            f"scenario '{scenario.name}' has a shock starting in month {late[0]}, outside a "
            f"horizon of {months} months",
            hint=f"use --horizon {late[0] + 1} or more",
        )
    responses = scenario.responses.model_copy(update={"stockpiles": {}})
    return scenario.model_copy(update={"horizon_months": months, "responses": responses})


def _samples(
    prepared: stress.Prepared, found: Baseline, runs: int, seed: int, months: int
) -> np.ndarray:
    """Shortfall over the horizon of each run, runs × importer (EU27, Member States), tonnes."""
    scenario = _horizon(prepared.scenario, months)
    uncertainty = prepared.uncertainty
    count = runs if uncertainty.parameters else 1
    draws = draw_parameters(uncertainty, count, seed)
    shortfall: np.ndarray = evaluate_chunk(scenario, found, uncertainty.targets, draws)
    totals: np.ndarray = shortfall.sum(axis=2)
    return totals


def _remembered_samples(
    prepared: stress.Prepared,
    found: Baseline,
    request: SizingRequest,
    context: ServiceContext | None,
) -> np.ndarray:
    def compute() -> np.ndarray:
        return _samples(prepared, found, request.runs, request.seed, request.horizon_months)

    if context is None:
        return compute()
    params = (prepared.scenario.name, request.runs, request.seed, request.horizon_months)
    answer: np.ndarray = context.remember("stockpile_sizing.samples", params, compute)
    return answer


# ================================================================================ demand
def _demand_cover(found: Baseline, importer: str) -> DemandCover:
    index = found.importers.index(importer)
    monthly = float(found.demand[index])
    members = np.asarray(found.demand[1:], dtype=float)
    sources = found.demand_source[1:]
    total = float(members.sum())
    from_ac = sum(d for d, s in zip(members, sources, strict=True) if s == "apparent_consumption")
    return DemandCover(
        basis=found.demand_source[index],
        demand_t_per_day=monthly / DAYS_PER_MONTH if monthly > 0 else None,
        share_apparent_consumption=float(from_ac / total) if total > 0 else None,
        members_without=tuple(m for m, d in zip(found.members, members, strict=True) if d <= 0),
    )


def _sized_item(
    sizing: ItemSizing, item: SizingItem, found: Baseline, request: SizingRequest
) -> SizedItem:
    demand = _demand_cover(found, sizing.importer)
    daily = demand.demand_t_per_day
    return SizedItem(
        sizing=sizing,
        stage=found.stage,
        demand=demand,
        stock_days=sizing.stock_t / daily if daily else None,
        days_rules_t={name: days * daily if daily else None for name, days in DAYS_RULES.items()},
        curve=tuple(cost_curve(item, request.horizon_months, request.holding_cost)),
        shortfall_t=item.shortfall_t,
    )


# ================================================================================ answering
def _price(request: SizingRequest, material: str) -> float | None:
    found = request.prices_eur_t.get(material, request.prices_eur_t.get("*"))
    return None if found is None else float(found)


def _releases(store: Store) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "dataset": r.dataset,
            "series": r.series,
            "release_id": r.release_id,
            "source": r.source,
            "version": r.version,
        }
        for dataset in ("trade", "production")
        for r in store.current_releases(dataset)
    )


def size(
    request: SizingRequest,
    store: Store,
    *,
    context: ServiceContext | None = None,
    splits: Sequence[SectorSplit] | None = None,
    max_runs: int | None = MAX_RUNS,
    max_total_runs: int | None = None,
    on: date | None = None,
) -> SizingAnswer:
    """Size the stocks of ``request`` (module docstring). ``max_runs``: the bound on runs per
    scenario, ``max_total_runs`` on the runs of every scenario together (None: no bound, the
    command line's); ``splits``: sector splits (default: the shipped ones)."""
    _check(request, max_runs)
    materials = _materials(request.materials)
    unknown_prices = set(request.prices_eur_t) - {"*", *materials}
    if unknown_prices:
        raise SizingError(
            f"a price is given for {', '.join(sorted(unknown_prices))}, not among the materials "
            f"sized ({', '.join(materials)})"
        )
    chosen = _scenarios(materials, request.scenarios)
    total = request.runs * sum(len(names) for names in chosen.values())
    if max_total_runs is not None and total > max_total_runs:
        raise SizingError(
            f"{total:,} runs in all ({request.runs:,} for each of "
            f"{sum(len(n) for n in chosen.values())} scenarios) is more than {max_total_runs:,}",
            hint="ask fewer runs, scenarios or materials",
        )
    splits = load_sector_splits() if splits is None else splits
    items: list[SizingItem] = []
    baselines: list[Baseline] = []
    described: list[dict[str, Any]] = []
    notes: list[str] = []
    sector_notes: list[str] = []
    for material in materials:
        samples: list[np.ndarray] = []
        first: Baseline | None = None
        for name in chosen[material]:
            prepared = stress.prepare(name, None)
            found = stress.baseline(store, prepared.scenario, context)
            first = first or found
            runs = _remembered_samples(prepared, found, request, context)
            samples.append(runs)
            described.append(_scenario_entry(prepared, found, len(runs)))
            if not prepared.uncertainty.parameters:
                notes.append(f"{name} declares no uncertain parameter: one run")
            if (found.stage, found.years) != (first.stage, first.years):
                notes.append(
                    f"{material}: {name} reads {found.stage} {found.years}; demand and days "
                    f"rules are those of {first.stage} {first.years}"
                )
            notes.extend(f"{name}: {n}" for n in found.notes)
        assert first is not None
        pooled = np.concatenate(samples, axis=0)  # run × importer
        weight, why = material_weight(material, splits, request.sector_weights)
        sector_notes.extend(why)
        importers = first.members if request.member_states else ("EU27",)
        for importer in importers:
            column = first.importers.index(importer)
            key = f"{material}/{importer}"
            items.append(
                SizingItem(
                    material=material,
                    importer=importer,
                    shortfall_t=pooled[:, column],
                    weight=weight * request.member_state_weights.get(importer, 1.0),
                    price_eur_t=_price(request, material),
                    held_t=float(request.held_t.get(key, 0.0)),
                )
            )
            baselines.append(first)
    solution = size_stocks(
        items,
        request.confidence,
        request.horizon_months,
        holding_cost=request.holding_cost,
        budget_eur=request.budget_eur,
    )
    sized = tuple(
        _sized_item(s, item, found, request)
        for s, item, found in zip(solution.items, items, baselines, strict=True)
    )
    if request.member_states:
        notes.append(
            "each Member State sized for its own shortfall: their sum is more than one EU27 "
            "pool would need (a pool covers runs in which different Member States are short)"
        )
    if solution.budget_binding:
        notes.append(
            f"the budget binds: the confidence targets would cost {solution.target_cost_eur:,.0f} "
            f"EUR; the budget covers what the priority weights rank first"
        )
    return SizingAnswer(
        request=request,
        solution=solution,
        items=sized,
        scenarios=tuple(described),
        releases=_releases(store),
        notes=tuple(dict.fromkeys(notes)),
        sector_notes=tuple(dict.fromkeys(sector_notes)),
        on=on or date.today(),
    )


def _scenario_entry(prepared: stress.Prepared, found: Baseline, runs: int) -> dict[str, Any]:
    return {
        "name": prepared.scenario.name,
        "material": found.material,
        "stage": found.stage,
        "hs_codes": list(found.hs_codes),
        "baseline_years": list(found.years),
        "runs": runs,
        "parameters": list(prepared.uncertainty.keys),
    }


# ================================================================================ targets
def target_source(answer: SizingAnswer) -> str:
    """The source line a saved target carries, e.g. "sizing run 2026-12-03: 95 % of 1,000 runs
    of cobalt-drc-2025, seed 1, 24 months"."""
    request = answer.request
    names = ", ".join(s["name"] for s in answer.scenarios)
    return (
        f"sizing run {answer.on.isoformat()}: {request.confidence:.4g} of {request.runs:,} runs "
        f"of {names}, seed {request.seed}, {request.horizon_months} months"
        + (", budget binding" if answer.solution.budget_binding else "")
    )


def save_targets(
    answer: SizingAnswer, viewer: Any = None, *, database_url: str | None = None
) -> list[tuple[str, str, float]]:
    """Store every sized stock as the stock target of its material and importer through the
    holdings ledger (:func:`critmat.services.stockpiles.set_target`); returns what was stored.
    ``viewer``: a :class:`critmat.services.stockpiles.StockViewer`, None for the local CLI."""
    from critmat.services import stockpiles

    source = target_source(answer)
    saved = []
    for item in answer.items:
        s = item.sizing
        stockpiles.set_target(
            s.material,
            s.importer,
            s.stock_t,
            source=source,
            viewer=viewer,
            database_url=database_url,
        )
        saved.append((s.material, s.importer, s.stock_t))
    return saved


def held_from_ledger(
    materials: Sequence[str], viewer: Any = None, *, database_url: str | None = None
) -> tuple[dict[str, float], tuple[str, ...]]:
    """Tonnes held per "material/importer" in the holdings ledger
    (:func:`critmat.services.stockpiles.stress_positions`), and its notes: a Member State's
    own holdings, and for EU27 the sum of all (EU level and every Member State)."""
    from critmat.services import stockpiles

    held: dict[str, float] = {}
    notes: list[str] = []
    for name in _materials(materials):
        positions = stockpiles.stress_positions(name, viewer, database_url=database_url)
        held.update({f"{positions.material}/{k}": v for k, v in positions.stock_t.items()})
        # the EU27 pool holds everything: EU-level holdings and every Member State's
        held[f"{positions.material}/EU27"] = float(sum(positions.stock_t.values()))
        notes.extend(positions.notes)
    return held, tuple(notes)


# ================================================================================ documents
class SizingOut(BaseModel):
    """A sizing run as JSON (the API's answer, the CLI's ``--format json``). Tonnes (``_t``) of
    material content over the horizon; euro (``_eur``); shares 0-1; missing values null."""

    materials: list[str]
    confidence: float = Field(description="share of runs each stock must cover (0, 1]")
    horizon_months: int
    runs_per_scenario: int
    seed: int
    budget_eur: float | None
    holding_cost: float = Field(description="fraction of the price per year")
    level: str = Field(description="EU27 (one pool) or member_states (each its own)")
    cost_eur: float | None = Field(description="purchase plus holding over the horizon")
    target_cost_eur: float | None = Field(description="what every confidence target would cost")
    budget_binding: bool
    model: dict[str, int] = Field(description="variables, binaries, constraints, nonzeros")
    solve_seconds: float
    solver: str
    items: list[dict[str, Any]] = Field(description="one row per material and importer")
    curve: list[dict[str, Any]] = Field(description="cost curve points per material, importer")
    scenarios: list[dict[str, Any]]
    releases: list[dict[str, Any]]
    notes: list[str]
    target_source: str = Field(description="the source line `--save-target` stores")


def item_rows(answer: SizingAnswer) -> list[dict[str, Any]]:
    """One row per material and importer: sized stock, target, cover, cost, days rules."""
    rows = []
    for item in answer.items:
        s = item.sizing
        rows.append(
            {
                "material": s.material,
                "importer": s.importer,
                "stage": item.stage,
                "weight": s.weight,
                "stock_t": s.stock_t,
                "target_t": s.target_t,
                "held_t": s.held_t,
                "buy_t": s.buy_t,
                "runs": s.runs,
                "share_runs_covered": s.share_runs_covered,
                "share_shortfall_covered": s.share_shortfall_covered,
                "mean_shortfall_t": s.mean_shortfall_t,
                "cost_eur": s.cost_eur,
                "stock_days": item.stock_days,
                **{_rule_key(name): t for name, t in item.days_rules_t.items()},
                "demand_t_per_day": item.demand.demand_t_per_day,
                "demand_basis": item.demand.basis,
                "share_demand_apparent_consumption": item.demand.share_apparent_consumption,
                "members_without_demand": ";".join(item.demand.members_without),
            }
        )
    return rows


def _rule_key(name: str) -> str:
    """``JOGMEC 60 days`` → ``days60_t``."""
    return f"days{DAYS_RULES[name]}_t"


#: The row keys of the days rules, in :data:`DAYS_RULES` order.
RULE_KEYS = tuple(_rule_key(name) for name in DAYS_RULES)


def curve_rows(answer: SizingAnswer) -> list[dict[str, Any]]:
    """The cost curve of every material and importer, one row per point."""
    return [
        {
            "material": item.sizing.material,
            "importer": item.sizing.importer,
            "stock_t": p.stock_t,
            "share_shortfall_covered": p.share_shortfall_covered,
            "share_runs_covered": p.share_runs_covered,
            "cost_eur": p.cost_eur,
        }
        for item in answer.items
        for p in item.curve
    ]


def document(answer: SizingAnswer) -> dict[str, Any]:
    """The JSON document of ``answer`` (:class:`SizingOut`'s fields; NaN as None)."""
    request, solution = answer.request, answer.solution
    raw = {
        "materials": list(dict.fromkeys(i.sizing.material for i in answer.items)),
        "confidence": request.confidence,
        "horizon_months": request.horizon_months,
        "runs_per_scenario": request.runs,
        "seed": request.seed,
        "budget_eur": request.budget_eur,
        "holding_cost": request.holding_cost,
        "level": "member_states" if request.member_states else "EU27",
        "cost_eur": solution.cost_eur,
        "target_cost_eur": solution.target_cost_eur,
        "budget_binding": solution.budget_binding,
        "model": asdict(solution.model),
        "solve_seconds": solution.solve_seconds,
        "solver": solution.solver,
        "items": item_rows(answer),
        "curve": curve_rows(answer),
        "scenarios": [dict(s) for s in answer.scenarios],
        "releases": [dict(r) for r in answer.releases],
        "notes": [*answer.notes, *answer.sector_notes],
        "target_source": target_source(answer),
    }
    return {key: _plain(value) for key, value in raw.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return json_value(value)


# ================================================================================ parsing
def parse_assignments(
    texts: Sequence[str], option: str, *, bare: str | None = None
) -> dict[str, float]:
    """``KEY=NUMBER`` items (``option`` names them in errors, e.g. ``--weight``); with ``bare``,
    an item without ``=`` is the number for key ``bare`` (``--price 30000`` = every material)."""
    found: dict[str, float] = {}
    for text in (t.strip() for t in texts if t.strip()):
        key, sep, number = text.rpartition("=")
        if not sep and bare is not None:
            key = bare
        elif not sep or not key.strip():
            raise SizingError(
                f"{option} '{text}': expected KEY=NUMBER", hint=f"e.g. {option} DEU=2"
            )
        try:
            value = float(number)
        except ValueError:
            raise SizingError(f"{option} '{text}': '{number}' is not a number") from None
        if not (np.isfinite(value) and value > 0):
            raise SizingError(f"{option} '{text}': the number must be above 0")
        found[key.strip()] = value
    return found


def parse_prices(texts: Sequence[str]) -> dict[str, float]:
    """``--price`` items: ``30000`` (EUR/t of every material) or ``MATERIAL=30000``; material
    names resolved to catalogue ids."""
    raw = parse_assignments(texts, "--price", bare="*")
    return {k if k == "*" else _materials([k])[0]: v for k, v in raw.items()}


def parse_member_state_weights(texts: Sequence[str]) -> dict[str, float]:
    """``--weight`` items ``ISO3=W`` (a Member State's name or code) → weights by ISO3."""
    members = group_members("EU27")
    weights = {}
    for key, value in parse_assignments(texts, "--weight").items():
        iso3 = resolve_country(key)
        if iso3 not in members:
            raise SizingError(f"--weight {key}: {iso3} is not an EU Member State")
        weights[iso3] = value
    return weights
