"""The HTTP service: JSON API under ``/api/v1`` and the web UI, one FastAPI app.

Only this package (and :mod:`critmat.web`) knows FastAPI; it calls the library and presents.
"""
