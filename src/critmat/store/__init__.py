"""The analytics store: an embedded DuckDB file with the canonical tables and their releases."""

from critmat.store.analytics import ApplyResult, Release, Store, connect_read_only, open_store

__all__ = ["ApplyResult", "Release", "Store", "connect_read_only", "open_store"]
