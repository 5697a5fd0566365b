"""How long the ``critmat`` command takes from a cold process, against its targets.

Runs each command ``--runs`` times (default 10) as a new subprocess of the installed ``critmat``
script (next to this Python, e.g. ``.venv/bin/critmat``), waits for it to finish and prints the
minimum, median and maximum wall-clock seconds (:func:`time.perf_counter` around
:func:`subprocess.run`, output captured) beside the target. The figures are printed, not
checked: they depend on the machine and on what else runs on it.

    .venv/bin/python benchmarks/cli_start.py [--runs 10]

Targets (seconds): ``critmat --version`` 0.3, ``critmat --help`` 0.3, and
``critmat geopolrisk --importer DEU --material cobalt --year 2022`` 0.7. The geopolrisk command
reads the default data directory (``critmat data ensure`` first).

For where the time goes, ``python -X importtime -c "import critmat.cli"`` lists the imports.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One command line and its target time in seconds."""

    args: tuple[str, ...]
    target_s: float


CASES = (
    Case(("--version",), 0.3),
    Case(("--help",), 0.3),
    Case(("geopolrisk", "--importer", "DEU", "--material", "cobalt", "--year", "2022"), 0.7),
)


def critmat_script() -> list[str]:
    """The command that starts critmat: the installed script, else the entry point via Python."""
    beside_python = Path(sys.executable).with_name("critmat")
    if beside_python.exists():
        return [str(beside_python)]
    on_path = shutil.which("critmat")
    if on_path:
        return [on_path]
    return [sys.executable, "-c", "from critmat.cli import main; main()"]


def time_runs(command: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` cold runs of ``command``; stops at the first failure."""
    seconds: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {message}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    script = critmat_script()
    print(f"{options.runs} cold runs each of {' '.join(script)}; seconds (wall clock)")
    print(f"{'command':<62} {'min':>6} {'median':>7} {'max':>6} {'target':>7}  median")
    for case in CASES:
        seconds = time_runs([*script, *case.args], options.runs)
        median = statistics.median(seconds)
        verdict = "within" if median <= case.target_s else "OVER"
        print(
            f"{'critmat ' + ' '.join(case.args):<62} {min(seconds):6.3f} {median:7.3f} "
            f"{max(seconds):6.3f} {case.target_s:7.1f}  {verdict}"
        )


if __name__ == "__main__":
    main()
