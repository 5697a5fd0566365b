"""Issue 8, finding 3 (proxies): uvicorn believes ``X-Forwarded-For`` from loopback by default,
so rotating the header escaped the per-address login limit and wrote invented addresses into
the audit log. ``critmat serve`` now ignores proxy headers unless ``CRITMAT_TRUSTED_PROXIES``
names the proxy. Each test starts the real ``critmat serve`` process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from critmat.config import Settings
from tests.api.auth_support import audit_rows, critmat_env
from tests.live_server import LiveServer, free_port, serve_command
from tests.platform_support import Seeded

LOGIN = "/api/v1/auth/login"

#: ``critmat serve`` as a process; the proxy rule does not depend on the platform database.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])
StartServe = Callable[..., LiveServer]


@pytest.fixture
def start_serve(seeded: Seeded, tmp_path: Path) -> Iterator[StartServe]:
    """Start ``critmat serve`` on the seeded data with extra ``CRITMAT_*`` variables."""
    started: list[LiveServer] = []

    def start(**extra_env: str) -> LiveServer:
        port = free_port()
        env = {**critmat_env(seeded.settings), "CRITMAT_TRUSTED_PROXIES": "", **extra_env}
        server = LiveServer(serve_command(port), env, port, tmp_path / f"serve-{port}.log")
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def rotate_forwarded_for(base_url: str, emails: list[str], times: int) -> list[int]:
    """``times`` wrong passwords, cycling through ``emails``, each claiming another client
    address in ``X-Forwarded-For``."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        return [
            client.post(
                LOGIN,
                json={"email": emails[n % len(emails)], "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            ).status_code
            for n in range(times)
        ]


@sqlite_only
def test_serve_ignores_forwarded_for_by_default(start_serve: StartServe, seeded: Seeded) -> None:
    """Rotating the header neither escapes the per-address limit (20 attempts over all
    accounts) nor the per-account-and-address one (5), and the audit log keeps the peer."""
    server = start_serve()
    limit = seeded.settings.login_max_failures
    emails = sorted(seeded.users.values())  # 10 accounts: at most 3 attempts each below
    address_budget = 4 * limit
    codes = rotate_forwarded_for(server.base_url, emails, address_budget + 2)
    assert codes == [401] * address_budget + [429, 429]
    failed = audit_rows(seeded.settings, "auth.login_failed")
    assert len(failed) == address_budget
    assert {entry.ip for entry in failed} == {"127.0.0.1"}


@sqlite_only
def test_one_account_from_rotating_addresses_is_still_one_pair(
    start_serve: StartServe, seeded: Seeded
) -> None:
    server = start_serve()
    limit = seeded.settings.login_max_failures
    codes = rotate_forwarded_for(server.base_url, [seeded.users["analyst@b"]], limit + 2)
    assert codes == [401] * limit + [429, 429]


@sqlite_only
def test_serve_believes_only_the_configured_proxies(
    start_serve: StartServe, seeded: Seeded
) -> None:
    server = start_serve(CRITMAT_TRUSTED_PROXIES="127.0.0.1")
    email = seeded.users["supplier@a"]
    codes = rotate_forwarded_for(server.base_url, [email], 2)
    assert codes == [401, 401]
    failed = audit_rows(seeded.settings, "auth.login_failed", email)
    assert [entry.ip for entry in failed] == ["203.0.113.1", "203.0.113.2"]


def test_proxy_options_follow_the_setting(tmp_path: Path) -> None:
    from critmat.server.run import proxy_options

    default = proxy_options(Settings(data_dir=tmp_path))
    assert default == {"proxy_headers": False, "forwarded_allow_ips": None}
    trusted = proxy_options(Settings(data_dir=tmp_path, trusted_proxies=("10.0.0.0/8",)))
    assert trusted == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8"]}
    assert (
        proxy_options(Settings(data_dir=tmp_path, trusted_proxies=("10.0.0.1",)), [])[
            "proxy_headers"
        ]
        is False
    )
