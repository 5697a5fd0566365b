"""Parameter and field types shared by the API routes.

Ids, limits and timestamps are declared once here so that every route has the same bounds in
its OpenAPI schema and the same answer to a value out of range (422, before any database
query), whatever the database behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

#: The largest id the platform database can hold: its id columns are 32-bit ``INTEGER`` on
#: PostgreSQL (SQLite would take more, PostgreSQL would fail with an overflow).
DB_INT_MAX = 2**31 - 1
#: Most rows a list route returns at once.
MAX_LIMIT = 1000

#: ``pattern`` of text the platform database stores: no NUL character (PostgreSQL refuses it
#: in a text column; the API answers 422 instead of failing on the write).
NO_NUL = r"^[^\x00]*$"

_ID_TEXT = f"Database id: an integer from 1 to {DB_INT_MAX}."

#: A database id in a path (token, organisation, user, assessment).
DbId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description=_ID_TEXT)]
#: A database id in a request body.
DbIdField = Annotated[int, Field(ge=1, le=DB_INT_MAX, description=_ID_TEXT)]
#: ``limit`` of a list route: how many rows at most (newest first).
Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"How many rows at most (1 to {MAX_LIMIT}).")
]


def as_utc(value: datetime) -> datetime:
    """``value`` with its zone: naive datetimes from the database are UTC (the platform writes
    UTC only), aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


#: A timestamp in a response: RFC 3339 with the zone, e.g. ``2026-12-01T20:00:00Z``.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
