"""The April 2022 IEA collective action replayed (issue 11, Must hold 2).

The published contributions are reference data with their sources; the pure proportional rule
gives each member its consumption share of 120 mb, whatever the weights, exact to the 1 kb
unit. The members' 2021 oil consumption is in the file for 2 of the 19 only (see
docs/stockpile-release.md): the others are marked missing, never 0, and the consumption-weighted
replay is not computed until all 19 are there.
"""

from __future__ import annotations

import pytest

from critmat.stockpiles.allocation import Request, allocate
from tests.stockpiles.release.iea_replay import TOTAL_KB, members, replay, table

PUBLISHED_HEAD = {"USA": 60_559, "JPN": 15_000, "KOR": 7_230, "DEU": 6_480, "FRA": 6_047}


def test_the_published_contributions_are_sourced_and_add_up_to_120_mb() -> None:
    found = members()
    assert len(found) == 19
    assert {m.iso3: m.contribution_kb for m in found if m.iso3 in PUBLISHED_HEAD} == PUBLISHED_HEAD
    assert found[-1].iso3 == "EST" and found[-1].contribution_kb == 74
    assert sum(m.contribution_kb or 0 for m in found) == pytest.approx(TOTAL_KB, abs=5)
    for m in found:  # a consumption figure is either given with its source or missing
        assert m.consumption is None or (m.consumption > 0 and m.consumption_source)


@pytest.mark.parametrize(
    "weights",
    [
        # the published contributions themselves as weights: the rule must give them back
        None,
        # uneven weights (e.g. consumption in any unit): each gets its share of 120 mb
        {"USA": 19.9, "JPN": 3.4, "KOR": 2.8, "DEU": 2.0, "FRA": 1.5, "EST": 0.03},
    ],
)
def test_proportional_gives_each_member_its_share_of_120_mb(
    weights: dict[str, float] | None,
) -> None:
    found = members()
    shares = weights or {m.iso3: float(m.contribution_kb or 0) for m in found}
    requests = [Request(iso3, "oil", TOTAL_KB, w) for iso3, w in shares.items()]
    result = allocate(TOTAL_KB, requests, "proportional", unit_t=1.0)
    total = sum(shares.values())
    for award in result.awards:
        expected = TOTAL_KB * shares[award.member_state] / total
        assert expected - 1 <= award.allocated_t <= expected  # rounded down to 1 kb
    assert TOTAL_KB - len(requests) <= result.allocated_t <= TOTAL_KB
    if weights is None:
        # the published list adds up to 120,002 kb: scaled to 120,000 and floored, each
        # member is within 2 kb of its own figure
        published = {m.iso3: m.contribution_kb for m in found}
        assert all(
            abs(a.allocated_t - (published[a.member_state] or 0)) <= 2 for a in result.awards
        )


def test_the_replay_table_shows_missing_consumption_as_missing() -> None:
    found = members()
    result = replay(found)
    rows = table()
    assert len(rows) == 19
    for member, row in zip(found, rows, strict=True):
        if member.consumption is None:
            assert row["pure_rule_kb"] is None and row["gap_kb"] is None
    if any(m.consumption is None for m in found):  # the pure rule needs all 19 weights
        assert result is None and all(row["pure_rule_kb"] is None for row in rows)
    else:
        assert result is not None and all(row["pure_rule_kb"] is not None for row in rows)
