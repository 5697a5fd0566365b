"""Company assessments computed in long-lived worker processes, with a time limit.

Reading a supply file and assessing it is CPU-bound Python (a million lines take seconds), so
the service never does it in its own process: :class:`AssessmentPool` hands each upload to one
of at most ``CRITMAT_ASSESSMENT_WORKERS`` worker processes and waits at most
``CRITMAT_ASSESSMENT_TIMEOUT_SECONDS`` for its answer.

Workers are started lazily (from a *forkserver* that has the assessment modules imported
already) and live on between uploads: each keeps the analytics store open and the GeoPolRisk
scores it computed (:class:`~critmat.risk.company.ScoreMemo`, which forgets them when the
releases change), so DuckDB's caches and the worker's own stay warm and a small upload costs
tens of milliseconds rather than a process start and a cold store. Before each job a worker
compares the store file's identity (device, inode, modification time, size) with the one it
opened and reopens it when the file was replaced or changed (``critmat data pull``).

When the time limit passes, the worker is killed (SIGKILL; it only reads the analytics store,
so nothing is left half-done), :class:`AssessmentTimeout` is raised and nothing is stored; the
next upload starts a fresh worker. A worker found dead (killed, out of memory) is replaced the
same way. :meth:`AssessmentPool.close` (called when the app stops, see :func:`close_pools`)
stops the workers; they are daemon processes, and a worker whose parent has gone (the service
killed with SIGKILL) exits by itself within :data:`ORPHAN_CHECK_S` seconds.

A worker answers with the result as gzip'd JSON and its summary columns (what the platform
database stores, :class:`AssessmentOutcome`), or with the error a user can fix
(:class:`~critmat.risk.company.SupplyFileError` with every row problem, or another
:class:`~critmat.errors.CritmatError`), rebuilt here with its message and hint.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmat.errors import CritmatError
from critmat.platform.assessments import compress_result, facts_of
from critmat.risk.company import RowError, ScoreMemo, SupplyFileError, read_supply_bytes
from critmat.services.assessments import assess

if TYPE_CHECKING:
    from critmat.store import Store

#: Seconds between a worker's checks that the process that started it is still there.
ORPHAN_CHECK_S = 1.0
#: Seconds a new worker may take to start (import the modules) before it counts as failed; the
#: time limit of a job starts when its worker is ready.
START_TIMEOUT_S = 120.0
#: Seconds a worker gets to leave on its own when the pool closes, before it is killed.
STOP_GRACE_S = 5.0


class AssessmentTimeout(CritmatError):
    """The assessment did not finish within the configured time limit (it was stopped)."""


class AssessmentWorkerFailed(CritmatError):
    """The worker process ended without an answer (killed, or out of memory)."""


@dataclass(frozen=True)
class AssessmentRequest:
    """What a worker needs: the store to read, the file, and the assessment's parameters."""

    store_path: Path
    filename: str
    data: bytes
    importer: str
    year: int | None
    on: date | None  # the service fills it (restrictions.as_of): the day is chosen once


@dataclass(frozen=True)
class AssessmentOutcome:
    """A finished assessment: its summary columns and its result as gzip'd JSON."""

    facts: dict[str, Any]
    result_gz: bytes


# ----------------------------------------------------------------------------- worker side
def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """The store file's device, inode, modification time (ns) and size; None when absent."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino, found.st_mtime_ns, found.st_size


class _OpenStore:
    """The worker's analytics store, reopened when the file at its path is another one."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.identity: tuple[int, int, int, int] | None = None
        self.store: Store | None = None

    def get(self, path: Path) -> Store:
        """The store at ``path``, opened read-only (again, if the file changed since)."""
        from critmat.store import open_store

        identity = _identity(path)
        if self.store is not None and (path, identity) == (self.path, self.identity):
            return self.store
        self.close()
        store = open_store(path, read_only=True)  # raises StoreError when absent
        self.path, self.identity, self.store = path, identity, store
        return store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        self.path = self.identity = self.store = None


