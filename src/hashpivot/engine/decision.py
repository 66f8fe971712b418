"""Where each megawatt goes: every site's alternatives valued on the same paths, and the
portfolio decision over them.

Each alternative of :mod:`hashpivot.config.alternatives` becomes a site configuration (keep:
the site as configured; flexible mining: the contract with hourly resale; repower: the new
fleet after its lead time; conversions: a hosting site at each stated start month, or the
least-squares Monte Carlo option; exits: a no-load site), valued alone on the run's first
``portfolio.scenarios`` paths — common random numbers, so differences between alternatives are
not noise between paths. :func:`hashpivot.finance.portfolio.decide` then chooses one per site
within the ``portfolio`` limits, and the company's P(default) is evaluated with the sites on
the alternatives chosen (and on each alternative alone), on the same paths, through the
company-finance model of the plan. A ceiling on P(default) is met by walking the efficient
frontier from the top.

The data path::

    decide_plan(plan)
      options_of(plan, k)              each site's alternatives as site configurations
      value_options(...)               one-site models on the common paths → NPV [scenario]
      finance.portfolio.decide         MILP on HiGHS (limits, next best, binding limits, greedy)
      finance.portfolio.frontier       E[NPV] against CVaR
      CompanyOdds.p_default(configs)   the company's P(default) with the sites switched
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..config.alternatives import (
    Alternative,
    ConvertLease,
    GpuCloud,
    MineFlexibly,
    Relocate,
    Repower,
    SellPower,
    SellSite,
    ShutDown,
)
from ..config.finance import LoanConfig
from ..config.models import CompanyConfig, FinancingConfig, PlanConfig, PlanSiteConfig
from ..errors import InputError, present
from ..finance import lsm as conversion
from ..finance import metrics, portfolio
from ..market import scenarios
from ..sites import hosting
from ..units import FloatArray
from . import special_sites as converted
from .model import PlanModel
from .results import DecisionResult, NpvSummary, OptionValue, PortfolioPoint, SiteDecision
from .run import build_model, evaluate

#: Scenarios of the decision when the plan has no ``portfolio`` section [-].
DEFAULT_SCENARIOS = 1024


@dataclass(frozen=True)
class Option:
    """One alternative of one site as a site configuration (``None`` when ruled out)."""

    site_index: int
    name: str
    kind: str
    start_month: int | None
    config: PlanSiteConfig | None
    ruled_out: str | None = None
    debt_usd: float = 0.0
    equity_share: float = 1.0  # of the conversion capex the company pays in cash
    capex_factor: float = 1.0  # the conversion capex was scaled by (financing's value)
    source: str = ""
    company_config: PlanSiteConfig | None = None  # in the company run: capex as paid, and
    loan: LoanConfig | None = None  # the project loan that pays part of it

    @property
    def in_company(self) -> PlanSiteConfig | None:
        """The configuration the company run puts on the site."""
        return self.company_config or self.config


def financing_factor(financing: FinancingConfig, discount_rate_annual: float) -> float:
    """What a dollar of capex costs equity in present value when ``loan_to_cost`` of it is a
    project loan: ``1 − LTC + LTC · PV(payments) / loan`` [-].

    The loan amortises linearly, as the company's term loans do: with ``n`` months, monthly
    loan rate ``r`` and the plan's monthly rate ``d``, month ``t`` pays ``1/n`` of principal and
    ``r`` on the balance ``1 − (t − 1)/n``, discounted by ``(1 + d)^−t``; debt cheaper than the
    plan's rate adds value.

    Parameters
    ----------
    financing : FinancingConfig
        Loan-to-cost [-], rate [1/yr] and tenor [months].
    discount_rate_annual : float
        The plan's discount rate [1/yr].

    Returns
    -------
    float
        Present cost to equity per dollar of capex [-].
    """
    ltc = financing.loan_to_cost
    if ltc == 0:
        return 1.0
    n = financing.tenor_months
    t = np.arange(1, n + 1)
    r = financing.rate_annual / 12.0  # the company model's monthly interest
    d = (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0
    payments = 1.0 / n + r * (1.0 - (t - 1) / n)
    return 1.0 - ltc + ltc * float(payments @ (1.0 + d) ** -t)


def _hashrate_th_s(cfg: PlanSiteConfig) -> float:
    return cfg.to_site().hashrate_th_s if cfg.fleet else 0.0


def _site(data: dict[str, Any], where: str) -> PlanSiteConfig:
    """Validate an alternative's site configuration; its errors name the alternative."""
    try:
        return PlanSiteConfig.model_validate(data)
    except ValidationError as exc:  # re-said under the alternative's name
        raise InputError(where, data.get("name"), f"terms that make a valid site ({exc})") from None


