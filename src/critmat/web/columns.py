"""Columns that several web tables show, declared once (key, heading, kind and download
header): a page's table lists them beside its own columns, so the same figure has the same
heading and the same download header on every page."""

from __future__ import annotations

from critmat.web.tables import Column

__all__ = [
    "COUNTRY",
    "CRMA_CRITICAL",
    "EI",
    "ESTIMATED",
    "MATERIAL_ID",
    "MATERIAL_NAME",
    "ORIGIN",
    "POSITION",
    "RANK",
    "SHARE",
    "SR",
    "STAGE",
    "TONNES",
    "VALUE_KUSD",
    "YEAR",
]

#: A country (ISO3 in ``country``; the download adds its name).
COUNTRY = Column("country", "Country", "country", export_label="country (ISO3)")
#: The origin of imports (ISO3 in ``country``).
ORIGIN = Column("country", "Origin", "country", export_label="origin (ISO3)")
#: Metric tonnes (``quantity_t``).
TONNES = Column("quantity_t", "Tonnes", "num", export_label="quantity (t)")
#: Thousand US dollars (``value_kusd``, BACI's unit of value).
VALUE_KUSD = Column("value_kusd", "Value (kUSD)", "num", export_label="value (thousand USD)")
YEAR = Column("year", "Year", "year")
RANK = Column("rank", "Rank", "int")
#: A rank in a ranking table, headed ``#``.
POSITION = Column("rank", "#", "int")
#: A share (0–1) of the table's total.
SHARE = Column("share", "Share", "share")
STAGE = Column("stage", "Stage")
#: Whether a figure is the publisher's estimate.
ESTIMATED = Column("estimated", "Estimated", "bool")

# The EU criticality tables (the SR ranking and the next assessment against the 2023 list).
MATERIAL_NAME = Column("name", "Material", export_label="name")
MATERIAL_ID = Column("material", "Id", export_label="material id")
#: Supply risk, unrounded.
SR = Column("sr", "SR", "num", export_label="sr")
#: Economic importance.
EI = Column("ei", "EI", "num")
#: Listed in the CRMA's Annex II.
CRMA_CRITICAL = Column("crma_critical", "CRMA Annex II", "bool")
