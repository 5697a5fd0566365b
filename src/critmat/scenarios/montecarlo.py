"""Monte Carlo stress tests: uncertain parameters → N runs of the engine → p5/p50/p95 bands.

Uncertain parameters are declared in an optional ``uncertainty:`` block of the scenario file
(a mapping from parameter to distribution, see :mod:`critmat.scenarios._mc_dist`) or given on
the command line (``--param KEY=KIND:a,b,...``, which replaces the file's entry for the same key).
Keys:

- ``spare_capacity_fraction``, ``demand_elasticity`` (fractions in [0, 1]);
- ``ramp_up_months`` (the ramp-up lag, whole months ≥ 0);
- ``shocks[i].FIELD`` with FIELD ``duration_months`` (≥ 1), ``delay_months`` (licensing, ≥ 0),
  ``fraction_kept`` (quota), ``fraction_after`` (licensing), ``fraction_lost`` (outage).

Month parameters are drawn and then rounded to whole months. Every parameter set is drawn up front
with ``numpy.random.default_rng(seed)`` (one parameter after the other, in declaration order),
so results do not depend on how the runs are split into chunks or spread over workers. Chunks
are evaluated in-process, in a local process pool or on a Dask distributed cluster, and the
shortfalls are stacked in run order before the percentiles are taken: the three give identical
bands for the same seed.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from critmat.errors import CritmatError, InputFileError
from critmat.scenarios._mc_dist import DIST_ARGS, Choice, Normal, Triangular, Uniform, dist_adapter
from critmat.scenarios.baseline import Baseline
from critmat.scenarios.batch import RunParameters, Target, run_batch
from critmat.scenarios.engine import Params, Result, run
from critmat.scenarios.spec import (
    Scenario,
    checked_scenario,
    read_scenario_file,
    split_uncertainty,
)

__all__ = [
    "CHUNK_RUNS",
    "QUANTILES",
    "MonteCarloResult",
    "Target",
    "UncertainParameter",
    "Uncertainty",
    "apply_draw",
    "default_workers",
    "describe",
    "draw_parameters",
    "evaluate_chunk",
    "load_scenario_file",
    "parse_cli_parameter",
    "parse_uncertainty",
    "run_montecarlo",
    "run_of_draw",
]

QUANTILES = (5.0, 50.0, 95.0)
CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler
#: The most runs evaluated together by default: arrays of 500 runs × 28 importers × 24 months
#: (2.7 MB each) stay in the processor's cache better than larger chunks, and are faster.
CHUNK_RUNS = 500
Dist = Uniform | Triangular | Normal | Choice

# parameter → (integer?, lowest, highest allowed value)
_RESPONSES: dict[str, tuple[bool, float, float]] = {
    "spare_capacity_fraction": (False, 0.0, 1.0),
    "demand_elasticity": (False, 0.0, 1.0),
    "ramp_up_months": (True, 0.0, math.inf),
}
_SHOCK_FIELDS: dict[str, tuple[bool, float, float, frozenset[str]]] = {
    "duration_months": (
        True,
        1.0,
        math.inf,
        frozenset({"export_ban", "export_quota", "export_licensing", "production_outage"}),
    ),
    "delay_months": (True, 0.0, math.inf, frozenset({"export_licensing"})),
    "fraction_kept": (False, 0.0, 1.0, frozenset({"export_quota"})),
    "fraction_after": (False, 0.0, 1.0, frozenset({"export_licensing"})),
    "fraction_lost": (False, 0.0, 1.0, frozenset({"production_outage"})),
}
_SHOCK_KEY = re.compile(r"^shocks\[(\d+)\]\.([a-z_]+)$")


@dataclass(frozen=True)
class UncertainParameter:
    key: str  # as written: spare_capacity_fraction, shocks[0].duration_months, ...
    dist: Dist
    target: Target


@dataclass(frozen=True)
class Uncertainty:
    """The uncertain parameters of a scenario, in drawing order."""

    parameters: tuple[UncertainParameter, ...] = ()

    def merged(self, other: Uncertainty) -> Uncertainty:
        """``other``'s entries replace this one's with the same key; new keys are appended."""
        replaced = {p.key: p for p in other.parameters}
        kept = [replaced.pop(p.key, p) for p in self.parameters]
        return Uncertainty((*kept, *(p for p in other.parameters if p.key in replaced)))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parameters)

    @property
    def targets(self) -> tuple[Target, ...]:
        return tuple(p.target for p in self.parameters)


def _target(key: str, scenario: Scenario) -> tuple[Target, float, float]:
    """The target of ``key`` and its allowed range; ValueError naming the problem."""
    if key in _RESPONSES:
        integer, low, high = _RESPONSES[key]
        return Target(key, None, integer), low, high
    match = _SHOCK_KEY.match(key)
    if match is None:
        allowed = ", ".join([*_RESPONSES, *(f"shocks[i].{f}" for f in _SHOCK_FIELDS)])
        raise ValueError(f"unknown parameter '{key}'; use one of: {allowed}")
    index, attr = int(match.group(1)), match.group(2)
    if index >= len(scenario.shocks):
        raise ValueError(f"the scenario has {len(scenario.shocks)} shock(s); no shocks[{index}]")
    if attr not in _SHOCK_FIELDS:
        raise ValueError(f"'{attr}' cannot be drawn; use one of: {', '.join(_SHOCK_FIELDS)}")
    integer, low, high, types = _SHOCK_FIELDS[attr]
    kind = scenario.shocks[index].type
    if kind not in types:
        raise ValueError(f"shocks[{index}] is an {kind}, which has no {attr}")
    return Target(attr, index, integer), low, high


def _check_range(dist: Dist, target: Target, low: float, high: float) -> None:
    lo, hi = dist.support()
    if lo < low or hi > high:
        span = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"at least {low:g}"
        raise ValueError(f"values must lie in {span}; this distribution spans [{lo:g}, {hi:g}]")
    if target.integer and isinstance(dist, Choice) and any(v != round(v) for v in dist.values):
        raise ValueError("values must be whole months")


def _loc(error: Mapping[str, Any], dist_name: object) -> str:
    """The sub-field of a distribution error ('' for the whole entry, 'dist' for the tag)."""
    if str(error.get("type", "")).startswith("union_tag"):
        return "dist"
    return ".".join(str(p) for p in error["loc"] if p != dist_name)


def _parameter(
    key: str, raw: Any, scenario: Scenario
) -> tuple[UncertainParameter | None, str, str]:
    """Validate one entry; returns (parameter, None, None) or (None, subfield, message)."""
    try:
        target, low, high = _target(key, scenario)
    except ValueError as exc:
        return None, "", str(exc)
    try:
        dist = dist_adapter.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = raw.get("dist") if isinstance(raw, dict) else None
        message = str(first["msg"]).removeprefix("Value error, ")
        return None, _loc(first, name), message
    try:
        _check_range(dist, target, low, high)
    except ValueError as exc:
        return None, "", str(exc)
    return UncertainParameter(key, dist, target), "", ""


def parse_uncertainty(raw: Any, scenario: Scenario, source: str | Path) -> Uncertainty:
    """Validate an ``uncertainty:`` block; errors are :class:`InputFileError` naming the field."""
    if raw is None:
        return Uncertainty()
    if not isinstance(raw, dict):
        raise InputFileError(source, "must map parameters to distributions", field="uncertainty")
    out = []
    for key, value in raw.items():
        parameter, sub, message = _parameter(str(key), value, scenario)
        if parameter is None:
            where = f"uncertainty.{key}" + (f".{sub}" if sub else "")
            raise InputFileError(source, message, field=where)
        out.append(parameter)
    return Uncertainty(tuple(out))


def parse_cli_parameter(text: str, scenario: Scenario) -> UncertainParameter:
    """``KEY=KIND:a,b,...`` (e.g. ``ramp_up_months=choice:3,6,9``) → a parameter."""
    key, sep, spec = text.partition("=")
    kind, colon, args = spec.partition(":")
    key, kind = key.strip(), kind.strip().lower()
    if not sep or not colon or kind not in DIST_ARGS:
        raise CritmatError(
            f"--param '{text}': expected KEY=KIND:a,b,... with KIND one of {', '.join(DIST_ARGS)}",
            hint="e.g. --param spare_capacity_fraction=uniform:0.05,0.2 "
            "--param ramp_up_months=choice:3,6,9",
        )
    try:
        numbers = [float(a) for a in args.split(",") if a.strip()]
    except ValueError:
        raise CritmatError(f"--param '{text}': the arguments must be numbers") from None
    names = DIST_ARGS[kind]
    raw: dict[str, Any] = {"dist": kind}
    if kind == "choice":
        raw["values"] = numbers
    elif len(numbers) != len(names):
        raise CritmatError(
            f"--param '{text}': {kind} takes {len(names)} numbers: {', '.join(names)}"
        )
    else:
        raw.update(zip(names, numbers, strict=True))
    parameter, sub, message = _parameter(key, raw, scenario)
    if parameter is None:
        raise CritmatError(f"--param '{text}'" + (f", {sub}" if sub else "") + f": {message}")
    return parameter


def load_scenario_file(name_or_path: str | Path) -> tuple[Scenario, Uncertainty]:
    """Load a scenario file or library scenario together with its ``uncertainty:`` block."""
    path, raw = read_scenario_file(name_or_path)
    rest, block = split_uncertainty(raw)
    scenario = checked_scenario(rest, path)
    return scenario, parse_uncertainty(block, scenario, path)


def draw_parameters(uncertainty: Uncertainty, runs: int, seed: int | None) -> np.ndarray:
    """All parameter sets, runs × parameters, from ``default_rng(seed)`` (months rounded)."""
    rng = np.random.default_rng(seed)
    draws = np.empty((runs, len(uncertainty.parameters)))
    for j, parameter in enumerate(uncertainty.parameters):
        values = parameter.dist.sample(rng, runs)
        draws[:, j] = np.rint(values) if parameter.target.integer else values
    return draws


def apply_draw(
    scenario: Scenario, params: Params, targets: Sequence[Target], row: np.ndarray
) -> tuple[Scenario, Params]:
    """The scenario and parameters of one run: ``row``'s values (one per target) put into the
    shocks' fields and the responses (month values as whole numbers)."""
    responses: dict[str, object] = {}
    shocks: dict[int, dict[str, object]] = {}
    for target, value in zip(targets, row, strict=True):
        number: float | int = int(value) if target.integer else float(value)
        if target.shock is None:
            responses[target.attr] = number
        else:
            shocks.setdefault(target.shock, {})[target.attr] = number
    if shocks:
        new = tuple(
            s.model_copy(update=shocks[i]) if i in shocks else s
            for i, s in enumerate(scenario.shocks)
        )
        scenario = scenario.model_copy(update={"shocks": new})
    return scenario, params.with_(**responses) if responses else params


