"""Strategic stockpiles at scale (issue 11): release allocation for 27 Member States × 50
sectors × 34 materials, and sizing for 34 materials × 1,000 scenarios. Prints model sizes and
solve times; the target is under 2 s for each on the 2-core reference machine.

Run: ``.venv/bin/python benchmarks/stockpile.py``. The two parts live in
``stockpile_release_part.py`` and ``stockpile_sizing_part.py`` beside this file.
"""

from __future__ import annotations

from stockpile_release_part import release_benchmark
from stockpile_sizing_part import sizing_benchmark


def main() -> None:
    """Run both parts and print their figures."""
    release_benchmark()
    sizing_benchmark()


if __name__ == "__main__":
    main()
