"""Load benchmark of the service: latency under 50 concurrent clients on loopback, cold and warm.

Starts ``uvicorn`` serving :func:`critmat.server.app.create_app` in a subprocess on a free port of
127.0.0.1 (the clients run in this process, the server in another), against the default data
directory (``critmat.config.get_settings()``; run ``critmat data pull`` first) and a throwaway
platform database: a temporary SQLite file, or with ``--platform postgresql`` a fresh database
on the server of ``CRITMAT_TEST_POSTGRES_URL`` (default ``root@127.0.0.1:5432``), dropped at
the end. The database is seeded with two organisations and one user per role
(``tests/platform_support.py``); a first server logs the users in (browser sessions with their
CSRF tokens), creates their API tokens and uploads a few assessments, and is stopped.

Then a fresh server is measured in three passes: **cold** (``--seconds`` on the fresh server:
the response caches and per-release tables fill up), **fill** (each distinct read of the
workload sent once, as a server that has been up a while has seen them — the first pass reaches
only a part of the workload, and without this the "warm" pass would mostly measure first
requests again) and **warm** (``--seconds`` over the same requests as the cold pass). In each
pass ``--clients`` clients send requests, each waiting for its answer before sending the next
(closed loop), over a realistic mix (printed first):

- statistics (70 %): material pages, production, dependency, dependency series, Member State
  tables and search over many materials, years and importers, popular ones (EU27, recent
  years) more often — the whole mix of the earlier version of this benchmark;
- risk (12 %): GeoPolRisk for an importer and year, EU criticality, one material's breakdown;
- stress (5 %): the scenario library and single runs of library scenarios (``POST``);
- company assessments (13 %): list (5 %), read one (7 %), upload a small CSV (1 %: a few
  supply lines, a unique name each), by the company users of both organisations — uploads are
  rare next to reads, and each costs the server about a hundred times a read.

Half of the requests use an API token, half a session cookie (with ``X-CSRF-Token`` on the
POSTs), as scripts and browsers would. ``--mix stats`` runs only the statistics share, i.e. the
figures of the earlier version.

Prints per pass: p50/p95/p99 latency, throughput, errors (5xx and transport errors; 4xx
answers are counted apart — a material without trade data answers 404 by design), the same
percentiles for statistics cache misses (``X-Critmat-Cache: miss``) and hits, and per request
kind. Ends with the target: warm p95 under 250 ms and no errors at 50 clients.

    .venv/bin/python benchmarks/api_load.py [--seconds 30] [--clients 50] [--seed 1]
        [--mix full|stats] [--platform sqlite|postgresql] [--workers 1]

The clients speak HTTP/1.1 keep-alive over raw asyncio streams, so that the client (on the same
two cores) costs as little CPU as possible and the figures measure the server. Traffic goes only
to 127.0.0.1; the run stops by itself (about 20 s of setup plus two passes of ``--seconds``).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the shared helpers in tests/ (run as a script from anywhere)

from tests.live_server import LiveServer, free_port, uvicorn_command  # noqa: E402
from tests.platform_support import (  # noqa: E402
    PASSWORD,
    PostgresUnavailable,
    Seeded,
    create_postgres_database,
    drop_postgres_database,
    seed_platform,
)

from critmat.config import get_settings  # noqa: E402
from critmat.reference.materials import load_catalogue  # noqa: E402

MEMBER_STATES = ["DEU", "FRA", "ITA", "ESP", "POL", "NLD", "BEL", "SWE", "FIN", "AUT", "CZE"]
#: Supply lines the uploads draw from (the sample file of the test suite).
SAMPLE = ROOT / "tests" / "data" / "company_supply_sample.csv"
#: Assessments uploaded per company organisation before the measured passes.
PRESEEDED = 5
#: (group, kind, weight in %) of the full mix; the statistics kinds are the earlier benchmark's.
MIX: list[tuple[str, str, float]] = [
    ("statistics", "dependency", 24.5),
    ("statistics", "series", 10.5),
    ("statistics", "material", 14.0),
    ("statistics", "production", 10.5),
    ("statistics", "member-states", 7.0),
    ("statistics", "search", 3.5),
    ("risk", "geopolrisk", 5.0),
    ("risk", "criticality", 3.0),
    ("risk", "criticality-breakdown", 4.0),
    ("stress", "stress-scenarios", 1.0),
    ("stress", "stress-run", 4.0),
    ("assessments", "assessment-list", 5.0),
    ("assessments", "assessment-get", 7.0),
    ("assessments", "assessment-upload", 1.0),
]
TARGET_P95_MS = 250.0
#: At most this many seconds for the fill pass (each distinct read once, between the passes).
FILL_LIMIT_S = 900.0


@dataclass(frozen=True)
class Call:
    """One request of the workload; ``who`` names a credential (see :func:`credentials`)."""

    kind: str
    method: str
    path: str
    who: str
    json_body: bytes | None = None
    upload: bool = False  # an upload: the body is made at send time (unique name)


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
    #: CPU seconds spent during the pass by the server process, by it and its assessment
    #: workers, and by this client process (NaN where ``/proc`` cannot be read).
    server_cpu: float = float("nan")
    group_cpu: float = float("nan")
    client_cpu: float = float("nan")


def cpu_seconds(group: int) -> tuple[float, float]:
    """User plus system CPU seconds of process ``group`` itself and of all live processes in
    its process group, from ``/proc/<pid>/stat`` (Linux; NaN elsewhere). The server leads its
    own group: the first figure is the uvicorn process, the second adds the assessment
    workers it started."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    leader = total = 0
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return float("nan"), float("nan")
    for entry in entries:
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == group:  # fields: state ppid pgrp ... utime(11) stime(12)
            used = int(fields[11]) + int(fields[12])
            total += used
            if int(entry) == group:
                leader = used
    return leader / ticks, total / ticks


