"""Stockpile release, answered once for the CLI, the API and the web page
(docs/stockpile-release.md): allocations of a released stock, the release triggers agreed in
advance, and a stress run that fires them.

- :func:`allocate_release` — stock and requests (Member State × sector) under a rule
  (:mod:`critmat.stockpiles.allocation`) → :class:`ReleaseAnswer`: every award with its
  explanation, the tiers, the totals per Member State and overall; inputs and decisions go to
  the audit log (``stockpile.release.allocate``).
- :func:`read_requests` — the requests CSV of the CLI and the page (columns
  :data:`REQUEST_COLUMNS`), errors naming the row and column.
- :func:`add_trigger`, :func:`list_triggers`, :func:`remove_trigger` — triggers in the
  platform database (``release_triggers``), each write audited (``stockpile.trigger.*``).
- :func:`simulate_from_stress` — run a library scenario (:mod:`critmat.services.stress`),
  evaluate the material's stored triggers on its monthly results and, for each trigger that
  fires, allocate the stock the run has left at that month to the Member States' remaining
  shortfall per sector (:func:`requests_from_stress`); audited
  (``stockpile.release.simulate``).

Quantities are tonnes of material content; consumption is tonnes a year.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from critmat.config import get_settings
from critmat.errors import CritmatError, InputFileError, UnknownNameError
from critmat.platform import audit
from critmat.platform.db import transaction
from critmat.platform.release_trigger_models import ReleaseTrigger
from critmat.reference.materials import load_catalogue
from critmat.reference.sectors import load_sector_splits
from critmat.scenarios.engine import Result
from critmat.services import stress
from critmat.services.context import ServiceContext
from critmat.stockpiles.allocation import RULE_TEXT, RULES, Allocation, Request, Rule, allocate
from critmat.stockpiles.triggers import (
    Condition,
    Firing,
    TriggerSpec,
    check_spec,
    evaluate,
    tier_of,
)
from critmat.store import Store

__all__ = [
    "MAX_REQUESTS",
    "REQUEST_COLUMNS",
    "RULES",
    "RULE_TEXT",
    "Actor",
    "ReleaseAnswer",
    "Rule",
    "StressReleaseAnswer",
    "TriggerOut",
    "add_trigger",
    "allocate_for_scenario",
    "allocate_release",
    "list_triggers",
    "read_requests",
    "remove_trigger",
    "requests_from_stress",
    "simulate_from_stress",
]

#: The most request rows one allocation takes: 27 Member States × 50 sectors × 34 materials.
MAX_REQUESTS = 27 * 50 * 34
#: Columns of a requests file (``declines`` optional: yes/no, 1/0, true/false).
REQUEST_COLUMNS = ("member_state", "sector", "requested_t", "consumption_t", "tier", "declines")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
#: The sector of a material the sector splits do not cover.
ALL_USES = "all uses"


@dataclass(frozen=True)
class Actor:
    """Who asks, for the audit log: ``cli`` or a user's e-mail, ids where there are some."""

    name: str = "cli"
    user_id: int | None = None
    organisation_id: int | None = None
    ip: str | None = None


# ================================================================================ results
class AwardOut(BaseModel):
    """One Member State × sector: requested, allocated (t, rounded down to the unit), why."""

    member_state: str
    sector: str
    tier: int
    requested_t: float
    consumption_t: float | None = Field(description="pre-crisis consumption, t/year")
    allocated_t: float
    fill_rate: float | None = Field(description="allocated / requested; None: nothing asked")
    declined_t: float
    round: int
    reason: str
    why: str


class TierOut(BaseModel):
    """One priority tier (1 served first)."""

    tier: int
    requesters: int
    stock_in_t: float
    requested_t: float
    allocated_t: float
    declined_t: float
    passed_on_t: float
    rounds: int
    level: float | None = Field(
        description="proportional: t per t of consumption; maxmin: the fill rate; "
        "equal_loss: t foregone per t of consumption; None when met in full or no stock"
    )


