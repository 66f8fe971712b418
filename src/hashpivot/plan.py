"""The orchestrator: a validated plan → calibrated market model → chunks of paths → results.

Like pvlib's ``ModelChain.run_model``, this is the one place that runs the steps in a fixed order:

1. :func:`build_model` turns the :class:`~hashpivot.config.PlanConfig` into a calibrated
   :class:`~hashpivot.scenarios.MarketModel`, per-site kernel parameters and the deterministic
   schedules (capex, depreciation, fixed costs);
2. :func:`run` simulates the market chunk by chunk (a chunk is a whole number of random-number
   blocks), evaluates all sites in one fused kernel (:mod:`hashpivot.kernels`), consolidates the
   company cash flow and folds per-path results into a :class:`~hashpivot.metrics.PathAccumulator`;
   memory is bounded by the chunk, never by sites × paths × months;
3. the merged accumulator is reduced once into a :class:`PlanResult`: NPV distribution,
   P(cumulative cash < 0), cost per BTC per site, breakevens, fan charts and a tornado.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from . import __version__, metrics, scenarios
from .config import PlanConfig
from .errors import InputError
from .kernels import SiteParams, SiteTotals, site_cashflows
from .site import Site

FloatArray = npt.NDArray[np.float64]
DAYS_PER_MONTH = scenarios.DAYS_PER_MONTH
#: Paths used for the tornado (common random numbers across all its evaluations).
TORNADO_PATHS = 1024
#: Horizons reported in ``p_cash_negative_by_horizon`` (months), where within the plan horizon.
REPORT_HORIZONS = (12, 24, 36, 60, 120)


@dataclass(frozen=True)
class PlanModel:
    """Everything needed to evaluate paths; built once per run."""

    plan: PlanConfig
    market: scenarios.MarketModel
    sites: tuple[Site, ...]
    params: SiteParams
    capex_usd: FloatArray  # [site, month]
    depreciation_usd: FloatArray  # [site, month]
    active_months: FloatArray  # [site]: active months weighted by days / DAYS_PER_MONTH
    corporate_share: FloatArray  # [site]: share of corporate costs (by capacity)

    @property
    def n_months(self) -> int:
        return self.plan.horizon_months

    @property
    def corporate_cash_usd_per_month(self) -> float:
        c = self.plan.company
        return c.sga_cash_usd_per_month + c.interest_usd_per_month


@dataclass(frozen=True)
class Shocks:
    """Ceteris-paribus multipliers for sensitivities (1 = base case)."""

    btc_price: float = 1.0
    network_hashrate: float = 1.0
    power_price: float = 1.0
    fees: float = 1.0
    fleet_efficiency: float = 1.0  # J/TH multiplier: > 1 is a worse fleet
    corporate_sga: float = 1.0


def build_model(plan: PlanConfig) -> PlanModel:
    """Calibrate the market and lay out the sites' parameters and schedules."""
    mc = plan.market
    market = scenarios.calibrate(
        btc_model=mc.btc_model,
        window_start=str(mc.window_start),
        window_end=str(mc.window_end) if mc.window_end else None,
        mu_annual=mc.mu_annual,
        sigma_annual=mc.sigma_annual,
        bootstrap_block_months=mc.bootstrap_block_months,
        antithetic=mc.antithetic,
        stochastic=mc.stochastic,
        power_indices=tuple(
            scenarios.PowerIndex(
                p.name, p.volatility, p.half_life_months, p.escalator_annual, p.corr_btc
            )
            for p in mc.power_indices
        ),
    )
    index_of = {p.name: i for i, p in enumerate(mc.power_indices)}
    n_months = plan.horizon_months
    days = scenarios.month_days(market.start, n_months)
    month = np.arange(n_months)
    sites = tuple(s.to_site() for s in plan.sites)
    n_sites = len(sites)
    factor = np.ones((n_sites, n_months))
    capex = np.zeros((n_sites, n_months))
    dep = np.zeros((n_sites, n_months))
    active_months = np.zeros(n_sites)
    for k, cfg in enumerate(plan.sites):
        active = month >= cfg.start_month
        age_years = np.maximum(
            0.0, (np.cumsum(days) - days / 2) / 365.25 - cfg.start_month * DAYS_PER_MONTH / 365.25
        )
        factor[k] = (1.0 + cfg.efficiency_degradation_per_year) ** (-age_years)
        for c in cfg.capex:
            if c.month < n_months:
                capex[k, c.month] += c.amount_usd
        dep[k] = cfg.depreciation_usd_per_month * active * days / DAYS_PER_MONTH
        for a in cfg.assets:
            life = (month >= cfg.start_month) & (month < cfg.start_month + a.life_months)
            dep[k] += a.cost_usd / a.life_months * life
        active_months[k] = float((active * days).sum() / DAYS_PER_MONTH)
    capacity = np.array([s.power_capacity_mw for s in sites])
    params = SiteParams(
        hashrate_th_s=np.array([s.hashrate_th_s for s in sites]),
        hashrate_factor=factor,
        facility_power_mw=np.array([s.facility_power_mw for s in sites]),
        uptime=np.array([s.uptime for s in sites]),
        pool_fee=np.array([s.pool_fee for s in sites]),
        power_usd_per_mwh=np.array([s.power_usd_per_mwh for s in sites]),
        power_index=np.array(
            [index_of[c.power_index] if c.power_index else -1 for c in plan.sites], dtype=np.int64
        ),
        start_month=np.array([c.start_month for c in plan.sites], dtype=np.int64),
        fixed_usd_per_month=np.array(
            [
                s.costs.site_opex_usd_per_month
                + s.costs.sga_cash_usd_per_month
                + s.costs.interest_usd_per_month
                for s in sites
            ]
        ),
        curtail=np.array([c.curtail_when_unprofitable for c in plan.sites], dtype=np.bool_),
    )
    return PlanModel(
        plan, market, sites, params, capex, dep, active_months, capacity / capacity.sum()
    )


