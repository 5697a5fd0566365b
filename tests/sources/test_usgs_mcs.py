"""USGS MCS importer: the real 2026 long CSV and 2023/2024 world tables against the raw files read
another way (csv/pandas), and hand-made files for every trap of the README."""

from __future__ import annotations

import csv
import gzip
import math
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from critmat.config import Settings
from critmat.errors import InputFileError
from critmat.pipeline import import_file
from critmat.sources.country_names import aggregate_code, iso3_from_name
from critmat.sources.registry import read_any
from critmat.sources.usgs_mcs import basis_of, read_place, read_usgs_mcs, stage_of
from critmat.store import open_store

SHARED = Path(__file__).parents[2].parent / "shared" / "data"
SHIPPED = Path(__file__).parents[2] / "src" / "critmat" / "sources" / "shipped"
LONG_2026 = SHIPPED / "MCS2026_Commodities_Data.csv.gz"
WORLD_2024 = SHIPPED / "usgs-mcs-2024-world.zip"
WORLD_2023 = SHIPPED / "usgs-mcs-2023-world.zip"


def _raw_long() -> pd.DataFrame:
    """The 2026 CSV as pandas reads it from the shipped gzip: all text, Windows-1252."""
    with gzip.open(LONG_2026, "rb") as handle:
        return pd.read_csv(handle, encoding="cp1252", dtype=str, keep_default_na=False)


