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
    mean_price_usd_per_mwh: FloatArray | None = None  # [month]: mean price of all hours


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
    mean = np.zeros(12)
    for m in range(12):
        p = np.sort(prices.price_usd_per_mwh[months == m + 1])
        if p.size == 0:
            raise InputError("prices", prices.source, "a full year of hours (a month is missing)")
        k = np.searchsorted(p, grid, side="left")  # hours with price < value
        csum = np.concatenate([[0.0], np.cumsum(p)])
        up[m] = k / p.size
        avg[m] = np.where(k > 0, csum[k] / np.maximum(k, 1), p[0])
        mean[m] = p.mean()
    return DispatchCurve(prices.source, grid, up, avg, mean)


def share_below(curve: DispatchCurve, month: int, x_usd_per_mwh: FloatArray) -> FloatArray:
    """Share of the calendar month's hours priced below ``x`` [-].

    Parameters
    ----------
    curve : DispatchCurve
        From :func:`dispatch_curve`.
    month : int
        Calendar month, 0 (January) … 11 [-].
    x_usd_per_mwh : numpy.ndarray of float
        Thresholds [USD/MWh], any shape.

    Returns
    -------
    numpy.ndarray of float
        ``F(x)``, the empirical distribution of the month's hourly prices [-].
    """
    return np.interp(x_usd_per_mwh, curve.value_grid_usd_per_mwh, curve.uptime[month])


def mean_price_below(curve: DispatchCurve, month: int, x_usd_per_mwh: FloatArray) -> FloatArray:
    """Mean price of the calendar month's hours priced below ``x`` [USD/MWh] (the hours a
    site mines at mining value ``x``; the cheapest hour's price where none is).

    Parameters
    ----------
    curve : DispatchCurve
        From :func:`dispatch_curve`.
    month : int
        Calendar month, 0 (January) … 11 [-].
    x_usd_per_mwh : numpy.ndarray of float
        Thresholds [USD/MWh], any shape.

    Returns
    -------
    numpy.ndarray of float
        ``E[p | p < x]`` [USD/MWh].
    """
    return np.interp(
        x_usd_per_mwh, curve.value_grid_usd_per_mwh, curve.avg_price_usd_per_mwh[month]
    )


def expected_excess(curve: DispatchCurve, month: int, x_usd_per_mwh: FloatArray) -> FloatArray:
    """Mean over the calendar month's hours of ``max(p − x, 0)`` [USD/MWh]: what selling a MWh
    at the hourly price ``p`` earns above a threshold ``x`` (the value of the right to resell).

    From the curve: ``E[(p − x)⁺] = E[p] − E[min(p, x)]`` with
    ``E[min(p, x)] = F(x)·E[p | p < x] + (1 − F(x))·x``.

    Parameters
    ----------
    curve : DispatchCurve
        From :func:`dispatch_curve` (with its mean prices).
    month : int
        Calendar month, 0 (January) … 11 [-].
    x_usd_per_mwh : numpy.ndarray of float
        Thresholds [USD/MWh], any shape.

    Returns
    -------
    numpy.ndarray of float
        ``E[(p − x)⁺]`` [USD/MWh], same shape as ``x``.

    Raises
    ------
    InputError
        A curve built without its mean prices.
    """
    if curve.mean_price_usd_per_mwh is None:
        raise InputError("curve", curve.source, "a curve with mean prices (dispatch_curve)")
    f = share_below(curve, month, x_usd_per_mwh)
    below = mean_price_below(curve, month, x_usd_per_mwh)
    e_min = f * below + (1.0 - f) * x_usd_per_mwh
    return np.maximum(curve.mean_price_usd_per_mwh[month] - e_min, 0.0)
