"""How long the ``critmat`` command takes from a cold process, against its targets.

Runs each command ``--runs`` times (default 10) as a new subprocess of the installed ``critmat``
script (next to this Python, e.g. ``.venv/bin/critmat``), waits for it to finish and prints the
minimum, median and maximum wall-clock seconds (:func:`time.perf_counter` around
:func:`subprocess.run`, output captured) beside the target. The figures are printed, not
checked: they depend on the machine and on what else runs on it.

    .venv/bin/python benchmarks/cli_start.py [--runs 10] [--against SRC]

``--against SRC`` (a ``src`` folder, e.g. of a worktree of an earlier commit:
``git worktree add /tmp/base HEAD~3`` then ``--against /tmp/base/src``) runs each command
alternately from that tree (``PYTHONPATH=SRC``) and from this one, and prints both medians and
their ratio: on a machine that others load, alternating runs share the load, so the ratio holds
where the absolute figures do not. The load average (``os.getloadavg``) is printed before and
after.

Targets (seconds): ``critmat --version`` 0.3, ``critmat --help`` 0.3, and
``critmat geopolrisk --importer DEU --material cobalt --year 2022`` 0.7. The geopolrisk command
reads the default data directory (``critmat data ensure`` first).

For where the time goes, ``python -X importtime -c "import critmat.cli"`` lists the imports.
"""

from __future__ import annotations

import argparse
import os
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


def time_run(command: list[str], src: Path | None = None) -> float:
    """Wall-clock seconds of one cold run of ``command`` (from the source tree ``src`` when
    given); exits with the command's error if it fails."""
    env = None if src is None else {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {message}")
    return seconds


def time_runs(command: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` cold runs of ``command``."""
    return [time_run(command) for _ in range(runs)]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def compare(script: list[str], runs: int, against: Path) -> None:
    """Each case alternately from ``against`` and from this tree: both medians and the ratio."""
    print(f"{runs} alternating cold runs each; base: PYTHONPATH={against}; seconds (wall clock)")
    print(f"{'command':<62} {'base':>6} {'this':>6} {'ratio':>6} {'target':>7}  this")
    for case in CASES:
        base: list[float] = []
        this: list[float] = []
        for _ in range(runs):
            base.append(time_run([*script, *case.args], against))
            this.append(time_run([*script, *case.args]))
        median = statistics.median(this)
        verdict = "within" if median <= case.target_s else "OVER"
        print(
            f"{'critmat ' + ' '.join(case.args):<62} {statistics.median(base):6.3f} "
            f"{median:6.3f} {median / statistics.median(base):6.2f} {case.target_s:7.1f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    parser.add_argument(
        "--against", type=Path, help="a src folder to compare with, run alternately (see above)"
    )
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    if options.against is not None and not (options.against / "critmat").is_dir():
        parser.error(f"--against {options.against}: no critmat package there (give a src folder)")
    script = critmat_script()
    print(f"load average before: {load_average()}")
    if options.against is not None:
        compare(script, options.runs, options.against)
        print(f"load average after: {load_average()}")
        return
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
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