def _answer(stores: _OpenStore, scores: ScoreMemo, request: AssessmentRequest) -> tuple[Any, ...]:
    """One job: the message sent back for ``request``; ``scores`` is the worker's memo of
    GeoPolRisk scores, kept between jobs (it forgets them when the releases change)."""
    try:
        result = assess(
            stores.get(request.store_path),
            read_supply_bytes(request.filename, request.data),
            importer=request.importer,
            year=request.year,
            on=request.on,
            scores=scores,
        )
        dumped = result.model_dump(mode="json")
        return ("ok", AssessmentOutcome(facts_of(dumped), compress_result(dumped)))
    except SupplyFileError as exc:
        return ("file", [e.to_dict() for e in exc.errors], exc.total)
    except CritmatError as exc:
        return ("user", type(exc), str(exc), dict(vars(exc)))
    except Exception:  # reported to the parent, which raises it as a crash
        stores.close()  # a store in an unknown state is not reused
        return ("crash", traceback.format_exc())


def _leave_when_orphaned(parent: int) -> None:
    """Exit the process as soon as its parent (the forkserver, which leaves with the service)
    is gone — also in the middle of a job nobody waits for any more."""
    while True:
        time.sleep(ORPHAN_CHECK_S)
        if os.getppid() != parent:
            os._exit(1)


def _serve(conn: Connection) -> None:
    """The worker process: answer one message per request on ``conn`` until told to stop
    (``None``) or the other end is closed."""
    threading.Thread(
        target=_leave_when_orphaned, args=(os.getppid(),), name="orphan-check", daemon=True
    ).start()
    stores = _OpenStore()
    scores = ScoreMemo()
    try:
        conn.send(("ready",))
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return
            if request is None:
                return
            conn.send(_answer(stores, scores, request))
    finally:
        stores.close()
        conn.close()


def _rebuild(cls: type[CritmatError], message: str, state: dict[str, Any]) -> CritmatError:
    """A user error from the worker, with its message and attributes (hint, suggestions...)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    vars(exc).update(state)
    return exc


# ----------------------------------------------------------------------------- service side
@dataclass
class _Worker:
    """A worker process and the service's end of its pipe."""

    process: BaseProcess
    conn: Connection
    generation: int
    jobs: int = 0  # answered so far

    def stop(self, grace_s: float) -> None:
        """Ask the worker to leave, kill it after ``grace_s`` seconds, and reap it."""
        with contextlib.suppress(OSError, ValueError):  # already gone, or its pipe closed
            self.conn.send(None)
        self.process.join(timeout=grace_s)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the worker (if alive), reap it and close the pipe."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


