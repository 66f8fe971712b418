"""Per-site reductions of a plan run: cost to mine one BTC, the cost stack and breakevens, as
medians over paths, for all sites at once from ``[site, path]`` totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._numba import HAVE_NUMBA
from ..finance import metrics
from ..sites.site import FixedCosts
from ..units import FloatArray
from .model import PlanModel
from .results import SiteResult

if HAVE_NUMBA:
    from numba import njit, prange


#: The cost lines of a site's cost stack, in order.
STACK_LINES = (
    "energy",
    "site_opex",
    "pool_fees",
    "sga_cash",
    "depreciation",
    "stock_comp",
    "interest",
)


def _medians(x: FloatArray) -> FloatArray:
    """Median of each row of ``x`` (all finite): one single-rank partition (NumPy's SIMD
    select) for the upper middle value, the maximum below it for the lower one."""
    n = x.shape[1]
    part = np.partition(x, n // 2, axis=1)
    upper = part[:, n // 2]
    return upper if n % 2 else 0.5 * (part[:, : n // 2].max(axis=1) + upper)


def row_medians(x: FloatArray) -> list[float | None]:
    """Median of the finite values of each row of ``x`` ``[row, path]``.

    One partition for all the rows without gaps, one per other row.

    Parameters
    ----------
    x : numpy.ndarray of float
        Values ``[row, path]`` in any unit [any] (NaN: no value).

    Returns
    -------
    list of float or None
        Median per row, in the values' unit (``None`` for a row without finite values).
    """
    finite = np.isfinite(x)
    counts = finite.sum(axis=1)
    n = x.shape[1]
    out: list[float | None] = [None] * x.shape[0]
    full = np.flatnonzero(counts == n)
    if full.size:
        for r, v in zip(full, _medians(x[full]), strict=True):
            out[r] = float(v)
    for r in np.flatnonzero((counts > 0) & (counts < n)):
        out[r] = float(_medians(x[r][finite[r]][None, :])[0])
    return out


def _median_path(all_in: FloatArray) -> int | None:
    """Index of the path whose all-in cost per BTC is the lower median (finite values only), so a
    site's cost stack is a real path's and adds up to its all-in cost."""
    finite = np.isfinite(all_in)
    k = int(finite.sum())
    if k == 0:
        return None
    filled = np.where(finite, all_in, np.inf)
    return int(np.argpartition(filled, (k - 1) // 2)[(k - 1) // 2])


@dataclass(frozen=True)
class CostInputs:
    """What a run's per-site medians are taken of: ``[site, path]`` totals over the horizon and
    per-site rates ``[site]``."""

    btc: FloatArray
    energy_usd: FloatArray
    pool_fee_usd: FloatArray
    revenue_usd: FloatArray
    energy_mwh: FloatArray
    months: FloatArray  # months mined (day-weighted)
    breakeven_rate: FloatArray  # fixed costs per month mined inside the breakeven [USD]
    other_rate: FloatArray  # the rest (stock pay, interest) per month mined [USD]
    dep: FloatArray  # depreciation over the horizon [USD]
    net: FloatArray  # 1 − pool fee


@dataclass(frozen=True)
class SiteMedians:
    """Per site ``[site]``: medians over the paths where it mined (NaN where none did) of its
    cost per BTC (energy, cash, all-in) and breakeven BTC price, the median over paths that drew
    power of its breakeven power price, the path of its lower-median all-in cost (−1 if none),
    its median BTC mined and the share of paths where it mined."""

    energy: FloatArray
    cash: FloatArray
    all_in: FloatArray
    breakeven_btc: FloatArray
    breakeven_power: FloatArray
    median_path: npt.NDArray[np.int64]
    btc: FloatArray
    share_mining: FloatArray


def site_medians_numpy(x: CostInputs) -> SiteMedians:
    """:class:`SiteMedians` by whole-array NumPy; the reference for :func:`site_medians`.

    Parameters
    ----------
    x : CostInputs
        Per-site totals ``[site, path]`` [BTC, USD, MWh] and rates ``[site]``.

    Returns
    -------
    SiteMedians
        Medians per site of the cost per BTC [USD/BTC], the breakevens [USD/BTC, USD/kWh] and the
        BTC mined [BTC].
    """
    btc, energy, pool, mwh, months = x.btc, x.energy_usd, x.pool_fee_usd, x.energy_mwh, x.months
    mined = btc > 0
    inv_btc = np.full(btc.shape, np.nan)  # 1/BTC where the path mined, NaN where it did not
    np.divide(1.0, btc, out=inv_btc, where=mined)
    breakeven_usd = energy + x.breakeven_rate[:, None] * months
    cash_usd = breakeven_usd + pool
    all_in = (cash_usd + x.dep[:, None] + x.other_rate[:, None] * months) * inv_btc
    breakeven_power = np.full(mwh.shape, np.nan)
    np.divide(x.revenue_usd - pool, mwh * 1000.0, out=breakeven_power, where=mwh > 0)

    def med(x: FloatArray) -> FloatArray:
        return np.array([np.nan if m is None else m for m in row_medians(x)])

    paths = [_median_path(all_in[k]) for k in range(btc.shape[0])]
    return SiteMedians(
        energy=med(energy * inv_btc),
        cash=med(cash_usd * inv_btc),
        all_in=med(all_in),
        breakeven_btc=med(breakeven_usd * inv_btc / x.net[:, None]),
        breakeven_power=med(breakeven_power),
        median_path=np.array([-1 if i is None else i for i in paths], dtype=np.int64),
        btc=_medians(btc),
        share_mining=mined.mean(axis=1),
    )


if HAVE_NUMBA:

    @njit(parallel=True, cache=True, nogil=True)
    def _pack_per_btc(
        btc, energy, pool, revenue, mwh, months, be_rate, other_rate, dep, net, out, which, count
    ):  # pragma: no cover - compiled
        # Per site, packed to the front of each row: energy, cash, all-in and breakeven cost per
        # BTC of the paths that mined (count[k, 0] of them, their indices in ``which``), and the
        # breakeven power price of the paths that drew power (count[k, 1]). The same arithmetic,
        # in the same order, as site_medians_numpy.
        n_sites, n = btc.shape
        for k in prange(n_sites):
            m = 0
            mp = 0
            for i in range(n):
                b = btc[k, i]
                if b > 0:
                    inv = 1.0 / b
                    be = energy[k, i] + be_rate[k] * months[k, i]
                    cash = be + pool[k, i]
                    out[0, k, m] = energy[k, i] * inv
                    out[1, k, m] = cash * inv
                    out[2, k, m] = (cash + dep[k] + other_rate[k] * months[k, i]) * inv
                    out[3, k, m] = be * inv / net[k]
                    which[k, m] = i
                    m += 1
                if mwh[k, i] > 0:
                    out[4, k, mp] = (revenue[k, i] - pool[k, i]) / (mwh[k, i] * 1000.0)
                    mp += 1
            count[k, 0] = m
            count[k, 1] = mp


def site_medians(x: CostInputs) -> SiteMedians:
    """:class:`SiteMedians` from one compiled pass per site (parallel over sites).

    The pass packs the per-BTC values of the paths that mined, then NumPy's SIMD selection runs
    per row; the same values as :func:`site_medians_numpy` without its ``[site, path]``
    temporaries.

    Parameters
    ----------
    x : CostInputs
        Per-site totals ``[site, path]`` [BTC, USD, MWh] and rates ``[site]``.

    Returns
    -------
    SiteMedians
        As :func:`site_medians_numpy`.
    """
    if not HAVE_NUMBA:  # pragma: no cover
        return site_medians_numpy(x)
    btc = np.ascontiguousarray(x.btc)
    n_sites, n = btc.shape
    packed = np.empty((5, n_sites, n))
    which = np.empty((n_sites, n), dtype=np.int64)
    count = np.empty((n_sites, 2), dtype=np.int64)
    c = [
        np.ascontiguousarray(getattr(x, name), dtype=np.float64)
        for name in (
            "energy_usd",
            "pool_fee_usd",
            "revenue_usd",
            "energy_mwh",
            "months",
            "breakeven_rate",
            "other_rate",
            "dep",
            "net",
        )
    ]
    pack: Any = _pack_per_btc  # a numba dispatcher: its signature is the function's
    pack(btc, *c, packed, which, count)
    med = np.full((5, n_sites), np.nan)
    path = np.full(n_sites, -1, dtype=np.int64)
    for k in range(n_sites):
        m, mp = int(count[k, 0]), int(count[k, 1])
        if m:
            med[:4, k] = _medians(packed[:4, k, :m])
            all_in = packed[2, k, :m]
            path[k] = which[k, int(np.argpartition(all_in, (m - 1) // 2)[(m - 1) // 2])]
        if mp:
            med[4, k] = _medians(packed[4, k, None, :mp])[0]
    return SiteMedians(
        energy=med[0],
        cash=med[1],
        all_in=med[2],
        breakeven_btc=med[3],
        breakeven_power=med[4],
        median_path=path,
        btc=_medians(btc),
        share_mining=count[:, 0] / n,
    )


def site_results(model: PlanModel, acc: metrics.PathAccumulator) -> list[SiteResult]:
    """Per-site cost per BTC (energy, cash, all-in), cost lines and breakevens.

    Medians over paths, for all sites at once from the ``[site, path]`` totals.

    Parameters
    ----------
    model : PlanModel
        The run's model (sites, parameters).
    acc : PathAccumulator
        The merged accumulator of the run.

    Returns
    -------
    list of SiteResult
        One per site, in the plan's order.
    """
    c = model.plan.company
    v = {
        name: acc.values(name)
        for name in (
            "btc",
            "revenue_usd",
            "pool_fee_usd",
            "energy_usd",
            "energy_mwh",
            "mining_months",
        )
    }
    # Fixed costs are charged for the months each path mined ([site, path]): a site that converts
    # stops carrying its mining opex and its share of corporate costs.
    months, share = v["mining_months"], model.corporate_share
    costs = [site.costs if site is not None else FixedCosts() for site in model.mining_sites]

    def monthly(attr: str, corporate: float = 0.0) -> FloatArray:
        return np.array([getattr(x, attr) for x in costs]) + corporate * share

    rate = {  # USD per month mined, [site]
        "site_opex": monthly("site_opex_usd_per_month"),
        "sga_cash": monthly("sga_cash_usd_per_month", c.sga_cash_usd_per_month),
        "stock_comp": monthly("stock_comp_usd_per_month", c.stock_comp_usd_per_month),
        "interest": monthly("interest_usd_per_month", c.interest_usd_per_month),
    }
    dep = model.depreciation_usd.sum(axis=1)
    med = site_medians(
        CostInputs(
            btc=v["btc"],
            energy_usd=v["energy_usd"],
            pool_fee_usd=v["pool_fee_usd"],
            revenue_usd=v["revenue_usd"],
            energy_mwh=v["energy_mwh"],
            months=months,
            breakeven_rate=rate["site_opex"] + rate["sga_cash"],
            other_rate=rate["stock_comp"] + rate["interest"],
            dep=dep,
            net=1.0 - model.pool_fee,
        )
    )

    def stack(k: int, i: int) -> dict[str, float]:
        """The cost lines of site ``k`` on path ``i``, USD per BTC."""
        per_btc, m = 1.0 / v["btc"][k, i], months[k, i]
        return {
            "energy": float(v["energy_usd"][k, i] * per_btc),
            "site_opex": float(rate["site_opex"][k] * m * per_btc),
            "pool_fees": float(v["pool_fee_usd"][k, i] * per_btc),
            "sga_cash": float(rate["sga_cash"][k] * m * per_btc),
            "depreciation": float(dep[k] * per_btc),
            "stock_comp": float(rate["stock_comp"][k] * m * per_btc),
            "interest": float(rate["interest"][k] * m * per_btc),
        }

    def opt(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    out = []
    for k, (cfg, site) in enumerate(zip(model.plan.sites, model.mining_sites, strict=True)):
        idx = int(med.median_path[k])
        out.append(
            SiteResult(
                name=cfg.name,
                power_capacity_mw=cfg.power_capacity_mw,
                hashrate_eh_s=site.hashrate_th_s / 1e6 if site is not None else 0.0,
                start_month=int(model.start_month[k]),
                cost_usd_per_btc={
                    "energy": opt(med.energy[k]),
                    "cash": opt(med.cash[k]),
                    "all_in": opt(med.all_in[k]),
                },
                stack_usd_per_btc=dict.fromkeys(STACK_LINES) if idx < 0 else stack(k, idx),
                breakeven_btc_price_usd=opt(med.breakeven_btc[k]),
                breakeven_power_usd_per_kwh=opt(med.breakeven_power[k]),
                btc_mined=float(med.btc[k]),
                share_of_paths_mining=float(med.share_mining[k]),
                kind=cfg.type,
            )
        )
    return out
