"""What the caller check costs a request served from the caller cache.

Every authenticated request answered from the caller cache still reads the user's revocation
stamp (``server/deps.py``), so that disabling a user, revoking a token or ending a session takes
effect on the next request in every process. This measures that overhead: ``--requests``
``GET /api/v1/materials`` (a cached response, so the request is mostly the caller check)
through a ``TestClient`` (the app in this process), with an API token and with a session
cookie, after a warm-up that fills the response and caller caches. The time is taken inside the
app (an ASGI wrapper around it: milliseconds of :func:`time.perf_counter` from the request's
start to the end of its body), so the client's own work is not counted.

    .venv/bin/python benchmarks/revocation_check.py [--requests 2000] [--platform sqlite|postgresql]

Uses the default data directory (``critmat data pull`` first) and a throwaway platform database
(see ``benchmarks/api_load.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/ and benchmarks/ helpers (run as a script from anywhere)

from benchmarks.api_load import platform_database  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402
from tests.platform_support import PASSWORD, seed_platform  # noqa: E402

from critmat.config import Settings, get_settings  # noqa: E402
from critmat.server.app import create_app  # noqa: E402

URL = "/api/v1/materials"


class Timed:
    """An ASGI wrapper that records each HTTP request's time in the app (milliseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.samples.append((time.perf_counter() - start) * 1000.0)


def measure(client: TestClient, timed: Timed, n: int, **kwargs: Any) -> list[float]:
    """Send ``n`` GETs of :data:`URL` (after 50 of warm-up); the app's time of each, in ms."""
    for _ in range(50):
        assert client.get(URL, **kwargs).status_code == 200
    timed.samples.clear()
    for _ in range(n):
        response = client.get(URL, **kwargs)
        assert response.status_code == 200, response.text
    return list(timed.samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--platform", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    data_dir = get_settings().data_dir
    with (
        tempfile.TemporaryDirectory(prefix="critmat-revocation-bench-") as tmp,
        platform_database(args.platform, Path(tmp)) as url,
    ):
        seeded = seed_platform(data_dir, url)
        timed = Timed(create_app(Settings(data_dir=data_dir, database_url=url)))
        with TestClient(timed) as client:  # type: ignore[arg-type]
            email = seeded.users["analyst@a"]
            login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
            made = client.post("/api/v1/auth/tokens", json={"name": "bench"}, headers=csrf)
            token = {"Authorization": f"Bearer {made.json()['token']}"}
            cookie = client.cookies.get("critmat_session")
            client.cookies.clear()
            runs = {"API token": measure(client, timed, args.requests, headers=token)}
            client.cookies.set("critmat_session", cookie or "")
            runs["session cookie"] = measure(client, timed, args.requests)
    print(f"{args.requests} cached GET {URL} per caller, {args.platform} platform database")
    print(f"{'caller':<16}{'mean ms':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for label, samples in runs.items():
        mean = statistics.fmean(samples)
        p50, p95 = (statistics.quantiles(samples, n=100)[i] for i in (49, 94))
        print(f"{label:<16}{mean:>9.3f}{p50:>9.3f}{p95:>9.3f}")


if __name__ == "__main__":
    main()
