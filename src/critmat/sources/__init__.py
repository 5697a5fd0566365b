"""Importers: one module per public dataset, each turning its files into canonical tables.

Only this package knows file formats. Every importer returns a :class:`CanonicalBatch`;
:mod:`critmat.store` validates it and swaps it in atomically.
"""

from critmat.sources.base import CANONICAL_COLUMNS, CanonicalBatch, Dataset, file_sha256

__all__ = ["CANONICAL_COLUMNS", "CanonicalBatch", "Dataset", "file_sha256"]
