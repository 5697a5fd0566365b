"""The concentration actions of a company assessment: priority 1 above the 65 % benchmark,
priority 2 above the watch share, none below it (``critmat.risk.company._actions``)."""

from __future__ import annotations

from critmat.risk.company import WATCH_SHARE, MaterialExposure, _actions


def _exposure(share: float) -> MaterialExposure:
    return MaterialExposure(
        key="cobalt:refining",
        material_id="cobalt",
        material_name="Cobalt",
        strategic=True,
        stage="refining",
        stage_label="refined",
        hs_codes=["810520"],
        tonnes=200.0,
        lines=1,
        by_supplier_country=[],
        by_origin=[],
        looked_through_share=1.0,
        top_third_country="CHN",
        top_third_share=share,
        exceeds_65=share > 0.65,
        origin_hhi=share * share,
        hhi_world=None,
        geopolrisk=None,
        options=[],
    )


def test_share_above_the_benchmark_is_priority_one() -> None:
    (action,) = _actions([_exposure(0.8)], [], [])
    assert action.priority == 1 and action.kind == "concentration"
    assert action.text.startswith("Cobalt (refined): 80 % via China, above 65 %: ")
    assert action.tonnes == 160.0


def test_share_above_the_watch_share_is_priority_two() -> None:
    (action,) = _actions([_exposure(0.6)], [], [])
    assert action.priority == 2
    assert action.text.startswith("Cobalt (refined): 60 % via China, approaching 65 %: ")
    assert action.text.endswith(
        "no alternative exporter in the trade data: ask suppliers for other origins"
    )


def test_share_below_the_watch_share_asks_nothing() -> None:
    assert _actions([_exposure(WATCH_SHARE - 0.1)], [], []) == []
