"""The service as a real server process on a free loopback port, for end-to-end tests and the
load benchmark (``benchmarks/api_load.py``).

The server runs in its own process group (``start_new_session``), so :meth:`LiveServer.kill`
can SIGKILL it together with any worker process it started — the crash a test simulates — and
:meth:`LiveServer.stop` can end it politely. Only processes started here are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The console script of the virtual environment running this interpreter.
CRITMAT = Path(sys.executable).with_name("critmat")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(port: int) -> list[str]:
    """``critmat serve`` on 127.0.0.1:``port`` (migrates the platform database first)."""
    return [str(CRITMAT), "serve", "--host", "127.0.0.1", "--port", str(port)]


def uvicorn_command(port: int, workers: int = 1) -> list[str]:
    """``python -m uvicorn`` serving the app factory with ``workers`` processes, quietly."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "critmat.server.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


@dataclass
class LiveServer:
    """A server process started with ``command`` and the ``CRITMAT_*`` variables in ``env``.

    ``log`` receives the server's stdout and stderr (read it when a test fails).
    """

    command: Sequence[str]
    env: Mapping[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 90.0) -> LiveServer:
        """Start the process and wait until ``/api/v1/health`` answers (at most
        ``ready_timeout`` seconds); raises ``RuntimeError`` with the log's tail otherwise."""
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                list(self.command),
                env={**os.environ, **self.env},
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/v1/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the server did not answer within {ready_timeout:.0f} s")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process group this server leads (gone already: nothing)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the server's process group (no cleanup runs) and reap the process."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL it after ``timeout`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def seeded_server(data_dir: Path, log: Path) -> LiveServer:
    """The service (uvicorn, its own process) on a free port over ``data_dir``, not started."""
    port = free_port()
    return LiveServer(uvicorn_command(port), {"CRITMAT_DATA_DIR": str(data_dir)}, port, log)
