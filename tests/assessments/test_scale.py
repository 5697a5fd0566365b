"""Large files (issue 8, finding 1 and the file-number half of finding 5): the aggregation over
profiles agrees with a line-by-line recomputation, results stay bounded for huge files, and
numbers outside the physical range are row errors (never infinity, 0 t or a division by zero).
"""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from critmat.indicators.lookup import resolve_importer
from critmat.risk import company
from critmat.risk._company_input import MAX_LINE_TONNES, MIN_LINE_TONNES
from critmat.risk.company import SupplyFileError, assess_lines, read_supply_bytes
from tests.assessments.test_real_data import _expected_shares

EU27 = resolve_importer("EU27")
HEADER = "material,hs code,quantity,unit,supplier,supplier country\n"


def _assess(
    con, text: str, year: int = 2023, scores: company.ScoreMemo | None = None
) -> company.CompanyAssessment:
    supply = read_supply_bytes("lines.csv", text.encode())
    return assess_lines(con, supply, importer=EU27, year=year, on=date(2025, 12, 1), scores=scores)


def test_aggregation_matches_a_line_by_line_recomputation(real_con):
    """Interleaved lines of two profiles of cobalt oxide (DEU, BEL) and one of lithium
    carbonate (CHN): each material's origin tonnes are Σ_l q_l · a_l,o with a_l,o recomputed
    from ``trade`` by plain SQL, and its GeoPolRisk the tonne-weighted mean of its lines'."""
    lines = [
        ("cobalt oxide", "282200", 100.0, "t", "DEU"),
        ("cobalt oxide", "282200", 250.0, "t", "BEL"),
        ("lithium carbonate", "283691", 400.0, "t", "CHN"),
        ("cobalt oxide", "282200", 30.5, "t", "DEU"),
        ("cobalt oxide", "282200", 7.0, "t", "BEL"),
        ("lithium carbonate", "283691", 12.0, "t", "CHN"),
        ("cobalt oxide", "282200", 1000.0, "kg", "DEU"),
    ]
    text = HEADER + "".join(
        f"{m},{hs},{q},{u},S{i},{c}\n" for i, (m, hs, q, u, c) in enumerate(lines)
    )
    result = _assess(real_con, text, year=2022)
    by_material = {m.hs_codes[0]: m for m in result.materials}
    for hs6 in ("282200", "283691"):
        mine = [(q / 1000 if u == "kg" else q, c) for _m, h, q, u, c in lines if h == hs6]
        expected: dict[str, float] = {}
        for tonnes, country in mine:
            for origin, share in _expected_shares(real_con, country, hs6, 2022).items():
                expected[origin] = expected.get(origin, 0.0) + tonnes * share
        material = by_material[hs6]
        got = {o.country: o.tonnes for o in material.by_origin}
        assert got.keys() == expected.keys()
        for origin, tonnes in expected.items():
            assert got[origin] == pytest.approx(tonnes, rel=1e-9)
        assert material.lines == len(mine)
        assert material.tonnes == pytest.approx(sum(t for t, _c in mine))
        member_lines = [r for r in result.lines if r.hs_codes == [hs6]]
        known = [(r.quantity_t, r.geopolrisk) for r in member_lines if r.geopolrisk is not None]
        if known:
            assert material.geopolrisk == pytest.approx(
                sum(q * g for q, g in known) / sum(q for q, _g in known)
            )
    # each restriction hit: its tonnes are the listed lines' tonnes from the restricting country
    for hit in result.restrictions:
        listed = [r for r in result.lines if r.row in hit.rows]
        assert hit.rows == sorted(hit.rows) and hit.rows_total == len(hit.rows) == len(listed)
        from_country = sum(o.tonnes for r in listed for o in r.origins if o.country == hit.country)
        assert hit.tonnes == pytest.approx(from_country)


def test_results_of_a_large_file_stay_bounded(real_con):
    """2,000 graphite lines from China and 500 gallium lines from Germany: per-line results
    for the first 1,000 lines only, restriction rows listed up to 100 with the total, one data
    action for the 500 gallium lines (before: 2,500 line results, 2,000 rows, 500 actions)."""
    text = HEADER + "natural graphite,,2,t,G,CHN\n" * 2000 + "gallium,,5,kg,Ga,DEU\n" * 500
    result = _assess(real_con, text)
    assert result.lines_total == 2500
    assert len(result.lines) == company.MAX_LINE_RESULTS == 1000
    assert [r.row for r in result.lines] == list(range(2, 1002))
    assert any("first 1,000 of 2,500 lines" in n for n in result.notes)
    [hit] = [h for h in result.restrictions if h.material_key == "graphite:extraction"]
    assert hit.rows == list(range(2, 2 + company.MAX_LISTED_ROWS)) and hit.rows_total == 2000
    graphite = next(m for m in result.materials if m.key == "graphite:extraction")
    assert graphite.lines == 2000 and graphite.tonnes == pytest.approx(4000)
    data_actions = [a for a in result.actions if a.kind == "data"]
    assert len(data_actions) == 1
    assert "500 lines: rows 2002, 2003" in data_actions[0].text and "and 490 more" in (
        data_actions[0].text
    )
    assert data_actions[0].tonnes == pytest.approx(500 * 5e-3)
    # what the platform stores round-trips, row totals included
    again = company.CompanyAssessment.model_validate(result.model_dump(mode="json"))
    assert again == result and again.restrictions[0].rows_total == hit.rows_total


