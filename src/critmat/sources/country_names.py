"""Country names as publishers spell them (USGS, IEA, ...), resolved to ISO3 codes.

:func:`iso3_from_name` takes a bare country name — footnote markers and qualifiers such as
USGS's ``Japane`` (estimated) or ``Brazil (beneficiated)`` are for the caller to strip — and
tries, in order: the publisher spellings of :data:`PUBLISHER_ALIASES`, then the World Mining Data
spellings and the project's country resolver (:func:`critmat.sources.wmd.wmd_country_iso3`,
which covers ISO names, codes and common aliases such as ``Congo (Kinshasa)`` or ``Burma``).
:func:`aggregate_code` recognises the world total and rest-of-world rows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from critmat.sources.base import AGGREGATE_COUNTRIES
from critmat.sources.wmd import wmd_country_iso3

#: Spellings that neither WMD's aliases nor the resolver know (keys: lower case, single spaces).
#: Empty for USGS: every country its 2023, 2024 and 2026 tables name resolves once the footnote
#: marks and qualifiers are gone (``Congo (Kinshasa)``, ``Korea, Republic of`` and ``Burma``
#: included); add a publisher's spelling here when a new file brings one.
PUBLISHER_ALIASES: dict[str, str] = {}

WORLD, REST_OF_WORLD = AGGREGATE_COUNTRIES
#: Names of aggregate rows (lower case), by the code they stand for.
_AGGREGATE_NAMES: dict[str, str] = {
    "world": WORLD,
    "world total": WORLD,
    "world total (rounded)": WORLD,
    "total": WORLD,
    "other countries": REST_OF_WORLD,
    "other countries (rounded)": REST_OF_WORLD,
    "other": REST_OF_WORLD,
    "rest of world": REST_OF_WORLD,
    "rest of the world": REST_OF_WORLD,
}


def name_key(name: str) -> str:
    """``name`` in lower case with runs of white space (incl. no-break spaces) as one space."""
    return re.sub(r"\s+", " ", name.replace("\u00a0", " ")).strip().lower()


@lru_cache(maxsize=4096)
def iso3_from_name(name: str) -> str | None:
    """ISO3 code of a country as a publisher spells it, or ``None`` when it is not a country
    critmat knows (aggregates such as "World total" give ``None``: see :func:`aggregate_code`)."""
    key = name_key(name)
    if not key or key in _AGGREGATE_NAMES:
        return None
    if key in PUBLISHER_ALIASES:
        return PUBLISHER_ALIASES[key]
    return wmd_country_iso3(" ".join(name.replace("\u00a0", " ").split()))


def aggregate_code(name: str) -> str | None:
    """``WLD`` for a world-total row, ``ROW`` for "Other countries"/"Rest of world", else None."""
    return _AGGREGATE_NAMES.get(name_key(name))
