"""The read_any dispatcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from critmat.errors import UnknownNameError
from critmat.sources.registry import READERS, read_any
from tests.sources.sources_helpers import write_baci_release


def test_kinds() -> None:
    assert set(READERS) == {"baci", "wmd", "wgi", "bundle", "iea-cmde", "usgs-mcs"}


def test_dispatches_with_keywords(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: "2022,4,842,10111,3,1\n2022,4,842,260300,1,\n"})
    (batch,) = read_any("baci", path, hs_codes={"260300"})
    assert batch.dataset == "trade" and list(batch.table.hs6) == ["260300"]


def test_unknown_kind_suggests() -> None:
    with pytest.raises(UnknownNameError) as info:
        read_any("bacci", Path("x"))
    assert "baci" in info.value.suggestions
