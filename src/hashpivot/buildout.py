"""GW-scale AI build-outs: capex stack, deployment schedule, financing stack, circular deals.

A campaign deploys tranches of GW on vendors' chips at a yearly rate, within the grid power
procured by each year (a schedule that needs more raises). Each month's **uses** of funds are the
capex of the GW deployed that month (the preset's components per GW) plus the GPU refresh: the
compute is bought again every ``gpu_refresh_years``. The **sources** pay in a fixed order:

1. per-GW and warrant sources follow their tranche's deployment (Nvidia's "up to $100B …
   progressively as each GW is deployed"; AMD's warrants vesting with GW), within their caps;
2. share sources cover the rest by share (the shares add up to exactly 1), within their caps;
3. guarantors backstop what the caps leave, within their own caps;
4. the **gap** is what is still unfunded. Every month, sources + gap = uses.

**Circular exposure** of a vendor: the share of its campaign revenue (the compute and networking
it sells to its own tranches, refreshes included) that its own investment or warrants funded.

**Who earns what.** Energised capacity (deployment plus the interconnection delay) earns rent on
the kW sold; operating cash (revenue − electricity − opex) serves the lenders first, in the order
given (debt, then guarantors), each as an annuity of its drawdowns; equity holders share the rest
by capital put in. A vendor also earns its gross margin on its sales. Rent level (lognormal) and
utilisation vary across seeded scenarios, and one-way stresses show each party's NPV as rents or
utilisation fall. At the horizon the business is sold at ``terminal_ebitda_multiple`` times its
last 12 months' operating cash: lenders recover their balances and arrears first.

References: Nvidia FY2026 Q2 earnings call (Aug 2025); OpenAI–Nvidia letter of intent
(22 Sep 2025); OpenAI–AMD agreement (6 Oct 2025); see ``docs/buildout.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import models as config
from .config.buildout import COMPONENTS, CampaignConfig, SourceConfig
from .errors import InputError, present
from .finance.metrics import discount_factors, irr_annual_paths
from .units import HOURS_PER_MONTH, FloatArray

RENT_STRESS = (1.0, 0.75, 0.5, 0.25)
UTILISATION_STRESS = (1.0, 0.75, 0.5, 0.25)  # multiples of the base utilisation


@dataclass
class Buildout:
    """Monthly schedule and funding of a campaign (arrays over months unless noted)."""

    months: pd.DatetimeIndex
    gw_deployed: dict[str, FloatArray]  # by tranche, deployed that month
    gw_energised: FloatArray  # cumulative, after the interconnection delay
    capex_by_component: dict[str, FloatArray]  # COMPONENTS + "refresh"
    uses: FloatArray
    sources: dict[str, FloatArray]  # USD by source by month
    gap: FloatArray
    vendor_revenue: dict[str, FloatArray]
    vendor_margin_usd: dict[str, FloatArray]  # gross margin on those sales, tranche by tranche
    circular: dict[str, dict[str, float]]
    electricity_usd: FloatArray  # at base rent and utilisation
    opex_usd: FloatArray
    parties: dict[str, dict[str, Any]] = field(default_factory=dict)
    stress: dict[str, Any] = field(default_factory=dict)
    host_sites: dict[str, Any] = field(default_factory=dict)

    @property
    def capex_build(self) -> FloatArray:
        """Build capex per month, the components without the GPU refresh [USD]."""
        return sum((self.capex_by_component[c] for c in COMPONENTS), np.zeros(self.months.size))

    def by_year(self) -> list[dict[str, Any]]:
        """Yearly totals: GW, capex, refresh, electricity, opex, each source and the gap."""
        years = self.months.year.to_numpy()
        out = []
        for y in np.unique(years):
            m = years == y
            out.append(
                {
                    "year": int(y),
                    "gw_deployed": float(sum(v[m].sum() for v in self.gw_deployed.values())),
                    "gw_energised_end": float(self.gw_energised[m][-1]),
                    "capex_usd": float(self.capex_build[m].sum()),
                    "refresh_usd": float(self.capex_by_component["refresh"][m].sum()),
                    "electricity_usd": float(self.electricity_usd[m].sum()),
                    "opex_usd": float(self.opex_usd[m].sum()),
                    "funding_by_source_usd": {
                        k: float(v[m].sum()) for k, v in self.sources.items()
                    },
                    "funding_gap_usd": float(self.gap[m].sum()),
                }
            )
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per month: GW deployed (by tranche) and energised, capex by component, uses,
        each funding source and the gap [USD], electricity and opex [USD]."""
        cols: dict[str, Any] = {f"gw_deployed_{k}": v for k, v in self.gw_deployed.items()}
        cols["gw_energised"] = self.gw_energised
        cols |= {f"capex_{k}_usd": v for k, v in self.capex_by_component.items()}
        cols["uses_usd"] = self.uses
        cols |= {f"funding_{k}_usd": v for k, v in self.sources.items()}
        cols["funding_gap_usd"] = self.gap
        cols["electricity_usd"] = self.electricity_usd
        cols["opex_usd"] = self.opex_usd
        return pd.DataFrame(cols, index=pd.Index(self.months, name="month"))

    def summary(self) -> dict[str, Any]:
        """Campaign totals [GW, USD], circular exposure, the parties' returns and stresses, host
        sites and the years."""
        return {
            "gw_total": float(sum(v.sum() for v in self.gw_deployed.values())),
            "gw_by_tranche": {k: float(v.sum()) for k, v in self.gw_deployed.items()},
            "capex_total_usd": float(self.capex_build.sum()),
            "capex_by_component_usd": {
                k: float(v.sum()) for k, v in self.capex_by_component.items()
            },
            "refresh_capex_usd": float(self.capex_by_component["refresh"].sum()),
            "uses_total_usd": float(self.uses.sum()),
            "funding_by_source_usd": {k: float(v.sum()) for k, v in self.sources.items()},
            "funding_gap_usd": float(self.gap.sum()),
            "electricity_usd": float(self.electricity_usd.sum()),
            "opex_usd": float(self.opex_usd.sum()),
            "circular_exposure": self.circular,
            "irr_by_party": {k: v["irr"] for k, v in self.parties.items()},
            "parties": self.parties,
            "stress": self.stress,
            "host_sites": self.host_sites,
            "by_year": self.by_year(),
        }


