"""Settings, read once from the environment (``CRITMAT_*``).

Nothing else in critmat reads ``os.environ``; code asks :func:`get_settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "critmat"


@dataclass(frozen=True)
class Settings:
    """Where critmat keeps its files.

    ``data_dir`` holds the analytics store (``critmat.duckdb``), the report output and
    ``downloads/`` (the files fetched by ``critmat data pull``, kept so a re-import works offline).
    """

    data_dir: Path
    database_url: str | None = None

    @property
    def store_path(self) -> Path:
        return self.data_dir / "critmat.duckdb"

    @property
    def downloads_dir(self) -> Path:
        return self.data_dir / "downloads"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


def get_settings() -> Settings:
    """Read the settings from the environment.

    ``CRITMAT_DATA_DIR`` (default ``$XDG_DATA_HOME/critmat`` or ``~/.local/share/critmat``);
    ``CRITMAT_DATABASE_URL`` (platform database; unused until the service exists).
    """
    raw = os.environ.get("CRITMAT_DATA_DIR")
    data_dir = Path(raw).expanduser() if raw else _default_data_dir()
    return Settings(data_dir=data_dir, database_url=os.environ.get("CRITMAT_DATABASE_URL"))
