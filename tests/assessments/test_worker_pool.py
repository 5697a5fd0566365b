"""The persistent assessment worker pool (round 2 of issue 8: a small upload must be cheap).

Real worker processes against the real store: one worker serves many uploads and keeps the
store open, reopens it when the file is replaced, is killed and replaced after the time limit
or when it dies, at most ``workers`` exist, and none outlives the pool, the app or the service
(stopped politely or killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from critmat.errors import NoDataError
from critmat.server.app import create_app
from critmat.services.assessment_worker import (
    AssessmentPool,
    AssessmentRequest,
    AssessmentTimeout,
    AssessmentWorkerFailed,
    pool,
)
from critmat.store import open_store
from tests.api.conftest import bearer
from tests.assessments.conftest import SAMPLE
from tests.assessments.synthetic import supply_csv
from tests.live_server import seeded_server
from tests.platform_support import PASSWORD, Seeded

#: Seconds a process gets to disappear before a test gives up (a generous bound, not a timing).
GONE_WITHIN_S = 30.0


def _request(store: Path, data: bytes | None = None) -> AssessmentRequest:
    return AssessmentRequest(
        store_path=store,
        filename="lines.csv",
        data=SAMPLE.read_bytes() if data is None else data,
        importer="EU27",
        year=2023,
        on=None,
    )


def _start_time(pid: int) -> int | None:
    """The start time of live process ``pid`` (clock ticks); None when gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in {"Z", "X"} else int(fields[19])


def _descendants(root: int) -> dict[int, int]:
    """Live descendants of ``root``: pid -> start time."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, int] = {}
    todo = list(parents.get(root, []))
    while todo:
        pid = todo.pop()
        started = _start_time(pid)
        if started is not None:
            found[pid] = started
        todo.extend(parents.get(pid, []))
    return found


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GONE_WITHIN_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {GONE_WITHIN_S:.0f} s"
        time.sleep(0.1)


def _all_gone(processes: dict[int, int]) -> bool:
    """True when none of ``processes`` (pid -> start time) is alive any more."""
    return all(_start_time(pid) != started for pid, started in processes.items())


@pytest.fixture
def store_link(tmp_path: Path, real_data_dir: Path) -> Path:
    link = tmp_path / "critmat.duckdb"
    link.symlink_to(real_data_dir / "critmat.duckdb")
    return link


@pytest.fixture
def make_pool() -> Iterator[Callable[[int, float], AssessmentPool]]:
    made: list[AssessmentPool] = []

    def make(workers: int, timeout_s: float) -> AssessmentPool:
        made.append(AssessmentPool(workers, timeout_s))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_one_worker_serves_many_uploads_with_the_store_kept_open(make_pool, store_link):
    pool = make_pool(1, 60)
    assert pool.pids() == []  # started lazily
    first = pool.run(_request(store_link))
    [pid] = pool.pids()
    for _ in range(3):
        again = pool.run(_request(store_link))
        assert again.facts == first.facts
    assert pool.pids() == [pid]  # the same process answered every upload
    assert first.facts["lines"] == 9


def test_a_replaced_store_file_is_reopened(make_pool, store_link, tmp_path):
    """The worker compares the file's identity before each job: replacing the store (as a
    pull would) is seen by the next upload, in the same worker."""
    pool = make_pool(1, 60)
    assert pool.run(_request(store_link)).facts["lines"] == 9
    [pid] = pool.pids()
    empty = tmp_path / "empty.duckdb"
    open_store(empty).close()  # a store with the schema and no releases
    real = store_link.resolve()
    os.replace(empty, store_link)
    with pytest.raises(NoDataError, match="has no trade data yet") as refused:
        pool.run(_request(store_link))
    assert "critmat data pull" in str(refused.value.hint)
    back = tmp_path / "back.duckdb"
    back.symlink_to(real)
    os.replace(back, store_link)
    assert pool.run(_request(store_link)).facts["lines"] == 9
    assert pool.pids() == [pid]


def test_a_worker_over_the_time_limit_is_killed_and_replaced(make_pool, store_link):
    pool = make_pool(1, 3)
    pool.run(_request(store_link))  # a warm worker ...
    [pid] = pool.pids()
    started = _start_time(pid)
    with pytest.raises(AssessmentTimeout, match="took longer than 3 s and was stopped"):
        pool.run(_request(store_link, supply_csv(400_000)))
    assert pool.pids() == [] and _start_time(pid) != started  # ... killed and reaped
    assert pool.run(_request(store_link)).facts["lines"] == 9  # a new one serves the next
    assert pool.pids() != [pid]


def _kill_during(pool: AssessmentPool, request: AssessmentRequest) -> list[object]:
    """Run ``request`` in a thread, SIGKILL the pool's worker while it works; the answer."""
    answers: list[object] = []

    def job() -> None:
        try:
            answers.append(pool.run(request))
        except BaseException as exc:  # the answer the upload gets, checked by the caller
            answers.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    _wait_until(lambda: len(pool.pids()) == 1, "a worker starts")
    time.sleep(1.0)  # the job is under way (it takes several seconds)
    os.kill(pool.pids()[0], signal.SIGKILL)
    thread.join(timeout=5 * GONE_WITHIN_S)
    return answers


