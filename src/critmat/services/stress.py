"""Stress tests: the scenario library, single runs, Monte Carlo bands and the backtest
(:mod:`critmat.scenarios`, docs/stress-tests.md), answered once for the CLI, the API and the
web page. What every presentation shows of an answer (its rows, tables and JSON document) is
built in :mod:`critmat.services.stress_output`.

- **Library.** Read and validated once per process, again only when a file's modification time
  or size changes (:func:`library`). Library scenarios are looked up by name among the library's
  files only: a name from a request is never used as a path.
- **Preparing.** :func:`prepare` validates a library name or a definition (a scenario file's
  content, with its ``uncertainty:`` block), :func:`prepare_text` the YAML text of the page's
  editor, :func:`load` a file or library name of the command line. Errors are
  :class:`~critmat.errors.InputFileError` naming the field (``field``), or
  :class:`UnknownScenario`.
- **Baselines.** Reading BACI and WMD is the expensive part of a run: with a
  :class:`~critmat.services.context.ServiceContext` the baseline is remembered per material,
  stage, baseline spec and current releases (:func:`baseline`). A run then takes milliseconds.
- **Bounds.** Monte Carlo for the service (API and web) runs in its own process, at most
  :data:`MAX_RUNS` runs (evaluated in batches, about 0.1 ms a run); the command line may use
  local processes or Dask.
- **Stocks from the ledger.** :func:`with_ledger_stocks` replaces the scenario's stockpiles by
  the positions of the stockpile ledger (:func:`critmat.services.stockpiles.stress_positions`,
  as the viewer may see them), so that a run shows stock drawn and days of cover from real
  holdings, with the stored targets beside them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import yaml

from critmat.errors import CritmatError, InputFileError
from critmat.indicators.provenance import Provenance
from critmat.scenarios.backtest import CASES, BacktestResult
from critmat.scenarios.backtest import backtest as backtest_registry
from critmat.scenarios.baseline import Baseline, build_baseline
from critmat.scenarios.engine import Result
from critmat.scenarios.engine import run as run_engine
from critmat.scenarios.montecarlo import (
    MonteCarloResult,
    Uncertainty,
    load_scenario_file,
    parse_cli_parameter,
    parse_uncertainty,
    run_montecarlo,
)
from critmat.scenarios.spec import (
    LIBRARY,
    Scenario,
    checked_scenario,
    parse_scenario,
    split_uncertainty,
)
from critmat.services.context import ServiceContext
from critmat.services.stress_output import BacktestAnswer, LedgerStocks
from critmat.services.stress_output import backtest_answer as backtest_answer_of
from critmat.store import Store

__all__ = [
    "DEFINITION",
    "MAX_RUNS",
    "EmptyLedger",
    "LedgerStocks",
    "Library",
    "LibraryEntry",
    "MonteCarloOutcome",
    "Prepared",
    "UnknownScenario",
    "backtest",
    "backtest_answer",
    "baseline",
    "ledger_stockpiles",
    "library",
    "library_entries",
    "library_raw",
    "library_text",
    "load",
    "member_states",
    "montecarlo",
    "montecarlo_if_uncertain",
    "prepare",
    "prepare_text",
    "require_uncertainty",
    "run",
    "with_ledger_stocks",
    "with_parameters",
]

#: The most Monte Carlo runs the service computes for one request (in its own process).
MAX_RUNS = 5_000
#: The source a definition's errors name (the API's ``where``; the page shows the field only).
DEFINITION = "definition"
#: The hint of a Monte Carlo asked of a scenario without uncertain parameters.
NO_UNCERTAINTY_HINT = (
    "add an `uncertainty:` block, e.g. spare_capacity_fraction: "
    + "{dist: uniform, low: 0.05, high: 0.2}"
)

T = TypeVar("T")
#: (file stem, modification time in ns, size in bytes) of each library file, by name.
Stamp = tuple[tuple[str, int, int], ...]


class UnknownScenario(CritmatError):
    """A library scenario name that is not in the library (the API answers 404)."""

    def __init__(self, name: str, names: list[str]) -> None:
        super().__init__(f"no library scenario '{name}'; the library: {', '.join(names)}")
        self.name = name


# ================================================================================ library
class LibraryEntry(TypedDict):
    """What the library lists of a scenario (``start``: calendar month of month 0, YYYY-MM)."""

    name: str
    title: str
    material: str
    stage: str | None
    start: str | None
    horizon_months: int
    registry_ids: list[str]


@dataclass(frozen=True)
class Prepared:
    """A validated scenario, its uncertainty block, and where it came from."""

    scenario: Scenario
    uncertainty: Uncertainty
    library: str | None  # the library name, or None for a definition or a file


@dataclass
class Library:
    """The scenario library as read at ``stamp``: each file's text and parsed YAML, and a memo
    of what is derived from them (validated scenarios, the JSON the API serves)."""

    stamp: Stamp
    texts: dict[str, str]
    raws: dict[str, dict[str, Any]]
    _memo: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The library scenario names, sorted."""
        return list(self.texts)

    def check(self, name: str) -> None:
        """:class:`UnknownScenario` for a name not in the library."""
        if name not in self.texts:
            raise UnknownScenario(name, self.names)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per snapshot (errors are not kept; a race computes twice, alike)."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: T = self._memo[key]
        return found

    def prepared(self, name: str) -> Prepared:
        """Library scenario ``name`` validated (once per snapshot)."""
        self.check(name)

        def compute() -> Prepared:
            path = LIBRARY / f"{name}.yaml"
            rest, block = split_uncertainty(self.raws[name])
            scenario = checked_scenario(rest, path)
            return Prepared(scenario, parse_uncertainty(block, scenario, path), name)

        return self.memo(("prepared", name), compute)

    def entries(self) -> list[LibraryEntry]:
        """Each library scenario's entry, in name order (once per snapshot)."""
        return self.memo("entries", lambda: [_entry(self.prepared(n).scenario) for n in self.names])


