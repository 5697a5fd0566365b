"""Concurrent uploads and reads against a real server on PostgreSQL, and a crash in the middle.

The service runs as it is deployed (``critmat serve`` in its own process, on a PostgreSQL
platform database). Several company users and an admin — with API tokens, and one with a
browser session and its CSRF token — send 1,000 uploads of small valid supply files (each with
a unique name and content) and 1,000 reads (lists, single assessments) at once. Every upload
answered 201 must be stored exactly once, and no request may get a 5xx or lose its connection.

Then a second burst, during which the whole server process group is killed with SIGKILL (no
shutdown code runs). After a restart the database must be *consistent*, which for this schema
means: every acknowledged upload is stored exactly once, with the line count and sha256 of the
file that was sent, in the organisation it was sent to; no upload is stored twice; every stored
assessment has a readable result that belongs to it (same sha256); every stored assessment has
exactly one ``assessment.create`` audit entry and every such entry names a stored assessment
(no audit trail of a write that was lost, no write without its audit trail); uploads never sent
are not stored. And the service answers again, including a new upload.

Bounded: 32 requests in flight, a few minutes on two cores; no wall-clock assertion.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import random
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from critmat.platform import assessments as stored
from critmat.platform.db import transaction
from critmat.platform.models import Assessment, AuditEntry
from tests.api.conftest import bearer, login
from tests.live_server import LiveServer, free_port, serve_command
from tests.platform_support import Seeded, fresh_postgres_database, seed_platform

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).parents[1] / "data" / "company_supply_sample.csv"
IN_FLIGHT = 32
FIRST_UPLOADS = 1000
FIRST_READS = 1000
SECOND_UPLOADS = 300
SECOND_READS = 100
#: Acknowledged uploads of the second burst after which the server is killed.
KILL_AFTER = 40


@dataclass(frozen=True)
class Caller:
    """Who sends a request: a label, the org it uploads to, and its headers."""

    label: str
    org: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Upload:
    """One upload with what the stored row must show."""

    caller: Caller
    name: str
    data: bytes
    lines: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Read:
    caller: Caller
    single: bool  # one assessment (an acknowledged one of the org), else the list


@dataclass
class Tally:
    """What the clients saw: statuses per kind, transport errors, acknowledged uploads."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: list[str] = field(default_factory=list)
    acked: dict[str, int] = field(default_factory=dict)  # upload name -> assessment id
    acked_ids: dict[int, list[int]] = field(default_factory=dict)  # org -> ids
    sent: set[str] = field(default_factory=set)  # upload names whose request started
    bad_bodies: list[str] = field(default_factory=list)

    def server_errors(self) -> dict[tuple[str, int], int]:
        return {k: v for k, v in self.statuses.items() if k[1] >= 500}


class SupplyFiles:
    """Small valid supply files from the sample's lines, each with unique content."""

    def __init__(self, seed: int) -> None:
        rows = list(csv.reader(SAMPLE.read_text(encoding="utf-8").splitlines()))
        self.header, self.rows = rows[0], rows[1:]
        self.rng = random.Random(seed)
        self.supplier = self.header.index("Supplier")

    def make(self, caller: Caller, name: str) -> Upload:
        picked = [list(r) for r in self.rng.sample(self.rows, self.rng.randint(1, 3))]
        picked[0][self.supplier] = f"Supplier {name}"  # unique bytes, unique sha256
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.header)
        writer.writerows(picked)
        return Upload(caller, name, buffer.getvalue().encode(), len(picked))


def work(
    files: SupplyFiles, callers: list[Caller], burst: str, uploads: int, reads: int
) -> list[Upload | Read]:
    """``uploads`` and ``reads`` in a random order, spread over the callers."""
    rng = random.Random(burst)
    items: list[Upload | Read] = [
        files.make(rng.choice(callers), f"{burst}-{i}-{uuid.uuid4().hex[:8]}")
        for i in range(uploads)
    ]
    items += [Read(rng.choice(callers), rng.random() < 0.5) for _ in range(reads)]
    rng.shuffle(items)
    return items


