"""Helpers shared by the reference loaders: name normalisation, suggestions, package data paths."""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from critmat.errors import InputFileError

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
HS6 = re.compile(r"^[0-9]{6}$")


def name_key(text: str) -> str:
    """Return the lookup key of a name: case-folded, accents removed, only letters and digits.

    ``"Türkiye"`` → ``"turkiye"``, ``"Congo, D.R."`` → ``"congodr"``, ``"NdFeB magnets"`` →
    ``"ndfebmagnets"``.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub("", ascii_only.replace("ß", "ss"))


def suggest(text: str, choices: Iterable[str], limit: int = 5) -> list[str]:
    """Return up to ``limit`` choices close to ``text`` (difflib), best first, without repeats.

    Matching is done on :func:`name_key` forms; the original spelling of each choice is returned.
    """
    by_key: dict[str, str] = {}
    for choice in choices:
        by_key.setdefault(name_key(choice), choice)
    keys = difflib.get_close_matches(name_key(text), list(by_key), n=limit, cutoff=0.6)
    out: list[str] = []
    for key in keys:
        if by_key[key] not in out:
            out.append(by_key[key])
    return out


def data_path(filename: str) -> Path:
    """Path of a file shipped in ``critmat/reference/data`` (package data)."""
    return Path(str(resources.files("critmat.reference").joinpath("data", filename)))


def normalise_hs6(code: str | int) -> str:
    """Return a 6-digit HS code string from ``"2605.00"``, ``"260500"`` or ``260500``.

    Integers and 5-digit strings are left-padded with a zero (``70110`` → ``"070110"``), because
    some sources store HS codes as numbers. The result is not checked against a nomenclature.
    """
    text = str(code).strip().replace(".", "").replace(" ", "")
    if text.isdigit() and len(text) == 5:
        text = "0" + text
    return text


def load_yaml(text: str) -> Any:
    """Parse a YAML document with PyYAML's safe loader: its C implementation (libyaml) where
    PyYAML was built with it — about six times faster on the material catalogue (0.31 s →
    0.05 s, paid by every command that loads it) — else the pure-Python one. Both build the
    same plain objects and raise :class:`yaml.YAMLError` on bad input."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # a safe loader, C or Python


def read_csv_rows(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """The rows of a UTF-8 CSV file with a header, each with its row number as a spreadsheet
    shows it (header = row 1, first data row = 2).

    :class:`InputFileError` when the file cannot be read or its header lacks one of ``columns``.
    """
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputFileError(path, f"cannot read file: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InputFileError(path, f"missing columns: {', '.join(missing)}", row=1)
        return list(enumerate(reader, start=2))


def required_cell(path: Path, row_no: int, row: dict[str, str], column: str) -> str:
    """The stripped text of a cell that must not be empty, else :class:`InputFileError`."""
    value = (row.get(column) or "").strip()
    if not value:
        raise InputFileError(path, "value required", row=row_no, field=column)
    return value
