"""Public statistics (every logged-in user): materials, production, dependency, trends."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["statistics"])
