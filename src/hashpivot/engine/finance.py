"""The plan's company-finance steps: groups of sites and their regimes, the company model on each
chunk (as configured, without sanctions, with relocation), hedge strikes, and default results.
Called by :mod:`hashpivot.engine.run`, which stays the one orchestrator."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..errors import present
from ..finance import company, metrics
from ..sites import hardware
from ..units import DAYS_PER_YEAR, FloatArray
from .model import AccKeys, Evaluation, PlanModel, TrainingPaths
from .results import DefaultResults

if TYPE_CHECKING:  # annotations only
    import pandas as pd

    from ..config.models import PlanConfig
    from ..market.types import MarketPaths
    from ..sites.kernel import SiteTotals
    from ..sites.site import Site
    from ..workspace import Workspace
    from .special_sites import SpecialOutcome


def site_availability(
    plan: PlanConfig, jurisdiction: str, days: FloatArray, start: pd.Timestamp
) -> FloatArray:
    """Share of a fleet up each month under its jurisdiction: units failed and not replaced
    (spare-parts embargo) and seasonal rationing.

    Parameters
    ----------
    plan : PlanConfig
        The validated plan (its ``jurisdictions``).
    jurisdiction : str
        The site's jurisdiction code.
    days : numpy.ndarray of float
        Days in each month [day].
    start : pandas.Timestamp
        First month of the plan.

    Returns
    -------
    numpy.ndarray of float
        Availability by month [-].
    """
    n_months = days.size
    out = np.ones(n_months)
    jur = plan.jurisdictions.get(jurisdiction)
    if jur is None:
        return out
    if jur.embargo is not None:  # failed units are not replaced
        age_years = (np.cumsum(days) - days / 2) / DAYS_PER_YEAR
        out *= hardware.surviving_fraction(age_years, jur.embargo.failure_rate_annual)
    if jur.rationing is not None:
        moy = (np.arange(n_months) + start.month - 1) % 12 + 1
        out *= np.where(
            np.isin(moy, jur.rationing.months), 1.0 - jur.rationing.curtailed_share, 1.0
        )
    return out


def groups_and_finance(
    plan: PlanConfig,
    plain: npt.NDArray[np.int64],
    mining_sites: list[Site | None],
    n_months: int,
    days: FloatArray,
    start: pd.Timestamp,
) -> tuple[
    npt.NDArray[np.int64],
    FloatArray,
    FloatArray,
    dict[str, company.CompanyModel] | None,
    FloatArray | None,
]:
    """Groups of plain mining sites and the company models of each finance scenario.

    A group is a jurisdiction × co-investment; the scenarios are the company as configured,
    without sanctions, and with relocation.

    Parameters
    ----------
    plan : PlanConfig
        The validated plan.
    plain : numpy.ndarray of int
        Indices of the plain mining sites in the plan [-].
    mining_sites : list of Site or None
        Each plan site's mining model (``None`` for sites that do not mine).
    n_months : int
        Plan horizon [month].
    days : numpy.ndarray of float
        Days in each month [day].
    start : pandas.Timestamp
        First month of the plan.

    Returns
    -------
    tuple
        Each plain site's group [-], the groups' availability ``[group, month]`` [-] and tax
        factors [-], the company models by scenario (``None`` without company finance or
        jurisdiction effects) and the hashprice hedge notional by month [PH/s].
    """
    co = plan.company.co_investor
    co_sites = set(co.sites) if co else set()
    keys: list[tuple[str, bool]] = []
    group = np.zeros(len(plain), dtype=np.int64)
    for j, k in enumerate(plain):
        cfg = plan.sites[k]
        key = (cfg.jurisdiction, cfg.name in co_sites)
        if key not in keys:
            keys.append(key)
        group[j] = keys.index(key)
    n_groups = max(len(keys), 1)
    availability = np.ones((len(plain), n_months))
    for j, k in enumerate(plain):
        availability[j] = site_availability(plan, plan.sites[k].jurisdiction, days, start)
    tax = np.ones((n_groups, n_months))
    base, off, moved = [], [], []
    for g, (code, coinvested) in enumerate(keys or [("", False)]):
        jur = plan.jurisdictions.get(code)
        share = 1.0 - co.share if (co and coinvested) else 1.0
        th = sum(mining_sites[k].hashrate_th_s for j, k in enumerate(plain) if group[j] == g)
        haz = lambda p: -np.log(max(1.0 - p, 1e-12)) / 12.0  # noqa: E731
        r = company.Regime(share=share)
        if jur is not None:
            s, rel = jur.sanctions, jur.relocation
            if jur.tax is not None:
                tax[g, jur.tax.from_month :] = 1.0 - jur.tax.revenue_tax_rate
            r = company.Regime(
                haircut=s.haircut if s else 0.0,
                delay_months=s.delay_months if s else 0,
                cutoff_haircut=s.cutoff_haircut if s else 0.0,
                cutoff_hazard_monthly=haz(s.cutoff_probability_annual) if s else 0.0,
                expropriation_hazard_monthly=haz(jur.expropriation_probability_annual),
                relocation_enabled=bool(rel and rel.enabled),
                relocation_cost_usd=rel.cost_usd_per_th * th if rel else 0.0,
                relocation_downtime_months=rel.downtime_months if rel else 0,
                relocation_cost_factor=rel.cost_factor if rel else 1.0,
                share=share,
            )
        base.append(r)
        off.append(
            replace(
                r,
                haircut=0.0,
                delay_months=0,
                cutoff_haircut=0.0,
                cutoff_hazard_monthly=0.0,
                relocation_enabled=False,
            )
        )
        moved.append(
            replace(
                r,
                relocation_enabled=r.cutoff_hazard_monthly > 0
                and jur is not None
                and jur.relocation is not None,
            )
        )
    c = plan.company
    t = c.treasury
    loans = tuple(
        company.Loan(
            x.name,
            x.kind,
            x.principal_usd,
            x.rate_annual,
            x.start_month,
            x.maturity_months,
            x.amortization,
            x.conversion_price_usd or 0.0,
            x.collateral_btc,
            x.margin_call_ltv,
            x.liquidation_ltv,
        )
        for x in c.debt
    )
    make = lambda regimes: company.CompanyModel(  # noqa: E731
        cash0_usd=c.cash_usd,
        btc0=t.initial_btc,
        policy=company.POLICIES[t.policy],
        target_btc=t.target_btc or 0.0,
        sell_price_usd=t.sell_price_usd or 0.0,
        loans=loans,
        min_liquidity_usd=c.covenants.min_liquidity_usd,
        max_leverage=c.covenants.max_leverage,
        regimes=tuple(regimes),
        sell_share=t.sell_share_of_production or 0.0,
        btc_liquidity_share=c.covenants.btc_counts_toward_liquidity_pct / 100.0,
    )
    nontrivial = any(r != company.Regime(share=r.share) for r in base) or np.any(tax < 1)
    variants = None
    if c.has_finance or nontrivial:
        variants = {"as_configured": make(base)}
        if any(r.haircut or r.cutoff_hazard_monthly or r.cutoff_haircut for r in base):
            variants["no_sanctions"] = make(off)
            variants["relocation_allowed"] = make(moved)
    hedge = np.zeros(n_months)
    for h in c.hedges:
        hedge[h.start_month : h.start_month + h.months] += h.notional_ph_s
    return group, availability, tax, variants, hedge


def with_finance(
    model: PlanModel,
    paths: MarketPaths,
    plain: SiteTotals | None,
    sell_all_cash: FloatArray,
    tail: FloatArray,
    totals: dict[str, FloatArray],
    outcomes: list[SpecialOutcome],
    fixed: FloatArray,
    strikes: FloatArray | None,
    workspace: Workspace | None = None,
) -> Evaluation:
    """Run the company model (each scenario variant) on the chunk.

    With a ``workspace`` the variants' flows live in its arrays (valid until the next chunk).

    Parameters
    ----------
    model : PlanModel
        The run's model.
    paths : MarketPaths
        The chunk's market paths.
    plain : SiteTotals or None
        Totals of the plain mining sites by group (``None`` if there are none).
    sell_all_cash : numpy.ndarray of float
        Cash flow per ``[path, month]`` if every BTC were sold at once [USD].
    tail : numpy.ndarray of float
        Value past the horizon per path [USD].
    totals : dict of str to numpy.ndarray
        Per-path totals gathered so far (returned in the evaluation).
    outcomes : list of SpecialOutcome
        The special sites' outcomes on the chunk.
    fixed : numpy.ndarray of float
        Corporate fixed flows per month [USD] (corporate costs and capex).
    strikes : numpy.ndarray of float or None
        Hedge strike per month [USD/PH/day].
    workspace : Workspace or None
        Reusable arrays.

    Returns
    -------
    Evaluation
        The equity cash flow [USD] per ``[path, month]`` and each scenario's outcome.
    """
    n, n_months = paths.price_usd.shape
    tax_factor = present(model.tax_factor, "company")  # set whenever company finance is engaged
    variants = present(model.variants, "company")
    n_groups = tax_factor.shape[0]
    if plain is not None:
        # the site kernels fill the group totals whenever company finance is engaged (groups)
        btc_net_g = present(plain.btc_net_g, "btc_net_g")
        cost_g = present(plain.cost_usd_g, "cost_usd_g")
        btc_g = btc_net_g * tax_factor[:, None, :]
        # everything that is not the plain sites' mining: special sites, corporate, capex
        other = sell_all_cash - (btc_net_g.sum(axis=0) * paths.price_usd - cost_g.sum(axis=0))
    else:
        btc_g = np.zeros((n_groups, n, n_months))
        cost_g = np.zeros((n_groups, n, n_months))
        other = sell_all_cash
    hedge = np.zeros((n, n_months))
    if model.hedge_notional_ph is not None and model.hedge_notional_ph.any():
        hedge = company.hedge_payoff(
            paths.hashprice_usd_per_ph_day,
            present(strikes, "hedges", "strikes from the training paths"),
            model.hedge_notional_ph,
            paths.days,
        )
    events = paths.event_uniforms
    if events is None:
        events = np.full((2 * n_groups, n), 0.5)
    shape = (n, n_months, len(company.FLOWS))
    outs = {
        name: company.consolidate(
            m,
            paths.price_usd,
            btc_g,
            cost_g,
            other,
            hedge,
            paths.days,
            events,
            None if workspace is None else workspace.empty(f"company.flows.{name}", shape),
        )
        for name, m in variants.items()
    }
    base = outs["as_configured"]
    # Terminal value (lease tails of converted sites, BTC held less debt) only for paths solvent
    # at the horizon; a defaulted path's equity gets its flows up to the default month only.
    terminal = tail + base.btc_held[:, -1] * paths.price_usd[:, -1] - base.debt_end_usd
    flows, tail = company.equity_flows(base, model.plan.company.cash_usd, terminal)
    return Evaluation(flows, tail, totals, outcomes, outs, base.cash_usd)


def hedge_strikes(model: PlanModel, train: TrainingPaths) -> FloatArray | None:
    """Forward hashprice of each month: the mean over the run's training paths.

    The scenario engine's expected hashprice, on a fixed set of paths whatever the chunking.

    Parameters
    ----------
    model : PlanModel
        The run's model.
    train : TrainingPaths
        The run's training paths.

    Returns
    -------
    numpy.ndarray of float or None
        Strike per month [USD/PH/day]; ``None`` when the plan has no hedges.
    """
    if model.hedge_notional_ph is None or not model.hedge_notional_ph.any():
        return None
    return train.paths().hashprice_usd_per_ph_day.mean(axis=0)


def default_results(
    model: PlanModel, acc: metrics.PathAccumulator, npv_values: FloatArray
) -> DefaultResults | None:
    """P(default) by month for each scenario, time to default, expected shortfall and the waterfall.

    The waterfall shows the flows on the worst 5% of paths (by NPV).

    Parameters
    ----------
    model : PlanModel
        The run's model.
    acc : PathAccumulator
        The merged accumulator.
    npv_values : numpy.ndarray of float
        NPV per path [USD].

    Returns
    -------
    DefaultResults or None
        ``None`` without company finance.
    """
    if model.variants is None:
        return None
    n_paths, n_months = model.plan.paths, model.n_months
    by_month = {
        name: tuple((np.cumsum(acc.counts[AccKeys.default(name)][:n_months]) / n_paths).tolist())
        for name in model.variants
    }
    shortfall = acc.values(AccKeys.SHORTFALL)
    worst = npv_values <= np.percentile(npv_values, 5)
    flows = {name: float(acc.values(AccKeys.flow(name))[worst].mean()) for name in company.FLOWS}
    signs = {
        "btc_sales": 1,
        "other": 1,
        "hedges": 1,
        "loan_drawn": 1,
        "costs": -1,
        "interest": -1,
        "principal": -1,
        "relocation": -1,
    }
    waterfall = [("opening cash", float(model.plan.company.cash_usd))]
    waterfall += [(name.replace("_", " "), signs[name] * flows[name]) for name in signs]
    waterfall.append(("haircut losses (memo)", -flows["haircut_loss"]))
    return DefaultResults(
        p_default_by_month=by_month,
        time_to_default_counts=tuple(
            acc.counts[AccKeys.default("as_configured")][:n_months].tolist()
        ),
        expected_shortfall_usd=float(shortfall.mean()),
        mean_shortfall_given_default_usd=float(shortfall[shortfall > 0].mean())
        if (shortfall > 0).any()
        else 0.0,
        worst_paths_waterfall_usd=tuple(waterfall),
    )
