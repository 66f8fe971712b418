"""AI/HPC hosting economics of a converted mining site: leases, own-GPU cloud, token-paid compute.

Everything is a monthly schedule *relative to the month conversion starts* (``m = 0``). Cash that
scales with the rent signed is kept apart from cash that does not, so the value of converting at
month ``τ`` on any path is linear in the rent signed then:

    PV_τ = rent_τ · Σ_m A[m] · DF(m) + Σ_m B[m] · DF(m)

where ``A`` is the income per $1/kW-month of rent (ramp, escalator, credit, renewal) and ``B``
collects capex, landlord opex and, under a gross lease, the power bill. The least-squares Monte
Carlo in :mod:`hashpivot.finance.lsm` needs that value for every path and month.

Published anchors (``shared/REFERENCE_FIGURES.md``):

* retrofit capex of a mining site is $8–11M per MW of critical IT (TeraWulf, Cipher), and new
  builds average $11.7M/MW (Cushman & Wakefield 2025);
* miner sites energise GPUs in 6–12 months;
* implied rent = contract value ÷ years ÷ kW ÷ 12. Core Scientific–CoreWeave: $8.7B / 12 yr /
  500 MW ≈ $121/kW-month;
* 100 MW gross ≈ 70 MW critical IT (Core Scientific's Muskogee site), i.e. a grid-to-IT ratio of
  about 1.43.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InputError, require_fraction, require_non_negative, require_positive
from ..units import HOURS_PER_MONTH, FloatArray

#: Grid power per unit of critical IT power [-], the one default for every IT-MW conversion
#: (plan conversions, GPU clouds and build-outs): Core Scientific's Muskogee site, 100 MW gross
#: ≈ 70 MW of critical IT (1.43), rounded. Electricity is billed on IT × PUE.
DEFAULT_AI_PUE = 1.4

#: Hours in an average month (8766 / 12).


def implied_rent_usd_per_kw_month(contract_value_usd: float, years: float, mw: float) -> float:
    """Rent implied by a lease's total value: ``value / years / kW / 12``.

    Escalators are ignored, as in the published comparisons.

    Parameters
    ----------
    contract_value_usd : float
        Total contract value [USD].
    years : float
        Lease term [yr].
    mw : float
        Critical IT capacity leased [MW].

    Returns
    -------
    float
        Rent [USD/kW-month].
    """
    require_positive("contract_value_usd", contract_value_usd)
    require_positive("years", years)
    require_positive("mw", mw)
    return contract_value_usd / years / (mw * 1000.0) / 12.0


def critical_it_mw(grid_mw: float, ai_pue: float, share: float = 1.0) -> float:
    """Critical IT power a converted share of an interconnect supports: ``grid · share / PUE``.

    Parameters
    ----------
    grid_mw : float
        Interconnect capacity [MW].
    ai_pue : float
        Power usage effectiveness of the AI hall [-].
    share : float
        Share of the interconnect converted [-].

    Returns
    -------
    float
        Critical IT power [MW].
    """
    require_positive("grid_mw", grid_mw)
    if not ai_pue >= 1.0:
        raise InputError("ai_pue", ai_pue, ">= 1")
    require_fraction("share", share)
    return grid_mw * share / ai_pue


def ramp(n_months: int, lead_time_months: int, ramp_months: int) -> FloatArray:
    """Share of the IT capacity delivered (and paying) in each month after conversion starts.

    0 while building, then a linear ramp over ``ramp_months`` (full at once if 0).

    Parameters
    ----------
    n_months : int
        Months after the start [month].
    lead_time_months : int
        Construction time before the first capacity [month].
    ramp_months : int
        Months from the first capacity to full [month].

    Returns
    -------
    numpy.ndarray of float
        Share delivered per month [-], shape ``(n_months,)``.
    """
    m = np.arange(n_months, dtype=np.float64)
    live = m - lead_time_months
    if ramp_months <= 0:
        return (live >= 0).astype(np.float64)
    return np.clip((live + 1) / ramp_months, 0.0, 1.0)


@dataclass(frozen=True)
class LeaseTerms:
    """A hosting lease. ``structure`` 'nnn': the tenant pays power and site opex; 'gross' (modified
    gross): the landlord pays power out of the rent."""

    rent_usd_per_kw_month: float
    escalator_annual: float = 0.0
    term_months: int = 120
    structure: str = "nnn"
    landlord_opex_usd_per_kw_month: float = 0.0
    prepayment_months: int = 0
    tenant_default_probability_annual: float = 0.0
    backstop_share: float = 0.0
    renewal_probability: float = 0.0
    renewal_term_months: int = 0
    load_factor: float = 0.8  # share of IT capacity drawn on average (gross leases' power bill)

    def __post_init__(self) -> None:
        require_non_negative("lease.rent_usd_per_kw_month", self.rent_usd_per_kw_month)
        if self.structure not in ("nnn", "gross"):
            raise InputError("lease.structure", self.structure, "nnn or gross")
        require_fraction(
            "lease.tenant_default_probability_annual", self.tenant_default_probability_annual
        )
        require_fraction("lease.backstop_share", self.backstop_share)
        require_fraction("lease.renewal_probability", self.renewal_probability)
        require_fraction("lease.load_factor", self.load_factor)


def credit_factor(
    months: FloatArray, default_probability_annual: float, backstop_share: float
) -> FloatArray:
    """Expected share of rent collected ``months`` after the lease starts.

    The tenant survives with probability ``(1 − PD)^(m/12)``; after a default a guarantor pays
    ``backstop_share`` of the rent still due.

    Parameters
    ----------
    months : numpy.ndarray of float
        Months since the lease started [month].
    default_probability_annual : float
        Tenant's yearly probability of default [1/yr].
    backstop_share : float
        Share of the rent a guarantor pays after a default [-].

    Returns
    -------
    numpy.ndarray of float
        Expected share collected [-], same shape as ``months``.
    """
    survive = (1.0 - default_probability_annual) ** (np.maximum(months, 0.0) / 12.0)
    return survive + (1.0 - survive) * backstop_share


@dataclass(frozen=True)
class ConversionProject:
    """A conversion: IT capacity, capex, build and ramp, the lease, and (gross leases) the power
    price the landlord pays."""

    it_mw: float
    capex_usd: float
    lead_time_months: int
    ramp_months: int
    lease: LeaseTerms
    ai_pue: float
    power_usd_per_mwh: float

    def __post_init__(self) -> None:
        require_positive("conversion.it_mw", self.it_mw)
        require_non_negative("conversion.capex_usd", self.capex_usd)
        if self.lead_time_months < 0:
            raise InputError("conversion.lead_time_months", self.lead_time_months, ">= 0")
        if self.ramp_months < 0:
            raise InputError("conversion.ramp_months", self.ramp_months, ">= 0")

    @property
    def length_months(self) -> int:
        """Months from the start of conversion to the end of the lease and renewal."""
        return self.lead_time_months + self.lease.term_months + self.lease.renewal_term_months

    def schedule(self) -> tuple[FloatArray, FloatArray]:
        """``(A, B)`` over ``m = 0 .. length_months − 1``: income per $1/kW-month of rent signed,
        and cash independent of the rent (capex, landlord opex, gross-lease power) [USD]."""
        lease = self.lease
        n = self.length_months
        m = np.arange(n, dtype=np.float64)
        kw = self.it_mw * 1000.0
        delivered = ramp(n, self.lead_time_months, self.ramp_months)
        since_start = m - self.lead_time_months
        in_term = (since_start >= 0) & (since_start < lease.term_months)
        in_renewal = (since_start >= lease.term_months) & (
            since_start < lease.term_months + lease.renewal_term_months
        )
        weight = in_term + lease.renewal_probability * in_renewal
        escalation = (1.0 + lease.escalator_annual) ** (np.maximum(since_start, 0.0) / 12.0)
        credit = credit_factor(
            since_start, lease.tenant_default_probability_annual, lease.backstop_share
        )
        a = kw * delivered * escalation * credit * weight
        if lease.prepayment_months:
            # Rent for the first months of the lease is paid at signing (no credit risk on it) and
            # credited against those months.
            first = (since_start >= 0) & (since_start < lease.prepayment_months)
            a[0] += kw * (escalation * first).sum()
            a[first] = 0.0
        b = np.zeros(n)
        build = max(self.lead_time_months, 1)
        b[:build] -= self.capex_usd / build
        b -= lease.landlord_opex_usd_per_kw_month * kw * delivered * weight
        if lease.structure == "gross":
            mwh = self.it_mw * lease.load_factor * self.ai_pue * HOURS_PER_MONTH
            b -= mwh * self.power_usd_per_mwh * delivered * weight
        return a, b

    def present_value_coefficients(self, monthly_discount: float) -> tuple[float, float]:
        """``(PA, PB)``: value at the start of conversion of the whole project is
        ``rent · PA + PB``, cash at the end of each month discounted monthly."""
        a, b = self.schedule()
        df = monthly_discount ** (np.arange(a.size) + 1.0)
        return float(a @ df), float(b @ df)


def project_cashflows(
    project: ConversionProject,
    start_month: npt.NDArray[np.int64],
    rent_signed: FloatArray,
    n_months: int,
    monthly_discount: float,
) -> tuple[FloatArray, FloatArray]:
    """Monthly cash of conversions started in ``start_month[i]`` at rent ``rent_signed[i]``.

    Over the plan horizon ``[path, month]``, and the value at the horizon of what falls after it
    ``[path]`` (the contracted lease tail, discounted to the horizon).

    Parameters
    ----------
    project : ConversionProject
        The conversion's capex, lead time, ramp, lease and credit terms.
    start_month : numpy.ndarray of int
        Month each path's conversion starts [month] (``n_months``: never).
    rent_signed : numpy.ndarray of float
        Rent signed on each path [USD/kW-month].
    n_months : int
        Plan horizon [month].
    monthly_discount : float
        Discount factor over one month [-].

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Cash [USD] per ``[path, month]`` and the lease tail's value at the horizon [USD] per path.
    """
    a, b = project.schedule()
    length = a.size
    n = start_month.shape[0]
    m = np.arange(n_months)[None, :] - start_month[:, None]  # months since conversion started
    inside = (m >= 0) & (m < length)
    idx = np.clip(m, 0, length - 1)
    cash = np.where(inside, rent_signed[:, None] * a[idx] + b[idx], 0.0)
    # The tail: months m >= n_months − start, discounted to the horizon.
    tail = np.zeros(n)
    started = start_month < n_months
    if started.any():
        first_after = n_months - start_month[started]  # first m beyond the horizon
        steps = np.arange(length)[None, :] - first_after[:, None]
        after = steps >= 0
        df = np.where(after, monthly_discount ** (steps + 1.0), 0.0)
        flows = rent_signed[started, None] * a[None, :] + b[None, :]
        tail[started] = (flows * df).sum(axis=1)
    return cash, tail


# --------------------------------------------------------------------------- own-GPU cloud
@dataclass(frozen=True)
class GpuCloud:
    """Own GPUs rented by the hour on a site's IT capacity.

    ``n_gpus`` from the IT power: ``IT W / (GPU TDP × server_overhead)`` (CPUs, memory, network).
    Revenue ``n · rate · hours · utilisation``; the rate falls ``rate_decline_annual`` a year with
    the GPU's age, and restarts at ``rate_usd_per_gpu_hour`` when the fleet is refreshed (bought
    again) every ``life_months``. Capex: GPUs × price × ``system_multiplier`` (servers, network).
    Power: IT MW × utilisation × PUE at the site's price. Optionally paid in a token
    (decentralised compute networks): revenue then also scales with a token-price index.
    """

    it_mw: float
    gpu_tdp_w: float
    gpu_price_usd: float
    rate_usd_per_gpu_hour: float
    utilisation: float
    life_months: int
    rate_decline_annual: float = 0.0
    server_overhead: float = 1.5
    system_multiplier: float = 1.4
    ai_pue: float = DEFAULT_AI_PUE
    power_usd_per_mwh: float = 50.0
    opex_usd_per_gpu_month: float = 0.0

    def __post_init__(self) -> None:
        require_positive("gpu_cloud.it_mw", self.it_mw)
        require_positive("gpu_cloud.gpu_tdp_w", self.gpu_tdp_w)
        require_non_negative("gpu_cloud.gpu_price_usd", self.gpu_price_usd)
        require_non_negative("gpu_cloud.rate_usd_per_gpu_hour", self.rate_usd_per_gpu_hour)
        require_fraction("gpu_cloud.utilisation", self.utilisation)
        if not 1 <= self.life_months <= 240:
            raise InputError("gpu_cloud.life_months", self.life_months, "1..240")

    @property
    def n_gpus(self) -> float:
        """GPUs the IT power supports [-]."""
        return self.it_mw * 1e6 / (self.gpu_tdp_w * self.server_overhead)

    def schedule(self, n_months: int) -> tuple[FloatArray, FloatArray]:
        """``(A, B)`` by month from the start: revenue per unit of the rate/token index, and cash
        independent of it (GPU purchases at each refresh, power, opex) [USD]."""
        m = np.arange(n_months)
        age = m % self.life_months
        rate = self.rate_usd_per_gpu_hour * (1 - self.rate_decline_annual) ** (age / 12.0)
        a = self.n_gpus * rate * HOURS_PER_MONTH * self.utilisation
        b = -np.full(
            n_months,
            self.it_mw * self.utilisation * self.ai_pue * HOURS_PER_MONTH * self.power_usd_per_mwh
            + self.opex_usd_per_gpu_month * self.n_gpus,
        )
        b[age == 0] -= self.n_gpus * self.gpu_price_usd * self.system_multiplier
        return a, b

    def depreciation_usd_per_month(self) -> float:
        """Straight-line depreciation of the GPU systems [USD/month]."""
        return self.n_gpus * self.gpu_price_usd * self.system_multiplier / self.life_months
