"""The BACI Parquet extract layout: the shipped HS17 2024 extract, recomputed another way, and
hand-made files for each trap."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from critmat import sources
from critmat.errors import InputFileError
from critmat.reference.countries import group_members
from critmat.sources.baci import read_baci
from critmat.sources.base import file_sha256
from critmat.store import open_store
from tests.sources.sources_helpers import assert_canonical

SHIPPED = Path(sources.__file__).parent / "shipped" / "baci-hs17-v202601-2024-extract.parquet"
#: sha256 of the file in the public snapshot it was taken from (shared/data/README.md).
SNAPSHOT_SHA256 = "60f07aa646a450a5288ce83a8eafcc51009fb9a31c3240140f0f43e6294ffe97"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The shipped file read by pandas alone, as published (no critmat code)."""
    return pd.read_parquet(SHIPPED)


def test_shipped_file_is_the_snapshot_byte_for_byte() -> None:
    assert file_sha256(SHIPPED) == SNAPSHOT_SHA256


def test_shipped_extract_becomes_the_hs17_series(raw: pd.DataFrame) -> None:
    batch = read_baci(SHIPPED)
    assert_canonical(batch)
    assert batch.series == "HS17" and batch.version == "HS17 V202601 extract"
    assert batch.sha256 == SNAPSHOT_SHA256
    table = batch.table
    assert len(table) == len(raw) == 21_723
    assert set(table.year) == {2024}
    # missing quantities stay missing: the same rows as in the file, none turned into 0
    assert int(table.quantity_t.isna().sum()) == int(raw.qty_t.isna().sum()) == 1_030
    assert table.quantity_t.dropna().gt(0).all()
    assert "S19" not in set(table.exporter) | set(table.importer)
    assert any("S19 -> TWN" in note for note in batch.notes)
    assert any(n.startswith("HS 811292 (HS17) holds gallium, germanium") for n in batch.notes)


def test_totals_per_code_and_exporter_match_the_file(raw: pd.DataFrame) -> None:
    table = read_baci(SHIPPED).table
    expected = raw.assign(exporter=raw.exporter.replace({"S19": "TWN"}))
    for keys in (["hs6"], ["hs6", "exporter"]):
        ours = table.groupby(keys).value_kusd.sum()
        theirs = expected.groupby(keys).value_kusd.sum()
        pd.testing.assert_series_equal(ours, theirs, check_names=False)
    tonnes = table.groupby("hs6").quantity_t.sum(min_count=1)
    pd.testing.assert_series_equal(
        tonnes, expected.groupby("hs6").qty_t.sum(min_count=1), check_names=False
    )


def _extra_eu_imports(frame: pd.DataFrame, hs6: str) -> tuple[float, float]:
    eu = group_members("EU27")
    rows = frame[(frame.hs6 == hs6) & frame.importer.isin(eu) & ~frame.exporter.isin(eu)]
    return float(rows.value_kusd.sum()), float(rows.qty_t.sum())


#: EU27 extra-EU imports in 2024 from the extract (kUSD, t), as quoted in docs/data-sources.md.
DOCUMENTED = {
    "850511": (1_215_556.9, 39_296.9),
    "810411": (163_310.5, 47_284.8),
    "280469": (797_436.7, 337_999.7),
    "811292": (130_476.9, 633.6),
}


def test_extra_eu_imports_from_the_store_match_pandas_and_the_docs(
    tmp_path: Path, raw: pd.DataFrame
) -> None:
    eu = sorted(group_members("EU27"))
    marks = ", ".join("?" for _ in eu)
    with open_store(tmp_path / "store.duckdb") as store:
        store.apply([read_baci(SHIPPED)])
        for hs6, (value, tonnes) in DOCUMENTED.items():
            got = store.query(
                "SELECT sum(value_kusd) AS v, sum(quantity_t) AS q FROM trade_all "
                f"WHERE series = 'HS17' AND hs6 = ? AND importer IN ({marks}) "
                f"AND exporter NOT IN ({marks})",
                [hs6, *eu, *eu],
            ).iloc[0]
            by_pandas = _extra_eu_imports(raw, hs6)
            assert got.v == pytest.approx(by_pandas[0], rel=1e-12)
            assert got.q == pytest.approx(by_pandas[1], rel=1e-12)
            assert (round(got.v, 1), round(got.q, 1)) == (value, tonnes)
        # the HS17 series sits beside the HS92 one: the plain `trade` view is untouched
        assert store.query("SELECT count(*) AS n FROM trade").n.iloc[0] == 0


