"""Unit values of imports by origin (USD per tonne), with outliers flagged.

For importer set S, HS6 code k, origin o and year y, over flows with a known quantity:

    uv = 1000 · Σ value_kusd / Σ quantity_t          [USD/t]

An origin's unit value is flagged as an outlier when its robust z-score against the other
origins of the same code and year is larger than ``threshold`` (default 3.5):

    z = 0.6745 · (ln uv − median ln uv) / MAD(ln uv)

(Iglewicz & Hoaglin's modified z-score on log unit values; MAD = median absolute deviation).
Outliers are a first signal of price distortion, mis-declared goods or a different product
grade behind the same code — a prompt to look, not a verdict. Groups of fewer than
``min_origins`` origins are not tested.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from critmat.indicators.imports import ImporterSet, _sets_frame

OUTLIER_Z = 3.5
MIN_ORIGINS = 5


def unit_values(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    hs_codes: Sequence[str],
    years: Sequence[int] | None = None,
    threshold: float = OUTLIER_Z,
    min_origins: int = MIN_ORIGINS,
) -> pd.DataFrame:
    """Unit values by importer, code, year and origin.

    Columns: ``importer, hs6, year, origin, value_kusd, quantity_t, usd_per_t, robust_z,
    outlier``. ``robust_z`` is NaN where the group is too small or has no spread.
    """
    con.register("_sets", _sets_frame(importers))
    try:
        frame = con.execute(
            """
            SELECT s.importer, t.hs6, t.year, t.exporter AS origin,
                   sum(t.value_kusd) AS value_kusd, sum(t.quantity_t) AS quantity_t
            FROM trade t JOIN _sets s ON t.importer = s.member
            ANTI JOIN _sets s2 ON s2.importer = s.importer AND s2.member = t.exporter
            WHERE t.quantity_t IS NOT NULL AND t.quantity_t > 0
              AND list_contains(?, t.hs6)
              AND (? IS NULL OR list_contains(?, t.year))
            GROUP BY ALL
            ORDER BY s.importer, t.hs6, t.year, origin
            """,
            [list(hs_codes), *([None if years is None else list(years)] * 2)],
        ).df()
    finally:
        con.unregister("_sets")
    frame["usd_per_t"] = 1000.0 * frame["value_kusd"] / frame["quantity_t"]
    frame["robust_z"] = _robust_z(frame, min_origins)
    frame["outlier"] = frame["robust_z"].abs() > threshold
    return frame


def _robust_z(frame: pd.DataFrame, min_origins: int) -> pd.Series:
    keys = ["importer", "hs6", "year"]
    log_uv = np.log(frame["usd_per_t"].where(frame["usd_per_t"] > 0))
    grouped = log_uv.groupby([frame[k] for k in keys])
    median = grouped.transform("median")
    mad = (log_uv - median).abs().groupby([frame[k] for k in keys]).transform("median")
    size = grouped.transform("count")
    z: pd.Series = 0.6745 * (log_uv - median) / mad
    result: pd.Series = z.where((size >= min_origins) & (mad > 0))
    return result
