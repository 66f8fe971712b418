"""Site cash-flow kernels: every site of a portfolio over ``[path, month]`` market arrays.

Two implementations of one model:

* :func:`site_cashflows_numba` — one fused pass (numba, parallel over paths). Per path and month it
  reads the market state once and loops over sites, so memory traffic is the market state read and
  the company cash flow written, whatever the number of sites;
* :func:`site_cashflows_numpy` — the same arithmetic as whole-array NumPy operations, one site at a
  time. It is the reference the tests hold the fused kernel to, and the fallback without numba.

Per site ``s``, path ``i``, month ``t`` (active from the site's start month):

.. math::
    BTC = H_s \\, d_{s,t} \\, u_s \\, b_{i,t} \\, days_t, \\quad
    R = BTC \\cdot P_{i,t}, \\quad E = P^{fac}_s \\, 24 \\, u_s \\, days_t \\; p_s \\, x_{k(s),i,t}

with ``b`` the expected BTC per TH/s per day, ``d`` the hashrate left after degradation, ``p`` the
contract price and ``x`` its power index (1 for fixed contracts). With curtailment on, a site whose
revenue net of pool fees is below its power bill in a month does not run that month. Site cash
flow = ``R − fee·R − E − fixed`` with fixed = site opex + site SG&A + site interest (pro rata to
the days of the month).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from .._numba import HAVE_NUMBA
from ..units import DAYS_PER_MONTH, FloatArray, IntArray
from ..workspace import Workspace, empty

if HAVE_NUMBA:
    from numba import njit, prange


@dataclass(frozen=True)
class SiteParams:
    """Per-site parameters as arrays over sites ``[site]`` (and ``[site, month]``)."""

    hashrate_th_s: FloatArray
    hashrate_factor: FloatArray  # [site, month]: share of hashrate left after degradation
    facility_power_mw: FloatArray
    uptime: FloatArray
    pool_fee: FloatArray
    power_usd_per_mwh: FloatArray
    power_index: IntArray  # -1: fixed contract
    start_month: IntArray
    fixed_usd_per_month: FloatArray  # site opex + site SG&A + site interest
    curtail: npt.NDArray[np.bool_]
    group: IntArray | None = None  # [site]: which group's BTC/cost it adds to (default all 0)
    availability: FloatArray | None = None  # [site, month]: share of the fleet able to run

    @property
    def n_sites(self) -> int:
        """Number of sites [-]."""
        return int(self.hashrate_th_s.shape[0])

    @property
    def groups(self) -> IntArray:
        """Group of each site (all 0 without groups) [-]."""
        return self.group if self.group is not None else np.zeros(self.n_sites, dtype=np.int64)

    @property
    def n_groups(self) -> int:
        """Number of groups [-]."""
        return int(self.groups.max()) + 1 if self.n_sites else 1


@dataclass(frozen=True)
class SiteTotals:
    """What a chunk leaves behind: the sites' cash flow summed ``[path, month]`` if every BTC were
    sold in the month mined, the net BTC mined and the USD operating cost (energy and fixed) of
    each group of sites ``[group, path, month]``, and per-site, per-path totals over the horizon
    ``[site, path]``."""

    cash_usd: FloatArray
    btc: FloatArray
    revenue_usd: FloatArray
    pool_fee_usd: FloatArray
    energy_usd: FloatArray
    energy_mwh: FloatArray
    btc_net_g: FloatArray | None = None  # [group, path, month]: BTC mined net of pool fees
    cost_usd_g: FloatArray | None = None  # [group, path, month]: energy and fixed costs


def _empty_totals(n_sites: int, n: int, n_months: int, cash: bool = True) -> SiteTotals:
    z = lambda: np.zeros((n_sites, n))  # noqa: E731
    return SiteTotals(
        np.zeros((n, n_months)) if cash else np.empty((0, 0)), z(), z(), z(), z(), z()
    )


def site_cashflows_numpy(
    params: SiteParams,
    price_usd: FloatArray,
    btc_per_th_day: FloatArray,
    days: FloatArray,
    power_index: FloatArray,
    scale: FloatArray | None = None,
) -> SiteTotals:
    """Reference implementation of the site cash flows: whole-array NumPy, one site at a time.

    Parameters
    ----------
    params : SiteParams
        Per-site, per-month parameters of the plain mining sites.
    price_usd : numpy.ndarray of float
        Average BTC price per ``[path, month]`` [USD/BTC].
    btc_per_th_day : numpy.ndarray of float
        Expected yield per ``[path, month]`` [BTC/TH/day].
    days : numpy.ndarray of float
        Days in each month [day].
    power_index : numpy.ndarray of float
        Power-price indices ``[index, path, month]`` [-] (1 at the start).
    scale : numpy.ndarray of float or None
        ``[path, month]``: multiplies every site's operation [-] — the share of the site still
        mining, e.g. 0 after a path converted it; fixed mining costs scale with it.

    Returns
    -------
    SiteTotals
        Cash flow [USD] per ``[path, month]``, per-site totals ``[site, path]`` [BTC, USD, MWh]
        and the groups' BTC and costs.
    """
    n, n_months = price_usd.shape
    out = _empty_totals(params.n_sites, n, n_months)
    out = replace(
        out,
        btc_net_g=np.zeros((params.n_groups, n, n_months)),
        cost_usd_g=np.zeros((params.n_groups, n, n_months)),
    )
    month = np.arange(n_months)
    for s in range(params.n_sites):
        active = (month >= params.start_month[s]).astype(np.float64)
        if params.availability is not None:
            active = active * params.availability[s]
        if scale is not None:
            active = active * scale
        btc = (
            params.hashrate_th_s[s]
            * params.hashrate_factor[s]
            * params.uptime[s]
            * btc_per_th_day
            * days
        )
        revenue = btc * price_usd
        pool = revenue * params.pool_fee[s]
        price = params.power_usd_per_mwh[s]
        if params.power_index[s] >= 0:
            price = price * power_index[params.power_index[s]]
        mwh = np.broadcast_to(
            params.facility_power_mw[s] * 24.0 * params.uptime[s] * days, btc.shape
        )
        energy = mwh * price
        run = np.broadcast_to(active, btc.shape)
        if params.curtail[s]:
            run = run * (revenue - pool >= energy)
        fixed = params.fixed_usd_per_month[s] * days / DAYS_PER_MONTH * active
        fixed = np.broadcast_to(fixed, btc.shape)
        if params.availability is not None:  # fixed costs run whether or not units are down
            fixed = np.broadcast_to(
                params.fixed_usd_per_month[s]
                * days
                / DAYS_PER_MONTH
                * (month >= params.start_month[s])
                * (1.0 if scale is None else scale),
                btc.shape,
            )
        btc, revenue, pool, energy, mwh = (a * run for a in (btc, revenue, pool, energy, mwh))
        out.cash_usd[...] += revenue - pool - energy - fixed
        g = params.groups[s]
        if out.btc_net_g is not None and out.cost_usd_g is not None:  # always set on this path
            out.btc_net_g[g] += btc * (1.0 - params.pool_fee[s])
            out.cost_usd_g[g] += energy + fixed
        out.btc[s] = btc.sum(axis=1)
        out.revenue_usd[s] = revenue.sum(axis=1)
        out.pool_fee_usd[s] = pool.sum(axis=1)
        out.energy_usd[s] = energy.sum(axis=1)
        out.energy_mwh[s] = mwh.sum(axis=1)
    return out


if HAVE_NUMBA:

    @njit(parallel=True, cache=True, fastmath=True, nogil=True)
    def _fused(
        th_month,
        th_net,
        e_unit,
        mwh_month,
        fixed_g,
        fee,
        pidx,
        not_curtail,
        group,
        price,
        bpt,
        pindex,
        ones,
        with_groups,
        btc_g,
        cost_g,
        cash,
        o_btc,
        o_rev,
        o_pool,
        o_energy,
        o_mwh,
    ):  # pragma: no cover - compiled
        # Loop order path → site → month: the inner loop runs over contiguous months with the
        # site's accumulators in registers and no branches (fixed-price sites read a row of
        # ones; curtailment is a 0/1 factor), so it vectorises; the path's rows stay in L1.
        # Per site-month constants come precomputed: TH/s-days (th_month), the same net of pool
        # fees (th_net), the power bill at index 1 (e_unit); fixed costs are summed per group.
        # With groups (company finance) the kernel leaves BTC net of pool fees and costs per
        # group; without, the cash flow if every BTC were sold in the month mined.
        n, n_months = price.shape
        n_sites = th_month.shape[0]
        n_groups = fixed_g.shape[0]
        for i in prange(n):
            hp = np.empty(n_months)  # USD per TH/s-day on this path
            for t in range(n_months):
                hp[t] = bpt[i, t] * price[i, t]
            if with_groups:
                for g in range(n_groups):
                    for t in range(n_months):
                        btc_g[g, i, t] = 0.0
                        cost_g[g, i, t] = fixed_g[g, t]
            else:
                for t in range(n_months):
                    acc = 0.0
                    for g in range(n_groups):
                        acc -= fixed_g[g, t]
                    cash[i, t] = acc
            for s in range(n_sites):
                k = pidx[s]
                index = pindex[k, i] if k >= 0 else ones
                keep = not_curtail[s]
                g = group[s]
                a_btc = 0.0
                a_rev = 0.0
                a_energy = 0.0
                a_mwh = 0.0
                for t in range(n_months):
                    energy = e_unit[s, t] * index[t]
                    net = th_net[s, t] * hp[t]
                    run = max(keep, 1.0 if net >= energy else 0.0)
                    if with_groups:  # loop-invariant: the compiler splits the loop on it
                        btc_g[g, i, t] += run * th_net[s, t] * bpt[i, t]
                        cost_g[g, i, t] += run * energy
                    else:
                        cash[i, t] += run * (net - energy)
                    a_btc += run * th_month[s, t] * bpt[i, t]
                    a_rev += run * th_month[s, t] * hp[t]
                    a_energy += run * energy
                    a_mwh += run * mwh_month[s, t]
                o_btc[s, i] = a_btc
                o_rev[s, i] = a_rev
                o_pool[s, i] = a_rev * fee[s]
                o_energy[s, i] = a_energy
                o_mwh[s, i] = a_mwh


def site_month_factors(params: SiteParams, days: FloatArray) -> tuple[FloatArray, ...]:
    """Per-site, per-month constants ``[site, month]`` of the kernel.

    TH/s-days hashed (hashrate × degradation × availability × uptime × days, 0 before the start
    month), MWh drawn when running (× availability), and the fixed cost of the month.

    Parameters
    ----------
    params : SiteParams
        Per-site parameters.
    days : numpy.ndarray of float
        Days in each month [day].

    Returns
    -------
    tuple of numpy.ndarray
        TH/s-days [TH·day], MWh [MWh] and fixed cost [USD], each ``[site, month]``.
    """
    n_months = days.shape[0]
    active = (np.arange(n_months)[None, :] >= params.start_month[:, None]).astype(np.float64)
    avail = active if params.availability is None else active * params.availability
    th_month = (
        params.hashrate_th_s[:, None]
        * params.hashrate_factor
        * params.uptime[:, None]
        * days[None, :]
        * avail
    )
    mwh_month = params.facility_power_mw[:, None] * 24.0 * params.uptime[:, None] * days[None, :]
    mwh_month = mwh_month * avail
    fixed_month = params.fixed_usd_per_month[:, None] * days[None, :] / DAYS_PER_MONTH * active
    return th_month, mwh_month, fixed_month


def site_cashflows_numba(
    params: SiteParams,
    price_usd: FloatArray,
    btc_per_th_day: FloatArray,
    days: FloatArray,
    power_index: FloatArray,
    workspace: Workspace | None = None,
    groups: bool = True,
) -> SiteTotals:
    """Fused kernel (numba, parallel over paths); same results as :func:`site_cashflows_numpy`.

    Without ``groups`` it leaves only the cash flow (``btc_net_g`` and ``cost_usd_g`` None), which
    is all a plan without company finance reads. With a ``workspace`` the ``[path, month]``
    arrays are its (valid until the next chunk).

    Parameters
    ----------
    params : SiteParams
        Per-site parameters.
    price_usd : numpy.ndarray of float
        Average BTC price per ``[path, month]`` [USD/BTC].
    btc_per_th_day : numpy.ndarray of float
        Expected yield per ``[path, month]`` [BTC/TH/day].
    days : numpy.ndarray of float
        Days in each month [day].
    power_index : numpy.ndarray of float
        Power-price indices ``[index, path, month]`` [-].
    workspace : Workspace or None
        Reusable arrays.
    groups : bool
        Also fill the groups' BTC and costs ``[group, path, month]``.

    Returns
    -------
    SiteTotals
        As :func:`site_cashflows_numpy`.
    """
    if not HAVE_NUMBA:  # pragma: no cover
        return site_cashflows_numpy(params, price_usd, btc_per_th_day, days, power_index)
    n, n_months = price_usd.shape
    out = _empty_totals(params.n_sites, n, n_months, cash=False)
    th_month, mwh_month, fixed_month = site_month_factors(params, days)
    fixed_g = np.zeros((params.n_groups, n_months))
    np.add.at(fixed_g, params.groups, fixed_month)
    price = np.ascontiguousarray(price_usd)
    shape = (params.n_groups, n, n_months) if groups else (1, 1, 1)
    btc_g = empty(workspace, "sites.btc_net", shape)
    cost_g = empty(workspace, "sites.cost_usd", shape)
    cash = empty(workspace, "sites.cash_usd", (n, n_months))
    _fused(
        th_month,
        th_month * (1.0 - params.pool_fee[:, None]),
        mwh_month * params.power_usd_per_mwh[:, None],
        mwh_month,
        fixed_g,
        params.pool_fee,
        params.power_index,
        (~params.curtail).astype(np.float64),
        params.groups,
        price,
        np.ascontiguousarray(btc_per_th_day),
        np.ascontiguousarray(power_index).reshape(-1, n, n_months),
        np.ones(n_months),  # the power index of fixed-price sites
        groups,
        btc_g,
        cost_g,
        cash,
        out.btc,
        out.revenue_usd,
        out.pool_fee_usd,
        out.energy_usd,
        out.energy_mwh,
    )
    if not groups:
        return replace(out, cash_usd=cash)
    # Cash if every BTC were sold in the month mined.
    if params.n_groups == 1:
        np.multiply(btc_g[0], price, out=cash)
        cash -= cost_g[0]
    else:
        cash = btc_g.sum(axis=0) * price - cost_g.sum(axis=0)
    return replace(out, cash_usd=cash, btc_net_g=btc_g, cost_usd_g=cost_g)


#: The fastest available implementation: the fused kernel, which falls back to
#: :func:`site_cashflows_numpy` without numba.
site_cashflows = site_cashflows_numba