def _raw_world(archive: Path, member: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(archive) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(member))
        text = zipped.read(name).decode("utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def _number(text: str) -> float:
    return float(text.replace(",", "").strip())


@pytest.fixture(scope="module")
def store_2026(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the three shipped USGS editions, imported through the pipeline."""
    data_dir = tmp_path_factory.mktemp("usgs")
    settings = Settings(data_dir=data_dir)
    for path in (LONG_2026, WORLD_2024, WORLD_2023):
        import_file(settings, "usgs-mcs", path)
    return settings.store_path


def _store_value(store_path: Path, sql: str, params: list[object]) -> float:
    with open_store(store_path, read_only=True) as store:
        return float(store.con.execute(sql, params).fetchall()[0][0])


# -------------------------------------------------------------- real files, another path
def test_gallium_2024_world_primary_production_and_chinas_share(store_2026: Path):
    raw = _raw_long()
    gallium = raw[(raw["Commodity"] == "Gallium") & (raw["Year"] == "2024")]
    world = gallium[gallium["Country"] == "World total"]
    china = gallium[(gallium["Country"] == "China") & gallium["Section"].str.startswith("World")]
    world_t = _number(world["Value"].iloc[0]) / 1000  # published in kilograms
    china_t = _number(china["Value"].iloc[0]) / 1000
    sql = (
        "SELECT quantity_t FROM stage_production_all WHERE series = 'USGS MCS 2026' "
        "AND commodity = 'Gallium' AND stage = 'refinery' AND year = 2024 AND country = ?"
    )
    assert _store_value(store_2026, sql, ["WLD"]) == pytest.approx(world_t)
    assert _store_value(store_2026, sql, ["CHN"]) == pytest.approx(china_t)
    assert china_t / world_t > 0.95  # China makes nearly all primary gallium


@pytest.mark.parametrize(
    ("commodity", "stage", "country"),
    [
        ("Rare Earths", "mine", "CHN"),
        ("Magnesium Metal", "smelter", "CHN"),
        ("Cobalt", "mine", "COD"),
        ("Copper", "refinery", "CHN"),
    ],
)
def test_2026_world_rows_by_country_match_the_raw_csv(store_2026, commodity, stage, country):
    raw = _raw_long()
    rows = raw[
        (raw["Commodity"] == commodity)
        & raw["Section"].str.startswith("World")
        & (raw["Statistics"] == "Production")
        & (raw["Year"] == "2024")
    ]
    factor = {"metric tons": 1.0, "thousand metric tons": 1000.0}[rows["Unit"].iloc[0]]
    stage_rows = rows[rows["Statistics_detail"].str.lower().str.contains(stage[:4])]
    name = {"CHN": "China", "COD": "Congo (Kinshasa)"}[country]
    expected = _number(stage_rows[stage_rows["Country"] == name]["Value"].iloc[0]) * factor
    found = _store_value(
        store_2026,
        "SELECT quantity_t FROM stage_production WHERE commodity = ? AND stage = ? "
        "AND country = ? AND year = 2024",
        [commodity, stage, country],
    )
    assert found == pytest.approx(expected)


def test_2026_takes_only_world_production_rows():
    raw = _raw_long()
    wanted = raw[raw["Section"].str.startswith("World") & (raw["Statistics"] == "Production")]
    volumes = wanted["Unit"].isin(["million cubic meters", "million liters"])
    batch = read_usgs_mcs(LONG_2026)
    assert len(batch.table) == int((~volumes).sum())
    assert "USA" in set(batch.table["country"])  # the U.S. as a world producer is kept
    assert any("Salient Statistics rows (not world production)" in n for n in batch.notes)
    assert batch.series == "USGS MCS 2026"


def test_withheld_stays_missing_and_the_dash_is_zero():
    table = read_usgs_mcs(LONG_2026).table
    raw = _raw_long()
    world = raw[raw["Section"].str.startswith("World") & (raw["Statistics"] == "Production")]
    withheld = table[table["status"] == "withheld"]
    assert len(withheld) == int((world["Value"] == "W").sum())
    assert withheld["quantity_t"].isna().all()
    assert (table.loc[table["status"] == "reported", "quantity_t"].notna()).all()
    zeros = world[(world["Value"] == "—") & ~world["Unit"].str.startswith("million c")]
    assert int((table["quantity_t"] == 0).sum()) >= len(zeros)


def test_2024_world_tables_match_the_raw_csv():
    batch = read_usgs_mcs(WORLD_2024)
    table = batch.table.set_index(["commodity", "country", "year", "detail"])["quantity_t"]
    gallium = {r["Country"]: r for r in _raw_world(WORLD_2024, "mcs2024-galli_world.csv")}
    assert table[("Gallium", "CHN", 2023, "Primary production")] == pytest.approx(
        _number(gallium["China"]["Prod_kg_est_2023"]) / 1000
    )
    # 'Japane': Japan, estimated; 'Other countries4': the rest of the world
    japan = batch.table.query("commodity == 'Gallium' and country == 'JPN' and year == 2022")
    assert japan["estimated"].item() is True or bool(japan["estimated"].item())
    rare = {r["Country"]: r for r in _raw_world(WORLD_2024, "mcs2024-raree_world.csv")}
    label = rare["China"]["Type"]
    assert table[("Rare Earths", "CHN", 2023, label)] == pytest.approx(
        _number(rare["China"]["Prod_t_est_2023"])
    )
    magnesium = {r["Country"]: r for r in _raw_world(WORLD_2024, "mcs2024-mgmet_world.csv")}
    assert table[("Magnesium Metal", "CHN", 2023, "Magnesium smelter production")] == (
        pytest.approx(_number(magnesium["China"]["Prod_kt_est_2023"]) * 1000)
    )
    assert batch.series == "USGS MCS 2024"
    assert set(batch.table["year"]) == {2022, 2023}


def test_capacity_and_reserves_are_not_production():
    batch = read_usgs_mcs(WORLD_2024)
    raw = _raw_world(WORLD_2024, "mcs2024-galli_world.csv")
    china = next(r for r in raw if r["Country"] == "China")
    capacity_t = _number(china["Cap_kg_2023"]) / 1000
    gallium = batch.table[batch.table["commodity"] == "Gallium"]
    assert capacity_t not in set(gallium["quantity_t"])
    assert any("capacity/reserves columns" in n for n in batch.notes)


def test_the_folder_the_zip_and_the_gzip_read_alike(tmp_path: Path):
    with zipfile.ZipFile(WORLD_2023) as zipped:
        zipped.extractall(tmp_path)
    folder = read_usgs_mcs(tmp_path / "usgs-mcs-2023-world")
    zipped_batch = read_usgs_mcs(WORLD_2023)
    pd.testing.assert_frame_equal(folder.table, zipped_batch.table)
    plain = tmp_path / "MCS2026_Commodities_Data.csv"
    plain.write_bytes(gzip.decompress(LONG_2026.read_bytes()))
    pd.testing.assert_frame_equal(read_usgs_mcs(plain).table, read_usgs_mcs(LONG_2026).table)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not on this machine")
def test_the_shipped_files_hold_the_snapshot_files_unchanged():
    plain = gzip.decompress(LONG_2026.read_bytes())
    assert plain == (SHARED / "usgs-mcs-2026" / "MCS2026_Commodities_Data.csv").read_bytes()
    for archive, folder in (
        (WORLD_2024, "usgs-mcs-2024-world"),
        (WORLD_2023, "usgs-mcs-2023-world"),
    ):
        with zipfile.ZipFile(archive) as zipped:
            members = {Path(n).name: zipped.read(n) for n in zipped.namelist()}
        originals = {p.name: p.read_bytes() for p in (SHARED / folder).iterdir()}
        assert members == originals


# ------------------------------------------------------------------ hand-made long files
LONG_HEADER = (
    "MCS chapter,Section,Commodity,Country,Statistics,Statistics_detail,Unit,Year,Value,Notes,"
    "Is critical mineral 2025,Other notes\n"
)


def _long_row(country: str, value: str, *, year: str = "2024", notes: str = "") -> str:
    return (
        f'GALLIUM,World Low-Purity Production and Production Capacity,Gallium,"{country}",'
        f'Production,Primary production,kilograms,{year},"{value}","{notes}",Yes,'
        '"(Data in kilograms of gallium content, unless otherwise specified)"\n'
    )


SALIENT = (
    "GALLIUM,Salient Statistics—United States,Gallium,United States,Import,Imports,kilograms,"
    '2024,"10,000",,Yes,\n'
)


def _write_long(path: Path, *rows: str, encoding: str = "cp1252") -> Path:
    path.write_bytes((LONG_HEADER + "".join(rows)).encode(encoding))
    return path


def _good_long(tmp_path: Path) -> Path:
    return _write_long(
        tmp_path / "MCS2099_Commodities_Data.csv",
        SALIENT,
        _long_row("China", "750,000"),
        _long_row("Japan", "3,000", notes="Estimated."),
        _long_row("Russia", "W"),
        _long_row("Korea, Republic of", "NA"),
        _long_row("Canada", "—"),
        _long_row("Other countries", "XX"),
        _long_row("World total", "760,000", notes="Estimated."),
    )


def test_a_hand_made_long_file_reads_every_mark(tmp_path: Path):
    batch = read_usgs_mcs(_good_long(tmp_path))
    rows = batch.table.set_index("country")
    assert batch.series == "USGS MCS 2099"
    assert rows.loc["CHN", "quantity_t"] == 750.0
    assert rows.loc["JPN", "estimated"] and not rows.loc["CHN", "estimated"]
    assert rows.loc["RUS", "status"] == "withheld" and math.isnan(rows.loc["RUS", "quantity_t"])
    assert rows.loc["KOR", "status"] == "not_available"
    assert rows.loc["CAN", "quantity_t"] == 0.0 and rows.loc["CAN", "status"] == "reported"
    assert rows.loc["ROW", "note"] == "not applicable (XX)"
    assert rows.loc["WLD", "quantity_t"] == 760.0
    assert set(rows["stage"]) == {"refinery"} and set(rows["basis"]) == {"content"}
    assert set(rows["unit"]) == {"kilograms"}
    assert len(rows) == 7  # the salient U.S. import row is left out


def test_a_utf16_file_is_refused(tmp_path: Path):
    path = _write_long(tmp_path / "MCS2099.csv", _long_row("China", "1"), encoding="utf-16")
    with pytest.raises(InputFileError, match="NUL bytes"):
        read_usgs_mcs(path)


def test_a_missing_column_is_named(tmp_path: Path):
    path = tmp_path / "MCS2099.csv"
    path.write_text(LONG_HEADER.replace(",Unit", ",Units") + _long_row("China", "1"))
    with pytest.raises(InputFileError, match="missing columns Unit") as caught:
        read_usgs_mcs(path)
    assert caught.value.field == "Unit" and caught.value.row == 1


def test_a_text_where_a_number_belongs_names_row_and_field(tmp_path: Path):
    path = _write_long(
        tmp_path / "MCS2099.csv", _long_row("China", "1"), _long_row("Japan", "about 3")
    )
    with pytest.raises(InputFileError, match="not a number") as caught:
        read_usgs_mcs(path)
    assert (caught.value.row, caught.value.field) == (3, "Value")


def test_a_withheld_mark_where_a_year_is_required_is_refused(tmp_path: Path):
    path = _write_long(tmp_path / "MCS2099.csv", _long_row("China", "1", year="W"))
    with pytest.raises(InputFileError, match="not a year") as caught:
        read_usgs_mcs(path)
    assert (caught.value.row, caught.value.field) == (2, "Year")


def test_a_duplicated_row_is_refused(tmp_path: Path):
    path = _write_long(tmp_path / "MCS2099.csv", _long_row("China", "1"), _long_row("China", "1"))
    with pytest.raises(InputFileError, match="duplicate row") as caught:
        read_usgs_mcs(path)
    assert caught.value.row == 2  # the first of the two


def test_the_edition_must_be_known_and_agree(tmp_path: Path):
    path = _write_long(tmp_path / "production.csv", _long_row("China", "1"))
    with pytest.raises(InputFileError, match="cannot tell the MCS edition"):
        read_usgs_mcs(path)
    assert read_usgs_mcs(path, edition="2030").series == "USGS MCS 2030"
    named = _write_long(tmp_path / "MCS2031_data.csv", _long_row("China", "1"))
    with pytest.raises(InputFileError, match="the file is MCS 2031, --edition says 2030"):
        read_usgs_mcs(named, edition=2030)


def test_a_bad_file_after_a_good_one_leaves_the_store_as_it_was(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    import_file(settings, "usgs-mcs", _good_long(tmp_path))
    bad = _write_long(tmp_path / "MCS2099_bad.csv", _long_row("China", "lots"))
    with pytest.raises(InputFileError):
        import_file(settings, "usgs-mcs", bad)
    with open_store(settings.store_path, read_only=True) as store:
        release = store.require_release("stage_production", "USGS MCS 2099")
        assert release.row_count == 7 == store.row_count("stage_production", "USGS MCS 2099")
        assert len(store.releases(every_series=True)) == 1


def test_the_cli_imports_and_reimports_unchanged(tmp_path: Path):
    from critmat.cli import app

    runner = CliRunner()
    env = {"CRITMAT_DATA_DIR": str(tmp_path / "data")}
    path = _write_long(tmp_path / "gallium.csv", _long_row("China", "750,000"))
    args = ["data", "import", "usgs-mcs", str(path), "--edition", "2099"]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.stderr
    assert "stage_production (series USGS MCS 2099): imported" in first.stdout
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 0 and "unchanged" in again.stdout
    bad = runner.invoke(app, ["data", "import", "usgs-mcs", str(path)], env=env)
    assert bad.exit_code == 2 and "--edition" in bad.stderr


# ----------------------------------------------------------------- hand-made world tables
META = """<?xml version='1.0' encoding='UTF-8'?><metadata><idinfo><citation><citeinfo>
<title>Mineral Commodity Summaries 2099 - GALLIUM Data Release</title></citeinfo></citation>
</idinfo><eainfo><detailed><enttyp><enttypl>mcs2099-galli-world.csv</enttypl></enttyp>
<attr><attrlabl>Type</attrlabl><attrdomv><edom><edomv>Primary production</edomv></edom>
</attrdomv></attr><attr><attrlabl>Prod_kg_2098</attrlabl><attrdef>Production in 2098.</attrdef>
<attrdomv><rdom><attrunit>kilograms</attrunit></rdom></attrdomv></attr></detailed></eainfo>
</metadata>
"""
WORLD = (
    "\ufeffSource,Country,Type,Prod_kg_2098,Prod_kg_est_2099,Prod_notes,Cap_kg_2099,Cap_notes,,\r\n"
    'MCS2099,China,Primary production,600000,"610,000",,1000000,,,\r\n'
    "MCS2099,Japane,Primary production,3000,3000,,10000,,,\r\n"
    'MCS2099,"Korea, Republic ofe",Primary production,2000,W,,16000,,,\r\n'
    "MCS2099,Other countries4,Primary production,0,0,,88000,estimated,,\r\n"
    "MCS2099,World total (rounded)8,Primary production,605000,615000,,1100000,,,\r\n"
    ",,,,,,,,,\r\n"
)


def _world_folder(tmp_path: Path, body: str = WORLD, *, meta: bool = True) -> Path:
    folder = tmp_path / "world"
    folder.mkdir()
    (folder / "mcs2099-galli_world.csv").write_bytes(body.encode("utf-8"))
    if meta:
        (folder / "mcs2099-galli_meta.xml").write_text(META, encoding="utf-8")
    return folder


def test_a_hand_made_world_table_reads_its_traps(tmp_path: Path):
    batch = read_usgs_mcs(_world_folder(tmp_path))
    rows = batch.table.set_index(["country", "year"])
    assert batch.series == "USGS MCS 2099"
    assert set(batch.table["commodity"]) == {"Gallium"}  # from the title of the _meta.xml
    assert rows.loc[("CHN", 2099), "quantity_t"] == 610.0  # thousands comma
    assert not rows.loc[("CHN", 2098), "estimated"] and rows.loc[("CHN", 2099), "estimated"]
    assert rows.loc[("JPN", 2098), "estimated"]  # 'Japane'
    assert rows.loc[("KOR", 2099), "status"] == "withheld"
    assert rows.loc[("WLD", 2099), "note"] == "rounded"
    assert ("ROW", 2098) in rows.index
    assert 1000.0 not in set(batch.table["quantity_t"])  # capacity is not production
    assert len(batch.table) == 10


def test_a_world_table_zip_reads_as_its_folder(tmp_path: Path):
    folder = _world_folder(tmp_path)
    archive = Path(shutil.make_archive(str(tmp_path / "world"), "zip", tmp_path, "world"))
    pd.testing.assert_frame_equal(read_usgs_mcs(folder).table, read_usgs_mcs(archive).table)


def test_a_world_table_without_its_meta_is_refused(tmp_path: Path):
    with pytest.raises(InputFileError, match=r"no _meta\.xml"):
        read_usgs_mcs(_world_folder(tmp_path, meta=False))


def test_a_world_production_column_that_does_not_parse_is_refused(tmp_path: Path):
    body = WORLD.replace("Prod_kg_est_2099", "Prod_est_kg_2099")
    with pytest.raises(InputFileError, match="'Prod_est_kg_2099'") as caught:
        read_usgs_mcs(_world_folder(tmp_path, body))
    assert caught.value.row == 1


def test_world_tables_of_two_editions_are_refused(tmp_path: Path):
    folder = _world_folder(tmp_path)
    other = WORLD.replace("MCS2099", "MCS2098")
    (folder / "mcs2098-galli_world.csv").write_text(other, encoding="utf-8")
    (folder / "mcs2098-galli_meta.xml").write_text(META, encoding="utf-8")
    with pytest.raises(InputFileError, match="several MCS editions"):
        read_usgs_mcs(folder)


# --------------------------------------------------------------------- names and labels
@pytest.mark.parametrize(
    ("name", "code", "estimated", "qualifier"),
    [
        ("Japane", "JPN", True, ""),
        ("Korea, Republic ofe", "KOR", True, ""),
        ("Ukraine", "UKR", False, ""),  # a name that ends in e is not an estimate mark
        ("Congo (Kinshasa)", "COD", False, ""),
        ("Brazil (beneficiated)", "BRA", False, "beneficiated"),
        ("Argentina, crude ore", "ARG", False, "crude ore"),
        ("United\u00a0States1", "USA", False, ""),
        ("Other countriese", "ROW", True, ""),
        ("World total (rounded), excluding United States", "WLD", False, "excluding United States"),
        ("United States and Canada", None, False, ""),
    ],
)
def test_usgs_country_cells(name, code, estimated, qualifier):
    place = read_place(name)
    assert (place.code, place.estimated, place.qualifier) == (code, estimated, qualifier)


def test_publisher_country_names():
    assert iso3_from_name("Burma") == "MMR"
    assert iso3_from_name("Korea, North") == "PRK"
    assert iso3_from_name("Côte d’Ivoire") == "CIV"
    assert iso3_from_name("World total") is None and aggregate_code("World total") == "WLD"
    assert aggregate_code("Rest of world") == "ROW" and iso3_from_name("Atlantis") is None


@pytest.mark.parametrize(
    ("label", "section", "stage"),
    [
        ("Smelter production", "World Primary Production and Reserves", "smelter"),
        ("Refinery production, copper", "", "refinery"),
        ("Plant production, silicon metal", "", "metal"),
        ("Plant production, silicon content of ferrosilicon", "", "metal"),
        ("Sponge Metal Production and Sponge and Pigment Capacity", "", "metal"),
        ("Mine poduction, Kaolin", "", "mine"),
        ("Primary production", "World Low-Purity Production and Production Capacity", "refinery"),
        ("Production", "World Mine Production and Reserves", "mine"),
        ("Plant production, lime", "", "other"),
    ],
)
def test_stages_from_labels(label, section, stage):
    assert stage_of(label, section) == stage


def test_basis_from_the_first_text_that_states_one():
    assert basis_of("Mine production, metric tons of contained cobalt") == "content"
    assert basis_of("Mine production, marketable chromite ore", "gross weight") == "gross"
    assert basis_of("Mine production, bauxite", "(Data in thousand metric dry tons)") == "unstated"


def test_the_registry_knows_the_kind(tmp_path: Path):
    (batch,) = read_any("usgs-mcs", _good_long(tmp_path))
    assert batch.dataset == "stage_production"