def _entry(scenario: Scenario) -> LibraryEntry:
    return {
        "name": scenario.name,
        "title": scenario.title,
        "material": scenario.material,
        "stage": scenario.stage,
        "start": scenario.start,
        "horizon_months": scenario.horizon_months,
        "registry_ids": list(scenario.registry_ids),
    }


_LIBRARY_LOCK = threading.Lock()
_library: Library | None = None


def _stamp() -> Stamp:
    return tuple(
        (path.stem, info.st_mtime_ns, info.st_size)
        for path in sorted(LIBRARY.glob("*.yaml"))
        for info in (path.stat(),)
    )


def library() -> Library:
    """The library, read once per process and again when a file's mtime or size changes (a
    directory listing and one ``stat`` per file, some tens of microseconds, per call)."""
    global _library
    stamp = _stamp()
    current = _library
    if current is not None and current.stamp == stamp:
        return current
    with _LIBRARY_LOCK:
        if _library is not None and _library.stamp == stamp:
            return _library
        texts = {name: (LIBRARY / f"{name}.yaml").read_text(encoding="utf-8") for name, *_ in stamp}
        raws: dict[str, dict[str, Any]] = {}
        for name, text in texts.items():
            raw = yaml.safe_load(text)
            if not isinstance(raw, dict):
                raise InputFileError(
                    LIBRARY / f"{name}.yaml", "a scenario file must be a YAML mapping"
                )
            raws[name] = raw
        _library = Library(stamp, texts, raws)
        return _library


def library_entries() -> list[LibraryEntry]:
    """Name, title, material, stage, start, horizon and registry ids of each library scenario."""
    return copy.deepcopy(library().entries())


def library_raw(name: str) -> dict[str, Any]:
    """The parsed YAML of library scenario ``name`` (a copy)."""
    lib = library()
    lib.check(name)
    return copy.deepcopy(lib.raws[name])


def library_text(name: str) -> str:
    """The YAML text of library scenario ``name``."""
    lib = library()
    lib.check(name)
    return lib.texts[name]


# ================================================================================ preparing
def prepare(name: str | None, definition: dict[str, Any] | None) -> Prepared:
    """Validate a library name or a definition; :class:`InputFileError` names the field.

    The library is read by name only; a definition is validated like a scenario file (its
    ``uncertainty:`` block too, against the scenario's shocks).
    """
    if name is not None:
        return library().prepared(name)
    rest, block = split_uncertainty(definition)
    scenario = parse_scenario(rest, DEFINITION)
    return Prepared(scenario, parse_uncertainty(block, scenario, DEFINITION), None)


