"""The store's release bookkeeping: atomic swaps, idempotent imports, killed imports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from critmat.sources.base import CanonicalBatch
from critmat.store import open_store
from critmat.store.validate import BatchError


def _trade(rows: list[tuple[int, str, str, str, float, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["year", "exporter", "importer", "hs6", "value_kusd", "quantity_t"]
    )


def _batch(frame: pd.DataFrame, sha: str) -> CanonicalBatch:
    return CanonicalBatch("trade", "baci", "test", "Etalab 2.0", "hand-made", sha, frame)


OLD = _trade([(2020, "CHN", "DEU", "282200", 10.0, 1.0), (2021, "COD", "BEL", "282200", 5.0, None)])
NEW = _trade([(2022, "CHN", "FRA", "282200", 7.0, 2.0)])


def test_import_then_same_file_again_changes_nothing(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as store:
        first = store.apply([_batch(OLD, "aaa")])
        second = store.apply([_batch(OLD, "aaa")])
        assert [r.status for r in first] == ["imported"]
        assert [r.status for r in second] == ["unchanged"]
        assert len(store.releases()) == 1
        assert store.row_count("trade") == 2
        # the missing quantity is stored as missing, not zero
        missing = store.query("SELECT count(*) AS n FROM trade WHERE quantity_t IS NULL")
        assert missing["n"].iloc[0] == 1


def test_new_release_replaces_rows_and_keeps_history(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_batch(OLD, "aaa")])
        store.apply([_batch(NEW, "bbb")])
        assert store.row_count("trade") == 1
        releases = store.releases()
        assert [(r.sha256, r.is_current) for r in releases] == [("bbb", True), ("aaa", False)]
        current = store.current_release("trade")
        assert current is not None and (current.year_min, current.year_max) == (2022, 2022)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_trade([(2022, "CHN", "FRA", "2822", 7.0, 2.0)]), "not 6 digits"),
        (_trade([(2022, "China", "FRA", "282200", 7.0, 2.0)]), "not ISO3-like"),
        (_trade([(2022, "CHN", "FRA", "282200", 7.0, 2.0)] * 2), "duplicate rows"),
        (_trade([(1800, "CHN", "FRA", "282200", 7.0, 2.0)]), "years outside"),
        (_trade([]), "no rows"),
        (NEW.drop(columns=["value_kusd"]), "lacks columns"),
    ],
)
def test_a_bad_batch_is_refused_and_the_previous_release_stays(tmp_path, frame, message):
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_batch(OLD, "aaa")])
        with pytest.raises(BatchError, match=message):
            store.apply([_batch(frame, "bad")])
        assert store.row_count("trade") == 2
        assert [r.sha256 for r in store.releases()] == ["aaa"]


def test_several_batches_are_all_or_nothing(tmp_path: Path):
    production = pd.DataFrame(
        {
            "commodity": ["Cobalt"],
            "country": ["COD"],
            "year": [2022],
            "quantity": [1.0],
            "unit": ["metr. t"],
            "estimated": [False],
        }
    )
    good = CanonicalBatch("production", "wmd", "t", "x", "o", "p1", production)
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(BatchError):
            store.apply([good, _batch(_trade([(2022, "C", "FRA", "282200", 1.0, 1.0)]), "x")])
        assert store.releases() == []
        assert store.row_count("production") == 0


def test_a_killed_import_leaves_the_previous_release_in_use(tmp_path: Path):
    """The import process dies (SIGKILL) after replacing the rows but before COMMIT."""
    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        store.apply([_batch(OLD, "aaa")])
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        import pandas as pd
        from critmat.sources.base import CanonicalBatch
        from critmat.store import open_store

        frame = pd.DataFrame({{"year": [2022] * 50000, "exporter": ["CHN"] * 50000,
                              "importer": ["FRA"] * 50000,
                              "hs6": [f"{{i:06d}}" for i in range(50000)],
                              "value_kusd": [1.0] * 50000, "quantity_t": [1.0] * 50000}})
        batch = CanonicalBatch("trade", "baci", "big", "x", "o", "new", frame)

        def die(stage):
            if stage == "written":
                os.kill(os.getpid(), signal.SIGKILL)

        with open_store(Path({str(path)!r})) as store:
            store.apply([batch], on_stage=die)
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], check=False, env=os.environ.copy())
    assert completed.returncode == -9
    with open_store(path, read_only=False) as store:
        assert store.row_count("trade") == 2
        current = store.current_release("trade")
        assert current is not None and current.sha256 == "aaa"
