"""Two rules every statistics answer follows, each written once: the default year
(:func:`critmat.indicators.lookup.year_or_latest`) and the stage of a material query
(:meth:`critmat.reference.materials.Catalogue.choose_stage`)."""

from __future__ import annotations

import pytest

from critmat.errors import CritmatError, UnknownNameError
from critmat.indicators.lookup import year_or_latest
from critmat.reference.materials import load_catalogue


def test_no_year_means_the_latest_year_with_data() -> None:
    assert year_or_latest(None, 1995, 2024, "trade") == 2024
    assert year_or_latest(2019, 1995, 2024, "trade") == 2019


def test_a_year_outside_the_data_is_refused_with_the_span() -> None:
    with pytest.raises(CritmatError, match="outside the trade data"):
        year_or_latest(1990, 1995, 2024, "trade")


def test_a_named_stage_wins_even_without_data() -> None:
    catalogue = load_catalogue()
    cobalt = catalogue.resolve("cobalt")
    chosen = catalogue.choose_stage(cobalt, lambda _stage: False, named="extraction")
    assert chosen is not None and chosen.name == "extraction"
    with pytest.raises(UnknownNameError):
        catalogue.choose_stage(cobalt, lambda _stage: True, named="smelting")


def test_the_stage_a_name_names_comes_before_the_data() -> None:
    catalogue = load_catalogue()
    carbonate = catalogue.resolve("lithium carbonate")
    assert carbonate.stage is not None
    assert catalogue.choose_stage(carbonate, lambda _stage: False) == carbonate.stage


def test_unshared_stages_with_data_come_first_then_any_with_data() -> None:
    catalogue = load_catalogue()
    resolved = catalogue.resolve("gold")
    gold = resolved.material
    shared = [s for s in gold.stages if catalogue.shared_with(gold.id, s)]
    own = [s for s in gold.stages if not catalogue.shared_with(gold.id, s)]
    assert shared, "gold's ore code is shared with the platinum-group metals"
    everything = catalogue.choose_stage(resolved, lambda _stage: True)
    assert everything == (own or shared)[0]
    only_shared = catalogue.choose_stage(resolved, lambda stage: stage in shared)
    assert only_shared == shared[0]
    assert catalogue.choose_stage(resolved, lambda _stage: False) is None
