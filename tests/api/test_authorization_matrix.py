"""The authorization matrix, built from the app's own route table.

Every route must declare an access rule (see ``critmat.server.access``); a route without one fails
here. Each route is then called by an anonymous client and by every role, for its own and for
another organisation, and the answer must match the rule: refused (401/403, or a redirect to the
login page for web pages, each marked ``X-Critmat-Access: denied``) exactly when the rule does
not admit the caller.

Routes are not the only way out: data also travels inside answers that others may read (audit
entries, organisation pages, their HTMX fragments). The matrix plants a company assessment in
each organisation, with a unique marker in its name and file name, and checks that no answer
(body or headers, page or fragment) carries a marker to a caller the assessment rule does not
admit for that organisation.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from critmat.platform import accounts
from critmat.platform.db import transaction
from critmat.platform.models import Role
from critmat.server.access import COMPANY_ASSESSMENTS, STOCKPILE_HOLDINGS, AccessRule
from critmat.server.app import create_app
from critmat.server.deps import ACCESS_HEADER
from critmat.server.errors import access_rules
from tests.assessments.conftest import SAMPLE
from tests.platform_support import Seeded, seed_platform

#: Starlette routes (not APIRoutes) that are public by design.
PUBLIC_INFRASTRUCTURE = {"/api/v1/openapi.json"}

SAMPLE_VALUES = {
    "material": "cobalt",
    "material_id": "cobalt",
    "country": "COD",
    "iso3": "COD",
    "token_id": "999999",
    "year": "2023",
}


def effective_routes(app: Any) -> list[tuple[str, set[str], Any]]:
    """(path, methods, route) of every route the app serves, included routers expanded."""
    return [
        (str(ctx.path), set(ctx.methods or ()), ctx.original_route)
        for ctx in iter_route_contexts(app.routes)
    ]


#: Organisation key -> the marker planted in its assessment's name and file name.
MARKERS: dict[str, str] = {}
#: Organisation key -> the marker planted in its stock holding (holder name, lot location,
#: booking reason and key); others may see that holding's tonnes pooled into EU27 only.
STOCK_MARKERS: dict[str, str] = {}
#: The rule that decides who may see each kind of marker.
MARKER_RULES: tuple[tuple[dict[str, str], AccessRule, str], ...] = (
    (MARKERS, COMPANY_ASSESSMENTS, "assessment name or file name"),
    (STOCK_MARKERS, STOCKPILE_HOLDINGS, "stock holding (holder, lot place or booking)"),
)


def plant_assessments(client: TestClient, seeded: Seeded, tokens: dict[str, str]) -> None:
    """Upload one assessment per organisation (by its company user) named with a marker."""
    for org in ("a", "b"):
        marker = MARKERS.setdefault(org, f"leakmarker{org}{uuid.uuid4().hex}")
        response = client.post(
            f"/api/v1/orgs/{seeded.orgs[org]}/assessments",
            files={"file": (f"{marker}.csv", SAMPLE.read_bytes(), "text/csv")},
            data={"name": marker, "year": "2023"},
            headers={"Authorization": f"Bearer {tokens[f'company@{org}']}"},
        )
        assert response.status_code == 201, response.text


def plant_holdings(client: TestClient, seeded: Seeded, tokens: dict[str, str]) -> None:
    """Register one unshared holder per organisation (by its member-state user), open a lot
    and book a release, each carrying the organisation's stock marker."""
    for org in ("a", "b"):
        marker = STOCK_MARKERS.setdefault(org, f"stockmarker{org}{uuid.uuid4().hex}")
        headers = {"Authorization": f"Bearer {tokens[f'member_state@{org}']}"}
        base = f"/api/v1/stockpiles/orgs/{seeded.orgs[org]}"
        holder = client.post(
            f"{base}/holders",
            headers=headers,
            json={"name": marker, "level": "member_state", "country": "DEU"},
        )
        assert holder.status_code == 201, holder.text
        lot = {
            "holder_id": holder.json()["id"],
            "material": "gallium",
            "form": "metal",
            "location": marker,
            "acquired_on": "2026-01-05",
        }
        opened = client.post(
            f"{base}/bookings",
            headers={**headers, "Idempotency-Key": marker},
            json={"kind": "purchase", "quantity_t": 10, "new_lot": lot},
        )
        assert opened.status_code == 201, opened.text
        release = {
            "kind": "release",
            "quantity_t": 1,
            "reason": marker,
            "lot_id": opened.json()["entries"][0]["lot_id"],
        }
        booked = client.post(
            f"{base}/bookings",
            json=release,
            headers={**headers, "Idempotency-Key": f"{marker}-release"},
        )
        assert booked.status_code == 201, booked.text


