"""Search results as the overview's pages list them: :func:`critmat.services.catalogue.search`
(the one search ranking of critmat), each hit with a line saying what it is and what matched,
and what the query names exactly, if anything (the page of that opens at once).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from critmat.errors import UnknownNameError
from critmat.indicators.panel import country_name
from critmat.reference._common import name_key
from critmat.reference.countries import resolve_country
from critmat.reference.materials import Catalogue, Material
from critmat.services import catalogue as catalogue_service


@dataclass(frozen=True)
class Hit:
    """A search result: a material (``key`` its id) or a country (``key`` its ISO3 code);
    ``detail``: its CRMA status and the alias that matched, or the country's code."""

    kind: str  # material or country
    key: str
    label: str
    detail: str


@dataclass(frozen=True)
class SearchResult:
    """The ranked ``hits`` for ``query``; ``named``: the one material or country the query
    names exactly (an id, name or alias, a stage's alias included, or a country's name or
    code), ``None`` when it names none or both."""

    query: str
    hits: list[Hit]
    named: Hit | None


def search_result(catalogue: Catalogue, query: str, limit: int = 12) -> SearchResult:
    """The best ``limit`` materials and countries for ``query``, best first (the catalogue's
    ranking puts what the query names exactly first), and the one it names, if any."""
    hits = [_hit(catalogue, found) for found in catalogue_service.search(query, limit)]
    return SearchResult(query, hits, _named(catalogue, query))


def _hit(catalogue: Catalogue, found: catalogue_service.SearchHit) -> Hit:
    if found.kind != "material":
        return Hit("country", found.id, found.name, found.id)
    via = found.matched if name_key(found.matched) != name_key(found.name) else None
    return _material_hit(catalogue.get(found.id), via)


def _material_hit(material: Material, via: str | None) -> Hit:
    status = (
        "strategic" if material.strategic else ("critical" if material.critical else "catalogue")
    )
    detail = status + (f" · matches “{via}”" if via else "")
    return Hit("material", material.id, material.name, detail)


def _named(catalogue: Catalogue, query: str) -> Hit | None:
    if not name_key(query):
        return None
    found: list[Hit] = []
    with contextlib.suppress(UnknownNameError):
        found.append(_material_hit(catalogue.resolve(query).material, None))
    try:
        code = resolve_country(query)
        found.append(Hit("country", code, country_name(code), code))
    except UnknownNameError:
        pass
    return found[0] if len(found) == 1 else None