def test_results_stored_before_the_totals_existed_still_read(real_con):
    """A result stored by the previous version (no ``lines_total``/``rows_total``) reads with
    the totals taken from its lists."""
    dumped = _assess(real_con, HEADER + "natural graphite,,2,t,G,CHN\n" * 3).model_dump(mode="json")
    del dumped["lines_total"]
    for hit in dumped["restrictions"]:
        del hit["rows_total"]
    old = company.CompanyAssessment.model_validate(dumped)
    assert old.lines_total == 3 and old.restrictions[0].rows_total == 3


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("1e308,Mt", f"is more than {MAX_LINE_TONNES:g} t"),  # overflows to infinity in tonnes
        ("1e-320,g", f"is less than {MIN_LINE_TONNES:g} t"),  # underflows to 0 t
        ("20000000000,t", f"is more than {MAX_LINE_TONNES:g} t"),
        ("0.0001,g", f"is less than {MIN_LINE_TONNES:g} t"),
    ],
)
def test_quantities_outside_the_physical_range_are_row_errors(cells, expected):
    text = HEADER + f"cobalt oxide,282200,{cells},S,BEL\ncobalt oxide,282200,{cells},S,FIN\n"
    with pytest.raises(SupplyFileError) as caught:
        read_supply_bytes("lines.csv", text.encode())
    errors = caught.value.errors
    assert [(e.row, e.column) for e in errors] == [(2, "quantity"), (3, "quantity")]
    assert expected in errors[0].reason and "check the number and the unit" in errors[0].reason
    assert str(errors[0]).startswith("lines.csv, row 2, column 'quantity': ")


def test_quantities_near_the_bounds_are_assessed_to_finite_json(real_con):
    """2 mg and almost 10 billion t are accepted; the result (every share) is finite JSON."""
    text = HEADER + "cobalt oxide,282200,0.002,g,S,BEL\ncobalt oxide,282200,9999999,kt,S,FIN\n"
    result = _assess(real_con, text)
    assert result.total_tonnes == pytest.approx(9_999_999e3 + 2e-9)
    dumped = json.dumps(result.model_dump(mode="json"), allow_nan=False)  # raises on inf/nan
    assert "Infinity" not in dumped
    for m in result.materials:
        assert all(math.isfinite(o.share) for o in m.by_origin + m.by_supplier_country)


def test_tier_out_of_range_is_a_row_error():
    text = "material,quantity,unit,supplier,supplier country,tier\ncobalt oxide,5,t,S,BEL,1e308\n"
    with pytest.raises(SupplyFileError) as caught:
        read_supply_bytes("lines.csv", text.encode())
    [error] = caught.value.errors
    assert (error.row, error.column) == (2, "tier") and "is not a tier" in error.reason


def _close(a: object, b: object, path: str = "") -> list[str]:
    """Where ``a`` and ``b`` (dumped results) differ beyond the last digits of a float (DuckDB
    adds up in parallel, in no fixed order); empty when they agree."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_remembered_geopolrisk_scores_give_the_answer_of_a_fresh_computation(real_con):
    """A memo of GeoPolRisk scores kept across assessments (as a worker process keeps one)
    changes nothing: a file assessed after other files (other suppliers, the same and other
    materials) answers as without a memo, and a changed release forgets what was remembered."""
    first = HEADER + "cobalt oxide,282200,100,t,S1,DEU\nlithium carbonate,283691,40,t,S2,CHN\n"
    other = HEADER + "cobalt oxide,282200,5,t,S3,BEL\ngraphite,250410,9,t,S4,CHN\n"
    memo = company.ScoreMemo()
    fresh = _assess(real_con, first).model_dump(mode="json")
    _assess(real_con, other, scores=memo)
    assert _close(_assess(real_con, first, scores=memo).model_dump(mode="json"), fresh) == []
    assert memo._known, "nothing was remembered"
    memo._releases = (-1,)  # as if the store had been re-imported
    assert _close(_assess(real_con, first, scores=memo).model_dump(mode="json"), fresh) == []
    assert memo._releases != (-1,)
