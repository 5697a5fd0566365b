"""The platform database: organisations, users, sessions, API tokens, audit log.

SQLAlchemy 2 models with Alembic migrations; SQLite by default, PostgreSQL through
``CRITMAT_DATABASE_URL``. The analytics (public statistics) stay in the DuckDB store.
"""