class MemberStateTotal(BaseModel):
    """One Member State over its sectors."""

    member_state: str
    requested_t: float
    allocated_t: float
    fill_rate: float | None


class ReleaseAnswer(BaseModel):
    """An allocation with its inputs' provenance and notes."""

    rule: str
    rule_text: str
    unit_t: float
    stock_t: float
    requested_t: float
    allocated_t: float
    unallocated_t: float
    rounding_remainder_t: float
    source: str
    awards: list[AwardOut]
    tiers: list[TierOut]
    member_states: list[MemberStateTotal]
    notes: list[str]


class TriggerOut(BaseModel):
    """A stored trigger."""

    id: int
    material: str
    condition: str
    condition_text: str
    importer: str
    threshold_pct: float | None
    months: int | None
    measure_id: str | None
    rule: str
    tiers: dict[str, int]
    agreed_by: str
    agreed_on: date
    note: str
    created_by: str
    removed: bool


class FiringOut(BaseModel):
    """One trigger evaluated on a stress run; ``allocation`` when it fired."""

    trigger: TriggerOut
    fired: bool
    month_index: int | None
    month: str | None
    why: str
    stock_available_t: float | None
    allocation: ReleaseAnswer | None


class StressReleaseAnswer(BaseModel):
    """A stress run, the material's triggers evaluated on it, and the allocations they fire."""

    scenario: str
    material: str
    months: list[str]
    source: str
    firings: list[FiringOut]
    notes: list[str]


