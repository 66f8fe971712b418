"""Sites that host AI, run own GPUs, mix hosting with mining, or hold the option to convert.

Plain mining sites go through the fused kernel (:mod:`hashpivot.sites.kernel`). The sites here are
few,
and their cash depends on a conversion month per path. Each is evaluated per chunk on whole
``[path, month]`` arrays:

* ``hosting``: mines (if it has a fleet) until ``conversion.start_month``, then converts and
  leases;
* ``gpu_cloud``: mines until the start, then builds AI halls and rents its own GPUs by the hour;
* ``hybrid``: ``1 − share`` of the interconnect mines throughout, while ``share`` converts at the
  start month to a lease or own GPUs;
* ``market_mining``: a mining site on hourly market power; each month's uptime and average
  power cost come from a dispatch curve (:func:`hashpivot.dispatch.lp.dispatch_curve`) at the
  month's mining value;
* ``option_to_convert``: mines until the least-squares Monte Carlo policy converts ``share`` of
  the interconnect (or never does). The policy is fitted once on a fixed training set of paths
  and then applied to every chunk, so the result does not depend on chunking.

Conventions: the value of converting at the start of month ``τ`` is ``rent_τ·PA + PB``
(:meth:`hosting.ConversionProject.present_value_coefficients`). Lease cash past the plan horizon
enters the NPV as a terminal value at the horizon, not as cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dispatch.curve import DispatchCurve, expected_excess, mean_price_below, share_below
from ..errors import present
from ..finance import lsm as conversion
from ..market.scenarios import MarketPaths
from ..sites import hosting
from ..sites.kernel import SiteParams, SiteTotals, site_cashflows, site_cashflows_numpy
from ..sites.mining import mining_value_usd_per_mwh
from ..units import DAYS_PER_MONTH, FloatArray, IntArray

#: Paths the conversion policy is fitted on (the first ones; the same whatever the chunking).
TRAIN_PATHS = 4096
#: Policies compared for a site with an option to convert.
POLICIES = ("never", "now", "fixed_date", "optimal")


@dataclass(frozen=True)
class SpecialSite:
    """A non-plain site's model (see module docstring)."""

    index: int  # position in the plan's site list
    name: str
    kind: str
    mining: SiteParams | None  # the site's mining (one site), None without a fleet
    share: float  # share of the interconnect converted
    start_month: int  # fixed start, or the first month an option may convert
    latest_month: int  # last month an option may convert
    fixed_month: int
    project: hosting.ConversionProject | None  # lease projects
    gpu: hosting.GpuCloud | None
    gpu_facility_capex_usd: float
    gpu_lead_time_months: int
    base_rent_usd_per_kw_month: float
    rent_index: int  # -1: fixed rent
    rate_index: int  # -1: fixed GPU rate
    pa: float  # PV per $1/kW-month of rent signed, at conversion start
    pb: float  # PV of the rent-independent cash, at conversion start
    curve: Any = None  # a dispatch.curve.DispatchCurve for market_mining sites
    month_of_year: IntArray | None = None  # calendar month (0–11) of each plan month
    flex: FlexTerms | None = None  # flexible_mining sites
    no_load: NoLoadTerms | None = None  # no_load sites


@dataclass(frozen=True)
class FlexTerms:
    """A flexible-mining site's contract: price ``power_usd_per_mwh`` (× its index) with the
    right to resell a share of the energy on an hourly market, and demand response."""

    power_usd_per_mwh: float
    power_index: int  # -1: fixed price
    export_share: float
    resale_cost_usd_per_mwh: float
    take_or_pay: bool
    demand_response_usd_per_mw_month: float
    demand_response_curtailed_share: float
    facility_mw: float


@dataclass(frozen=True)
class NoLoadTerms:
    """A no-load site: fixed costs until ``end_month``, and the energy of ``sale_mw`` sold at
    an hourly market (``curve``) or at ``sale_price_usd_per_mwh``."""

    fixed_usd_per_month: float
    end_month: int
    sale_mw: float
    contract_usd_per_mwh: float
    contract_index: int  # -1: fixed price
    sale_price_usd_per_mwh: float | None
    resale_cost_usd_per_mwh: float
    take_or_pay: bool


