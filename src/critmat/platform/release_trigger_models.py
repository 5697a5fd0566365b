"""Tables of stockpile release: triggers agreed in advance (docs/stockpile-release.md);
migration ``0006`` creates them.

A trigger is stored once and never edited: removing one stamps ``removed_at`` (and who removed
it), so what was agreed, by whom and when stays readable beside the audit log.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from critmat.platform.models import Base

__all__ = ["Base", "ReleaseTrigger"]


class ReleaseTrigger(Base):
    """A release agreed in advance for one material.

    The condition is either ``shortfall`` — the shortfall of ``importer`` (``EU27`` or a Member
    State's ISO3) is at least ``threshold_pct`` % of its demand for ``months`` consecutive
    months of a stress run — or ``measure`` — the registry measure ``measure_id`` is in force
    in the stress scenario. When it fires, ``rule`` shares the available stock with the tiers
    ``tiers`` (sector -> tier, ``"*"`` for every other sector)."""

    __tablename__ = "release_triggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material: Mapped[str] = mapped_column(String(60), index=True)
    condition: Mapped[str] = mapped_column(String(20))  # shortfall | measure
    importer: Mapped[str] = mapped_column(String(4), default="EU27")
    threshold_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    measure_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    rule: Mapped[str] = mapped_column(String(20))
    tiers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    agreed_by: Mapped[str] = mapped_column(String(300))
    agreed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(254))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
