"""Checks a :class:`CanonicalBatch` must pass before the store accepts it.

The importers already report problems with file, row and field; these checks are the store's
own guard, so that no importer (present or future) can put a malformed table in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd

from critmat.errors import CritmatError
from critmat.sources.base import (
    CANONICAL_COLUMNS,
    COUNTRY_COLUMNS,
    KEY_COLUMNS,
    VOCABULARIES,
    CanonicalBatch,
)


class BatchError(CritmatError):
    """A batch that does not match its canonical table."""


def validate_batch(batch: CanonicalBatch) -> pd.DataFrame:
    """Return the batch's table with canonical columns and dtypes, or raise :class:`BatchError`."""
    spec = CANONICAL_COLUMNS.get(batch.dataset)
    if spec is None:
        raise BatchError(f"unknown dataset kind '{batch.dataset}'")
    where = f"{batch.source} {batch.version} ({batch.origin})"
    if not batch.series.strip():
        raise BatchError(f"{where}: empty series name")
    missing = [c for c in spec if c not in batch.table.columns]
    if missing:
        raise BatchError(f"{where}: {batch.dataset} table lacks columns {missing}")
    if len(batch.table) == 0:
        raise BatchError(f"{where}: no rows")
    table = batch.table.loc[:, list(spec)].copy()
    for column, kind in spec.items():
        table[column] = _coerce(table[column], kind, where, column)
    for column in KEY_COLUMNS[batch.dataset]:
        if table[column].isna().any():
            raise BatchError(f"{where}: empty values in key column '{column}'")
    for column in COUNTRY_COLUMNS[batch.dataset]:
        bad = ~table[column].str.fullmatch(r"[A-Z][A-Z0-9]{2}")
        if bad.any():
            raise BatchError(
                f"{where}: column '{column}' holds codes that are not ISO3-like, "
                f"e.g. {table.loc[bad, column].iloc[0]!r}"
            )
    for column, allowed in VOCABULARIES.get(batch.dataset, {}).items():
        outside = ~table[column].isin(allowed)
        if outside.any():
            raise BatchError(
                f"{where}: column '{column}' holds {table.loc[outside, column].iloc[0]!r}, "
                f"not one of {', '.join(allowed)}"
            )
    if batch.dataset == "trade":
        bad_hs = ~table["hs6"].str.fullmatch(r"\d{6}")
        if bad_hs.any():
            raise BatchError(
                f"{where}: hs6 code {table.loc[bad_hs, 'hs6'].iloc[0]!r} is not 6 digits"
            )
    if not table["year"].between(1900, 2100).all():
        raise BatchError(f"{where}: years outside 1900..2100")
    _check_unique(table, KEY_COLUMNS[batch.dataset], where)
    return table


def _coerce(series: pd.Series, kind: str, where: str, column: str) -> pd.Series:
    try:
        if kind == "VARCHAR":
            return series.astype("string").astype(object).where(series.notna(), None)
        if kind == "INTEGER":
            return series.astype("int64")
        if kind == "DOUBLE":
            import pandas as pd

            return pd.to_numeric(series, errors="raise").astype("float64")
        if kind == "BOOLEAN":
            return series.astype(bool)
    except (TypeError, ValueError) as exc:
        raise BatchError(f"{where}: column '{column}' is not {kind}: {exc}") from exc
    raise BatchError(f"{where}: unsupported column kind {kind}")


def _check_unique(table: pd.DataFrame, keys: tuple[str, ...], where: str) -> None:
    key_list = ", ".join(f'"{k}"' for k in keys)
    con = duckdb.connect()
    try:
        con.register("t", table)
        rows = con.execute(
            f"SELECT {key_list}, count(*) AS n FROM t GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        row = rows[0] if rows else None
    finally:
        con.close()
    if row is not None:
        described = ", ".join(f"{k}={v}" for k, v in zip(keys, row[:-1], strict=True))
        raise BatchError(f"{where}: duplicate rows for {described} ({row[-1]} rows)")


__all__ = ["BatchError", "validate_batch"]
