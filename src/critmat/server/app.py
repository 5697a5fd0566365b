"""The FastAPI application: JSON API under ``/api/v1`` and the web UI, in one process."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel
from starlette.types import Scope

from critmat import __version__
from critmat.api import docs_ui
from critmat.config import Settings, get_settings
from critmat.errors import CritmatError
from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.refresh import default_importers
from critmat.platform.db import close_platform, ensure_current
from critmat.server import dispatch, errors
from critmat.server.access import PUBLIC
from critmat.server.deps import PrincipalCache, current_principal, require
from critmat.server.middleware import BodyLimit, Options, SecurityHeaders
from critmat.server.stamps import StampBatcher
from critmat.server.storehub import StoreHub
from critmat.services.assessment_worker import close_pools
from critmat.services.context import ServiceContext

log = logging.getLogger("critmat.api")


class Health(BaseModel):
    status: str
    version: str


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment).

    The platform database must be at the newest schema (``critmat db upgrade``); the
    analytics store is opened on first use.
    """
    chosen = settings or get_settings()
    hub = StoreHub(chosen.store_path)
    stamps = StampBatcher(chosen.platform_url)
    flows = FlowsCache(default_importers())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ensure_current(chosen.platform_url)
        warm = threading.Thread(target=_warm_up, args=(hub, flows), daemon=True)
        warm.start()
        yield
        warm.join(timeout=60)
        close_pools()  # the assessment workers leave with the app
        stamps.close()
        close_platform(chosen.platform_url)
        hub.close()

    app = FastAPI(
        title="critmat",
        version=__version__,
        description="Critical raw material supply security: public statistics, dependency "
        "indicators and the platform's accounts. Every figure carries its provenance.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served offline by docs_ui.install
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = chosen
    app.state.store_hub = hub
    app.state.principals = PrincipalCache()
    app.state.stamps = stamps
    app.state.flows_cache = flows
    app.state.services = ServiceContext(hub.store, flows)
    errors.install(app)
    docs_ui.install(app)

    @app.get("/api/v1/health", response_model=Health, tags=["meta"], dependencies=[require(PUBLIC)])
    def health() -> Health:
        """Liveness check."""
        return Health(status="ok", version=__version__)

    from critmat.api.routes import admin, auth

    app.include_router(auth.router)
    app.include_router(admin.router)
    _include_optional(app)
    errors.install_schema(app)
    # the first added runs innermost: the body limit sees every request first
    app.add_middleware(Options)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit,
        max_bytes=chosen.max_body_bytes,
        upload_bytes=chosen.max_upload_bytes,
        upload_suffixes=("/assessments",),
        authenticated=_authenticated,
    )
    dispatch.install(app)  # last: every route is in the table
    return app


async def _authenticated(scope: Scope) -> bool:
    """Whether the request carries a valid API token or session (read from its headers only,
    before its body), so that only logged-in callers may send an upload's larger body."""
    try:
        return await current_principal(Request(scope)) is not None
    except HTTPException:  # an invalid or expired token
        return False


def _warm_up(hub: StoreHub, flows: FlowsCache) -> None:
    """Load the import flows of EU27 and the Member States while the service starts."""
    try:
        store = hub.store()
    except CritmatError as exc:  # no data yet: requests will say so
        log.warning("no analytics store to warm up: %s", exc)
        return
    try:
        flows.load(store)
    except CritmatError as exc:
        log.warning("could not preload import flows: %s", exc)
    finally:
        store.close()


def _include_optional(app: FastAPI) -> None:
    """Routers of the statistics, risk and assessment APIs and the web UI."""
    from critmat.api.routes import (
        assessments,
        origins,
        risk,
        risk_outlook,
        stats,
        stockpile_release,
        stockpile_sizing,
        stockpiles,
        stress,
    )
    from critmat.api.routes import member_states as member_states_api
    from critmat.api.routes import production as production_api
    from critmat.web import assessments as web_assessments
    from critmat.web import (
        member_state_pages,
        origins_view,
        pages,
        risk_pages,
        stockpile_pages,
        stockpile_release_pages,
        stockpile_sizing_pages,
        stress_pages,
    )

    app.include_router(stats.router)
    app.include_router(production_api.router)
    app.include_router(origins.router)
    app.include_router(risk.router)
    app.include_router(risk_outlook.router)
    app.include_router(stress.router)
    app.include_router(assessments.router)
    app.include_router(member_states_api.router)
    app.include_router(stockpiles.router)
    app.include_router(stockpile_sizing.router)
    app.include_router(stockpile_release.router)
    pages.install(app)
    # after pages: these reuse its page() helper and error pages
    risk_pages.install(app)
    stress_pages.install(app)
    origins_view.install(app)
    web_assessments.install(app)
    member_state_pages.install(app)
    stockpile_pages.install(app)
    stockpile_sizing_pages.install(app)
    stockpile_release_pages.install(app)
