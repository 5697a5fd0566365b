"""The backtest's cases on hand-made stores: which codes a case reads, a change across two HS
classifications, no data as missing (never 0), the summary, bad case files."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from critmat.errors import InputFileError
from critmat.scenarios.backtest import (
    BacktestCase,
    YearCodes,
    backtest,
    choose_codes,
    direction,
    load_cases,
)
from critmat.sources.base import CanonicalBatch
from critmat.store import Store, open_store

GA_GE = BacktestCase(
    "CN-2023-023/unwrought",
    "CN-2023-023",
    "gallium and germanium",
    (("HS92", ("811291", "811230")), ("HS17", ("811292",))),
    ("HS17 811292 bundles seven metals",),
)
COLUMNS = ["year", "exporter", "importer", "hs6", "value_kusd", "quantity_t"]


def _batch(
    series: str, rows: list[tuple[int, str, str, str, float, float | None]]
) -> CanonicalBatch:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return CanonicalBatch(
        "trade", "baci", series, "Etalab 2.0", "hand-made", series.lower(), frame, [], series
    )


def _store(path: Path, hs92: list, hs17: list) -> Store:  # type: ignore[type-arg]
    store = open_store(path / "s.duckdb")
    store.apply([_batch("HS92", hs92), _batch("HS17", hs17)])
    return store


def test_like_with_like_first_then_each_year_on_its_own() -> None:
    both = {("HS92", "811291", 2022), ("HS92", "811291", 2024), ("HS17", "811292", 2024)}
    before, after = choose_codes(GA_GE, both, 2022, 2024)
    assert before == YearCodes(2022, "HS92", ("811291",)) and after.series == "HS92"
    mixed = {("HS92", "811291", 2022), ("HS92", "811230", 2022), ("HS17", "811292", 2024)}
    before, after = choose_codes(GA_GE, mixed, 2022, 2024)
    assert before.codes == ("811291", "811230") and after == YearCodes(2024, "HS17", ("811292",))
    before, after = choose_codes(GA_GE, {("HS17", "811292", 2024)}, 2022, 2024)
    assert before.series is None and before.label == "no data" and after.series == "HS17"


def test_direction_has_a_band_of_no_change() -> None:
    assert [direction(c) for c in (-0.5, -0.009, 0.0, 0.009, 0.2)] == [-1, 0, 0, 0, 1]
    assert direction(math.nan) is None


def test_change_across_two_classifications_with_a_model_prediction(tmp_path: Path) -> None:
    hs92 = [
        (2022, "CHN", "DEU", "811291", 100.0, 10.0),
        (2022, "CHN", "FRA", "811230", 50.0, 4.0),
        (2022, "CHN", "USA", "811291", 90.0, 9.0),  # not the EU
        (2022, "DEU", "FRA", "811291", 10.0, 1.0),  # intra-EU
    ]
    hs17 = [
        (2024, "CHN", "DEU", "811292", 60.0, 6.0),
        (2024, "CHN", "ITA", "811292", 15.0, 1.5),
        (2024, "CHN", "NLD", "811292", 5.0, None),  # no quantity: left out
        (2024, "KOR", "DEU", "811292", 30.0, 2.5),
    ]
    with _store(tmp_path, hs92, hs17) as store:
        result = backtest(store.con, 2, (GA_GE,))
    row = result.rows.set_index("case").loc["CN-2023-023/unwrought"]
    assert (row["before_series"], row["after_series"]) == ("HS92", "HS17")
    assert row["hs_codes"] == "HS92 811291;811230 → HS17 811292"
    assert row["eu_imports_before_t"] == pytest.approx(14.0)
    assert row["observed_after_t"] == pytest.approx(7.5)
    # China's share of the EU's extra-EU imports: the USA and intra-EU rows do not count
    assert row["share_before"] == pytest.approx(1.0) and row["share_after"] == pytest.approx(0.75)
    assert row["observed_change"] == pytest.approx(7.5 / 14.0 - 1)
    # licensing from 1 August 2023, two months without exports: 2024 as before
    assert row["predicted_change"] == pytest.approx(0.0, abs=1e-12)
    assert row["error_pp"] == pytest.approx(100 * (0.0 - (7.5 / 14.0 - 1)))
    assert row["direction_right"] is False  # unchanged predicted, a fall observed
    assert "2022 in HS92, 2024 in HS17" in row["notes"]
    # the catalogue's bundling notes of the codes read, then the case's own caveat
    assert row["caveats"].split(" | ") == [
        "HS92 811291 holds gallium, hafnium, indium, niobium, rhenium and thallium: figures "
        "from it cover all of them",
        "HS17 811292 holds gallium, germanium, hafnium, indium, niobium, rhenium and vanadium: "
        "figures from it cover all of them",
        "HS17 811292 bundles seven metals",
    ]
    summary = result.summary()
    # the registry's other measures have no rows in this store: counted, without data
    assert (summary.cases, summary.compared, summary.direction_right) == (len(result.rows), 1, 0)
    assert GA_GE.case not in summary.without_data and "ID-2020-NI" in summary.without_data
    assert summary.mean_absolute_error_pp == pytest.approx(abs(row["error_pp"]))
    assert "direction right in 0 of 1" in summary.line()


def test_a_year_without_rows_is_no_data_never_zero(tmp_path: Path) -> None:
    hs17 = [(2024, "CHN", "DEU", "811292", 60.0, 6.0)]
    only_value = [(2022, "CHN", "DEU", "811291", 100.0, None)]
    with _store(tmp_path, only_value, hs17) as store:
        rows = backtest(store.con, 2, (GA_GE,)).rows.set_index("case")
    row = rows.loc["CN-2023-023/unwrought"]
    # 2022 has a row, but without a quantity: the tonnes are missing, not 0
    assert row["before_series"] == "HS92" and math.isnan(row["eu_imports_before_t"])
    assert math.isnan(row["observed_change"]) and math.isnan(row["error_pp"])
    assert row["direction_right"] is None


def test_no_flow_from_the_country_is_a_real_zero(tmp_path: Path) -> None:
    hs92 = [(2022, "CHN", "DEU", "811291", 100.0, 10.0), (2024, "KOR", "DEU", "811291", 1.0, 1.0)]
    with _store(tmp_path, hs92, [(2024, "KOR", "DEU", "811292", 1.0, 1.0)]) as store:
        row = backtest(store.con, 2, (GA_GE,)).rows.set_index("case").loc[GA_GE.case]
    # the code has rows in 2024 (from Korea): China's missing flow is zero trade
    assert row["observed_after_t"] == 0.0 and row["observed_change"] == pytest.approx(-1.0)
    assert row["share_after"] == 0.0


def test_a_measure_without_case_reads_its_registry_codes(tmp_path: Path) -> None:
    hs92 = [(2019, "IDN", "DEU", "260400", 1.0, 100.0), (2020, "IDN", "DEU", "260400", 1.0, 50.0)]
    with _store(tmp_path, hs92, [(2024, "CHN", "DEU", "811292", 1.0, 1.0)]) as store:
        result = backtest(store.con, 2, ())
    row = result.rows.set_index("case").loc["ID-2020-NI"]
    assert row["hs_codes"] == "HS92 260400" and row["observed_change"] == pytest.approx(-0.5)
    assert row["predicted_change"] == pytest.approx(-1.0)


def test_shipped_cases_are_valid() -> None:
    cases = {c.case: c for c in load_cases()}
    assert dict(cases["CN-2023-023/unwrought"].codes)["HS17"] == ("811292",)
    assert {"CN-2023-039/natural", "CN-2023-039/synthetic"} <= set(cases)
    antimony = [c for c in cases.values() if c.registry_id == "CN-2024-033"]
    codes = {code for c in antimony for _s, group in c.codes for code in group}
    assert codes == {"811000", "811010", "282580"}  # metal and oxide, not the ore 261710
    assert any("every metal they hold" in t for t in cases["CN-2023-023/unwrought"].caveats)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            "cases:\n- {case: a, registry_id: XX-1, title: t, codes: {HS92: ['250410']}}\n",
            "registry_id",
        ),
        (
            "cases:\n- {case: a, registry_id: CN-2023-039, title: t, codes: {HS92: ['2504']}}\n",
            "codes.HS92",
        ),
        (
            "cases:\n- {case: a, registry_id: CN-2023-039, title: t, codes: {CN8: ['250410']}}\n",
            "codes",
        ),
        (
            "cases:\n- {case: '', registry_id: CN-2023-039, title: t, codes: {HS92: ['250410']}}\n",
            "case",
        ),
    ],
)
def test_bad_case_file_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        load_cases(path)
    assert caught.value.field == field and "case 1" in caught.value.reason


def test_no_imports_in_the_year_before_is_no_change_not_a_fall(tmp_path: Path) -> None:
    hs92 = [(2022, "KOR", "DEU", "811291", 1.0, 1.0), (2024, "CHN", "DEU", "811291", 1.0, 2.0)]
    with _store(tmp_path, hs92, [(2024, "KOR", "DEU", "811292", 1.0, 1.0)]) as store:
        result = backtest(store.con, 2, (GA_GE,))
    row = result.rows.set_index("case").loc[GA_GE.case]
    assert row["eu_imports_before_t"] == 0.0 and math.isnan(row["observed_change"])
    assert "no EU27 imports from CHN in 2022: no change" in row["notes"]
    assert GA_GE.case in result.summary().without_data
    assert "not compared for" in result.summary().line()
