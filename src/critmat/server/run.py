"""How ``critmat serve`` runs uvicorn: which proxy headers it believes.

uvicorn by default rewrites the client address from ``X-Forwarded-For`` when the peer is
127.0.0.1, so anyone who can reach the port from the same host could pick their address (and
escape the per-address login throttle, or write fake addresses into the audit log). critmat
turns proxy headers off unless ``CRITMAT_TRUSTED_PROXIES`` names the proxies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from critmat.config import Settings


class ProxyOptions(TypedDict):
    """Keyword arguments of :func:`uvicorn.run` about reverse proxies."""

    proxy_headers: bool
    forwarded_allow_ips: list[str] | None


def proxy_options(settings: Settings, trusted: Sequence[str] | None = None) -> ProxyOptions:
    """Proxy headers on only for ``trusted`` addresses (default: ``settings.trusted_proxies``).

    An empty list means: ignore ``X-Forwarded-*`` entirely; the TCP peer is the client.
    """
    chosen = [t for t in (settings.trusted_proxies if trusted is None else trusted) if t]
    if not chosen:
        return ProxyOptions(proxy_headers=False, forwarded_allow_ips=None)
    return ProxyOptions(proxy_headers=True, forwarded_allow_ips=chosen)
