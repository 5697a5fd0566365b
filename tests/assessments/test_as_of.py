"""The one "as of" rule in the assessment and its report (issue 9): the day of the export
restrictions is the user's, else today (``restrictions.as_of``), a restriction counts when it
applies on that day by the registry's dates, and the report says since when it applies —
MOFCOM No. 61/2025 (CN-2025-061) was suspended before it took effect and applies again only
after its suspension ended (10 Nov 2026). Also: the presentation modules of assessments import
neither each other's package nor the API's/web's (the import circle api -> web is gone)."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from critmat.reference.restrictions import as_of, load_restrictions
from critmat.reports import company as report
from critmat.risk.company import RestrictionHit
from critmat.services import assessments
from critmat.store import Store, open_store
from tests.assessments.conftest import SAMPLE

MOFCOM_61 = "CN-2025-061"
SRC = Path(__file__).parents[2] / "src" / "critmat"


@pytest.fixture
def store(real_data_dir: Path) -> Iterator[Store]:
    opened = open_store(real_data_dir / "critmat.duckdb", read_only=True)
    yield opened
    opened.close()


def _hits(store: Store, on: date | None) -> dict[str, RestrictionHit]:
    result = assessments.assess(store, assessments.read_file(SAMPLE), year=2023, on=on)
    return {h.restriction_id: h for h in result.restrictions}


def test_a_suspended_measure_counts_only_on_the_days_it_applies(store):
    registered = {r.id: r for r in load_restrictions()}[MOFCOM_61]
    during, after = date(2026, 1, 20), date(2026, 12, 1)
    assert not registered.active_on(during) and registered.active_on(after)
    assert MOFCOM_61 not in _hits(store, during)
    hit = _hits(store, after)[MOFCOM_61]
    assert hit.effective == date(2025, 12, 1)
    assert hit.in_force_since == date(2026, 11, 11)


def test_a_measure_never_suspended_is_in_force_since_its_effective_date(store):
    registry = {r.id: r for r in load_restrictions()}
    for hit in _hits(store, date(2026, 12, 1)).values():
        registered = registry[hit.restriction_id]
        if registered.suspended_from is None:
            assert hit.in_force_since == registered.effective


def test_without_a_day_the_assessment_reads_the_restrictions_of_today(store):
    before = as_of()
    result = assessments.assess(store, assessments.read_file(SAMPLE), year=2023)
    assert result.assessed_on in {before, as_of()}  # (a run across midnight sees either day)


def test_the_report_says_since_when_a_measure_applies(store):
    result = assessments.assess(
        store, assessments.read_file(SAMPLE), year=2023, on=date(2026, 12, 1)
    )
    html = report.report_html(result, "sample")
    assert "in force on 2026-12-01" in html
    assert "2026-11-11" in html and "after a suspension; effective 2025-12-01" in html
    sheet = load_workbook(io.BytesIO(report.report_xlsx(result)))["restrictions"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and "in force since" in r)
    since = header.index("in force since")
    ident = header.index("restriction")
    [mofcom] = [r for r in rows if r and r[ident] == MOFCOM_61]
    assert mofcom[since] == "2026-11-11"


def test_a_result_stored_before_in_force_since_shows_its_effective_date(store):
    result = assessments.assess(
        store, assessments.read_file(SAMPLE), year=2023, on=date(2026, 1, 20)
    )
    dumped = result.model_dump(mode="json")
    for hit in dumped["restrictions"]:
        del hit["in_force_since"]
    old = type(result).model_validate(dumped)
    assert all(h.in_force_since is None for h in old.restrictions)
    html = report.report_html(old)
    for hit in old.restrictions:
        assert hit.effective is not None and hit.effective.isoformat() in html


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("api/routes/assessments.py", ("critmat.web",)),
        ("web/assessments.py", ("critmat.api",)),
        ("commands/assess.py", ("critmat.api", "critmat.web")),
        ("reports/company.py", ("critmat.api", "critmat.web", "critmat.commands")),
        ("services/assessments.py", ("critmat.api", "critmat.web", "critmat.server")),
        ("services/assessment_worker.py", ("critmat.api", "critmat.web", "critmat.server")),
    ],
)
def test_assessment_modules_keep_to_their_layer(module, forbidden):
    imported = _imported_modules(SRC / module)
    wrong = sorted(m for m in imported for f in forbidden if m == f or m.startswith(f + "."))
    assert wrong == []
