"""One entry point for all importers: ``read_any("baci", path)`` and friends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from critmat.errors import UnknownNameError
from critmat.sources.base import CanonicalBatch


def _bundle(path: Path, **kw: Any) -> list[CanonicalBatch]:
    from critmat.sources.geopolrisk_bundle import read_bundle

    return read_bundle(path, **kw)


def _baci(path: Path, **kw: Any) -> list[CanonicalBatch]:
    from critmat.sources.baci import read_baci

    return [read_baci(path, **kw)]


def _wmd(path: Path, **kw: Any) -> list[CanonicalBatch]:
    from critmat.sources.wmd import read_wmd

    return [read_wmd(path, **kw)]


def _wgi(path: Path, **kw: Any) -> list[CanonicalBatch]:
    from critmat.sources.wgi import read_wgi

    return [read_wgi(path, **kw)]


def _iea_cmde(path: Path, **kw: Any) -> list[CanonicalBatch]:
    from critmat.sources.iea_cmde import read_iea_cmde

    return [read_iea_cmde(path, **kw)]


def _usgs_mcs(path: Path, **kw: Any) -> list[CanonicalBatch]:
    from critmat.sources.usgs_mcs import read_usgs_mcs

    return [read_usgs_mcs(path, **kw)]


#: kind -> reader; each returns the batches the file holds.
READERS: dict[str, Callable[..., list[CanonicalBatch]]] = {
    "bundle": _bundle,
    "baci": _baci,
    "wmd": _wmd,
    "wgi": _wgi,
    "iea-cmde": _iea_cmde,
    "usgs-mcs": _usgs_mcs,
}


def read_any(kind: str, path: Path, **kw: Any) -> list[CanonicalBatch]:
    """Read ``path`` with the importer for ``kind`` (``bundle``, ``baci``, ``wmd``, ``wgi``,
    ``iea-cmde``, ``usgs-mcs``).

    Keyword arguments go to the reader (e.g. ``hs_codes=`` and ``progress=`` for ``baci``,
    ``edition=`` for ``usgs-mcs``).
    """
    reader = READERS.get(kind.strip().lower())
    if reader is None:
        import difflib

        raise UnknownNameError(
            "data source kind",
            kind,
            difflib.get_close_matches(kind, READERS, n=3) or sorted(READERS),
        )
    return reader(Path(path), **kw)