def leaked(response: Any, role: str | None) -> list[str]:
    """What ``response`` shows to a caller of org "a" with ``role`` that the marker's rule
    does not admit for the marker's organisation: "<org>'s <what>" per leak."""
    seen = response.content + repr(sorted(response.headers.items())).encode()
    caller = Role(role) if role else None
    return [
        f"org {org}'s {what}"
        for markers, rule, what in MARKER_RULES
        for org, marker in markers.items()
        if marker.encode() in seen
        and not (caller is not None and rule.admits(caller, own_org=org == "a"))
    ]


@pytest.fixture(scope="module")
def matrix_setup(
    tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path
) -> Iterator[tuple[TestClient, Seeded, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("matrix")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    seeded = seed_platform(data_dir)
    tokens: dict[str, str] = {}
    with transaction(seeded.settings.platform_url) as db:
        # the target of user routes (e.g. disable), never one of the callers
        org_b = accounts.get_org(db, seeded.orgs["b"])
        victim = accounts.create_user(
            db,
            "victim@example.org",
            "a long password 123",
            role=Role.analyst,
            organisation=org_b,
            actor="test",
        )
        SAMPLE_VALUES["user_id"] = str(victim.id)
        for key, email in seeded.users.items():
            user = accounts.get_user(db, email)
            tokens[key] = accounts.create_api_token(db, user, "matrix")[1]
    with TestClient(create_app(seeded.settings), follow_redirects=False) as client:
        plant_assessments(client, seeded, tokens)
        plant_holdings(client, seeded, tokens)
        yield client, seeded, tokens


def test_every_route_declares_exactly_one_access_rule(matrix_setup):
    client, _seeded, _tokens = matrix_setup
    problems = []
    routes = effective_routes(client.app)
    for path, methods, route in routes:
        if isinstance(route, APIRoute):
            rules = access_rules(route)
            if len(rules) != 1:
                problems.append(f"{sorted(methods)} {path}: {len(rules)} rules")
        elif isinstance(route, Route) and path not in PUBLIC_INFRASTRUCTURE:
            problems.append(f"{path}: plain route without an access rule")
        elif not isinstance(route, Route | Mount):
            problems.append(f"{route!r}: unknown kind of route")
    assert len(routes) > 10
    assert not problems, "\n".join(problems)


def _url(path: str, seeded: Seeded, org: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "org_id":
            return str(seeded.orgs[org])
        return SAMPLE_VALUES.get(name, "1")

    return re.sub(r"\{([^}]+)\}", value, path)


def _cases() -> list[tuple[str | None, str]]:
    return [(None, "a")] + [(role.value, org) for role in Role for org in ("a", "b")]


def test_every_route_admits_exactly_whom_its_rule_admits(matrix_setup):
    client, seeded, tokens = matrix_setup
    failures = []
    leaks = []
    shown: set[tuple[str | None, str]] = set()  # (role, org whose marker was seen)
    stock_shown: set[tuple[str | None, str]] = set()
    checked = 0
    for path, methods, route in effective_routes(client.app):
        if not isinstance(route, APIRoute):
            continue
        [rule] = access_rules(route)
        is_page = not path.startswith("/api/")
        for method in sorted(methods - {"HEAD"}):
            for role, org in _cases():
                # callers are always users of org "a"; the URL names org "a" (own) or "b"
                url = _url(path, seeded, org)
                headers = {"Authorization": f"Bearer {tokens[f'{role}@a']}"} if role else {}
                body = {} if method in {"POST", "PUT", "PATCH"} else None
                response = client.request(method, url, headers=headers, json=body)
                checked += 1
                admitted = rule.admits(Role(role) if role else None, own_org=(org == "a"))
                refused = response.headers.get(ACCESS_HEADER) == "denied"
                if refused:
                    expected = (303,) if is_page and role is None else (401, 403)
                    assert response.status_code in expected, (method, url, role)
                if admitted == refused or response.status_code >= 500:
                    failures.append(
                        f"{method} {url} as {role or 'anonymous'} (org a, url org {org}): "
                        f"{response.status_code}, rule {rule.name} "
                        f"{'admits' if admitted else 'refuses'}"
                    )
                answers = [("", response)]
                if is_page and method == "GET":  # the HTMX fragment of the same page
                    fragment = client.get(url, headers={**headers, "HX-Request": "true"})
                    answers.append((" (HTMX fragment)", fragment))
                for label, answer in answers:
                    shown |= {(role, o) for o, m in MARKERS.items() if m.encode() in answer.content}
                    stock_shown |= {
                        (role, o) for o, m in STOCK_MARKERS.items() if m.encode() in answer.content
                    }
                    leaks += [
                        f"{method} {url}{label} as {role or 'anonymous'} (org a): {what}"
                        for what in leaked(answer, role)
                    ]
    assert checked > 0
    assert not failures, "\n".join(failures[:40])
    assert not leaks, "\n".join(leaks[:40])
    # the check can fail: the markers are in answers to those who may see them
    assert {("company", "a"), ("admin", "a"), ("admin", "b")} <= shown
    assert {("member_state", "a"), ("company", "a"), ("admin", "b")} <= stock_shown
