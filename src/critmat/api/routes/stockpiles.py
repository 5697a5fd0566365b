"""Strategic stockpiles over the API: the holdings ledger (docs/stockpiles.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/stockpiles", tags=["stockpiles"])
