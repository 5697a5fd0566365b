"""POST /api/v1/stockpiles/sizing on SQLite and PostgreSQL (the platform database behind the
callers and the saved targets): who may call it, the answer, bounds and errors, save as target."""

from __future__ import annotations

from fastapi.testclient import TestClient

from critmat.services import stockpiles
from tests.api.conftest import bearer
from tests.platform_support import Seeded

URL = "/api/v1/stockpiles/sizing"
BODY: dict[str, object] = {
    "materials": ["cobalt"],
    "runs": 40,
    "seed": 2,
    "prices_eur_t": {"*": 33000},
}


def test_analyst_sizes_and_saves_a_target(app_client: TestClient, seeded: Seeded) -> None:
    headers = bearer(app_client, seeded.users["analyst@a"])
    answer = app_client.post(URL, json={**BODY, "save_target": True}, headers=headers)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    (item,) = document["items"]
    assert item["material"] == "cobalt" and item["importer"] == "EU27" and item["stock_t"] > 0
    assert document["scenarios"][0]["runs"] == 40 and document["seed"] == 2
    assert document["curve"][0]["stock_t"] == 0
    url = seeded.settings.platform_url
    positions = stockpiles.stress_positions("cobalt", None, database_url=url)
    assert positions.target_t["EU27"] == item["stock_t"]
    again = app_client.post(URL, json=BODY, headers=headers)
    assert again.json()["items"] == document["items"]  # same seed, same answer


def test_who_may_size_and_the_errors(app_client: TestClient, seeded: Seeded) -> None:
    company = bearer(app_client, seeded.users["company@a"])
    assert app_client.post(URL, json=BODY, headers=company).status_code == 403
    assert app_client.post(URL, json=BODY).status_code == 401
    analyst = bearer(app_client, seeded.users["analyst@a"])
    cases: list[tuple[dict[str, object], int, str]] = [
        ({"confidence": 1.5}, 422, "confidence"),
        ({"runs": 0}, 422, "runs"),
        ({"materials": []}, 422, "materials"),
        ({"materials": ["unobtainium"]}, 404, "unknown material"),
        ({"materials": ["cobalt"], "scenarios": ["graphite-2023"]}, 400, "about graphite"),
        ({"budget_eur": 1e6, "prices_eur_t": {}}, 400, "needs a price"),
        ({"runs": 5000, "materials": ["rare_earths", "cobalt", "nickel"]}, 400, "more than 10,000"),
    ]
    for change, status, text in cases:
        answer = app_client.post(URL, json={**BODY, **change}, headers=analyst)
        assert answer.status_code == status, (change, answer.text)
        assert text in answer.text