def schedule(cfg: CampaignConfig) -> tuple[pd.DatetimeIndex, dict[str, FloatArray]]:
    """GW deployed per month by tranche, at each tranche's yearly rate from its first month.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.

    Returns
    -------
    tuple of (pandas.DatetimeIndex, dict of str to numpy.ndarray)
        The months, and the GW deployed each month by tranche [GW].

    Raises
    ------
    InputError
        A tranche that does not finish within the horizon, or a year whose IT × PUE exceeds the
        grid power procured by then, naming the field.
    """
    n = cfg.horizon_years * 12
    months = pd.date_range(cfg.start + "-01", periods=n, freq="MS")
    deployed = {}
    for i, t in enumerate(cfg.tranches):
        # Cumulative GW at a constant monthly rate from first_month, clipped at the tranche size.
        k = np.arange(1, n + 1) - t.first_month
        cum = np.clip(k * t.gw_per_year / 12.0, 0.0, t.gw)
        if cum[-1] < t.gw - 1e-9:
            raise InputError(
                f"tranches[{i}].gw_per_year",
                t.gw_per_year,
                f"a rate that deploys {t.gw:g} GW within the {cfg.horizon_years}-year horizon "
                f"(only {cum[-1]:.2f} GW by then)",
            )
        deployed[t.name] = np.diff(np.concatenate([[0.0], cum]))
    cumulative = np.cumsum(sum(deployed.values()))
    avail = np.asarray(cfg.power.available_gw_by_year, dtype=float)
    pue = cfg.power.pue
    for y in range(cfg.horizon_years):
        it_gw = cumulative[12 * (y + 1) - 1]
        need = it_gw * pue  # grid power: electricity is drawn (and billed) on IT × PUE
        j = min(y, avail.size - 1)
        if need > avail[j] + 1e-9:
            raise InputError(
                f"power.available_gw_by_year[{j}]",
                float(avail[j]),
                f">= {need:.2f} GW of grid power: the {it_gw:.2f} GW of IT the schedule has "
                f"deployed by the end of year {y + 1} × PUE {pue:g}",
            )
    return months, deployed