def _ruled_out(plan: PlanConfig, cfg: PlanSiteConfig, alt: Alternative) -> str | None:
    jur = plan.jurisdictions.get(cfg.jurisdiction)
    for rule in jur.rules_out if jur is not None else []:
        if rule.kind == alt.kind and rule.counterparty in (None, alt.counterparty):
            return rule.reason
    return None


def options_of(plan: PlanConfig, k: int) -> list[Option]:
    """Site ``k``'s alternatives as site configurations, keep first.

    Parameters
    ----------
    plan : PlanConfig
        The validated plan.
    k : int
        The site's index [-].

    Returns
    -------
    list of Option
        ``keep_mining`` (the site as configured), then each declared alternative (a conversion
        with stated start months once per month); ruled-out ones carry the reason instead.

    Raises
    ------
    InputError
        Terms that do not make a valid site, naming ``sites[k].alternatives[j]``.
    """
    cfg = plan.sites[k]
    keep = cfg.model_copy(update={"alternatives": []})
    out = [Option(k, "keep_mining", "keep_mining", 0, keep)]
    base = cfg.model_dump(exclude={"alternatives"})
    mining = base | {"type": "mining", "conversion": None, "lease": None, "gpu_cloud": None}
    th_old = _hashrate_th_s(cfg)
    for j, alt in enumerate(cfg.alternatives):
        if alt.kind == "keep_mining":
            continue
        where = f"sites[{k}].alternatives[{j}]"
        name = alt.name or alt.kind
        why = _ruled_out(plan, cfg, alt)
        if why is not None:
            out.append(Option(k, name, alt.kind, None, None, why, source=alt.source))
            continue
        for opt in _alternative(plan, cfg, alt, mining, th_old, where):
            out.append(replace(opt, site_index=k, name=name + opt.name, source=alt.source))
    return out


