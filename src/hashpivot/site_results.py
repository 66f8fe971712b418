"""Per-site reductions of a plan run: cost to mine one BTC, the cost stack and breakevens, as
medians over paths, for all sites at once from ``[site, path]`` totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import metrics
from .site import FixedCosts

if TYPE_CHECKING:
    from .plan import PlanModel

FloatArray = npt.NDArray[np.float64]


@dataclass
class SiteResult:
    """Per-site medians over paths (USD per BTC unless named otherwise)."""

    name: str
    power_capacity_mw: float
    hashrate_eh_s: float
    start_month: int
    cost_usd_per_btc: dict[str, float | None]
    stack_usd_per_btc: dict[str, float | None]  # cost lines of the median all-in path
    breakeven_btc_price_usd: float | None
    breakeven_power_usd_per_kwh: float | None
    btc_mined: float
    share_of_paths_mining: float
    kind: str = "mining"
    conversion: dict[str, Any] = field(default_factory=dict)  # option / converted sites


def row_medians(x: FloatArray) -> list[float | None]:
    """Median of the finite values of each row of ``x`` ``[row, path]`` (None for a row with
    none), in one sort for all rows."""
    finite = np.isfinite(x)
    counts = finite.sum(axis=1)
    n = x.shape[1]
    if np.all(counts == n):  # the usual case: a linear-time partition serves every row
        mid = np.partition(x, [(n - 1) // 2, n // 2], axis=1)
        return [float(v) for v in 0.5 * (mid[:, (n - 1) // 2] + mid[:, n // 2])]
    srt = np.sort(np.where(finite, x, np.inf), axis=1)
    out: list[float | None] = []
    for r, k in enumerate(counts):
        out.append(None if k == 0 else float(0.5 * (srt[r, (k - 1) // 2] + srt[r, k // 2])))
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


def site_results(model: PlanModel, acc: metrics.PathAccumulator) -> list[SiteResult]:
    """Per-site cost per BTC (energy, cash, all-in), cost lines and breakevens as medians over
    paths, for all sites at once as ``[site, path]`` arrays."""
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
    btc = v["btc"]
    mined = btc > 0
    inv_btc = np.full(btc.shape, np.nan)  # 1/BTC where the path mined, NaN where it did not
    np.divide(1.0, btc, out=inv_btc, where=mined)

    def per(usd: FloatArray) -> FloatArray:
        usd = np.asarray(usd, dtype=np.float64)
        return (usd[:, None] if usd.ndim == 1 else usd) * inv_btc

    # Fixed costs are charged for the months each path mined ([site, path]): a site that converts
    # stops carrying its mining opex and its share of corporate costs.
    months, share = v["mining_months"], model.corporate_share[:, None]
    costs = [site.costs if site is not None else FixedCosts() for site in model.mining_sites]

    def monthly(attr: str) -> FloatArray:
        return np.array([getattr(x, attr) for x in costs])[:, None]

    opex = monthly("site_opex_usd_per_month") * months
    sga = (monthly("sga_cash_usd_per_month") + c.sga_cash_usd_per_month * share) * months
    dep = model.depreciation_usd.sum(axis=1)
    sbc = (monthly("stock_comp_usd_per_month") + c.stock_comp_usd_per_month * share) * months
    interest = (monthly("interest_usd_per_month") + c.interest_usd_per_month * share) * months
    stack = {
        "energy": per(v["energy_usd"]),
        "site_opex": per(opex),
        "pool_fees": per(v["pool_fee_usd"]),
        "sga_cash": per(sga),
        "depreciation": per(dep),
        "stock_comp": per(sbc),
        "interest": per(interest),
    }
    cash_c = stack["energy"] + stack["site_opex"] + stack["pool_fees"] + stack["sga_cash"]
    all_in = cash_c + stack["depreciation"] + stack["stock_comp"] + stack["interest"]
    net = 1.0 - model.pool_fee[:, None]
    breakeven_btc = per(v["energy_usd"] + opex + sga) / net
    mwh = v["energy_mwh"]
    breakeven_power = np.where(
        mwh > 0, (v["revenue_usd"] - v["pool_fee_usd"]) / np.where(mwh > 0, mwh, 1) / 1000, np.nan
    )
    med = {
        "energy": row_medians(stack["energy"]),
        "cash": row_medians(cash_c),
        "all_in": row_medians(all_in),
        "breakeven_btc": row_medians(breakeven_btc),
        "breakeven_power": row_medians(breakeven_power),
    }
    btc_median = np.median(btc, axis=1)
    out = []
    for k, (cfg, site) in enumerate(zip(model.plan.sites, model.mining_sites, strict=True)):
        idx = _median_path(all_in[k])
        out.append(
            SiteResult(
                name=cfg.name,
                power_capacity_mw=cfg.power_capacity_mw,
                hashrate_eh_s=site.hashrate_th_s / 1e6 if site is not None else 0.0,
                start_month=int(model.start_month[k]),
                cost_usd_per_btc={key: med[key][k] for key in ("energy", "cash", "all_in")},
                stack_usd_per_btc={
                    key: None if idx is None else float(arr[k, idx]) for key, arr in stack.items()
                },
                breakeven_btc_price_usd=med["breakeven_btc"][k],
                breakeven_power_usd_per_kwh=med["breakeven_power"][k],
                btc_mined=float(btc_median[k]),
                share_of_paths_mining=float(mined[k].mean()),
                kind=cfg.type,
            )
        )
    return out
