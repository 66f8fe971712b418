"""YAML input files as pydantic models: the one source of units, ranges, defaults and descriptions.

Every field carries its unit in its name and a description; unknown keys are errors (typos are
caught); errors name the field path (``site.fleet[1].model``), the value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import yaml
from pydantic import Field, field_validator, model_validator

from ..bitcoin import history
from ..data import power_prices as price_data
from ..errors import InputError, present
from ..sites import hardware
from ..sites.mining import MarketSeries
from ..sites.site import FixedCosts, Site
from .alternatives import Alternative, PortfolioConfig
from .finance import (
    KNOWN_JURISDICTIONS,
    CoInvestorConfig,
    CovenantsConfig,
    HedgeConfig,
    JurisdictionConfig,
    LoanConfig,
    TreasuryConfig,
)
from .io import (  # noqa: F401 - re-exported: config.read_yaml etc. are public
    MAX_MAGNITUDE,
    StrictModel,
    apply_overrides,
    apply_values,
    format_validation_error,
    parse_yaml_text,
    read_yaml,
    validate,
)
from .sections import (  # noqa: F401 - re-exported: the sections are part of the plan schema
    CapexConfig,
    ConversionConfig,
    FinancingConfig,
    FleetEntryConfig,
    GpuCloudConfig,
    LeaseConfig,
    NoLoadConfig,
    PowerSaleConfig,
    ProceedsConfig,
    SellBackConfig,
)

_Strict = StrictModel  # the one strict base (config_io.StrictModel)


class AssetConfig(_Strict):
    """A depreciable asset, written off straight-line."""

    name: str = Field(description="What the asset is (e.g. 'ASICs', 'substation').")
    cost_usd: float = Field(ge=0, description="Purchase cost [USD].")
    life_months: int = Field(gt=0, le=600, description="Useful life [months].")


class SiteConfig(_Strict):
    """A mining site and the costs attributed to it."""

    name: str = Field(min_length=1, description="Site name.")
    power_capacity_mw: float = Field(
        gt=0, le=10_000, description="Grid capacity at the meter [MW]."
    )
    pue: float = Field(ge=1, le=3, description="Facility power / IT power [-] (cooling overhead).")
    power_usd_per_mwh: float = Field(ge=0, le=10_000, description="All-in power price [USD/MWh].")
    uptime: float = Field(1.0, gt=0, le=1, description="Share of time hashing [-].")
    pool_fee: float = Field(0.0, ge=0, lt=1, description="Pool fee, share of gross revenue [-].")
    fleet: list[FleetEntryConfig] = Field(
        default_factory=list, description="The machines (required for sites that mine)."
    )
    site_opex_usd_per_mw_month: float = Field(
        0.0,
        ge=0,
        description="Site operating cost per MW of capacity [USD/MW/month] (staff, "
        "maintenance, insurance, hosting overhead).",
    )
    sga_cash_usd_per_month: float = Field(
        0.0,
        ge=0,
        description="Cash SG&A allocated to the site [USD/month] (non-cash items removed).",
    )
    stock_comp_usd_per_month: float = Field(
        0.0, ge=0, description="Stock-based compensation allocated to the site [USD/month]."
    )
    interest_usd_per_month: float = Field(
        0.0, ge=0, description="Interest expense allocated to the site [USD/month]."
    )
    depreciation_usd_per_month: float = Field(
        0.0,
        ge=0,
        description="Depreciation & amortisation given directly [USD/month], added to "
        "the straight-line depreciation of 'assets'.",
    )
    assets: list[AssetConfig] = Field(default_factory=list, description="Depreciable assets.")
    jurisdiction: str = Field("", description="Where the site is (country or region).")
    idle_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="Share of the site's IT power left without machines [-]; when every "
        "fleet line is a share_of_power, the shares plus idle_share must add up to 1.",
    )

    def _needs_fleet(self) -> bool:
        return True

    @model_validator(mode="after")
    def _shares(self) -> Self:
        if self._needs_fleet() and not self.fleet:
            raise ValueError("fleet: at least one fleet line is required for a site that mines")
        total = sum(e.share_of_power or 0.0 for e in self.fleet)
        if total + self.idle_share > 1 + 1e-9:
            raise ValueError(
                f"fleet share_of_power adds up to {total:g} and idle_share is "
                f"{self.idle_share:g}; allowed: at most 1 together"
            )
        if self.fleet and all(e.share_of_power is not None for e in self.fleet):
            if abs(total + self.idle_share - 1.0) > 1e-9:
                raise ValueError(
                    f"fleet share_of_power adds up to {total:g}"
                    + (f" with idle_share {self.idle_share:g}" if self.idle_share else "")
                    + f"; allowed: shares adding up to 1, or set idle_share: "
                    f"{max(1.0 - total, 0.0):g} to leave that share of the IT power unused"
                )
        return self

    def to_site(self, capacity_share: float = 1.0) -> Site:
        """The mining site; ``capacity_share`` < 1 keeps that share of the interconnect for
        mining (hybrid sites), and lines given as a share of power fill that part."""
        capacity = self.power_capacity_mw * capacity_share
        it_power_mw = capacity / self.pue
        lines = []
        for i, entry in enumerate(self.fleet):
            field = f"site.fleet[{i}].model"
            if entry.units is not None:
                model = present(entry.model, field, "a catalogue model (units are counted)")
                lines.append(hardware.fleet_line_units(model, entry.units, field))
            else:
                if entry.model is not None:
                    eff = hardware.asic(entry.model, field).efficiency_j_per_th
                    label = entry.model
                else:
                    eff = present(entry.efficiency_j_per_th, f"site.fleet[{i}].efficiency_j_per_th")
                    label = f"generic {eff:g} J/TH"
                share = present(entry.share_of_power, f"site.fleet[{i}].share_of_power")
                lines.append(hardware.fleet_line_power(eff, it_power_mw * share, label))
        depreciation = self.depreciation_usd_per_month + sum(
            a.cost_usd / a.life_months for a in self.assets
        )
        costs = FixedCosts(
            site_opex_usd_per_month=self.site_opex_usd_per_mw_month * capacity,
            sga_cash_usd_per_month=self.sga_cash_usd_per_month,
            depreciation_usd_per_month=depreciation,
            stock_comp_usd_per_month=self.stock_comp_usd_per_month,
            interest_usd_per_month=self.interest_usd_per_month,
        )
        return Site(
            name=self.name,
            power_capacity_mw=capacity,
            pue=self.pue,
            power_usd_per_mwh=self.power_usd_per_mwh,
            uptime=self.uptime,
            pool_fee=self.pool_fee,
            fleet=hardware.fleet(lines),
            costs=costs,
            jurisdiction=self.jurisdiction,
        )


class MarketConfig(_Strict):
    """Network state to evaluate a site against: one day of history, a period of history, or
    explicit values."""

    date: dt.date | None = Field(None, strict=False, description="One day of the shipped history.")
    start: dt.date | None = Field(
        None, strict=False, description="First day of a period of history."
    )
    end: dt.date | None = Field(None, strict=False, description="Last day of a period of history.")
    difficulty: float | None = Field(None, gt=0, description="Network difficulty [-].")
    btc_price_usd: float | None = Field(None, gt=0, description="BTC price [USD].")
    fees_btc_per_block: float | None = Field(None, ge=0, description="Fees per block [BTC].")
    subsidy_btc: float | None = Field(None, ge=0, le=50, description="Block subsidy [BTC].")

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        explicit = [self.difficulty, self.btc_price_usd, self.fees_btc_per_block, self.subsidy_btc]
        modes = [
            self.date is not None,
            self.start is not None or self.end is not None,
            any(v is not None for v in explicit),
        ]
        if sum(modes) != 1:
            raise ValueError(
                "give exactly one of: 'date'; 'start' and 'end'; or 'difficulty', "
                "'btc_price_usd', 'fees_btc_per_block' and 'subsidy_btc'"
            )
        if modes[1] and (self.start is None or self.end is None):
            raise ValueError("a period needs both 'start' and 'end'")
        if modes[2] and any(v is None for v in explicit):
            raise ValueError(
                "explicit market values need all of 'difficulty', 'btc_price_usd', "
                "'fees_btc_per_block' and 'subsidy_btc'"
            )
        return self

    def describe(self) -> str:
        """Where the market state comes from, in words (a day, a period, or explicit values)."""
        if self.date is not None:
            return f"history on {self.date}"
        if self.start is not None:
            return f"history {self.start} .. {self.end}"
        return "explicit values"

    def to_market(self) -> MarketSeries:
        """Network state per day; history dates outside the data raise with a ``market.`` path."""
        try:
            return self._to_market()
        except InputError as exc:
            raise type(exc)(f"market.{exc.field}", exc.value, exc.allowed) from None

    def _to_market(self) -> MarketSeries:
        if self.date is not None:
            s = history.network_state(self.date)
            return MarketSeries.constant(
                s.difficulty, s.subsidy_btc, s.fees_btc_per_block, s.price_usd
            )
        if self.start is not None:
            df = history.network_over_period(self.start, present(self.end, "market.end"))
            return MarketSeries(
                df["difficulty"].to_numpy(np.float64),
                df["subsidy_btc_per_block"].to_numpy(np.float64),
                df["fees_btc_per_block"].to_numpy(np.float64),
                df["price_usd"].to_numpy(np.float64),
            )
        return MarketSeries.constant(
            present(self.difficulty, "market.difficulty"),
            present(self.subsidy_btc, "market.subsidy_btc"),
            present(self.fees_btc_per_block, "market.fees_btc_per_block"),
            present(self.btc_price_usd, "market.btc_price_usd"),
        )


class ReserveConfig(_Strict):
    """A demand-response / ancillary commitment for hourly dispatch."""

    max_mw: float = Field(ge=0, le=10_000, description="Most MW offered as reserve in an hour.")
    payment_usd_per_mw_h: float = Field(ge=0, le=10_000, description="Payment per MW-hour held.")
    committed_mw: float = Field(
        0.0, ge=0, description="MW that must be offered in committed hours."
    )
    committed_hours_local: tuple[int, int] | None = Field(
        None,
        strict=False,
        description="[start, end) hour of the local day of the commitment (default: all).",
    )
    called_when_price_above_usd_per_mwh: float | None = Field(
        None, description="The reserve is called (curtailed) in hours priced above this."
    )

    @model_validator(mode="after")
    def _committed(self) -> Self:
        if self.committed_mw > self.max_mw:
            raise ValueError(f"committed_mw {self.committed_mw} exceeds max_mw {self.max_mw}")
        h = self.committed_hours_local
        if h is not None and not 0 <= h[0] < h[1] <= 24:
            raise ValueError(f"committed_hours_local {list(h)} must satisfy 0 <= start < end <= 24")
        return self


class DispatchConfig(_Strict):
    """How the site buys power and can flex, for `hashpivot dispatch`."""

    contract: Literal["market", "fixed", "ppa"] = Field(
        "market",
        description="'market': buy at the hourly price; 'fixed': pay a fixed price per "
        "MWh used; 'ppa': a fixed-price block paid whatever is used, unused energy sold back at "
        "the hourly price.",
    )
    contract_price_usd_per_mwh: float | None = Field(
        None, ge=0, le=10_000, description="Price of a 'fixed' or 'ppa' contract [USD/MWh]."
    )
    ppa_mw: float | None = Field(
        None, ge=0, description="PPA block [MW] (default: the site's capacity plus firm load)."
    )
    firm_load_mw: float = Field(
        0.0, ge=0, description="Firm load (e.g. AI halls), never curtailed."
    )
    interconnect_mw: float | None = Field(
        None, gt=0, description="Interconnect limit [MW] (default: power_capacity_mw)."
    )
    ramp_mw_per_hour: float | None = Field(None, gt=0, description="Ramp limit [MW/h].")
    export_mw: float | None = Field(None, ge=0, description="Most MW sold back in an hour.")
    reserve: ReserveConfig | None = Field(None, description="Demand-response commitment.")

    @model_validator(mode="after")
    def _price(self) -> Self:
        if self.contract in ("fixed", "ppa") and self.contract_price_usd_per_mwh is None:
            raise ValueError(f"a '{self.contract}' contract needs contract_price_usd_per_mwh")
        return self


class SiteFile(_Strict):
    """A site file for ``hashpivot cost``: one site and the market to price it in."""

    site: SiteConfig = Field(description="The site (see SiteConfig).")
    market: MarketConfig = Field(description="Network state to price it in (see MarketConfig).")
    dispatch: DispatchConfig | None = Field(
        None, description="Hourly operation for `hashpivot dispatch` (see DispatchConfig)."
    )


# --------------------------------------------------------------------------- loading
# (read_yaml, parse_yaml_text, validate, apply_overrides live in config_io)


def load_site_file(path: str | Path) -> SiteFile:
    """Read and validate a site file (one site, its market, and optionally its ``dispatch``).

    Parameters
    ----------
    path : str or pathlib.Path
        The site YAML.

    Returns
    -------
    SiteFile
        The validated site file.

    Raises
    ------
    ConfigError
        An unreadable file or one line per invalid field, with its path.
    """
    return validate(SiteFile, read_yaml(path), str(path))


# --------------------------------------------------------------------------- plan schema
class PlanSiteConfig(SiteConfig):
    """A site in a plan: a :class:`SiteConfig` plus timing, capex, ageing and a power contract.

    ``power_usd_per_mwh`` is the contract price: fixed for the whole horizon, or the base of a
    power index named in ``power_index`` (indexed contract)."""

    power_index: str | None = Field(
        None,
        description="Name of a market.indices entry: the contract is indexed to it "
        "(price = power_usd_per_mwh × index). Omit for a fixed-price contract.",
    )
    power_market: str | None = Field(
        None,
        description="Buy power at hourly market prices, named in the data store's vocabulary "
        "(e.g. 'ercot:LZ_WEST:2023'; never a file or a URL): each month's uptime and average power "
        "cost come from that year's dispatch curve at the month's mining value; "
        "power_usd_per_mwh is then a delivery adder on top of the market price.",
    )
    start_month: int = Field(
        0, ge=0, le=600, description="Plan month the site energises (0 = operating now)."
    )
    capex: list[CapexConfig] = Field(
        default_factory=list, description="Capital outlays for the site (cash)."
    )
    proceeds: list[ProceedsConfig] = Field(
        default_factory=list,
        description="Receipts for the site's assets (a fleet or the site sold, salvage), "
        "netted against its capex of the month.",
    )
    efficiency_degradation_per_year: float = Field(
        0.0,
        ge=0,
        le=0.5,
        description="Yearly worsening of J/TH; hashrate falls at fixed power [-].",
    )
    curtail_when_unprofitable: bool = Field(
        True,
        description="Switch the fleet off in months when revenue net of pool fees is below "
        "the power bill (fixed costs are still paid).",
    )
    source: str = Field("", description="Where the site's figures come from (for the report).")
    type: Literal["mining", "hosting", "gpu_cloud", "hybrid", "option_to_convert", "no_load"] = (
        Field(
            "mining",
            description="mining; hosting (converted on a fixed schedule, leased); gpu_cloud "
            "(own GPUs); hybrid (part leased, part mining); option_to_convert (mine until the "
            "least-squares Monte Carlo policy converts); no_load (sold, shut down or selling "
            "its energy).",
        )
    )
    conversion: ConversionConfig | None = Field(None, description="How the site converts.")
    lease: LeaseConfig | None = Field(None, description="The hosting lease.")
    gpu_cloud: GpuCloudConfig | None = Field(None, description="Own-GPU cloud on the site.")
    sell_back: SellBackConfig | None = Field(
        None,
        description="Mining sites: resell the contracted energy at the hourly market and be "
        "paid for demand response (flexible mining).",
    )
    no_load: NoLoadConfig | None = Field(None, description="A no_load site's terms.")
    alternatives: list[Alternative] = Field(
        default_factory=list,
        description="What the site could do instead, each with its terms (see "
        "hashpivot.config.alternatives); keep_mining, the site as configured, is always valued.",
    )

    def _needs_fleet(self) -> bool:
        return self.type in ("mining", "hybrid", "option_to_convert")

    @model_validator(mode="after")
    def _type_sections(self) -> Self:
        need = {
            "mining": (),
            "hosting": ("conversion", "lease"),
            "gpu_cloud": ("conversion", "gpu_cloud"),
            "hybrid": ("conversion",),
            "option_to_convert": ("conversion", "lease"),
            "no_load": ("no_load",),
        }[self.type]
        for section in need:
            if getattr(self, section) is None:
                raise ValueError(f"a {self.type} site needs a '{section}' section")
        if self.type == "mining" and (self.conversion or self.lease or self.gpu_cloud):
            raise ValueError("a mining site takes no conversion/lease/gpu_cloud section")
        if self.no_load is not None and self.type != "no_load":
            raise ValueError("a no_load section belongs to a site of type no_load")
        if self.sell_back is not None:
            if self.type != "mining":
                raise ValueError("sell_back applies to mining sites only")
            if self.power_market is not None:
                raise ValueError(
                    "give power_market (buy at market) or sell_back (a contract with resale), "
                    "not both"
                )
        names = [a.name or a.kind for a in self.alternatives]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"alternatives: names must be unique within a site; repeated: {', '.join(dupes)} "
                "(give each a name)"
            )
        if self.type == "hybrid":
            if self.lease is None and self.gpu_cloud is None:
                raise ValueError("a hybrid site needs a 'lease' or a 'gpu_cloud' section")
            if self.conversion is not None and self.conversion.share >= 1:
                raise ValueError("a hybrid site converts a share < 1 (conversion.share)")
        if self.power_market is not None:
            try:
                price_data.check_market_name(self.power_market)
            except InputError as exc:
                raise ValueError(
                    f"power_market {self.power_market!r} is not a market name; allowed: "
                    + exc.allowed
                ) from None
        if self.power_market is not None:
            if self.type != "mining":
                raise ValueError("power_market applies to mining sites only")
            if self.power_index is not None:
                raise ValueError("give power_market or power_index, not both")
        c = self.conversion
        if c is not None and c.latest_month is not None and c.latest_month < c.start_month:
            raise ValueError("conversion.latest_month is before conversion.start_month")
        return self


class IndexConfig(_Strict):
    """A price index (power price, AI rent, GPU-hour rate, a compute token): lognormal around 1
    with a yearly escalator and AR(1) noise in logs, correlated with BTC."""

    name: str = Field(
        min_length=1, description="Name sites refer to (power_index, rent_index, rate_index)."
    )
    volatility: float = Field(ge=0, le=3, description="Stationary sd of the log index [-].")
    half_life_months: float = Field(gt=0, le=600, description="Mean-reversion half-life [months].")
    escalator_annual: float = Field(0.0, ge=-0.5, le=0.5, description="Yearly drift [-].")
    corr_btc: float = Field(0.0, ge=-1, le=1, description="Correlation with BTC return shocks [-].")


class MarketModelConfig(_Strict):
    """Choice and calibration of the stochastic market model."""

    btc_model: Literal["gbm", "bootstrap"] = Field(
        "bootstrap",
        description="Market shocks: 'bootstrap' (circular block bootstrap of whole real months: "
        "the BTC log-return, hashrate and fee innovations of the same month together) or 'gbm' "
        "(geometric Brownian motion for BTC, correlated normal hashrate and fee shocks). "
        "docs/scenarios.md gives the backtest scores of both.",
    )
    window_start: dt.date = Field(
        dt.date(2016, 1, 1),
        strict=False,
        description="First month of history for the BTC calibration.",
    )
    window_end: dt.date | None = Field(
        None, strict=False, description="Last month (default: end of data)."
    )
    as_of: dt.date | None = Field(
        None,
        strict=False,
        description="The day the plan is placed at (default: the last complete day of data): "
        "every fit reads data up to it only, and the simulation starts the day after from the "
        "state on it.",
    )
    drift: Literal["median_flat", "historical"] = Field(
        "median_flat",
        description="How the BTC drift is set when mu_annual is not given: median_flat "
        "(μ = σ²/2: the median price stays at today's, a neutral planning view) or historical "
        "(the window's estimate, ~80%/yr over 2016–2025; flagged in every output).",
    )
    mu_annual: float | None = Field(
        None,
        ge=-2,
        le=2,
        description="BTC drift [1/yr], set explicitly (drift rule 'explicit'); a bootstrap is "
        "re-centred on it.",
    )
    sigma_annual: float | None = Field(
        None,
        gt=0,
        le=5,
        description="BTC volatility [1/√yr] overriding the estimate (under bootstrap the "
        "resampled returns are scaled to it).",
    )
    bootstrap_block_months: int = Field(6, ge=1, le=60, description="Bootstrap block [months].")
    hashrate_window_start: dt.date = Field(
        dt.date(2016, 1, 1),
        strict=False,
        description="First month of the hashrate-response fit (AR(1) errors).",
    )
    fee_window_start: dt.date = Field(
        dt.date(2016, 1, 1),
        strict=False,
        description="First month of the fee AR(1) fit.",
    )
    fee_mean_months: int | None = Field(
        24,
        ge=1,
        le=240,
        description="Months of the trailing mean the fees per block revert to [months] "
        "(null: the fee window's mean).",
    )
    antithetic: bool = Field(True, description="Antithetic variates (pairs of mirrored shocks).")
    stochastic: bool = Field(
        True,
        description="false switches every shock off (BTC, hashrate, fees, power): one "
        "deterministic path per seed, the median path (flat under median_flat, growing at "
        "mu_annual when it is given) — a base-case what-if.",
    )
    indices: list[IndexConfig] = Field(
        default_factory=list,
        description="Price indices (power, AI rent, GPU rates, tokens) "
        "that sites can be indexed to.",
    )

    @field_validator("as_of")
    @classmethod
    def _as_of_in_data(cls, v: dt.date | None) -> dt.date | None:
        first, last = history.date_range()
        earliest = first.replace(year=first.year + 3)
        if v is not None and not earliest <= v <= last:
            raise ValueError(
                f"{v} is outside the data: allowed {earliest}..{last} (the last complete day "
                "of network data, with three years before it to fit)"
            )
        return v

    @model_validator(mode="after")
    def _window(self) -> Self:
        first, last = history.date_range()
        end = self.as_of or last
        if not first <= self.window_start <= end:
            raise ValueError(
                f"window_start {self.window_start} is outside the data {first}..{end}"
                + (" (as_of)" if self.as_of else "")
            )
        for name in ("hashrate_window_start", "fee_window_start"):
            day = getattr(self, name)
            if not first <= day <= end - dt.timedelta(days=365):
                raise ValueError(
                    f"{name} {day} is outside the data: allowed {first}.."
                    f"{end - dt.timedelta(days=365)} (a year of months before "
                    + ("as_of)" if self.as_of else "the data's end)")
                )
        if self.window_end is not None and not self.window_start < self.window_end <= end:
            raise ValueError(
                f"window_end must lie after window_start and by {end}"
                + (" (as_of)" if self.as_of else "")
            )
        if self.drift == "historical" and self.mu_annual is not None:
            raise ValueError(
                "give either drift: historical or mu_annual (an explicit drift), not both"
            )
        names = [p.name for p in self.indices]
        if len(set(names)) != len(names):
            raise ValueError(f"index names must be unique, got {names}")
        return self


class CompanyConfig(_Strict):
    """Corporate level: opening cash and costs not attributed to a site."""

    name: str = Field(min_length=1, description="Company name.")
    cash_usd: float = Field(0.0, ge=0, description="Opening cash [USD].")
    sga_cash_usd_per_month: float = Field(
        0.0,
        ge=0,
        description="Corporate cash SG&A [USD/month]; allocated to sites by capacity in "
        "the cost per BTC.",
    )
    stock_comp_usd_per_month: float = Field(
        0.0, ge=0, description="Corporate stock compensation [USD/month] (non-cash; all-in only)."
    )
    interest_usd_per_month: float = Field(
        0.0, ge=0, description="Corporate interest [USD/month] (cash; all-in cost)."
    )
    treasury: TreasuryConfig = Field(
        default_factory=TreasuryConfig, description="BTC treasury policy (default: sell all)."
    )
    debt: list[LoanConfig] = Field(default_factory=list, description="Loans.")
    covenants: CovenantsConfig = Field(default_factory=CovenantsConfig, description="Covenants.")
    hedges: list[HedgeConfig] = Field(default_factory=list, description="Hashprice forwards.")
    co_investor: CoInvestorConfig | None = Field(None, description="Co-investor in some sites.")

    @model_validator(mode="after")
    def _loan_names(self) -> Self:
        names = [x.name for x in self.debt]
        if len(set(names)) != len(names):
            raise ValueError(f"loan names must be unique, got {names}")
        pledged = sum(x.collateral_btc for x in self.debt)
        if pledged > self.treasury.initial_btc + 1e-9:
            raise ValueError(
                f"debt pledges {pledged} BTC but treasury.initial_btc is "
                f"{self.treasury.initial_btc}"
            )
        return self

    @property
    def has_finance(self) -> bool:
        """Whether the plan needs the company model: debt, hedges, a co-investor, BTC held or a
        policy other than selling all, or covenants."""
        t = self.treasury
        return bool(
            self.debt
            or self.hedges
            or self.co_investor
            or t.policy != "sell_all"
            or t.initial_btc > 0
            or self.covenants.min_liquidity_usd > 0
            or self.covenants.max_leverage > 0
        )


class PlanConfig(_Strict):
    """A plan: a company of sites, evaluated over Monte Carlo paths of the market."""

    name: str = Field(min_length=1, description="Plan name.")
    description: str = Field("", description="Free text shown in the report.")
    horizon_months: int = Field(gt=0, le=600, description="Months simulated [months].")
    paths: int = Field(gt=0, le=10_000_000, description="Monte Carlo paths [-].")
    seed: int = Field(ge=0, le=2**63 - 1, description="Seed of the random streams (< 2⁶³).")
    discount_rate_annual: float = Field(
        ge=-0.5, le=2, description="Discount rate for NPV [1/yr], monthly compounding."
    )
    market: MarketModelConfig = Field(
        default_factory=MarketModelConfig, description="Market model (see MarketModelConfig)."
    )
    company: CompanyConfig = Field(description="The company (see CompanyConfig).")
    sites: list[PlanSiteConfig] = Field(min_length=1, description="Sites (see PlanSiteConfig).")
    jurisdictions: dict[str, JurisdictionConfig] = Field(
        default_factory=dict,
        description="Regimes by jurisdiction code (sanctions, embargo, "
        "rationing, tax, expropriation, relocation).",
    )
    assumptions: list[dict[str, str]] = Field(
        default_factory=list,
        description="Sourced assumptions to list in the report: {what, value, source}.",
    )
    portfolio: PortfolioConfig | None = Field(
        None,
        description="The limits of the portfolio decision over the sites' alternatives (see "
        "PortfolioConfig); without it the decision has no limits.",
    )

    @property
    def has_alternatives(self) -> bool:
        """Some site declares alternatives (the run then decides where each MW goes)."""
        return any(s.alternatives for s in self.sites)

    @model_validator(mode="after")
    def _references(self) -> Self:
        names = [s.name for s in self.sites]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"site names must be unique; repeated: {', '.join(dupes)}")
        known = set(KNOWN_JURISDICTIONS) | set(self.jurisdictions)
        for i, site in enumerate(self.sites):
            if site.jurisdiction not in known:
                allowed = ", ".join(sorted(k for k in known if k))
                raise ValueError(
                    f"sites[{i}].jurisdiction: {site.jurisdiction!r} is not a known jurisdiction;"
                    f" allowed: {allowed} (or define it under jurisdictions)"
                )
        co = self.company.co_investor
        if co is not None:
            missing = sorted(set(co.sites) - set(names))
            if missing:
                raise ValueError(f"company.co_investor.sites: {missing} are not sites of the plan")
        indices = {p.name for p in self.market.indices}
        allowed = ", ".join(sorted(indices)) or "(none defined in market.indices)"
        for i, site in enumerate(self.sites):
            refs = [("power_index", site.power_index)]
            if site.lease is not None:
                refs.append(("lease.rent_index", site.lease.rent_index))
            if site.gpu_cloud is not None:
                refs.append(("gpu_cloud.rate_index", site.gpu_cloud.rate_index))
            for field_name, ref in refs:
                if ref is not None and ref not in indices:
                    raise ValueError(
                        f"sites[{i}].{field_name}: {ref!r} is not a defined index; "
                        f"allowed: {allowed}"
                    )
            for j, alt in enumerate(site.alternatives):
                where = f"sites[{i}].alternatives[{j}]"
                alt_refs = []
                if alt.kind == "relocate":
                    alt_refs.append(("power_index", alt.power_index))
                    if alt.jurisdiction not in known:
                        raise ValueError(
                            f"{where}.jurisdiction: {alt.jurisdiction!r} is not a known "
                            f"jurisdiction; allowed: {', '.join(sorted(k for k in known if k))} "
                            "(or define it under jurisdictions)"
                        )
                if alt.kind == "convert_lease":
                    alt_refs.append(("lease.rent_index", alt.lease.rent_index))
                    months = alt.start_months or [alt.conversion.start_month]
                    late = [m for m in months if m >= self.horizon_months]
                    if late:
                        raise ValueError(
                            f"{where}: start months {late} are not before horizon_months "
                            f"({self.horizon_months})"
                        )
                if alt.kind == "gpu_cloud":
                    alt_refs.append(("gpu_cloud.rate_index", alt.gpu_cloud.rate_index))
                for field_name, ref in alt_refs:
                    if ref is not None and ref not in indices:
                        raise ValueError(
                            f"{where}.{field_name}: {ref!r} is not a defined index; "
                            f"allowed: {allowed}"
                        )
                if alt.kind != "keep_mining" and site.type not in ("mining", "option_to_convert"):
                    raise ValueError(
                        f"{where}: alternatives are valued for mining sites (this site is "
                        f"{site.type}); allowed kinds here: keep_mining"
                    )
            if site.start_month >= self.horizon_months:
                raise ValueError(
                    f"sites[{i}].start_month: {site.start_month} is not before horizon_months "
                    f"({self.horizon_months})"
                )
        self._released_by_start()
        return self

    def _released_by_start(self) -> None:
        """Every catalogue model must be on sale by the day its site starts: ``market.as_of``
        (default: the last day of data) plus the site's ``start_month``."""
        as_of = self.market.as_of or history.date_range()[1]

        start = as_of + dt.timedelta(days=1)  # the plan's first day

        def month_start(months: int) -> dt.date:  # the first day of plan month ``months``
            y, m = divmod(start.month - 1 + months, 12)
            return dt.date(start.year + y, m + 1, 1) if months else start

        for i, site in enumerate(self.sites):
            used = [
                (f"fleet[{j}].model", e.model, "asic", site.start_month)
                for j, e in enumerate(site.fleet)
            ]
            if site.gpu_cloud is not None:
                conv = site.conversion.start_month if site.conversion is not None else 0
                months = max(site.start_month, conv)
                used.append(("gpu_cloud.gpu_model", site.gpu_cloud.gpu_model, "gpu", months))
            for where, model, kind, months in used:
                if model is None:
                    continue
                released = hardware.release_date(model, kind)
                first = hardware.earliest_release_day(released)
                starts = month_start(months)
                if first is not None and starts < first:
                    raise ValueError(
                        f"sites[{i}].{where}: {model!r} was released {released}, after it is "
                        f"used ({starts}, from market.as_of {as_of}); allowed: a model released "
                        "by then"
                    )


