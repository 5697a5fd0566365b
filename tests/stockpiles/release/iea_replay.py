"""The April 2022 IEA collective action (120 mb) replayed with the proportional rule.

Reads ``critmat/reference/data/iea_2022_collective_action.csv`` (the 19 published
contributions, thousand barrels, and each member's 2021 oil consumption, TWh, where one was found)
and allocates 120,000 kb with :func:`critmat.stockpiles.allocation.allocate` under
``proportional``, consumption shares as weights, in whole units of 1 kb — once every member
has a consumption figure; until then the pure rule is shown as missing (never weighted 0).

Run ``.venv/bin/python -m tests.stockpiles.release.iea_replay`` for the comparison table that
docs/stockpile-release.md shows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from critmat.reference._common import data_path
from critmat.stockpiles.allocation import Allocation, Request, allocate

TOTAL_KB = 120_000.0
FILE = "iea_2022_collective_action.csv"


@dataclass(frozen=True)
class Member:
    country: str
    iso3: str
    contribution_kb: float | None
    consumption: float | None  # 2021 oil consumption, TWh (None: not found)
    consumption_source: str


def members() -> list[Member]:
    """The 19 members of the file, in its order."""
    with open(data_path(FILE), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def number(text: str) -> float | None:
        return float(text) if text.strip() else None

    return [
        Member(
            r["country"],
            r["iso3"],
            number(r["contribution_kb"]),
            number(r["oil_consumption_2021_twh"]),
            r["consumption_source"],
        )
        for r in rows
    ]


def replay(found: list[Member]) -> Allocation | None:
    """120,000 kb shared in proportion to the 19 members' consumption; None while any member's
    figure is missing (shares among a subset would not be the IEA rule). Requests are not
    binding here: each member may take it all."""
    weighted = [m for m in found if m.consumption is not None]
    if len(weighted) < len(found):
        return None
    requests = [Request(m.iso3, "oil", TOTAL_KB, m.consumption, tier=1) for m in weighted]
    return allocate(TOTAL_KB, requests, "proportional", unit_t=1.0)


def table() -> list[dict[str, object]]:
    """One row per member: published kb, pure-rule kb (None: no consumption figure), gap."""
    found = members()
    result = replay(found)
    pure = {a.member_state: a.allocated_t for a in result.awards} if result else {}
    return [
        {
            "country": m.country,
            "published_kb": m.contribution_kb,
            "pure_rule_kb": pure.get(m.iso3),
            "gap_kb": None
            if m.iso3 not in pure or m.contribution_kb is None
            else m.contribution_kb - pure[m.iso3],
        }
        for m in found
    ]


def main() -> None:
    print(f"{'member':<16}{'published kb':>14}{'pure rule kb':>14}{'gap kb':>10}")
    for row in table():

        def cell(value: object) -> str:
            return "no data" if value is None else f"{value:,.0f}"

        print(
            f"{row['country']!s:<16}{cell(row['published_kb']):>14}"
            f"{cell(row['pure_rule_kb']):>14}{cell(row['gap_kb']):>10}"
        )


if __name__ == "__main__":
    main()
