"""The value chain of the catalogue: HS17 codes, bundled codes, production series per stage, stage
synonyms and the rare-earth entries (issue 10, Build 4)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from critmat.config import get_settings
from critmat.errors import InputFileError, UnknownNameError
from critmat.reference.materials import (
    HS_REVISIONS,
    Catalogue,
    ProductionSeries,
    Resolved,
    load_catalogue,
    load_hs_codes,
)

DATA = Path(__file__).parents[2] / "src/critmat/reference/data"

#: By-products without an ore of their own: their extraction stage has no HS code and says so.
BY_PRODUCTS = {"gallium", "germanium"}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def test_every_strategic_material_has_extraction_and_processing_in_both_revisions(
    cat: Catalogue,
) -> None:
    assert len(cat.strategic()) == 17
    for material in cat.strategic():
        names = [s.name for s in material.stages]
        assert "extraction" in names and "processing" in names, material.id
        for stage in (material.stage("extraction"), material.stage("processing")):
            for revision in HS_REVISIONS:
                codes = cat.hs_codes(stage, revision)
                if material.id in BY_PRODUCTS and stage.name == "extraction":
                    assert codes == () and "By-product" in stage.notes, material.id
                else:
                    assert codes, (material.id, stage.name, revision)


def test_every_stage_with_hs92_codes_has_hs17_codes(cat: Catalogue) -> None:
    for material in cat:
        for stage in material.stages:
            assert bool(stage.hs_codes) == bool(stage.hs17_codes), (material.id, stage.name)


def test_every_hs17_code_is_in_the_csv_with_a_description(cat: Catalogue) -> None:
    table = load_hs_codes("HS17")
    used = {c for m in cat for s in m.stages for c in s.hs17_codes}
    assert used <= set(table)
    assert all(table[c].description for c in used)
    # The csv holds no code the catalogue does not use.
    assert set(table) == used
    # HS92-only codes that HS 2007 merged into the shared 8112.92 are not in HS17.
    assert {"811291", "811230", "811240"}.isdisjoint(table)


def test_hs_codes_by_revision_and_unknown_revision(cat: Catalogue) -> None:
    gallium = cat.get("gallium").stage("processing")
    assert cat.hs_codes(gallium, "HS92") == ("811291",)
    assert cat.hs_codes(gallium, "hs17") == ("811292",)
    with pytest.raises(UnknownNameError) as info:
        cat.hs_codes(gallium, "HS22")
    assert info.value.kind == "HS revision"
    assert info.value.suggestions == ["HS92", "HS17"]


def test_bundle_note_for_811292(cat: Catalogue) -> None:
    note = cat.bundle_note("811292", "HS17")
    assert note == (
        "HS17 811292 holds gallium, germanium, hafnium, indium, niobium, rhenium and vanadium: "
        "figures from it cover all of them"
    )
    for_gallium = cat.bundle_note("811292", "HS17", "gallium")
    assert for_gallium is not None and for_gallium.startswith("HS17 811292 also holds germanium")
    assert "gallium" not in for_gallium.split("holds")[1]
    hs92 = cat.bundle_note("811291", "HS92", "gallium")
    assert hs92 is not None and "thallium" in hs92 and "germanium" not in hs92
    germanium = cat.get("germanium").stage("processing")
    notes = cat.bundle_notes(germanium, "HS17", "germanium")
    assert [n.split(" also")[0] for n in notes] == ["HS17 811292", "HS17 282560"]


def test_bundle_note_is_none_for_one_material_codes(cat: Catalogue) -> None:
    assert cat.bundle_note("810411", "HS17") is None  # unwrought magnesium
    assert cat.bundle_note("282200", "HS92") is None  # cobalt oxides
    assert cat.bundle_note("999999", "HS17") is None  # not a catalogue code


def test_every_listed_code_of_a_bundle_is_listed_by_its_materials(cat: Catalogue) -> None:
    """Each catalogue id in a ``shared_by`` lists that code in one of its stages (or is a group
    whose members do), so the bundle and the stages agree."""
    for revision in HS_REVISIONS:
        for code, entry in load_hs_codes(revision).items():
            for ident in entry.shared_by:
                if ident not in cat:
                    continue
                listed = {c for s in cat.get(ident).stages for c in cat.hs_codes(s, revision)}
                assert code in listed, (revision, code, ident)


def test_shared_by_needs_two_materials_and_a_source(tmp_path: Path) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text(
        "code,description,shared_by,shared_by_source\n811292,Other metals,gallium;germanium,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as info:
        load_hs_codes("HS17", str(bad))
    assert info.value.row == 2 and info.value.field == "shared_by"


def _chosen(cat: Catalogue, material: str, named: str) -> str | None:
    stage = cat.choose_stage(Resolved(cat.get(material), None), lambda s: True, named=named)
    return stage.name if stage else None


@pytest.mark.parametrize("named", ["refining", "Refinery", "refined", "processing"])
def test_refining_synonyms_mean_processing(cat: Catalogue, named: str) -> None:
    assert _chosen(cat, "gallium", named) == "processing"


@pytest.mark.parametrize("named", ["mining", "mine", "ore", "concentrate", "Extraction"])
def test_mining_synonyms_mean_extraction(cat: Catalogue, named: str) -> None:
    assert _chosen(cat, "cobalt", named) == "extraction"


def test_separation_metal_and_magnet_synonyms(cat: Catalogue) -> None:
    assert _chosen(cat, "hree", "separation") == "processing"
    assert _chosen(cat, "rare_earths", "compounds") == "processing"
    assert _chosen(cat, "hree", "metal") == "metals"
    # No metals stage: the refined metal (rare_earths keeps compounds and metals in one stage).
    assert _chosen(cat, "rare_earths", "metal") == "processing"
    assert _chosen(cat, "magnesium", "metal") == "processing"
    assert _chosen(cat, "ree_magnets", "magnet") == "magnets"
    assert _chosen(cat, "hree", "Magnets") == "magnets"


def test_unknown_stage_suggests_the_material_stages(cat: Catalogue) -> None:
    with pytest.raises(UnknownNameError) as info:
        cat.choose_stage(Resolved(cat.get("gallium"), None), lambda s: True, named="magnets")
    assert info.value.kind == "stage"
    assert info.value.suggestions == ["extraction", "processing"]


def test_choose_stage_never_picks_a_proxy_stage_unless_named(cat: Catalogue) -> None:
    magnesium = Resolved(cat.get("magnesium"), None)
    only_extraction = cat.choose_stage(magnesium, lambda s: s.name == "extraction")
    assert only_extraction is None  # dolomite and magnesite trade is not magnesium's
    named = cat.choose_stage(magnesium, lambda s: s.name == "extraction", named="ore")
    assert named is not None and named.proxy


def test_rare_earth_entries_and_crma_status(cat: Catalogue) -> None:
    assert cat.resolve("REE").material.id == "rare_earths"
    assert cat.resolve("HREE").material.id == "hree"
    assert cat.resolve("rare earth elements for permanent magnets").material.id == "ree_magnets"
    hree, lree, magnets = cat.get("hree"), cat.get("lree"), cat.get("ree_magnets")
    assert hree.critical and not hree.strategic and cat.is_critical("hree")
    assert lree.critical and not lree.strategic
    assert magnets.strategic and cat.is_strategic("ree_magnets") and cat.is_critical("ree_magnets")
    assert not cat.get("rare_earths").critical  # not itself an annex item
    for entry in (hree, lree, magnets):
        names = [s.name for s in entry.stages]
        assert names == ["extraction", "processing", "metals", "magnets"], entry.id
        assert entry.stage("magnets").hs_codes == ("850511",)
        assert entry.stage("magnets").hs17_codes == ("850511",)


def test_production_series_preference_order(cat: Catalogue) -> None:
    gallium = cat.get("gallium").stage("processing").production
    assert [p.series for p in gallium] == ["USGS MCS 2026", "USGS MCS 2024", "USGS MCS 2023", "WMD"]
    assert gallium[0] == ProductionSeries(
        "stage_production", "USGS MCS 2026", "Gallium", "refinery", gallium[0].note
    )
    assert gallium[-1].dataset == "production" and gallium[-1].stage == "mine"
    magnesium = cat.get("magnesium").stage("processing").production
    assert {(p.commodity, p.stage) for p in magnesium} == {("Magnesium Metal", "smelter")}
    silicon = cat.get("silicon_metal").stage("processing").production
    assert {(p.commodity, p.stage) for p in silicon} == {("Silicon", "metal")}
    cobalt = cat.get("cobalt")
    assert cobalt.stage("extraction").production[0].series == "USGS MCS 2026"
    assert [p.series for p in cobalt.stage("processing").production] == ["IEA CMDE 2024"]


def test_stages_without_production_say_so(cat: Catalogue) -> None:
    for material in cat.strategic():
        for stage in material.stages:
            if stage.name in ("extraction", "processing") and not stage.production:
                assert "No production series" in stage.notes, (material.id, stage.name)


# ----------------------------------------------------------------------- against the store


@pytest.fixture(scope="module")
def store_con() -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the installed store (``critmat data status``); skipped when it
    is absent, except on CI (``CI=true``), where a missing store is a failure."""
    path = get_settings().store_path
    if not path.exists():
        message = f"no store at {path}; run `critmat data pull`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _has_rows(con: duckdb.DuckDBPyConnection, series: ProductionSeries) -> bool:
    if series.dataset == "production":
        sql = "SELECT count(*) FROM production WHERE commodity = ?"
        args = [series.commodity]
    else:
        sql = (
            "SELECT count(*) FROM stage_production_all "
            "WHERE series = ? AND commodity = ? AND stage = ?"
        )
        args = [series.series, series.commodity, series.stage]
    row = con.execute(sql, args).fetchone()
    return bool(row and row[0])