def prepare_text(text: str) -> Prepared:
    """Validate the YAML text of a scenario (the page's editor); a YAML syntax error is an
    :class:`InputFileError` without a field, naming line and column."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputFileError(DEFINITION, f"not valid YAML ({where}{problem})") from None
    return prepare(None, raw)


def load(name_or_path: str | Path) -> Prepared:
    """A scenario file, or a library scenario by name (the command line's argument)."""
    scenario, uncertainty = load_scenario_file(name_or_path)
    return Prepared(scenario, uncertainty, None)


def member_states() -> tuple[str, ...]:
    """The 27 Member States (ISO3) a stress test reports, before any baseline is read."""
    from critmat.indicators.refresh import default_importers

    return tuple(s.name for s in default_importers()[1:])


# ================================================================================ ledger stocks
class EmptyLedger(CritmatError):
    """``--stocks ledger`` for a material of which the ledger holds no stock and no target."""


def ledger_stockpiles(stocks: LedgerStocks) -> dict[str, float]:
    """The engine's stockpiles (tonnes at month 0) from ledger positions: each Member State its
    own holdings; EU27, the Union as one economy, everything held (EU-level and pooled holdings
    plus the Member States')."""
    members = {k: v for k, v in stocks.stock_t.items() if k != "EU27"}
    return {**members, "EU27": stocks.stock_t.get("EU27", 0.0) + sum(members.values())}


def with_ledger_stocks(
    prepared: Prepared, viewer: Any, *, database_url: str | None = None
) -> tuple[Prepared, LedgerStocks]:
    """``prepared`` with its stockpiles replaced by the ledger's positions of its material as
    ``viewer`` (a :class:`critmat.services.stockpiles.StockViewer`; None: the local CLI user,
    who sees everything) may see them. :class:`EmptyLedger` when the ledger holds neither
    stock nor a target of the material."""
    from critmat.services import stockpiles

    scenario = prepared.scenario
    found = stockpiles.stress_positions(scenario.material, viewer, database_url=database_url)
    if not found.stock_t and not found.target_t:
        raise EmptyLedger(
            f"the stockpile ledger holds no stock and no target of {scenario.material} "
            f"(as of {found.as_of.isoformat()})",
            hint="book holdings with `critmat stockpile book purchase ...` or set a target "
            "with `critmat stockpile targets set ...`; or run with the scenario's own "
            "stockpiles (leave out --stocks ledger / stocks: ledger)",
        )
    notes = [*found.notes, f"stock and targets from the stockpile ledger as of {found.as_of}"]
    pooled = found.stock_t.get("EU27", 0.0)
    if pooled > 0:
        notes.append(
            f"{pooled:,.1f} t held at EU level or pooled count in EU27 only, not in any "
            "Member State's stock"
        )
    if scenario.responses.stockpiles:
        notes.append("the scenario's own stockpiles are replaced by the ledger's")
    stocks = LedgerStocks(
        found.material, dict(found.stock_t), dict(found.target_t), found.as_of, tuple(notes)
    )
    responses = scenario.responses.model_copy(update={"stockpiles": ledger_stockpiles(stocks)})
    spec = scenario.model_copy(update={"responses": responses})
    return replace(prepared, scenario=spec), stocks


# ================================================================================ computing
def _baseline_bytes(found: Baseline) -> int:
    arrays = (found.flows, found.demand, found.other_exports, found.world_output)
    return sum(a.nbytes for a in arrays) + 4096


def baseline(store: Store, scenario: Scenario, context: ServiceContext | None = None) -> Baseline:
    """The scenario's baseline; with ``context``, remembered per material, stage, baseline spec
    (years, HS codes, demand overrides) and current releases."""
    if context is None:
        return build_baseline(store.con, scenario)
    params = (scenario.material, scenario.stage, scenario.baseline.model_dump_json())
    # The size is only known after the build; the estimate bounds the count of such entries.
    return context.remember(
        "stress.baseline", params, lambda: build_baseline(store.con, scenario), size=96 * 1024
    )


def run(prepared: Prepared, found: Baseline) -> Result:
    """One run of the prepared scenario on its baseline (:func:`critmat.scenarios.engine.run`)."""
    return run_engine(prepared.scenario, found)


def with_parameters(prepared: Prepared, texts: Sequence[str]) -> Prepared:
    """``prepared`` with uncertain parameters given as ``KEY=KIND:a,b,...`` (the command line's
    ``--param``), each replacing the scenario's entry for its key."""
    scenario = prepared.scenario
    extra = Uncertainty(tuple(parse_cli_parameter(text, scenario) for text in texts))
    return replace(prepared, uncertainty=prepared.uncertainty.merged(extra))


def require_uncertainty(prepared: Prepared, hint: str = NO_UNCERTAINTY_HINT) -> None:
    """A :class:`~critmat.errors.CritmatError` when the scenario declares no uncertain
    parameter (``hint``: how to declare one)."""
    if not prepared.uncertainty.parameters:
        raise CritmatError(
            f"scenario '{prepared.scenario.name}' declares no uncertain parameter", hint=hint
        )


def montecarlo(
    prepared: Prepared,
    found: Baseline,
    runs: int,
    seed: int,
    *,
    scheduler: str | None = None,
    workers: int | None = 1,
    progress: Callable[[int], None] | None = None,
    max_runs: int | None = MAX_RUNS,
    hint: str = NO_UNCERTAINTY_HINT,
) -> MonteCarloResult:
    """Monte Carlo over the prepared uncertainty block: by default in this process (never a
    pool or Dask from the service) and at most :data:`MAX_RUNS` runs; the command line passes
    its scheduler, workers and ``max_runs=None``. ``hint`` says how to declare a parameter."""
    if max_runs is not None and not 1 <= runs <= max_runs:
        raise CritmatError(f"runs must be between 1 and {max_runs:,}")
    require_uncertainty(prepared, hint)
    return run_montecarlo(
        prepared.scenario,
        found,
        prepared.uncertainty,
        runs,
        seed,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )


@dataclass(frozen=True)
class MonteCarloOutcome:
    """The Monte Carlo of a run, if one was asked and possible, else why not (``note``)."""

    result: MonteCarloResult | None
    note: str | None


def montecarlo_if_uncertain(
    prepared: Prepared, found: Baseline, runs: int, seed: int
) -> MonteCarloOutcome:
    """The bounded Monte Carlo when ``runs`` > 0 and the scenario declares uncertain
    parameters; otherwise no result and a note saying why (the page shows it)."""
    if runs <= 0:
        return MonteCarloOutcome(None, "Monte Carlo not run (runs = 0).")
    if not prepared.uncertainty.parameters:
        return MonteCarloOutcome(
            None, "Monte Carlo not run: the scenario has no `uncertainty:` block."
        )
    return MonteCarloOutcome(montecarlo(prepared, found, runs, seed), None)


def backtest(store: Store, licensing_delay: int) -> BacktestResult:
    """Predicted against observed change in EU imports from each restricting country of the
    registry (``licensing_delay``: months without exports assumed for a licensing regime)."""
    return backtest_registry(store.con, licensing_delay)


def backtest_answer(
    store: Store, licensing_delay: int, context: ServiceContext | None = None
) -> BacktestAnswer:
    """The backtest with its summary and the trade releases each case read (series, release
    id, version, years); with ``context``, remembered per delay and current releases."""

    def compute() -> BacktestAnswer:
        result = backtest(store, licensing_delay)
        return backtest_answer_of(result, _backtest_releases(store, result))

    if context is None:
        return compute()
    # the case file is part of the question: an edited file is a new answer
    params = (licensing_delay, CASES.stat().st_mtime_ns, CASES.stat().st_size)
    return context.remember("stress.backtest", params, compute)


def _backtest_releases(store: Store, result: BacktestResult) -> list[dict[str, Any]]:
    """The current trade release of every series the backtest rows read, with the years read."""
    years: dict[str, set[int]] = {}
    for row in result.rows.to_dict("records"):
        for side in ("before", "after"):
            series = row[f"{side}_series"]
            if isinstance(series, str):
                years.setdefault(series, set()).add(int(row[side]))
    found: list[dict[str, Any]] = []
    for series in sorted(years):
        release = store.current_release("trade", series)
        if release is not None:
            entry = Provenance.of_release(release, tuple(sorted(years[series]))).as_dict()
            found.append({"series": series, "release_id": release.release_id, **entry})
    return found
