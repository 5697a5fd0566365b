"""Benchmark: the full refresh of two source trees, alternately, on one copy of the store.

On a machine that others load, two separate runs measure the load as much as the code;
alternating the trees round by round (a fresh process each, one warm-up refresh, then
``--refreshes`` timed ones) lets them share it. Prints median wall and CPU time per tree and
the ratio. Make the base tree with ``git worktree add /tmp/base <commit>``:

    .venv/bin/python benchmarks/indicators_ab.py /tmp/base/src src [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from critmat.config import get_settings

#: One process's work: a warm-up refresh, then timed ones; prints ``[[wall_s, cpu_s], ...]``.
_TIMED_REFRESHES = r"""
import json, sys, time
import duckdb
from critmat.indicators.refresh import refresh_all
from critmat.reference.materials import load_catalogue
from critmat.reference.restrictions import load_restrictions
catalogue, restrictions = load_catalogue(), load_restrictions()
con = duckdb.connect(sys.argv[1], read_only=True)
refresh_all(con, catalogue, restrictions)
times = []
for _ in range(int(sys.argv[2])):
    wall, cpu = time.perf_counter(), time.process_time()
    refresh_all(con, catalogue, restrictions)
    times.append((time.perf_counter() - wall, time.process_time() - cpu))
print(json.dumps(times))
"""


def timed(source_tree: str, store: Path, refreshes: int) -> list[tuple[float, float]]:
    """``(wall s, CPU s)`` of each timed refresh of one process on ``source_tree``."""
    env = dict(os.environ, PYTHONPATH=source_tree)
    done = subprocess.run(
        [sys.executable, "-c", _TIMED_REFRESHES, str(store), str(refreshes)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [(wall, cpu) for wall, cpu in json.loads(done.stdout.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", help="source tree of the base (its src/ folder)")
    parser.add_argument("new", help="source tree of the change (its src/ folder)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--refreshes", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="critmat-ab-"))
    store = work / "critmat.duckdb"
    shutil.copy2(get_settings().data_dir / "critmat.duckdb", store)
    results: dict[str, list[tuple[float, float]]] = {"base": [], "new": []}
    try:
        for _ in range(args.rounds):
            for name in results:
                results[name] += timed(getattr(args, name), store, args.refreshes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {}
    for name, times in results.items():
        medians[name] = statistics.median(wall for wall, _ in times)
        print(
            f"{name:<4} wall median {medians[name]:.3f} s, best {min(w for w, _ in times):.3f} s;"
            f" CPU median {statistics.median(cpu for _, cpu in times):.3f} s (n={len(times)})"
        )
    print(f"ratio new/base (median wall): {medians['new'] / medians['base']:.3f}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
