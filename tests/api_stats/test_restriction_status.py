"""A restriction's status on a day is one rule (:func:`critmat.reference.restrictions.as_of`):
the API and the CLI say the same "in force" for the same day (the overview's registry table:
tests/reports/test_overview_service.py).

MOFCOM Announcement No. 61 of 2025 (``CN-2025-061``) was to take effect on 2025-12-01, was
suspended from 2025-11-07 until 2026-11-10 (the registry recorded it as "suspended" on
2026-01-15) and so applies from 2026-11-11.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmat.cli import app
from critmat.reference.restrictions import as_of
from tests.api_stats.conftest import Api

MEASURE = "CN-2025-061"


def _api_row(api: Api, **params: str) -> dict[str, object]:
    response = api.get("/api/v1/restrictions", country="CHN", **params)
    assert response.status_code == 200, response.text
    rows = [r for r in response.json()["restrictions"] if r["id"] == MEASURE]
    assert len(rows) == 1
    return rows[0]


def _cli_row(data_dir: Path, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(
        app,
        ["restrictions", "--country", "CHN", *args, "--format", "json"],
        env={"CRITMAT_DATA_DIR": str(data_dir)},
    )
    assert result.exit_code == 0, result.stderr
    rows = [r for r in json.loads(result.stdout) if r["id"] == MEASURE]
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize(
    ("day", "in_force"),
    [("2025-12-01", False), ("2026-11-10", False), ("2026-11-11", True), ("2027-03-01", True)],
)
def test_in_force_follows_the_measures_dates_on_the_day(
    api: Api, api_data_dir: Path, day: str, in_force: bool
) -> None:
    served = _api_row(api, on=day)
    printed = _cli_row(api_data_dir, "--on", day)
    assert served["status"] == printed["status"] == "suspended"  # the registry's record
    assert (served["in_force"], served["as_of"]) == (in_force, day)
    assert (printed["in_force"], printed["as_of"]) == (in_force, day)


def test_the_default_day_is_today_everywhere(api: Api, api_data_dir: Path) -> None:
    today = as_of().isoformat()
    assert as_of() == date.today()
    assert _api_row(api)["as_of"] == _cli_row(api_data_dir)["as_of"] == today


def test_a_bad_day_is_refused_with_the_form_to_type(api: Api, api_data_dir: Path) -> None:
    response = api.get("/api/v1/restrictions", on="2026-13-01")
    assert response.status_code == 422
    assert "on" in response.text
    result = CliRunner().invoke(
        app, ["restrictions", "--on", "1 May"], env={"CRITMAT_DATA_DIR": str(api_data_dir)}
    )
    assert result.exit_code != 0
    assert "--on '1 May' is not a date" in result.stderr
    assert "2025-06-30" in result.stderr
