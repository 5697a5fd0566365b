"""Company assessments computed in a worker process, with a time limit.

Reading a supply file and assessing it is CPU-bound Python (a million lines take seconds), so
the service never does it in its own process: :func:`assess_upload` starts one short-lived
process per upload (from a *forkserver* that has the assessment modules imported already, so
starting costs milliseconds), hands it the file's bytes, and waits at most
``CRITMAT_ASSESSMENT_TIMEOUT_SECONDS``. When the limit passes the process is killed (SIGKILL;
it only reads the analytics store, so nothing is left half-done) and
:class:`AssessmentTimeout` is raised; nothing is stored. At most
``CRITMAT_ASSESSMENT_WORKERS`` run at once; further uploads wait for a free slot.

The worker answers with the result as gzip'd JSON and its summary columns (what the platform
database stores, :class:`AssessmentOutcome`), or with
the error a user can fix (:class:`~critmat.risk.company.SupplyFileError` with every row
problem, or another :class:`~critmat.errors.CritmatError`), rebuilt here with its message and
hint.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import date
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from critmat.errors import CritmatError
from critmat.platform.assessments import compress_result, facts_of
from critmat.risk.company import RowError, SupplyFileError


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
    on: date | None


@dataclass(frozen=True)
class AssessmentOutcome:
    """A finished assessment: its summary columns and its result as gzip'd JSON."""

    facts: dict[str, Any]
    result_gz: bytes


def _work(conn: Connection, request: AssessmentRequest) -> None:
    """The worker process: read, assess, answer one message on ``conn``."""
    from critmat.risk.company import assess_supply, read_supply_bytes
    from critmat.store import open_store

    answer: tuple[Any, ...]
    try:
        supply = read_supply_bytes(request.filename, request.data)
        store = open_store(request.store_path, read_only=True)
        try:
            result = assess_supply(
                store, supply, importer=request.importer, year=request.year, on=request.on
            )
        finally:
            store.close()
        dumped = result.model_dump(mode="json")
        answer = ("ok", AssessmentOutcome(facts_of(dumped), compress_result(dumped)))
    except SupplyFileError as exc:
        answer = ("file", [e.to_dict() for e in exc.errors], exc.total)
    except CritmatError as exc:
        answer = ("user", type(exc), str(exc), dict(vars(exc)))
    except BaseException:  # reported to the parent, which logs it as a crash
        answer = ("crash", traceback.format_exc())
    conn.send(answer)
    conn.close()


def _rebuild(cls: type[CritmatError], message: str, state: dict[str, Any]) -> CritmatError:
    """A user error from the worker, with its message and attributes (hint, suggestions...)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    vars(exc).update(state)
    return exc


class AssessmentPool:
    """Runs assessments in worker processes: at most ``workers`` at once, each stopped after
    ``timeout_s`` seconds."""

    def __init__(self, workers: int, timeout_s: float) -> None:
        if workers < 1:
            raise ValueError("CRITMAT_ASSESSMENT_WORKERS must be at least 1")
        if timeout_s <= 0:
            raise ValueError("CRITMAT_ASSESSMENT_TIMEOUT_SECONDS must be positive")
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(workers)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["critmat.api.assessment_worker"])

    def run(self, request: AssessmentRequest) -> AssessmentOutcome:
        """The outcome of ``request``; raises :class:`SupplyFileError`, another
        :class:`CritmatError` of the input, :class:`AssessmentTimeout` or
        :class:`AssessmentWorkerFailed`. Blocks the calling thread, never the event loop."""
        with self._slots:
            return self._run(request)

    def _run(self, request: AssessmentRequest) -> AssessmentOutcome:
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_work, args=(sender, request), name="critmat-assessment", daemon=True
        )
        started = time.monotonic()
        process.start()
        sender.close()
        try:
            if not receiver.poll(self.timeout_s):
                raise AssessmentTimeout(
                    f"the assessment of {request.filename} took longer than "
                    f"{self.timeout_s:g} s and was stopped; nothing was stored",
                    hint="split the file (by material or site) and upload the parts, or ask the "
                    "administrator to raise CRITMAT_ASSESSMENT_TIMEOUT_SECONDS",
                )
            try:
                answer = receiver.recv()
            except EOFError:
                process.join(timeout=5)
                raise AssessmentWorkerFailed(
                    f"the assessment of {request.filename} stopped after "
                    f"{time.monotonic() - started:.0f} s without an answer "
                    f"(exit code {process.exitcode}); nothing was stored",
                    hint="try again; if it recurs, split the file or ask the administrator",
                ) from None
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join(timeout=10)
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


@cache
def pool(workers: int, timeout_s: float) -> AssessmentPool:
    """The process's pool for these settings (one per process; created on first use)."""
    return AssessmentPool(workers, timeout_s)