def _alternative(
    plan: PlanConfig,
    cfg: PlanSiteConfig,
    alt: Alternative,
    mining: dict[str, Any],
    th_old: float,
    where: str,
) -> list[Option]:
    """One alternative's site configurations (``name`` holds a suffix such as ``@12``)."""
    capex = list(mining["capex"])
    exit_site = mining | {"type": "no_load", "fleet": [], "capex": [], "power_market": None}
    if isinstance(alt, MineFlexibly):
        if cfg.power_market is not None:
            raise InputError(
                f"{where}.kind", alt.kind, "a site on a contract price (this one buys at market)"
            )
        data = mining | {"sell_back": alt.sell_back.model_dump()}
        return [Option(0, "", alt.kind, 0, _site(data, where))]
    if isinstance(alt, Repower):
        start = max(cfg.start_month, alt.lead_time_months)
        new = _site(mining | {"fleet": [e.model_dump() for e in alt.fleet]}, where)
        th_new = _hashrate_th_s(new)
        data = mining | {
            "fleet": [e.model_dump() for e in alt.fleet],
            "start_month": start,
            "capex": [*capex, {"month": 0, "amount_usd": alt.price_usd_per_th * th_new}],
            "proceeds": [
                *mining["proceeds"],
                {"month": 0, "amount_usd": alt.old_fleet_resale_usd_per_th * th_old},
            ],
        }
        return [Option(0, "", alt.kind, start, _site(data, where))]
    if isinstance(alt, Relocate):
        start = max(cfg.start_month, alt.downtime_months)
        data = mining | {
            "jurisdiction": alt.jurisdiction,
            "power_usd_per_mwh": alt.power_usd_per_mwh,
            "power_index": alt.power_index,
            "power_market": None,
            "start_month": start,
            "capex": [*capex, {"month": 0, "amount_usd": alt.cost_usd_per_th * th_old}],
        }
        if alt.site_opex_usd_per_mw_month is not None:
            data["site_opex_usd_per_mw_month"] = alt.site_opex_usd_per_mw_month
        return [Option(0, "", alt.kind, start, _site(data, where))]
    if isinstance(alt, ConvertLease | GpuCloud):
        fin = alt.financing
        factor = financing_factor(fin, plan.discount_rate_annual)
        conv = alt.conversion.model_dump()
        it_mw = hosting.critical_it_mw(cfg.power_capacity_mw, conv["ai_pue"], conv["share"])
        debt = fin.loan_to_cost * it_mw * conv["capex_usd_per_mw_it"]
        nominal = dict(conv)
        conv["capex_usd_per_mw_it"] *= factor  # debt's value to equity folded into the capex
        money = (debt, 1.0 - fin.loan_to_cost, factor)

        def financed(suffix: str, start: int | None, data: dict[str, Any], first: int) -> Option:
            """The option valued (capex at its value to equity) and as the company runs it
            (capex as paid, and the project loan drawn at the conversion's first month)."""
            valued = _site(data, where)
            if not debt:
                return Option(0, suffix, alt.kind, start, valued, None, *money)
            as_paid = _site(data | {"conversion": data["conversion"] | nominal_of(data)}, where)
            loan = LoanConfig.model_validate(
                {
                    "name": f"{cfg.name} project debt",
                    "principal_usd": debt,
                    "rate_annual": fin.rate_annual,
                    "start_month": first,
                    "maturity_months": fin.tenor_months,
                    "amortization": "linear",
                }
            )
            return Option(0, suffix, alt.kind, start, valued, None, *money, "", as_paid, loan)

        def nominal_of(data: dict[str, Any]) -> dict[str, Any]:
            return {"capex_usd_per_mw_it": nominal["capex_usd_per_mw_it"]}

        if isinstance(alt, GpuCloud):
            data = mining | {
                "type": "gpu_cloud",
                "conversion": conv,
                "gpu_cloud": alt.gpu_cloud.model_dump(),
            }
            return [financed("", conv["start_month"], data, conv["start_month"])]
        lease = alt.lease.model_dump()
        if alt.start_months is None:
            data = mining | {"type": "option_to_convert", "conversion": conv, "lease": lease}
            return [financed("", None, data, conv["start_month"])]
        return [
            financed(
                f"@{m}",
                m,
                mining
                | {"type": "hosting", "conversion": conv | {"start_month": m}, "lease": lease},
                m,
            )
            for m in alt.start_months
        ]
    if isinstance(alt, SellPower):
        mw = cfg.power_capacity_mw
        fleet_sold = alt.fleet_resale_usd_per_th * th_old
        receipts = [{"month": 0, "amount_usd": fleet_sold, "what": "fleet sold"}]
        if alt.release_usd_per_mw is not None:
            released = alt.release_usd_per_mw * mw
            receipts.append({"month": 0, "amount_usd": released, "what": "interconnect released"})
            no_load: dict[str, Any] = {"power_sale": None, "end_month": 0}
        else:
            sale = alt.power_sale.model_dump() if alt.power_sale is not None else None
            no_load = {"power_sale": sale, "end_month": None}
        data = exit_site | {
            "site_opex_usd_per_mw_month": alt.opex_usd_per_mw_month,
            "sga_cash_usd_per_month": 0.0,
            "interest_usd_per_month": 0.0,
            "no_load": no_load,
            "proceeds": receipts,
        }
        return [Option(0, "", alt.kind, 0, _site(data, where))]
    if isinstance(alt, SellSite):
        data = exit_site | {
            "no_load": {"power_sale": None, "end_month": 0},
            "proceeds": [
                {
                    "month": alt.close_month,
                    "amount_usd": alt.price_usd_per_mw * cfg.power_capacity_mw,
                    "what": f"site sold ({alt.comparable})",
                }
            ],
        }
        return [Option(0, "", alt.kind, alt.close_month, _site(data, where))]
    if isinstance(alt, ShutDown):
        data = exit_site | {
            "no_load": {"power_sale": None, "end_month": alt.month},
            "capex": [{"month": alt.month, "amount_usd": alt.decommissioning_usd}],
            "proceeds": [
                {
                    "month": alt.month,
                    "amount_usd": alt.salvage_usd_per_th * th_old + alt.salvage_usd,
                    "what": "salvage",
                }
            ],
        }
        return [Option(0, "", alt.kind, alt.month, _site(data, where))]
    raise InputError(f"{where}.kind", alt.kind, "a known alternative")  # pragma: no cover


