"""Country resolution, M49 mapping and country groups."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference import countries
from critmat.reference.countries import (
    country_name,
    group_info,
    group_members,
    group_names,
    is_group,
    load_country_groups,
    m49_to_iso3,
    memberships,
    resolve_country,
    resolve_importer,
)

SHIPPED_YAML = Path(countries.__file__).parent / "data" / "country_groups.yaml"

EU27 = {
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP",
    "SWE",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("DR Congo", "COD"),
        ("Congo, D.R.", "COD"),
        ("Congo, Dem. Rep.", "COD"),
        ("Democratic Republic of the Congo", "COD"),
        ("Türkiye", "TUR"),
        ("Turkiye", "TUR"),
        ("Turkey", "TUR"),
        ("South Korea", "KOR"),
        ("Korea, Rep.", "KOR"),
        ("cod", "COD"),
        ("CD", "COD"),
        ("180", "COD"),
        ("Germany", "DEU"),
        ("United States", "USA"),
        ("842", "USA"),
        ("Russia", "RUS"),
        ("Viet Nam", "VNM"),
        ("Kosovo", "XKX"),
        ("Taiwan", "TWN"),
        ("Bonaire", "BES"),
    ],
)
def test_resolve_country(text: str, iso3: str) -> None:
    assert resolve_country(text) == iso3


def test_unknown_country_has_suggestions() -> None:
    with pytest.raises(UnknownNameError) as info:
        resolve_country("Germny")
    assert info.value.kind == "country"
    assert "Germany" in info.value.suggestions
    with pytest.raises(UnknownNameError):
        resolve_country("999")


def test_eu27_has_27_members_and_not_the_uk() -> None:
    members = group_members("EU27")
    assert members == EU27
    assert "GBR" not in members
    for alias in ("EU", "eu-27", "European Union", "EU 27"):
        assert group_members(alias) == EU27


def test_eea_is_eu27_plus_three() -> None:
    assert group_members("EEA") == EU27 | {"ISL", "LIE", "NOR"}
    assert "CHE" not in group_members("EEA")


def test_strategic_partners_are_the_15_of_com_2025_945() -> None:
    partners = group_members("STRATEGIC_PARTNERS")
    assert len(partners) == 15
    assert partners == {
        "ARG", "AUS", "CAN", "CHL", "COD", "GRL", "KAZ", "NAM", "NOR", "RWA", "SRB", "ZAF", "UKR",
        "UZB", "ZMB",
    }  # fmt: skip
    assert "BRA" not in partners


def test_oct_candidates_g7() -> None:
    octs = group_members("OCT")
    assert {"GRL", "NCL", "PYF", "ABW", "CUW", "SXM", "BES"} <= octs
    assert len(octs) == 11  # 13 OCTs; Bonaire, Saba and Sint Eustatius share BES
    assert not octs & EU27
    candidates = group_members("EU_CANDIDATES")
    assert len(candidates) == 9 and {"UKR", "MDA", "GEO", "TUR"} <= candidates
    assert "XKX" not in candidates
    assert group_members("EU_POTENTIAL_CANDIDATES") == {"XKX"}
    assert group_members("G7") == {"CAN", "FRA", "DEU", "ITA", "JPN", "GBR", "USA"}


def test_every_group_has_label_and_sources() -> None:
    assert set(group_names()) == {
        "EU27", "EEA", "OCT", "EU_CANDIDATES", "EU_POTENTIAL_CANDIDATES", "STRATEGIC_PARTNERS",
        "G7",
    }  # fmt: skip
    for name in group_names():
        info = group_info(name)
        assert info.label and info.sources and info.members


def test_is_group_and_unknown_group() -> None:
    assert is_group("EU") and is_group("g7") and not is_group("Germany")
    with pytest.raises(UnknownNameError) as info:
        group_info("EU28")
    assert info.value.kind == "country group"
    assert "EU27" in info.value.suggestions


def test_memberships() -> None:
    assert memberships("NOR") == ("EEA", "STRATEGIC_PARTNERS")
    assert memberships("Greenland") == ("OCT", "STRATEGIC_PARTNERS")
    assert "EU27" in memberships("FRA") and "G7" in memberships("FRA")
    assert memberships("CHN") == ()


def test_resolve_importer() -> None:
    label, members = resolve_importer("EU")
    assert label == "EU27" and len(members) == 27
    assert resolve_importer("China") == ("CHN", frozenset({"CHN"}))


def test_m49_to_iso3_including_comtrade_codes() -> None:
    assert m49_to_iso3(180) == "COD"
    assert m49_to_iso3("036") == "AUS"
    assert m49_to_iso3(251) == "FRA"  # Comtrade/BACI/WMD code, ISO numeric is 250
    assert m49_to_iso3(250) == "FRA"
    assert m49_to_iso3(699) == "IND"
    assert m49_to_iso3(842) == "USA"
    assert m49_to_iso3(490) == "TWN"
    assert m49_to_iso3(58) == "BEL"
    assert m49_to_iso3(697) is None  # Europe EFTA nes (WMD's code for Kosovo)
    assert m49_to_iso3(999) is None
    assert m49_to_iso3("DELETE") is None  # the WMD 'Total' row


def test_country_name() -> None:
    assert country_name("COD") == "DR Congo"
    assert country_name("deu") == "Germany"
    assert country_name("XKX") == "Kosovo"
    assert country_name("TWN") == "Taiwan"
    assert "Soviet" in country_name("SUN")
    with pytest.raises(UnknownNameError):
        country_name("ZZZ")


def test_broken_group_file_is_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    data["groups"]["G7"]["members"].append("XXX")
    path = tmp_path / "groups.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown ISO3 code 'XXX'") as info:
        load_country_groups(path)
    assert info.value.field == "groups.G7.members"

    data = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    data["groups"]["G7"]["aliases"].append("EU")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputFileError, match="already names group 'EU27'"):
        load_country_groups(path)

    data = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    data["groups"]["EU27"]["includes"] = ["EEA"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputFileError, match="include each other"):
        load_country_groups(path)


def test_group_file_order_does_not_matter(tmp_path: Path) -> None:
    data = yaml.safe_load(SHIPPED_YAML.read_text(encoding="utf-8"))
    path = tmp_path / "groups.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    assert load_country_groups(path)["EEA"].members == group_members("EEA")
