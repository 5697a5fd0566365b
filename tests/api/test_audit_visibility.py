"""Issue 8, finding 6: assessment metadata must not leak inside an organisation.

A supplier user of Company A is refused the assessment routes (403), yet the organisation's audit
log (``GET /api/v1/orgs/{id}/audit``) and its page (``/orgs/{id}``) showed it each assessment's
name, file name, sha256, line count and author. Entries about assessments are now shown only to
those the assessment rule admits (the organisation's company users and admins), on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient

from critmat.platform.models import Role
from critmat.server.access import COMPANY_ASSESSMENTS
from tests.api.conftest import bearer, login
from tests.assessments.conftest import SAMPLE
from tests.platform_support import Seeded


def _plant(client: TestClient, seeded: Seeded, company: dict[str, str]) -> dict[str, str]:
    """Upload an assessment to org a with the ``company`` user's token; return the strings that
    name it (no other audit entry is written after it)."""
    marker = f"marker{uuid.uuid4().hex}"
    data = SAMPLE.read_bytes()
    response = client.post(
        f"/api/v1/orgs/{seeded.orgs['a']}/assessments",
        files={"file": (f"{marker}-file.csv", data, "text/csv")},
        data={"name": f"{marker}-name", "year": "2023"},
        headers=company,
    )
    assert response.status_code == 201, response.text
    return {
        "name": f"{marker}-name",
        "file name": f"{marker}-file.csv",
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@pytest.mark.parametrize("role", list(Role))
def test_audit_entries_about_assessments_follow_the_assessment_rule(
    app_client: TestClient, seeded: Seeded, role: Role
) -> None:
    client = app_client
    company = bearer(client, seeded.users["company@a"])
    auth = company if role is Role.company else bearer(client, seeded.users[f"{role.value}@a"])
    secrets = _plant(client, seeded, company)  # the newest entry of org a
    org = seeded.orgs["a"]
    may_see = COMPANY_ASSESSMENTS.admits(role, own_org=True)
    assert may_see == (role in {Role.company, Role.admin})
    log = client.get(f"/api/v1/orgs/{org}/audit", headers=auth)
    assert log.status_code == 200
    actions = [e["action"] for e in log.json()]
    assert ("assessment.create" in actions) == may_see
    assert "user.create" in actions  # the rest of the log is still there
    # hidden entries are filtered in the query: limit=1 answers the newest visible entry
    [newest] = client.get(f"/api/v1/orgs/{org}/audit?limit=1", headers=auth).json()
    assert (newest["action"] == "assessment.create") == may_see
    login(client, seeded.users[f"{role.value}@a"])
    page = client.get(f"/orgs/{org}")
    fragment = client.get(f"/orgs/{org}", headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 200
    for where, body in (("audit API", log.text), ("page", page.text), ("fragment", fragment.text)):
        for what, secret in secrets.items():
            assert may_see or secret not in body, f"{role.value}: {what} in the {where}"
    if may_see:  # the entries are there for those who may see them
        assert all(secret in log.text for secret in secrets.values())
        assert secrets["name"] in page.text and "assessment.create" in page.text


def test_another_organisations_company_user_is_refused(
    app_client: TestClient, seeded: Seeded
) -> None:
    secrets = _plant(app_client, seeded, bearer(app_client, seeded.users["company@a"]))
    auth = bearer(app_client, seeded.users["company@b"])
    refused = app_client.get(f"/api/v1/orgs/{seeded.orgs['a']}/audit", headers=auth)
    assert refused.status_code == 403
    assert not any(s in refused.text for s in secrets.values())
