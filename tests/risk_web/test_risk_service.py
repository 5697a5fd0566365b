"""critmat.services.risk on the real data, through a ServiceContext as the app holds one: answers
equal the library's, are computed once per release, and carry the provenance of the year used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from critmat.errors import CritmatError, UnknownNameError
from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.services import risk
from critmat.services import risk_criticality as crit
from critmat.services.context import ServiceContext
from critmat.store import Store


@pytest.fixture(scope="module")
def services(real_data_dir: Path) -> Iterator[ServiceContext]:
    path = real_data_dir / "critmat.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    yield ServiceContext(lambda: Store(path, read_only=True, connection=con.cursor()))
    con.close()


def test_geopolrisk_year_is_the_library_row_of_the_latest_year(
    services: ServiceContext, real_store: Store
) -> None:
    answer = risk.geopolrisk_year(services, ["EU27"], materials=["cobalt"])
    library = gpr.assess(real_store, importers=["EU27"], materials=["Cobalt"])
    assert answer.year == max(library.years)
    (row,) = answer.rows
    want = library.rows.loc[library.rows["year"] == answer.year].iloc[0]
    assert tuple(row) == risk.GEOPOLRISK_COLUMNS
    assert row["score"] == pytest.approx(float(want["score"]), rel=1e-12)
    assert {p.years for p in answer.provenance} == {(answer.year,)}
    assert "years used: " + str(answer.year) in risk.citation(answer.provenance)


def test_answers_are_remembered_per_release(services: ServiceContext) -> None:
    first = risk.geopolrisk(services, ["DEU"], ["nickel"])
    again = risk.geopolrisk(services, [" deu "], ["Nickel"])  # same question, other spelling
    assert again is first
    assessment = crit.criticality(services, None, False)
    assert crit.criticality(services, None, False) is assessment
    assert crit.criticality(services, None, True) is not assessment


def test_year_outside_the_data_is_a_user_error(services: ServiceContext) -> None:
    years = risk.geopolrisk(services, ["EU27"]).years
    with pytest.raises(CritmatError, match="outside the production and trade data"):
        risk.geopolrisk_year(services, ["EU27"], year=min(years) - 1)


def test_ranking_puts_undefined_scores_last(services: ServiceContext) -> None:
    answer = risk.geopolrisk_year(services, ["FRA"], basis="value")
    ranked = risk.ranked_geopolrisk(answer, "cf")
    defined = [r for r in ranked if r["cf"] is not None]
    assert defined and [r["rank"] for r in defined] == list(range(1, len(defined) + 1))
    assert [r["cf"] for r in defined] == sorted((r["cf"] for r in defined), reverse=True)
    assert all(r["rank"] is None for r in ranked[len(defined) :])


def test_origins_breakdown_adds_up_and_knows_its_years(services: ServiceContext) -> None:
    bd = risk.geopolrisk_origins(services, "Cobalt", "EU27", 2022, "mass")
    assert not bd.mismatches
    assert bd.score is not None
    assert sum(o.score_contribution or 0.0 for o in bd.origins) == pytest.approx(bd.score)
    assert all(o.weight == gpr.governance_weight(o.pv) for o in bd.origins)
    assert 2022 in bd.years_available
    assert risk.geopolrisk_origins(services, "Cobalt", "eu27", 2022, "mass") is bd


def test_canonical_commodity() -> None:
    assert risk.canonical_commodity("rare earths (reo)") == ("Rare Earths (REO)",)
    assert risk.canonical_commodity("lithium") == ("Lithium (Li2O)",)  # a material's series
    with pytest.raises(UnknownNameError):
        risk.canonical_commodity("kryptonite")


def test_criticality_rows_rank_by_sr(services: ServiceContext) -> None:
    assessment = crit.criticality(services, 2023, False)
    rows = crit.criticality_rows(assessment)
    assert [tuple(r) for r in rows[:1]] == [crit.CRITICALITY_COLUMNS]
    scored = [r for r in rows if r["sr"] is not None]
    assert [r["rank"] for r in scored] == list(range(1, len(scored) + 1))
    assert [r["sr"] for r in scored] == sorted((r["sr"] for r in scored), reverse=True)
    assert assessment.years[-1] == 2023
    assert 2023 in crit.criticality_years(services)


def test_criticality_breakdown_by_alias_and_energy_material(services: ServiceContext) -> None:
    found = crit.criticality_breakdown(services, "Co", None, False)
    assert found.breakdown.material_id == "cobalt"
    assert found.assessment is crit.criticality(services, None, False)
    # an energy raw material is left out of the full assessment and assessed alone
    full = {b.material_id for b in crit.criticality(services, None, False).breakdowns}
    energy = [m for m in euc.load_catalogue().materials if m.id not in full]
    if energy:
        alone = crit.criticality_breakdown(services, energy[0].id, None, False)
        assert alone.breakdown.material_id == energy[0].id
        assert alone.assessment is not found.assessment


def test_cli_request_assesses_one_material(real_store: Store) -> None:
    request = crit.criticality_request(year=2022, window=3, explain="nickel")
    assert request.materials == ("nickel",)
    assessment = crit.assess_criticality(real_store, request)
    assert [b.material_id for b in assessment.breakdowns] == ["nickel"]
    assert assessment.years == (2020, 2021, 2022)
