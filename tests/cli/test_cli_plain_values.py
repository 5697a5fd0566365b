"""What the commands print for numpy and pandas values: JSON by the one rule,
:func:`critmat.exports.json_value` (through ``cli_output.json_tree``).

``cli_output`` does not import pandas (the CLI starts without it); ``pd.NA`` and ``pd.NaT`` are
recognised through the pandas the command has loaded. These values come from real frames, as
the commands get them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from critmat.cli_output import json_tree, print_json, records


def test_missing_and_non_finite_values_become_null() -> None:
    assert json_tree(pd.NA) is None
    assert json_tree(pd.NaT) is None
    assert json_tree(np.float64("nan")) is None
    assert json_tree(float("nan")) is None
    assert json_tree(float("inf")) is None
    assert json_tree(np.float64("-inf")) is None


def test_numpy_scalars_become_python_numbers_and_text_stays() -> None:
    value = json_tree(np.int64(3))
    assert value == 3 and type(value) is int
    share = json_tree(np.float64(0.25))
    assert share == 0.25 and type(share) is float
    flag = json_tree(np.bool_(True))
    assert flag is True
    assert json_tree("cobalt") == "cobalt"
    assert json_tree(True) is True


def test_records_of_a_frame_with_missing_cells(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame(
        {
            "country": pd.array(["COD", None], dtype="string"),
            "tonnes": pd.array([170_000, None], dtype="Int64"),
            "year": [2022, 2022],
            "outlier": [True, False],
        }
    )
    rows = records(frame)
    assert rows == [
        {"country": "COD", "tonnes": 170_000, "year": 2022, "outlier": True},
        {"country": None, "tonnes": None, "year": 2022, "outlier": False},
    ]
    assert type(rows[0]["outlier"]) is bool
    print_json(rows)
    assert json.loads(capsys.readouterr().out) == rows


def test_printed_json_is_standard_json(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"share": float("nan"), "ratio": float("inf"), "nested": [np.float64("nan"), 1.5]})
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"share": None, "ratio": None, "nested": [None, 1.5]}