async def send(client: httpx.AsyncClient, item: Upload | Read, tally: Tally) -> None:
    """One request; its outcome goes into ``tally``."""
    caller = item.caller
    base = f"/api/v1/orgs/{caller.org}/assessments"
    if isinstance(item, Upload):
        kind = "upload"
        tally.sent.add(item.name)
        request = client.post(
            base,
            files={"file": (f"{item.name}.csv", item.data, "text/csv")},
            data={"name": item.name, "year": "2023"},
            headers=caller.headers,
        )
    elif item.single and tally.acked_ids.get(caller.org):
        kind = "get"
        assessment_id = random.choice(tally.acked_ids[caller.org])
        request = client.get(f"{base}/{assessment_id}", headers=caller.headers)
    else:
        kind = "list"
        request = client.get(base, params={"limit": 50}, headers=caller.headers)
    try:
        response = await request
    except httpx.TransportError as exc:
        tally.transport_errors.append(f"{kind} as {caller.label}: {exc!r}")
        return
    tally.statuses[(kind, response.status_code)] += 1
    if response.status_code >= 300:
        tally.bad_bodies.append(f"{kind} as {caller.label}: {response.status_code} {response.text}")
        return
    body = response.json()
    if isinstance(item, Upload):
        tally.acked[item.name] = int(body["id"])
        tally.acked_ids.setdefault(caller.org, []).append(int(body["id"]))
    elif kind == "list" and any(e["organisation_id"] != caller.org for e in body):
        tally.bad_bodies.append(f"list as {caller.label}: another organisation's assessment")


async def burst(
    base_url: str,
    items: list[Upload | Read],
    tally: Tally,
    crash: LiveServer | None = None,
) -> None:
    """Send ``items`` with :data:`IN_FLIGHT` requests at a time. With ``crash``, that server
    is killed once :data:`KILL_AFTER` uploads of this burst are acknowledged; the items not
    started by then are not sent."""
    queue: asyncio.Queue[Upload | Read] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    acked_before = len(tally.acked)
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)

    async def worker(client: httpx.AsyncClient) -> None:
        while not killed.is_set():
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await send(client, item, tally)
            enough = len(tally.acked) - acked_before >= KILL_AFTER
            if crash is not None and enough and not killed.is_set():
                killed.set()
                await asyncio.to_thread(crash.kill)

    async with httpx.AsyncClient(base_url=base_url, timeout=300, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(IN_FLIGHT)))
    if crash is not None:
        assert killed.is_set(), "the burst ended before the server could be killed"


