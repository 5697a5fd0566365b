"""Server time of one stress-test request at a time: the scenario library, one library file,
single runs (a library name and a full definition), a small Monte Carlo, and the page's run
(``POST /stress/run``, which recomputes the run and reuses the remembered baseline).

Runs :func:`critmat.server.app.create_app` in this process through FastAPI's ``TestClient``
(no network, one request at a time, so the figure is the service's own CPU per request) on the
default data directory (``critmat.config.get_settings()``; run ``critmat data pull`` first) and a
throwaway SQLite platform database with one analyst, an API token and a logged-in session. Each
request is sent once (``first ms``: cold for its answer; the baseline is read by the first run of
the scenario), then ``--repeat`` times; prints the median and the minimum in milliseconds.

    .venv/bin/python benchmarks/stress_requests.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import functools
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the shared helpers in tests/ (run as a script from anywhere)

from fastapi.testclient import TestClient  # noqa: E402
from tests.login_support import web_login  # noqa: E402
from tests.platform_support import seed_platform  # noqa: E402

from critmat.config import get_settings  # noqa: E402
from critmat.platform import accounts  # noqa: E402
from critmat.platform.db import transaction  # noqa: E402
from critmat.scenarios.spec import LIBRARY, library_names  # noqa: E402
from critmat.server.app import create_app  # noqa: E402

#: The library scenario the runs use.
SCENARIO = "germanium-2023"


def _name() -> str:
    return SCENARIO if SCENARIO in library_names() else library_names()[0]


def requests() -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(label, method, path, JSON body) of each measured API request."""
    import yaml

    name = _name()
    definition = yaml.safe_load((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8"))
    return [
        ("GET  /stress/scenarios", "GET", "/api/v1/stress/scenarios", None),
        ("GET  /stress/scenarios/{name}", "GET", f"/api/v1/stress/scenarios/{name}", None),
        ("POST /stress/run (library)", "POST", "/api/v1/stress/run", {"scenario": name}),
        ("POST /stress/run (definition)", "POST", "/api/v1/stress/run", {"definition": definition}),
        (
            "POST /stress/montecarlo (200 runs)",
            "POST",
            "/api/v1/stress/montecarlo",
            {"scenario": name, "runs": 200, "seed": 1},
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed requests of each kind")
    args = parser.parse_args()
    store_path = get_settings().store_path
    if not store_path.exists():
        raise SystemExit(f"no analytics store at {store_path}: run `critmat data pull`")
    with tempfile.TemporaryDirectory(prefix="critmat-stress-bench-") as tmp:
        data_dir = Path(tmp)
        (data_dir / "critmat.duckdb").symlink_to(store_path)
        seeded = seed_platform(data_dir)
        with transaction(seeded.settings.platform_url) as db:
            user = accounts.get_user(db, seeded.users["analyst@a"])
            token = accounts.create_api_token(db, user, "bench")[1]
        headers = {"Authorization": f"Bearer {token}"}
        app = create_app(seeded.settings)
        with TestClient(app) as client, TestClient(app) as browser:
            print(f"{'request':<36} {'first ms':>9} {'median ms':>10} {'min ms':>8} {'bytes':>9}")
            for label, method, path, body in requests():
                send = functools.partial(client.request, method, path, json=body, headers=headers)
                _measure(label, send, args.repeat, same_answer=True)
            answer = web_login(browser, seeded.users["analyst@a"])
            assert answer.status_code == 303, answer.text[:300]
            page = browser.get(f"/stress?scenario={_name()}")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf, "no CSRF token on the page"
            form = {
                "csrf_token": csrf.group(1),
                "yaml": (LIBRARY / f"{_name()}.yaml").read_text(encoding="utf-8"),
                "member": "",
                "runs": "200",
                "seed": "1",
                "scenario": _name(),
            }
            post = functools.partial(
                browser.post, "/stress/run", data=form, headers={"HX-Request": "true"}
            )
            _measure("POST /stress/run (page, 200 runs)", post, args.repeat, same_answer=False)


def _measure(label: str, send: Callable[[], Any], repeat: int, *, same_answer: bool) -> None:
    """Send once (timed as ``first``), then ``repeat`` times; print the times in ms. An API
    answer must be byte-identical every time; a page carries a fresh CSRF token."""
    start = time.perf_counter()
    first = send()
    first_ms = (time.perf_counter() - start) * 1000
    first.raise_for_status()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = send()
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        if same_answer:
            assert response.content == first.content, f"{label}: answer changed"
    print(
        f"{label:<36} {first_ms:>9.1f} {statistics.median(times):>10.2f} {min(times):>8.2f} "
        f"{len(first.content):>9,}"
    )


if __name__ == "__main__":
    main()
