"""The release page: the form, a scenario's allocation (chart, table, audit), an uploaded
requests file, the downloads, and who may see it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.login_support import web_login
from tests.stockpiles.release.conftest import ReleaseEnv
from tests.stockpiles.release.test_release_service import CSV, _audit


def _client(env: ReleaseEnv, role: str) -> TestClient:
    client = TestClient(env.app, raise_server_exceptions=False)
    assert web_login(client, env.seeded.users[f"{role}@a"]).status_code == 303
    return client


def test_release_page_form_result_downloads_and_upload(api, release_env: ReleaseEnv) -> None:
    client = _client(release_env, "member_state")
    form = client.get("/stockpiles/release")
    assert form.status_code == 200 and 'name="stock_t"' in form.text
    assert "rare-earths-2025-04" in form.text and "fig-release" not in form.text
    before = len(_audit(release_env.url, "stockpile.release.allocate"))
    query = "scenario=rare-earths-2025-04&stock_t=800&rule=maxmin"
    result = client.get(f"/stockpiles/release?{query}")
    assert result.status_code == 200, result.text[:500]
    assert "fig-release" in result.text and "common fill rate" in result.text
    assert len(_audit(release_env.url, "stockpile.release.allocate")) == before + 1
    csv = client.get(f"/stockpiles/release/table.csv?{query}")
    assert csv.status_code == 200 and "Allocated (t)" in csv.text
    xlsx = client.get(f"/stockpiles/release/table.xlsx?{query}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    token = client.cookies.get("critmat_csrf") or ""
    page = client.get("/stockpiles/release").text
    marker = 'name="csrf_token" value="'
    token = page.split(marker, 2)[-1].split('"', 1)[0] if marker in page else token
    uploaded = client.post(
        "/stockpiles/release",
        data={"stock_t": "400", "rule": "proportional", "csrf_token": token},
        files={"requests": ("requests.csv", CSV.encode(), "text/csv")},
    )
    assert uploaded.status_code == 200, uploaded.text[:500]
    assert "uploaded file requests.csv" in uploaded.text
    bad = client.post(
        "/stockpiles/release",
        data={"stock_t": "400", "rule": "proportional", "csrf_token": token},
        files={"requests": ("r.csv", CSV.replace("30,300", "x,300").encode(), "text/csv")},
    )
    assert bad.status_code == 400 and "row 3" in bad.text


def test_release_page_is_for_stockpile_analysis_only(api, release_env: ReleaseEnv) -> None:
    company = _client(release_env, "company")
    assert company.get("/stockpiles/release").status_code == 403