def bare_plan(plan: PlanConfig) -> PlanConfig:
    """The plan without company finance: a company with no cash, debt or corporate costs, and
    jurisdictions reduced to what acts on a site's own operation (embargo, rationing).

    Parameters
    ----------
    plan : PlanConfig
        The validated plan.

    Returns
    -------
    PlanConfig
        The same plan, for valuing sites one at a time.
    """
    return plan.model_copy(
        update={
            "company": CompanyConfig.model_validate({"name": plan.company.name}),
            "jurisdictions": {
                code: j.model_copy(
                    update={
                        "sanctions": None,
                        "tax": None,
                        "expropriation_probability_annual": 0.0,
                        "relocation": None,
                    }
                )
                for code, j in plan.jurisdictions.items()
            },
            "portfolio": None,
        }
    )


@dataclass(frozen=True)
class Valued:
    """One option valued on the scenarios."""

    npv_usd: FloatArray  # [scenario]
    mean_cash_usd: FloatArray  # [month], the horizon value in the last month
    capex_usd_by_year: FloatArray  # [year]: the company's cash outlay
    conversion_year: int  # −1: no conversion
    leased_mw: float
    median_start_month: int | None  # policy-timed conversions: where most scenarios convert


def _policy(model: PlanModel, paths: scenarios.MarketPaths) -> dict[str, conversion.LsmPolicy]:
    return {
        s.name: converted.fit_option_policy(s, paths, model.monthly_discount)
        for s in model.special
        if s.kind == "option_to_convert"
    }


