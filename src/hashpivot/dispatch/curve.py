"""Dispatch curves: uptime and average power cost as functions of the mining value of a MWh,
per calendar month, from a year of hourly prices (the rule "mine iff the value beats the
price"). The plan reads them for sites on market-priced power."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.power_prices import HourlyPrices
from ..errors import InputError
from ..units import FloatArray


@dataclass(frozen=True)
class DispatchCurve:
    """Uptime and average power cost as functions of the mining value per MWh, one curve per
    calendar month (1–12), from a year of hourly prices under the rule "mine iff the value beats
    the price"; the plan interpolates them for sites on market-priced power."""

    source: str
    value_grid_usd_per_mwh: FloatArray  # [grid]
    uptime: FloatArray  # [month 0..11, grid]
    avg_price_usd_per_mwh: FloatArray  # [month, grid]: mean price of the hours mined


def dispatch_curve(prices: HourlyPrices, grid: FloatArray | None = None) -> DispatchCurve:
    """Build the monthly dispatch curves of an hourly price series (one sort per month).

    Parameters
    ----------
    prices : HourlyPrices
        A year of hourly prices [USD/MWh].
    grid : numpy.ndarray of float or None
        Mining values at which the curves are tabulated [USD/MWh]; ``None``: −50 … 10,000.

    Returns
    -------
    DispatchCurve
        Uptime [-] and mean price of the hours mined [USD/MWh] by calendar month and value.

    Raises
    ------
    InputError
        A calendar month without hours.
    """
    if grid is None:
        grid = np.concatenate([np.linspace(-50, 300, 351), np.geomspace(301, 10_000, 200)])
    months = prices.index_local.month.to_numpy()
    up = np.zeros((12, grid.size))
    avg = np.zeros((12, grid.size))
    for m in range(12):
        p = np.sort(prices.price_usd_per_mwh[months == m + 1])
        if p.size == 0:
            raise InputError("prices", prices.source, "a full year of hours (a month is missing)")
        k = np.searchsorted(p, grid, side="left")  # hours with price < value
        csum = np.concatenate([[0.0], np.cumsum(p)])
        up[m] = k / p.size
        avg[m] = np.where(k > 0, csum[k] / np.maximum(k, 1), p[0])
    return DispatchCurve(prices.source, grid, up, avg)