@dataclass
class SpecialOutcome:
    """A chunk's result for one special site."""

    cash_usd: FloatArray  # [path, month]
    tail_usd: FloatArray  # [path]: value at the horizon of cash after it
    mining: SiteTotals | None
    mining_months: FloatArray  # [path]: months of the whole site mining (day-weighted)
    conversion_month: IntArray  # [path]: month conversion started (n_months: never)
    policy_values: dict[str, FloatArray]  # option sites: full-site value at t=0 by policy


def _index(values: FloatArray, k: int, n: int, n_months: int) -> FloatArray:
    return values[k] if k >= 0 else np.ones((n, n_months))


def mining_cash(site: SpecialSite, paths: MarketPaths, scale: FloatArray | None) -> SiteTotals:
    """The site's mining totals, all of it or the share still mining.

    Parameters
    ----------
    site : SpecialSite
        The site (its ``mining`` parameters must be set).
    paths : MarketPaths
        Market paths ``[path, month]``.
    scale : numpy.ndarray of float or None
        ``[path, month]``: share of the site still mining [-]; ``None``: all of it (run by the
        fused kernel).

    Returns
    -------
    SiteTotals
        Monthly cash [USD], BTC mined [BTC] and energy [MWh] per ``[path, month]`` with their
        totals.
    """
    mining = present(site.mining, f"{site.name}: mining")
    if scale is None:
        return site_cashflows(
            mining, paths.price_usd, paths.btc_per_th_day, paths.days, paths.index_values
        )
    return site_cashflows_numpy(
        mining, paths.price_usd, paths.btc_per_th_day, paths.days, paths.index_values, scale
    )


