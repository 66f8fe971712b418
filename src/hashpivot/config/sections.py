"""The sections a plan site is built from: fleet lines, capital outlays, the conversion to AI/HPC,
the hosting lease and an own-GPU cloud. A module of their own because both a site
(:class:`~hashpivot.config.models.PlanSiteConfig`) and its alternatives
(:mod:`hashpivot.config.alternatives`) are made of them."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from ..data import power_prices as price_data
from ..errors import InputError
from ..sites import hardware
from ..sites.hosting import DEFAULT_AI_PUE
from .io import StrictModel

_Strict = StrictModel  # the one strict base (config_io.StrictModel)


class FleetEntryConfig(_Strict):
    """One line of a fleet: a catalogue model or a generic efficiency, in units or a power share."""

    model: str | None = Field(
        None, description="ASIC model, exactly as in `hashpivot hardware` (e.g. 'Antminer S21')."
    )
    efficiency_j_per_th: float | None = Field(
        None,
        gt=0,
        le=1000,
        description="Generic machines of this efficiency [J/TH], instead of a model.",
    )
    units: int | None = Field(None, gt=0, description="Number of machines [-].")
    share_of_power: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Share of the site's IT power (capacity / PUE) this line draws [-].",
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str | None) -> str | None:
        if v is not None and v not in hardware.asic_catalogue().index:
            allowed = ", ".join(hardware.asic_catalogue().index)
            raise ValueError(f"unknown ASIC model; allowed: {allowed}")
        return v

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        if (self.model is None) == (self.efficiency_j_per_th is None):
            raise ValueError("give exactly one of 'model' or 'efficiency_j_per_th'")
        if (self.units is None) == (self.share_of_power is None):
            raise ValueError("give exactly one of 'units' or 'share_of_power'")
        if self.efficiency_j_per_th is not None and self.units is not None:
            raise ValueError(
                "a generic 'efficiency_j_per_th' line needs 'share_of_power', not units"
            )
        if self.model is not None and self.units is not None:
            if not hardware.asic(self.model).has_unit_specs:
                raise ValueError(
                    f"'{self.model}' has no published hashrate/power: give share_of_power"
                )
        return self


class LeaseConfig(_Strict):
    """An AI/HPC hosting lease (the landlord's side)."""

    rent_usd_per_kw_month: float = Field(
        ge=0, le=2000, description="Rent per kW of critical IT a month at signing [USD/kW-month]."
    )
    rent_index: str | None = Field(
        None, description="A market index the rent at signing follows (rent × index at signing)."
    )
    escalator_annual: float = Field(0.0, ge=-0.1, le=0.2, description="Yearly rent escalator.")
    term_months: int = Field(gt=0, le=360, description="Lease term [months] (at most 30 years).")
    structure: Literal["nnn", "gross"] = Field(
        "nnn", description="'nnn': tenant pays power and opex; 'gross': landlord pays power."
    )
    landlord_opex_usd_per_kw_month: float = Field(
        0.0, ge=0, le=500, description="Landlord's operating cost [USD/kW-month] while leased."
    )
    prepayment_months: int = Field(0, ge=0, le=60, description="Months of rent prepaid at signing.")
    tenant_default_probability_annual: float = Field(
        0.0, ge=0, le=1, description="Tenant's yearly default probability [-]."
    )
    backstop_share: float = Field(
        0.0, ge=0, le=1, description="Share of rent due after a default that a guarantor pays."
    )
    renewal_probability: float = Field(0.0, ge=0, le=1, description="Chance the lease renews.")
    renewal_term_months: int = Field(0, ge=0, le=240, description="Renewal term [months].")
    load_factor: float = Field(
        0.8, gt=0, le=1, description="Average draw / IT capacity (power bill of gross leases)."
    )

    @model_validator(mode="after")
    def _prepay(self) -> Self:
        if self.prepayment_months > self.term_months:
            raise ValueError(
                f"prepayment_months {self.prepayment_months} exceeds term_months {self.term_months}"
            )
        return self


class ConversionConfig(_Strict):
    """Converting (part of) a mining site's interconnect to AI/HPC."""

    kind: Literal["retrofit", "greenfield"] = Field(
        "retrofit", description="Retrofit of the mining site, or a greenfield build beside it."
    )
    share: float = Field(
        1.0, gt=0, le=1, description="Share of the interconnect converted [-] (hybrid: < 1)."
    )
    ai_pue: float = Field(
        DEFAULT_AI_PUE,
        ge=1,
        le=3,
        description="PUE of the AI halls: grid power per unit of critical IT [-] (default "
        f"{DEFAULT_AI_PUE:g}, the one default for IT-MW conversions: Muskogee 100 MW gross ≈ "
        "70 MW IT).",
    )
    capex_usd_per_mw_it: float = Field(
        ge=0,
        le=60e6,
        description="Capex per MW of critical IT [USD/MW] (retrofit $8–11M, "
        "greenfield ~$11.7M average).",
    )
    lead_time_months: int = Field(9, ge=0, le=60, description="Build time; no revenue [months].")
    ramp_months: int = Field(0, ge=0, le=60, description="Linear ramp after the build [months].")
    start_month: int = Field(
        0,
        ge=0,
        le=600,
        description="Hosting/hybrid/gpu_cloud: the month conversion starts. "
        "option_to_convert: the first month a conversion may start.",
    )
    latest_month: int | None = Field(
        None, ge=0, le=600, description="option_to_convert: the last month a conversion may start."
    )
    fixed_month: int = Field(
        12,
        ge=0,
        le=600,
        description="option_to_convert: the month of the fixed-date policy "
        "compared with never, now and optimal.",
    )


class GpuCloudConfig(_Strict):
    """Own GPUs rented by the hour (or to a decentralised network paid in a token)."""

    gpu_model: str = Field(description="GPU from `hashpivot hardware --kind gpu`.")
    gpu_price_usd: float | None = Field(
        None, ge=0, description="Price per GPU [USD] (default: the catalogue's approximate MSRP)."
    )
    rate_usd_per_gpu_hour: float = Field(ge=0, le=100, description="Rental rate [USD/GPU-hour].")
    rate_index: str | None = Field(
        None, description="A market index the rate follows (for a token-paid network: the token)."
    )
    utilisation: float = Field(gt=0, le=1, description="Share of GPU-hours sold [-].")
    life_months: int = Field(60, ge=12, le=120, description="Depreciation life and refresh cycle.")
    rate_decline_annual: float = Field(
        0.15, ge=0, le=0.9, description="Yearly fall of a GPU's rate as it ages [-]."
    )
    server_overhead: float = Field(
        1.5, ge=1, le=3, description="IT power per GPU / GPU TDP (CPUs, memory, network)."
    )
    system_multiplier: float = Field(
        1.4, ge=1, le=3, description="System capex per GPU / GPU price (servers, network)."
    )
    opex_usd_per_gpu_month: float = Field(0.0, ge=0, description="Operating cost [USD/GPU/month].")

    @field_validator("gpu_model")
    @classmethod
    def _known_gpu(cls, v: str) -> str:
        if v not in hardware.gpu_catalogue().index:
            raise ValueError(
                "unknown GPU model; allowed: " + ", ".join(hardware.gpu_catalogue().index)
            )
        return v


class CapexConfig(_Strict):
    """One capital outlay, paid at the end of a plan month."""

    month: int = Field(ge=0, le=600, description="Plan month the payment falls in (0 = first).")
    amount_usd: float = Field(ge=0, description="Amount [USD].")


def market_name(v: str | None) -> str | None:
    """``v`` if it names an hourly market of the data store (or is ``None``).

    Parameters
    ----------
    v : str or None
        A market name (``ercot:NODE:YEAR`` …).

    Returns
    -------
    str or None
        ``v``, unchanged.

    Raises
    ------
    ValueError
        Not a market name (pydantic turns it into a field error listing the allowed names).
    """
    if v is not None:
        try:
            price_data.check_market_name(v)
        except InputError as exc:
            raise ValueError(
                f"power_market {v!r} is not a market name; allowed: {exc.allowed}"
            ) from None
    return v


class SellBackConfig(_Strict):
    """Flexible mining: the site's power contract with the right to resell its energy at the
    hourly market price, and a demand-response payment for being interruptible.

    Each hour the site mines, resells or idles, whichever pays most: with mining value ``v``
    [USD/MWh], contract price ``P`` and market price ``p``, an exported MWh earns
    ``max(v − P, p − c − P, 0)`` (``max(v, p − c) − P`` on a take-or-pay contract), ``c`` the
    resale cost."""

    power_market: str | None = Field(
        None,
        description="Hourly market the energy is resold on, in the data store's vocabulary "
        "(e.g. 'ercot:HB_WEST:da:2024'); omit for demand response only.",
    )
    export_share: float = Field(
        1.0, ge=0, le=1, description="Share of the contracted MW the site may resell [-]."
    )
    resale_cost_usd_per_mwh: float = Field(
        0.0, ge=0, le=1000, description="Cost of reselling a MWh (fees, basis) [USD/MWh]."
    )
    take_or_pay: bool = Field(
        False,
        description="The contract is paid whether the energy is used or not (an idle hour "
        "still pays the contract price).",
    )
    demand_response_usd_per_mw_month: float = Field(
        0.0,
        ge=0,
        le=100_000,
        description="Payment for interruptible load, per MW of the site a month [USD/MW-month].",
    )
    demand_response_curtailed_share: float = Field(
        0.0, ge=0, le=1, description="Share of hours the grid operator calls a curtailment [-]."
    )

    @field_validator("power_market")
    @classmethod
    def _market(cls, v: str | None) -> str | None:
        return market_name(v)

    @model_validator(mode="after")
    def _terms(self) -> Self:
        if self.power_market is None and self.demand_response_usd_per_mw_month == 0:
            raise ValueError(
                "flexible mining needs terms: a power_market to resell on, or a "
                "demand_response_usd_per_mw_month payment"
            )
        return self


class PowerSaleConfig(_Strict):
    """Selling the site's contracted energy instead of using it: at the hourly market of
    ``power_market`` (each hour the energy is sold when the price beats the contract, or always
    on a take-or-pay contract) or at a stated offtake price."""

    power_market: str | None = Field(
        None, description="Hourly market the energy is sold on (the data store's vocabulary)."
    )
    price_usd_per_mwh: float | None = Field(
        None, ge=0, le=10_000, description="A stated offtake price instead [USD/MWh]."
    )
    mw: float | None = Field(
        None, gt=0, le=10_000, description="MW sold (default: the site's capacity) [MW]."
    )
    resale_cost_usd_per_mwh: float = Field(
        0.0, ge=0, le=1000, description="Cost of reselling a MWh [USD/MWh]."
    )
    take_or_pay: bool = Field(False, description="The contract is paid whether used or not.")

    @field_validator("power_market")
    @classmethod
    def _market(cls, v: str | None) -> str | None:
        return market_name(v)

    @model_validator(mode="after")
    def _one_price(self) -> Self:
        if (self.power_market is None) == (self.price_usd_per_mwh is None):
            raise ValueError("give exactly one of 'power_market' or 'price_usd_per_mwh'")
        return self


class ProceedsConfig(_Strict):
    """One receipt (a sale, a salvage), at the end of a plan month."""

    month: int = Field(ge=0, le=600, description="Plan month it is received in (0 = first).")
    amount_usd: float = Field(ge=0, description="Amount [USD].")
    what: str = Field("", description="What it is (for the report).")


class NoLoadConfig(_Strict):
    """A site that runs no load: sold, shut down, or selling its contracted energy (its sale price
    or salvage are the site's ``proceeds``)."""

    power_sale: PowerSaleConfig | None = Field(None, description="Energy sold instead of used.")
    end_month: int | None = Field(
        None,
        ge=0,
        le=600,
        description="Month the site's fixed costs end (sold or decommissioned); omit: they run "
        "to the horizon.",
    )


class FinancingConfig(_Strict):
    """How a project's capex is paid: project debt at a loan-to-cost, the rest equity (a
    tenant's prepayment is the lease's ``prepayment_months``). The loan amortises linearly, as
    the company's term loans do, so its value to equity is the loan less the present value of
    its payments at the plan's rate."""

    loan_to_cost: float = Field(
        0.0, ge=0, le=0.9, description="Share of capex borrowed [-] (0: all equity)."
    )
    rate_annual: float = Field(0.0, ge=0, le=0.5, description="Loan rate [1/yr].")
    tenor_months: int = Field(
        60, gt=0, le=360, description="Loan term, linear amortisation [months]."
    )
    source: str = Field("", description="Where the terms come from.")

    @model_validator(mode="after")
    def _rate(self) -> Self:
        if self.loan_to_cost > 0 and self.rate_annual == 0:
            raise ValueError("project debt (loan_to_cost > 0) needs its rate_annual")
        return self
