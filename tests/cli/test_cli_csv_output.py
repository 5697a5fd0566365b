"""`--format csv` on the command line goes through the one export writer: formula-like text is
neutralised, numbers stay numbers, missing values are empty."""

from __future__ import annotations

import csv
import io

import pytest

from critmat.cli_output import print_csv


def test_cli_csv_neutralises_formula_like_text(capsys: pytest.CaptureFixture[str]) -> None:
    print_csv(
        [
            {"country": '\x01=HYPERLINK("http://x")', "tonnes": -12.5, "share": None},
            {"country": "+SUM(A1)", "tonnes": 3, "share": float("nan")},
        ]
    )
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["country"] for r in rows] == ['\'=HYPERLINK("http://x")', "'+SUM(A1)"]
    assert [r["tonnes"] for r in rows] == ["-12.5", "3"]
    assert [r["share"] for r in rows] == ["", ""]
    assert "\r" not in out