def test_china_share_of_eu_magnesium_imports(raw: pd.DataFrame) -> None:
    """Eurostat (2025) puts the main partner of EU magnesium imports above 70 %; the EU's
    COM(2023)160 cites 97 % from China. The extract gives China 80 % of the value of extra-EU
    imports of unwrought magnesium (810411) in 2024 and 88 % of the tonnes."""
    eu = group_members("EU27")
    rows = raw[(raw.hs6 == "810411") & raw.importer.isin(eu) & ~raw.exporter.isin(eu)]
    china = rows[rows.exporter == "CHN"]
    assert china.value_kusd.sum() / rows.value_kusd.sum() == pytest.approx(0.800, abs=0.001)
    assert china.qty_t.sum() / rows.qty_t.sum() == pytest.approx(0.880, abs=0.001)


# ------------------------------------------------------------------------------ traps

GOOD = {
    "year": [2024, 2024, 2024],
    "exporter": ["CHN", "S19", "NOR"],
    "exporter_name": ["China", "Other Asia, nes", "Norway"],
    "importer": ["DEU", "FRA", "DEU"],
    "importer_name": ["Germany", "France", "Germany"],
    "hs6": ["811292", "850511", "280469"],
    "material": ["gallium+germanium", "magnets", "silicon"],
    "value_kusd": [10.0, 20.0, 30.0],
    "qty_t": [0.1, None, 12.0],
}


def _write(path: Path, **changes: list[object]) -> Path:
    pd.DataFrame({**GOOD, **changes}).to_parquet(path)
    return path


def _error(path: Path, classification: str | None = None) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_baci(path, classification=classification)
    return info.value


def test_small_extract_reads_with_the_classification_option(tmp_path: Path) -> None:
    path = _write(tmp_path / "trade_2024.parquet")
    assert _error(path).field == "classification"
    batch = read_baci(path, classification="HS17")
    assert batch.version == "HS17 unknown release extract"
    row = batch.table.set_index("hs6").loc["850511"]
    assert row.exporter == "TWN" and math.isnan(row.quantity_t)


@pytest.mark.parametrize(
    ("changes", "row", "field", "needle"),
    [
        ({"hs6": ["811292", "811291", "280469"]}, 2, "hs6", "an HS92 code"),
        ({"hs6": ["811292", "85051", "28046x"]}, 3, "hs6", "not an HS6 product code"),
        ({"value_kusd": [10.0, None, 30.0]}, 2, "value_kusd", "missing value"),
        ({"value_kusd": [10.0, 20.0, -1.0]}, 3, "value_kusd", "negative"),
        ({"value_kusd": ["10", "W", "30"]}, 2, "value_kusd", "not a number: 'W'"),
        ({"qty_t": ["0.1", "", "x"]}, 3, "qty_t", "not a number"),
        ({"exporter": ["CHN", "XXX", "NOR"]}, 2, "exporter", "unknown country code"),
        ({"year": [2024, 1850, 2024]}, 2, "year", "1900..2100"),
    ],
)
def test_bad_cell_names_file_row_and_field(
    tmp_path: Path, changes: dict[str, list[object]], row: int, field: str, needle: str
) -> None:
    path = _write(tmp_path / "baci-hs17-v202601-test.parquet", **changes)
    err = _error(path)
    assert (err.path, err.row, err.field) == (str(path), row, field)
    assert needle in err.reason


def test_duplicated_row_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "baci-hs17-v202601-test.parquet",
        hs6=["811292", "850511", "811292"],
        exporter=["CHN", "S19", "CHN"],
        importer=["DEU", "FRA", "DEU"],
    )
    err = _error(path)
    assert "duplicate row" in err.reason and "hs6='811292'" in err.reason and err.row == 1


def test_missing_column_and_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "baci-hs17-v202601-test.parquet"
    pd.DataFrame({k: v for k, v in GOOD.items() if k != "qty_t"}).to_parquet(path)
    err = _error(path)
    assert err.field == "qty_t" and "missing column" in err.reason
    path.write_bytes(b"not parquet at all")
    assert "Parquet" in _error(path).reason


def test_bad_file_after_a_good_one_leaves_the_good_release_current(tmp_path: Path) -> None:
    from critmat.config import Settings
    from critmat.pipeline import import_file

    settings = Settings(data_dir=tmp_path / "data")
    good = _write(tmp_path / "baci-hs17-v202601-good.parquet")
    import_file(settings, "baci", good)
    bad = _write(tmp_path / "baci-hs17-v202601-bad.parquet", value_kusd=["10", "W", "30"])
    with pytest.raises(InputFileError):
        import_file(settings, "baci", bad)
    with open_store(settings.store_path, read_only=True) as store:
        release = store.require_release("trade", "HS17")
        assert release.sha256 == file_sha256(good) and release.row_count == 3
        rows = store.query("SELECT hs6, value_kusd FROM trade_all WHERE series = 'HS17'")
        assert dict(zip(rows.hs6, rows.value_kusd, strict=True)) == {
            "811292": 10.0,
            "850511": 20.0,
            "280469": 30.0,
        }
