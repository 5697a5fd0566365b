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

import numpy as np
import pandas as pd

OUTLIER_Z = 3.5
MIN_ORIGINS = 5


def unit_values(
    flows: pd.DataFrame,
    threshold: float = OUTLIER_Z,
    min_origins: int = MIN_ORIGINS,
) -> pd.DataFrame:
    """Unit values by importer, code, year and origin, from :func:`import_flows` rows.

    Only the part of each flow that has a quantity counts (value without a quantity is
    left out of both numerator and denominator). Columns: ``importer, hs6, year, origin,
    value_kusd, quantity_t, usd_per_t, robust_z, outlier``; ``robust_z`` is NaN where the
    group has fewer than ``min_origins`` origins or no spread.
    """
    with_quantity = flows["quantity_t"].notna() & (flows["quantity_t"] > 0)
    frame = flows.loc[with_quantity, ["importer", "hs6", "year", "origin"]].copy()
    frame["value_kusd"] = (flows["value_kusd"] - flows["value_kusd_no_quantity"])[with_quantity]
    frame["quantity_t"] = flows.loc[with_quantity, "quantity_t"]
    frame = frame.sort_values(["importer", "hs6", "year", "origin"], ignore_index=True)
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
