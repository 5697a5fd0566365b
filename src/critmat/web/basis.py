"""The overview basis of a web request: the app's one :class:`ServiceContext` keeps it, keyed
by the current release ids (``app.state.services``). Showing the login page starts computing
it in the background, so it is usually ready when the user has typed the password.
"""

from __future__ import annotations

import threading

from fastapi import FastAPI, Request

from critmat.services import overview
from critmat.services.context import ServiceContext
from critmat.store import Store


def services(request: Request) -> ServiceContext:
    """The app's service context."""
    context: ServiceContext = request.app.state.services
    return context


def basis(request: Request, store: Store) -> overview.OverviewBasis:
    """The overview basis for the current releases (computed with ``store`` when missing)."""
    return overview.basis(services(request), store)


def warm(app: FastAPI) -> None:
    """Compute the basis in a background thread unless one is already doing so."""
    running: threading.Thread | None = getattr(app.state, "overview_warming", None)
    if running is not None and running.is_alive():
        return
    context: ServiceContext = app.state.services

    def run() -> None:
        try:
            store = context.open_store()
            try:
                overview.basis(context, store)
            finally:
                store.close()
        except Exception:  # the next page request reports the problem
            pass

    thread = threading.Thread(target=run, name="critmat-web-warm", daemon=True)
    app.state.overview_warming = thread
    thread.start()


def wait(app: FastAPI, timeout: float = 60.0) -> None:
    """Wait for a background computation to end (before the store connection is closed)."""
    running: threading.Thread | None = getattr(app.state, "overview_warming", None)
    if running is not None:
        running.join(timeout)