def load_plan(
    path: str | Path,
    overrides: list[str] | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    paths: int | None = None,
    horizon_months: int | None = None,
    seed: int | None = None,
) -> tuple[PlanConfig, str]:
    """Read, override and validate a plan; returns the model and the effective YAML text.

    Parameters
    ----------
    path : str or Path
        The plan YAML.
    overrides : list of str, optional
        ``KEY=VALUE`` texts, values parsed as YAML (the CLI's ``--set``).
    values : mapping, optional
        Typed overrides ``{key path: value}``, e.g. ``{"sites[0].power_usd_per_kwh": 0.05}``.
    paths : int, optional
        Monte Carlo paths [-] (the plan's ``paths``).
    horizon_months : int, optional
        Months simulated [month] (the plan's ``horizon_months``).
    seed : int, optional
        Random seed [-] (the plan's ``seed``).

    Returns
    -------
    tuple of (PlanConfig, str)
        The validated plan and its effective YAML.

    Raises
    ------
    ConfigError
        One line per invalid field, with its path: every override is validated like the
        plan's own fields.
    """
    return _plan_from_data(
        read_yaml(path), str(path), overrides, _typed(values, paths, horizon_months, seed)
    )


def load_plan_text(
    text: str,
    source: str = "plan",
    overrides: list[str] | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    paths: int | None = None,
    horizon_months: int | None = None,
    seed: int | None = None,
) -> tuple[PlanConfig, str]:
    """:func:`load_plan` for YAML text (an upload).

    Parameters
    ----------
    text : str
        The plan YAML.
    source : str
        Where the text came from, used in errors.
    overrides : list of str or None
        ``KEY=VALUE`` texts, values parsed as YAML.
    values : mapping or None
        Typed overrides ``{key path: value}``.
    paths : int or None
        Monte Carlo paths [-].
    horizon_months : int or None
        Months simulated [month].
    seed : int or None
        Random seed [-].

    Returns
    -------
    tuple of (PlanConfig, str)
        The validated plan and its effective YAML.

    Raises
    ------
    ConfigError
        One line per invalid field, with its path.
    """
    return _plan_from_data(
        parse_yaml_text(text, source),
        source,
        overrides,
        _typed(values, paths, horizon_months, seed),
    )


def _typed(
    values: Mapping[str, Any] | None,
    paths: int | None,
    horizon_months: int | None,
    seed: int | None,
) -> dict[str, Any]:
    out = dict(values or {})
    for key, value in (("paths", paths), ("horizon_months", horizon_months), ("seed", seed)):
        if value is not None:
            out[key] = value
    return out


def _plan_from_data(
    data: dict[str, Any], path: str, overrides: list[str] | None, values: Mapping[str, Any]
) -> tuple[PlanConfig, str]:
    # Top-level keys starting with "x-" hold YAML anchors (as in docker-compose); not plan fields.
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    if overrides:
        data = apply_overrides(data, overrides)
    if values:
        data = apply_values(data, values)
    plan = validate(PlanConfig, data, str(path))
    return plan, yaml.safe_dump(data, sort_keys=False)
