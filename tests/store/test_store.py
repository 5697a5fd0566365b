"""The store's release bookkeeping: atomic swaps, idempotent imports, killed imports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from critmat.errors import StoreError
from critmat.sources.base import DEFAULT_SERIES, CanonicalBatch
from critmat.store import open_store
from critmat.store.analytics import SCHEMA_VERSION
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


# -- series ------------------------------------------------------------------------------------
HS17 = _trade([(2024, "CHN", "DEU", "811292", 3.0, 0.5)])


def _series_batch(frame: pd.DataFrame, sha: str, series: str) -> CanonicalBatch:
    return CanonicalBatch(
        "trade", "baci", series, "Etalab 2.0", "hand-made", sha, frame, [], series
    )


def test_a_batch_without_a_series_belongs_to_the_default_series():
    assert _batch(OLD, "aaa").series == DEFAULT_SERIES["trade"] == "HS92"


def test_series_sit_side_by_side_and_an_import_replaces_only_its_own(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_batch(OLD, "aaa")])
        store.apply([_series_batch(HS17, "h17", "HS17")])
        # the plain name is the default series, exactly the rows imported into it
        assert store.row_count("trade") == 2
        assert store.query("SELECT DISTINCT hs6 FROM trade")["hs6"].tolist() == ["282200"]
        every = store.query("SELECT series, count(*) AS n FROM trade_all GROUP BY 1 ORDER BY 1")
        assert every.values.tolist() == [["HS17", 1], ["HS92", 2]]
        # a new HS92 release leaves HS17 alone
        store.apply([_batch(NEW, "bbb")])
        assert store.row_count("trade", "HS17") == 1
        assert store.row_count("trade") == 1
        current = {
            (r.series, r.sha256) for r in store.releases(current_only=True, every_series=True)
        }
        assert current == {("HS17", "h17"), ("HS92", "bbb")}
        # the releases of the default series only, as before series existed
        assert [r.sha256 for r in store.releases()] == ["bbb", "aaa"]
        # the default series first
        assert [r.series for r in store.current_releases("trade")] == ["HS92", "HS17"]
        every = store.releases(every_series=True)
        assert [(r.series, r.sha256) for r in every] == [
            ("HS92", "bbb"),
            ("HS92", "aaa"),
            ("HS17", "h17"),
        ]
        hs17 = store.require_release("trade", "HS17")
        assert store.release_key() == tuple(
            sorted((hs17.release_id, store.require_release("trade").release_id))
        )


def test_the_same_file_again_is_unchanged_per_series(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_batch(OLD, "same")])
        # the same sha256 in another series is a new release of that series
        result = store.apply([_series_batch(HS17, "same", "HS17")])
        assert [r.status for r in result] == ["imported"]
        again = store.apply([_series_batch(HS17, "same", "HS17")])
        assert [r.status for r in again] == ["unchanged"]
        assert len(store.releases(every_series=True)) == 2


def test_two_batches_of_one_series_in_one_import_are_refused(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(BatchError, match="two batches for trade series 'HS17'"):
            store.apply([_series_batch(HS17, "a", "HS17"), _series_batch(NEW, "b", "HS17")])
        assert store.releases(every_series=True) == []


def _stage_rows(**change: object) -> pd.DataFrame:
    row = {
        "commodity": "Gallium",
        "stage": "refinery",
        "detail": "Production, refinery: Primary",
        "country": "CHN",
        "year": 2024,
        "quantity_t": 750.0,
        "unit": "kilograms",
        "basis": "content",
        "estimated": False,
        "status": "reported",
        "note": "",
    }
    world = {**row, "country": "WLD", "quantity_t": 760.0}
    rest = {**row, "country": "ROW", "quantity_t": float("nan"), "status": "withheld"}
    return pd.DataFrame([{**row, **change}, world, rest])


def _stage_batch(frame: pd.DataFrame, sha: str = "mcs") -> CanonicalBatch:
    return CanonicalBatch("stage_production", "usgs", "MCS 2026", "public domain", "t", sha, frame)


def test_stage_production_takes_world_and_rest_of_world_aggregates(tmp_path: Path):
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_stage_batch(_stage_rows())])
        found = store.query(
            "SELECT country, quantity_t, status FROM stage_production ORDER BY country"
        )
        assert found["country"].tolist() == ["CHN", "ROW", "WLD"]
        # withheld stays missing, never 0
        assert found["quantity_t"].isna().tolist() == [False, True, False]
        assert store.current_release("stage_production").series == "USGS MCS 2026"
        # the plain release list stays that of production, trade and governance
        assert store.releases() == []
        assert [r.dataset for r in store.releases(every_series=True)] == ["stage_production"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stage": "refining"}, "column 'stage' holds 'refining'"),
        ({"basis": "metal"}, "column 'basis'"),
        ({"status": "W"}, "column 'status'"),
        ({"country": "World"}, "not ISO3-like"),
    ],
)
def test_stage_production_refuses_words_outside_its_vocabulary(tmp_path, change, message):
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_stage_batch(_stage_rows())])
        with pytest.raises(BatchError, match=message):
            store.apply([_stage_batch(_stage_rows(**change), "bad")])
        assert store.row_count("stage_production") == 3
        assert [r.sha256 for r in store.releases(every_series=True)] == ["mcs"]


def test_aggregates_are_refused_outside_stage_production(tmp_path: Path):
    from critmat.errors import InputFileError
    from critmat.sources._common import finalize

    frame = OLD.assign(exporter=["WLD", "CHN"])
    with pytest.raises(InputFileError, match="unknown country code 'WLD'"):
        finalize("trade", frame, "t.csv")
    finalize("stage_production", _stage_rows(), "t.csv")  # no error


# -- schema 1 (a store written before series existed) ------------------------------------------
_SCHEMA1_DDL = [
    """CREATE TABLE releases (release_id INTEGER PRIMARY KEY, dataset VARCHAR NOT NULL,
       source VARCHAR NOT NULL, version VARCHAR NOT NULL, licence VARCHAR NOT NULL,
       origin VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, retrieved_at TIMESTAMP,
       imported_at TIMESTAMP NOT NULL, row_count BIGINT NOT NULL, year_min INTEGER,
       year_max INTEGER, is_current BOOLEAN NOT NULL, notes VARCHAR NOT NULL)""",
    """CREATE TABLE production (commodity VARCHAR, country VARCHAR, year INTEGER,
       quantity DOUBLE, unit VARCHAR, estimated BOOLEAN)""",
    """CREATE TABLE trade (year INTEGER, exporter VARCHAR, importer VARCHAR, hs6 VARCHAR,
       value_kusd DOUBLE, quantity_t DOUBLE)""",
    """CREATE TABLE governance (country VARCHAR, year INTEGER, indicator VARCHAR,
       estimate DOUBLE, stderr DOUBLE, sources DOUBLE, percentile DOUBLE, lower DOUBLE,
       upper DOUBLE)""",
    "CREATE TABLE store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "INSERT INTO store_meta VALUES ('schema_version', '1')",
    "INSERT INTO trade VALUES (2020, 'CHN', 'DEU', '282200', 10.0, 1.0), "
    "(2021, 'COD', 'BEL', '282200', 5.0, NULL)",
    "INSERT INTO production VALUES ('Cobalt', 'COD', 2022, 1.0, 'metr. t', false)",
    "INSERT INTO releases VALUES (1, 'trade', 'baci', 'HS92 V1', 'x', 'o', 'aaa', NULL, "
    "TIMESTAMP '2025-01-01', 2, 2020, 2021, true, '[\"a note\"]'), "
    "(2, 'production', 'wmd', 'v', 'x', 'o', 'ppp', NULL, TIMESTAMP '2025-01-01', 1, 2022, "
    "2022, true, '[]')",
]


def _schema1_store(path: Path, *extra: str) -> Path:
    con = duckdb.connect(str(path))
    for statement in [*_SCHEMA1_DDL, *extra]:
        con.execute(statement)
    con.close()
    return path


@pytest.mark.parametrize("read_only", [False, True])
def test_a_schema1_store_is_migrated_on_open_with_every_row(tmp_path: Path, read_only: bool):
    path = _schema1_store(tmp_path / "old.duckdb")
    with open_store(path, read_only=read_only) as store:
        assert store.query("SELECT * FROM trade ORDER BY year")["year"].tolist() == [2020, 2021]
        assert store.row_count("production") == 1
        releases = store.releases(every_series=True)
        assert {(r.dataset, r.series, r.sha256) for r in releases} == {
            ("trade", "HS92", "aaa"),
            ("production", "WMD", "ppp"),
        }
        assert store.current_release("trade").notes == ("a note",)
        version = store.query("SELECT value FROM store_meta WHERE key = 'schema_version'")
        assert version["value"].tolist() == [str(SCHEMA_VERSION)]
    # and it keeps working as a store of the current schema: a new series beside the old rows
    with open_store(path) as store:
        store.apply([_series_batch(HS17, "h17", "HS17")])
        assert store.row_count("trade") == 2
        assert store.release_key() == (1, 2, 3)


def test_a_failed_migration_leaves_the_old_store_as_it_was(tmp_path: Path):
    # a schema-1 table whose rows cannot move (a text year): the copy fails mid-way
    path = _schema1_store(
        tmp_path / "old.duckdb",
        "ALTER TABLE governance ALTER year TYPE VARCHAR",
        "INSERT INTO governance VALUES ('DEU', 'not a year', 'PV', 1, 0, 1, 50, 40, 60)",
    )
    with pytest.raises(StoreError, match="migration was undone"):
        open_store(path)
    con = duckdb.connect(str(path), read_only=True)
    tables = dict(
        con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall()
    )
    assert tables["trade"] == "BASE TABLE" and "trade_all" not in tables
    assert con.execute("SELECT count(*) FROM trade").fetchall() == [(2,)]
    assert con.execute("SELECT value FROM store_meta").fetchall() == [("1",)]
    con.close()


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema 99, newer"):
        open_store(path)


def test_the_service_hub_migrates_a_schema1_store_before_its_first_read(tmp_path: Path):
    """`critmat serve` on a store written by the previous version (no `data ensure` first)."""
    from critmat.server.storehub import StoreHub

    hub = StoreHub(_schema1_store(tmp_path / "old.duckdb"))
    try:
        store = hub.store()
        assert store.row_count("trade") == 2
        version = store.query("SELECT value FROM store_meta WHERE key = 'schema_version'")
        assert version["value"].iloc[0] == str(SCHEMA_VERSION)
    finally:
        hub.close()
