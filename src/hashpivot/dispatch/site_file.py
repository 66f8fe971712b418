"""A site file's ``dispatch`` section as an LP on an hourly price series: the adapter from the
validated schema (:class:`~hashpivot.config.models.SiteFile`) and the shipped hashprice
history to :class:`~hashpivot.dispatch.lp.DispatchSite`, solved and accounted."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..bitcoin import history
from ..config.models import SiteFile
from ..data.power_prices import HourlyPrices
from ..errors import InputError, present
from ..sites.mining import mining_value_usd_per_mwh
from ..sites.site import Site
from ..units import FloatArray
from .lp import DispatchResult, DispatchSite, Reserve, solve, strike_comparison


def hourly_mining_value(site: Site, prices: HourlyPrices) -> FloatArray:
    """Mining value of each hour from that (local) day's hashprice in the shipped history.

    Parameters
    ----------
    site : Site
        The site (fleet efficiency at the wall and pool fee).
    prices : HourlyPrices
        The hours (their local days pick the hashprice).

    Returns
    -------
    numpy.ndarray of float
        Value of a MWh used for mining in each hour [USD/MWh].
    """
    days = prices.index_local.tz_localize(None).normalize()
    first, last = history.date_range()
    lo, hi = days.min().date(), days.max().date()
    if lo < first or hi > last:
        raise InputError(
            "prices", prices.source, f"hours within the hashprice history ({first} .. {last})"
        )
    hp = history.hashprice_history(lo, hi)["hashprice_usd_per_ph_day"]
    daily = hp.reindex(days).to_numpy()
    return mining_value_usd_per_mwh(daily, site.wall_efficiency_j_per_th, site.pool_fee)


def site_problem(site_file: SiteFile, prices: HourlyPrices) -> DispatchSite:
    """The LP inputs of a validated site file's ``dispatch`` section on ``prices``.

    Parameters
    ----------
    site_file : SiteFile
        A validated site file with a ``dispatch`` section.
    prices : HourlyPrices
        The hourly prices [USD/MWh].

    Returns
    -------
    DispatchSite
        Capacity [MW], hourly mining value [USD/MWh], PPA, firm load, ramp and reserve terms.
    """
    cfg = site_file.dispatch
    if cfg is None:
        raise InputError("dispatch", None, "a 'dispatch' section in the site file")
    site = site_file.site.to_site()
    capacity = site.facility_power_mw * site.uptime  # available MW (uptime = availability here)
    value = hourly_mining_value(site, prices)
    p = prices.price_usd_per_mwh
    hours = prices.index_local.hour.to_numpy()
    reserve = None
    if cfg.reserve is not None:
        r = cfg.reserve
        committed = np.zeros(p.size, dtype=bool)
        if r.committed_mw > 0:
            start, end = r.committed_hours_local or (0, 24)
            committed = (hours >= start) & (hours < end)
        called = (
            np.zeros(p.size, dtype=bool)
            if r.called_when_price_above_usd_per_mwh is None
            else p > r.called_when_price_above_usd_per_mwh
        )
        reserve = Reserve(r.max_mw, r.payment_usd_per_mw_h, r.committed_mw, committed, called)
    ppa_mw = 0.0
    if cfg.contract == "ppa":
        ppa_mw = cfg.ppa_mw if cfg.ppa_mw is not None else capacity + cfg.firm_load_mw
    return DispatchSite(
        name=site.name,
        capacity_mw=capacity,
        value_usd_per_mwh=value,
        ppa_mw=ppa_mw,
        ppa_price_usd_per_mwh=cfg.contract_price_usd_per_mwh or 0.0,
        firm_mw=cfg.firm_load_mw,
        interconnect_mw=cfg.interconnect_mw or site.power_capacity_mw,
        ramp_mw_per_hour=cfg.ramp_mw_per_hour,
        reserve=reserve,
        export_mw=cfg.export_mw,
    )


def market_prices(site_file: SiteFile, prices: HourlyPrices) -> FloatArray:
    """The hourly price the site faces: the market's, or the flat price of a 'fixed' contract.

    Parameters
    ----------
    site_file : SiteFile
        A validated site file.
    prices : HourlyPrices
        The market's hourly prices.

    Returns
    -------
    numpy.ndarray of float
        Price per hour [USD/MWh].
    """
    cfg = site_file.dispatch
    if cfg is not None and cfg.contract == "fixed":
        price = present(cfg.contract_price_usd_per_mwh, "dispatch.contract_price_usd_per_mwh")
        return np.full(prices.price_usd_per_mwh.size, float(price))
    return prices.price_usd_per_mwh


def run_site_file(
    site_file: SiteFile, prices: HourlyPrices
) -> tuple[DispatchResult, dict[str, Any]]:
    """A site file's ``dispatch`` section solved against an hourly price series.

    The LP is solved and its accounts are given with the strike comparison, hours and timings
    (the CLI's ``--json`` and the web API's answer).

    Parameters
    ----------
    site_file : SiteFile
        A validated site file with a ``dispatch`` section.
    prices : HourlyPrices
        The hourly prices (:func:`hashpivot.data.power_prices.hourly_prices`).

    Returns
    -------
    tuple of (DispatchResult, dict)
        The solved dispatch and its accounts [USD, MWh].
    """
    if site_file.dispatch is None:
        raise InputError("dispatch", None, "a 'dispatch' section in the site file")
    prices.require_complete()  # the hourly LP (ramps above all) needs every hour
    market = market_prices(site_file, prices)
    problem = site_problem(site_file, prices)
    result = solve(problem, market)
    accounts = result.accounts()
    accounts.update(strike_comparison(problem, market))
    accounts["hours"] = int(market.size)
    accounts["filled_hours_utc"] = list(prices.filled_hours_utc)
    accounts["build_s"] = result.build_s
    accounts["solve_s"] = result.solve_s
    return result, accounts
