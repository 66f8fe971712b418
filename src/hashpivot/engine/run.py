"""The orchestrator: a validated plan → calibrated market model → chunks of paths → results.

Like pvlib's ``ModelChain.run_model``, this is the one place that runs the steps in a fixed order:

1. :func:`build_model` turns the :class:`~hashpivot.config.models.PlanConfig` into a calibrated
   :class:`~hashpivot.market.scenarios.MarketModel`, kernel parameters for the plain mining sites,
   models
   of the hosting / GPU / hybrid / option sites (:mod:`hashpivot.engine.special_sites`), and the
   deterministic schedules (capex, depreciation, fixed costs);
2. :func:`run` fits the conversion policy of every option site on a fixed training set of paths,
   then simulates the market chunk by chunk (a chunk is a whole number of random-number blocks),
   evaluates the plain mining sites in one fused kernel (:mod:`hashpivot.sites.kernel`) and the
   other
   sites on whole arrays, consolidates the company cash flow and folds per-path results into a
   :class:`~hashpivot.finance.metrics.PathAccumulator`. Memory is bounded by the chunk, never by
   sites × paths × months;
3. the merged accumulator is reduced once into a :class:`PlanResult`: NPV distribution,
   P(cumulative cash < 0), cost per BTC per site, breakevens, conversion decisions, fan charts and
   a tornado.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import clock
from .._numba import needs_compiling
from ..bitcoin import history
from ..config.models import MarketModelConfig, PlanConfig, PlanSiteConfig
from ..data import catalog, store
from ..data import power_prices as price_data
from ..dispatch import curve
from ..errors import InputError, present
from ..executor import Executor, in_process
from ..finance import company, metrics
from ..finance import lsm as conversion
from ..market import hindcast, scenarios
from ..sites import hardware, hosting
from ..sites.kernel import SiteParams, site_cashflows
from ..sites.site import Site
from ..units import DAYS_PER_MONTH, DAYS_PER_YEAR, FloatArray
from ..workspace import Workspace
from . import special_sites as converted
from .finance import (
    default_results,
    groups_and_finance,
    hedge_strikes,
    site_availability,
    with_finance,
)
from .model import AccKeys, Evaluation, PlanModel, TrainingPaths
from .results import (
    ConversionResults,
    Fan,
    Fans,
    NpvSummary,
    PlanResult,
    Tornado,
    TornadoRow,
)
from .site_results import site_results

#: Paths used for the tornado (common random numbers across all its evaluations).
TORNADO_PATHS = 1024

#: Modules whose numba kernels a plan run compiles (cached on disk after the first run).
PLAN_KERNEL_MODULES = (
    "hashpivot.sites.kernel",
    "hashpivot.market.kernel",
    "hashpivot.finance.company",
    "hashpivot.engine.site_results",
)


def kernels_need_compiling() -> bool:
    """True when a plan run is likely to compile its numba kernels first (about 15 s once)."""
    return needs_compiling(PLAN_KERNEL_MODULES)


#: Horizons reported in ``p_cash_negative_by_horizon`` (months), where within the plan horizon.
TOTALS = ("btc", "revenue_usd", "pool_fee_usd", "energy_usd", "energy_mwh")
#: Per-site, per-path results folded from each chunk (TOTALS and the months each site mined).
SITE_SCALARS = (*TOTALS, "mining_months")


@dataclass(frozen=True)
class Shocks:
    """Ceteris-paribus multipliers for sensitivities (1 = base case)."""

    btc_price: float = 1.0
    network_hashrate: float = 1.0
    power_price: float = 1.0
    fees: float = 1.0
    fleet_efficiency: float = 1.0  # J/TH multiplier: > 1 is a worse fleet
    corporate_sga: float = 1.0


def _mining_params(
    rows: list[tuple[PlanSiteConfig, Site, FloatArray]], index_of: dict[str, int], n_months: int
) -> SiteParams:
    """Kernel parameters of mining sites: ``rows`` of (config, site, degradation by month)."""
    return SiteParams(
        hashrate_th_s=np.array([s.hashrate_th_s for _, s, _ in rows]),
        hashrate_factor=np.array([f for _, _, f in rows]).reshape(len(rows), n_months),
        facility_power_mw=np.array([s.facility_power_mw for _, s, _ in rows]),
        uptime=np.array([s.uptime for _, s, _ in rows]),
        pool_fee=np.array([s.pool_fee for _, s, _ in rows]),
        power_usd_per_mwh=np.array([s.power_usd_per_mwh for _, s, _ in rows]),
        power_index=np.array(
            [index_of[c.power_index] if c.power_index else -1 for c, _, _ in rows], dtype=np.int64
        ),
        start_month=np.array([c.start_month for c, _, _ in rows], dtype=np.int64),
        fixed_usd_per_month=np.array(
            [
                s.costs.site_opex_usd_per_month
                + s.costs.sga_cash_usd_per_month
                + s.costs.interest_usd_per_month
                for _, s, _ in rows
            ]
        ),
        curtail=np.array([c.curtail_when_unprofitable for c, _, _ in rows], dtype=np.bool_),
    )


def _curve(curves: dict[str, Any], market_name: str, field: str, as_of: dt.date | None) -> Any:
    """The dispatch curve of an hourly market (built once per run); a plan placed ``as_of`` a
    day may only read prices that end by it."""
    if market_name not in curves:
        try:
            prices = price_data.hourly_prices(market_name)
        except InputError as exc:
            raise InputError(field, market_name, exc.allowed) from None
        last_local = prices.index_local[-1].date()
        if as_of is not None and last_local > as_of:
            raise InputError(
                field,
                market_name,
                f"prices that end by market.as_of {as_of} (these run to {last_local}; "
                "name a year before it, e.g. ercot:HB_WEST:da:2020)",
            )
        curves[market_name] = curve.dispatch_curve(prices)
    return curves[market_name]


def _bare_special(
    k: int, cfg: PlanSiteConfig, kind: str, n_months: int, start: Any, **kw: Any
) -> Any:
    """A special site with no conversion, lease or GPUs, on the calendar months from
    ``start`` (what its dispatch curve is read by)."""
    return converted.SpecialSite(
        index=k,
        name=cfg.name,
        kind=kind,
        share=0.0,
        start_month=0,
        latest_month=n_months - 1,
        fixed_month=0,
        project=None,
        gpu=None,
        gpu_facility_capex_usd=0.0,
        gpu_lead_time_months=0,
        base_rent_usd_per_kw_month=0.0,
        rent_index=-1,
        rate_index=-1,
        pa=0.0,
        pb=0.0,
        month_of_year=(np.arange(n_months) + start.month - 1) % 12,
        **kw,
    )


def _flexible_site(
    k: int,
    cfg: PlanSiteConfig,
    mining: SiteParams,
    index_of: dict[str, int],
    curves: dict[str, Any],
    start: Any,
    n_months: int,
    as_of: dt.date | None,
) -> converted.SpecialSite:
    """A mining site whose contract resells at an hourly market (and/or is paid for demand
    response); a plan placed ``as_of`` a day may only read prices that end by it."""
    sb = present(cfg.sell_back, f"sites[{k}].sell_back")
    market_curve = (
        _curve(curves, sb.power_market, f"sites[{k}].sell_back.power_market", as_of)
        if sb.power_market is not None
        else None
    )
    flex = converted.FlexTerms(
        power_usd_per_mwh=cfg.power_usd_per_mwh,
        power_index=index_of[cfg.power_index] if cfg.power_index else -1,
        export_share=sb.export_share,
        resale_cost_usd_per_mwh=sb.resale_cost_usd_per_mwh,
        take_or_pay=sb.take_or_pay,
        demand_response_usd_per_mw_month=sb.demand_response_usd_per_mw_month,
        demand_response_curtailed_share=sb.demand_response_curtailed_share,
        facility_mw=cfg.power_capacity_mw,
    )
    return _bare_special(
        k,
        cfg,
        "flexible_mining",
        n_months,
        start,
        mining=mining,
        curve=market_curve,
        flex=flex,
    )


def _no_load_site(
    k: int,
    cfg: PlanSiteConfig,
    index_of: dict[str, int],
    curves: dict[str, Any],
    start: Any,
    n_months: int,
    as_of: dt.date | None,
) -> converted.SpecialSite:
    """A site running no load: fixed costs and (perhaps) its energy sold."""
    t = present(cfg.no_load, f"sites[{k}].no_load")
    sale = t.power_sale
    market_curve = None
    if sale is not None and sale.power_market is not None:
        field = f"sites[{k}].no_load.power_sale.power_market"
        market_curve = _curve(curves, sale.power_market, field, as_of)
    terms = converted.NoLoadTerms(
        fixed_usd_per_month=cfg.site_opex_usd_per_mw_month * cfg.power_capacity_mw
        + cfg.sga_cash_usd_per_month
        + cfg.interest_usd_per_month,
        end_month=n_months if t.end_month is None else t.end_month,
        sale_mw=0.0 if sale is None else (sale.mw or cfg.power_capacity_mw),
        contract_usd_per_mwh=cfg.power_usd_per_mwh,
        contract_index=index_of[cfg.power_index] if cfg.power_index else -1,
        sale_price_usd_per_mwh=None if sale is None else sale.price_usd_per_mwh,
        resale_cost_usd_per_mwh=0.0 if sale is None else sale.resale_cost_usd_per_mwh,
        take_or_pay=False if sale is None else sale.take_or_pay,
    )
    return _bare_special(
        k,
        cfg,
        "no_load",
        n_months,
        start,
        mining=None,
        curve=market_curve,
        no_load=terms,
    )


def _market_site(
    k: int,
    cfg: PlanSiteConfig,
    mining: SiteParams,
    curves: dict[str, Any],
    start: Any,
    n_months: int,
    as_of: dt.date | None = None,
) -> converted.SpecialSite:
    """A mining site on hourly market power, with the dispatch curve of its market; a plan
    placed ``as_of`` a day may only read prices that end by it."""
    market_name = present(cfg.power_market, f"sites[{k}].power_market")
    market_curve = _curve(curves, market_name, f"sites[{k}].power_market", as_of)
    return _bare_special(
        k, cfg, "market_mining", n_months, start, mining=mining, curve=market_curve
    )


def _special_site(
    k: int,
    cfg: PlanSiteConfig,
    mining: SiteParams | None,
    index_of: dict[str, int],
    n_months: int,
    monthly_discount: float,
) -> converted.SpecialSite:
    """The model of a hosting / GPU / hybrid / option site."""
    field_path = f"sites[{k}]"
    c = present(cfg.conversion, f"{field_path}.conversion")
    it_mw = hosting.critical_it_mw(cfg.power_capacity_mw, c.ai_pue, c.share)
    capex = it_mw * c.capex_usd_per_mw_it
    project, gpu, pa, pb, rent, rent_index = None, None, 0.0, 0.0, 0.0, -1
    if cfg.lease is not None:
        lease = cfg.lease
        terms = hosting.LeaseTerms(**lease.model_dump(exclude={"rent_index"}))
        project = hosting.ConversionProject(
            it_mw, capex, c.lead_time_months, c.ramp_months, terms, c.ai_pue, cfg.power_usd_per_mwh
        )
        pa, pb = project.present_value_coefficients(monthly_discount)
        rent = lease.rent_usd_per_kw_month
        rent_index = index_of[lease.rent_index] if lease.rent_index else -1
    rate_index = -1
    if cfg.gpu_cloud is not None:
        g = cfg.gpu_cloud
        spec = hardware.gpu_catalogue().loc[g.gpu_model]
        tdp, price = float(spec.at["tdp_w"]), g.gpu_price_usd
        if not np.isfinite(tdp):
            raise InputError(
                f"{field_path}.gpu_cloud.gpu_model",
                g.gpu_model,
                "a GPU whose power (TDP) the catalogue knows",
            )
        if price is None:
            price = float(spec.at["msrp_usd_approx"])
            if not np.isfinite(price):
                raise InputError(
                    f"{field_path}.gpu_cloud.gpu_price_usd",
                    None,
                    f"a price: the catalogue has none for {g.gpu_model}",
                )
        gpu = hosting.GpuCloud(
            it_mw=it_mw,
            gpu_tdp_w=tdp,
            gpu_price_usd=price,
            rate_usd_per_gpu_hour=g.rate_usd_per_gpu_hour,
            utilisation=g.utilisation,
            life_months=g.life_months,
            rate_decline_annual=g.rate_decline_annual,
            server_overhead=g.server_overhead,
            system_multiplier=g.system_multiplier,
            ai_pue=c.ai_pue,
            power_usd_per_mwh=cfg.power_usd_per_mwh,
            opex_usd_per_gpu_month=g.opex_usd_per_gpu_month,
        )
        rate_index = index_of[g.rate_index] if g.rate_index else -1
    latest = c.latest_month if c.latest_month is not None else n_months - 1
    return converted.SpecialSite(
        index=k,
        name=cfg.name,
        kind=cfg.type,
        mining=mining,
        share=c.share,
        start_month=c.start_month,
        latest_month=min(latest, n_months - 1),
        fixed_month=c.fixed_month,
        project=project,
        gpu=gpu,
        gpu_facility_capex_usd=capex if gpu is not None else 0.0,
        gpu_lead_time_months=c.lead_time_months,
        base_rent_usd_per_kw_month=rent,
        rent_index=rent_index,
        rate_index=rate_index,
        pa=pa,
        pb=pb,
    )


def market_calibration(mc: MarketModelConfig) -> dict[str, Any]:
    """The plan's choice of market model as arguments of
    :func:`hashpivot.market.scenarios.calibrate` (all but the day, the shocks switch and the
    price indices): what ``hashpivot run`` simulates and ``hashpivot backtest`` scores.

    Parameters
    ----------
    mc : MarketModelConfig
        A plan's ``market`` section.

    Returns
    -------
    dict
        Keyword arguments of ``calibrate``.
    """
    return {
        "btc_model": mc.btc_model,
        "window_start": str(mc.window_start),
        "window_end": str(mc.window_end) if mc.window_end else None,
        "drift": mc.drift,
        "mu_annual": mc.mu_annual,
        "sigma_annual": mc.sigma_annual,
        "bootstrap_block_months": mc.bootstrap_block_months,
        "hashrate_window_start": str(mc.hashrate_window_start),
        "fee_window_start": str(mc.fee_window_start),
        "fee_mean_months": mc.fee_mean_months,
        "antithetic": mc.antithetic,
    }


def calibrate_market(mc: MarketModelConfig) -> scenarios.MarketModel:
    """The market model of a plan's ``market`` section, calibrated on the data up to its day.

    Parameters
    ----------
    mc : MarketModelConfig
        A plan's ``market`` section.

    Returns
    -------
    MarketModel
        What :func:`build_model` simulates (plans with equal sections share one).
    """
    return scenarios.calibrate(
        **market_calibration(mc),
        as_of=str(mc.as_of) if mc.as_of else None,
        stochastic=mc.stochastic,
        indices=tuple(
            scenarios.PriceIndex(
                p.name, p.volatility, p.half_life_months, p.escalator_annual, p.corr_btc
            )
            for p in mc.indices
        ),
    )


def build_model(plan: PlanConfig, market: scenarios.MarketModel | None = None) -> PlanModel:
    """Calibrate the market and lay out the sites' parameters and schedules.

    Parameters
    ----------
    plan : PlanConfig
        A validated plan (from :func:`hashpivot.config.models.load_plan`).
    market : MarketModel or None
        A market already calibrated for ``plan.market`` (the decision builds many one-site
        models on one market); ``None`` calibrates it.

    Returns
    -------
    PlanModel
        The calibrated market, each site's kernel parameters and monthly schedules, and the
        special (hosting, hourly-market, conversion-option) sites.
    """
    mc = plan.market
    market = market or calibrate_market(mc)
    index_of = {p.name: i for i, p in enumerate(mc.indices)}
    n_months = plan.horizon_months
    days = scenarios.month_days(market.start, n_months)
    month = np.arange(n_months)
    n_sites = len(plan.sites)
    mining_sites: list[Site | None] = []
    for cfg in plan.sites:
        if not cfg.fleet:
            mining_sites.append(None)
        elif cfg.type == "hybrid":
            share = present(cfg.conversion, "conversion").share
            mining_sites.append(cfg.to_site(capacity_share=1.0 - share))
        else:
            mining_sites.append(cfg.to_site())
    factor = np.ones((n_sites, n_months))
    capex = np.zeros((n_sites, n_months))
    dep = np.zeros((n_sites, n_months))
    active_months = np.zeros(n_sites)
    for k, cfg in enumerate(plan.sites):
        active = month >= cfg.start_month
        age_years = np.maximum(
            0.0,
            (np.cumsum(days) - days / 2) / DAYS_PER_YEAR
            - cfg.start_month * DAYS_PER_MONTH / DAYS_PER_YEAR,
        )
        # Hashrate left per unit of power: the inverse of the efficiency's worsening with age.
        factor[k] = 1.0 / hardware.degraded_efficiency_j_per_th(
            1.0, age_years, cfg.efficiency_degradation_per_year
        )
        for c in cfg.capex:
            if c.month < n_months:
                capex[k, c.month] += c.amount_usd
        for r in cfg.proceeds:  # receipts net against the month's capex
            if r.month < n_months:
                capex[k, r.month] -= r.amount_usd
        dep[k] = cfg.depreciation_usd_per_month * active * days / DAYS_PER_MONTH
        for a in cfg.assets:  # straight line from the site's start month
            dep[k, cfg.start_month :] += hardware.straight_line_depreciation(
                a.cost_usd, a.life_months, n_months - cfg.start_month
            )
        active_months[k] = float((active * days).sum() / DAYS_PER_MONTH)
    plain = np.array(
        [
            k
            for k, c in enumerate(plan.sites)
            if c.type == "mining" and c.power_market is None and c.sell_back is None
        ],
        dtype=np.int64,
    )
    params = _mining_params(
        [(plan.sites[k], present(mining_sites[k], f"sites[{k}].fleet"), factor[k]) for k in plain],
        index_of,
        n_months,
    )
    group, availability, tax, variants, hedge = groups_and_finance(
        plan, plain, mining_sites, n_months, days, market.start
    )
    params = replace(params, group=group, availability=availability)
    co = plan.company.co_investor
    if co is not None:  # the co-investor funds its share of those sites' capex
        for k, cfg in enumerate(plan.sites):
            if cfg.name in co.sites:
                capex[k] *= 1.0 - co.share
    if variants is not None:
        market = replace(market, n_events=2 * tax.shape[0])
    monthly_discount = (1.0 + plan.discount_rate_annual) ** (-1.0 / 12.0)
    curves: dict[str, Any] = {}
    special_sites = []
    for k, cfg in enumerate(plan.sites):
        if k in plain:
            continue
        site_k = mining_sites[k]
        one = (
            replace(
                _mining_params([(cfg, site_k, factor[k])], index_of, n_months),
                # embargo and rationing act on every fleet, not only the plain sites'
                availability=site_availability(plan, cfg.jurisdiction, days, market.start)[None],
            )
            if site_k is not None
            else None
        )
        if cfg.type == "mining" and cfg.sell_back is not None:
            mined = present(one, f"sites[{k}].fleet")
            special_sites.append(
                _flexible_site(
                    k, cfg, mined, index_of, curves, market.start, n_months, plan.market.as_of
                )
            )
        elif cfg.type == "mining":  # on market power: a mining site always has a fleet
            mined = present(one, f"sites[{k}].fleet")
            special_sites.append(
                _market_site(k, cfg, mined, curves, market.start, n_months, plan.market.as_of)
            )
        elif cfg.type == "no_load":
            special_sites.append(
                _no_load_site(k, cfg, index_of, curves, market.start, n_months, plan.market.as_of)
            )
        else:
            special_sites.append(_special_site(k, cfg, one, index_of, n_months, monthly_discount))
    special = tuple(special_sites)
    capacity = np.array([c.power_capacity_mw for c in plan.sites])
    return PlanModel(
        plan=plan,
        market=market,
        mining_sites=tuple(mining_sites),
        params=params,
        plain=plain,
        special=special,
        pool_fee=np.array([s.pool_fee if s else 0.0 for s in mining_sites]),
        start_month=np.array([c.start_month for c in plan.sites], dtype=np.int64),
        capex_usd=capex,
        depreciation_usd=dep,
        active_months=active_months,
        corporate_share=capacity / capacity.sum(),
        variants=variants,
        tax_factor=tax,
        hedge_notional_ph=hedge,
    )


def _shocked(params: SiteParams, shocks: Shocks) -> SiteParams:
    return replace(
        params,
        power_usd_per_mwh=params.power_usd_per_mwh * shocks.power_price,
        hashrate_th_s=params.hashrate_th_s / shocks.fleet_efficiency,
    )


def evaluate(
    model: PlanModel,
    paths: scenarios.MarketPaths,
    shocks: Shocks | None = None,
    policies: dict[str, conversion.LsmPolicy] | None = None,
    strikes: FloatArray | None = None,
    workspace: Workspace | None = None,
) -> Evaluation:
    """Company cash flow and per-site results for simulated ``paths``.

    With company finance, the cash flow to equity after treasury, debt, hedges and jurisdictions.
    With a ``workspace`` (the run loop's) the ``[path, month]`` results are valid until the next
    chunk.

    Parameters
    ----------
    model : PlanModel
        From :func:`build_model`.
    paths : MarketPaths
        Simulated market paths ``[path, month]``.
    shocks : Shocks or None
        Multipliers of the tornado's one-way stresses; ``None`` for none.
    policies : dict of str to LsmPolicy or None
        Fitted conversion policy of each option site (from :func:`fit_policies`).
    strikes : numpy.ndarray of float or None
        Hedge strike per month [USD/BTC] (from :func:`~hashpivot.engine.finance.hedge_strikes`).
    workspace : Workspace or None
        Reusable arrays; ``None`` allocates.

    Returns
    -------
    Evaluation
        Company cash flow [USD] per ``[path, month]``, site totals and special-site outcomes.
    """
    corporate = model.corporate_cash_usd_per_month
    params = model.params
    special = model.special
    if shocks is not None and shocks != Shocks():
        fee_scale = (paths.subsidy_btc + paths.fees_btc_per_block * shocks.fees) / (
            paths.subsidy_btc + paths.fees_btc_per_block
        )
        paths = replace(
            paths,
            price_usd=paths.price_usd * shocks.btc_price,
            btc_per_th_day=paths.btc_per_th_day / shocks.network_hashrate * fee_scale,
        )
        params = _shocked(params, shocks)
        special = tuple(
            replace(s, mining=_shocked(s.mining, shocks)) if s.mining else s for s in special
        )
        c = model.plan.company
        corporate = c.sga_cash_usd_per_month * shocks.corporate_sga + c.interest_usd_per_month
    n, n_months = paths.price_usd.shape
    n_sites = len(model.plan.sites)
    fixed = corporate * paths.days / DAYS_PER_MONTH + model.capex_usd.sum(axis=0)
    if model.plain.size:
        plain = site_cashflows(
            params,
            paths.price_usd,
            paths.btc_per_th_day,
            paths.days,
            paths.index_values,
            workspace,
            groups=model.variants is not None,  # company finance reads the groups
        )
        cash = plain.cash_usd  # the kernel's own array: consolidate in place
        cash -= fixed[None, :]
        if model.plain.size == n_sites:
            totals = {name: getattr(plain, name) for name in TOTALS}
        else:
            totals = {name: np.zeros((n_sites, n)) for name in TOTALS}
            for name in TOTALS:
                totals[name][model.plain] = getattr(plain, name)
    else:
        cash = np.broadcast_to(-fixed, (n, n_months)).copy()
        totals = {name: np.zeros((n_sites, n)) for name in TOTALS}
    # Months each site mined (day-weighted): fixed for plain sites, per path for converting ones.
    plain_months = np.where(np.isin(np.arange(n_sites), model.plain), model.active_months, 0.0)
    totals["mining_months"] = np.repeat(plain_months[:, None], n, axis=1)
    tail = np.zeros(n)
    outcomes = []
    for site in special:
        policy = (policies or {}).get(site.name)
        out = converted.evaluate_special(site, paths, model.monthly_discount, policy)
        cash += out.cash_usd
        tail += out.tail_usd
        if out.mining is not None:
            for name in TOTALS:
                totals[name][site.index] = getattr(out.mining, name)[0]
        totals["mining_months"][site.index] = out.mining_months
        outcomes.append(out)
    if model.variants is None:
        return Evaluation(cash, tail, totals, outcomes)
    return with_finance(
        model,
        paths,
        plain if model.plain.size else None,
        cash,
        tail,
        totals,
        outcomes,
        fixed,
        strikes,
        workspace,
    )


def fit_policies(model: PlanModel, train: TrainingPaths) -> dict[str, conversion.LsmPolicy]:
    """Fit each option site's conversion policy on the run's training paths.

    A fixed set of paths, so the fit does not depend on chunking.

    Parameters
    ----------
    model : PlanModel
        From :func:`build_model`.
    train : TrainingPaths
        The run's training paths (simulated once).

    Returns
    -------
    dict of str to LsmPolicy
        The policy of each site with a conversion option, by site name.

    References
    ----------
    .. [1] F. A. Longstaff and E. S. Schwartz, "Valuing American options by simulation: a simple
       least-squares approach", *Rev. Financ. Stud.* 14(1), 113–147 (2001).
    """
    options = [s for s in model.special if s.kind == "option_to_convert"]
    if not options:
        return {}
    paths = train.paths()
    return {s.name: converted.fit_option_policy(s, paths, model.monthly_discount) for s in options}


def market_assumptions(model: PlanModel) -> dict[str, Any]:
    """The market a run starts from and the drift and discount rules it uses.

    Every choice a reader should know about carries a flag (a history-estimated drift above all).

    Parameters
    ----------
    model : PlanModel
        From :func:`build_model`.

    Returns
    -------
    dict
        ``data_end``, ``data_used`` (file and SHA-256 of every dataset read),
        ``data_last_dates`` (each daily column's last day), ``today`` (pinned by
        ``HASHPIVOT_TODAY``), ``data_age_months``,
        ``start_month``, ``start_btc_price_usd`` [USD], ``start_hashrate_eh_s``
        [EH/s], ``btc_model``, ``mu_annual`` [1/yr], ``sigma_annual`` [1/√yr], the drift rule
        (and its text), ``stochastic``, ``discount_rate_annual`` [1/yr], ``backtest`` (the
        model's out-of-sample coverage at 12 and 24 months, :func:`hindcast.honesty`, or
        ``None``) with ``backtest_text``, and the flags (a fan that missed its goal among them).
    """
    market, plan = model.market, model.plan
    flags = []
    if market.drift_rule == "historical":
        flags.append(
            f"BTC drift estimated from history: {market.mu_annual:.1%}/yr "
            f"(window from {plan.market.window_start}); the median price grows "
            f"{np.expm1(market.mu_annual - market.sigma_annual**2 / 2):.0%} a year"
        )
    today = clock.today()
    as_of = plan.market.as_of
    if as_of is not None:
        flags.append(
            f"as of {as_of.isoformat()}, a past day ({clock.months_between(as_of, today)} months "
            f"before today, {today.isoformat()}): the plan reads no data after it"
        )
    elif market.data_end is not None:
        age = clock.data_age_note(market.data_end.date(), today)
        if age is not None:
            flags.append(age)
    backtest = hindcast.honesty(hindcast.published_scores(market_calibration(plan.market)))
    if backtest is not None:
        missed = [
            f"{p.replace('_', ' ')} {rate:.0%} at {h} m"
            for p in hindcast.HONESTY_PROCESSES
            for h, rate in backtest["coverage_90"][p].items()
            if not 0.85 <= rate <= 0.95
        ]
        if missed:
            flags.append(
                "fans out of line out of sample — share of realised values inside the 90% band "
                f"in the backtest (goal 85–95%): {', '.join(missed)}"
            )
    rules = {
        "median_flat": "median_flat (μ = σ²/2: the median BTC price stays at the start price)",
        "historical": "historical (estimated from the window; flagged)",
        "explicit": "explicit (the plan's mu_annual)",
    }
    files = [*history.DAILY_FILES, "btc_difficulty_epochs.csv"]
    for name in sorted({s.power_market for s in plan.sites if s.power_market is not None}):
        files += [f for f in price_data.market_files(name) if f not in files]
    last = history.column_last_dates()
    data_used = {}
    for f in files:
        dataset = catalog.dataset_of_file(f)
        data_used[dataset] = {"file": f, "sha256": catalog.file_sha256(dataset)}
    local = [history.LOCAL_DAILY, *store.names("fx")]
    markets = {s.power_market for s in plan.sites if s.power_market is not None}
    local += sorted(m for m in markets if m.startswith("user:"))
    for name in local:  # the local store's datasets this run read, by version
        v = store.current(name)
        if v is not None:
            data_used[name] = {"file": v["path"], "sha256": v["sha256"], "layer": "local"}
    return {
        "data_end": str(market.data_end.date()) if market.data_end is not None else None,
        "data_used": data_used,
        "data_last_dates": {k: v.isoformat() for k, v in last.items()},
        "today": today.isoformat(),
        "data_age_months": (
            None if market.data_end is None else clock.months_between(market.data_end.date(), today)
        ),
        "as_of": str(market.data_end.date()) if market.data_end is not None else None,
        "start": str(market.start.date()),
        "start_month": str(market.start.date())[:7],
        "start_btc_price_usd": market.price0_usd,
        "start_hashrate_eh_s": market.hashrate0_eh_s,
        "btc_model": market.btc_model,
        "mu_annual": market.mu_annual,
        "sigma_annual": market.sigma_annual,
        "drift_rule": market.drift_rule,
        "drift_rule_text": rules[market.drift_rule],
        "stochastic": plan.market.stochastic,
        "discount_rate_annual": plan.discount_rate_annual,
        "backtest": backtest,
        "backtest_text": (
            backtest["text"]
            if backtest is not None
            else "this market model is not among the backtested ones shipped: "
            "run `hashpivot backtest PLAN` to score it"
        ),
        "flags": flags,
    }


ProgressFn = Callable[[int, int], None]


def _physical_memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 16 * 2**30


#: Memory a run may plan to use unless told otherwise [bytes]: 16 GiB or 70% of this machine's
#: memory, whichever is less.
DEFAULT_MEMORY_BUDGET_BYTES = min(16 * 2**30, int(0.7 * _physical_memory_bytes()))
#: What a run holds besides its paths [bytes]: interpreter, libraries, compiled kernels, data.
BASE_MEMORY_BYTES = 600 * 2**20


def _memory_terms(plan: PlanConfig, chunk_size: int) -> tuple[int, int]:
    """(bytes per path, bytes of one chunk's arrays) of :func:`memory_estimate_bytes`."""
    n_sites = len(plan.sites)
    special = sum(1 for s in plan.sites if s.type != "mining" or s.power_market is not None)
    options = sum(1 for s in plan.sites if s.type == "option_to_convert")
    finance = plan.company.has_finance or bool(plan.jurisdictions)
    values = len(SITE_SCALARS) * n_sites + 2 + special + 4 * options
    if finance:
        values += 2 + len(company.FLOWS)
    per_path_month = 16 + len(plan.market.indices) + (3 * len(company.FLOWS) if finance else 0)
    chunk = min(chunk_size, plan.paths) * plan.horizon_months * per_path_month * 8
    return values * 8 * 3, chunk


def memory_estimate_bytes(plan: PlanConfig, chunk_size: int = 2048) -> int:
    """Peak memory a run of ``plan`` needs, from what it keeps per path.

    Per path the accumulators keep every site's totals (:data:`SITE_SCALARS`), the NPV, and with
    company finance the shortfall and every flow total; special sites add their conversion month
    and policy values. Each is held about three times at the peak (chunk lists, the merged arrays,
    the store's copy): 8 bytes × 3 per value. A chunk adds its ``[path, month]`` arrays. BitRiver
    (31 sites) needs 4.8 KB per path by this rule, against ~4.6 KB measured at 1M paths (5.3 GB
    peak).

    Parameters
    ----------
    plan : PlanConfig
        A validated plan.
    chunk_size : int
        Paths simulated at a time [-].

    Returns
    -------
    int
        The estimate [byte].
    """
    per_path, chunk = _memory_terms(plan, chunk_size)
    return int(BASE_MEMORY_BYTES + plan.paths * per_path + chunk)


def check_memory(
    plan: PlanConfig,
    chunk_size: int = 2048,
    budget_bytes: int | None = None,
    how_to_raise: str = "max_memory_bytes",
) -> int:
    """The memory estimate of a run, if it fits the budget.

    Parameters
    ----------
    plan : PlanConfig
        A validated plan.
    chunk_size : int
        Paths simulated at a time [-].
    budget_bytes : int or None
        Memory allowed [byte]; ``None`` uses :data:`DEFAULT_MEMORY_BUDGET_BYTES` (16 GiB or 70% of
        the machine's memory, whichever is less).
    how_to_raise : str
        The flag or field named in the error as the way to raise the budget.

    Returns
    -------
    int
        The estimate of :func:`memory_estimate_bytes` [byte].

    Raises
    ------
    InputError
        The estimate exceeds the budget; the error gives the estimate and the most paths that fit.
    """
    budget = DEFAULT_MEMORY_BUDGET_BYTES if budget_bytes is None else int(budget_bytes)
    need = memory_estimate_bytes(plan, chunk_size)
    if need > budget:
        per_path, chunk = _memory_terms(plan, chunk_size)
        fit = max(0, (budget - BASE_MEMORY_BYTES - chunk) // per_path)
        raise InputError(
            "paths",
            plan.paths,
            f"a run within the memory budget of {budget / 2**30:.1f} GiB: this one needs about "
            f"{need / 2**30:.1f} GiB ({plan.paths:,} paths × {plan.horizon_months} months × "
            f"{len(plan.sites)} sites); at most about {fit:,} paths fit, or raise the budget "
            f"with {how_to_raise}",
        )
    return need


def chunk_blocks(chunk_size: int) -> int:
    """Blocks of :data:`PATH_BLOCK` paths per chunk.

    Parameters
    ----------
    chunk_size : int
        Paths per chunk [-]; a positive multiple of the block size.

    Returns
    -------
    int
        ``chunk_size // PATH_BLOCK`` [-].

    Raises
    ------
    InputError
        ``chunk_size`` is not a positive multiple of the block size.
    """
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or chunk_size <= 0
        or (chunk_size % scenarios.PATH_BLOCK)
    ):
        raise InputError(
            "chunk_size", chunk_size, f"a positive multiple of {scenarios.PATH_BLOCK} paths"
        )
    return chunk_size // scenarios.PATH_BLOCK


#: Tasks per worker when a run's paths are spread over a cluster: enough for the scheduler to
#: balance uneven workers, few enough that each task's compute dwarfs its overhead.
TASKS_PER_WORKER = 4


class PathJob:
    """What every path task of one run shares: sent to each worker once (scattered).

    Parameters
    ----------
    model : PlanModel
        From :func:`build_model`.
    seeds : list of numpy.random.SeedSequence
        One per block of :data:`~hashpivot.market.scenarios.PATH_BLOCK` paths
        (:func:`~hashpivot.market.scenarios.block_seeds`): a block's numbers depend on its index
        only, never on the task or the worker that draws them.
    policies : dict of str to LsmPolicy
        The conversion policies fitted on the training paths.
    strikes : numpy.ndarray or None
        Hedge strikes fitted on the training paths.
    blocks_per_chunk : int
        Blocks simulated at a time inside a task [-] (bounds a worker's memory).
    """

    def __init__(
        self,
        model: PlanModel,
        seeds: list[np.random.SeedSequence],
        policies: dict[str, conversion.LsmPolicy],
        strikes: FloatArray | None,
        blocks_per_chunk: int,
    ) -> None:
        self.model = model
        self.seeds = seeds
        self.policies = policies
        self.strikes = strikes
        self.blocks_per_chunk = blocks_per_chunk
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_local"]  # scratch arrays stay where they were made
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def workspace(self) -> Workspace:
        """This thread's scratch arrays, reused by every task this thread runs."""
        ws = getattr(self._local, "workspace", None)
        if ws is None:
            ws = self._local.workspace = Workspace()
        return ws


def evaluate_blocks(job: PathJob, first_block: int, n_blocks: int) -> metrics.PathAccumulator:
    """One task of a run: simulate and evaluate blocks ``first_block …`` chunk by chunk.

    Parameters
    ----------
    job : PathJob
        The run's shared inputs.
    first_block : int
        Index of the task's first block [-].
    n_blocks : int
        Blocks in the task [-].

    Returns
    -------
    PathAccumulator
        The task's paths folded (merged by the caller with :meth:`PathAccumulator.merge`).
    """
    model = job.model
    plan = model.plan
    acc = metrics.PathAccumulator(model.n_months)
    df = metrics.discount_factors(plan.discount_rate_annual, model.n_months)
    workspace = job.workspace()
    end = first_block + n_blocks
    for block in range(first_block, end, job.blocks_per_chunk):
        nb = min(job.blocks_per_chunk, end - block)
        paths = scenarios.simulate(
            model.market, model.n_months, job.seeds, block, nb, plan.paths, workspace
        )
        ev = evaluate(model, paths, None, job.policies, job.strikes, workspace)
        fold_chunk(acc, model, block * scenarios.PATH_BLOCK, paths, ev, df)
    return acc


def path_tasks(n_blocks: int, blocks_per_chunk: int, workers: int) -> list[tuple[int, int]]:
    """``(first_block, n_blocks)`` of each task of a run.

    In this process (``workers == 1``) a task is one chunk, so progress follows the chunks; on a
    cluster, :data:`TASKS_PER_WORKER` tasks per worker of whole chunks each.

    Parameters
    ----------
    n_blocks : int
        Blocks in the run [-].
    blocks_per_chunk : int
        Blocks per chunk [-].
    workers : int
        Workers the tasks are spread over [-].

    Returns
    -------
    list of tuple of (int, int)
        Contiguous, covering every block once.
    """
    per_task = blocks_per_chunk
    if workers > 1:
        want = -(-n_blocks // (workers * TASKS_PER_WORKER))
        per_task = max(1, -(-want // blocks_per_chunk)) * blocks_per_chunk
    return [(b, min(per_task, n_blocks - b)) for b in range(0, n_blocks, per_task)]


def run(
    plan: PlanConfig,
    chunk_size: int = 2048,
    progress: ProgressFn | None = None,
    with_tornado: bool = True,
    model: PlanModel | None = None,
    executor: Executor | None = None,
) -> PlanResult:
    """Evaluate ``plan`` over all its paths, ``chunk_size`` paths at a time.

    The market is simulated block by block from per-block seeds, so the result does not depend on
    ``chunk_size``, nor on how the blocks are spread over tasks and workers, nor on the order the
    tasks finish in; conversion policies and hedge strikes are fitted once, here, on a fixed
    training set.

    Parameters
    ----------
    plan : PlanConfig
        A validated plan.
    chunk_size : int
        Paths simulated at a time [-], a multiple of :data:`PATH_BLOCK`.
    progress : callable or None
        Called as ``progress(done, total)`` with path counts [-] after each task.
    with_tornado : bool
        Compute the one-way sensitivities (a few extra evaluations on the training paths).
    model : PlanModel or None
        A model already built by :func:`build_model` for ``plan``.
    executor : Executor or None
        Where the path tasks run (:func:`hashpivot.executor.open_executor`); ``None`` runs them
        in this process.

    Returns
    -------
    PlanResult
        The run's typed results.
    """
    blocks_per_chunk = chunk_blocks(chunk_size)
    model = model or build_model(plan)
    executor = executor or in_process()
    n_paths, n_months = plan.paths, plan.horizon_months
    seeds = scenarios.block_seeds(plan.seed, n_paths)
    train = TrainingPaths(model, seeds)  # simulated once, on first use
    policies = fit_policies(model, train)
    strikes = hedge_strikes(model, train)
    job = executor.share(PathJob(model, seeds, policies, strikes, blocks_per_chunk))
    tasks = path_tasks(len(seeds), blocks_per_chunk, executor.workers)
    acc = metrics.PathAccumulator(n_months)
    done = 0
    for i, part in executor.completed(evaluate_blocks, tasks, (job,), name="paths"):
        acc.merge(part)
        done += min(
            tasks[i][1] * scenarios.PATH_BLOCK, n_paths - tasks[i][0] * scenarios.PATH_BLOCK
        )
        if progress:
            progress(done, n_paths)
    tornado = _tornado(model, train, policies, strikes) if with_tornado else Tornado()
    return finalise(model, acc, tornado, policies, train)


def fold_chunk(
    acc: metrics.PathAccumulator,
    model: PlanModel,
    first_path: int,
    paths: scenarios.MarketPaths,
    ev: Evaluation,
    df: FloatArray,
) -> None:
    """Reduce one chunk into the accumulator.

    Parameters
    ----------
    acc : PathAccumulator
        The run's accumulator.
    model : PlanModel
        From :func:`build_model`.
    first_path : int
        Index of the chunk's first path in the run [-].
    paths : MarketPaths
        The chunk's market paths.
    ev : Evaluation
        The chunk's evaluation (from :func:`evaluate`).
    df : numpy.ndarray of float
        Monthly discount factors [-].
    """
    cash_flow = ev.company_usd
    cum = (
        ev.cash_usd
        if ev.cash_usd is not None
        else model.plan.company.cash_usd + np.cumsum(cash_flow, axis=1)
    )
    negative = cum < 0
    n_months = model.n_months
    acc.add_scalars(AccKeys.NPV, first_path, metrics.npv(cash_flow, df, ev.tail_usd))
    acc.add_count(AccKeys.NEGATIVE_NOW, negative.sum(axis=0))
    first_negative = np.where(negative.any(axis=1), negative.argmax(axis=1), n_months)
    ever = np.cumsum(np.bincount(first_negative, minlength=n_months + 1))[:n_months]
    acc.add_count(AccKeys.NEGATIVE_EVER, ever)
    for name in SITE_SCALARS:
        acc.add_scalars(name, first_path, ev.totals[name])
    for site, out in zip(model.special, ev.special, strict=True):
        acc.add_scalars(
            AccKeys.conversion_month(site.name),
            first_path,
            out.conversion_month.astype(np.float64),
        )
        for policy, values in out.policy_values.items():
            acc.add_scalars(AccKeys.policy(site.name, policy), first_path, values)
    if first_path < metrics.FAN_PATHS:  # the first paths feed the fan charts
        fan = paths.take(metrics.FAN_PATHS - first_path)
        acc.add_fan("btc_price_usd", first_path, fan.price_usd)
        acc.add_fan("hashprice_usd_per_ph_day", first_path, fan.hashprice_usd_per_ph_day)
        acc.add_fan("network_hashrate_eh_s", first_path, fan.hashrate_eh_s)
        acc.add_fan("company_cash_usd", first_path, cum)
    if ev.finance:
        for name, outcome in ev.finance.items():
            acc.add_count(
                AccKeys.default(name), np.bincount(outcome.default_month, minlength=n_months + 1)
            )
        base = ev.finance["as_configured"]
        acc.add_scalars(AccKeys.SHORTFALL, first_path, base.shortfall_usd)
        totals = np.einsum("itf->if", base.flows)  # [path, flow]; faster than sum(axis=1)
        for k, name in enumerate(company.FLOWS):
            acc.add_scalars(AccKeys.flow(name), first_path, totals[:, k].copy())


TORNADO_DRIVERS = (
    ("BTC price ±25%", "btc_price", 0.75, 1.25),
    ("network hashrate ±25%", "network_hashrate", 1.25, 0.75),
    ("power price ±25%", "power_price", 1.25, 0.75),
    ("fees ±50%", "fees", 0.5, 1.5),
    ("fleet efficiency (J/TH) ±10%", "fleet_efficiency", 1.1, 0.9),
    ("corporate SG&A ±25%", "corporate_sga", 1.25, 0.75),
)


def _tornado(
    model: PlanModel,
    train: TrainingPaths,
    policies: dict[str, conversion.LsmPolicy],
    strikes: FloatArray | None = None,
) -> Tornado:
    """Mean NPV with each driver at its low and high value, on the first paths (common random
    numbers), sorted by swing. Low/high are the adverse/favourable settings."""
    paths = train.paths(TORNADO_PATHS)
    df = metrics.discount_factors(model.plan.discount_rate_annual, model.n_months)

    def mean_npv(shocks: Shocks | None) -> float:
        ev = evaluate(model, paths, shocks, policies, strikes)
        return float(metrics.npv(ev.company_usd, df, ev.tail_usd).mean())

    base = mean_npv(None)
    rows = [
        TornadoRow(
            driver=label,
            low_npv_usd=mean_npv(Shocks(**{attr: adverse})),
            high_npv_usd=mean_npv(Shocks(**{attr: favourable})),
            base_npv_usd=base,
        )
        for label, attr, adverse, favourable in TORNADO_DRIVERS
    ]
    rows.sort(key=lambda r: r.swing_usd, reverse=True)
    return Tornado(tuple(rows))


def _conversion_results(
    model: PlanModel,
    acc: metrics.PathAccumulator,
    policies: dict[str, conversion.LsmPolicy],
    train: TrainingPaths | None,
) -> dict[str, ConversionResults]:
    """Per special site: the distribution of the conversion month, NPV by policy (option sites)
    and the exercise boundary (on the training paths)."""
    out: dict[str, ConversionResults] = {}
    n_months = model.n_months
    for site in model.special:
        months = acc.values(AccKeys.conversion_month(site.name)).astype(np.int64)
        counts = np.bincount(np.minimum(months, n_months), minlength=n_months + 1)
        by: dict[str, float] | None = None
        boundary: tuple[float | None, ...] | None = None
        if site.kind == "option_to_convert":
            by = {
                p: float(acc.values(AccKeys.policy(site.name, p)).mean())
                for p in converted.POLICIES
            }
            by["fixed_date_month"] = min(max(site.fixed_month, site.start_month), site.latest_month)
            by["value_of_flexibility"] = by["optimal"] - max(by["never"], by["now"])
            if train is not None:
                boundary = tuple(
                    converted.exercise_boundary(
                        site, train.paths(), policies[site.name], model.monthly_discount
                    )
                )
        out[site.name] = ConversionResults(
            conversion_month_counts=tuple(counts[:n_months].tolist()),
            share_never_converted=float(counts[n_months] / months.size),
            median_conversion_month=float(np.median(months)) if counts[:n_months].any() else None,
            npv_usd_by_policy=by,
            exercise_boundary_hashprice_usd_per_ph_day=boundary,
        )
    return out


def finalise(
    model: PlanModel,
    acc: metrics.PathAccumulator,
    tornado: Tornado,
    policies: dict[str, conversion.LsmPolicy],
    train: TrainingPaths,
) -> PlanResult:
    """Reduce the merged accumulator to the run's results.

    Parameters
    ----------
    model : PlanModel
        From :func:`build_model`.
    acc : PathAccumulator
        The accumulator after every chunk.
    tornado : Tornado
        The one-way sensitivities (empty without them).
    policies : dict of str to LsmPolicy
        The fitted conversion policies.
    train : TrainingPaths
        The run's training paths.

    Returns
    -------
    PlanResult
        The run's typed results.
    """
    plan, market = model.plan, model.market
    npv_values = acc.values(AccKeys.NPV)
    npv_values.setflags(write=False)  # the result is frozen, its arrays too
    hr = market.hashrate
    calibration = {
        "start": str(market.start.date()),
        "price0_usd": market.price0_usd,
        "hashrate0_eh_s": market.hashrate0_eh_s,
        "height0": market.height0,
        "btc_model": market.btc_model,
        "drift_rule": market.drift_rule,
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
            "median_btc_per_block": market.fees.median_btc_per_block,
            # kept for readers of earlier runs: the stationary median fees over the subsidy of
            # the era the plan starts in
            "median_share": market.fees.median_btc_per_block
            / float(
                scenarios.average_subsidy_btc(
                    np.array([float(market.height0)]), np.array([market.height0 + 1.0])
                )[0]
            ),
            "sd_log": market.fees.sd_log,
            "phi": market.fees.phi,
        },
        "correlation_btc_hashrate_fees": market.correlation.round(4).tolist(),
        "antithetic": market.antithetic,
    }
    conversions = _conversion_results(model, acc, policies, train)
    sites = tuple(replace(s, conversion=conversions.get(s.name)) for s in site_results(model, acc))
    fans = Fans({k: Fan.from_dict(metrics.fan(acc.fan_series(k))) for k in acc.fans})
    return PlanResult(
        plan_name=plan.name,
        seed=plan.seed,
        n_paths=plan.paths,
        n_months=plan.horizon_months,
        start_month=str(market.start.date())[:7],
        npv_values=npv_values,
        npv=NpvSummary.from_dict(metrics.summary(npv_values)),
        p_cash_negative=tuple((acc.counts[AccKeys.NEGATIVE_NOW] / plan.paths).tolist()),
        p_cash_negative_ever=tuple((acc.counts[AccKeys.NEGATIVE_EVER] / plan.paths).tolist()),
        fans=fans,
        sites=sites,
        tornado=tornado,
        calibration=calibration,
        assumptions=tuple(plan.assumptions),
        default=default_results(model, acc, npv_values),
        market_assumptions=market_assumptions(model),
    )
