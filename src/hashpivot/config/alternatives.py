"""What a site could do instead, and the limits a portfolio of such choices must keep.

A site's ``alternatives`` list the courses open to it, each with its own terms; every one is
valued on the same simulated paths as the plan (common random numbers), and the ``portfolio``
section of the plan chooses one per site (:mod:`hashpivot.engine.decision`). The kinds:

* ``keep_mining`` — the site as configured (always valued: it is the baseline);
* ``mine_flexibly`` — the site's contract with hourly resale at market and demand response;
* ``repower`` — a new fleet bought at a stated $/TH, after a lead time, the old one sold;
* ``relocate`` — the fleet moved to another jurisdiction and power price;
* ``convert_lease`` — AI/HPC hosting, converted when the least-squares Monte Carlo policy says
  (or at each of stated start months), its capex financed by project debt, prepayment or equity;
* ``gpu_cloud`` — own GPUs rented out;
* ``sell_power`` — no load: the contracted energy sold at market or a stated price;
* ``sell_site`` — sold at $/MW of a stated comparable;
* ``shut_down`` — decommissioned, at a cost, with salvage.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import Field, model_validator

from .io import StrictModel
from .sections import (
    ConversionConfig,
    FinancingConfig,
    FleetEntryConfig,
    GpuCloudConfig,
    LeaseConfig,
    PowerSaleConfig,
    SellBackConfig,
)

_Strict = StrictModel  # the one strict base (config_io.StrictModel)

AlternativeKind = Literal[
    "keep_mining",
    "mine_flexibly",
    "repower",
    "relocate",
    "convert_lease",
    "gpu_cloud",
    "sell_power",
    "sell_site",
    "shut_down",
]

#: The alternatives a site may declare, in the order the decision lists them.
ALTERNATIVE_KINDS: tuple[str, ...] = get_args(AlternativeKind)


class _Alternative(_Strict):
    name: str | None = Field(
        None, min_length=1, description="Its name in the decision (default: its kind)."
    )
    counterparty: str | None = Field(
        None,
        description="Who is on the other side (e.g. 'us_hyperscaler', 'domestic'): a "
        "jurisdiction's rules_out may name it.",
    )
    source: str = Field("", description="Where its terms come from.")


class KeepMining(_Alternative):
    """The site as configured."""

    kind: Literal["keep_mining"]


class MineFlexibly(_Alternative):
    """Mine, resell the energy or idle, hour by hour (see :class:`SellBackConfig`)."""

    kind: Literal["mine_flexibly"]
    sell_back: SellBackConfig = Field(description="The resale and demand-response terms.")


class Repower(_Alternative):
    """Buy a new fleet: paid at signing, hashing after the lead time; the old fleet is sold at
    signing, so the site is dark meanwhile."""

    kind: Literal["repower"]
    fleet: list[FleetEntryConfig] = Field(min_length=1, description="The new fleet.")
    price_usd_per_th: float = Field(
        gt=0, le=1000, description="Price of the new fleet [USD per TH/s]."
    )
    price_source: str = Field(
        min_length=1,
        description="Where the price comes from: a quoted ASIC price or a price index with its "
        "date.",
    )
    lead_time_months: int = Field(3, ge=0, le=36, description="Order to hashing [months].")
    old_fleet_resale_usd_per_th: float = Field(
        0.0, ge=0, le=1000, description="What the old fleet sells for [USD per TH/s]."
    )


class Relocate(_Alternative):
    """Move the fleet to another jurisdiction (and power contract)."""

    kind: Literal["relocate"]
    jurisdiction: str = Field(description="Where it goes (a code the plan knows).")
    power_usd_per_mwh: float = Field(ge=0, le=10_000, description="Power price there [USD/MWh].")
    power_index: str | None = Field(None, description="A market index the price follows there.")
    cost_usd_per_th: float = Field(ge=0, le=1000, description="Moving cost [USD per TH/s].")
    downtime_months: int = Field(ge=0, le=36, description="Months without production.")
    site_opex_usd_per_mw_month: float | None = Field(
        None, ge=0, description="Site opex there [USD/MW-month] (default: as now)."
    )


class ConvertLease(_Alternative):
    """Convert to AI/HPC hosting under a lease."""

    kind: Literal["convert_lease"]
    conversion: ConversionConfig = Field(description="How the site converts.")
    lease: LeaseConfig = Field(description="The lease.")
    financing: FinancingConfig = Field(
        default_factory=FinancingConfig, description="How the capex is paid (default: equity)."
    )
    start_months: list[int] | None = Field(
        None,
        description="Start months to choose among (one option each); omit for the "
        "least-squares Monte Carlo policy between conversion.start_month and latest_month.",
    )

    @model_validator(mode="after")
    def _months(self) -> Self:
        if self.start_months is not None:
            if not self.start_months:
                raise ValueError("start_months: give at least one month, or omit it")
            if any(m < 0 or m > 600 for m in self.start_months):
                raise ValueError(f"start_months must be months 0..600, got {self.start_months}")
            if len(set(self.start_months)) != len(self.start_months):
                raise ValueError(f"start_months repeats a month: {self.start_months}")
        return self


class GpuCloud(_Alternative):
    """Own GPUs, rented by the hour."""

    kind: Literal["gpu_cloud"]
    conversion: ConversionConfig = Field(description="The facility build (capex, lead time).")
    gpu_cloud: GpuCloudConfig = Field(description="The GPUs and their rent.")
    financing: FinancingConfig = Field(
        default_factory=FinancingConfig, description="How the facility capex is paid."
    )


class SellPower(_Alternative):
    """Run no load and sell the contracted energy; or release the interconnect for a payment."""

    kind: Literal["sell_power"]
    power_sale: PowerSaleConfig | None = Field(None, description="Selling the energy.")
    release_usd_per_mw: float | None = Field(
        None, gt=0, description="Instead: a one-off payment for the interconnect [USD/MW]."
    )
    fleet_resale_usd_per_th: float = Field(
        0.0, ge=0, le=1000, description="What the fleet sells for [USD per TH/s]."
    )
    opex_usd_per_mw_month: float = Field(
        0.0, ge=0, description="Cost of keeping the site while it sells power [USD/MW-month]."
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.power_sale is None) == (self.release_usd_per_mw is None):
            raise ValueError("sell_power needs exactly one of 'power_sale' or 'release_usd_per_mw'")
        return self


class SellSite(_Alternative):
    """Sell the site (interconnect, buildings, fleet) at $/MW of a stated comparable."""

    kind: Literal["sell_site"]
    price_usd_per_mw: float = Field(gt=0, le=50e6, description="Sale price [USD/MW].")
    comparable: str = Field(
        min_length=1, description="The transaction the price comes from (buyer, date, $/MW)."
    )
    close_month: int = Field(0, ge=0, le=120, description="Month the sale closes.")


class ShutDown(_Alternative):
    """Decommission the site."""

    kind: Literal["shut_down"]
    decommissioning_usd: float = Field(ge=0, description="Cost of decommissioning [USD].")
    salvage_usd_per_th: float = Field(
        0.0, ge=0, le=1000, description="What the fleet sells for as salvage [USD per TH/s]."
    )
    salvage_usd: float = Field(0.0, ge=0, description="Other salvage (plant, land) [USD].")
    month: int = Field(0, ge=0, le=120, description="Month the site shuts.")


Alternative = Annotated[
    KeepMining
    | MineFlexibly
    | Repower
    | Relocate
    | ConvertLease
    | GpuCloud
    | SellPower
    | SellSite
    | ShutDown,
    Field(discriminator="kind"),
]


class RuleOutConfig(_Strict):
    """An alternative a jurisdiction rules out (e.g. a sanctioned operator cannot sign a US
    hyperscaler lease)."""

    kind: AlternativeKind = Field(description="The kind ruled out.")
    counterparty: str | None = Field(
        None, description="Only with this counterparty (omit: whoever it is)."
    )
    reason: str = Field(min_length=1, description="Why (shown instead of a value).")


class PortfolioConfig(_Strict):
    """The limits the portfolio decision keeps and the scenarios it is made on."""

    capex_budget_usd_by_year: list[float] | None = Field(
        None,
        description="Capex allowed in each plan year (year 1 = months 0–11) [USD]; years past "
        "the list are not limited.",
    )
    financing_capacity_usd: float | None = Field(
        None, ge=0, description="Project debt the company can raise in all [USD]."
    )
    conversions_per_year: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="Conversions (hosting or GPU) started in any one year [-] (transformer and "
        "GPU lead times).",
    )
    leased_mw: float | None = Field(
        None, ge=0, description="MW of critical IT that tenants will take [MW]."
    )
    cvar_level: float = Field(
        0.95,
        gt=0,
        lt=1,
        description="α of the risk limit: CVaR is the mean portfolio NPV of the worst 1 − α "
        "share of scenarios [-].",
    )
    cvar_floor_usd: float | None = Field(
        None, description="The least CVaR of portfolio NPV allowed [USD]."
    )
    p_default_max: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Ceiling on the company's probability of default over the horizon [-] "
        "(met by walking the efficient frontier from the top).",
    )
    scenarios: int = Field(
        1024,
        ge=64,
        le=20_000,
        description="Paths the decision is made on: the run's first ones [-].",
    )
    frontier_points: int = Field(
        10,
        ge=0,
        le=50,
        description="Points on the efficient frontier E[NPV] vs CVaR: risk weights "
        "evenly spaced in [0, 1] (0 or 1: no frontier) [-].",
    )

    @model_validator(mode="after")
    def _budget(self) -> Self:
        b = self.capex_budget_usd_by_year
        if b is not None and (not b or any(x < 0 for x in b)):
            raise ValueError(f"capex_budget_usd_by_year: amounts ≥ 0, at least one; got {b}")
        return self