def value_option(
    plan: PlanConfig,
    option: Option,
    market: scenarios.MarketModel,
    paths: scenarios.MarketPaths,
) -> Valued:
    """Value one site configuration alone on the common paths.

    Parameters
    ----------
    plan : PlanConfig
        The plan stripped of company finance (:func:`bare_plan`).
    option : Option
        A site configuration (not ruled out).
    market : MarketModel
        The calibrated market the paths come from.
    paths : MarketPaths
        The decision's scenarios ``[path, month]``.

    Returns
    -------
    Valued
        NPV per scenario [USD], expected cash by month [USD], capex by year [USD], the year a
        conversion starts and the MW leased.
    """
    cfg = present(option.config, f"{option.name}: its site", "an alternative not ruled out")
    model = build_model(plan.model_copy(update={"sites": [cfg]}), market=market)
    policies = _policy(model, paths)
    ev = evaluate(model, paths, None, policies)
    n_months = model.n_months
    df = metrics.discount_factors(plan.discount_rate_annual, n_months)
    npv = metrics.npv(ev.company_usd, df, ev.tail_usd)
    mean_cash = ev.company_usd.mean(axis=0)
    mean_cash[-1] += ev.tail_usd.mean()
    years = -(-n_months // 12)
    capex = np.zeros(years)
    np.add.at(capex, np.arange(n_months) // 12, model.capex_usd[0])
    conversion_year, leased, median_start = -1, 0.0, None
    if cfg.conversion is not None:
        c = cfg.conversion
        it_mw = hosting.critical_it_mw(cfg.power_capacity_mw, c.ai_pue, c.share)
        # the cash the company pays: the capex before financing, its equity share
        outlay = it_mw * c.capex_usd_per_mw_it / option.capex_factor * option.equity_share
        start = ev.special[0].conversion_month if ev.special else np.full(1, n_months)
        build = max(c.lead_time_months, 1)
        for m0 in range(build):  # spread over the build, each scenario's own start
            month = start + m0
            inside = month < n_months
            np.add.at(capex, month[inside] // 12, outlay / build / start.size)
        if cfg.gpu_cloud is not None:
            g = model.special[0].gpu
            if g is not None:
                first = start + c.lead_time_months
                inside = first < n_months
                np.add.at(
                    capex,
                    first[inside] // 12,
                    g.n_gpus * g.gpu_price_usd * g.system_multiplier / start.size,
                )
        converting = start[start < n_months]
        if converting.size * 2 >= start.size:  # converts in most scenarios
            median_start = int(np.median(converting))
            conversion_year = median_start // 12
        if cfg.lease is not None:
            leased = it_mw
    return Valued(npv, mean_cash, capex, conversion_year, leased, median_start)


class CompanyOdds:
    """The company's P(default) by the horizon with some sites switched to alternatives, on the
    decision's paths (as configured; without company finance, P(cumulative cash < 0)).

    Paths are simulated once per event count (the market draws do not depend on it) and each
    conversion option's policy is fitted once, so the many switched plans cost one evaluation
    each."""

    def __init__(self, plan: PlanConfig, market: scenarios.MarketModel, n_paths: int) -> None:
        self.plan = plan
        self.market = market
        self.n_paths = n_paths
        self.seeds = scenarios.block_seeds(plan.seed, plan.paths)
        self._paths: dict[int, scenarios.MarketPaths] = {}
        self._policies: dict[str, conversion.LsmPolicy] = {}
        self._cache: dict[tuple[int, ...], float] = {}

    def paths(self, model: PlanModel) -> scenarios.MarketPaths:
        """The decision's paths for ``model`` (its event draws included)."""
        key = model.market.n_events
        if key not in self._paths:
            blocks = -(-self.n_paths // scenarios.PATH_BLOCK)
            sim = scenarios.simulate(
                model.market, model.n_months, self.seeds, 0, blocks, self.plan.paths
            )
            self._paths[key] = sim.take(self.n_paths)
        return self._paths[key]

    def p_default(self, options: list[Option], key: tuple[int, ...]) -> float:
        """P(default) with site ``o.site_index`` on ``o.config`` for every option given.

        Parameters
        ----------
        options : list of Option
            One option per switched site.
        key : tuple of int
            A key for the combination (the option index of every site).

        Returns
        -------
        float
            P(default by the horizon) [-].
        """
        if key in self._cache:
            return self._cache[key]
        sites = list(self.plan.sites)
        loans = list(self.plan.company.debt)
        for o in options:
            sites[o.site_index] = present(o.in_company, f"{o.name}: its site")
            if o.loan is not None:
                loans.append(o.loan)
        company = self.plan.company.model_copy(update={"debt": loans})
        plan = self.plan.model_copy(update={"sites": sites, "company": company})
        model = build_model(plan, market=self.market)
        if model.variants is not None:  # only the company as configured is read here
            model = replace(model, variants={"as_configured": model.variants["as_configured"]})
        paths = self.paths(model)
        policies = {}
        for s in model.special:
            if s.kind == "option_to_convert":
                tag = f"{s.name}:{key[s.index]}"
                if tag not in self._policies:
                    self._policies[tag] = converted.fit_option_policy(
                        s, paths, model.monthly_discount
                    )
                policies[s.name] = self._policies[tag]
        ev = evaluate(model, paths, None, policies)
        if ev.finance:
            p = float((ev.finance["as_configured"].default_month < model.n_months).mean())
        else:
            cum = plan.company.cash_usd + np.cumsum(ev.company_usd, axis=1)
            p = float((cum < 0).any(axis=1).mean())
        self._cache[key] = p
        return p


def _limits(plan: PlanConfig) -> portfolio.PortfolioLimits:
    p = plan.portfolio
    if p is None:
        return portfolio.PortfolioLimits()
    return portfolio.PortfolioLimits(
        capex_budget_usd=None
        if p.capex_budget_usd_by_year is None
        else np.asarray(p.capex_budget_usd_by_year, dtype=np.float64),
        conversions_per_year=p.conversions_per_year,
        leased_mw=p.leased_mw,
        cvar_level=p.cvar_level,
        cvar_floor_usd=p.cvar_floor_usd,
        financing_usd=p.financing_capacity_usd,
    )


def _limits_dict(plan: PlanConfig) -> dict[str, Any]:
    p = plan.portfolio
    return {} if p is None else p.model_dump(exclude={"scenarios", "frontier_points"})


def _irr(mean_cash: FloatArray) -> float | None:
    """IRR of an investment's expected cash flows: only where they start with an outlay (a
    stream that starts with income has no rate of return to speak of)."""
    nonzero = mean_cash[np.abs(mean_cash) > 1e-9 * (1.0 + np.abs(mean_cash).max())]
    if nonzero.size == 0 or nonzero[0] >= 0:
        return None
    irr = metrics.irr_monthly_to_annual(mean_cash)
    return irr if np.isfinite(irr) else None


def _payback_month(mean_cash: FloatArray) -> int | None:
    cum = np.cumsum(mean_cash)
    if (cum >= 0).all():
        return 0
    later = np.nonzero(cum < 0)[0][-1] + 1
    return int(later) if later < cum.size else None


def decide_plan(plan: PlanConfig) -> DecisionResult:
    """Value every site's alternatives on the same paths and choose one per site.

    Parameters
    ----------
    plan : PlanConfig
        A validated plan; sites without alternatives keep their configuration.

    Returns
    -------
    DecisionResult
        The choice per site with the next best and what forcing it costs, every alternative's
        value, the portfolio's expected NPV, CVaR and P(default), the binding limits and the
        value of relaxing each, the greedy per-site choice and the efficient frontier.

    Raises
    ------
    PortfolioInfeasible
        No choice keeps the limits (naming each with the smallest relaxation that suffices).
    InputError
        An alternative whose terms do not make a valid site.
    """
    t0 = time.perf_counter()
    p_cfg = plan.portfolio
    n = min(p_cfg.scenarios if p_cfg else DEFAULT_SCENARIOS, plan.paths)
    per_site = [options_of(plan, k) for k in range(len(plan.sites))]
    bare = bare_plan(plan)
    first = present(per_site[0][0].config, "sites[0]: keep_mining")
    market = build_model(bare.model_copy(update={"sites": [first]})).market
    blocks = -(-n // scenarios.PATH_BLOCK)
    seeds = scenarios.block_seeds(plan.seed, plan.paths)
    paths = scenarios.simulate(market, plan.horizon_months, seeds, 0, blocks, plan.paths).take(n)
    valued: list[list[Valued | None]] = [
        [value_option(bare, o, market, paths) if o.config is not None else None for o in opts]
        for opts in per_site
    ]
    s_n = len(per_site)
    a_n = max(len(o) for o in per_site)
    years = -(-plan.horizon_months // 12)
    npv = np.full((s_n, a_n, n), np.nan)
    capex = np.zeros((s_n, a_n, years))
    conv = np.full((s_n, a_n), -1, dtype=np.int64)
    leased = np.zeros((s_n, a_n))
    debt = np.zeros((s_n, a_n))
    for s, (opts, vals) in enumerate(zip(per_site, valued, strict=True)):
        for a, (o, v) in enumerate(zip(opts, vals, strict=True)):
            debt[s, a] = o.debt_usd
            if v is not None:
                npv[s, a] = v.npv_usd
                capex[s, a] = v.capex_usd_by_year
                conv[s, a] = v.conversion_year
                leased[s, a] = v.leased_mw
    problem = portfolio.PortfolioProblem(
        sites=tuple(c.name for c in plan.sites),
        alternatives=tuple(tuple(o.name for o in opts) for opts in per_site),
        npv_usd=npv,
        capex_usd=capex,
        conversion_year=conv,
        leased_mw=leased,
        debt_usd=debt,
    )
    limits = _limits(plan)
    odds = CompanyOdds(plan, market, n)  # each company model sets its own event count
    notes: list[str] = []

    def p_default_of(choice: np.ndarray) -> float:
        switched = [per_site[s][int(a)] for s, a in enumerate(choice) if a != 0]
        return odds.p_default(switched, tuple(int(a) for a in choice))

    def point(c: portfolio.Choice) -> PortfolioPoint:
        return PortfolioPoint(
            c.expected_npv_usd,
            c.cvar_usd,
            p_default_of(c.alternative),
            tuple(per_site[s][int(a)].name for s, a in enumerate(c.alternative)),
        )

    decision = portfolio.decide(problem, limits)
    n_front = p_cfg.frontier_points if p_cfg else 10
    front = portfolio.frontier(problem, limits, n_front) if n_front >= 2 else []
    distinct: list[portfolio.Choice] = []
    for c in front:  # weights that pick the same portfolio give one point
        if not distinct or not np.array_equal(c.alternative, distinct[-1].alternative):
            distinct.append(c)
    front = distinct
    ceiling = p_cfg.p_default_max if p_cfg else None
    if ceiling is not None and p_default_of(decision.choice.alternative) > ceiling:
        # walk the frontier from the top: the best portfolio whose company odds keep the ceiling
        meets = [c for c in front if p_default_of(c.alternative) <= ceiling]  # riskiest first
        if not meets:
            lowest = min([p_default_of(c.alternative) for c in front] or [1.0])
            raise portfolio.PortfolioInfeasible(
                f"portfolio.p_default_max: no portfolio on the efficient frontier keeps "
                f"P(default) ≤ {ceiling:.1%}; the lowest reached is {lowest:.1%} (raise "
                f"p_default_max by {lowest - ceiling:.1%}, or add safer alternatives)",
                {"p_default_max": lowest - ceiling},
            )
        unconstrained = decision.choice.expected_npv_usd
        for best in meets:
            # the best choice at least as safe as this frontier point (by CVaR) — its own
            # company odds checked too, since a choice of equal CVaR may default more often
            floor = best.cvar_usd - portfolio.CVAR_REL_TOL * (1.0 + abs(best.cvar_usd))
            if limits.cvar_floor_usd is not None:
                floor = max(floor, limits.cvar_floor_usd)
            at_floor = portfolio.decide(problem, replace(limits, cvar_floor_usd=floor))
            if p_default_of(at_floor.choice.alternative) <= ceiling:
                break
        else:
            raise portfolio.PortfolioInfeasible(
                f"portfolio.p_default_max: the best choices at the CVaR of each frontier "
                f"portfolio that keeps P(default) ≤ {ceiling:.1%} all default more often; "
                "raise p_default_max or set a cvar_floor_usd",
                {"p_default_max": p_default_of(at_floor.choice.alternative) - ceiling},
            )
        binding = dict(at_floor.binding)
        binding["p_default_max"] = unconstrained - at_floor.choice.expected_npv_usd
        decision = replace(at_floor, binding=binding)
        notes.append(
            f"P(default) ceiling {ceiling:.1%} met by a CVaR floor of ${floor / 1e6:,.1f}M "
            "(the best choice at least as safe as a frontier portfolio that keeps it)"
        )
    keep_choice = portfolio.evaluate(problem, np.zeros(s_n, dtype=np.int64), limits.cvar_level)
    sites = []
    for s, (opts, vals) in enumerate(zip(per_site, valued, strict=True)):
        keep_npv = npv[s, 0]
        values = []
        for a, (o, v) in enumerate(zip(opts, vals, strict=True)):
            if v is None:
                values.append(
                    OptionValue(o.name, o.kind, o.start_month, o.ruled_out, None, None, None,
                                tuple(np.zeros(years)), 0.0, 0.0, None, None, None, o.source)
                )  # fmt: skip
                continue
            irr = _irr(v.mean_cash_usd)
            choice = np.zeros(s_n, dtype=np.int64)
            choice[s] = a
            values.append(
                OptionValue(
                    name=o.name,
                    kind=o.kind,
                    start_month=o.start_month,
                    ruled_out=None,
                    npv_usd=NpvSummary.from_dict(metrics.summary(v.npv_usd)),
                    npv_vs_keep_usd=float((v.npv_usd - keep_npv).mean()),
                    p_better_than_keep=float((v.npv_usd > keep_npv).mean()) if a else None,
                    capex_usd_by_year=tuple(float(x) for x in v.capex_usd_by_year),
                    debt_usd=o.debt_usd,
                    leased_mw=v.leased_mw,
                    irr_annual=irr,
                    payback_month=_payback_month(v.mean_cash_usd),
                    p_default=p_default_of(choice),
                    source=o.source,
                )
            )
        a = int(decision.choice.alternative[s])
        nb = int(decision.next_best[s])
        chosen = opts[a]
        start = chosen.start_month
        v_a = vals[a]
        if start is None and v_a is not None:  # policy-timed: the median start where it converts
            start = v_a.median_start_month
        force = None if nb < 0 else float(decision.cost_to_force_usd[s])
        sites.append(
            SiteDecision(
                site=plan.sites[s].name,
                mw=plan.sites[s].power_capacity_mw,
                action=chosen.name,
                start_month=0 if chosen.kind == "keep_mining" else start,
                next_best=opts[nb].name if nb >= 0 else None,
                cost_to_force_next_best_usd=force,
                greedy_action=opts[int(decision.greedy.alternative[s])].name,
                options=tuple(values),
            )
        )
    return DecisionResult(
        scenarios=n,
        cvar_level=limits.cvar_level,
        sites=tuple(sites),
        portfolio=point(decision.choice),
        keep=point(keep_choice),
        greedy=point(decision.greedy),
        greedy_feasible=decision.greedy_feasible,
        binding=decision.binding,
        binding_step={k: v for k, v in decision.step_of.items() if k in decision.binding},
        limits=_limits_dict(plan),
        frontier=tuple(point(c) for c in front),
        notes=tuple(notes),
        seconds=time.perf_counter() - t0,
    )
