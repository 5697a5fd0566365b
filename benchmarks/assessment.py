"""Benchmark: company assessment of 10k, 100k and 1M supply lines (issue 8: a 1,000,000-line
file in under 60 s and 2 GB).

Each size runs in a fresh process (so its peak memory is its own): the synthetic file of
``tests/assessments/synthetic.py`` (9 materials, 12 supplier countries, restriction hits and
lines without trade data) is read and validated, assessed against the default data, and the
result dumped and gzip'd as the platform stores it. Printed per size: read, assess and store
seconds, total, peak resident memory (MB), and the stored size.

    .venv/bin/python benchmarks/assessment.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the shared helpers in tests/ (run as a script from anywhere)

from tests.assessments.synthetic import supply_csv  # noqa: E402

from critmat.config import get_settings  # noqa: E402

TARGET_SECONDS = 60.0
TARGET_MB = 2048.0


def one(lines: int) -> dict[str, float]:
    """Read, assess and pack ``lines`` synthetic lines; seconds per step and peak MB."""
    from critmat.platform.assessments import compress_result
    from critmat.risk.company import assess_supply, read_supply_bytes
    from critmat.store import open_store

    data = supply_csv(lines)
    started = time.perf_counter()
    supply = read_supply_bytes("bench.csv", data)
    read_s = time.perf_counter() - started
    store = open_store(get_settings().store_path, read_only=True)
    try:
        started = time.perf_counter()
        result = assess_supply(store, supply, year=2023)
        assess_s = time.perf_counter() - started
    finally:
        store.close()
    started = time.perf_counter()
    packed = compress_result(result.model_dump(mode="json"))
    store_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return {
        "lines": lines,
        "file_mb": len(data) / 1e6,
        "read_s": read_s,
        "assess_s": assess_s,
        "store_s": store_s,
        "total_s": read_s + assess_s + store_s,
        "peak_mb": peak_mb,
        "stored_kb": len(packed) / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one)))
        return
    print(
        f"{'lines':>10} {'file MB':>8} {'read s':>7} {'assess s':>8} {'store s':>7} "
        f"{'total s':>8} {'peak MB':>8} {'stored kB':>9}"
    )
    worst_ok = True
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{int(r['lines']):>10,} {r['file_mb']:>8.1f} {r['read_s']:>7.2f} "
            f"{r['assess_s']:>8.2f} {r['store_s']:>7.2f} {r['total_s']:>8.2f} "
            f"{r['peak_mb']:>8.0f} {r['stored_kb']:>9.0f}"
        )
        if size >= 1_000_000:
            worst_ok = r["total_s"] < TARGET_SECONDS and r["peak_mb"] < TARGET_MB
    print(
        f"target for 1,000,000 lines: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB: "
        + ("met" if worst_ok else "NOT met")
    )


if __name__ == "__main__":
    main()
