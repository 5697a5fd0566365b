"""What the golden set asks: the API requests and the CLI examples, in recording order.

The requests cover every statistics, risk and stress route of the API (``/api/v1/openapi.json``,
tags ``statistics``, ``risk`` and ``stress``) with several materials (by id, name, alias and
symbol), importers (EU27, single Member States, a group, countries joined by commas), explicit
years with data (the default dataset: World Mining Data 2018-2024, BACI 1995-2024) and the call
without a year (the default-year behaviour), bases and stages, the CSV and XLSX downloads of a
few table routes, and error answers (unknown names, years outside the data, invalid parameters).

The CLI examples are the README's "command line" examples (README.md, "What you get"), each run
with ``--format json``, plus a few calls without a year that record the CLI's default year.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

from tests.support import DATA

Query = Sequence[tuple[str, str | int]]


@dataclass(frozen=True)
class ApiRequest:
    """One request: ``route`` is its OpenAPI path template, ``url`` the path and query sent."""

    method: Literal["GET", "POST"]
    route: str
    url: str
    body: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """``"GET <url>"``, or ``"POST <url> <body as compact JSON with sorted keys>"``."""
        if self.body is None:
            return f"{self.method} {self.url}"
        return f"{self.method} {self.url} {json.dumps(self.body, sort_keys=True)}"

    @classmethod
    def from_key(cls, key: str, route: str) -> ApiRequest:
        """The request a recorded ``key`` stands for (the inverse of :attr:`key`)."""
        method, _, rest = key.partition(" ")
        if method == "GET":
            return cls("GET", route, rest)
        if method == "POST":
            url, _, body = rest.partition(" ")
            return cls("POST", route, url, json.loads(body))
        raise ValueError(f"unknown method in golden key {key!r}")


def get(route: str, query: Query = (), **path: str) -> ApiRequest:
    """A GET of ``route`` with its ``{placeholders}`` filled from ``path`` (URL-quoted)."""
    filled = route.format(**{name: quote(value, safe="") for name, value in path.items()})
    url = f"{filled}?{urlencode(list(query))}" if query else filled
    return ApiRequest("GET", route, url)


def post(route: str, body: dict[str, Any]) -> ApiRequest:
    return ApiRequest("POST", route, route, body)


API = "/api/v1"
#: Materials asked by catalogue id, name or alias (the API resolves all three).
MATERIALS = ("cobalt", "lithium", "rare earths", "graphite", "nickel", "copper", "gallium")
#: Years with production and trade data in the default dataset (explicit-year requests).
YEARS = (2019, 2020, 2021, 2022, 2023)
UNKNOWN_MATERIAL = "unobtainium"


def _materials() -> list[ApiRequest]:
    route = f"{API}/materials"
    one = f"{API}/materials/{{material}}"
    return [
        get(route),
        get(route, [("critical", "true")]),
        get(route, [("critical", "false")]),
        get(route, [("strategic", "true")]),
        get(route, [("critical", "true"), ("strategic", "false")]),
        get(route, [("format", "csv")]),
        *(get(one, material=m) for m in MATERIALS),
        get(one, material="REE"),  # alias
        get(one, material="Co"),  # symbol
        get(one, material="Rare Earths (REO)"),  # WMD series name
        get(one, material="coking_coal"),  # energy raw material
        get(one, material=UNKNOWN_MATERIAL),  # 404 with suggestions
    ]


def _production() -> list[ApiRequest]:
    route = f"{API}/materials/{{material}}/production"
    out = [get(route, material=m) for m in MATERIALS]  # default year
    out += [get(route, [("year", y)], material=m) for m in MATERIALS for y in (2019, 2021, 2023)]
    out += [
        get(route, [("year", 2018)], material="cobalt"),
        get(route, [("year", 2024)], material="cobalt"),
        get(route, [("year", 2023)], material="REE"),
        get(route, [("year", 1990)], material="cobalt"),  # outside the data
        get(route, material=UNKNOWN_MATERIAL),
        get(route, [("year", "soon")], material="cobalt"),  # 422
        get(route, [("year", 2023), ("format", "csv")], material="cobalt"),
        get(route, [("year", 2023), ("format", "xlsx")], material="lithium"),
    ]
    return out


def _member_states() -> list[ApiRequest]:
    route = f"{API}/materials/{{material}}/member-states"
    out: list[ApiRequest] = []
    for material in ("cobalt", "lithium", "rare earths", "graphite"):
        out.append(get(route, material=material))
        out += [get(route, [("year", y)], material=material) for y in (2020, 2023)]
    out += [
        get(route, [("year", 2023), ("basis", "value")], material="cobalt"),
        get(route, [("basis", "value")], material="nickel"),
        get(route, [("year", 2022), ("stage", "processing")], material="lithium"),
        get(route, [("year", 2023), ("stage", "extraction")], material="cobalt"),
        get(route, [("year", 2023), ("stage", "smelting")], material="cobalt"),  # unknown stage
        get(route, [("year", 2023), ("format", "csv")], material="gallium"),
        get(route, material=UNKNOWN_MATERIAL),
    ]
    return out


def _reliance() -> list[ApiRequest]:
    route = f"{API}/materials/{{material}}/reliance"
    out = [get(route, material=m) for m in ("cobalt", "copper", "graphite", "nickel", "lithium")]
    out += [
        get(route, [("importer", "DEU")], material="copper"),
        get(route, [("importer", "FRA")], material="nickel"),
        get(route, [("from", 2019), ("to", 2023)], material="cobalt"),
        get(route, [("importer", "DEU,FRA,ITA"), ("from", 2020)], material="copper"),
        get(route, [("importer", "Narnia")], material="copper"),  # unknown importer
    ]
    by_stage = f"{API}/reliance"  # reliance at a value-chain stage (default: the EU 2023 stage)
    asks: list[Query] = [
        [("material", "nickel")],
        [("material", "nickel"), ("stage", "processing")],
        [("material", "copper"), ("stage", "all")],
        [("material", "tin"), ("stage", "all")],  # no production series: no data, not 0
        [("material", "cobalt"), ("importer", "DEU"), ("stage", "extraction")],
        [("material", "tin"), ("stage", "smelting")],  # unknown stage: the valid ones named
    ]
    return out + [get(by_stage, ask) for ask in asks]


def _dependency() -> list[ApiRequest]:
    route = f"{API}/dependency"
    out = [get(route, [("material", m)]) for m in MATERIALS]  # default year
    out += [get(route, [("material", m), ("year", y)]) for m in MATERIALS for y in (2019, 2023)]
    out += [get(route, [("material", "cobalt"), ("year", y)]) for y in (2020, 2021, 2022)]
    out += [get(route, [("material", m)]) for m in ("manganese", "tungsten", "aluminium")]
    out += [get(route, [("material", m), ("year", 2021)]) for m in ("manganese", "tungsten")]
    out += [
        get(route, [("material", "rare earths"), ("year", 2024), ("importer", "EU27")]),
        get(
            route,
            [
                ("material", "lithium"),
                ("stage", "processing"),
                ("year", 2023),
                ("importer", "DEU"),
                ("basis", "value"),
            ],
        ),
        get(route, [("hs", "282200"), ("year", 2023), ("importer", "DEU,FRA,ITA")]),
        get(
            route,
            [("hs", "282200"), ("year", 2023), ("importer", "DEU,FRA,ITA"), ("basis", "value")],
        ),
        get(route, [("hs", "282200")]),
        get(route, [("material", "cobalt"), ("year", 2015)]),
        get(route, [("material", "cobalt"), ("stage", "extraction"), ("year", 2023)]),
        get(route, [("material", "graphite"), ("stage", "synthetic"), ("year", 2023)]),
        get(route, [("material", "REE"), ("stage", "magnets"), ("year", 2022)]),
        *(
            get(route, [("material", "cobalt"), ("year", 2023), ("importer", i)])
            for i in ("DEU", "FRA", "POL", "Italy", "G7", "DEU,FRA,ITA")
        ),
        *(
            get(route, [("material", m), ("year", 2023), ("basis", "value")])
            for m in ("cobalt", "gallium", "nickel")
        ),
        get(route, [("material", "copper"), ("importer", "DEU"), ("basis", "value")]),
        get(route, [("material", "cobalt"), ("year", 2023), ("format", "csv")]),
        get(route, [("material", "graphite"), ("year", 2021), ("format", "xlsx")]),
        # errors
        get(route),  # neither material nor hs: 422
        get(route, [("material", "cobalt"), ("hs", "282200")]),  # both: 422
        get(route, [("material", UNKNOWN_MATERIAL)]),
        get(route, [("material", "cobalt"), ("importer", "Narnia")]),
        get(route, [("material", "cobalt"), ("year", 1990)]),
        get(route, [("hs", "999999"), ("year", 2023)]),
        get(route, [("hs", "12345")]),  # not six digits: 422
        get(route, [("material", "cobalt"), ("basis", "volume")]),  # 422
    ]
    return out


def _dependency_series() -> list[ApiRequest]:
    route = f"{API}/dependency/series"
    out = [get(route, [("material", m)]) for m in ("cobalt", "lithium", "graphite", "copper")]
    out += [
        get(route, [("material", "rare earths"), ("from", 2019), ("to", 2023)]),
        get(route, [("material", "graphite"), ("from", 2015), ("basis", "value")]),
        get(route, [("material", "nickel"), ("importer", "DEU"), ("from", 2010)]),
        get(route, [("material", "gallium"), ("importer", "FRA"), ("to", 2020)]),
        get(route, [("material", "lithium"), ("stage", "processing"), ("importer", "POL")]),
        get(route, [("hs", "282200"), ("from", 2018)]),
        get(route, [("material", "cobalt"), ("format", "csv")]),
        get(route, [("material", UNKNOWN_MATERIAL)]),
        get(route, [("material", "cobalt"), ("from", 2030)]),
    ]
    return out


def _dependency_strategic() -> list[ApiRequest]:
    """Every strategic material's stages (``/dependency/strategic``) and the no-data answers
    of one stage (null flag, years with data, never 0)."""
    route = f"{API}/dependency/strategic"
    return [
        get(route, [("importer", "EU27")]),
        get(route, [("importer", "DEU"), ("year", 2023)]),
        get(route, [("importer", "FRA"), ("format", "csv")]),
        get(route, [("importer", "Narnia")]),
        get(f"{API}/dependency", [("material", "germanium"), ("year", 2022)]),
        get(f"{API}/dependency", [("material", "germanium")]),
        get(f"{API}/dependency", [("hs", "850511"), ("year", 2020)]),
    ]


def _unit_values() -> list[ApiRequest]:
    route = f"{API}/unit-values"
    return [
        get(route, [("hs", "282200"), ("year", 2023)]),
        get(route, [("hs", "282200")]),
        get(route, [("material", "cobalt")]),
        get(route, [("material", "cobalt"), ("year", 2021)]),
        get(route, [("material", "lithium"), ("year", 2023), ("importer", "DEU")]),
        get(route, [("material", "gallium"), ("year", 2022)]),
        get(route, [("material", "rare earths"), ("year", 2020), ("importer", "FRA")]),
        get(route, [("material", "graphite"), ("stage", "extraction"), ("year", 2019)]),
        get(route, [("hs", "282200"), ("year", 2023), ("format", "csv")]),
        get(route, [("material", UNKNOWN_MATERIAL)]),
    ]


def _restrictions() -> list[ApiRequest]:
    """The registry, each request with the day its "in force" is read for pinned (``on``):
    the default, today, would change the recorded answer over time."""
    route = f"{API}/restrictions"
    day = ("on", ASSESSED_ON)
    return [
        get(route, [day]),
        get(route, [("country", "CHN"), day]),
        get(route, [("country", "CHN"), ("exposure", "EU27"), day]),
        get(route, [("country", "CHN"), ("exposure", "EU27"), ("basis", "mass"), day]),
        get(route, [("material", "gallium"), ("on", "2025-12-01")]),
        get(route, [("material", "graphite"), ("exposure", "DEU"), day]),
        get(
            route,
            [("material", "rare earths"), ("country", "China"), ("exposure", "EU27"), day],
        ),
        get(route, [("country", "IDN"), ("exposure", "FRA"), day]),
        get(route, [("country", "COD"), ("exposure", "EU27"), day]),
        get(route, [("format", "csv"), day]),
        get(route, [("country", "Narnia")]),
        get(route, [("material", UNKNOWN_MATERIAL)]),
    ]


def _countries() -> list[ApiRequest]:
    route = f"{API}/countries"
    one = f"{API}/countries/{{country}}"
    out = [get(route), get(route, [("format", "csv")])]
    out += [get(one, country=c) for c in ("CHN", "DEU", "COD", "Chile", "XKX", "TWN", "US")]
    out += [
        get(one, [("year", 2023)], country="CHN"),
        get(one, [("year", 2020)], country="DEU"),
        get(one, [("year", 2019)], country="IDN"),
        get(one, [("year", 1990)], country="CHN"),
        get(one, [("year", 2023), ("format", "csv")], country="CHN"),
        get(one, country="Narnia"),
    ]
    return out


def _search_and_releases() -> list[ApiRequest]:
    route = f"{API}/search"
    out = [get(route, [("q", q)]) for q in ("cobalt", "rare", "li", "china", "DE", "Ga", "REE")]
    out += [
        get(route, [("q", "ni"), ("limit", 3)]),
        get(route, [("q", "zzzzzz")]),
        get(route, [("q", "c")]),  # too short: 422
        get(f"{API}/data/releases"),
        get(f"{API}/data/releases", [("format", "csv")]),
    ]
    return out


def _geopolrisk() -> list[ApiRequest]:
    route = f"{API}/risk/geopolrisk"
    out = [get(route)]  # EU27, every commodity, default year
    out += [get(route, [("year", y)]) for y in YEARS]
    out += [
        get(route, [("importer", "EU27"), ("importer", "DEU"), ("year", 2023), ("material", m)])
        for m in ("cobalt", "lithium", "rare earths", "graphite", "nickel")
    ]
    out += [
        get(route, [("importer", "EU27"), ("importer", "DEU"), ("material", "cobalt")]),
        get(route, [("importer", "FRA"), ("material", "copper"), ("material", "nickel")]),
        get(route, [("importer", "DEU,FRA,ITA"), ("year", 2021), ("material", "gallium")]),
        get(route, [("material", "cobalt"), ("year", 2022), ("basis", "value")]),
        get(route, [("material", "cobalt"), ("year", 2022), ("compat", "peer")]),
        get(route, [("material", "Rare Earths (REO)"), ("year", 2020)]),
        get(route, [("year", 2023), ("format", "csv")]),
        get(route, [("year", 1990)]),
        get(route, [("material", UNKNOWN_MATERIAL)]),
        get(route, [("importer", "Narnia")]),
        get(route, [("compat", "other")]),  # 422
    ]
    return out


def _criticality() -> list[ApiRequest]:
    route = f"{API}/risk/criticality"
    one = f"{API}/risk/criticality/{{material}}"
    out = [
        get(route),
        get(route, [("year", 2023)]),
        get(route, [("year", 2021)]),
        get(route, [("published_si", "true")]),
        get(route, [("year", 2023), ("format", "csv")]),
        get(route, [("year", 1990)]),
    ]
    out += [get(one, material=m) for m in MATERIALS]
    out += [
        get(one, [("year", 2023)], material="cobalt"),
        get(one, [("year", 2021)], material="rare earths"),
        get(one, [("published_si", "true")], material="lithium"),
        get(one, material="coking_coal"),  # energy raw material: assessed alone
        get(one, material=UNKNOWN_MATERIAL),
        get(one, [("published_si", "false")], material="gallium"),
        get(f"{API}/risk/criticality-validation"),
        get(f"{API}/risk/criticality-validation", [("year", 2024), ("format", "csv")]),
        get(f"{API}/risk/criticality-next"),
        get(f"{API}/risk/criticality-next", [("year", 1990)]),
    ]
    return out


#: Library scenarios of src/critmat/scenarios/library (stress routes).
SCENARIOS = (
    "cobalt-drc-2025",
    "germanium-2023",
    "graphite-2023",
    "nickel-indonesia-2020",
    "rare-earths-2025-04",
    "rare-earths-2025-10",
)


def _stress() -> list[ApiRequest]:
    one = f"{API}/stress/scenarios/{{name}}"
    out = [get(f"{API}/stress/scenarios")]
    out += [get(one, name=name) for name in SCENARIOS]
    out += [get(one, name="no-such-scenario"), get(one, name="Not_A_Name")]  # 404, 422
    # the POST routes: runs of two library scenarios, a small seeded Monte Carlo, errors
    run, montecarlo = f"{API}/stress/run", f"{API}/stress/montecarlo"
    out += [
        post(run, {"scenario": "rare-earths-2025-04"}),
        post(run, {"scenario": "graphite-2023"}),
        post(run, {"scenario": "no-such-scenario"}),
        post(run, {}),  # neither scenario nor definition: 422
        post(montecarlo, {"scenario": "cobalt-drc-2025", "runs": 50, "seed": 7}),
    ]
    backtest = f"{API}/stress/backtest"
    out += [get(backtest), get(backtest, [("licensing_delay", 3)])]
    return out


def _stage_production() -> list[ApiRequest]:
    """Production by stage (``/production``): each year from its first series."""
    route, stages = f"{API}/production", f"{API}/production/stages"
    asks: list[Query] = [
        [("material", "gallium"), ("stage", "refining"), ("year", 2024)],
        [("material", "gallium"), ("stage", "processing"), ("year", 2019)],  # WMD years
        [("material", "cobalt"), ("stage", "extraction"), ("year", 2023)],  # MCS 2024
        [("material", "cobalt"), ("stage", "processing")],  # IEA, latest year
        [("material", "rare earths"), ("stage", "refining")],
        [("material", "silicon metal"), ("stage", "processing"), ("year", 2024)],  # withheld
        [("material", "magnesium")],  # no stage: the stage rule
        [("material", "gallium"), ("stage", "extraction")],  # no series: 404
        [("material", "gallium"), ("stage", "smelting-pot")],  # unknown stage: suggestions
        [("material", "cobalt"), ("stage", "processing"), ("format", "csv")],
    ]
    out = [get(route, ask) for ask in asks]
    out += [get(stages, [("material", m)]) for m in ("cobalt", "gallium", "rare earths")]
    return out


def _origins() -> list[ApiRequest]:
    """Origin tracing (``/origins``): by shipping country and by country of origin."""
    route = f"{API}/origins"
    asks: list[Query] = [
        [("material", "cobalt"), ("year", 2023)],  # EU27, intermediate traced to mines
        [("material", "cobalt"), ("stage", "processing")],  # IEA refiners, latest year
        [("material", "platinum"), ("year", 2023)],  # UK/Swiss refiners are not origins
        [("material", "palladium"), ("importer", "DEU"), ("year", 2024)],  # a Member State
        [("material", "cobalt"), ("year", 1999)],  # no production that year: 404
        [("material", "cobalt"), ("stage", "extraction")],  # no trade rows: 404
        [("material", "cobalt"), ("importer", "FRA"), ("year", 2023), ("format", "csv")],
    ]
    return [get(route, ask) for ask in asks]


def api_requests() -> list[ApiRequest]:
    """Every golden API request, in recording order (keys are unique)."""
    requests = [
        *_materials(),
        *_production(),
        *_stage_production(),
        *_origins(),
        *_member_states(),
        *_reliance(),
        *_dependency(),
        *_dependency_series(),
        *_dependency_strategic(),
        *_unit_values(),
        *_restrictions(),
        *_countries(),
        *_search_and_releases(),
        *_geopolrisk(),
        *_criticality(),
        *_stress(),
    ]
    keys = [r.key for r in requests]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"golden requests asked twice: {duplicates}"
    return requests


# ------------------------------------------------------------------------------------ CLI
@dataclass(frozen=True)
class CliExample:
    """``critmat <args>``; ``readme`` says whether README.md shows it (else it is an extra)."""

    args: tuple[str, ...]
    readme: bool = True

    @property
    def key(self) -> str:
        """The command line as a shell would take it, e.g. ``dependency 'rare earths' ...``."""
        return shlex.join(self.args)

    def argv(self) -> list[str]:
        """The arguments with repository-relative input files made absolute."""
        return [str(REPO / a) if a.startswith("tests/") else a for a in self.args]


REPO = DATA.parent.parent
COMPANY_SAMPLE = "tests/data/company_supply_sample.csv"
#: The day whose export restrictions a company assessment counts (``critmat assess --on``);
#: pinned because the default, today, would change the recorded answer over time.
ASSESSED_ON = "2026-12-01"


def cli_examples() -> list[CliExample]:
    """The README examples with ``--format json``, then extras for the CLI's default year.

    Every example of the README's console block has a JSON form; ``critmat report`` (named in
    the README's text) and ``critmat serve`` have none and are left out. The README's ``critmat
    assess ... --output report.html`` writes an HTML file; it is recorded as ``--format json``
    on standard output instead, with ``--on`` pinned (:data:`ASSESSED_ON`), as is the day of
    ``restrictions`` (whose "in force" is read for today by default).
    """
    readme = [
        ("production", "cobalt", "--year", "2023"),
        ("dependency", "rare earths", "--year", "2024", "--importer", "EU27"),
        (
            *("dependency", "lithium", "--stage", "processing", "--year", "2023"),
            *("--importer", "DEU", "--basis", "value"),
        ),
        ("dependency", "--hs", "282200", "--year", "2023", "--importer", "DEU,FRA,ITA"),
        ("trend", "graphite", "--from", "2015", "--basis", "value"),
        ("reliance", "copper"),
        ("unit-values", "--hs", "282200", "--year", "2023"),
        (
            *("geopolrisk", "--importer", "EU27", "--importer", "DEU", "--year", "2023"),
            *("--material", "cobalt"),
        ),
        ("criticality", "--explain", "cobalt"),
        ("assess", COMPANY_SAMPLE, "--on", ASSESSED_ON),
        ("stress", "run", "rare-earths-2025-04"),
        ("materials", "--strategic"),
        ("material", "REE"),
        ("restrictions", "--country", "CHN", "--exposure", "EU27", "--on", ASSESSED_ON),
        ("data", "status"),
    ]
    extras = [
        ("production", "cobalt"),  # no --year: the latest year with data, as the API
        ("dependency", "cobalt"),
        ("trend", "cobalt"),
        ("unit-values", "lithium"),
        ("geopolrisk", "--importer", "EU27", "--material", "lithium"),
        ("criticality",),
        ("material", UNKNOWN_MATERIAL),  # an error: exit code and no JSON
        ("stress", "backtest"),
    ]
    return [CliExample((*a, "--format", "json")) for a in readme] + [
        CliExample((*a, "--format", "json"), readme=False) for a in extras
    ]
