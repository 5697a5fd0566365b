"""Users' revocation stamps, read in batches off the event loop.

Every request answered from the caller cache (:class:`critmat.server.deps.PrincipalCache`)
must see the user's current revocation stamp (``User.auth_version``, ``None`` once the user is
disabled or gone), so that disabling a user, ending a session or revoking a token in any
process takes effect on the next request. Read inline, that is one database round trip per
request during which the event loop serves nobody — under load most of the loop's time on
PostgreSQL. Here the requests waiting for a stamp share one query, run in a thread of its own:

- a request joins the batch of the *next* read, never one already sent: every stamp it gets
  was read after the request asked for it, exactly as fresh as an inline read;
- while one read is in flight the next batch collects, so under load one query answers many
  requests (one ``IN`` list of user ids), and the loop serves others meanwhile.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from critmat.platform.db import quick_read_engine, unavailable_from
from critmat.platform.models import User

#: Futures of the requests waiting for one read, by user id.
Waiting = dict[int, list["asyncio.Future[int | None]"]]

_STAMPS = select(User.id, User.auth_version, User.disabled).where(
    User.id.in_(bindparam("ids", expanding=True))
)


class StampBatcher:
    """Reads revocation stamps from the platform database at ``url`` for waiting requests.

    One read is in flight at a time, in a thread of its own (the short-read engine:
    :func:`critmat.platform.db.quick_read_engine`); the requests that ask meanwhile form the
    next batch.
    """

    def __init__(self, url: str) -> None:
        self._engine = quick_read_engine(url)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting: Waiting = {}
        #: The loop whose task drains the batches now (None: no read in flight or queued).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def read(self, user_id: int) -> int | None:
        """The user's stamp, read after this call began; ``None`` when the user is disabled
        or gone. Raises :class:`~critmat.errors.PlatformUnavailable` when the database cannot
        answer."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is None or self._loop is loop:
                future: asyncio.Future[int | None] = loop.create_future()
                self._waiting.setdefault(user_id, []).append(future)
                if self._loop is None:
                    self._loop = loop
                    self._drain = loop.create_task(self._drain_batches(loop))
            else:  # another event loop drains (two test clients on one app): read alone
                future = asyncio.ensure_future(self._read_alone(loop, user_id))
        return await future

    async def _read_alone(self, loop: asyncio.AbstractEventLoop, user_id: int) -> int | None:
        stamps = await loop.run_in_executor(self._thread(), self.read_now, [user_id])
        return stamps.get(user_id)

    def _thread(self) -> ThreadPoolExecutor:
        """The reading thread (started on first use, and again after :meth:`close`)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="critmat-stamps")
            return self._executor

    async def _drain_batches(self, loop: asyncio.AbstractEventLoop) -> None:
        batch: Waiting = {}
        try:
            while True:
                with self._lock:
                    batch, self._waiting = self._waiting, {}
                    if not batch:
                        self._loop = None
                        return
                try:
                    stamps = await loop.run_in_executor(self._thread(), self.read_now, [*batch])
                except Exception as exc:  # every waiter gets the error (its own copy)
                    _fail(batch, exc)
                else:
                    _answer(batch, stamps)
        except BaseException:  # the loop is closing: nobody will drain what waits
            with self._lock:
                pending, self._waiting = self._waiting, {}
                self._loop = None
            for futures in (*batch.values(), *pending.values()):
                for future in futures:
                    future.cancel()
            raise

    def read_now(self, user_ids: Sequence[int]) -> dict[int, int]:
        """The stamps of those of ``user_ids`` that exist and are not disabled (one query;
        retried once on a fresh connection if the first attempt fails — a dropped connection
        after a database restart)."""
        try:
            try:
                return self._read_once(user_ids)
            except DBAPIError:
                return self._read_once(user_ids)
        except (DBAPIError, PoolTimeout) as exc:
            raise unavailable_from(exc) from exc

    def _read_once(self, user_ids: Sequence[int]) -> dict[int, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(_STAMPS, {"ids": list(user_ids)}).all()
        return {int(uid): int(stamp) for uid, stamp, disabled in rows if not disabled}

    def close(self) -> None:
        """Stop the reading thread (after the app's last request; a later read starts a new
        one)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)


def _answer(batch: Waiting, stamps: dict[int, int]) -> None:
    for user_id, futures in batch.items():
        stamp = stamps.get(user_id)
        for future in futures:
            if not future.done():  # a cancelled request no longer waits
                future.set_result(stamp)


def _fail(batch: Waiting, error: Exception) -> None:
    for futures in batch.values():
        for future in futures:
            if not future.done():
                # a copy each: one instance raised in many tasks would gather their tracebacks
                future.set_exception(copy.copy(error))