def test_every_production_series_resolves_in_the_store(
    cat: Catalogue, store_con: duckdb.DuckDBPyConnection
) -> None:
    missing = [
        (m.id, s.name, p.series, p.commodity, p.stage)
        for m in cat
        for s in m.stages
        for p in s.production
        if not _has_rows(store_con, p)
    ]
    assert missing == []


def test_hs17_codes_of_the_baci_extract_are_catalogue_codes(
    cat: Catalogue, store_con: duckdb.DuckDBPyConnection
) -> None:
    """Every code of the shipped HS17 trade release is a stage code of some material."""
    in_store = {
        r[0]
        for r in store_con.execute(
            "SELECT DISTINCT hs6 FROM trade_all WHERE series = 'HS17'"
        ).fetchall()
    }
    listed = {c for m in cat for s in m.stages for c in s.hs17_codes}
    assert in_store and in_store <= listed


def test_hs17_csv_columns() -> None:
    with (DATA / "hs17_codes.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["code", "description", "shared_by", "shared_by_source", "description_source"]


def test_by_hs_in_each_revision(cat: Catalogue) -> None:
    hs17 = {m.id for m, _ in cat.by_hs("811292", "HS17")}
    assert {"gallium", "germanium", "hafnium", "indium", "niobium", "rhenium", "vanadium"} <= hs17
    assert cat.by_hs("811292") == ()  # not an HS92 code
    assert {m.id for m, _ in cat.by_hs("811291")} >= {"gallium", "indium"}


def test_material_detail_says_which_codes_of_each_revision_have_trade(
    store_con: duckdb.DuckDBPyConnection,
) -> None:
    from critmat.services.catalogue import MaterialDetailOut, material_detail
    from critmat.store import Store

    store = Store(get_settings().store_path, connection=store_con)
    answer = material_detail(store, "magnesium").model
    assert isinstance(answer, MaterialDetailOut)
    processing = next(s for s in answer.stages if s.name == "processing")
    assert processing.hs_codes_with_data == []  # 810411 is not in the 74 HS92 codes
    assert processing.hs17_codes_with_data == ["810411"]  # in the BACI HS17 2024 extract
    assert processing.production[0].commodity == "Magnesium Metal"


def test_shared_with_in_each_revision(cat: Catalogue) -> None:
    vanadium = cat.get("vanadium").stage("processing")
    assert cat.shared_with("vanadium", vanadium) == ()  # HS92 282530, 811240: its own
    hs17 = cat.shared_with("vanadium", vanadium, "HS17")  # 811292 holds six more metals
    assert {"Gallium", "Germanium", "Indium"} <= set(hs17)


def test_a_row_with_more_fields_than_the_header_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "codes.csv"
    bad.write_text(
        "code,description,shared_by,shared_by_source\n"
        "261790,Ores n.e.s.,bismuth;beryllium,ores of bismuth, beryllium and others\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as info:
        load_hs_codes("HS92", str(bad))
    assert info.value.row == 2 and "quote" in str(info.value)


def test_bundle_note_counts_the_group_as_the_material_itself(cat: Catalogue) -> None:
    assert cat.bundle_note("284690", "HS92", "rare_earths") == (
        "HS92 284690 also holds scandium: figures from it cover all of them"
    )
    hree = cat.bundle_note("284690", "HS92", "hree")
    assert hree is not None and "also holds light rare earth elements and scandium" in hree
    ores = cat.bundle_note("253090", "HS17", "hree")  # rare_earths is hree's group
    assert ores is not None and ores.startswith("HS17 253090 also holds lithium, strontium")
