"""Reference data shipped with critmat, with typed loaders.

- :mod:`critmat.reference.materials` — material catalogue (CRMA lists, stages, HS92 codes, WMD
  commodities, aliases): :func:`load_catalogue`.
- :mod:`critmat.reference.countries` — ISO3 resolution, M49 mapping and country groups (EU27, EEA,
  OCT, candidates, RESourceEU strategic partners, G7).
- :mod:`critmat.reference.restrictions` — export-restriction registry: :func:`load_restrictions`.

Data files live in ``critmat/reference/data/``; ``docs/reference-data.md`` explains sources,
modelling decisions and how to edit them.
"""

from critmat.reference.countries import (
    GroupInfo,
    country_name,
    group_info,
    group_members,
    group_names,
    is_group,
    m49_to_iso3,
    memberships,
    resolve_country,
    resolve_importer,
)
from critmat.reference.materials import (
    STAGE_NAMES,
    Catalogue,
    Material,
    Resolved,
    Stage,
    hs92_description,
    load_catalogue,
)
from critmat.reference.restrictions import Restriction, load_restrictions, restrictions_for

__all__ = [
    "STAGE_NAMES",
    "Catalogue",
    "GroupInfo",
    "Material",
    "Resolved",
    "Restriction",
    "Stage",
    "country_name",
    "group_info",
    "group_members",
    "group_names",
    "hs92_description",
    "is_group",
    "load_catalogue",
    "load_restrictions",
    "m49_to_iso3",
    "memberships",
    "resolve_country",
    "resolve_importer",
    "restrictions_for",
]
