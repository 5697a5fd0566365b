"""The stockpile pages (docs/stockpiles.md). Add with :func:`install` (after
:func:`critmat.web.pages.install`)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the pages to ``app``."""
