"""Release triggers agreed in advance, and whether a stress run fires them
(docs/stockpile-release.md). Pure: the platform table is
:class:`critmat.platform.release_trigger_models.ReleaseTrigger`, the service
(:mod:`critmat.services.stockpile_release`) stores and reads it.

Two conditions:

- ``shortfall``: the shortfall of ``importer`` (``EU27`` or a Member State's ISO3) is at least
  ``threshold_pct`` % of its demand in ``months`` consecutive months; the trigger fires in the
  last of those months. A month without demand (shortfall % not defined) breaks the run: a
  missing figure never counts as passing a threshold.
- ``measure``: the registry measure ``measure_id`` (``reference/data/restrictions.csv``) is in
  force in the stress scenario (one of its ``registry_ids``); it fires in month 0.

When it fires, ``rule`` (:data:`critmat.stockpiles.allocation.RULES`) shares the available
stock, with the priority ``tiers``: sector -> tier (1 first), ``"*"`` for every sector not
named (default 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from critmat.stockpiles.allocation import RULES, ProblemListError

__all__ = [
    "CONDITIONS",
    "Condition",
    "Firing",
    "TriggerInputError",
    "TriggerSpec",
    "check_spec",
    "evaluate",
    "tier_of",
]

Condition = Literal["shortfall", "measure"]
CONDITIONS: tuple[Condition, ...] = get_args(Condition)
#: The tier of a sector a trigger's ``tiers`` does not name, unless it names ``"*"``.
DEFAULT_TIER = 1


class TriggerInputError(ProblemListError):
    """A trigger that cannot be stored; ``problems`` lists each as ``{"where", "problem"}``."""

    HINT = (
        "e.g. --condition shortfall --threshold-pct 20 --months 2, or --condition measure "
        "--measure CN-2023-GA-GE; --tiers defence=1,aerospace=1,*=2"
    )


@dataclass(frozen=True)
class TriggerSpec:
    """What a trigger says (module docstring); ``id`` is its row id once stored."""

    material: str
    condition: Condition
    rule: str
    importer: str = "EU27"
    threshold_pct: float | None = None
    months: int | None = None
    measure_id: str | None = None
    tiers: Mapping[str, int] = field(default_factory=dict)
    id: int | None = None

    @property
    def condition_text(self) -> str:
        if self.condition == "measure":
            return f"registry measure {self.measure_id} in force"
        return (
            f"{self.importer} shortfall ≥ {self.threshold_pct:g} % of demand for "
            f"{self.months} consecutive month{'s' if self.months != 1 else ''}"
        )


def check_spec(spec: TriggerSpec, member_states: Sequence[str]) -> None:
    """Raise :class:`TriggerInputError` listing every problem of ``spec``; ``member_states``:
    the ISO3 codes an ``importer`` may name besides ``EU27``."""
    problems: list[dict[str, str]] = []
    if spec.condition not in CONDITIONS:
        problems.append(
            {
                "where": "condition",
                "problem": f"'{spec.condition}' is not one of shortfall, measure",
            }
        )
    if spec.rule not in RULES:
        problems.append(
            {"where": "rule", "problem": f"'{spec.rule}' is not one of {', '.join(RULES)}"}
        )
    if spec.condition == "shortfall":
        pct = spec.threshold_pct
        if pct is None or not math.isfinite(pct) or not 0 < pct <= 100:
            problems.append(
                {
                    "where": "threshold_pct",
                    "problem": f"a shortfall trigger needs 0 < % ≤ 100, got {pct}",
                }
            )
        if spec.months is None or not 1 <= spec.months <= 240:
            problems.append(
                {
                    "where": "months",
                    "problem": f"needs 1 to 240 consecutive months, got {spec.months}",
                }
            )
        if spec.importer != "EU27" and spec.importer not in member_states:
            problems.append(
                {
                    "where": "importer",
                    "problem": f"'{spec.importer}' is not EU27 or a Member State's ISO3",
                }
            )
    if spec.condition == "measure" and not spec.measure_id:
        problems.append({"where": "measure_id", "problem": "a measure trigger names a registry id"})
    for sector, tier in spec.tiers.items():
        if not sector:
            problems.append({"where": "tiers", "problem": "a tier needs a sector name (or *)"})
        if isinstance(tier, bool) or not isinstance(tier, int) or tier < 1:
            problems.append(
                {"where": f"tiers.{sector}", "problem": f"tier must be 1, 2, ...; got {tier}"}
            )
    if problems:
        raise TriggerInputError(problems)


def tier_of(tiers: Mapping[str, int], sector: str) -> int:
    """The tier of ``sector``: its own entry, else ``"*"``, else :data:`DEFAULT_TIER`."""
    return int(tiers.get(sector, tiers.get("*", DEFAULT_TIER)))


@dataclass(frozen=True)
class Firing:
    """Whether a trigger fires on a run: the month index and label when it does, and why."""

    fired: bool
    month_index: int | None
    month: str | None
    why: str


def evaluate(
    spec: TriggerSpec,
    months: Sequence[str],
    shortfall_share: np.ndarray | None,
    registry_ids: Sequence[str],
) -> Firing:
    """Does ``spec`` fire on a run with month labels ``months``, the importer's monthly
    shortfall as a share of demand ``shortfall_share`` (0..1, NaN where there is no demand;
    None when the run does not report the importer) and the scenario's ``registry_ids``?"""
    if spec.condition == "measure":
        if spec.measure_id in registry_ids:
            return Firing(
                True,
                0,
                months[0] if months else None,
                f"{spec.measure_id} is in force in the scenario",
            )
        listed = ", ".join(registry_ids) or "none"
        return Firing(
            False, None, None, f"{spec.measure_id} is not among the scenario's measures ({listed})"
        )
    if shortfall_share is None:
        return Firing(False, None, None, f"the run reports no {spec.importer}")
    threshold = (spec.threshold_pct or 0.0) / 100.0
    need = spec.months or 1
    run = 0
    worst = float(np.nanmax(shortfall_share)) if np.isfinite(shortfall_share).any() else None
    for t, share in enumerate(np.asarray(shortfall_share, dtype=float)):
        run = run + 1 if math.isfinite(share) and share >= threshold - 1e-12 else 0
        if run >= need:
            return Firing(
                True,
                t,
                months[t],
                f"{spec.importer} shortfall ≥ {spec.threshold_pct:g} % in {need} consecutive "
                f"months up to {months[t]}",
            )
    peak = "no month with demand" if worst is None else f"peak {worst:.1%}"
    return Firing(
        False,
        None,
        None,
        f"{spec.importer} shortfall never ≥ {spec.threshold_pct:g} % for {need} months ({peak})",
    )