class AssessmentPool:
    """Runs assessments in at most ``workers`` long-lived worker processes, each job stopped
    after ``timeout_s`` seconds."""

    def __init__(self, workers: int, timeout_s: float) -> None:
        if workers < 1:
            raise ValueError("CRITMAT_ASSESSMENT_WORKERS must be at least 1")
        if timeout_s <= 0:
            raise ValueError("CRITMAT_ASSESSMENT_TIMEOUT_SECONDS must be positive")
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._generation = 0  # raised by close(): busy workers of before are stopped on return
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["critmat.services.assessment_worker"])

    def pids(self) -> list[int]:
        """Process ids of the live worker processes (idle and busy)."""
        with self._lock:
            return [w.process.pid for w in (*self._idle, *self._busy) if w.process.pid]

    def run(self, request: AssessmentRequest) -> AssessmentOutcome:
        """The outcome of ``request``; raises :class:`SupplyFileError`, another
        :class:`CritmatError` of the input, :class:`AssessmentTimeout` or
        :class:`AssessmentWorkerFailed`. Blocks the calling thread, never the event loop."""
        with self._slots:
            worker = self._take()
            try:
                answer = self._ask(worker, request)
            except AssessmentWorkerFailed:
                self._discard(worker)
                if not worker.jobs:
                    raise
                # a reused worker that died while idle (its end not yet seen): once more on
                # a fresh one; a job that kills a fresh worker is not tried again
                worker = self._take(fresh=True)
                try:
                    answer = self._ask(worker, request)
                except BaseException:
                    self._discard(worker)
                    raise
            except BaseException:
                self._discard(worker)
                raise
            worker.jobs += 1
            self._give_back(worker)
        kind = answer[0]
        if kind == "ok":
            outcome: AssessmentOutcome = answer[1]
            return outcome
        if kind == "file":
            errors = [RowError(**e) for e in answer[1]]
            raise SupplyFileError(errors, total=int(answer[2]))
        if kind == "user":
            raise _rebuild(answer[1], answer[2], answer[3])
        raise RuntimeError(f"the assessment worker crashed:\n{answer[1]}")

    def close(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop the idle workers now and the busy ones when their job ends. The pool stays
        usable: a later :meth:`run` starts a new worker."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for worker in idle:
            worker.stop(grace_s)

    def _take(self, *, fresh: bool = False) -> _Worker:
        """An idle live worker (unless ``fresh``), or a new one (the caller holds a slot, so at
        most ``workers`` exist); dead idle workers are reaped on the way."""
        with self._lock:
            while self._idle and not fresh:
                worker = self._idle.pop()
                # an idle worker never writes: a readable pipe means it is gone (EOF)
                if worker.process.is_alive() and not worker.conn.poll(0):
                    self._busy.append(worker)
                    return worker
                worker.kill()
            generation = self._generation
        receiver, sender = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, args=(sender,), name="critmat-assessment", daemon=True
        )
        process.start()
        sender.close()
        worker = _Worker(process, receiver, generation)
        try:
            if not receiver.poll(START_TIMEOUT_S) or receiver.recv() != ("ready",):
                raise EOFError
        except (EOFError, OSError):
            worker.kill()
            raise AssessmentWorkerFailed(
                f"the assessment worker did not start within {START_TIMEOUT_S:g} s "
                f"(exit code {process.exitcode}); nothing was stored",
                hint="try again; if it recurs, ask the administrator to check the service log",
            ) from None
        with self._lock:
            self._busy.append(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.remove(worker)
            keep = worker.generation == self._generation
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.stop(STOP_GRACE_S)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.remove(worker)
        worker.kill()

    def _ask(self, worker: _Worker, request: AssessmentRequest) -> tuple[Any, ...]:
        """Send ``request`` to ``worker`` and wait for its answer within the time limit."""
        started = time.monotonic()
        try:
            worker.conn.send(request)
            if not worker.conn.poll(self.timeout_s):
                raise AssessmentTimeout(
                    f"the assessment of {request.filename} took longer than "
                    f"{self.timeout_s:g} s and was stopped; nothing was stored",
                    hint="split the file (by material or site) and upload the parts, or ask the "
                    "administrator to raise CRITMAT_ASSESSMENT_TIMEOUT_SECONDS",
                )
            answer: tuple[Any, ...] = worker.conn.recv()
            return answer
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            raise AssessmentWorkerFailed(
                f"the assessment of {request.filename} stopped after "
                f"{time.monotonic() - started:.0f} s without an answer "
                f"(exit code {worker.process.exitcode}); nothing was stored",
                hint="try again; if it recurs, split the file or ask the administrator",
            ) from None


_pools: dict[tuple[int, float], AssessmentPool] = {}
_pools_lock = threading.Lock()


def pool(workers: int, timeout_s: float) -> AssessmentPool:
    """The process's pool for these settings (one per process; created on first use)."""
    with _pools_lock:
        found = _pools.get((workers, timeout_s))
        if found is None:
            found = _pools[(workers, timeout_s)] = AssessmentPool(workers, timeout_s)
        return found


def close_pools() -> None:
    """Stop the workers of every pool of this process (the app's shutdown); the pools stay
    usable and start workers again when asked."""
    with _pools_lock:
        pools = list(_pools.values())
    for each in pools:
        each.close()
