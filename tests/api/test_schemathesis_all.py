"""Property-based tests of every operation of the OpenAPI schema (schemathesis), writes included.

A real server (uvicorn in its own process) on a PostgreSQL platform database — the database
whose 32-bit id columns overflowed — is called with generated requests, valid and invalid
(positive and negative generation), as a throwaway admin with an API token. Each answer must
pass schemathesis' checks ``not_a_server_error``, ``status_code_conformance``,
``content_type_conformance`` and ``response_schema_conformance``, and a JSON body must be
strict JSON (no ``NaN``/``Infinity``). Writes may revoke the admin's token or disable the
admin: the caller is then replaced by a new throwaway admin (made through the accounts layer).

Budget: :data:`EXAMPLES` positive and as many negative examples per operation (fewer for the
simulations, :data:`SLOW`); the test also fails if the server logged a traceback.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from critmat.platform import accounts
from critmat.platform.db import transaction
from critmat.platform.models import Role
from tests.live_server import LiveServer, free_port, uvicorn_command
from tests.platform_support import Seeded, fresh_postgres_database, seed_platform

#: Examples per operation and generation mode (``CRITMAT_FUZZ_EXAMPLES=100`` for a deep run).
EXAMPLES = int(os.environ.get("CRITMAT_FUZZ_EXAMPLES", "8"))
#: Operations whose every call runs a simulation or an assessment: fewer examples.
SLOW = {"POST /api/v1/stress/montecarlo": 3, "POST /api/v1/stress/run": 4}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _describe(exc: BaseException) -> str:
    """The failure's message and how to reproduce it, shortened."""
    if isinstance(exc, FailureGroup):
        return "; ".join(f"{f.title}: {f.message[:300]}" for f in exc.exceptions)
    return str(exc)[:300]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} in a JSON answer")


@dataclass
class ThrowawayAdmin:
    """An admin made for the run; replaced when a generated write revokes or disables it."""

    seeded: Seeded
    base_url: str
    made: int = 0
    header: dict[str, str] = field(default_factory=dict)

    def renew(self) -> None:
        """A new admin user in organisation a, with an API token."""
        self.made += 1
        with transaction(self.seeded.settings.platform_url) as db:
            org = accounts.get_org(db, self.seeded.orgs["a"])
            user = accounts.create_user(
                db,
                f"fuzz-admin-{self.made}-{uuid.uuid4().hex[:6]}@example.org",
                uuid.uuid4().hex,
                role=Role.admin,
                organisation=org,
                actor="test",
            )
            _row, token = accounts.create_api_token(db, user, "schemathesis")
        self.header = {"Authorization": f"Bearer {token}"}

    def ensure_alive(self) -> None:
        """Renew the admin if its token no longer opens ``/auth/me``."""
        me = httpx.get(f"{self.base_url}/api/v1/auth/me", headers=self.header, timeout=30)
        if me.status_code != 200:
            self.renew()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, real_data_dir: Path
) -> Iterator[tuple[LiveServer, Seeded]]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    with fresh_postgres_database("critmat_fuzz") as url:
        seeded = seed_platform(data_dir, url)
        port = free_port()
        live = LiveServer(
            uvicorn_command(port),
            {"CRITMAT_DATA_DIR": str(data_dir), "CRITMAT_DATABASE_URL": url},
            port,
            data_dir / "server.log",
        ).start()
        try:
            yield live, seeded
        finally:
            live.stop()


def _fuzz(operation: Any, mode: GenerationMode, admin: ThrowawayAdmin, failures: list[str]) -> None:
    """Call ``operation`` with :data:`EXAMPLES` generated cases of ``mode``; add each failed
    check to ``failures`` (with a curl command that repeats the call)."""
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=min(SLOW.get(label, EXAMPLES), EXAMPLES),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=admin.base_url, headers=admin.header, timeout=120)
        try:
            case.validate_response(response, checks=CHECKS)
            if response.content and "json" in response.headers.get("content-type", [""])[0]:
                json.loads(response.text, parse_constant=_refuse_constant)
        except (FailureGroup, ValueError) as exc:  # all are reported at the end
            sent = case.as_curl_command(headers=admin.header)[:400]
            failures.append(f"{label} ({mode.value}): {_describe(exc)}\n    {sent}")
        if case.method.upper() != "GET":
            admin.ensure_alive()

    try:
        run()
    except Unsatisfiable:
        # no parameter to make invalid (e.g. /health): nothing negative to send
        assert mode is GenerationMode.NEGATIVE, label


def test_every_operation_passes_schemathesis(server: tuple[LiveServer, Seeded]) -> None:
    live, seeded = server
    schema = schemathesis.openapi.from_url(f"{live.base_url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 38
    admin = ThrowawayAdmin(seeded, live.base_url)
    admin.renew()
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, admin, failures)
    distinct = {f.split("\n")[0]: f for f in failures}
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(list(distinct.values())[:40])
    assert "Traceback" not in live.log_tail(200_000), live.log_tail()
