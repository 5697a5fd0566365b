"""Errors that critmat reports to its users.

Every error a user can cause derives from :class:`CritmatError`; its message names what is wrong
and, where it helps, what to type instead. The CLI turns these into a message and exit code 2
(bad input) without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class CritmatError(Exception):
    """Base class of errors caused by input or state that the user can fix."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class InputFileError(CritmatError):
    """A file that cannot be read as the dataset it claims to be.

    ``path`` is the file; ``row`` is 1-based as a spreadsheet program shows it (the header is
    row 1), or ``None`` when the problem concerns the whole file; ``field`` is the column or sheet.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.field = field
        self.reason = reason
        where = self.path
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {reason}", hint)


class UnknownNameError(CritmatError):
    """A material, stage, country, group or code that critmat does not know."""

    def __init__(self, kind: str, name: str, suggestions: Sequence[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        hint = ("did you mean: " + ", ".join(self.suggestions) + "?") if self.suggestions else None
        super().__init__(f"unknown {kind} '{name}'", hint)


class NoDataError(CritmatError):
    """The store has no data for what was asked (no release yet, or a year/code outside it)."""


class StoreError(CritmatError):
    """The analytics store is missing, locked or from an incompatible version."""


class PlatformUnavailable(CritmatError):
    """The platform database (accounts, assessments) cannot be reached or is overloaded now —
    a state that passes; the service answers 503 with ``Retry-After``."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the platform database is not available: {detail}",
            "try again in a few seconds; if it persists, an administrator should check the "
            "database server (is it running, is max_connections reached?)",
        )
