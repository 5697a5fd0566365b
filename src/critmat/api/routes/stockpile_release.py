"""Strategic stockpiles over the API: stockpile release (docs/stockpile-release.md)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/stockpiles", tags=["stockpiles"])
