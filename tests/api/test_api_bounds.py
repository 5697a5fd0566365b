"""The API's edges, on SQLite and PostgreSQL (issue 8, findings 5 and 7): ids and limits bounded
to the database's range (422, never 500), RFC 3339 timestamps with a zone, OPTIONS answered on
every path, every status documented in the OpenAPI schema, the body-size limit applied before
the body of an anonymous upload is read (a real uvicorn server and a raw socket), and text the
database cannot store refused with 422."""

from __future__ import annotations

import re
import select
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from critmat.config import Settings
from critmat.platform import accounts
from critmat.platform.db import transaction
from critmat.server.access import ALL_ROLES
from critmat.server.app import create_app
from critmat.server.errors import access_rules
from critmat.server.params import DB_INT_MAX
from tests.api.conftest import bearer, login
from tests.live_server import LiveServer, free_port, uvicorn_command
from tests.platform_support import PASSWORD, Seeded, seed_platform

TOO_BIG = 3_000_000_000  # over 2**31 - 1: overflowed PostgreSQL's INTEGER columns
#: A value for each non-id path parameter of the schema, so that every path can be called.
PATH_VALUES = {"material": "cobalt", "country": "DEU", "name": "cobalt-drc-2025"}
SAMPLE = Path(__file__).parents[1] / "data" / "company_supply_sample.csv"
#: The start of a multipart body with one file part (boundary ``xyz``).
PART = (
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\n"
)


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app without its lifespan: enough for the schema and OPTIONS (no database used)."""
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("plain")))


@pytest.fixture(scope="module")
def schema(plain_app: Any) -> dict[str, Any]:
    openapi: dict[str, Any] = plain_app.openapi()
    return openapi


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def _fill(path: str, ids: int) -> str:
    """``path`` with its parameters: every id set to ``ids``."""

    def value(match: re.Match[str]) -> str:
        return PATH_VALUES.get(match.group(1), str(ids))

    return re.sub(r"\{(\w+)\}", value, path)


# -- ids and limits -----------------------------------------------------------------------------
def test_every_id_and_limit_in_the_schema_fits_the_database(schema: dict[str, Any]) -> None:
    checked = 0
    for _path, _method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["schema"].get("type") == "integer" and (
                parameter["in"] == "path" or parameter["name"] in ("limit", "offset")
            ):
                assert parameter["schema"].get("minimum", -1) >= 0, parameter
                assert parameter["schema"].get("maximum", 2**63) <= DB_INT_MAX, parameter
                checked += 1
    assert checked >= 10


def test_ids_beyond_the_database_range_are_refused_with_422(
    app_client: TestClient, seeded: Seeded, schema: dict[str, Any]
) -> None:
    """On PostgreSQL these answered 500 (integer out of range)."""
    headers = bearer(app_client, seeded.users["admin@a"])
    tried = 0
    for path, method, operation in _operations(schema):
        path_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        if all(name in PATH_VALUES for name in path_names):
            continue  # no id in the path
        too_big = app_client.request(method, _fill(path, TOO_BIG), headers=headers)
        assert too_big.status_code == 422, (method, path, too_big.text)
        problems = [p["problem"] for p in too_big.json()["problems"]]
        assert any("2147483647" in p for p in problems), (method, path, problems)
        if method == "GET":  # the largest id is merely unknown
            largest = app_client.request(method, _fill(path, DB_INT_MAX), headers=headers)
            assert largest.status_code in (403, 404), (path, largest.text)
        tried += 1
    assert tried >= 7
    for url in ("/api/v1/admin/audit", f"/api/v1/orgs/{seeded.orgs['a']}/audit"):
        limited = app_client.get(url, params={"limit": TOO_BIG}, headers=headers)
        assert limited.status_code == 422, limited.text
    body = {"email": "x@example.org", "password": "long enough 1", "role": "analyst"}
    created = app_client.post(
        "/api/v1/admin/users", json={**body, "organisation_id": TOO_BIG}, headers=headers
    )
    assert created.status_code == 422 and "organisation_id" in created.text, created.text


def test_web_pages_refuse_ids_beyond_the_database_range(
    app_client: TestClient, seeded: Seeded
) -> None:
    """The assessment pages answered 500 on PostgreSQL for an id above 2**31 - 1."""
    login(app_client, seeded.users["admin@a"])
    org = seeded.orgs["a"]
    for url in (
        f"/orgs/{TOO_BIG}",
        f"/orgs/{TOO_BIG}/assessments",
        f"/orgs/{org}/assessments/{TOO_BIG}",
        f"/orgs/{org}/assessments/{TOO_BIG}/report.xlsx",
    ):
        answer = app_client.get(url, follow_redirects=False)
        assert answer.status_code == 422, (url, answer.status_code)


def test_text_the_database_cannot_store_is_refused_with_422(
    app_client: TestClient, seeded: Seeded
) -> None:
    """A NUL character answered 500 on PostgreSQL (it refuses NUL in text columns)."""
    headers = bearer(app_client, seeded.users["admin@a"])
    for url, body in [
        ("/api/v1/auth/tokens", {"name": "a\x00b"}),
        ("/api/v1/admin/orgs", {"name": "Org\x00"}),
        ("/api/v1/auth/login", {"email": "a\x00@example.org", "password": "x"}),
    ]:
        answer = app_client.post(url, json=body, headers=headers)
        assert answer.status_code == 422, (url, answer.text)
    csrf = login(app_client, seeded.users["company@a"])
    for url in (
        f"/api/v1/orgs/{seeded.orgs['a']}/assessments",
        f"/orgs/{seeded.orgs['a']}/assessments",
    ):
        answer = app_client.post(
            url,
            data={"name": "supply\x00"},
            files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "text/csv")},
            headers={"X-CSRF-Token": csrf},
            follow_redirects=False,
        )
        assert answer.status_code == 422, (url, answer.text[:300])


def test_a_body_that_is_not_utf8_json_is_a_422_naming_the_body(
    app_client: TestClient, seeded: Seeded
) -> None:
    """FastAPI answered 400 "There was an error parsing the body", a status not documented."""
    headers = {**bearer(app_client, seeded.users["admin@a"]), "content-type": "application/json"}
    answer = app_client.post("/api/v1/auth/tokens", content=b"\xff\xfe{", headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["where"] == "body"


# -- timestamps ---------------------------------------------------------------------------------
def _has_date_time(node: Any, schema: dict[str, Any]) -> bool:
    """Whether a JSON schema (with ``$ref``s into ``schema``) holds a ``date-time`` anywhere."""
    seen: set[str] = set()

    def walk(item: Any) -> bool:
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                if ref in seen:
                    return False
                seen.add(ref)
                return walk(schema["components"]["schemas"][ref.rsplit("/", 1)[1]])
            return item.get("format") == "date-time" or any(walk(v) for v in item.values())
        if isinstance(item, list):
            return any(walk(v) for v in item)
        return False

    return walk(node)


def _timestamps(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in _timestamps(v)]
    if isinstance(node, list):
        return [t for v in node for t in _timestamps(v)]
    return [node] if isinstance(node, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:", node) else []


def test_every_timestamp_in_a_response_has_a_zone(
    app_client: TestClient, seeded: Seeded, schema: dict[str, Any]
) -> None:
    """SQLite and PostgreSQL gave naive timestamps (``2026-12-01T20:14:39``) where the schema
    says RFC 3339 date-time."""
    org = seeded.orgs["a"]
    company = bearer(app_client, seeded.users["company@a"])
    upload = app_client.post(
        f"/api/v1/orgs/{org}/assessments",
        files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "text/csv")},
        headers=company,
    )
    assert upload.status_code == 201, upload.text
    assessment = upload.json()["id"]
    admin = bearer(app_client, seeded.users["admin@a"])
    csrf = login(app_client, seeded.users["admin@a"])
    answers = {
        "POST /api/v1/auth/tokens": app_client.post(
            "/api/v1/auth/tokens", json={"name": "t", "days": 3}, headers={"X-CSRF-Token": csrf}
        ),
        "GET /api/v1/auth/me": app_client.get("/api/v1/auth/me"),
        "POST /api/v1/orgs/{org_id}/assessments": upload,
    }
    app_client.cookies.clear()
    answers["POST /api/v1/auth/login"] = app_client.post(
        "/api/v1/auth/login", json={"email": seeded.users["analyst@a"], "password": PASSWORD}
    )
    app_client.cookies.clear()
    answers["POST /api/v1/admin/orgs"] = app_client.post(
        "/api/v1/admin/orgs", json={"name": f"Dated {uuid.uuid4().hex[:6]}"}, headers=admin
    )
    gets = {
        "/api/v1/auth/tokens": (admin, "/api/v1/auth/tokens"),
        "/api/v1/admin/orgs": (admin, "/api/v1/admin/orgs"),
        "/api/v1/admin/audit": (admin, "/api/v1/admin/audit"),
        "/api/v1/orgs/{org_id}": (admin, f"/api/v1/orgs/{org}"),
        "/api/v1/orgs/{org_id}/audit": (admin, f"/api/v1/orgs/{org}/audit"),
        "/api/v1/data/releases": (admin, "/api/v1/data/releases"),
        "/api/v1/orgs/{org_id}/assessments": (company, f"/api/v1/orgs/{org}/assessments"),
        "/api/v1/orgs/{org_id}/assessments/{assessment_id}": (
            company,
            f"/api/v1/orgs/{org}/assessments/{assessment}",
        ),
    }
    for template, (headers, url) in gets.items():
        answers[f"GET {template}"] = app_client.get(url, headers=headers)
    with_date_time = {
        f"{method} {path}"
        for path, method, operation in _operations(schema)
        if _has_date_time(
            operation["responses"].get("200", operation["responses"].get("201")), schema
        )
    }
    assert with_date_time - set(answers) == set(), "add these operations to this test"
    for label, answer in answers.items():
        assert answer.status_code in (200, 201), (label, answer.text)
        found = _timestamps(answer.json())
        assert found or label == "GET /api/v1/auth/me", label  # its expires_at may be null
        for text in found:
            parsed = datetime.fromisoformat(text)
            assert parsed.utcoffset() == timedelta(0), (label, text)
            assert text.endswith(("Z", "+00:00")), (label, text)


# -- OPTIONS ------------------------------------------------------------------------------------
def test_options_answers_204_with_the_methods_of_every_path(
    plain_app: Any, schema: dict[str, Any]
) -> None:
    """OPTIONS answered 405 (on GET+POST paths too)."""
    client = TestClient(plain_app)
    paths = {path: {m.upper() for m in item} for path, item in schema["paths"].items()}
    paths["/login"] = {"GET", "POST"}
    for path, methods in paths.items():
        answer = client.options(_fill(path, 1))
        assert answer.status_code == 204, (path, answer.status_code)
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert allowed == methods | {"OPTIONS"}, path
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.options("/static/plotly.min.js").status_code == 204
    assert client.options("/api/v1/no-such-path").status_code == 404


def test_a_cross_origin_preflight_is_granted_nothing(plain_app: Any) -> None:
    """Same-origin service: a preflight from elsewhere gets no Access-Control-Allow-* header,
    so the browser does not send the request."""
    answer = TestClient(plain_app).options(
        "/api/v1/auth/tokens",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 204
    assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


# -- statuses in the schema ---------------------------------------------------------------------
def test_every_operation_documents_the_statuses_it_can_answer(
    plain_app: Any, schema: dict[str, Any]
) -> None:
    """The schema listed none of 400/401/403/404/500 and a 422 body other than the one sent."""
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert "error" in components["ErrorOut"]["required"]
    assert "problems" in components["InvalidOut"]["required"]
    checked = 0
    for ctx in iter_route_contexts(plain_app.routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in ctx.methods or ():
            operation = schema["paths"][ctx.path_format][method.lower()]
            documented = set(operation["responses"])
            label = f"{method} {ctx.path_format}"
            (rule,) = access_rules(route)
            expected = {"500"}
            if not rule.public:
                expected.add("401")
                if rule.roles != ALL_ROLES or rule.own_org_param or method != "GET":
                    expected.add("403")
            if operation.get("parameters") or operation.get("requestBody"):
                expected.add("422")
            if operation.get("requestBody"):
                expected.add("413")
            if "{" in str(ctx.path_format):
                expected.add("404")
            assert expected <= documented, (label, expected - documented)
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    model = "InvalidOut" if status == "422" else "ErrorOut"
                    assert ref == f"#/components/schemas/{model}", (label, status)
            checked += 1
    assert checked >= 38


# -- body size before authentication ------------------------------------------------------------
@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path
) -> Iterator[tuple[LiveServer, Seeded]]:
    data_dir = tmp_path_factory.mktemp("live-limits")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    seeded = seed_platform(data_dir)
    port = free_port()
    server = LiveServer(
        uvicorn_command(port), {"CRITMAT_DATA_DIR": str(data_dir)}, port, data_dir / "server.log"
    ).start()
    try:
        yield server, seeded
    finally:
        server.stop()


def _upload_head(seeded: Seeded, extra: str) -> bytes:
    return (
        f"POST /api/v1/orgs/{seeded.orgs['a']}/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary=xyz\r\n{extra}\r\n"
    ).encode()


def _send_until_answered(port: int, head: bytes, total: int, chunked: bool) -> tuple[int, int]:
    """Send ``head`` then up to ``total`` body bytes in 64 KB pieces, stopping as soon as an
    answer arrives; returns (status, body bytes sent before the answer)."""
    piece = PART.ljust(65536, b"a")  # a file part that goes on and on
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        # an answer that needs no body comes at once; give it a moment before sending any
        answered = bool(select.select([sock], [], [], 3.0)[0])
        while not answered and sent < total:
            try:
                sock.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            piece = b"a" * 65536
            answered = bool(select.select([sock], [], [], 0)[0])
        if chunked and not answered:
            sock.sendall(b"0\r\n\r\n")
        reply = sock.recv(4096)
    return int(reply.split(b" ", 2)[1]), sent


def test_an_anonymous_52_mb_upload_is_refused_before_its_body_is_read(
    live: tuple[LiveServer, Seeded],
) -> None:
    """The whole body was read (it is within the 55 MB upload limit) before the 401."""
    server, seeded = live
    total = 52_000_000
    status, sent = _send_until_answered(
        server.port, _upload_head(seeded, f"Content-Length: {total}\r\n"), total, chunked=False
    )
    assert status in (401, 413) and sent < total // 2, (status, sent)


def test_an_anonymous_chunked_upload_is_cut_off_at_the_body_limit(
    live: tuple[LiveServer, Seeded],
) -> None:
    server, seeded = live
    total = 52_000_000
    status, sent = _send_until_answered(
        server.port, _upload_head(seeded, "Transfer-Encoding: chunked\r\n"), total, chunked=True
    )
    assert status in (401, 413) and sent < 8_000_000, (status, sent)


def test_a_logged_in_upload_may_be_larger_than_the_body_limit(
    live: tuple[LiveServer, Seeded],
) -> None:
    """The upload allowance (55 MB) still holds for a caller with a valid token."""
    server, seeded = live
    with transaction(seeded.settings.platform_url) as db:
        user = accounts.get_user(db, seeded.users["company@a"])
        _row, token = accounts.create_api_token(db, user, f"limits-{uuid.uuid4().hex[:4]}")
    body = PART + b"x\n" * 1_000_000 + b"\r\n--xyz--\r\n"  # 2 MB: over the 1 MB limit
    head = _upload_head(seeded, f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
        sock.sendall(head + body)
        reply = sock.recv(4096)
    status = int(reply.split(b" ", 2)[1])
    assert status == 422, reply[:300]  # read in full and checked: not a supply file
