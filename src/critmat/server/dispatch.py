"""Which of the app's top-level routes serves a path, remembered per path.

The app's route table holds the web pages and one entry per included API router (FastAPI keeps
an included router as one entry and matches its routes on demand). For every request the
top-level router asks each entry in turn whether it matches, and an included router answers
that by trying each of its routes — so a statistics request first tried every route of the
auth and admin routers: about a quarter of the CPU of a cached answer. The route table does not
change once the app is built, so the entry that matches a path is remembered: the next request
for the same path goes straight to it. The entry then picks the route and runs it exactly as
before (its dependencies — authentication, access rule, CSRF — and its exception handling are
untouched); only the search through the *other* entries is skipped.

Only included routers are remembered (their match leaves nothing in the request scope, so
handing them the request is what the top-level router does after matching): pages, static
files and anything that does not match fully (405, 404, redirects) take the router's own path.
"""

from __future__ import annotations

import threading

import fastapi.routing
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

#: FastAPI's class of an included router's table entry (None if FastAPI no longer has it:
#: then nothing is remembered and every request takes the router's own path).
INCLUDED_ROUTER: type[BaseRoute] | None = getattr(fastapi.routing, "_IncludedRouter", None)
#: At most this many paths are remembered (then the memory starts afresh).
MAX_PATHS = 16_384

PathKey = tuple[str, str, str, str]


class RouteMemo:
    """In place of the router's own dispatch (``router.middleware_stack``): a path seen before
    goes to the included router that matched it; any other request to ``dispatch``."""

    def __init__(self, app: FastAPI, dispatch: ASGIApp) -> None:
        self.router = app.router
        self.dispatch = dispatch
        self._routes_seen = len(self.router.routes)
        self._entries: dict[PathKey, BaseRoute] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or INCLUDED_ROUTER is None:
            await self.dispatch(scope, receive, send)
            return
        key: PathKey = (scope["type"], scope["method"], scope.get("root_path", ""), scope["path"])
        entry = self._entries.get(key)
        if entry is None or len(self.router.routes) != self._routes_seen:
            entry = self._find(scope, key)
        if entry is None:
            await self.dispatch(scope, receive, send)
            return
        # what the router does with a full match of an included router (its child scope is
        # empty); the entry then matches the route within and handles it
        if "router" not in scope:
            scope["router"] = self.router
        await entry.handle(scope, receive, send)

    def _find(self, scope: Scope, key: PathKey) -> BaseRoute | None:
        """The first top-level entry that fully matches ``scope`` (the router's rule), if it
        is an included router; remembered for the path."""
        routes = list(self.router.routes)
        for route in routes:
            match, _child = route.matches(scope)
            if match is Match.FULL:
                break
        else:
            return None
        assert INCLUDED_ROUTER is not None
        if not isinstance(route, INCLUDED_ROUTER):
            return None
        with self._lock:
            if len(routes) != self._routes_seen:
                self._entries.clear()
                self._routes_seen = len(routes)
            if len(self._entries) >= MAX_PATHS:
                self._entries.clear()
            self._entries[key] = route
        return route


def install(app: FastAPI) -> bool:
    """Put a :class:`RouteMemo` in front of ``app``'s router, after every route is added.

    Returns False (and changes nothing) when the router has middleware or form limits of its
    own, or FastAPI no longer has included-router entries: the memo would not do what the
    router does.
    """
    router = app.router
    if isinstance(router.middleware_stack, RouteMemo):
        return True
    plain = router.middleware_stack == router.app  # no router-level middleware to skip
    if INCLUDED_ROUTER is None or getattr(router, "form_limits", None) or not plain:
        return False
    router.middleware_stack = RouteMemo(app, router.middleware_stack)
    return True