def fund(
    cfg: CampaignConfig, uses: FloatArray, deployed: dict[str, FloatArray]
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Sources by month in the funding order of the module docstring, and the gap.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.
    uses : numpy.ndarray of float
        Uses of funds per month [USD].
    deployed : dict of str to numpy.ndarray
        GW deployed per month by tranche [GW].

    Returns
    -------
    tuple of (dict of str to numpy.ndarray, numpy.ndarray)
        Each source's funding per month [USD] and the unfunded gap per month [USD]; sources plus
        gap equal the uses every month.
    """
    sources = {s.name: np.zeros(uses.size) for s in cfg.financing}
    remaining = uses.copy()
    for s in cfg.financing:
        per_gw = _per_gw(cfg, s)
        if per_gw is None:
            continue
        tranche = present(s.tranche, f"financing.{s.name}.tranche")
        amount = np.minimum(_cap(deployed[tranche] * per_gw, s.cap_usd), remaining)
        sources[s.name] = amount
        remaining = remaining - amount
    base = remaining.copy()
    for s in cfg.financing:
        if s.share is not None:
            sources[s.name] = _cap(base * s.share, s.cap_usd)
            remaining = remaining - sources[s.name]
    for s in cfg.financing:
        if s.kind == "guarantor":
            sources[s.name] = _cap(np.maximum(remaining, 0.0), s.cap_usd)
            remaining = remaining - sources[s.name]
    return sources, uses - sum(sources.values())


def build(cfg: CampaignConfig, capex_scale: float = 1.0, gpu_scale: float = 1.0) -> Buildout:
    """Schedule, capex, funding, circular exposure and base-case running costs.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.
    capex_scale : float
        Multiplies every capex component [-] (sensitivities).
    gpu_scale : float
        Multiplies the compute only [-].

    Returns
    -------
    Buildout
        The monthly schedule, capex, sources, gap, vendor revenue and circular exposure.
    """
    months, deployed = schedule(cfg)
    n = months.size
    per_gw = cfg.capex_per_gw()
    gw_month: FloatArray = np.sum(list(deployed.values()), axis=0)
    capex = {
        c: gw_month * per_gw[c] * capex_scale * (gpu_scale if c == "compute" else 1.0)
        for c in COMPONENTS
    }
    capex["refresh"] = _lag(capex["compute"], cfg.gpu_refresh_years * 12)
    uses: FloatArray = np.sum(list(capex.values()), axis=0)
    sources, gap = fund(cfg, uses, deployed)
    delay = cfg.power.interconnection_delay_months
    energised = _lag(np.cumsum(gw_month), delay)
    # Vendors sell the compute and networking of their tranches, and the refreshes.
    vendor_rev: dict[str, FloatArray] = {}
    vendor_margin: dict[str, FloatArray] = {}
    for t in cfg.tranches:
        share = np.divide(deployed[t.name], gw_month, out=np.zeros(n), where=gw_month > 0)
        sold = (capex["compute"] + capex["networking"]) * share
        sold = sold + _lag(capex["compute"] * share, cfg.gpu_refresh_years * 12)
        vendor_rev[t.vendor] = vendor_rev.get(t.vendor, np.zeros(n)) + sold
        vendor_margin[t.vendor] = (
            vendor_margin.get(t.vendor, np.zeros(n)) + t.vendor_gross_margin * sold
        )
    circular = {}
    for vendor, rev in vendor_rev.items():
        invested = float(sum(sources[s.name].sum() for s in _vendor_sources(cfg, vendor)))
        circular[vendor] = {
            "revenue_usd": float(rev.sum()),
            "self_funded_usd": invested,
            "share_of_revenue_self_funded": circular_exposure(invested, float(rev.sum())),
        }
    electricity, opex = running_costs_usd(cfg, energised * 1000.0, cfg.revenue.utilisation)
    return Buildout(
        months,
        deployed,
        energised,
        capex,
        uses,
        sources,
        gap,
        vendor_rev,
        vendor_margin,
        circular,
        electricity,
        opex,
    )


def running_costs_usd(
    cfg: CampaignConfig, mw: FloatArray, utilisation: FloatArray | float
) -> tuple[FloatArray, FloatArray]:
    """Monthly electricity and opex of the energised capacity.

    Electricity is energised IT MW × utilisation × PUE × hours × price; opex is per energised MW.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign (PUE, power price, opex).
    mw : numpy.ndarray of float
        Energised IT capacity per month [MW] (any leading scenario axes).
    utilisation : numpy.ndarray of float or float
        Share of the capacity drawing power [-].

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Electricity and opex per month [USD].
    """
    p = cfg.power
    electricity = mw * utilisation * p.pue * HOURS_PER_MONTH * p.electricity_usd_per_mwh
    return electricity, mw * cfg.revenue.opex_usd_per_mw_year / 12.0


def _lag(x: FloatArray, months: int) -> FloatArray:
    out = np.zeros_like(x)
    if months < x.size:
        out[months:] = x[: x.size - months]
    return out


def _cap(amount: FloatArray, cap: float | None) -> FloatArray:
    """Monthly amounts whose running total stops at ``cap``."""
    if cap is None:
        return amount
    return np.diff(np.concatenate([[0.0], np.minimum(np.cumsum(amount), cap)]))


def _per_gw(cfg: CampaignConfig, s: SourceConfig) -> float | None:
    if s.per_gw_usd is not None:
        return s.per_gw_usd
    if s.warrant_shares is not None and s.share_price_usd is not None:
        gw = next(t.gw for t in cfg.tranches if t.name == s.tranche)
        return s.warrant_shares * s.share_price_usd / gw
    return None


def _vendor_sources(cfg: CampaignConfig, vendor: str) -> list[SourceConfig]:
    """Vendor-kind sources that follow a tranche of this vendor."""
    tranche_vendor = {t.name: t.vendor for t in cfg.tranches}
    return [
        s
        for s in cfg.financing
        if s.kind == "vendor" and s.tranche is not None and tranche_vendor[s.tranche] == vendor
    ]


def circular_exposure(self_funded_usd: float, revenue_usd: float) -> float:
    """Share of a vendor's campaign revenue that its own investment (or warrants) funded.

    Parameters
    ----------
    self_funded_usd : float
        What the vendor's own sources put in [USD].
    revenue_usd : float
        What the vendor sold to the campaign [USD].

    Returns
    -------
    float
        The share [-].

    Raises
    ------
    InputError
        ``revenue_usd`` is not positive.
    """
    if revenue_usd <= 0:
        raise InputError("vendor revenue_usd", revenue_usd, "> 0 (the vendor sells nothing)")
    return self_funded_usd / revenue_usd


def party_flows(
    cfg: CampaignConfig, b: Buildout, rent_usd_per_kw_month: FloatArray, utilisation: FloatArray
) -> dict[str, FloatArray]:
    """Each party's monthly cash flows ``[scenario, month]`` for the given rents and utilisation.

    Lenders (debt, then guarantors, in the order given) are served first from operating cash;
    equity holders share what is left by capital put in; vendors add their gross margin on what
    they sell and bear their warrants. The operator's unfunded gap is not a party's cash.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.
    b : Buildout
        From :func:`build`.
    rent_usd_per_kw_month : numpy.ndarray of float
        Rent per scenario [USD/kW-month].
    utilisation : numpy.ndarray of float
        Utilisation per scenario [-].

    Returns
    -------
    dict of str to numpy.ndarray
        Cash flows ``[scenario, month]`` [USD] by party.
    """
    rent = np.asarray(rent_usd_per_kw_month, dtype=float)[:, None]
    util = np.asarray(utilisation, dtype=float)[:, None]
    mw = (b.gw_energised * 1000.0)[None, :]
    electricity, opex = running_costs_usd(cfg, mw, util)
    operating = util * mw * 1000.0 * rent - electricity - opex
    available = np.maximum(operating, 0.0)
    # At the horizon the business is worth a multiple of its last 12 months' operating cash;
    # lenders' outstanding balances and arrears are paid from it first, equity gets the rest.
    terminal = cfg.terminal_ebitda_multiple * np.maximum(operating[:, -12:].sum(axis=1), 0.0)
    flows: dict[str, FloatArray] = {}
    lenders = [s for s in cfg.financing if s.kind == "debt"] + [
        s for s in cfg.financing if s.kind == "guarantor"
    ]
    for s in lenders:
        lent = b.sources[s.name]
        service, balance = _annuity(lent, s.rate_annual, s.tenor_years)
        paid = np.minimum(service[None, :], available)
        available = available - paid
        claim = balance + (service[None, :] - paid).sum(axis=1)
        recovered = np.minimum(claim, terminal)
        terminal = terminal - recovered
        flows[s.name] = paid - lent[None, :]
        flows[s.name][:, -1] += recovered
    available[:, -1] += terminal
    holders = [s for s in cfg.financing if not s.is_lender and s.warrant_shares is None]
    put_in = {s.name: b.sources[s.name] for s in holders}
    total = sum(float(v.sum()) for v in put_in.values())
    for s in holders:
        stake = float(put_in[s.name].sum()) / total if total > 0 else 0.0
        flows[s.name] = stake * available - put_in[s.name][None, :]
    for t_vendor, margin_usd in b.vendor_margin_usd.items():
        vendor = np.broadcast_to(margin_usd, operating.shape).copy()
        for s in _vendor_sources(cfg, t_vendor):
            vendor += flows.pop(s.name) if s.name in flows else -b.sources[s.name][None, :]
        flows[t_vendor] = vendor
    return flows


def _annuity(lent: FloatArray, rate: float, years: int) -> tuple[FloatArray, float]:
    """Monthly payments on loans drawn each month, each an annuity over ``years`` from the next
    month (the drawdowns convolved with one loan's payment schedule), and the balance still
    owed after the last month."""
    r = rate / 12.0
    m = years * 12
    factor = r / (1 - (1 + r) ** -m) if r > 0 else 1.0 / m
    n = lent.size
    pay = np.convolve(lent, np.concatenate([[0.0], np.full(m, factor)]))[:n]
    paid_count = np.minimum(n - 1 - np.arange(n), m)  # payments made by the last month
    if r > 0:
        left = 1.0 - ((1 + r) ** paid_count - 1) / ((1 + r) ** m - 1)
    else:
        left = 1.0 - paid_count / m
    return pay, float(lent @ left)


def _stats(cfg: CampaignConfig, flows: FloatArray) -> dict[str, Any]:
    irr = irr_annual_paths(flows)
    finite = irr[np.isfinite(irr)]
    npv = flows @ discount_factors(cfg.discount_rate_annual, flows.shape[1])

    def q(x: FloatArray) -> dict[str, float | None]:
        if not x.size:
            return {"p5": None, "p50": None, "p95": None}
        v = np.percentile(x, [5, 50, 95])
        return {"p5": float(v[0]), "p50": float(v[1]), "p95": float(v[2])}

    return {
        "irr": q(finite) | {"share_defined": float(finite.size / irr.size)},
        "npv_usd": q(npv),
        "p_loss": float(np.mean(flows.sum(axis=1) < 0)),
    }


def party_returns(cfg: CampaignConfig, b: Buildout) -> tuple[dict[str, Any], dict[str, Any]]:
    """IRR and NPV of each party over seeded rent/utilisation scenarios, and one-way stresses.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign (revenue terms, scenarios, seed, discount rate).
    b : Buildout
        From :func:`build`.

    Returns
    -------
    tuple of (dict, dict)
        Per party: P5/P50/P95 of the IRR [1/yr] (and the share of scenarios where it is
        defined) and of the NPV [USD], and P(loss) [-]; and the stresses: NPV [USD] by rent
        factor and by utilisation.
    """
    rng = np.random.default_rng(cfg.seed)
    r = cfg.revenue
    z = rng.standard_normal((2, cfg.scenarios))
    rent = r.usd_per_kw_month * np.exp(r.rent_volatility * z[0] - r.rent_volatility**2 / 2)
    util = np.clip(r.utilisation + r.utilisation_sd * z[1], 0.0, 1.0)
    parties = {k: _stats(cfg, v) for k, v in party_flows(cfg, b, rent, util).items()}
    disc = discount_factors(cfg.discount_rate_annual, b.months.size)
    k = len(RENT_STRESS)
    by_rent = party_flows(
        cfg, b, r.usd_per_kw_month * np.asarray(RENT_STRESS), np.full(k, r.utilisation)
    )
    by_util = party_flows(
        cfg, b, np.full(k, r.usd_per_kw_month), r.utilisation * np.asarray(UTILISATION_STRESS)
    )
    stress = {
        "rent_factor": list(RENT_STRESS),
        "utilisation": [r.utilisation * x for x in UTILISATION_STRESS],
        "npv_usd_by_rent": {n: (f @ disc).tolist() for n, f in by_rent.items()},
        "npv_usd_by_utilisation": {n: (f @ disc).tolist() for n, f in by_util.items()},
    }
    return parties, stress


def host_sites(cfg: CampaignConfig) -> dict[str, Any]:
    """Mining sites of a plan that could host part of the campaign.

    IT MW at the campaign's PUE, retrofit capex and lead time against greenfield.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign (``power.mining_sites_plan`` names the plan).

    Returns
    -------
    dict
        Per site: IT MW [MW] and retrofit and greenfield capex [USD]; the totals, the share of
        the campaign [-] and the months saved [month]. Empty without a plan.
    """
    if cfg.power.mining_sites_plan is None:
        return {}
    plan, _ = config.load_plan(cfg.power.mining_sites_plan)
    p = cfg.power
    sites: list[dict[str, Any]] = [
        {
            "site": s.name,
            "jurisdiction": s.jurisdiction,
            "it_mw": s.power_capacity_mw / p.pue,
            "retrofit_capex_usd": s.power_capacity_mw / p.pue * p.retrofit_capex_usd_per_mw_it,
            "greenfield_capex_usd": s.power_capacity_mw / p.pue * p.greenfield_capex_usd_per_mw_it,
        }
        for s in plan.sites
    ]
    it_mw = sum(s["it_mw"] for s in sites)
    gw_total = sum(t.gw for t in cfg.tranches)
    return {
        "plan": cfg.power.mining_sites_plan,
        "sites": sites,
        "it_mw_total": it_mw,
        "share_of_campaign": it_mw / (gw_total * 1000.0),
        "retrofit_capex_usd": sum(s["retrofit_capex_usd"] for s in sites),
        "greenfield_capex_usd": sum(s["greenfield_capex_usd"] for s in sites),
        "retrofit_lead_months": p.retrofit_lead_months,
        "greenfield_lead_months": p.greenfield_lead_months,
        "months_saved": p.greenfield_lead_months - p.retrofit_lead_months,
    }


def sensitivity(
    cfg: CampaignConfig, scales: tuple[float, ...] = (0.7, 0.85, 1.0, 1.15, 1.3)
) -> dict[str, list[float]]:
    """Build capex and funding gap against the $/GW level and, separately, the GPU price.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.
    scales : tuple of float
        Multipliers applied [-].

    Returns
    -------
    dict of str to list of float
        ``scales`` and the total capex and funding gap [USD] at each.
    """
    by_capex = [build(cfg, capex_scale=x) for x in scales]
    by_gpu = [build(cfg, gpu_scale=x) for x in scales]
    return {
        "scales": list(scales),
        "capex_total_usd_vs_capex_per_gw": [float(b.capex_build.sum()) for b in by_capex],
        "capex_total_usd_vs_gpu_price": [float(b.capex_build.sum()) for b in by_gpu],
        "funding_gap_usd_vs_capex_per_gw": [float(b.gap.sum()) for b in by_capex],
        "funding_gap_usd_vs_gpu_price": [float(b.gap.sum()) for b in by_gpu],
    }


def run(cfg: CampaignConfig) -> tuple[Buildout, dict[str, list[float]]]:
    """The whole campaign: schedule, funding, parties' returns, host sites and sensitivities.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.

    Returns
    -------
    tuple of (Buildout, dict)
        The results and the sensitivities [USD].
    """
    b = build(cfg)
    b.parties, b.stress = party_returns(cfg, b)
    b.host_sites = host_sites(cfg)
    return b, sensitivity(cfg)


def result_json(cfg: CampaignConfig, b: Buildout, sens: dict[str, list[float]]) -> dict[str, Any]:
    """What ``hashpivot buildout --json`` and ``POST /api/buildout`` answer.

    Parameters
    ----------
    cfg : CampaignConfig
        The validated campaign.
    b : Buildout
        From :func:`run`.
    sens : dict of str to list of float
        From :func:`sensitivity`.

    Returns
    -------
    dict
        Campaign name and preset, :meth:`Buildout.summary` and the sensitivities.
    """
    return (
        {"campaign": cfg.name, "capex_preset": cfg.capex_preset}
        | b.summary()
        | {"sensitivity": sens}
    )
