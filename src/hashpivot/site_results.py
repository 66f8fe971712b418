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
    """Median of the finite values of each row of ``x`` ``[row, path]`` (None for a row with
    none): one partition for all the rows without gaps, one per other row."""
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

    # Fixed costs are charged for the months each path mined ([site, path]): a site that converts
    # stops carrying its mining opex and its share of corporate costs.
    months, share = v["mining_months"], model.corporate_share[:, None]
    costs = [site.costs if site is not None else FixedCosts() for site in model.mining_sites]

    def monthly(attr: str, corporate: float = 0.0) -> FloatArray:
        return np.array([getattr(x, attr) for x in costs])[:, None] + corporate * share

    rate = {  # USD per month mined, [site, 1]
        "site_opex": monthly("site_opex_usd_per_month"),
        "sga_cash": monthly("sga_cash_usd_per_month", c.sga_cash_usd_per_month),
        "stock_comp": monthly("stock_comp_usd_per_month", c.stock_comp_usd_per_month),
        "interest": monthly("interest_usd_per_month", c.interest_usd_per_month),
    }
    dep = model.depreciation_usd.sum(axis=1)
    energy, pool = v["energy_usd"], v["pool_fee_usd"]
    breakeven_usd = energy + (rate["site_opex"] + rate["sga_cash"]) * months
    cash_usd = breakeven_usd + pool
    all_in = (cash_usd + dep[:, None] + (rate["stock_comp"] + rate["interest"]) * months) * inv_btc

    def stack(k: int, i: int) -> dict[str, float]:
        """The cost lines of site ``k`` on path ``i``, USD per BTC."""
        per_btc, m = inv_btc[k, i], months[k, i]
        return {
            "energy": float(energy[k, i] * per_btc),
            "site_opex": float(rate["site_opex"][k, 0] * m * per_btc),
            "pool_fees": float(pool[k, i] * per_btc),
            "sga_cash": float(rate["sga_cash"][k, 0] * m * per_btc),
            "depreciation": float(dep[k] * per_btc),
            "stock_comp": float(rate["stock_comp"][k, 0] * m * per_btc),
            "interest": float(rate["interest"][k, 0] * m * per_btc),
        }

    net = 1.0 - model.pool_fee[:, None]
    mwh = v["energy_mwh"]
    breakeven_power = np.full(mwh.shape, np.nan)
    np.divide(v["revenue_usd"] - pool, mwh * 1000.0, out=breakeven_power, where=mwh > 0)
    med = {
        "energy": row_medians(energy * inv_btc),
        "cash": row_medians(cash_usd * inv_btc),
        "all_in": row_medians(all_in),
        "breakeven_btc": row_medians(breakeven_usd * inv_btc / net),
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
                stack_usd_per_btc=dict.fromkeys(STACK_LINES) if idx is None else stack(k, idx),
                breakeven_btc_price_usd=med["breakeven_btc"][k],
                breakeven_power_usd_per_kwh=med["breakeven_power"][k],
                btc_mined=float(btc_median[k]),
                share_of_paths_mining=float(mined[k].mean()),
                kind=cfg.type,
            )
        )
    return out
