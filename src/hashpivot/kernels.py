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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

try:  # numba is a declared dependency; the NumPy path keeps the model usable without it.
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAYS_PER_MONTH = 365.25 / 12


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

    @property
    def n_sites(self) -> int:
        return int(self.hashrate_th_s.shape[0])


@dataclass(frozen=True)
class SiteTotals:
    """What a chunk leaves behind: the sites' cash flow summed ``[path, month]`` and per-site,
    per-path totals over the horizon ``[site, path]`` (fixed costs are deterministic and are
    accounted by the caller)."""

    cash_usd: FloatArray
    btc: FloatArray
    revenue_usd: FloatArray
    pool_fee_usd: FloatArray
    energy_usd: FloatArray
    energy_mwh: FloatArray


def _empty_totals(n_sites: int, n: int, n_months: int) -> SiteTotals:
    z = lambda: np.zeros((n_sites, n))  # noqa: E731
    return SiteTotals(np.zeros((n, n_months)), z(), z(), z(), z(), z())


def site_cashflows_numpy(
    params: SiteParams,
    price_usd: FloatArray,
    btc_per_th_day: FloatArray,
    days: FloatArray,
    power_index: FloatArray,
) -> SiteTotals:
    """Reference implementation: whole-array NumPy, one site at a time."""
    n, n_months = price_usd.shape
    out = _empty_totals(params.n_sites, n, n_months)
    month = np.arange(n_months)
    for s in range(params.n_sites):
        active = (month >= params.start_month[s]).astype(np.float64)
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
        btc, revenue, pool, energy, mwh = (a * run for a in (btc, revenue, pool, energy, mwh))
        out.cash_usd[...] += revenue - pool - energy - fixed
        out.btc[s] = btc.sum(axis=1)
        out.revenue_usd[s] = revenue.sum(axis=1)
        out.pool_fee_usd[s] = pool.sum(axis=1)
        out.energy_usd[s] = energy.sum(axis=1)
        out.energy_mwh[s] = mwh.sum(axis=1)
    return out


if HAVE_NUMBA:

    @njit(parallel=True, cache=True, fastmath=False)
    def _fused(
        h,
        hf,
        pfac,
        up,
        fee,
        pp,
        pidx,
        start,
        fixed,
        curtail,
        price,
        bpt,
        days,
        pindex,
        cash,
        o_btc,
        o_rev,
        o_pool,
        o_energy,
        o_mwh,
    ):  # pragma: no cover - compiled
        n, n_months = price.shape
        n_sites = h.shape[0]
        for i in prange(n):
            for t in range(n_months):
                p_t = price[i, t]
                b_t = bpt[i, t] * days[t]
                hours_t = 24.0 * days[t]
                month_share = days[t] / 30.4375
                c = 0.0
                for s in range(n_sites):
                    if t < start[s]:
                        continue
                    f = fixed[s] * month_share
                    btc = h[s] * hf[s, t] * up[s] * b_t
                    rev = btc * p_t
                    pool = rev * fee[s]
                    unit = pp[s]
                    if pidx[s] >= 0:
                        unit *= pindex[pidx[s], i, t]
                    mwh = pfac[s] * hours_t * up[s]
                    energy = mwh * unit
                    if curtail[s] and rev - pool < energy:
                        btc = 0.0
                        rev = 0.0
                        pool = 0.0
                        energy = 0.0
                        mwh = 0.0
                    c += rev - pool - energy - f
                    o_btc[s, i] += btc
                    o_rev[s, i] += rev
                    o_pool[s, i] += pool
                    o_energy[s, i] += energy
                    o_mwh[s, i] += mwh
                cash[i, t] = c


def site_cashflows_numba(
    params: SiteParams,
    price_usd: FloatArray,
    btc_per_th_day: FloatArray,
    days: FloatArray,
    power_index: FloatArray,
) -> SiteTotals:
    """Fused kernel (numba, parallel over paths); same results as :func:`site_cashflows_numpy`."""
    if not HAVE_NUMBA:  # pragma: no cover
        return site_cashflows_numpy(params, price_usd, btc_per_th_day, days, power_index)
    n, n_months = price_usd.shape
    out = _empty_totals(params.n_sites, n, n_months)
    pindex = power_index if power_index.shape[0] else np.ones((1, 1, 1))
    _fused(
        params.hashrate_th_s,
        np.ascontiguousarray(params.hashrate_factor),
        params.facility_power_mw,
        params.uptime,
        params.pool_fee,
        params.power_usd_per_mwh,
        params.power_index,
        params.start_month,
        params.fixed_usd_per_month,
        params.curtail,
        np.ascontiguousarray(price_usd),
        np.ascontiguousarray(btc_per_th_day),
        days,
        pindex,
        out.cash_usd,
        out.btc,
        out.revenue_usd,
        out.pool_fee_usd,
        out.energy_usd,
        out.energy_mwh,
    )
    return out


def site_cashflows(
    params: SiteParams,
    price_usd: FloatArray,
    btc_per_th_day: FloatArray,
    days: FloatArray,
    power_index: FloatArray,
) -> SiteTotals:
    """The fastest available implementation."""
    impl = site_cashflows_numba if HAVE_NUMBA else site_cashflows_numpy
    return impl(params, price_usd, btc_per_th_day, days, power_index)
