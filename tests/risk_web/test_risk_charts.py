"""The supply-risk figures of critmat.reports.charts.risk: what the bars show for missing,
zero and log-scaled values, the thresholds, and the 'others' bar."""

from __future__ import annotations

import json

from critmat.reports import charts
from critmat.reports.charts import risk as figures
from critmat.risk import eu_criticality as euc


def test_bars_mark_missing_values_and_round_what_they_show() -> None:
    figure = figures.bars(
        ["a", "b", "c"],
        [0.123456789, None, 0.0],
        axis_title="score",
        hover=["", "", ""],
    )
    trace = figure["data"][0]
    assert trace["x"] == [0.1235, 0.0, 0.0]
    assert trace["text"] == ["0.123", "undefined", "0"]
    assert trace["marker"]["color"] == [charts.OK_COLOUR, charts.NO_DATA_COLOUR, charts.OK_COLOUR]
    assert figure["layout"]["xaxis"]["rangemode"] == "tozero"
    json.dumps(figure, allow_nan=False)  # plain JSON, no NaN


def test_log_bars_stub_zero_at_the_smallest_value() -> None:
    figure = figures.bars(["a", "b"], [2.5, 0.0], axis_title="cf", hover=["", ""], log=True)
    trace = figure["data"][0]
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert trace["x"] == [2.5, 2.5]
    assert trace["text"] == ["2.50", "0"]
    assert trace["marker"]["color"][1] == charts.NO_DATA_COLOUR


def test_criticality_ranking_draws_the_sr_threshold() -> None:
    rows = [
        {"name": "A", "sr": 1.7, "stage": "extraction", "basis": "GS+EU", "ei": None},
        {"name": "B", "sr": 0.4, "stage": "processing", "basis": "GS", "ei": 3.1},
        {"name": "C", "sr": None, "stage": None, "basis": None, "ei": None},
    ]
    figure = figures.criticality_ranking(rows, "2019–2023")
    assert figure["data"][0]["y"] == ["A", "B"]
    assert figure["data"][0]["marker"]["color"] == [charts.OVER_COLOUR, charts.OK_COLOUR]
    (line,) = figure["layout"]["shapes"]
    assert line["x0"] == euc.SR_THRESHOLD
    assert figures.sr_ei(rows[:1], "2019–2023") is None  # no EI: no scatter


def test_top_with_rest_sums_the_others() -> None:
    items = [(f"C{i}", f"country {i}", 1.0) for i in range(20)]
    head = figures.top_with_rest(items, top=15)
    assert len(head) == 16
    assert head[-1] == ("", "5 others", 5.0)
