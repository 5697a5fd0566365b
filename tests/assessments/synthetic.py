"""Synthetic supply files of any length, for the scale tests and ``benchmarks/assessment.py``.

Lines cycle through catalogued materials (by name or HS code) and supplier countries with
pseudo-random quantities, so that a large file has many profiles (material x stage x codes x
supplier country), restriction hits (graphite and lithium from China) and lines that cannot be
looked through (gallium, magnets).
"""

from __future__ import annotations

import random

MATERIALS = (
    ("cobalt oxide", "282200"),
    ("lithium carbonate", "283691"),
    ("natural graphite", "250410"),
    ("manganese ore", "260200"),
    ("Co", ""),
    ("nickel", ""),
    ("tungsten", ""),
    ("gallium", ""),
    ("NdFeB magnets", "850511"),
)
COUNTRIES = ("BEL", "FIN", "DEU", "CHN", "CHL", "ZAF", "USA", "AUS", "BRA", "COD", "IND", "JPN")


def supply_csv(lines: int, seed: int = 1) -> bytes:
    """A valid CSV of ``lines`` supply lines (header: material, HS code, quantity, unit,
    supplier, supplier country); quantities 1-5000 t, reproducible by ``seed``."""
    rng = random.Random(seed)
    out = ["Material,HS code,Quantity,Unit,Supplier,Supplier country"]
    for i in range(lines):
        material, hs = MATERIALS[i % len(MATERIALS)]
        country = COUNTRIES[rng.randrange(len(COUNTRIES))]
        out.append(
            f"{material},{hs},{rng.randint(1, 5000)},t,Supplier {rng.randrange(40)},{country}"
        )
    return ("\n".join(out) + "\n").encode()
