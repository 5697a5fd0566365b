"""The command line starts light and keeps its commands.

``import critmat.cli``, ``critmat --version`` and ``critmat --help`` must not load the heavy
libraries (data frames, databases, the web stack) nor critmat's data, store, indicator, risk,
platform, API, web or report modules: the commands import those when they run
(:mod:`critmat.commands`). Each check runs in a fresh interpreter, so nothing imported by the
test session counts. Speed itself is measured by ``benchmarks/cli_start.py``, not here.

The command list was written down from the app before the commands moved out of
``critmat/cli.py`` into :mod:`critmat.commands`; it is also the order ``critmat --help`` lists.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer.main

from critmat import __version__
from critmat.cli import app

#: Packages and critmat modules that a bare start must not import (a name covers its submodules).
HEAVY_MODULES = (
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "polars",
    "plotly",
    "dask",
    "fastapi",
    "uvicorn",
    "starlette",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "openpyxl",
    "jinja2",
    "argon2",
    "critmat.store",
    "critmat.indicators",
    "critmat.risk",
    "critmat.scenarios",
    "critmat.sources",
    "critmat.pipeline",
    "critmat.platform",
    "critmat.api",
    "critmat.web",
    "critmat.reports",
    "critmat.services",
)

#: Every command path, in the order of ``critmat --help`` and of each group's ``--help``.
EXPECTED_COMMANDS = [
    "materials",
    "material",
    "production",
    "dependency",
    "trend",
    "reliance",
    "unit-values",
    "origins",
    "restrictions",
    "report",
    "serve",
    "geopolrisk",
    "criticality",
    "assess",
    "member-state",
    "member-states",
    "data",
    "data pull",
    "data ensure",
    "data import",
    "data status",
    "users",
    "users add",
    "users list",
    "users disable",
    "users unlock",
    "orgs",
    "orgs add",
    "orgs list",
    "db",
    "db upgrade",
    "stress",
    "stress list",
    "stress run",
    "stress backtest",
    "stress montecarlo",
    "stockpile",
    "stockpile journal",
    "stockpile positions",
    "stockpile size",
    "stockpile release",
    "stockpile holders",
    "stockpile holders add",
    "stockpile holders list",
    "stockpile lots",
    "stockpile lots add",
    "stockpile lots list",
    "stockpile book",
    "stockpile book purchase",
    "stockpile book transfer",
    "stockpile book rotation",
    "stockpile book release",
    "stockpile book write-off",
    "stockpile targets",
    "stockpile targets set",
    "stockpile triggers",
    "stockpile triggers add",
    "stockpile triggers list",
    "stockpile triggers remove",
]

#: What ``critmat geopolrisk`` must not load: the other questions' indicators, the EU method, the
#: origin breakdown and everything of the web stack (the command needs the store, the importer
#: and year rules, the catalogue and its own method only).
NOT_FOR_GEOPOLRISK = (
    "critmat.indicators.consumption",
    "critmat.indicators.trade_sources",
    "critmat.indicators.unit_values",
    "critmat.indicators.precomputed",
    "critmat.reference.content_factors",
    "critmat.risk.eu_criticality",
    "critmat.services.risk_breakdown",
    "critmat.services.risk_criticality",
    "critmat.api",
    "critmat.web",
    "critmat.reports",
    "fastapi",
    "plotly",
    "sqlalchemy",
)
#: Runs the entry point with the given arguments, then prints the loaded modules as JSON on the
#: last line of stderr (after the command's own output, at interpreter exit).
ENTRY_POINT_PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["critmat", *sys.argv[1:]]
from critmat.cli import main
main()
"""


def heavy_among(modules: list[str]) -> list[str]:
    """The modules of ``modules`` that are, or belong to, one of :data:`HEAVY_MODULES`."""
    return sorted(
        name
        for name in modules
        if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY_MODULES)
    )


def run_entry_point(
    *args: str, data_dir: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``critmat ARGS`` in a fresh interpreter: the finished process and its loaded modules."""
    env = dict(os.environ)
    if data_dir is not None:
        env["CRITMAT_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    return done, modules


def test_import_of_the_cli_loads_no_heavy_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import critmat.cli; import sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules: list[str] = ast.literal_eval(done.stdout)
    assert "critmat.cli" in modules
    assert "critmat.commands.geopolrisk" in modules  # the commands are registered...
    assert heavy_among(modules) == []  # ... without what they run on


def test_version_prints_the_version_and_loads_no_heavy_module() -> None:
    done, modules = run_entry_point("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"critmat {__version__}\n"
    assert heavy_among(modules) == []


def test_help_lists_every_command_and_loads_no_heavy_module() -> None:
    done, modules = run_entry_point("--help")
    assert done.returncode == 0, done.stderr
    for name in EXPECTED_COMMANDS:
        if " " not in name:
            assert f" {name} " in done.stdout
    assert heavy_among(modules) == []


def test_a_command_that_runs_loads_what_it_runs_on(real_data_dir: Path) -> None:
    """The probe sees heavy modules when there are some: ``dependency`` reads the store."""
    done, modules = run_entry_point(
        "dependency", "cobalt", "--year", "2022", "--format", "json", data_dir=real_data_dir
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["importer"] == "EU27"
    assert {"pandas", "duckdb", "critmat.store", "critmat.indicators"} <= set(modules)
    assert "critmat.web" not in modules and "fastapi" not in modules


GEOPOLRISK_ARGS = ("geopolrisk", "--importer", "DEU", "--material", "cobalt", "--year", "2022")


def test_geopolrisk_answers_without_the_other_questions_modules(real_data_dir: Path) -> None:
    done, modules = run_entry_point(*GEOPOLRISK_ARGS, "--format", "json", data_dir=real_data_dir)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert (row["wmd_commodity"], row["importer"], row["year"]) == ("Cobalt", "DEU", 2022)
    assert 0 < row["score"] < 1
    assert {"duckdb", "critmat.store", "critmat.risk.geopolrisk"} <= set(modules)
    loaded = [
        name
        for name in modules
        if any(name == heavy or name.startswith(heavy + ".") for heavy in NOT_FOR_GEOPOLRISK)
    ]
    assert loaded == []


def test_geopolrisk_answers_without_pandas(real_data_dir: Path) -> None:
    done, modules = run_entry_point(*GEOPOLRISK_ARGS, data_dir=real_data_dir)
    assert done.returncode == 0, done.stderr
    assert [m for m in modules if m.split(".")[0] in ("pandas", "numpy", "pyarrow")] == []


def command_paths(command: Any, prefix: str = "") -> list[str]:
    """Every command below ``command`` (a Click group), depth first, in registration order."""
    paths: list[str] = []
    for name, sub in getattr(command, "commands", {}).items():
        path = f"{prefix} {name}".strip()
        paths.append(path)
        paths.extend(command_paths(sub, path))
    return paths


def test_the_app_has_the_same_commands_in_the_same_order() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert paths == EXPECTED_COMMANDS
