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


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None


def _list_env(name: str) -> tuple[str, ...]:
    """A comma-separated variable as a tuple of its non-empty, stripped items."""
    raw = os.environ.get(name) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Where critmat keeps its files and how the service behaves.

    ``data_dir`` holds the analytics store (``critmat.duckdb``), the platform database
    (``platform.sqlite`` unless ``database_url`` names another), reports and ``downloads/``
    (the files fetched by ``critmat data pull``, kept so a re-import works offline).
    Durations are in seconds. ``trusted_proxies`` are the addresses (or networks) of reverse
    proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` headers ``critmat serve`` believes;
    empty (the default) means the headers are ignored and the peer address is the client.
    """

    data_dir: Path
    database_url: str | None = None
    session_idle_seconds: int = 2 * 3600
    session_max_seconds: int = 12 * 3600
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 55_000_000
    secure_cookies: bool = False
    dask_scheduler: str | None = None
    assessment_timeout_seconds: int = 300
    assessment_workers: int = 2
    trusted_proxies: tuple[str, ...] = ()

    @property
    def store_path(self) -> Path:
        return self.data_dir / "critmat.duckdb"

    @property
    def downloads_dir(self) -> Path:
        return self.data_dir / "downloads"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def platform_url(self) -> str:
        """SQLAlchemy URL of the platform database (SQLite file in the data dir by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'platform.sqlite'}"


def get_settings() -> Settings:
    """Read the settings from the environment.

    ``CRITMAT_DATA_DIR`` (default ``$XDG_DATA_HOME/critmat`` or ``~/.local/share/critmat``);
    ``CRITMAT_DATABASE_URL`` (platform database, e.g.
    ``postgresql+psycopg://user@host/db``; default: SQLite in the data dir);
    ``CRITMAT_SESSION_IDLE_SECONDS`` / ``CRITMAT_SESSION_MAX_SECONDS`` (session expiry);
    ``CRITMAT_LOGIN_MAX_FAILURES`` within ``CRITMAT_LOGIN_WINDOW_SECONDS`` (login rate limit);
    ``CRITMAT_MAX_BODY_BYTES`` (largest request body accepted; file uploads:
    ``CRITMAT_MAX_UPLOAD_BYTES``, default 55 MB so a 50 MB file and its form fit);
    ``CRITMAT_SECURE_COOKIES=1`` behind HTTPS;
    ``CRITMAT_ASSESSMENT_TIMEOUT_SECONDS`` (an uploaded company assessment is stopped after this
    long, default 300) and ``CRITMAT_ASSESSMENT_WORKERS`` (how many run at once, default 2);
    ``CRITMAT_DASK_SCHEDULER`` (Dask distributed scheduler address for Monte Carlo stress tests,
    e.g. ``tcp://10.0.0.5:8786``; default: local cores);
    ``CRITMAT_TRUSTED_PROXIES`` (comma-separated addresses or networks of reverse proxies whose
    ``X-Forwarded-For`` is believed, e.g. ``127.0.0.1,10.0.0.0/8``; default: none).
    """
    raw = os.environ.get("CRITMAT_DATA_DIR")
    data_dir = Path(raw).expanduser() if raw else _default_data_dir()
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("CRITMAT_DATABASE_URL") or None,
        session_idle_seconds=_int_env("CRITMAT_SESSION_IDLE_SECONDS", 2 * 3600),
        session_max_seconds=_int_env("CRITMAT_SESSION_MAX_SECONDS", 12 * 3600),
        login_max_failures=_int_env("CRITMAT_LOGIN_MAX_FAILURES", 5),
        login_window_seconds=_int_env("CRITMAT_LOGIN_WINDOW_SECONDS", 15 * 60),
        max_body_bytes=_int_env("CRITMAT_MAX_BODY_BYTES", 1_000_000),
        max_upload_bytes=_int_env("CRITMAT_MAX_UPLOAD_BYTES", 55_000_000),
        secure_cookies=os.environ.get("CRITMAT_SECURE_COOKIES", "") in {"1", "true", "yes"},
        dask_scheduler=os.environ.get("CRITMAT_DASK_SCHEDULER") or None,
        assessment_timeout_seconds=_int_env("CRITMAT_ASSESSMENT_TIMEOUT_SECONDS", 300),
        assessment_workers=_int_env("CRITMAT_ASSESSMENT_WORKERS", 2),
        trusted_proxies=_list_env("CRITMAT_TRUSTED_PROXIES"),
    )