def evaluate(
    model: PlanModel, paths: scenarios.MarketPaths, shocks: Shocks | None = None
) -> tuple[FloatArray, SiteTotals]:
    """Company cash flow ``[path, month]`` and per-site totals for simulated ``paths``."""
    params, price, bpt = model.params, paths.price_usd, paths.btc_per_th_day
    corporate = model.corporate_cash_usd_per_month
    if shocks is not None and shocks != Shocks():
        price = price * shocks.btc_price
        fee_scale = (paths.subsidy_btc + paths.fees_btc_per_block * shocks.fees) / (
            paths.subsidy_btc + paths.fees_btc_per_block
        )
        bpt = bpt / shocks.network_hashrate * fee_scale
        params = replace(
            params,
            power_usd_per_mwh=params.power_usd_per_mwh * shocks.power_price,
            hashrate_th_s=params.hashrate_th_s / shocks.fleet_efficiency,
        )
        c = model.plan.company
        corporate = c.sga_cash_usd_per_month * shocks.corporate_sga + c.interest_usd_per_month
    totals = site_cashflows(params, price, bpt, paths.days, paths.power_index)
    company = (
        totals.cash_usd - corporate * paths.days / DAYS_PER_MONTH - model.capex_usd.sum(axis=0)
    )
    return company, totals


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


@dataclass
class PlanResult:
    """What a run produces; :meth:`summary` is the CLI's ``--json``."""

    plan_name: str
    seed: int
    n_paths: int
    n_months: int
    start_month: str
    npv_values: FloatArray
    npv: dict[str, float]
    p_cash_negative: list[float]  # at month t
    p_cash_negative_ever: list[float]  # at some month <= t
    fans: dict[str, dict[str, list[float]]]
    sites: list[SiteResult]
    tornado: list[dict[str, float | str]]
    calibration: dict[str, Any]
    assumptions: list[dict[str, str]]
    version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)

    def p_cash_negative_by_horizon(self) -> dict[str, float]:
        out = {
            f"{h}m": self.p_cash_negative_ever[h - 1] for h in REPORT_HORIZONS if h <= self.n_months
        }
        out["horizon"] = self.p_cash_negative_ever[-1]
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "plan": self.plan_name,
            "seed": self.seed,
            "paths": self.n_paths,
            "months": self.n_months,
            "start": self.start_month,
            "npv_usd": {k: self.npv[k] for k in ("mean", "p5", "p50", "p95")},
            "npv_usd_stderr": self.npv["stderr"],
            "npv_usd_cvar5": self.npv["cvar5"],
            "p_cash_negative_by_horizon": self.p_cash_negative_by_horizon(),
            "sites": {
                s.name: {
                    "cost_usd_per_btc": s.cost_usd_per_btc,
                    "breakeven_btc_price_usd": s.breakeven_btc_price_usd,
                    "breakeven_power_usd_per_kwh": s.breakeven_power_usd_per_kwh,
                    "btc_mined": s.btc_mined,
                }
                for s in self.sites
            },
        }