def test_a_worker_that_dies_is_replaced(make_pool, store_link):
    pool = make_pool(1, 120)
    big_file = _request(store_link, supply_csv(400_000))
    # a fresh worker dies in the middle of a job: 503, nothing stored, not tried again
    [failed] = _kill_during(pool, big_file)
    assert isinstance(failed, AssessmentWorkerFailed), failed
    assert "without an answer" in str(failed) and "nothing was stored" in str(failed)
    # a worker dies while idle: the next upload is answered by a new one
    pool.run(_request(store_link))
    [idle] = pool.pids()
    os.kill(idle, signal.SIGKILL)
    _wait_until(lambda: _start_time(idle) is None, "the killed worker disappears")
    assert pool.run(_request(store_link)).facts["lines"] == 9
    [busy] = pool.pids()
    assert busy != idle
    # a reused worker dies during a job: the job is run once more on a fresh worker
    [answer] = _kill_during(pool, big_file)
    assert not isinstance(answer, BaseException), answer
    assert pool.pids() not in ([idle], [busy])


def test_at_most_the_configured_number_of_workers(make_pool, store_link):
    pool = make_pool(2, 120)
    seen: list[int] = []
    done: list[int] = []

    def upload() -> None:
        done.append(pool.run(_request(store_link, supply_csv(2_000))).facts["lines"])

    threads = [threading.Thread(target=upload) for _ in range(5)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        seen.append(len(pool.pids()))
        time.sleep(0.01)
    assert done == [2_000] * 5
    assert max(seen) <= 2 and len(pool.pids()) <= 2


def test_closing_stops_the_workers_and_the_pool_stays_usable(make_pool, store_link):
    pool = make_pool(2, 60)
    pool.run(_request(store_link))
    workers = {pid: _start_time(pid) for pid in pool.pids()}
    pool.close()
    assert pool.pids() == [] and _all_gone(workers)  # type: ignore[arg-type]
    assert pool.run(_request(store_link)).facts["lines"] == 9


def test_the_workers_leave_with_the_app(seeded: Seeded):
    with TestClient(create_app(seeded.settings)) as client:
        auth = bearer(client, seeded.users["company@a"])
        answer = client.post(
            f"/api/v1/orgs/{seeded.orgs['a']}/assessments",
            files={"file": ("lines.csv", SAMPLE.read_bytes(), "text/csv")},
            data={"name": "Cell plant", "year": "2023"},
            headers=auth,
        )
        assert answer.status_code == 201, answer.text
        settings = seeded.settings
        used = pool(settings.assessment_workers, float(settings.assessment_timeout_seconds))
        workers = {pid: _start_time(pid) for pid in used.pids()}
        assert len(workers) == 1
    assert used.pids() == [] and _all_gone(workers)  # type: ignore[arg-type]


def _upload_live(base: str, seeded: Seeded) -> None:
    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post(
            "/api/v1/auth/login", json={"email": seeded.users["company@a"], "password": PASSWORD}
        )
        answer = http.post(
            f"/api/v1/orgs/{seeded.orgs['a']}/assessments",
            files={"file": ("lines.csv", SAMPLE.read_bytes(), "text/csv")},
            data={"name": "Cell plant", "year": "2023"},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert answer.status_code == 201, answer.text


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_no_worker_outlives_the_service(seeded: Seeded, tmp_path: Path, sig: signal.Signals):
    """The service stopped (SIGTERM) or killed (SIGKILL, so no cleanup of its own runs):
    only the server process is signalled, and every process it started goes too."""
    server = seeded_server(seeded.settings.data_dir, tmp_path / "server.log").start()
    try:
        assert server.process is not None
        _upload_live(server.base_url, seeded)
        started = _descendants(server.process.pid)
        assert len(started) >= 2, started  # the forkserver and a worker, at least
        os.kill(server.process.pid, sig)
        server.process.wait(timeout=GONE_WITHIN_S)
        _wait_until(lambda: _all_gone(started), f"no process of the service survives {sig.name}")
    finally:
        server.kill()