def run_of_draw(
    scenario: Scenario, baseline: Baseline, targets: Sequence[Target], row: np.ndarray
) -> Result:
    """One run of the engine (:func:`critmat.scenarios.engine.run`) with the parameter set
    ``row`` (one value per target) put into the scenario and its responses."""
    spec, params = apply_draw(scenario, Params.from_scenario(scenario), targets, row)
    return run(spec, baseline, params)


def evaluate_chunk(
    scenario: Scenario, baseline: Baseline, targets: Sequence[Target], draws: np.ndarray
) -> np.ndarray:
    """Shortfall (t) of each parameter set: runs × importer × month. Pure; runs on any worker.

    The runs are evaluated together, :data:`CHUNK_RUNS` at a time
    (:func:`critmat.scenarios.batch.run_batch`); each equals :func:`run_of_draw` of its row to
    rounding.
    """
    out = np.empty((len(draws), len(baseline.importers), scenario.horizon_months))
    for part in _split(len(draws), CHUNK_RUNS):  # bounded memory for a large call
        runs = RunParameters.of_draws(scenario, targets, draws[part])
        out[part] = run_batch(scenario, baseline, runs).shortfall
    return out


@dataclass(frozen=True)
class MonteCarloResult:
    """Bands over the runs (axis 0 of the band arrays: the :data:`QUANTILES`)."""

    scenario: Scenario
    baseline: Baseline
    uncertainty: Uncertainty
    runs: int
    seed: int | None
    months: tuple[str, ...]
    importers: tuple[str, ...]
    demand: np.ndarray  # importer, t/month
    shortfall_bands: np.ndarray  # quantile × importer × month, t
    total_bands: np.ndarray  # quantile × importer, t over the horizon
    mean_shortfall: np.ndarray  # importer × month, t
    p_short: np.ndarray  # importer: share of runs with a shortfall in some month
    backend: str = "local"
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def shortfall_pct_bands(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self.demand[None, :, None]
            return np.where(d > 0, self.shortfall_bands / d, np.nan)

    def bands(self) -> pd.DataFrame:
        """One row per importer and month: demand and the shortfall bands (t and share)."""
        n_i, n_t = len(self.importers), len(self.months)
        frame: dict[str, Any] = {
            "importer": np.repeat(self.importers, n_t),
            "month_index": np.tile(np.arange(n_t), n_i),
            "month": np.tile(self.months, n_i),
            "demand_t": np.repeat(self.demand, n_t),
        }
        pct = self.shortfall_pct_bands
        for q, name in enumerate(_names()):
            frame[f"shortfall_{name}_t"] = self.shortfall_bands[q].ravel()
        for q, name in enumerate(_names()):
            frame[f"shortfall_{name}_pct"] = pct[q].ravel()
        frame["shortfall_mean_t"] = self.mean_shortfall.ravel()
        return pd.DataFrame(frame)

    def summary(self) -> pd.DataFrame:
        """One row per importer: shortfall over the horizon (bands, t and share of demand)."""
        total = self.demand * len(self.months)
        frame: dict[str, Any] = {"importer": self.importers, "demand_t": total}
        with np.errstate(divide="ignore", invalid="ignore"):
            for q, name in enumerate(_names()):
                frame[f"shortfall_{name}_t"] = self.total_bands[q]
            for q, name in enumerate(_names()):
                frame[f"shortfall_{name}_pct"] = np.where(
                    total > 0, self.total_bands[q] / np.where(total > 0, total, 1.0), np.nan
                )
        frame["p_short"] = self.p_short
        return pd.DataFrame(frame)


def _names() -> list[str]:
    return [f"p{q:g}" for q in QUANTILES]


def _combine(
    scenario: Scenario,
    baseline: Baseline,
    uncertainty: Uncertainty,
    seed: int | None,
    chunks: Sequence[np.ndarray],
    backend: str,
) -> MonteCarloResult:
    stacked = np.concatenate(chunks, axis=0)  # run × importer × month, in run order
    totals = stacked.sum(axis=2)
    return MonteCarloResult(
        scenario=scenario,
        baseline=baseline,
        uncertainty=uncertainty,
        runs=stacked.shape[0],
        seed=seed,
        months=tuple(scenario.month_labels()),
        importers=baseline.importers,
        demand=np.asarray(baseline.demand, dtype=float),
        shortfall_bands=np.percentile(stacked, QUANTILES, axis=0),
        total_bands=np.percentile(totals, QUANTILES, axis=0),
        mean_shortfall=stacked.mean(axis=0),
        p_short=(stacked > 1e-9).any(axis=2).mean(axis=0),
        backend=backend,
    )


def _split(runs: int, chunk_size: int) -> list[slice]:
    return [slice(i, min(runs, i + chunk_size)) for i in range(0, runs, chunk_size)]


def default_workers(runs: int) -> int:
    """In-process below 200,000 runs (runs are evaluated in batches, about 0.1 ms a run with
    the bands: a pool's start-up and the shortfall arrays' transfer do not pay below), else
    every core."""
    return 1 if runs < 200_000 else max(1, os.cpu_count() or 1)


def run_montecarlo(
    scenario: Scenario,
    baseline: Baseline,
    uncertainty: Uncertainty,
    runs: int,
    seed: int | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> MonteCarloResult:
    """Draw ``runs`` parameter sets and evaluate them; bands per importer and month.

    ``scheduler``: a Dask distributed scheduler address (``tcp://host:port``); else ``workers``
    local processes (1 = in this process; default :func:`default_workers`). ``progress`` is
    called with the number of runs finished after each chunk.
    """
    if runs < 1:
        raise CritmatError("the number of runs must be at least 1")
    draws = draw_parameters(uncertainty, runs, seed)
    targets = uncertainty.targets
    n_workers = workers if workers is not None else default_workers(runs)
    if chunk_size is None:
        spread = 4 * max(n_workers, 2 if scheduler else 1)
        chunk_size = max(50, min(CHUNK_RUNS, math.ceil(runs / spread)))
    slices = _split(runs, chunk_size)
    results: list[np.ndarray | None] = [None] * len(slices)
    done = 0
    backend: str
    if scheduler:
        backend = f"dask {scheduler}"
        _run_dask(scheduler, scenario, baseline, targets, draws, slices, results, progress)
    elif n_workers > 1:
        backend = f"{n_workers} local processes"
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = {
                pool.submit(evaluate_chunk, scenario, baseline, targets, draws[s]): i
                for i, s in enumerate(slices)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += len(draws[slices[futures[future]]])
                if progress:
                    progress(done)
    else:
        backend = "in-process"
        for i, s in enumerate(slices):
            results[i] = evaluate_chunk(scenario, baseline, targets, draws[s])
            done += s.stop - s.start
            if progress:
                progress(done)
    chunks = [r for r in results if r is not None]
    return _combine(scenario, baseline, uncertainty, seed, chunks, backend)


def _run_dask(
    address: str,
    scenario: Scenario,
    baseline: Baseline,
    targets: Sequence[Target],
    draws: np.ndarray,
    slices: Sequence[slice],
    results: list[np.ndarray | None],
    progress: Callable[[int], None] | None,
) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise CritmatError(
            "Dask distributed is not installed", hint='pip install "dask[distributed]"'
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise CritmatError(
            f"cannot reach the Dask scheduler at {address}: {exc}",
            hint="start one with `dask scheduler` and `dask worker ADDRESS`, "
            "or leave out --dask / CRITMAT_DASK_SCHEDULER to run locally",
        ) from None
    with client:
        scenario_f, baseline_f = client.scatter([scenario, baseline], broadcast=True)  # type: ignore[no-untyped-call]
        futures = [
            client.submit(
                evaluate_chunk, scenario_f, baseline_f, tuple(targets), draws[s], pure=False
            )
            for s in slices
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        done = 0
        for future in dask_completed(futures):  # type: ignore[no-untyped-call]
            i = index[future.key]
            results[i] = future.result()
            done += slices[i].stop - slices[i].start
            if progress:
                progress(done)


def describe(uncertainty: Uncertainty) -> list[dict[str, str]]:
    """Rows ``parameter, distribution`` for reports."""
    return [{"parameter": p.key, "distribution": p.dist.describe()} for p in uncertainty.parameters]