# ================================================================================ setup
@dataclass(frozen=True)
class Credential:
    """Headers of one caller: a token, or a session cookie (CSRF token sent on writes)."""

    headers: tuple[tuple[str, str], ...]
    csrf: str | None = None

    def lines(self) -> str:
        """The headers as HTTP/1.1 header lines, each ending with CRLF."""
        return "".join(f"{name}: {value}\r\n" for name, value in self.headers)


def login(client: httpx.Client, email: str) -> tuple[str, str]:
    """Log in through the API: the session cookie and its CSRF token."""
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    answer.raise_for_status()
    cookie = answer.cookies.get("critmat_session")
    if cookie is None:
        raise SystemExit(f"the login of {email} set no critmat_session cookie")
    return cookie, str(answer.json()["csrf_token"])


def credentials(base_url: str, seeded: Seeded) -> dict[str, Credential]:
    """Per seeded user key (``"company@a"`` ...): ``<key>/token`` and ``<key>/session``."""
    out: dict[str, Credential] = {}
    for key in ("analyst@a", "member_state@b", "company@a", "company@b", "admin@a"):
        with httpx.Client(base_url=base_url, timeout=60) as client:
            cookie, csrf = login(client, seeded.users[key])
            created = client.post(
                "/api/v1/auth/tokens", json={"name": "benchmark"}, headers={"X-CSRF-Token": csrf}
            )
            created.raise_for_status()
        bearer = f"Bearer {created.json()['token']}"
        out[f"{key}/token"] = Credential((("Authorization", bearer),))
        out[f"{key}/session"] = Credential((("Cookie", f"critmat_session={cookie}"),), csrf)
    return out


def supply_csv(rng: random.Random, lines: list[list[str]], header: list[str]) -> bytes:
    """A small valid supply file: 1 to 4 lines of the sample."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rng.sample(lines, rng.randint(1, 4)))
    return buffer.getvalue().encode()


def multipart(name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with the file, its assessment name and year 2023."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n",
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="year"\r\n\r\n2023\r\n'.encode(),
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def preseed_assessments(
    base_url: str, creds: dict[str, Credential], seeded: Seeded, uploads: Uploads
) -> dict[int, list[int]]:
    """Upload :data:`PRESEEDED` assessments per company organisation; their ids per org."""
    ids: dict[int, list[int]] = {}
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for key in ("a", "b"):
            org = seeded.orgs[key]
            auth = dict(creds[f"company@{key}/token"].headers)
            for i in range(PRESEEDED):
                body, content_type = uploads.body(f"preseed-{key}-{i}")
                answer = client.post(
                    f"/api/v1/orgs/{org}/assessments",
                    content=body,
                    headers={**auth, "Content-Type": content_type},
                )
                if answer.status_code != 201:
                    raise SystemExit(f"preseed upload failed: {answer.status_code} {answer.text}")
                ids.setdefault(org, []).append(int(answer.json()["id"]))
    return ids


@dataclass
class Uploads:
    """Makes upload bodies from the sample's lines; every name is unique."""

    rng: random.Random
    header: list[str] = field(init=False)
    lines: list[list[str]] = field(init=False)
    made: int = 0

    def __post_init__(self) -> None:
        rows = list(csv.reader(SAMPLE.read_text(encoding="utf-8").splitlines()))
        self.header, self.lines = rows[0], rows[1:]

    def body(self, name: str) -> tuple[bytes, str]:
        """A multipart upload body named ``name`` plus a serial number, and its content type."""
        self.made += 1
        data = supply_csv(self.rng, self.lines, self.header)
        return multipart(f"{name}-{self.made}", f"lines-{self.made}.csv", data)


