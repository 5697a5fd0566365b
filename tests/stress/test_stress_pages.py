"""The stress-test page: access, CSRF, a run through the form, errors by field, downloads."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from critmat.scenarios.spec import LIBRARY

SCENARIO = "rare-earths-2025-04"


def _csrf(client: TestClient) -> str:
    text = client.get("/stress").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, "no CSRF token in the form"
    return found.group(1)


def _yaml(name: str = SCENARIO) -> str:
    return (LIBRARY / f"{name}.yaml").read_text(encoding="utf-8")


def _form(client: TestClient, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": _csrf(client),
        "yaml": _yaml(),
        "member": "DEU",
        "runs": "100",
        "seed": "1",
        "scenario": SCENARIO,
        **extra,
    }


@pytest.mark.parametrize("url", ["/stress", f"/stress?scenario={SCENARIO}"])
def test_page_redirects_to_login_when_logged_out(anonymous: TestClient, url: str) -> None:
    response = anonymous.get(url, follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [url]


def test_page_renders_the_editor(browser_client: TestClient) -> None:
    response = browser_client.get("/stress?scenario=cobalt-drc-2025")
    assert response.status_code == 200, response.text[:2000]
    text = response.text
    assert "<html" in text and 'id="stress-yaml"' in text and 'hx-post="/stress/run"' in text
    assert "cobalt-drc-2025" in text and "name: cobalt-drc-2025" in text
    assert 'hx-indicator="#stress-progress"' in text and 'id="stress-progress"' in text
    fragment = browser_client.get(
        "/stress?scenario=rare-earths-2025-10", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="body"') and "<html" not in fragment.text


def test_post_without_csrf_is_refused(browser_client: TestClient) -> None:
    form = _form(browser_client)
    del form["csrf_token"]
    response = browser_client.post("/stress/run", data=form)
    assert response.status_code == 403
    download = browser_client.post("/stress/download/monthly.csv", data=form)
    assert download.status_code == 403


def test_run_through_the_page(browser_client: TestClient) -> None:
    response = browser_client.post(
        "/stress/run", data=_form(browser_client), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text[:2000]
    text = response.text
    assert text.lstrip().startswith('<div id="body"') and "<html" not in text
    for fid in ("fig-stress-shortfall", "fig-stress-bands", "fig-stress-sectors"):
        assert f'class="chart" id="{fid}"' in text, fid
    assert 'data-table="stress-monthly"' in text and 'data-table="stress-bands"' in text
    assert 'data-member="DEU"' in text and "Germany" in text
    assert 'data-col="month">2025-04<' in text
    assert 'form="stress-dl"' in text and 'formaction="/stress/download/monthly.xlsx"' in text
    full = browser_client.post("/stress/run", data=_form(browser_client, runs="0"))
    assert full.status_code == 200 and "<html" in full.text
    assert 'class="chart" id="fig-stress-shortfall"' in full.text
    assert "Monte Carlo not run (runs = 0)" in full.text


def test_errors_are_shown_next_to_the_editor(browser_client: TestClient) -> None:
    bad = _yaml().replace("horizon_months: 24", "horizon_months: 0")
    assert bad != _yaml()
    response = browser_client.post("/stress/run", data=_form(browser_client, yaml=bad))
    assert response.status_code == 422
    text = response.text
    assert 'data-field="horizon_months"' in text and "greater than or equal to 1" in text
    assert 'aria-invalid="true"' in text and "horizon_months: 0" in text  # the text is kept
    assert 'id="stress-results"' not in text
    htmx = browser_client.post(
        "/stress/run",
        data=_form(browser_client, yaml="name: [unclosed"),
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 200 and "not valid YAML" in htmx.text


def test_runs_are_bounded(browser_client: TestClient) -> None:
    response = browser_client.post("/stress/run", data=_form(browser_client, runs="5001"))
    assert response.status_code == 422


@pytest.mark.parametrize("table", ["monthly", "summary", "bands", "sectors"])
def test_downloads_open(browser_client: TestClient, table: str) -> None:
    form = _form(browser_client)
    response = browser_client.post(f"/stress/download/{table}.csv", data=form)
    assert response.status_code == 200, response.text[:500]
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows
    if table in ("monthly", "bands"):
        assert len(rows) == 28 * 24 and rows[0]["Importer"] == "EU27"
    workbook = browser_client.post(f"/stress/download/{table}.xlsx", data=form)
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["data", "about"]
    assert book["data"].max_row == len(rows) + 1