ProgressFn = Callable[[int, int], None]


def chunk_blocks(chunk_size: int) -> int:
    """Blocks per chunk; ``chunk_size`` must be a positive multiple of the block size."""
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or chunk_size <= 0
        or (chunk_size % scenarios.PATH_BLOCK)
    ):
        raise InputError(
            "--chunk-size", chunk_size, f"a positive multiple of {scenarios.PATH_BLOCK} paths"
        )
    return chunk_size // scenarios.PATH_BLOCK


def run(
    plan: PlanConfig,
    chunk_size: int = 2048,
    progress: ProgressFn | None = None,
    with_tornado: bool = True,
    model: PlanModel | None = None,
) -> PlanResult:
    """Evaluate ``plan`` over all its paths, ``chunk_size`` paths at a time."""
    blocks_per_chunk = chunk_blocks(chunk_size)
    model = model or build_model(plan)
    n_paths, n_months = plan.paths, plan.horizon_months
    seeds = scenarios.block_seeds(plan.seed, n_paths)
    acc = metrics.PathAccumulator(n_months)
    df = metrics.discount_factors(plan.discount_rate_annual, n_months)
    n_blocks = len(seeds)
    done = 0
    for first_block in range(0, n_blocks, blocks_per_chunk):
        nb = min(blocks_per_chunk, n_blocks - first_block)
        first_path = first_block * scenarios.PATH_BLOCK
        paths = scenarios.simulate(model.market, n_months, seeds, first_block, nb, n_paths)
        company, totals = evaluate(model, paths)
        fold_chunk(acc, model, first_path, paths, company, totals, df)
        done += paths.price_usd.shape[0]
        if progress:
            progress(done, n_paths)
    tornado = _tornado(model, seeds) if with_tornado else []
    return finalise(model, acc, tornado)


def fold_chunk(
    acc: metrics.PathAccumulator,
    model: PlanModel,
    first_path: int,
    paths: scenarios.MarketPaths,
    company: FloatArray,
    totals: SiteTotals,
    df: FloatArray,
) -> None:
    """Reduce one chunk into the accumulator."""
    cum = model.plan.company.cash_usd + np.cumsum(company, axis=1)
    negative = cum < 0
    acc.add_scalars("npv", first_path, company @ df)
    acc.add_count("negative_now", negative.sum(axis=0))
    acc.add_count("negative_ever", np.logical_or.accumulate(negative, axis=1).sum(axis=0))
    for name in ("btc", "revenue_usd", "pool_fee_usd", "energy_usd", "energy_mwh"):
        acc.add_scalars(name, first_path, getattr(totals, name))
    acc.add_fan("btc_price_usd", first_path, paths.price_usd)
    acc.add_fan("hashprice_usd_per_ph_day", first_path, paths.hashprice_usd_per_ph_day)
    acc.add_fan("network_hashrate_eh_s", first_path, paths.hashrate_eh_s)
    acc.add_fan("company_cash_usd", first_path, cum)


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


def _site_results(model: PlanModel, acc: metrics.PathAccumulator) -> list[SiteResult]:
    """Per-site cost per BTC (energy, cash, all-in), cost lines and breakevens as medians over
    paths, for all sites at once as ``[site, path]`` arrays."""
    c = model.plan.company
    v = {
        name: acc.values(name)
        for name in ("btc", "revenue_usd", "pool_fee_usd", "energy_usd", "energy_mwh")
    }
    btc = v["btc"]
    mined = btc > 0
    inv_btc = np.full(btc.shape, np.nan)  # 1/BTC where the path mined, NaN where it did not
    np.divide(1.0, btc, out=inv_btc, where=mined)

    def per(usd: FloatArray) -> FloatArray:
        usd = np.asarray(usd, dtype=np.float64)
        return (usd[:, None] if usd.ndim == 1 else usd) * inv_btc

    months, share = model.active_months, model.corporate_share
    costs = [site.costs for site in model.sites]
    opex = np.array([x.site_opex_usd_per_month for x in costs]) * months
    sga = (
        np.array([x.sga_cash_usd_per_month for x in costs]) + c.sga_cash_usd_per_month * share
    ) * months
    dep = model.depreciation_usd.sum(axis=1)
    sbc = (
        np.array([x.stock_comp_usd_per_month for x in costs]) + c.stock_comp_usd_per_month * share
    ) * months
    interest = (
        np.array([x.interest_usd_per_month for x in costs]) + c.interest_usd_per_month * share
    ) * months
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
    net = 1.0 - model.params.pool_fee[:, None]
    breakeven_btc = per(v["energy_usd"] + opex[:, None] + sga[:, None]) / net
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
    for k, site in enumerate(model.sites):
        idx = _median_path(all_in[k])
        out.append(
            SiteResult(
                name=site.name,
                power_capacity_mw=site.power_capacity_mw,
                hashrate_eh_s=site.hashrate_th_s / 1e6,
                start_month=int(model.params.start_month[k]),
                cost_usd_per_btc={key: med[key][k] for key in ("energy", "cash", "all_in")},
                stack_usd_per_btc={
                    key: None if idx is None else float(arr[k, idx]) for key, arr in stack.items()
                },
                breakeven_btc_price_usd=med["breakeven_btc"][k],
                breakeven_power_usd_per_kwh=med["breakeven_power"][k],
                btc_mined=float(btc_median[k]),
                share_of_paths_mining=float(mined[k].mean()),
            )
        )
    return out