# ================================================================================ requests
def _number(
    path: str, row: int, column: str, text: str | None, *, optional: bool = False
) -> float | None:
    raw = (text or "").strip()
    if not raw:
        if optional:
            return None
        raise InputFileError(
            path, "is empty", row=row, field=column, hint="type tonnes, e.g. 120.5"
        )
    try:
        value = float(raw.replace(",", "")) if raw.count(",") and "." in raw else float(raw)
    except ValueError:
        raise InputFileError(
            path, f"'{raw}' is not a number", row=row, field=column, hint="type tonnes, e.g. 120.5"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise InputFileError(
            path, f"{raw} is not ≥ 0", row=row, field=column, hint="type tonnes ≥ 0"
        )
    return value


def read_requests(text: str, source: str = "requests.csv") -> list[Request]:
    """The requests of a CSV text with a header row of :data:`REQUEST_COLUMNS` (any order;
    ``consumption_t`` may be empty = not known; ``declines`` and ``tier`` optional, default no
    and 1). Raises :class:`InputFileError` naming the row (header = row 1) and column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("member_state", "sector", "requested_t") if c not in header]
    if missing:
        raise InputFileError(
            source,
            f"missing column(s) {', '.join(missing)}",
            row=1,
            hint="the header is member_state,sector,requested_t,consumption_t,tier,declines",
        )
    requests: list[Request] = []
    for row_no, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "") for k, v in raw.items()}
        if len(requests) >= MAX_REQUESTS:
            raise InputFileError(source, f"more than {MAX_REQUESTS:,} requests", row=row_no)
        member_state = row.get("member_state", "").strip().upper()
        sector = row.get("sector", "").strip()
        if not member_state or not sector:
            field = "member_state" if not member_state else "sector"
            raise InputFileError(source, "is empty", row=row_no, field=field)
        tier_text = row.get("tier", "").strip() or "1"
        if not tier_text.isdigit() or int(tier_text) < 1:
            raise InputFileError(
                source, f"'{tier_text}' is not a tier 1, 2, ...", row=row_no, field="tier"
            )
        declines = row.get("declines", "").strip().lower()
        if declines not in _YES | _NO:
            raise InputFileError(
                source, f"'{declines}' is not yes or no", row=row_no, field="declines"
            )
        requested = _number(source, row_no, "requested_t", row.get("requested_t"))
        assert requested is not None
        requests.append(
            Request(
                member_state=member_state,
                sector=sector,
                requested_t=requested,
                consumption_t=_number(
                    source, row_no, "consumption_t", row.get("consumption_t"), optional=True
                ),
                tier=int(tier_text),
                declines=declines in _YES,
            )
        )
    if not requests:
        raise InputFileError(
            source, "has no request rows", hint="add one row per Member State and sector"
        )
    return requests


def check_rule(rule: str) -> Rule:
    """``rule`` as a :data:`Rule`; a :class:`CritmatError` naming the rules otherwise."""
    if rule not in RULES:
        raise CritmatError(f"unknown rule '{rule}'", f"use one of: {', '.join(RULES)}")
    return rule  # type: ignore[return-value]


# ================================================================================ allocation
def _answer(result: Allocation, source: str, notes: list[str]) -> ReleaseAnswer:
    by_ms: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for a in result.awards:
        by_ms[a.member_state][0] += a.requested_t
        by_ms[a.member_state][1] += a.allocated_t
    totals = [
        MemberStateTotal(
            member_state=ms,
            requested_t=round(req, 6),
            allocated_t=round(got, 6),
            fill_rate=(got / req) if req > 0 else None,
        )
        for ms, (req, got) in sorted(by_ms.items(), key=lambda kv: -kv[1][1])
    ]
    all_notes = list(notes)
    if result.rounding_remainder_t > 0:
        all_notes.append(
            f"{result.rounding_remainder_t:,.3f} t not allocated: partial shares are rounded down "
            f"to {result.unit_t * 1000:g} kg, so none exceeds the stock or a request"
        )
    if result.unallocated_t > 0:
        all_notes.append(
            f"{result.unallocated_t:,.3f} t left in stock: every request is met or declined"
        )
    return ReleaseAnswer(
        rule=result.rule,
        rule_text=result.rule_text,
        unit_t=result.unit_t,
        stock_t=result.stock_t,
        requested_t=result.requested_t,
        allocated_t=result.allocated_t,
        unallocated_t=result.unallocated_t,
        rounding_remainder_t=result.rounding_remainder_t,
        source=source,
        awards=[AwardOut(**a.__dict__) for a in result.awards],
        tiers=[TierOut(**t.__dict__) for t in result.tiers],
        member_states=totals,
        notes=all_notes,
    )


def _digest(requests: Sequence[Request]) -> str:
    text = "\n".join(
        f"{r.member_state},{r.sector},{r.requested_t!r},{r.consumption_t!r},{r.tier},{r.declines}"
        for r in requests
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _decisions(answer: ReleaseAnswer) -> dict[str, Any]:
    return {
        "rule": answer.rule,
        "stock_t": answer.stock_t,
        "allocated_t": answer.allocated_t,
        "unallocated_t": answer.unallocated_t,
        "rounding_remainder_t": answer.rounding_remainder_t,
        "by_member_state_t": {m.member_state: m.allocated_t for m in answer.member_states},
        "tiers": [
            {"tier": t.tier, "allocated_t": t.allocated_t, "rounds": t.rounds} for t in answer.tiers
        ],
    }


def _url(database_url: str | None) -> str:
    return database_url or get_settings().platform_url


Audit = Literal["required", "best_effort", "off"]


def _audit(
    db: Session, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Add the audit entry "``actor`` did ``action`` to ``target``" to the session ``db``."""
    audit.record(
        db,
        actor.name,
        action,
        target=target,
        user_id=actor.user_id,
        organisation_id=actor.organisation_id,
        ip=actor.ip,
        details=details,
    )


def _record(
    action: str,
    target: str,
    details: dict[str, Any],
    actor: Actor,
    database_url: str | None,
    mode: Audit,
) -> str | None:
    """Write one audit entry; with ``best_effort`` a database that cannot take it gives a
    note instead of an error (the CLI without a platform database)."""
    if mode == "off":
        return "not recorded in the audit log (asked not to)"
    try:
        with transaction(_url(database_url)) as db:
            _audit(db, actor, action, target, details)
    except Exception as exc:  # any failure of the platform database
        if mode == "required":
            raise
        return (
            "not recorded in the audit log: the platform database refused it "
            f"({type(exc).__name__}); run `critmat db upgrade`"
        )
    return None


def allocate_release(
    stock_t: float,
    requests: Sequence[Request],
    rule: str,
    *,
    source: str,
    actor: Actor | None = None,
    database_url: str | None = None,
    audit_mode: Audit = "required",
) -> ReleaseAnswer:
    """Allocate ``stock_t`` tonnes to ``requests`` under ``rule`` (module docstring);
    ``source`` says where the requests come from (a file name, a stress run)."""
    chosen = check_rule(rule)
    if len(requests) > MAX_REQUESTS:
        raise CritmatError(
            f"{len(requests):,} requests: at most {MAX_REQUESTS:,} (27 × 50 × 34) in one allocation"
        )
    answer = _answer(allocate(stock_t, requests, chosen), source, [])
    details = {
        "inputs": {
            "stock_t": stock_t,
            "rule": chosen,
            "requests": len(requests),
            "requests_sha256": _digest(requests),
            "source": source,
        },
        "decisions": _decisions(answer),
    }
    note = _record(
        "stockpile.release.allocate",
        source,
        details,
        actor or Actor(),
        database_url,
        audit_mode,
    )
    if note:
        answer.notes.append(note)
    return answer


# ================================================================================ triggers
def _trigger_out(row: ReleaseTrigger) -> TriggerOut:
    spec = _spec(row)
    return TriggerOut(
        **vars(spec),
        condition_text=spec.condition_text,
        agreed_by=row.agreed_by,
        agreed_on=row.agreed_on,
        note=row.note,
        created_by=row.created_by,
        removed=row.removed_at is not None,
    )


def _spec(row: ReleaseTrigger) -> TriggerSpec:
    condition: Condition = "measure" if row.condition == "measure" else "shortfall"
    return TriggerSpec(
        material=row.material,
        condition=condition,
        rule=row.rule,
        importer=row.importer,
        threshold_pct=row.threshold_pct,
        months=row.months,
        measure_id=row.measure_id,
        tiers=dict(row.tiers or {}),
        id=row.id,
    )


def add_trigger(
    spec: TriggerSpec,
    *,
    agreed_by: str,
    agreed_on: date,
    note: str = "",
    actor: Actor | None = None,
    database_url: str | None = None,
) -> TriggerOut:
    """Store ``spec`` (material resolved to its catalogue id) as agreed by ``agreed_by`` on
    ``agreed_on``; audited as ``stockpile.trigger.add``."""
    who = actor or Actor()
    material = load_catalogue().resolve(spec.material).material.id
    importer = spec.importer.strip().upper()
    shortfall = spec.condition == "shortfall"
    spec = replace(
        spec,
        material=material,
        importer="EU27" if importer in ("EU", "EU27") else importer,
        threshold_pct=spec.threshold_pct if shortfall else None,
        months=spec.months if shortfall else None,
        measure_id=spec.measure_id if spec.condition == "measure" else None,
        tiers=dict(spec.tiers),
        id=None,
    )
    check_spec(spec, stress.member_states())
    if not agreed_by.strip():
        raise CritmatError(
            "agreed_by is empty", "say who agreed the trigger, e.g. 'Council, 2026-11-20'"
        )
    with transaction(_url(database_url)) as db:
        row = ReleaseTrigger(
            **{name: value for name, value in vars(spec).items() if name != "id"},
            agreed_by=agreed_by.strip()[:300],
            agreed_on=agreed_on,
            note=note,
            created_at=audit.utcnow(),
            created_by=who.name[:254],
        )
        db.add(row)
        db.flush()
        out = _trigger_out(row)
        _audit(
            db,
            who,
            "stockpile.trigger.add",
            f"release trigger {row.id} ({spec.material})",
            out.model_dump(mode="json"),
        )
    return out


def list_triggers(
    material: str | None = None,
    *,
    include_removed: bool = False,
    database_url: str | None = None,
) -> list[TriggerOut]:
    """Stored triggers, oldest first; of one material (any name the catalogue knows)."""
    query = select(ReleaseTrigger).order_by(ReleaseTrigger.id)
    if material is not None:
        query = query.where(
            ReleaseTrigger.material == load_catalogue().resolve(material).material.id
        )
    if not include_removed:
        query = query.where(ReleaseTrigger.removed_at.is_(None))
    with transaction(_url(database_url)) as db:
        return [_trigger_out(row) for row in db.scalars(query)]


def remove_trigger(
    trigger_id: int, *, actor: Actor | None = None, database_url: str | None = None
) -> TriggerOut:
    """Stamp trigger ``trigger_id`` as removed (kept for the record); audited as
    ``stockpile.trigger.remove``. UnknownNameError (404) for an id not stored or removed."""
    who = actor or Actor()
    with transaction(_url(database_url)) as db:
        row = db.get(ReleaseTrigger, trigger_id)
        if row is None or row.removed_at is not None:
            raise UnknownNameError("release trigger", str(trigger_id))
        row.removed_at = audit.utcnow()
        row.removed_by = who.name[:254]
        db.flush()
        out = _trigger_out(row)
        _audit(db, who, "stockpile.trigger.remove", f"release trigger {row.id} ({row.material})")
    return out


# ================================================================================ from stress
def requests_from_stress(result: Result, from_month: int, tiers: dict[str, int]) -> list[Request]:
    """One request per Member State and sector: the run's shortfall from ``from_month`` to the
    end of the horizon (t), split over sectors by the material's sector splits (pro rata; one
    sector "all uses" without splits); consumption: the baseline demand of the first 12 months
    (t/year) split the same way; tier from ``tiers``. Member States without shortfall ask
    nothing and are left out."""
    splits = [s for s in load_sector_splits() if s.material == result.baseline.material]
    shares = [(s.sector, s.share) for s in splits] or [(ALL_USES, 1.0)]
    by_sector: dict[str, float] = defaultdict(float)
    for sector, share in shares:
        by_sector[sector] += share
    requests: list[Request] = []
    months_a_year = min(12, result.demand.shape[1])
    for i, importer in enumerate(result.importers):
        if importer == "EU27":
            continue
        shortfall = float(np.nansum(result.shortfall[i, from_month:]))
        if shortfall <= 0:
            continue
        yearly = float(np.nansum(result.demand[i, :months_a_year])) * 12 / months_a_year
        for sector, share in by_sector.items():
            requests.append(
                Request(
                    member_state=importer,
                    sector=sector,
                    requested_t=shortfall * share,
                    consumption_t=yearly * share,
                    tier=tier_of(tiers, sector),
                )
            )
    return requests


def _available_stock(result: Result, month: int) -> float:
    """The EU27 stock the run holds at the start of ``month`` (t)."""
    eu = result.importers.index("EU27")
    if month > 0:
        return float(result.stock[eu, month - 1])
    initial = result.params.stockpiles
    return float(initial.get("EU27", sum(initial.values()))) if initial else 0.0


def simulate_from_stress(
    scenario: str,
    store: Store,
    *,
    context: ServiceContext | None = None,
    stock_t: float | None = None,
    actor: Actor | None = None,
    database_url: str | None = None,
    audit_mode: Audit = "required",
) -> StressReleaseAnswer:
    """Run library scenario ``scenario``, evaluate its material's stored triggers on the run
    and allocate for each one that fires (module docstring). ``stock_t`` replaces the stock
    the run has left (t) when given."""
    prepared = stress.prepare(scenario, None)
    found = stress.baseline(store, prepared.scenario, context)
    result = stress.run(prepared, found)
    material = result.baseline.material
    months = list(result.months)
    triggers = list_triggers(material, database_url=database_url)
    source = f"stress run of '{scenario}' ({material}, {months[0]}–{months[-1]})"
    notes: list[str] = []
    if not triggers:
        notes.append(
            f"no release trigger stored for {material}: "
            "add one with `critmat stockpile triggers add`"
        )
    firings: list[FiringOut] = []
    for trigger in triggers:
        spec = TriggerSpec(
            material=trigger.material,
            condition="measure" if trigger.condition == "measure" else "shortfall",
            rule=trigger.rule,
            importer=trigger.importer,
            threshold_pct=trigger.threshold_pct,
            months=trigger.months,
            measure_id=trigger.measure_id,
            tiers=trigger.tiers,
        )
        row = result.importers.index(spec.importer) if spec.importer in result.importers else None
        share = None if row is None else result.shortfall_pct[row]
        firing: Firing = evaluate(spec, months, share, prepared.scenario.registry_ids)
        allocation: ReleaseAnswer | None = None
        available: float | None = None
        if firing.fired and firing.month_index is not None:
            available = (
                stock_t if stock_t is not None else _available_stock(result, firing.month_index)
            )
            stock_note = (
                "given"
                if stock_t is not None
                else f"the run's EU27 stock at the start of {firing.month}"
            )
            if stock_t is None and available <= 0:
                notes.append(
                    f"trigger {trigger.id}: the run holds no EU27 stock in {firing.month} "
                    "(the scenario has no stockpiles); give the stock to release (--stock)"
                )
            requests = requests_from_stress(result, firing.month_index, trigger.tiers)
            if requests:
                allocation = _answer(
                    allocate(available, requests, check_rule(trigger.rule)),
                    f"{source}; trigger {trigger.id} fired in {firing.month}; stock: {stock_note}",
                    [],
                )
            else:
                notes.append(f"trigger {trigger.id} fired but no Member State has a shortfall left")
        firings.append(
            FiringOut(
                trigger=trigger,
                fired=firing.fired,
                month_index=firing.month_index,
                month=firing.month,
                why=firing.why,
                stock_available_t=available,
                allocation=allocation,
            )
        )
    answer = StressReleaseAnswer(
        scenario=scenario,
        material=material,
        months=months,
        source=source,
        firings=firings,
        notes=notes,
    )
    details = {
        "inputs": {"scenario": scenario, "stock_t": stock_t, "triggers": [t.id for t in triggers]},
        "decisions": [
            {
                "trigger": f.trigger.id,
                "fired": f.fired,
                "month": f.month,
                "stock_available_t": f.stock_available_t,
                **(_decisions(f.allocation) if f.allocation else {}),
            }
            for f in firings
        ],
    }
    note = _record(
        "stockpile.release.simulate", source, details, actor or Actor(), database_url, audit_mode
    )
    if note:
        answer.notes.append(note)
    return answer


def read_requests_file(path: str | Path) -> list[Request]:
    """:func:`read_requests` of a file (UTF-8)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputFileError(file, f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputFileError(file, "is not UTF-8 text", hint="save it as CSV UTF-8") from None
    return read_requests(text, str(file))


def allocate_for_scenario(
    scenario: str,
    store: Store,
    stock_t: float,
    rule: str,
    *,
    context: ServiceContext | None = None,
    actor: Actor | None = None,
    database_url: str | None = None,
    audit_mode: Audit = "required",
) -> ReleaseAnswer:
    """The default requests of the page: the Member States' shortfall per sector over the
    whole run of library scenario ``scenario``, their pre-crisis consumption from the run's
    baseline (the store's trade and production data), one tier; allocated like
    :func:`allocate_release`."""
    prepared = stress.prepare(scenario, None)
    result = stress.run(prepared, stress.baseline(store, prepared.scenario, context))
    requests = requests_from_stress(result, 0, {})
    source = (
        f"stress run of '{scenario}' ({result.baseline.material}, {result.months[0]}–"
        f"{result.months[-1]}): each Member State's shortfall per sector, consumption from the "
        f"baseline ({', '.join(sorted(set(result.baseline.demand_source)))})"
    )
    if not requests:
        raise CritmatError(
            f"no Member State has a shortfall in the run of '{scenario}'",
            "choose another scenario, or upload requests",
        )
    return allocate_release(
        stock_t,
        requests,
        rule,
        source=source,
        actor=actor,
        database_url=database_url,
        audit_mode=audit_mode,
    )
