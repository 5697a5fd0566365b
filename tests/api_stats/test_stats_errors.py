"""Bad requests get a helpful JSON body with the right status, never a stack trace."""

from __future__ import annotations

import pytest

from critmat.api.routes import stats
from tests.api_stats.conftest import Api

STATS_GETS = [
    "/api/v1/materials",
    "/api/v1/materials/cobalt",
    "/api/v1/materials/cobalt/production",
    "/api/v1/materials/cobalt/member-states",
    "/api/v1/materials/copper/reliance",
    "/api/v1/reliance?material=copper",
    "/api/v1/dependency?material=cobalt",
    "/api/v1/dependency/series?material=cobalt",
    "/api/v1/dependency/strategic?importer=DEU",
    "/api/v1/unit-values?hs=282200",
    "/api/v1/restrictions",
    "/api/v1/countries",
    "/api/v1/countries/CHN",
    "/api/v1/search?q=li",
    "/api/v1/data/releases",
]


def _no_trace(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and "critmat/" not in text


def test_every_statistics_route_is_listed_here() -> None:
    declared = {r.path for r in stats.router.routes}  # type: ignore[attr-defined]
    listed = {
        p.split("?")[0]
        .replace("cobalt", "{material}")
        .replace("copper", "{material}")
        .replace("CHN", "{country}")
        for p in STATS_GETS
    }
    assert declared == listed


@pytest.mark.parametrize("path", STATS_GETS)
def test_login_required(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "login required"
    bad = api.client.get(path, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/materials/unobtainium", "material"),
        ("/api/v1/materials/kobalt/production", "material"),
        ("/api/v1/dependency?material=litium", "material"),
        ("/api/v1/countries/Atlantis", "country"),
        ("/api/v1/dependency?material=cobalt&importer=Narnia", "country"),
    ],
)
def test_unknown_names_are_404_with_suggestions(api: Api, path: str, kind: str) -> None:
    response = api.client.get(path, headers=api.headers())
    assert response.status_code == 404
    body = response.json()
    assert body["kind"] == kind and "error" in body
    assert isinstance(body["suggestions"], list)
    if kind == "material":
        assert body["suggestions"]
    _no_trace(response.text)
    # a cached error answers the same
    assert api.client.get(path, headers=api.headers()).json() == body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/dependency?material=cobalt&year=abc",
        "/api/v1/dependency?material=cobalt&basis=weight",
        "/api/v1/dependency?hs=12",
        "/api/v1/dependency?hs=28220a",
        "/api/v1/dependency?material=cobalt&hs=282200",
        "/api/v1/dependency",
        "/api/v1/dependency?material=cobalt&year=99999",
        "/api/v1/dependency/series?material=cobalt&from=x",
        "/api/v1/dependency?material=cobalt&format=pdf",
        "/api/v1/search?q=l",
        "/api/v1/search?q=" + "x" * 5000,
        "/api/v1/materials/" + "x" * 500,
        "/api/v1/dependency?material=" + "x" * 500,
        "/api/v1/materials/cobalt/production?year=-1",
        "/api/v1/search?q=li&limit=0",
    ],
)
def test_malformed_parameters_are_422(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.headers())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid request" and body["problems"]
    _no_trace(response.text)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/dependency?material=cobalt&year=1990", 400),  # outside the trade data
        ("/api/v1/dependency?material=cobalt&stage=magnets", 404),  # cobalt has no such stage
        ("/api/v1/dependency/series?material=cobalt&from=2020&to=2010", 400),
        ("/api/v1/materials/cobalt/production?year=1999", 400),
        ("/api/v1/dependency?hs=999999", 404),  # no rows for the code
    ],
)
def test_data_problems_are_4xx_with_a_hint(api: Api, path: str, status: int) -> None:
    response = api.client.get(path, headers=api.headers())
    assert response.status_code == status, response.text
    assert response.json()["error"]
    _no_trace(response.text)


def test_oversized_body_is_413(api: Api) -> None:
    limit = api.seeded.settings.max_body_bytes
    response = api.client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * (limit + 10) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