# ================================================================================ fixtures
@pytest.fixture
def platform(tmp_path: Path, real_data_dir: Path) -> Iterator[Seeded]:
    """Orgs a and b with one user per role on a fresh PostgreSQL database."""
    (tmp_path / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    with fresh_postgres_database("critmat_burst") as url:
        yield seed_platform(tmp_path, url)


def start_server(seeded: Seeded, log: Path) -> LiveServer:
    """``critmat serve`` on a free port with the seeded platform database."""
    port = free_port()
    env = {
        "CRITMAT_DATABASE_URL": seeded.settings.platform_url,
        "CRITMAT_DATA_DIR": str(seeded.settings.data_dir),
    }
    return LiveServer(serve_command(port), env, port, log).start()


def callers(base_url: str, seeded: Seeded) -> list[Caller]:
    """Two tokens of company@a, a session of company@a (CSRF token on its uploads), a token of
    company@b, and the admin (a token) uploading to both organisations."""
    a, b = seeded.orgs["a"], seeded.orgs["b"]
    out = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for label, key, org in (
            ("company@a token 1", "company@a", a),
            ("company@a token 2", "company@a", a),
            ("company@b token", "company@b", b),
            ("admin@a token (org a)", "admin@a", a),
        ):
            out.append(Caller(label, org, bearer(client, seeded.users[key])))
        admin_b = Caller("admin@a token (org b)", b, out[-1].headers)
        csrf = login(client, seeded.users["company@a"])
        cookie = client.cookies["critmat_session"]
        session = {"Cookie": f"critmat_session={cookie}", "X-CSRF-Token": csrf}
    return [*out, admin_b, Caller("company@a session", a, session)]


# ================================================================================ checks
def check_consistent(seeded: Seeded, uploads: list[Upload], tally: Tally) -> None:
    """The database after the crash (see the module docstring for what consistent means)."""
    by_name = {u.name: u for u in uploads}
    with transaction(seeded.settings.platform_url) as db:
        rows = list(db.scalars(select(Assessment)))
        created = select(AuditEntry).where(AuditEntry.action == "assessment.create")
        audits = list(db.scalars(created))
        names = Counter(r.name for r in rows)
        assert [n for n, c in names.items() if c > 1] == [], "an upload stored twice"
        stored_names = set(names)
        missing = sorted(set(tally.acked) - stored_names)
        assert missing == [], f"acknowledged uploads not stored: {missing[:5]}"
        assert stored_names <= tally.sent, "a stored assessment that was never sent"
        for row in rows:
            upload = by_name[row.name]
            assert (row.organisation_id, row.lines, row.input_sha256) == (
                upload.caller.org,
                upload.lines,
                upload.sha256,
            ), f"assessment {row.id} does not match the file sent as {row.name}"
            if row.name in tally.acked:
                assert tally.acked[row.name] == row.id
            result = stored.result_of(row)
            assert result["input_sha256"] == row.input_sha256, f"result of {row.id} is another's"
        audited = Counter(int(e.details["assessment_id"]) for e in audits)
        ids = {r.id for r in rows}
        assert [i for i, c in audited.items() if c > 1] == [], "an upload audited twice"
        assert set(audited) == ids, (
            f"assessments without audit entry: {sorted(ids - set(audited))[:5]}; audit entries "
            f"of assessments not stored: {sorted(set(audited) - ids)[:5]}"
        )
        orgs = {r.id: r.organisation_id for r in rows}
        assert all(e.organisation_id == orgs[int(e.details["assessment_id"])] for e in audits)


def _run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` on an event loop of its own thread: a session-scoped Playwright
    browser of an earlier test file may keep a loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def test_concurrent_uploads_and_reads_then_sigkill_leave_a_consistent_database(
    platform: Seeded, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = start_server(platform, log)
    files = SupplyFiles(seed=8)
    tally = Tally()
    try:
        who = callers(server.base_url, platform)
        first = work(files, who, "first", FIRST_UPLOADS, FIRST_READS)
        _run_apart(burst(server.base_url, first, tally))
        assert tally.transport_errors == [], (
            len(tally.transport_errors),
            tally.transport_errors[:5],
            f"server exit code: {server.process.poll() if server.process else None}",
            server.log_tail(),
        )
        assert tally.server_errors() == {}, (tally.server_errors(), server.log_tail())
        assert tally.bad_bodies == [], tally.bad_bodies[:5]
        first_uploads = [i for i in first if isinstance(i, Upload)]
        assert len(tally.acked) == FIRST_UPLOADS, tally.statuses
        check_consistent(platform, first_uploads, tally)

        second = work(files, who, "second", SECOND_UPLOADS, SECOND_READS)
        _run_apart(burst(server.base_url, second, tally, crash=server))
    finally:
        server.kill()
    assert tally.server_errors() == {}, (tally.server_errors(), server.log_tail())
    uploads = first_uploads + [i for i in second if isinstance(i, Upload)]
    assert len(tally.sent) < len(uploads), "every upload was sent: the kill came too late"

    restarted = start_server(platform, log)
    try:
        check_consistent(platform, uploads, tally)
        again = Tally()
        _run_apart(burst(restarted.base_url, work(files, who, "again", 5, 5), again))
        assert len(again.acked) == 5 and again.server_errors() == {}, again.bad_bodies
        assert again.transport_errors == [], again.transport_errors
    finally:
        restarted.stop()