# ================================================================================ workload
def workload(
    store_path: Path,
    seed: int,
    mix: list[tuple[str, str, float]],
    orgs: dict[str, int],
    assessment_ids: dict[int, list[int]],
    count: int = 20000,
) -> list[Call]:
    """``count`` calls in random order with a realistic popularity."""
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
    from critmat.scenarios.spec import library_names

    scenarios = list(library_names())

    def material(pool: list[str]) -> str:
        # popularity falls with the rank in a fixed shuffled order (Zipf-like, s = 0.8)
        return rng.choices(pool, weights=[1 / (i + 1) ** 0.8 for i in range(len(pool))])[0]

    rng.shuffle(with_trade)
    rng.shuffle(with_wmd)
    rng.shuffle(all_ids)

    def reader() -> str:
        user = rng.choice(["analyst@a", "member_state@b", "company@a"])
        return f"{user}/{rng.choice(['token', 'session'])}"

    def get(kind: str, path: str, query: dict[str, object] | None = None) -> Call:
        suffix = "?" + urllib.parse.urlencode(query) if query else ""
        return Call(kind, "GET", path + suffix, reader())

    def one() -> Call:
        kind = rng.choices([k for _g, k, _w in mix], weights=[w for _g, _k, w in mix])[0]
        basis = rng.choice(["mass", "value"])
        year = rng.choices(years, weights=year_w)[0]
        importer = rng.choices(importers, weights=importer_w)[0]
        org_key = rng.choice(["a", "b"])
        org = orgs[org_key]
        company = f"company@{org_key}/{rng.choice(['token', 'session'])}"
        if kind == "dependency":
            query = {"material": material(with_trade), "year": year, "importer": importer}
            return get(kind, "/api/v1/dependency", query | {"basis": basis})
        if kind == "series":
            query = {"material": material(with_trade), "importer": importer, "basis": basis}
            return get(kind, "/api/v1/dependency/series", query)
        if kind == "material":
            return get(kind, f"/api/v1/materials/{material(all_ids)}")
        if kind == "production":
            query = {"year": rng.randint(int(p0), int(p1))}
            return get(kind, f"/api/v1/materials/{material(with_wmd)}/production", query)
        if kind == "member-states":
            query = {"year": year, "basis": basis}
            return get(kind, f"/api/v1/materials/{material(with_trade)}/member-states", query)
        if kind == "search":
            term = rng.choice(["lith", "cobalt", "rare", "china", "congo", "nickel", "graph"])
            return get(kind, "/api/v1/search", {"q": term})
        if kind == "geopolrisk":
            query = {"importer": importer, "year": rng.choice(years[-5:])}
            return get(kind, "/api/v1/risk/geopolrisk", query)
        if kind == "criticality":
            return get(kind, "/api/v1/risk/criticality", {"year": rng.choice(years[-3:])})
        if kind == "criticality-breakdown":
            return get(kind, f"/api/v1/risk/criticality/{material(with_trade)}")
        if kind == "stress-scenarios":
            return get(kind, "/api/v1/stress/scenarios")
        if kind == "stress-run":
            body = f'{{"scenario": "{rng.choice(scenarios)}"}}'.encode()
            return Call(kind, "POST", "/api/v1/stress/run", reader(), json_body=body)
        if kind == "assessment-list":
            return Call(kind, "GET", f"/api/v1/orgs/{org}/assessments?limit=20", company)
        if kind == "assessment-get":
            assessment = rng.choice(assessment_ids[org])
            return Call(kind, "GET", f"/api/v1/orgs/{org}/assessments/{assessment}", company)
        if kind == "assessment-upload":
            return Call(kind, "POST", f"/api/v1/orgs/{org}/assessments", company, upload=True)
        raise ValueError(f"unknown request kind {kind!r}")

    return [one() for _ in range(count)]


