"""Assessments over HTTP: upload -> read -> download, per-organisation visibility, bad files
(row-precise errors, nothing stored), the web pages and CSRF."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from critmat.platform.db import transaction
from critmat.platform.models import Assessment, AuditEntry
from tests.api.conftest import bearer, login
from tests.assessments.conftest import SAMPLE


def _count(seeded) -> int:
    with transaction(seeded.settings.platform_url) as db:
        return int(db.scalar(select(func.count()).select_from(Assessment)) or 0)


def _upload(client, org_id, headers, data: bytes | None = None, filename="lines.csv", **form):
    body = data if data is not None else SAMPLE.read_bytes()
    return client.post(
        f"/api/v1/orgs/{org_id}/assessments",
        files={"file": (filename, body, "text/csv")},
        data={"name": "Cell plant", "year": "2023", **form},
        headers=headers,
    )


def test_upload_read_download_journey(client, seeded):
    org = seeded.orgs["a"]
    auth = bearer(client, seeded.users["company@a"])
    created = _upload(client, org, auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assessment_id = body["id"]
    assert body["organisation_id"] == org and body["lines"] == 9
    assert body["result"]["input_sha256"] == body["input_sha256"]
    listed = client.get(f"/api/v1/orgs/{org}/assessments", headers=auth).json()
    assert [x["id"] for x in listed] == [assessment_id] and "result" not in listed[0]
    url = f"/api/v1/orgs/{org}/assessments/{assessment_id}"
    read = client.get(url, headers=auth)
    assert read.status_code == 200 and read.json()["result"] == body["result"]
    html = client.get(url, params={"format": "html"}, headers=auth)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "attachment" in html.headers["content-disposition"]
    assert "Graphite" in html.text and "<script" not in html.text
    xlsx = client.get(url, params={"format": "xlsx"}, headers=auth)
    book = load_workbook(io.BytesIO(xlsx.content))
    assert {"about", "actions", "materials", "origins", "lines", "restrictions"} <= set(
        book.sheetnames
    )
    assert book["lines"].max_row == 10
    # the write is in the audit log, against the organisation
    with transaction(seeded.settings.platform_url) as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "assessment.create"))
        assert entry is not None and entry.organisation_id == org
        assert entry.details["assessment_id"] == assessment_id


def test_visibility_per_organisation(client, seeded):
    org_a, org_b = seeded.orgs["a"], seeded.orgs["b"]
    created = _upload(client, org_a, bearer(client, seeded.users["company@a"]))
    assessment_id = created.json()["id"]
    own_url = f"/api/v1/orgs/{org_a}/assessments/{assessment_id}"
    # another organisation's company user: refused on org a's URLs ...
    other = bearer(client, seeded.users["company@b"])
    for url in (own_url, f"/api/v1/orgs/{org_a}/assessments"):
        refused = client.get(url, headers=other)
        assert refused.status_code == 403 and refused.headers["x-critmat-access"] == "denied"
    assert _upload(client, org_a, other).status_code == 403
    # ... and on its own org's URL the id is not found (ids are scoped by organisation)
    assert (
        client.get(f"/api/v1/orgs/{org_b}/assessments/{assessment_id}", headers=other).status_code
        == 404
    )
    # suppliers, analysts and member-state users of the same organisation never see it
    for role in ("supplier", "analyst", "member_state"):
        headers = bearer(client, seeded.users[f"{role}@a"])
        assert client.get(own_url, headers=headers).status_code == 403
        assert (
            client.get(f"/orgs/{org_a}/assessments/{assessment_id}", headers=headers).status_code
            == 403
        )
    # admins see every organisation's assessments
    admin = bearer(client, seeded.users["admin@b"])
    assert client.get(own_url, headers=admin).status_code == 200


BAD_FILES = [
    (b"", "lines.csv", [(None, None, "empty")]),
    (b"Material,Supplier\ncobalt,A\n", "lines.csv", [(1, None, "missing column")]),
    (
        b"material,quantity,unit,supplier,supplier country\n"
        b"cobalt,-1,t,A,FIN\ncobalt,x,t,A,FIN\ncobalt,1,t,A,QQQ\n",
        "lines.csv",
        [
            (2, "quantity", "negative"),
            (3, "quantity", "not a number"),
            (4, "supplier country", "unknown country"),
        ],
    ),
    (b"material,quantity\n\x81\x8d,1\n", "lines.csv", [(None, None, "not UTF-8")]),
]


@pytest.mark.parametrize(("data", "name", "expected"), BAD_FILES)
def test_bad_files_give_row_precise_errors_and_store_nothing(client, seeded, data, name, expected):
    auth = bearer(client, seeded.users["company@a"])
    response = _upload(client, seeded.orgs["a"], auth, data=data, filename=name)
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert len(problems) == len(expected)
    for problem, (row, column, reason) in zip(problems, expected, strict=True):
        assert problem["file"] == name and problem["row"] == row
        assert (problem["column"] or None) == column
        assert reason in problem["reason"]
    assert _count(seeded) == 0


def test_formula_and_zip_bomb_uploads_store_nothing(client, seeded):
    import zipfile

    from openpyxl import Workbook

    auth = bearer(client, seeded.users["company@a"])
    book = Workbook()
    sheet = book.active
    sheet.append(["Material", "Quantity (t)", "Supplier", "Supplier country"])
    sheet.append(["graphite", "=1+1", "S", "CHN"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(client, seeded.orgs["a"], auth, buffer.getvalue(), "f.xlsx")
    assert response.status_code == 422
    assert response.json()["problems"][0]["row"] == 2
    assert "formula" in response.json()["problems"][0]["reason"]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1_000_000
    response = _upload(client, seeded.orgs["a"], auth, bomb.getvalue(), "bomb.xlsx")
    assert response.status_code == 422 and "zip bomb" in response.json()["problems"][0]["reason"]
    assert _count(seeded) == 0


def test_exports_neutralise_formula_like_text(client, seeded):
    auth = bearer(client, seeded.users["company@a"])
    data = (
        b"material,quantity,unit,supplier,supplier country\n"
        b'cobalt oxide,10,t,"=HYPERLINK(""http://evil"")",FIN\n'
    )
    created = _upload(client, seeded.orgs["a"], auth, data)
    assert created.status_code == 201, created.text
    url = f"/api/v1/orgs/{seeded.orgs['a']}/assessments/{created.json()['id']}"
    book = load_workbook(
        io.BytesIO(client.get(url, params={"format": "xlsx"}, headers=auth).content)
    )
    cells = [c.value for row in book["lines"].iter_rows() for c in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    html = client.get(url, params={"format": "html"}, headers=auth).text
    assert "=HYPERLINK(&#34;http://evil&#34;)" in html or "=HYPERLINK(&quot;" in html


def test_web_upload_read_download(client, seeded):
    org = seeded.orgs["a"]
    csrf = login(client, seeded.users["company@a"])
    page = client.get(f"/orgs/{org}/assessments")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    # without the CSRF token: refused
    refused = client.post(
        f"/orgs/{org}/assessments", files={"file": ("l.csv", SAMPLE.read_bytes(), "text/csv")}
    )
    assert refused.status_code == 403
    bad = client.post(
        f"/orgs/{org}/assessments",
        files={
            "file": (
                "l.csv",
                b"material,quantity,unit,supplier,supplier country\ncobalt,-1,t,A,FIN\n",
                "text/csv",
            )
        },
        data={"csrf_token": csrf},
    )
    assert (
        bad.status_code == 422
        and "negative quantity" in bad.text
        and "Nothing was stored" in bad.text
    )
    done = client.post(
        f"/orgs/{org}/assessments",
        files={"file": ("plant.csv", SAMPLE.read_bytes(), "text/csv")},
        data={"csrf_token": csrf, "name": "Plant"},
    )
    assert done.status_code == 303
    target = done.headers["location"]
    assert re.fullmatch(rf"/orgs/{org}/assessments/\d+", target)
    shown = client.get(target)
    assert shown.status_code == 200 and "Graphite" in shown.text
    assert "<h2>Priority actions</h2>" in shown.text  # the report's sections, not escaped
    report = client.get(target + "/report.json")
    assert report.status_code == 200 and json.loads(report.content)["importer"] == "EU27"
    assert client.get(target + "/report.xlsx").status_code == 200
    assert client.get(target + "/report.pdf").status_code == 404
    listing = client.get(f"/orgs/{org}/assessments")
    assert "Plant" in listing.text
    # another organisation's company user gets the 403 page
    client.cookies.clear()
    login(client, seeded.users["company@b"])
    assert client.get(target).status_code == 403
