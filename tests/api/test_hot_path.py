"""The cheap path of a cached read: revocation stamps read in shared batches off the event
loop and the top-level route remembered per path — each doing what the plain path did
(docs/service.md, "Performance")."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from fastapi.testclient import TestClient

from critmat.platform import accounts
from critmat.platform.db import transaction
from critmat.server import dispatch
from critmat.server.app import create_app
from critmat.server.stamps import StampBatcher
from tests.api.conftest import bearer
from tests.platform_support import Seeded


class HeldFirstRead(StampBatcher):
    """The real batcher, recording each batch of user ids; its first read, once the database
    has answered, waits for ``release`` before handing the answer back."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches: list[list[int]] = []
        self.first_read_done = threading.Event()
        self.release = threading.Event()

    def read_now(self, user_ids: Sequence[int]) -> dict[int, int]:
        stamps = super().read_now(user_ids)
        self.batches.append(list(user_ids))
        if len(self.batches) == 1:
            self.first_read_done.set()
            assert self.release.wait(timeout=30)
        return stamps


def user_id(seeded: Seeded, key: str) -> int:
    with transaction(seeded.settings.platform_url) as db:
        return accounts.get_user(db, seeded.users[key]).id


def test_a_request_never_joins_a_read_sent_before_it_asked(seeded: Seeded) -> None:
    """A disabling committed while a read is in flight is seen by every request that asked
    after that read was sent; the requests that asked meanwhile share one more read."""
    url = seeded.settings.platform_url
    analyst, company = user_id(seeded, "analyst@a"), user_id(seeded, "company@a")
    batcher = HeldFirstRead(url)

    async def scenario() -> tuple[int | None, list[int | None]]:
        first = asyncio.ensure_future(batcher.read(analyst))
        await asyncio.to_thread(batcher.first_read_done.wait, 30)
        with transaction(url) as db:  # the first read has its answer: disable now
            user = accounts.get_user(db, seeded.users["analyst@a"])
            accounts.set_disabled(db, user, True, actor="test")
        later = [asyncio.ensure_future(batcher.read(u)) for u in [analyst, company] * 5]
        await asyncio.sleep(0.05)  # every later request waits for the next read
        batcher.release.set()
        return await first, list(await asyncio.gather(*later))

    try:
        before, after = asyncio.run(scenario())
    finally:
        batcher.close()
    assert before == 0  # asked before the disabling: the stamp it was resolved at
    assert after[0::2] == [None] * 5  # disabled: refused by every later request
    assert after[1::2] == [0] * 5
    assert batcher.batches == [[analyst], [analyst, company]]


def test_concurrent_requests_each_get_their_users_stamp(seeded: Seeded) -> None:
    url = seeded.settings.platform_url
    keys = ["analyst@a", "company@a", "member_state@b", "company@b"]
    ids = [user_id(seeded, k) for k in keys]
    with transaction(url) as db:
        accounts.revoke_credentials(db, ids[1])
        accounts.revoke_credentials(db, ids[1])
    batcher = StampBatcher(url)

    async def many() -> list[int | None]:
        return list(await asyncio.gather(*(batcher.read(ids[i % 4]) for i in range(40))))

    try:
        stamps = asyncio.run(many())
    finally:
        batcher.close()
    assert stamps == [0, 2, 0, 0] * 10


def test_the_route_memo_is_in_front_of_the_router(app_client: TestClient) -> None:
    app = app_client.app
    assert isinstance(app.router.middleware_stack, dispatch.RouteMemo)  # type: ignore[attr-defined]


ASKED = [
    ("GET", "/api/v1/materials/cobalt"),
    ("GET", "/api/v1/dependency?material=cobalt&year=2022&importer=EU27"),
    ("GET", "/api/v1/dependency?material=cobalt&year=1800&importer=EU27"),  # 422
    ("POST", "/api/v1/materials/cobalt"),  # 405
    ("HEAD", "/api/v1/materials/cobalt"),
    ("GET", "/api/v1/no-such-thing"),  # 404
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/orgs/{org}/assessments"),
    ("GET", "/api/v1/orgs/{other}/assessments"),  # 403
    ("GET", "/api/v1/health"),
    ("GET", "/materials"),
    ("GET", "/api/v1/materials/"),  # redirect_slashes
]


def _answers(client: TestClient, seeded: Seeded, headers: dict[str, str]) -> list[object]:
    """Each request of :data:`ASKED` twice (the second one through the memo, if at all)."""
    out: list[object] = []
    for method, template in ASKED:
        path = template.format(org=seeded.orgs["a"], other=seeded.orgs["b"])
        for _ in range(2):
            answer = client.request(method, path, headers=headers, follow_redirects=False)
            kept = {k: v for k, v in answer.headers.items() if k.lower() != "date"}
            out.append((method, path, answer.status_code, kept, answer.content))
    return out


def test_answers_through_the_memo_are_those_of_the_router(
    app_client: TestClient, seeded: Seeded
) -> None:
    headers = bearer(app_client, seeded.users["company@a"])
    with_memo = _answers(app_client, seeded, headers)
    plain_app = create_app(seeded.settings)
    with TestClient(plain_app) as plain:
        plain_app.router.middleware_stack = plain_app.router.app  # the router's own path
        without = _answers(plain, seeded, headers)
    assert with_memo == without
    statuses = [a[2] for a in with_memo[::2]]  # type: ignore[index]
    assert statuses == [200, 200, 422, 405, 405, 404, 200, 200, 403, 200, 200, 307]
