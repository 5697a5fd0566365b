"""Load benchmark of the statistics API: latency under 50 concurrent clients on loopback.

Starts ``uvicorn`` serving :func:`critmat.api.app.create_app` in a subprocess on a free port of
127.0.0.1, against the default data directory (``critmat.config.get_settings()``; run
``critmat data pull`` first) and a throwaway platform database (a temporary SQLite file, migrated,
with one organisation, one user and an API token). Then ``--clients`` clients send requests for
``--seconds`` seconds, each waiting for its answer before sending the next (closed loop), over a
realistic mix: material pages, production, dependency, dependency series and Member State
tables over many materials, years and importers, popular ones (EU27, recent years) more often.

Prints p50/p95/p99 latency, throughput, error count (5xx and transport errors; 4xx answers are
counted apart — a material without trade data answers 404 by design), and the same percentiles
for cache misses (``X-Critmat-Cache: miss``: computed from the store) and hits separately.

    .venv/bin/python benchmarks/api_load.py [--seconds 30] [--clients 50] [--seed 1]

The clients speak HTTP/1.1 keep-alive over raw asyncio streams, so that the client (on the same
two cores) costs as little CPU as possible and the figures measure the server. Traffic goes only
to 127.0.0.1; the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from critmat.config import get_settings
from critmat.platform import accounts
from critmat.platform.db import transaction, upgrade
from critmat.platform.models import Role
from critmat.reference.materials import load_catalogue

MEMBER_STATES = ["DEU", "FRA", "ITA", "ESP", "POL", "NLD", "BEL", "SWE", "FIN", "AUT", "CZE"]


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float
    cache: str


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    transport_errors: int = 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_platform(tmp: Path) -> tuple[str, str]:
    """A migrated temporary platform database with one user and an API token."""
    url = f"sqlite:///{tmp / 'platform.sqlite'}"
    upgrade(url)
    with transaction(url) as db:
        org = accounts.create_org(db, "Benchmark", actor="benchmark")
        user = accounts.create_user(
            db,
            "bench@example.org",
            "benchmark password 123",
            role=Role.analyst,
            organisation=org,
            actor="benchmark",
        )
        _row, token = accounts.create_api_token(db, user, "benchmark")
    return url, token


def workload(store_path: Path, seed: int, count: int = 20000) -> list[tuple[str, str]]:
    """``(kind, path)`` requests in random order with a realistic popularity."""
    rng = random.Random(seed)
    con = duckdb.connect(str(store_path), read_only=True)
    try:
        traded = {r[0] for r in con.execute("SELECT DISTINCT hs6 FROM trade").fetchall()}
        y0, y1 = con.execute("SELECT min(year), max(year) FROM trade").fetchall()[0]
        p0, p1 = con.execute("SELECT min(year), max(year) FROM production").fetchall()[0]
    finally:
        con.close()
    catalogue = load_catalogue()
    with_trade = [m.id for m in catalogue if any(c in traded for c in m.hs_codes)]
    with_wmd = [m.id for m in catalogue if m.wmd_commodity]
    all_ids = [m.id for m in catalogue]
    years = list(range(max(int(y0), int(y1) - 14), int(y1) + 1))
    year_w = [3 if y > int(y1) - 5 else 1 for y in years]
    importers = ["EU27", *MEMBER_STATES]
    importer_w = [6] + [1] * len(MEMBER_STATES)

    def material(pool: list[str]) -> str:
        # popularity falls with the rank in a fixed shuffled order (Zipf-like, s = 0.8)
        return rng.choices(pool, weights=[1 / (i + 1) ** 0.8 for i in range(len(pool))])[0]

    rng.shuffle(with_trade)
    rng.shuffle(with_wmd)
    rng.shuffle(all_ids)

    def one() -> tuple[str, str]:
        kind = rng.choices(
            ["dependency", "series", "material", "production", "member-states", "search"],
            weights=[35, 15, 20, 15, 10, 5],
        )[0]
        basis = rng.choice(["mass", "value"])
        year = rng.choices(years, weights=year_w)[0]
        importer = rng.choices(importers, weights=importer_w)[0]
        if kind == "dependency":
            query = {"material": material(with_trade), "year": year, "importer": importer}
            return kind, "/api/v1/dependency?" + urllib.parse.urlencode(query | {"basis": basis})
        if kind == "series":
            query = {"material": material(with_trade), "importer": importer, "basis": basis}
            return kind, "/api/v1/dependency/series?" + urllib.parse.urlencode(query)
        if kind == "material":
            return kind, f"/api/v1/materials/{material(all_ids)}"
        if kind == "production":
            year = rng.randint(int(p0), int(p1))
            return kind, f"/api/v1/materials/{material(with_wmd)}/production?year={year}"
        if kind == "member-states":
            query = {"year": year, "basis": basis}
            return kind, (
                f"/api/v1/materials/{material(with_trade)}/member-states?"
                + urllib.parse.urlencode(query)
            )
        term = rng.choice(["lith", "cobalt", "rare", "china", "congo", "nickel", "graph", "chile"])
        return kind, "/api/v1/search?q=" + term

    return [one() for _ in range(count)]


async def client(
    port: int,
    token: str,
    requests: list[tuple[str, str]],
    deadline: float,
    results: Results,
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    i = 0
    while time.perf_counter() < deadline and requests:
        kind, path = requests[i % len(requests)]
        i += 1
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.perf_counter()
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                "Accept: application/json\r\n\r\n".encode()
            )
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            await reader.readexactly(int(headers.get("content-length", "0")))
            elapsed = time.perf_counter() - started
            results.samples.append(
                Sample(kind, status, elapsed, headers.get("x-critmat-cache", "-"))
            )
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            results.transport_errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def run_clients(
    port: int, token: str, work: list[tuple[str, str]], clients: int, seconds: float
) -> tuple[Results, float]:
    results = Results()
    started = time.perf_counter()
    deadline = started + seconds
    share = max(1, len(work) // clients)
    await asyncio.gather(
        *(
            client(port, token, work[k * share : (k + 1) * share], deadline, results)
            for k in range(clients)
        )
    )
    return results, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<22} n={len(values):>6}  p50 {pct(values, 50):7.1f} ms  "
        f"p95 {pct(values, 95):7.1f} ms  p99 {pct(values, 99):7.1f} ms"
    )


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--distinct", type=int, default=0, help="cycle over only N distinct requests (0: all)"
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 600:
        raise SystemExit("--clients must be 1..500 and --seconds 0..600")

    settings = get_settings()
    if not settings.store_path.exists():
        raise SystemExit(f"no analytics store at {settings.store_path}: run `critmat data pull`")
    work = workload(settings.store_path, args.seed)
    if args.distinct:
        work = (work[: args.distinct] * (len(work) // args.distinct + 1))[: len(work)]
    with tempfile.TemporaryDirectory(prefix="critmat-api-bench-") as tmp:
        url, token = make_platform(Path(tmp))
        port = free_port()
        env = dict(os.environ, CRITMAT_DATABASE_URL=url, CRITMAT_DATA_DIR=str(settings.data_dir))
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "critmat.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(command, env=env)
        try:
            wait_ready(port, server)
            results, elapsed = asyncio.run(
                run_clients(port, token, work, args.clients, args.seconds)
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    samples = results.samples
    errors = sum(1 for s in samples if s.status >= 500) + results.transport_errors
    client_errors = sum(1 for s in samples if 400 <= s.status < 500)
    print(
        f"{args.clients} clients, {elapsed:.1f} s, {len(samples)} responses, "
        f"{len(samples) / elapsed:.0f} req/s, errors (5xx + transport) {errors}, "
        f"4xx {client_errors}"
    )
    print(line("all", [s.seconds for s in samples]))
    print(line("cache hits", [s.seconds for s in samples if s.cache == "hit"]))
    print(line("cache misses (cold)", [s.seconds for s in samples if s.cache == "miss"]))
    print(line("4xx answers", [s.seconds for s in samples if 400 <= s.status < 500]))
    for kind in sorted({s.kind for s in samples}):
        print(line(f"  {kind}", [s.seconds for s in samples if s.kind == kind]))
    if samples:
        print(f"median latency {statistics.median(s.seconds for s in samples) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
