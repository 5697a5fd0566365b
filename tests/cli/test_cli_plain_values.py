"""``critmat.cli_output.plain``: what the commands print for numpy and pandas scalars.

``cli_output`` no longer imports pandas (the CLI starts without it); ``pd.NA`` and ``pd.NaT``
are recognised through the pandas the command has loaded. These values come from real frames,
as the commands get them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from critmat.cli_output import plain, print_json, records


def test_missing_values_of_pandas_and_numpy_become_null() -> None:
    assert plain(pd.NA) is None
    assert plain(pd.NaT) is None
    assert plain(np.float64("nan")) is None
    assert plain(float("nan")) is None


def test_numpy_scalars_become_python_numbers_and_text_stays() -> None:
    value = plain(np.int64(3))
    assert value == 3 and type(value) is int
    share = plain(np.float64(0.25))
    assert share == 0.25 and type(share) is float
    assert plain("cobalt") == "cobalt"
    assert plain(b"raw") == b"raw"
    assert plain(True) is True


def test_records_of_a_frame_with_missing_cells(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame(
        {
            "country": pd.array(["COD", None], dtype="string"),
            "tonnes": pd.array([170_000, None], dtype="Int64"),
            "year": [2022, 2022],
        }
    )
    rows = records(frame)
    assert rows == [
        {"country": "COD", "tonnes": 170_000, "year": 2022},
        {"country": None, "tonnes": None, "year": 2022},
    ]
    print_json(rows)
    assert json.loads(capsys.readouterr().out) == rows
