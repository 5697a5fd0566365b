"""Benchmark: server CPU per small company-assessment upload (one request at a time).

Uploads ``tests/data/company_supply_sample.csv`` (9 lines) ``--uploads`` times through
``TestClient`` against the default data and a throwaway SQLite platform database, and prints
the mean CPU seconds per upload of the whole process tree (this process, which also runs the
client, plus the assessment worker processes), the workers' share, and the mean wall time.
The first upload (which starts a worker) is reported on its own. The heavy imports are made
inside :func:`main`: worker processes import this script as their main module, as they would
import ``critmat`` or ``uvicorn`` in the service.

    .venv/bin/python benchmarks/assessment_upload_cpu.py [--uploads 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "company_supply_sample.csv"
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float]:
    """Parent pid and CPU seconds (own plus reaped children) of process ``pid`` (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / TICK


def tree_cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its descendants (live ones, and the reaped ones
    through their parents' counters): ``(whole tree, descendants only)``."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = _stat(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    me = os.getpid()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _cpu) in stats.items():
        children.setdefault(ppid, []).append(pid)
    below, todo = 0.0, list(children.get(me, []))
    while todo:
        pid = todo.pop()
        below += stats[pid][1]
        todo.extend(children.get(pid, []))
    own = os.times()
    return own.user + own.system + own.children_user + own.children_system + below, below


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # the shared helpers in tests/ (run as a script from anywhere)
    from fastapi.testclient import TestClient
    from tests.api.conftest import bearer
    from tests.platform_support import seed_platform

    from critmat.config import get_settings
    from critmat.server.app import create_app

    data = SAMPLE.read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        (data_dir / "critmat.duckdb").symlink_to(get_settings().store_path)
        seeded = seed_platform(data_dir)
        org = seeded.orgs["a"]
        with TestClient(create_app(seeded.settings)) as client:
            auth = bearer(client, seeded.users["company@a"])

            def upload() -> tuple[float, float, float]:
                cpu0, workers0 = tree_cpu()
                started = time.perf_counter()
                answer = client.post(
                    f"/api/v1/orgs/{org}/assessments",
                    files={"file": ("sample.csv", data, "text/csv")},
                    data={"name": "bench", "year": "2023"},
                    headers=auth,
                )
                wall = time.perf_counter() - started
                assert answer.status_code == 201, answer.text[:300]
                cpu1, workers1 = tree_cpu()
                return cpu1 - cpu0, workers1 - workers0, wall

            first = upload()
            rest = [upload() for _ in range(args.uploads)]
    n = len(rest)
    print(
        f"first upload: {first[0] * 1000:.0f} ms CPU ({first[1] * 1000:.0f} in workers), "
        f"{first[2] * 1000:.0f} ms wall"
    )
    print(
        f"next {n}: mean {sum(r[0] for r in rest) / n * 1000:.1f} ms CPU per upload "
        f"({sum(r[1] for r in rest) / n * 1000:.1f} in workers), "
        f"{sum(r[2] for r in rest) / n * 1000:.1f} ms wall"
    )


if __name__ == "__main__":
    main()
