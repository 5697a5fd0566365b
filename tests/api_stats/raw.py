"""Independent recomputation from the raw SQLite files of the wheel, in plain Python."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path


def raw_production(raw: Path, sheet: str, year: int) -> dict[str, float]:
    con = sqlite3.connect(raw / "world_mining_data.db")
    try:
        rows = con.execute(f'SELECT Country_ISO, "{year}" FROM "{sheet}"').fetchall()
    finally:
        con.close()
    return {iso: float(q) for iso, q in rows if iso != "DELETE" and q is not None}


def raw_imports(
    raw: Path, importers: frozenset[str], codes: set[str], year: int, basis: str
) -> dict[str, float]:
    """Imports into ``importers`` from outside it, by exporter ISO3, straight from baci.db."""
    con = sqlite3.connect(raw / "baci.db")
    try:
        iso = dict(con.execute("SELECT country_code, country_iso3 FROM country_codes_V202401b"))
        iso["490"] = "TWN"  # BACI's "Other Asia, nes" is Taiwan; critmat maps it to TWN
        totals: dict[str, float] = defaultdict(float)
        for i, j, k, v, q in con.execute(
            "SELECT i, j, k, v, q FROM baci_trade WHERE t = ?", [str(year)]
        ):
            exporter, importer = iso[i.strip()], iso[j.strip()]
            if f"{int(k):06d}" not in codes or importer not in importers or exporter in importers:
                continue
            has_quantity = q is not None and str(q).strip() != ""
            amount = v if basis == "value" else (q if has_quantity else None)
            if amount is not None:
                totals[exporter] += float(amount)
    finally:
        con.close()
    return {k: v for k, v in totals.items() if v > 0}