def decision_arrays(
    site: SpecialSite, paths: MarketPaths, monthly_discount: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The inputs of the conversion decision of an option site.

    Parameters
    ----------
    site : SpecialSite
        An option site.
    paths : MarketPaths
        Market paths ``[path, month]``.
    monthly_discount : float
        Discount factor over one month [-].

    Returns
    -------
    tuple of five numpy.ndarray of float
        Exercise values [USD] (NaN outside the window), running cash of the convertible share
        [USD], the states ``[k, path, month]`` [-], the discount per month [-], and the rent signed
        if converting at each month [USD/kW-month], each ``[path, month]``.
    """
    n, n_months = paths.price_usd.shape
    rent = site.base_rent_usd_per_kw_month * _index(
        paths.index_values, site.rent_index, n, n_months
    )
    exercise = rent * site.pa + site.pb
    months = np.arange(n_months)
    allowed = (months >= site.start_month) & (months <= site.latest_month)
    exercise = np.where(allowed[None, :], exercise, np.nan)
    full = mining_cash(site, paths, None).cash_usd
    running = site.share * full
    states = [np.log(paths.hashprice_usd_per_ph_day), np.log(paths.price_usd)]
    if site.rent_index >= 0:
        states.append(np.log(rent))
    discount = np.full(n_months, monthly_discount)
    return exercise, running, np.stack(states), discount, rent


def fit_option_policy(
    site: SpecialSite, paths: MarketPaths, monthly_discount: float
) -> conversion.LsmPolicy:
    """Fit the conversion policy of an option site on training paths.

    Parameters
    ----------
    site : SpecialSite
        An option site.
    paths : MarketPaths
        The run's training paths.
    monthly_discount : float
        Discount factor over one month [-].

    Returns
    -------
    LsmPolicy
        The fitted least-squares Monte Carlo policy.
    """
    exercise, running, states, discount, _ = decision_arrays(site, paths, monthly_discount)
    return conversion.fit_policy(exercise, running, states, discount, degree=2).policy


def evaluate_special(
    site: SpecialSite,
    paths: MarketPaths,
    monthly_discount: float,
    policy: conversion.LsmPolicy | None,
) -> SpecialOutcome:
    """Cash flows of one special site on a chunk of paths.

    Parameters
    ----------
    site : SpecialSite
        A hosting, GPU-cloud, conversion-option or hourly-market site.
    paths : MarketPaths
        The chunk's market paths ``[path, month]``.
    monthly_discount : float
        Discount factor over one month [-].
    policy : LsmPolicy or None
        The fitted policy of an option site; ``None`` for other kinds.

    Returns
    -------
    SpecialOutcome
        Cash [USD] per ``[path, month]``, the value past the horizon [USD], mining totals, the
        conversion month and (option sites) the value under each policy [USD].
    """
    n, n_months = paths.price_usd.shape
    values: dict[str, FloatArray] = {}
    if site.kind == "market_mining":
        market = market_mining(site, paths)
        start_month = present(site.mining, f"{site.name}: mining").start_month[0]
        weight = (np.arange(n_months) >= start_month) * paths.days / DAYS_PER_MONTH
        return SpecialOutcome(
            market.cash_usd,
            np.zeros(n),
            market,
            np.full(n, weight.sum()),
            np.full(n, n_months),
            values,
        )
    if site.kind in ("flexible_mining", "no_load"):
        if site.kind == "flexible_mining":
            totals = flexible_mining(site, paths)
            p = present(site.mining, f"{site.name}: mining")
            up = (np.arange(n_months) >= p.start_month[0]) * paths.days / DAYS_PER_MONTH
            months_mined = np.full(n, up.sum())
        else:
            totals, months_mined = None, np.zeros(n)
        cash = totals.cash_usd if totals is not None else no_load_cash(site, paths)
        return SpecialOutcome(cash, np.zeros(n), totals, months_mined, np.full(n, n_months), values)
    if site.kind == "option_to_convert":
        exercise, running, states, discount, rent = decision_arrays(site, paths, monthly_discount)
        fitted = present(policy, f"{site.name}: conversion policy", "a fitted policy")
        stop = conversion.apply_policy(fitted, exercise, running, states, discount).stop_step
        fixed = min(max(site.fixed_month, site.start_month), site.latest_month)
        untouched_pv = (1 - site.share) / site.share if site.share < 1 else 0.0
        common = conversion.realised_value(
            exercise, running * untouched_pv, discount, np.full(n, n_months)
        )
        for name, when in (
            ("never", np.full(n, n_months)),
            ("now", np.full(n, site.start_month)),
            ("fixed_date", np.full(n, fixed)),
            ("optimal", stop),
        ):
            values[name] = conversion.realised_value(exercise, running, discount, when) + common
        start = stop
    else:
        start = np.full(n, site.start_month)
        rent = None
    months = np.arange(n_months)
    converted = months[None, :] >= start[:, None]
    cash = np.zeros((n, n_months))
    tail = np.zeros(n)
    mining: SiteTotals | None = None
    mining_months = np.zeros(n)
    if site.mining is not None:
        if site.kind == "hybrid":
            scale = None  # its mining part is sized to 1 − share and never stops
        else:
            scale = np.where(
                converted, 1.0 - site.share if site.kind == "option_to_convert" else 0.0, 1.0
            )
        mining = mining_cash(site, paths, scale)
        cash += mining.cash_usd
        weight = (months >= site.mining.start_month[0]) * paths.days / DAYS_PER_MONTH
        share_mining = np.ones((n, n_months)) if scale is None else scale
        mining_months = (share_mining * weight).sum(axis=1)
    if site.project is not None:
        if rent is None:
            rent = site.base_rent_usd_per_kw_month * _index(
                paths.index_values, site.rent_index, n, n_months
            )
        stopped = np.minimum(start, n_months - 1)
        signed = np.where(start < n_months, rent[np.arange(n), stopped], 0.0)
        lease_cash, tail = hosting.project_cashflows(
            site.project, start, signed, n_months, monthly_discount
        )
        cash += lease_cash
    if site.gpu is not None:
        cash += gpu_cash(site, paths)
    return SpecialOutcome(cash, tail, mining, mining_months, start, values)


def gpu_cash(site: SpecialSite, paths: MarketPaths) -> FloatArray:
    """Own-GPU cloud: facility capex over the build, then GPU purchases, rentals and power.

    Parameters
    ----------
    site : SpecialSite
        A GPU-cloud site.
    paths : MarketPaths
        Market paths (the GPU rate index, if any).

    Returns
    -------
    numpy.ndarray of float
        Cash per ``[path, month]`` [USD].
    """
    n, n_months = paths.price_usd.shape
    gpu = present(site.gpu, f"{site.name}: gpu_cloud")
    live = site.start_month + site.gpu_lead_time_months
    a, b = gpu.schedule(max(n_months - live, 0))
    out = np.zeros((n, n_months))
    build = max(site.gpu_lead_time_months, 1)
    first = min(site.start_month, n_months)
    out[:, first : min(first + build, n_months)] -= site.gpu_facility_capex_usd / build
    if live < n_months:
        rate = _index(paths.index_values, site.rate_index, n, n_months)[:, live:]
        out[:, live:] += rate * a[None, :] + b[None, :]
    return out


def exercise_boundary(
    site: SpecialSite, paths: MarketPaths, policy: conversion.LsmPolicy, monthly_discount: float
) -> list[float | None]:
    """For each month, the highest hashprice at which the policy converts.

    The other states (BTC price, AI rent) are held at their median among the paths that convert
    that month.

    Parameters
    ----------
    site : SpecialSite
        An option site.
    paths : MarketPaths
        Market paths.
    policy : LsmPolicy
        The site's fitted policy.
    monthly_discount : float
        Discount factor over one month [-].

    Returns
    -------
    list of float or None
        Boundary per month [USD/PH/day]; ``None`` where fewer than 5 paths convert then.
    """
    exercise, running, states, discount, _ = decision_arrays(site, paths, monthly_discount)
    stop = conversion.apply_policy(policy, exercise, running, states, discount).stop_step
    out: list[float | None] = []
    for t in range(exercise.shape[1]):
        beta = policy.coefficients[t]
        movers = stop == t
        if beta is None or movers.sum() < 5:
            out.append(None)
            continue
        hp = states[0, :, t]
        grid = np.linspace(np.quantile(hp, 0.005), np.quantile(hp, 0.995), 201)
        s = np.repeat(np.median(states[:, movers, t], axis=1)[:, None], grid.size, axis=1)
        s[0] = grid
        x = (s - policy.center[t][:, None]) / policy.scale[t][:, None]
        cont = policy.design(x) @ beta
        converts = float(np.median(exercise[movers, t])) > cont
        out.append(float(np.exp(grid[converts].max())) if converts.any() else None)
    return out


def market_mining(site: SpecialSite, paths: MarketPaths) -> SiteTotals:
    """Mining on hourly market power.

    Each month's uptime and mean price of the hours mined are read off that calendar month's
    dispatch curve at the month's mining value (hashprice net of pool fee per MWh, less the
    delivery adder).

    Parameters
    ----------
    site : SpecialSite
        A site with ``power_market`` (its ``curve`` set).
    paths : MarketPaths
        Market paths ``[path, month]``.

    Returns
    -------
    SiteTotals
        Monthly cash [USD], BTC [BTC] and energy [MWh] per ``[path, month]``.
    """
    p = present(site.mining, f"{site.name}: mining")
    n_months = paths.price_usd.shape[1]
    wall_j_per_th = p.facility_power_mw[0] * 1e6 / p.hashrate_th_s[0]
    adder = p.power_usd_per_mwh[0]
    value = (
        mining_value_usd_per_mwh(paths.hashprice_usd_per_ph_day, wall_j_per_th, p.pool_fee[0])
        - adder
    )
    curve = present(site.curve, f"{site.name}: market curve")
    moy = present(site.month_of_year, f"{site.name}: calendar months")
    uptime = _by_calendar_month(curve, moy, value, share_below)
    price = _by_calendar_month(curve, moy, value, mean_price_below)
    active = (np.arange(n_months) >= p.start_month[0]).astype(np.float64)
    up = active if p.availability is None else active * p.availability[0]  # embargo, rationing
    run = uptime * p.uptime[0] * up
    btc = p.hashrate_th_s[0] * p.hashrate_factor[0] * run * paths.btc_per_th_day * paths.days
    revenue = btc * paths.price_usd
    pool = revenue * p.pool_fee[0]
    mwh = p.facility_power_mw[0] * 24.0 * paths.days * run
    energy = mwh * (price + adder)
    fixed = p.fixed_usd_per_month[0] * paths.days / DAYS_PER_MONTH * active
    return SiteTotals(
        cash_usd=revenue - pool - energy - fixed,
        btc=btc.sum(axis=1)[None, :],
        revenue_usd=revenue.sum(axis=1)[None, :],
        pool_fee_usd=pool.sum(axis=1)[None, :],
        energy_usd=energy.sum(axis=1)[None, :],
        energy_mwh=mwh.sum(axis=1)[None, :],
    )


def _by_calendar_month(
    curve: DispatchCurve, month_of_year: IntArray, x: FloatArray, fn: Any
) -> FloatArray:
    """``fn(curve, m, x[:, cols])`` for each calendar month ``m``, put back in place."""
    out = np.empty_like(x)
    for m in range(12):
        cols = np.asarray(month_of_year == m)
        if cols.any():
            out[:, cols] = fn(curve, m, x[:, cols])
    return out


def flexible_mining(site: SpecialSite, paths: MarketPaths) -> SiteTotals:
    """Mining with hourly resale of the contracted energy and demand response.

    With mining value ``v`` (hashprice net of pool fee per MWh, after the fleet's ageing),
    contract price ``P``, resale cost ``c``, exportable share ``s`` and the hourly price ``p``
    of the month's dispatch curve, a MWh of capacity earns, in expectation over the hours,

    * ``max(v − P, 0) + s·E[(p − c − max(v, P))⁺]`` (the contract may go unused), or
    * ``max(v, 0) − P + s·E[(p − c − max(v, 0))⁺]`` (take-or-pay),

    and in the share ``d`` of hours the grid operator curtails the load, only the resale:
    ``s·E[(p − c − P)⁺]`` (or ``s·E[(p − c)⁺] − P``). Demand response pays its $/MW-month on
    top. With no market to resell on, ``s·E[…] = 0``. Where prices never exceed the mining value
    and the contract may go unused, this is the plain site curtailed when unprofitable.

    Parameters
    ----------
    site : SpecialSite
        A ``flexible_mining`` site (``mining`` and ``flex`` set; ``curve`` where it resells).
    paths : MarketPaths
        Market paths ``[path, month]``.

    Returns
    -------
    SiteTotals
        Monthly cash [USD] per ``[path, month]`` and the horizon totals of BTC [BTC], revenue,
        pool fee, net power cost (contract less resale) [USD] and energy used [MWh].
    """
    p = present(site.mining, f"{site.name}: mining")
    f = present(site.flex, f"{site.name}: flexible terms")
    n, n_months = paths.price_usd.shape
    # the mining value of a MWh from the same BTC per TH-day and price the kernel's revenue uses
    th_per_mw = p.hashrate_th_s[0] / p.facility_power_mw[0]
    v = (
        paths.btc_per_th_day * paths.price_usd * (1.0 - p.pool_fee[0]) * th_per_mw / 24.0
    ) * p.hashrate_factor[0][None, :]
    contract = f.power_usd_per_mwh * _index(paths.index_values, f.power_index, n, n_months)
    c, s, d = f.resale_cost_usd_per_mwh, f.export_share, f.demand_response_curtailed_share
    if site.curve is not None:
        moy = present(site.month_of_year, f"{site.name}: calendar months")

        def excess(x: FloatArray) -> FloatArray:
            return s * _by_calendar_month(site.curve, moy, x, expected_excess)

        def below(x: FloatArray) -> FloatArray:
            return (1.0 - s) + s * _by_calendar_month(site.curve, moy, x, share_below)

    else:

        def excess(x: FloatArray) -> FloatArray:
            return np.zeros_like(x)

        def below(x: FloatArray) -> FloatArray:
            return np.ones_like(x)

    if f.take_or_pay:
        floor = np.maximum(v, 0.0)
        on = floor - contract + excess(floor + c)
        off = -contract + excess(np.full_like(v, c))
        mines = v > 0
    else:
        floor = np.maximum(v, contract)
        on = np.maximum(v - contract, 0.0) + excess(floor + c)
        off = excess(contract + c)
        mines = v > contract
    value = (1.0 - d) * on + d * off  # [USD per MWh of capacity]
    mining_share = (1.0 - d) * mines * below(v + c)
    active = (np.arange(n_months) >= p.start_month[0]).astype(np.float64)
    avail = p.availability[0] if p.availability is not None else np.ones(n_months)
    up = p.uptime[0] * active * avail
    capacity_mwh = p.facility_power_mw[0] * 24.0 * paths.days * up
    run = up * mining_share
    btc = p.hashrate_th_s[0] * p.hashrate_factor[0] * run * paths.btc_per_th_day * paths.days
    revenue = btc * paths.price_usd
    pool = revenue * p.pool_fee[0]
    fixed = p.fixed_usd_per_month[0] * paths.days / DAYS_PER_MONTH * active
    dr = f.demand_response_usd_per_mw_month * f.facility_mw * paths.days / DAYS_PER_MONTH * active
    cash = capacity_mwh * value + dr - fixed
    energy = revenue - pool - (cash + fixed)  # the contract less resale (and DR) receipts
    return SiteTotals(
        cash_usd=cash,
        btc=btc.sum(axis=1)[None, :],
        revenue_usd=revenue.sum(axis=1)[None, :],
        pool_fee_usd=pool.sum(axis=1)[None, :],
        energy_usd=energy.sum(axis=1)[None, :],
        energy_mwh=(p.facility_power_mw[0] * 24.0 * paths.days * run).sum(axis=1)[None, :],
    )


def no_load_cash(site: SpecialSite, paths: MarketPaths) -> FloatArray:
    """Cash of a site running no load: fixed costs to its end month, and the energy sold — at
    the hourly market ``E[(p − c − P)⁺]`` a MWh (``E[p] − c − P`` take-or-pay) or at a stated
    price ``max(q − c − P, 0)`` (``q − c − P``).

    Parameters
    ----------
    site : SpecialSite
        A ``no_load`` site (``no_load`` set; ``curve`` when it sells at market).
    paths : MarketPaths
        Market paths ``[path, month]``.

    Returns
    -------
    numpy.ndarray of float
        Cash [USD] per ``[path, month]``.
    """
    t = present(site.no_load, f"{site.name}: no-load terms")
    n, n_months = paths.price_usd.shape
    months = np.arange(n_months)
    fixed = t.fixed_usd_per_month * paths.days / DAYS_PER_MONTH * (months < t.end_month)
    cash = np.broadcast_to(-fixed, (n, n_months)).copy()
    if t.sale_mw > 0:
        contract = t.contract_usd_per_mwh * _index(
            paths.index_values, t.contract_index, n, n_months
        )
        c = t.resale_cost_usd_per_mwh
        if t.sale_price_usd_per_mwh is not None:
            margin = t.sale_price_usd_per_mwh - c - contract
            per_mwh = margin if t.take_or_pay else np.maximum(margin, 0.0)
        else:
            curve = present(site.curve, f"{site.name}: market curve")
            moy = present(site.month_of_year, f"{site.name}: calendar months")
            if t.take_or_pay:
                mean = present(curve.mean_price_usd_per_mwh, f"{site.name}: mean prices")
                per_mwh = mean[moy][None, :] - c - contract
            else:
                per_mwh = _by_calendar_month(curve, moy, contract + c, expected_excess)
        cash += t.sale_mw * 24.0 * paths.days * per_mwh * (months < t.end_month)
    return cash
