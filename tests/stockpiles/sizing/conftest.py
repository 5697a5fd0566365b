"""The API fixtures (the app on a seeded platform database, SQLite and PostgreSQL) for the
sizing route's tests."""

from tests.api.conftest import app_client, backend, seeded

__all__ = ["app_client", "backend", "seeded"]
