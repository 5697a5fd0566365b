"""The columns of the CLI's tables, defined once: a command declares a table by its row keys.

:data:`COLUMNS` holds the header and the kind of every row key a command's table shows; the
kind says how :func:`critmat.cli_output.fmt_number` writes a cell and how it is aligned:
``text`` (as is, left), ``share`` (a fraction as a percentage), ``hhi`` (three decimals) or
``""`` (a number: thousands separated, small values to two significant figures). The same key
reads the same in every command; a table that heads a column otherwise (a unit known only at
run time, a name that says more in its context) says so where it is declared, by a
``(key, header)`` pair (or ``(key, header, kind)``) in :func:`columns`.
"""

#: A table column as :func:`critmat.cli_output.table` takes it: (row key, header, kind).
Column = tuple[str, str, str]
#: A column in :func:`columns`: a row key of :data:`COLUMNS`, a (key, header) pair with the
#: kind of :data:`COLUMNS`, or a whole :data:`Column`.
ColumnSpec = str | tuple[str, str] | Column

#: Header and kind of each row key, grouped by the answers that have them.
COLUMNS: dict[str, tuple[str, str]] = {
    # names and identifiers
    "id": ("id", "text"),
    "name": ("name", "text"),
    "title": ("title", "text"),
    "label": ("label", "text"),
    "notes": ("notes", "text"),
    "note": ("note", "text"),
    "material": ("material", "text"),
    "materials": ("materials", "text"),
    "stage": ("stage", "text"),
    "stages": ("stages", "text"),
    "country": ("country", "text"),
    "origin": ("origin", "text"),
    "importer": ("importer", "text"),
    "year": ("year", "text"),
    "years": ("years", "text"),
    "month": ("month", "text"),
    "basis": ("basis", "text"),
    # the material catalogue (the HS codes as one text: ``;``- or ``,``-joined)
    "critical": ("critical", "text"),
    "strategic": ("strategic", "text"),
    "wmd_commodity": ("WMD commodity", "text"),
    "hs_codes": ("HS6 (HS92)", "text"),
    "hs": ("HS6 (HS92)", "text"),
    "hs6": ("HS6", "text"),
    "commodity": ("WMD series", "text"),
    # export restrictions (``restrictions``, ``stress backtest``)
    "measure": ("measure", "text"),
    "effective": ("effective", "text"),
    "status": ("registry status", "text"),
    "in_force": ("in force", "text"),
    "targeted": ("targets importer", "text"),
    "share_before": ("share before", "share"),
    "year_before": ("year", "text"),
    "share_after": ("share after", "share"),
    "year_after": ("year", "text"),
    "targets": ("targets", "text"),
    "before": ("before", "text"),
    "after": ("after", "text"),
    "months_in_force": ("months in force", ""),
    "eu_imports_before_t": ("EU imports before t", ""),
    "predicted_change": ("predicted", "share"),
    "observed_change": ("observed", "share"),
    "error_pp": ("error pp", ""),
    # production and imports (tonnes, thousand USD)
    "quantity": ("quantity", ""),
    "share": ("share", "share"),
    "estimated": ("estimated", "text"),
    "total": ("total", ""),
    "top_supplier": ("top supplier", "text"),
    "top_share": ("share", "share"),
    "hhi": ("HHI", "hhi"),
    "top_third_country": ("top third country", "text"),
    "top_third_share": ("share", "share"),
    "exceeds_65": ("> 65%", "text"),
    "production": ("production", ""),
    "imports_t": ("imports", ""),
    "exports_t": ("exports", ""),
    "apparent_consumption": ("consumption", ""),
    "import_reliance": ("import reliance", "share"),
    "ir_out_of_range": ("IR outside 0–1", "text"),
    "quantity_t": ("tonnes", ""),
    "tonnes": ("tonnes", ""),
    "value_kusd": ("kUSD", ""),
    "usd_per_t": ("USD/t", ""),
    "robust_z": ("robust z", "hhi"),
    "outlier": ("outlier", "text"),
    # supply risk: GeoPolRisk, EU criticality, company assessment
    "import_risk": ("import risk", "hhi"),
    "score": ("score", "hhi"),
    "cf": ("CF (kg Cu-eq/kg)", "hhi"),
    "price_usd_per_kg": ("price USD/kg", ""),
    "sr": ("SR", ""),
    "sr_stage": ("stage", "text"),
    "ei": ("EI", ""),
    "crma_critical": ("CRMA Annex II", "text"),
    "eol_rir": ("EoL-RIR", "share"),
    "si_sr": ("SI_SR", ""),
    "term": ("term", "text"),
    "symbol": ("symbol", "text"),
    "value": ("value", "text"),
    "unit": ("unit", "text"),
    "inputs": ("inputs", "text"),
    "geopolrisk": ("GeoPolRisk", "hhi"),
    "restricted_share": ("under export restriction", "share"),
    "options": ("diversification options", "text"),
    # stress tests (tonnes over the horizon or in a month)
    "start": ("start", "text"),
    "registry_ids": ("registry ids", "text"),
    "demand_source": ("demand from", "text"),
    "demand_t": ("demand t", ""),
    "supply_t": ("supply t", ""),
    "shortfall_t": ("shortfall t", ""),
    "shortfall_pct": ("shortfall", "share"),
    "peak_shortfall_pct": ("worst month", "share"),
    "months_short": ("months short", ""),
    "redirected_t": ("redirected t", ""),
    "stock_drawn_t": ("stock drawn t", ""),
    "stock_t": ("stock t", ""),
    "days_of_cover": ("days of cover", ""),
    "application": ("application", "text"),
    "sector": ("sector", "text"),
    "estimate": ("estimate", ""),
    "shortfall_p5_t": ("shortfall p5 t", ""),
    "shortfall_p50_t": ("p50 t", ""),
    "shortfall_p95_t": ("p95 t", ""),
    "shortfall_p5_pct": ("p5", "share"),
    "shortfall_p50_pct": ("p50", "share"),
    "shortfall_p95_pct": ("p95", "share"),
    "p_short": ("runs short", "share"),
    # the store (``data status``)
    "dataset": ("dataset", "text"),
    "current": ("current", "text"),
    "source": ("source", "text"),
    "version": ("version", "text"),
    "rows": ("rows", ""),
    "imported_at": ("imported", "text"),
    "countries": ("countries", ""),
    "codes": ("codes/commodities", ""),
    "missing_quantity_share": ("rows w/o quantity", "share"),
    "estimated_share": ("rows estimated", "share"),
    # the platform (``users``, ``orgs``)
    "kind": ("kind", "text"),
    "users": ("users", ""),
    "email": ("e-mail", "text"),
    "role": ("role", "text"),
    "organisation": ("organisation", "text"),
    "disabled": ("disabled", "text"),
    "last_login_at": ("last login", "text"),
}


def columns(*specs: ColumnSpec) -> tuple[Column, ...]:
    """The table columns of ``specs``, in their order: a key takes its header and kind from
    :data:`COLUMNS`, a ``(key, header)`` pair its kind; a whole column is taken as it is."""
    return tuple(_column(spec) for spec in specs)


def _column(spec: ColumnSpec) -> Column:
    match spec:
        case str(key):
            header, kind = COLUMNS[key]
            return key, header, kind
        case (key, header):
            return key, header, COLUMNS[key][1]
        case (key, header, kind):
            return key, header, kind
    raise AssertionError(spec)  # pragma: no cover - ColumnSpec has no other form