# ================================================================================ clients
def request_bytes(call: Call, cred: Credential, uploads: Uploads, label: str) -> bytes:
    """The HTTP/1.1 request of ``call`` as ``cred`` (upload bodies made now: unique names)."""
    body = b""
    extra = cred.lines()
    if call.method == "POST":
        if cred.csrf is not None:
            extra += f"X-CSRF-Token: {cred.csrf}\r\n"
        if call.upload:
            body, content_type = uploads.body(f"bench-{label}")
        else:
            body, content_type = call.json_body or b"{}", "application/json"
        extra += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    head = (
        f"{call.method} {call.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
        "Accept: application/json\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """Status and headers of one response; its body is read (length or chunked) and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def client(
    port: int,
    creds: dict[str, Credential],
    uploads: Uploads,
    calls: list[Call],
    deadline: float,
    results: Results,
    label: str,
    once: bool = False,
) -> None:
    """One closed-loop client: sends ``calls`` in turn (over again until ``deadline``; with
    ``once``, each one time), each after the answer to the one before."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    i = 0
    limit = len(calls) if once else None
    while time.perf_counter() < deadline and calls and (limit is None or i < limit):
        call = calls[i % len(calls)]
        i += 1
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            payload = request_bytes(call, creds[call.who], uploads, label)
            started = time.perf_counter()
            writer.write(payload)
            await writer.drain()
            status, headers = await read_response(reader)
            elapsed = time.perf_counter() - started
            results.samples.append(
                Sample(call.kind, status, elapsed, headers.get("x-critmat-cache", "-"))
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
    port: int,
    creds: dict[str, Credential],
    uploads: Uploads,
    work: list[Call],
    clients: int,
    seconds: float,
    label: str,
    once: bool = False,
) -> tuple[Results, float]:
    """``clients`` clients, each over its share of ``work``, for ``seconds`` (with ``once``:
    until each has sent its share one time, at most ``seconds``)."""
    results = Results()
    started = time.perf_counter()
    deadline = started + seconds
    share = max(1, -(-len(work) // clients))
    await asyncio.gather(
        *(
            client(
                port,
                creds,
                uploads,
                work[k * share : (k + 1) * share],
                deadline,
                results,
                f"{label}-{k}",
                once,
            )
            for k in range(clients)
        )
    )
    return results, time.perf_counter() - started


def distinct_reads(work: list[Call]) -> list[Call]:
    """Each distinct request of ``work`` once, uploads left out (they are never cached)."""
    seen: dict[tuple[str, str, bytes | None], Call] = {}
    for call in work:
        if not call.upload:
            seen.setdefault((call.method, call.path, call.json_body), call)
    return list(seen.values())


# ================================================================================ report
def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values`` (seconds) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<24} n={len(values):>6}  p50 {pct(values, 50):7.1f} ms  "
        f"p95 {pct(values, 95):7.1f} ms  p99 {pct(values, 99):7.1f} ms"
    )


def errors_of(results: Results) -> int:
    """5xx answers plus transport errors."""
    return sum(1 for s in results.samples if s.status >= 500) + results.transport_errors


def report(title: str, clients: int, results: Results, elapsed: float) -> None:
    samples = results.samples
    client_errors = sum(1 for s in samples if 400 <= s.status < 500)
    print(f"\n== {title}")
    print(
        f"{clients} clients, {elapsed:.1f} s, {len(samples)} responses, "
        f"{len(samples) / elapsed:.0f} req/s, errors (5xx + transport) {errors_of(results)}, "
        f"4xx {client_errors}"
    )
    if samples:
        per = 1000 / len(samples)
        print(
            f"CPU per response: server process {results.server_cpu * per:.2f} ms "
            f"({results.server_cpu:.1f} s), with assessment workers "
            f"{results.group_cpu * per:.2f} ms, client {results.client_cpu * per:.2f} ms"
        )
    print(line("all", [s.seconds for s in samples]))
    print(line("statistics cache hits", [s.seconds for s in samples if s.cache == "hit"]))
    print(line("statistics cache misses", [s.seconds for s in samples if s.cache == "miss"]))
    print(line("4xx answers", [s.seconds for s in samples if 400 <= s.status < 500]))
    for group in dict.fromkeys(g for g, _k, _w in MIX):
        kinds = {k for g, k, _w in MIX if g == group}
        values = [s.seconds for s in samples if s.kind in kinds]
        if values:
            print(line(group, values))
            for kind in sorted(kinds & {s.kind for s in samples}):
                print(line(f"  {kind}", [s.seconds for s in samples if s.kind == kind]))
    statuses = Counter(s.status for s in samples if s.status >= 400)
    if statuses:
        print("error statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    if samples:
        print(f"median latency {statistics.median(s.seconds for s in samples) * 1000:.1f} ms")


# ================================================================================ main
@contextmanager
def platform_database(kind: str, tmp: Path) -> Iterator[str]:
    """A throwaway platform database URL (SQLite file in ``tmp``, or a PostgreSQL database)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'platform.sqlite'}"
        return
    try:
        url = create_postgres_database(f"critmat_bench_{os.getpid()}")
    except PostgresUnavailable as exc:
        raise SystemExit(str(exc)) from None
    try:
        yield url
    finally:
        drop_postgres_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each pass")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--mix", choices=["full", "stats"], default="full")
    parser.add_argument("--platform", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--distinct", type=int, default=0, help="cycle over only N distinct requests (0: all)"
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 600:
        raise SystemExit("--clients must be 1..500 and --seconds 0..600")

    settings = get_settings()
    if not settings.store_path.exists():
        raise SystemExit(f"no analytics store at {settings.store_path}: run `critmat data pull`")
    mix = [m for m in MIX if args.mix == "full" or m[0] == "statistics"]
    total = sum(w for _g, _k, w in mix)
    print("mix (share of requests): " + ", ".join(f"{k} {w / total:.1%}" for _g, k, w in mix))

    with (
        tempfile.TemporaryDirectory(prefix="critmat-api-bench-") as tmp,
        platform_database(args.platform, Path(tmp)) as url,
    ):
        seeded = seed_platform(settings.data_dir, url)
        env = {"CRITMAT_DATABASE_URL": url, "CRITMAT_DATA_DIR": str(settings.data_dir)}
        log = Path(tmp) / "server.log"
        uploads = Uploads(random.Random(args.seed))

        def server() -> LiveServer:
            port = free_port()
            return LiveServer(uvicorn_command(port, args.workers), env, port, log).start()

        setup = server()
        try:
            creds = credentials(setup.base_url, seeded)
            ids = preseed_assessments(setup.base_url, creds, seeded, uploads)
        finally:
            setup.stop()
        work = workload(settings.store_path, args.seed, mix, seeded.orgs, ids)
        if args.distinct:
            work = (work[: args.distinct] * (len(work) // args.distinct + 1))[: len(work)]
        measured = server()
        passes: list[tuple[str, Results, float]] = []
        reads = distinct_reads(work)
        try:
            for label, title, calls, seconds, once in (
                ("cold", "cold: first pass on a fresh server", work, args.seconds, False),
                (
                    "fill",
                    f"fill: each of the {len(reads)} distinct reads of the workload once",
                    reads,
                    FILL_LIMIT_S,
                    True,
                ),
                ("warm", "warm: the first pass's requests again", work, args.seconds, False),
            ):
                assert measured.process is not None
                server_before, group_before = cpu_seconds(measured.process.pid)
                client_before = time.process_time()
                results, elapsed = asyncio.run(
                    run_clients(
                        measured.port, creds, uploads, calls, args.clients, seconds, label, once
                    )
                )
                server_after, group_after = cpu_seconds(measured.process.pid)
                results.server_cpu = server_after - server_before
                results.group_cpu = group_after - group_before
                results.client_cpu = time.process_time() - client_before
                passes.append((title, results, elapsed))
        finally:
            measured.stop()
            if measured.process is not None and measured.process.returncode not in (0, -15):
                print(f"server exited with {measured.process.returncode}:\n{measured.log_tail()}")

    for title, results, elapsed in passes:
        report(title, args.clients, results, elapsed)
    warm = passes[-1][1]
    p95 = pct([s.seconds for s in warm.samples], 95)
    met = p95 < TARGET_P95_MS and errors_of(warm) == 0
    print(
        f"\ntarget at 50 clients: warm p95 < {TARGET_P95_MS:.0f} ms and no errors: "
        f"{'met' if met else 'MISSED'} (warm p95 {p95:.1f} ms, errors {errors_of(warm)})"
    )


if __name__ == "__main__":
    main()
