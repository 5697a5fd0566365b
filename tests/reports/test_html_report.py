"""The offline HTML report, built once per session from the real default data.

The CRMA-panel figures are checked against numbers recomputed here straight from the ``trade``
table with SQL and a hard-coded EU27 list (``tests.support.EU27``) — a different path from the
indicator code the report uses.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from critmat.errors import CritmatError
from critmat.reference.materials import load_catalogue
from critmat.reports.html import build_report, report_context, write_atomic
from critmat.services import overview
from critmat.services.overview import OverviewBasis
from critmat.store import Store, open_store
from tests.support import EU27


@dataclass
class Built:
    path: Path
    text: str
    messages: list[str]
    basis: OverviewBasis
    store_path: Path
    seconds: float


class _Collector(HTMLParser):
    """Collects start tags with their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@dataclass
class Page:
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def _parse(text: str) -> Page:
    parser = _Collector()
    parser.feed(text)
    return Page(parser.tags)


@pytest.fixture(scope="session")
def built(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """One report build per session; keeps the indicator refresh for the failure test."""
    import time

    messages: list[str] = []
    target = tmp_path_factory.mktemp("report") / "out" / "critmat-report.html"
    store_path = real_data_dir / "critmat.duckdb"
    started = time.perf_counter()
    with open_store(store_path, read_only=True) as store:
        services = report_context(store)
        path = build_report(store, target, progress=messages.append, services=services)
        seconds = time.perf_counter() - started
        basis = overview.basis(services, store)
    yield Built(path, path.read_text(encoding="utf-8"), messages, basis, store_path, seconds)


@pytest.fixture(scope="session")
def page(built: Built) -> Page:
    return _parse(built.text)


@pytest.fixture
def store(built: Built) -> Iterator[Store]:
    with open_store(built.store_path, read_only=True) as opened:
        yield opened


def test_report_is_written_with_progress(built: Built) -> None:
    assert built.path.exists()
    assert built.path.name == "critmat-report.html"
    assert built.text.startswith("<!DOCTYPE html>")
    assert built.text.rstrip().endswith("</html>")
    assert any("indicators" in m for m in built.messages)
    assert any(m.startswith("writing ") for m in built.messages)
    size = built.path.stat().st_size
    # plotly.js is ~4.8 MB; everything else must stay small.
    assert size < 8_000_000, size
    # no temporary file left beside the report
    assert [p.name for p in built.path.parent.iterdir()] == [built.path.name]


def test_report_is_self_contained_offline(built: Built, page: Page) -> None:
    remote = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    for tag, attrs in page.tags:
        for name in ("src", "srcset", "data", "poster"):
            value = attrs.get(name)
            assert not (value and remote.match(value)), (tag, name, value)
        if tag == "link":
            href = attrs.get("href") or ""
            assert not remote.match(href), href
        if tag == "script":
            assert attrs.get("src") is None, attrs
    # CSS must not pull fonts or images from the web
    for css in re.findall(r"<style>(.*?)</style>", built.text, flags=re.S):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
        assert "@import" not in css
    # plotly.js is inlined exactly once, from the installed package
    import plotly

    assert built.text.count("Plotly.newPlot") >= 1
    assert built.text.count(f"plotly.js v{plotly.__version__.split('.')[0]}") <= 1
    assert "cdn.plot.ly" not in re.sub(r"<script>.*?</script>", "", built.text, flags=re.S)


def test_every_crm_has_a_section(built: Built, page: Page) -> None:
    critical = load_catalogue().critical()
    assert len(critical) == 34
    sections = {a.get("data-material") for a in page.find("section")}
    for material in critical:
        assert material.id in sections, material.id
        assert f'id="m-{material.id}"' in built.text
        chunk = built.text.split(f'id="m-{material.id}"', 1)[1].split("</section>", 1)[0]
        heading = chunk.split("</h3>", 1)[0]
        assert ('class="badge strategic"' in heading) == material.strategic, material.id
        assert 'class="badge critical"' in heading
    rows = built.text.split('id="summary-table"', 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr") == 1 + 34  # header + one row per CRM
    # the panel lists every CRM, strategic ones first
    panel = page.find("tr", **{"class": "crma-row"}) + page.find("tr", **{"class": "crma-row over"})
    assert len(panel) == 34


def _panel_rows(page: Page) -> list[dict[str, str | None]]:
    return [a for t, a in page.tags if t == "tr" and "crma-row" in (a.get("class") or "")]


def test_crma_panel_matches_sql_on_the_trade_table(built: Built, page: Page, store: Store) -> None:
    eu = sorted(EU27)
    checked = 0
    for row in _panel_rows(page):
        codes = (row["data-hs"] or "").split()
        year = int(row["data-year"] or 0)
        share_text = row["data-share"] or ""
        if not share_text:
            if codes:  # no share shown: SQL must agree that no quantity was imported
                found = store.con.execute(
                    """SELECT count(*) FROM trade WHERE year = ? AND list_contains(?, hs6)
                       AND list_contains(?, importer) AND NOT list_contains(?, exporter)
                       AND quantity_t > 0""",
                    [year, codes, eu, eu],
                ).fetchone()
                assert found is not None and found[0] == 0, row
            continue
        by_origin = store.con.execute(
            """SELECT exporter, sum(quantity_t) AS t FROM trade
               WHERE year = ? AND list_contains(?, hs6) AND quantity_t IS NOT NULL
                 AND list_contains(?, importer) AND NOT list_contains(?, exporter)
               GROUP BY exporter ORDER BY t DESC, exporter""",
            [year, codes, eu, eu],
        ).fetchall()
        total = sum(t for _o, t in by_origin)
        _top_origin, top_tonnes = by_origin[0]
        assert float(share_text) == pytest.approx(top_tonnes / total, rel=1e-9), row
        assert float(row["data-total"] or "nan") == pytest.approx(total, rel=1e-9)
        # ties aside, the named country is the largest origin
        tied = {o for o, t in by_origin if t == top_tonnes}
        assert row["data-country"] in tied
        assert ("over" in (row.get("class") or "")) == (top_tonnes / total > 0.65)
        checked += 1
    assert checked >= 20


def test_panel_marks_thin_and_missing_data(built: Built) -> None:
    table = built.text.split('id="crma-table"', 1)[1].split("</table>", 1)[0]
    assert "not in release" in table  # e.g. gallium: 811291 is not in the 74-code extract
    assert "thin" in table  # beryllium: a few tonnes


def test_provenance_names_the_releases(built: Built, store: Store) -> None:
    from markupsafe import escape

    releases = store.releases(current_only=True)
    assert {r.dataset for r in releases} >= {"production", "trade"}
    provenance = built.text.split('id="provenance"', 1)[1]
    for release in releases:
        assert str(escape(release.version)) in provenance
        assert release.sha256 in provenance
        assert str(escape(release.source)) in provenance
    header = built.text.split('id="crma"', 1)[0]
    for release in releases:
        assert str(escape(release.version)) in header


def test_figures_exist_for_every_chart(built: Built, page: Page) -> None:
    data = re.search(
        r'<script id="figures" type="application/json">(.*?)</script>', built.text, flags=re.S
    )
    assert data is not None
    figures = json.loads(data.group(1))
    ids = [a["data-fig"] for t, a in page.tags if t == "div" and a.get("data-fig")]
    assert len(ids) > 34
    assert set(ids) <= set(figures)
    assert "crma-panel" in figures
    panel = figures["crma-panel"]["data"][0]
    assert len(panel["y"]) == 34
    assert figures["crma-panel"]["layout"]["shapes"][0]["x0"] == 0.65


def test_failed_build_leaves_the_previous_report(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "critmat-report.html"
    target.write_text("previous report", encoding="utf-8")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with open_store(built.store_path, read_only=True) as store, pytest.raises(OSError):
        # the basis of the first build (same releases): the failing build skips the refresh
        services = report_context(store)
        services.remember("overview.basis", None, lambda: built.basis)
        build_report(store, target, services=services)
    assert target.read_text(encoding="utf-8") == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_year_outside_the_data_is_refused_before_writing(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    with open_store(built.store_path, read_only=True) as store, pytest.raises(CritmatError):
        build_report(store, target, year=1900)
    assert not target.exists()


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "r.html"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text(encoding="utf-8") == "two"
    assert [p.name for p in target.parent.iterdir()] == ["r.html"]