TORNADO_DRIVERS = (
    ("BTC price ±25%", "btc_price", 0.75, 1.25),
    ("network hashrate ±25%", "network_hashrate", 1.25, 0.75),
    ("power price ±25%", "power_price", 1.25, 0.75),
    ("fees ±50%", "fees", 0.5, 1.5),
    ("fleet efficiency (J/TH) ±10%", "fleet_efficiency", 1.1, 0.9),
    ("corporate SG&A ±25%", "corporate_sga", 1.25, 0.75),
)


def _tornado(model: PlanModel, seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Mean NPV with each driver at its low and high value, on the first paths (common random
    numbers), sorted by swing. Low/high are the adverse/favourable settings."""
    n = min(model.plan.paths, TORNADO_PATHS)
    nb = -(-n // scenarios.PATH_BLOCK)
    paths = scenarios.simulate(model.market, model.n_months, seeds, 0, nb, model.plan.paths)
    paths = paths.take(n)
    df = metrics.discount_factors(model.plan.discount_rate_annual, model.n_months)
    base = float((evaluate(model, paths)[0] @ df).mean())
    rows = []
    for label, attr, adverse, favourable in TORNADO_DRIVERS:
        lo = float((evaluate(model, paths, Shocks(**{attr: adverse}))[0] @ df).mean())
        hi = float((evaluate(model, paths, Shocks(**{attr: favourable}))[0] @ df).mean())
        rows.append({"driver": label, "low_npv_usd": lo, "high_npv_usd": hi, "base_npv_usd": base})
    rows.sort(key=lambda r: abs(r["high_npv_usd"] - r["low_npv_usd"]), reverse=True)
    return rows


def finalise(
    model: PlanModel, acc: metrics.PathAccumulator, tornado: list[dict[str, Any]]
) -> PlanResult:
    """Reduce the merged accumulator to the run's results."""
    plan, market = model.plan, model.market
    npv_values = acc.values("npv")
    hr = market.hashrate
    calibration = {
        "start": str(market.start.date()),
        "price0_usd": market.price0_usd,
        "hashrate0_eh_s": market.hashrate0_eh_s,
        "height0": market.height0,
        "btc_model": market.btc_model,
        "mu_annual": market.mu_annual,
        "sigma_annual": market.sigma_annual,
        "hashrate_fit": {
            "a": hr.a,
            "b": hr.b,
            "c": hr.c,
            "sigma": hr.sigma,
            "r2": hr.r2,
            "n": hr.n,
        },
        "fees_fit": {
            "median_share": market.fees.median_share,
            "sd_log": market.fees.sd_log,
            "phi": market.fees.phi,
        },
        "correlation_btc_hashrate_fees": market.correlation.round(4).tolist(),
        "antithetic": market.antithetic,
    }
    return PlanResult(
        plan_name=plan.name,
        seed=plan.seed,
        n_paths=plan.paths,
        n_months=plan.horizon_months,
        start_month=str(market.start.date())[:7],
        npv_values=npv_values,
        npv=metrics.summary(npv_values),
        p_cash_negative=(acc.counts["negative_now"] / plan.paths).tolist(),
        p_cash_negative_ever=(acc.counts["negative_ever"] / plan.paths).tolist(),
        fans={k: metrics.fan(acc.fan_series(k)) for k in acc.fans},
        sites=_site_results(model, acc),
        tornado=tornado,
        calibration=calibration,
        assumptions=list(plan.assumptions),
    )
