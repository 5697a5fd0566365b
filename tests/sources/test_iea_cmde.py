"""IEA Critical Minerals Data Explorer importer: the shipped JSON against the raw file read with
the json module, figures the IEA published elsewhere, and hand-made files for each trap."""

from __future__ import annotations

import copy
import gzip
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import critmat.sources
from critmat.errors import InputFileError
from critmat.sources.base import CanonicalBatch
from critmat.sources.iea_cmde import read_iea_cmde
from tests.sources.sources_helpers import assert_canonical

SHIPPED = Path(critmat.sources.__file__).parent / "shipped" / "iea_critical_minerals_2024.json.gz"
COMMODITIES = {  # the file's key -> the name stored
    "Copper": "Copper",
    "Cobalt": "Cobalt",
    "Lithium": "Lithium",
    "Nickel": "Nickel",
    "Graphite": "Graphite",
    "Rare Earth Elements": "Magnet rare earth elements",
}
STAGES = {"mining": "mine", "refining": "refinery"}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    with gzip.open(SHIPPED, "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@pytest.fixture(scope="module")
def shipped() -> CanonicalBatch:
    return read_iea_cmde(SHIPPED)


def _figure(table: pd.DataFrame, commodity: str, stage: str, country: str) -> float:
    rows = table[
        (table.commodity == commodity) & (table.stage == stage) & (table.country == country)
    ]
    assert len(rows) == 1, (commodity, stage, country)
    return float(rows.quantity_t.iloc[0])


# --------------------------------------------------------------------------------------------
# the shipped file


def test_shipped_batch_shape(shipped: CanonicalBatch) -> None:
    assert_canonical(shipped)
    assert shipped.dataset == "stage_production"
    assert shipped.series == "IEA CMDE 2024"
    assert "CC BY 4.0" in shipped.licence
    t = shipped.table
    assert set(t.year) == {2024}  # the projections are not production
    assert set(t.unit) == {"kt"}
    assert set(t.status) == {"reported"}
    assert not t.estimated.any()
    assert set(t.commodity) == set(COMMODITIES.values())
    assert set(zip(t.commodity, t.basis, strict=True)) == {
        ("Copper", "content"),
        ("Cobalt", "content"),
        ("Lithium", "content"),
        ("Nickel", "content"),
        ("Graphite", "gross"),
        ("Magnet rare earth elements", "unstated"),
    }
    assert set(t.detail) == {"mining", "refining"}


def test_every_listed_country_as_in_the_raw_file(
    shipped: CanonicalBatch, raw: dict[str, Any]
) -> None:
    """Each named country's 2024 figure, read with the json module: kt x 1000 = tonnes."""
    from critmat.sources.country_names import iso3_from_name

    t = shipped.table
    compared = 0
    for key, stages in raw["supply"].items():
        for stage_key, block in stages.items():
            for name, years in block["countries"].items():
                if name == "Rest of world" or years["2024"] is None:
                    continue
                iso3 = iso3_from_name(name)
                assert iso3 is not None, name
                got = _figure(t, COMMODITIES[key], STAGES[stage_key], iso3)
                assert got == pytest.approx(years["2024"] * 1000, rel=1e-12)
                compared += 1
            world = _figure(t, COMMODITIES[key], STAGES[stage_key], "WLD")
            assert world == pytest.approx(block["total"]["2024"] * 1000, rel=1e-12)
    assert compared == 61
    # 61 countries + 12 ROW + 12 WLD
    assert len(t) == 85


def test_rest_of_world_completes_the_total(shipped: CanonicalBatch, raw: dict[str, Any]) -> None:
    """After the overlap fix every block's countries and ROW add up to its WLD row; where the
    published 'Rest of world' already did, it is stored unchanged."""
    t = shipped.table
    for (commodity, stage), rows in t.groupby(["commodity", "stage"]):
        parts = rows[rows.country != "WLD"].quantity_t.sum()
        world = rows[rows.country == "WLD"].quantity_t.iloc[0]
        assert parts == pytest.approx(world, rel=1e-9), (commodity, stage)
    key = {v: k for k, v in COMMODITIES.items()}
    for (commodity, stage), rows in t[t.country == "ROW"].groupby(["commodity", "stage"]):
        stage_key = {v: k for k, v in STAGES.items()}[stage]
        published = raw["supply"][key[commodity]][stage_key]["countries"]["Rest of world"]["2024"]
        corrected = rows.note.iloc[0] != ""
        if (commodity, stage) in {("Nickel", "mine"), ("Nickel", "refinery"), ("Graphite", "mine")}:
            assert corrected
        else:
            assert not corrected
            assert rows.quantity_t.iloc[0] == pytest.approx(published * 1000, rel=1e-12)


def test_nickel_overlap_noted(shipped: CanonicalBatch, raw: dict[str, Any]) -> None:
    """Nickel mining: the listed countries and 'Rest of world' sum to 100 kt above the stated
    total: Australia's figure, counted twice."""
    block = raw["supply"]["Nickel"]["mining"]
    listed = sum(v["2024"] for v in block["countries"].values())
    assert listed - block["total"]["2024"] == pytest.approx(100.0)
    assert block["countries"]["Australia"]["2024"] == 100.0
    t = shipped.table
    rest = t[(t.commodity == "Nickel") & (t.stage == "mine") & (t.country == "ROW")].iloc[0]
    assert rest.quantity_t == pytest.approx(529_000.0)  # 629 kt published, less Australia
    assert "629 kt includes Australia (100 kt)" in rest.note
    assert any(n.startswith("Nickel mining 2024") and "Australia" in n for n in shipped.notes)


def test_note_sentences_and_projections_are_in_the_notes(shipped: CanonicalBatch) -> None:
    notes = " | ".join(shipped.notes)
    assert "2 note sentence(s) listed as countries" in notes
    assert "projections left out" in notes and "2030, 2035, 2040" in notes
    assert "demand read and checked, not stored" in notes


def test_top_three_refining_share_matches_the_iea(shipped: CanonicalBatch) -> None:
    """IEA (Critical Minerals topic page, Global Critical Minerals Outlook 2025): for copper,
    lithium, nickel, cobalt, graphite and rare earths the average share of the top three
    refining countries was 86 % in 2024."""
    t = shipped.table
    refining = t[t.stage == "refinery"]
    shares = []
    for _, rows in refining.groupby("commodity"):
        countries = rows[~rows.country.isin(["WLD", "ROW"])].quantity_t
        world = rows[rows.country == "WLD"].quantity_t.iloc[0]
        shares.append(countries.nlargest(3).sum() / world)
    assert len(shares) == 6
    assert sum(shares) / 6 == pytest.approx(0.86, abs=0.005)


def test_china_refines_about_nine_tenths_of_magnet_rare_earths(shipped: CanonicalBatch) -> None:
    """Reported as "about 90 %" of rare-earth refining (IEA, cited in
    /work/shared/reference/eu_dependency_facts.md, secondary); the explorer's own figure."""
    t = shipped.table
    china = _figure(t, "Magnet rare earth elements", "refinery", "CHN")
    world = _figure(t, "Magnet rare earth elements", "refinery", "WLD")
    assert 0.88 < china / world < 0.93


def test_gzip_and_plain_give_one_table(tmp_path: Path) -> None:
    plain = tmp_path / "iea.json"
    plain.write_bytes(gzip.decompress(SHIPPED.read_bytes()))
    assert read_iea_cmde(plain).table.equals(read_iea_cmde(SHIPPED).table)


# --------------------------------------------------------------------------------------------
# hand-made files

SMALL: dict[str, Any] = {
    "source": "IEA Critical Minerals Data Explorer (2025), CC BY 4.0",
    "supply": {
        "Cobalt": {
            "mining": {
                "countries": {
                    "Democratic Republic of Congo": {"2024": 180.0, "2030": 200.0},
                    "Indonesia": {"2024": 30.0, "2030": 60.0},
                    "Rest of world": {"2024": 40.0, "2030": 50.0},
                    "Notes: figures are rounded.": {"2024": None, "2030": None},
                },
                "total": {"2024": 250.0, "2030": 310.0},
                "top3Share": {"2024": 1.0, "2030": 1.0},
            },
            "refining": {
                "countries": {
                    "China": {"2024": 190.0, "2030": 250.0},
                    "Finland": {"2024": None, "2030": 20.0},
                    "Rest of world": {"2024": 30.0, "2030": 40.0},
                },
                "total": {"2024": 220.0, "2030": 310.0},
            },
        }
    },
    "totalDemand": {
        "Cobalt": {
            "sectors": {
                "Electric vehicles": {"2024": 60.0, "STEPS": {"2030": 140.0}},
                "Grid battery storage": {"2024": 4.0, "STEPS": {"2030": 5.0}},
            },
            "totalClean": {"2024": 64.0, "STEPS": {"2030": 145.0}},
            "otherUses": {"2024": 150.0, "STEPS": {"2030": 160.0}},
            "totalDemand": {"2024": 214.0, "STEPS": {"2030": 305.0}},
        }
    },
}


def _write(tmp_path: Path, data: Any, name: str = "iea.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_iea_cmde(path)
    return info.value


def _small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def test_small_file(tmp_path: Path) -> None:
    batch = read_iea_cmde(_write(tmp_path, _small()))
    assert_canonical(batch)
    assert batch.series == "IEA CMDE 2025"  # the edition named in 'source'
    t = batch.table
    assert len(t) == 8  # mine: COD, IDN, ROW, WLD; refinery: CHN, FIN, ROW, WLD
    assert _figure(t, "Cobalt", "mine", "COD") == 180_000.0
    assert _figure(t, "Cobalt", "mine", "WLD") == 250_000.0
    finland = t[(t.stage == "refinery") & (t.country == "FIN")].iloc[0]
    assert math.isnan(finland.quantity_t) and finland.status == "not_available"
    assert set(t.year) == {2024}
    assert any("'Notes: figures are rounded.'" in n for n in batch.notes)
    demand = next(n for n in batch.notes if n.startswith("demand"))
    assert "every sector sum matches its total" in demand and "STEPS" in demand


def test_edition_falls_back_to_the_data_year(tmp_path: Path) -> None:
    data = _small()
    del data["source"]
    batch = read_iea_cmde(_write(tmp_path, data))
    assert batch.series == "IEA CMDE 2024"
    assert any("no edition in 'source'" in n for n in batch.notes)


def test_overlap_explained_by_one_country_is_corrected(tmp_path: Path) -> None:
    data = _small()
    mining = data["supply"]["Cobalt"]["mining"]
    mining["countries"]["Rest of world"]["2024"] = 70.0  # includes Indonesia's 30 again
    t = read_iea_cmde(_write(tmp_path, data)).table
    rest = t[(t.stage == "mine") & (t.country == "ROW")].iloc[0]
    assert rest.quantity_t == 40_000.0
    assert "includes Indonesia (30 kt)" in rest.note


def test_unexplained_overlap_is_kept_and_noted(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["mining"]["countries"]["Rest of world"]["2024"] = 47.0
    batch = read_iea_cmde(_write(tmp_path, data))
    t = batch.table
    rest = t[(t.stage == "mine") & (t.country == "ROW")].iloc[0]
    assert rest.quantity_t == 47_000.0 and rest.note == ""
    assert any("257 kt, stated total 250 kt; figures kept as published" in n for n in batch.notes)


def test_top_three_mismatch_is_noted(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["mining"]["top3Share"]["2024"] = 0.5
    batch = read_iea_cmde(_write(tmp_path, data))
    assert any("published top-3 share 0.500" in n for n in batch.notes)


def test_unknown_name_with_figures(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["mining"]["countries"]["Atlantis"] = {"2024": 1.0, "2030": 1.0}
    path = _write(tmp_path, data)
    err = _error(path)
    assert err.field == "supply/Cobalt/mining/countries/Atlantis"
    assert err.row == _line_of(path, '"Atlantis"')
    assert "not a country" in err.reason


def test_withheld_text_value(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["refining"]["countries"]["China"]["2024"] = "W"
    path = _write(tmp_path, data)
    err = _error(path)
    assert err.field == "supply/Cobalt/refining/countries/China/2024" and "'W'" in err.reason
    china_line = _line_of(path, '"China"')
    assert err.row == china_line + 1  # the "2024" key just below


def test_negative_value(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["mining"]["total"]["2024"] = -1.0
    err = _error(_write(tmp_path, data))
    assert err.field == "supply/Cobalt/mining/total/2024" and "non-negative" in err.reason


def test_duplicated_key(tmp_path: Path) -> None:
    text = json.dumps(_small(), indent=2).replace(
        '"Indonesia": {',
        '"Indonesia": {"2024": 31.0, "2030": 61.0},\n          "Indonesia": {',
    )
    path = tmp_path / "iea.json"
    path.write_text(text, encoding="utf-8")
    err = _error(path)
    assert "'Indonesia' appears twice" in err.reason
    assert err.field == "supply/Cobalt/mining/countries/Indonesia"
    lines = [i for i, line in enumerate(text.splitlines(), 1) if '"Indonesia"' in line]
    assert err.row == lines[1]


def test_unknown_stage(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["smelting"] = data["supply"]["Cobalt"]["refining"]
    err = _error(_write(tmp_path, data))
    assert err.field == "supply/Cobalt/smelting" and "unknown stage" in err.reason


def test_missing_supply_and_missing_total(tmp_path: Path) -> None:
    data = _small()
    del data["supply"]
    assert _error(_write(tmp_path, data)).field == "supply"
    data = _small()
    del data["supply"]["Cobalt"]["mining"]["total"]
    assert _error(_write(tmp_path, data)).field == "supply/Cobalt/mining/total"


def test_unknown_scenario_in_demand(tmp_path: Path) -> None:
    data = _small()
    data["totalDemand"]["Cobalt"]["otherUses"]["SDS"] = {"2030": 1.0}
    err = _error(_write(tmp_path, data))
    assert err.field == "totalDemand/Cobalt/otherUses/SDS" and "unknown scenario" in err.reason


def test_demand_sums_that_do_not_add_up_are_noted(tmp_path: Path) -> None:
    data = _small()
    data["totalDemand"]["Cobalt"]["totalClean"]["STEPS"]["2030"] = 200.0
    batch = read_iea_cmde(_write(tmp_path, data))
    demand = next(n for n in batch.notes if n.startswith("demand"))
    assert "totalDemand Cobalt: sectors vs clean technologies (1 figures" in demand


def test_not_utf8(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["mining"]["countries"]["Côte d'Ivoire"] = {"2024": 0.0, "2030": 0}
    path = tmp_path / "iea.json"
    path.write_bytes(json.dumps(data, indent=2, ensure_ascii=False).encode("cp1252"))
    err = _error(path)
    assert "UTF-8" in err.reason and err.row == _line_of(path, "Ivoire", encoding="cp1252")


def test_not_json_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "iea.json"
    path.write_text(json.dumps(_small(), indent=2)[:-40])
    err = _error(path)
    assert "not valid JSON" in err.reason and err.row is not None
    gz = tmp_path / "iea.json.gz"
    gz.write_bytes(gzip.compress(b"{}")[:-5])
    assert "gzip" in _error(gz).reason
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert "empty" in _error(empty).reason


def test_same_country_twice_under_two_names(tmp_path: Path) -> None:
    data = _small()
    data["supply"]["Cobalt"]["mining"]["countries"]["DR Congo"] = {"2024": 1.0, "2030": 1.0}
    err = _error(_write(tmp_path, data))
    assert "same country (COD)" in err.reason


def _line_of(path: Path, needle: str, encoding: str = "utf-8") -> int:
    lines = path.read_bytes().decode(encoding).splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# --------------------------------------------------------------------------------------------
# in the store


def test_store_holds_the_series_and_a_bad_file_changes_nothing(
    tmp_path: Path, raw: dict[str, Any]
) -> None:
    from critmat.config import Settings
    from critmat.pipeline import import_file
    from critmat.store import open_store

    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    (result,) = import_file(settings, "iea-cmde", SHIPPED)
    assert result.status == "imported" and result.release.series == "IEA CMDE 2024"

    def snapshot() -> tuple[tuple[int, ...], pd.DataFrame]:
        with open_store(settings.store_path, read_only=True) as store:
            rows = store.query(
                "SELECT * FROM stage_production_all WHERE series = 'IEA CMDE 2024' ORDER BY ALL"
            )
            return store.release_key(), rows

    before = snapshot()
    with open_store(settings.store_path, read_only=True) as store:
        world = store.query(
            "SELECT commodity, stage, quantity_t FROM stage_production_all "
            "WHERE series = 'IEA CMDE 2024' AND country = 'WLD'"
        )
        china = store.query(
            "SELECT commodity, quantity_t FROM stage_production_all WHERE series = "
            "'IEA CMDE 2024' AND country = 'CHN' AND stage = 'refinery'"
        )
    assert len(world) == 12
    key = {v: k for k, v in COMMODITIES.items()}
    for commodity, stage, tonnes in world.itertuples(index=False):
        stage_key = {v: k for k, v in STAGES.items()}[stage]
        assert tonnes == pytest.approx(
            raw["supply"][key[commodity]][stage_key]["total"]["2024"] * 1e3
        )
    for commodity, tonnes in china.itertuples(index=False):
        published = raw["supply"][key[commodity]]["refining"]["countries"]["China"]["2024"]
        assert tonnes == pytest.approx(published * 1e3)
    bad = _write(tmp_path, {**_small(), "supply": {"Cobalt": {"mining": {"total": {}}}}})
    with pytest.raises(InputFileError):
        import_file(settings, "iea-cmde", bad)
    after = snapshot()
    assert after[0] == before[0]
    pd.testing.assert_frame_equal(after[1], before[1])
    (again,) = import_file(settings, "iea-cmde", SHIPPED)
    assert again.status == "unchanged"
