"""Plan schema for company finance and jurisdictions: treasury, debt, covenants, hedges,
co-investors, and the regimes of sanctions, embargoes, rationing, taxes, expropriation and
relocation. Part of the one schema (see :mod:`hashpivot.config.models`)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from .alternatives import RuleOutConfig
from .io import StrictModel

_Strict = StrictModel  # the one strict base (config_io.StrictModel)


class TreasuryConfig(_Strict):
    """What the company does with the BTC it mines."""

    policy: Literal["sell_all", "hold_all", "hold_target", "sell_above_price", "sell_share"] = (
        Field(
            "sell_all",
            description="sell_all: sell in the month mined; hold_all: never sell (except to "
            "avoid default); hold_target: sell what exceeds target_btc; sell_above_price: sell "
            "everything when BTC is at or above sell_price_usd; sell_share: sell "
            "sell_share_of_production of each month's BTC and hold the rest. Under every "
            "policy BTC is sold to meet obligations (cash, the liquidity covenant) before "
            "covenants are tested.",
        )
    )
    initial_btc: float = Field(0.0, ge=0, description="BTC held at the start [BTC].")
    target_btc: float | None = Field(None, ge=0, description="hold_target: BTC to keep.")
    sell_price_usd: float | None = Field(None, gt=0, description="sell_above_price: threshold.")
    sell_share_of_production: float | None = Field(
        None, ge=0, le=1, description="sell_share: share of each month's BTC sold [-]."
    )

    @model_validator(mode="after")
    def _params(self) -> Self:
        if self.policy == "hold_target" and self.target_btc is None:
            raise ValueError("hold_target needs target_btc")
        if self.policy == "sell_above_price" and self.sell_price_usd is None:
            raise ValueError("sell_above_price needs sell_price_usd")
        if self.policy == "sell_share" and self.sell_share_of_production is None:
            raise ValueError("sell_share needs sell_share_of_production (e.g. 0.5)")
        if self.policy != "sell_share" and self.sell_share_of_production is not None:
            raise ValueError(
                f"sell_share_of_production is only read by policy sell_share, not {self.policy}"
            )
        return self


class LoanConfig(_Strict):
    """A loan. start_month 0: debt held at the plan start; later: borrowed that month."""

    name: str = Field(min_length=1, description="Name of the loan.")
    kind: Literal["term_loan", "convertible", "equipment", "btc_backed"] = Field(
        "term_loan",
        description="term_loan; convertible (converts at maturity if BTC is at or "
        "above conversion_price_usd); equipment (ASIC-backed, usually linear); btc_backed "
        "(collateral_btc pledged, margin calls).",
    )
    principal_usd: float = Field(ge=0, description="Principal [USD].")
    rate_annual: float = Field(ge=0, le=1, description="Interest rate [1/yr].")
    start_month: int = Field(0, ge=0, le=600, description="Month drawn (0: already held).")
    maturity_months: int = Field(gt=0, le=600, description="Term from the start [months].")
    amortization: Literal["bullet", "linear"] = Field("bullet", description="Repayment.")
    conversion_price_usd: float | None = Field(
        None, gt=0, description="Convertible: BTC price at maturity above which it converts."
    )
    collateral_btc: float = Field(0.0, ge=0, description="btc_backed: BTC pledged.")
    margin_call_ltv: float = Field(0.7, gt=0, le=1, description="LTV that triggers a top-up.")
    liquidation_ltv: float = Field(
        0.85, gt=0, le=1, description="LTV at which the lender sells the collateral."
    )

    @model_validator(mode="after")
    def _terms(self) -> Self:
        if self.margin_call_ltv > self.liquidation_ltv:
            raise ValueError("margin_call_ltv must not exceed liquidation_ltv")
        if self.kind == "convertible" and self.conversion_price_usd is None:
            raise ValueError("a convertible needs conversion_price_usd")
        if self.kind == "btc_backed" and self.collateral_btc <= 0:
            raise ValueError("a btc_backed loan needs collateral_btc > 0")
        return self


class CovenantsConfig(_Strict):
    """Tested each month after the company has sold the BTC it needs to meet its obligations;
    a breach accelerates every loan (principal due at once)."""

    min_liquidity_usd: float = Field(
        0.0, ge=0, description="Minimum liquidity (cash + counted BTC) while debt is out [USD]."
    )
    btc_counts_toward_liquidity_pct: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Share of the free BTC's market value that counts as liquidity [%] "
        "(the lender's haircut is 100 minus this).",
    )
    max_leverage: float = Field(
        0.0, ge=0, description="Maximum debt / annualised operating cash flow (0: none)."
    )


class HedgeConfig(_Strict):
    """Selling hashprice forward: 1 PH/s-day contracts, monthly tenors, cash-settled against the
    simulated index at the scenario engine's expected hashprice."""

    notional_ph_s: float = Field(gt=0, description="PH/s sold forward each month.")
    start_month: int = Field(0, ge=0, le=600, description="First month hedged.")
    months: int = Field(gt=0, le=600, description="Months hedged.")


class CoInvestorConfig(_Strict):
    """A co-investor (e.g. a sovereign fund) funding a share of some sites' capex for the same
    share of their cash flows."""

    name: str = Field(min_length=1, description="Co-investor.")
    share: float = Field(ge=0, le=1, description="Its share of capex and cash flows [-].")
    sites: list[str] = Field(min_length=1, description="Names of the co-invested sites.")


class SanctionsConfig(_Strict):
    """Selling BTC mined under sanctions."""

    haircut: float = Field(ge=0, le=1, description="Discount when converting BTC to fiat [-].")
    delay_months: int = Field(0, ge=0, le=24, description="Months before the proceeds arrive.")
    cutoff_probability_annual: float = Field(
        0.0, ge=0, le=1, description="Yearly chance of losing exchange access."
    )
    cutoff_haircut: float = Field(0.0, ge=0, le=1, description="Discount after a cut-off.")


class EmbargoConfig(_Strict):
    """Spare-parts embargo: failed machines are not replaced, so the fleet decays."""

    failure_rate_annual: float = Field(ge=0, le=1, description="Share of units failing a year.")


class RationingConfig(_Strict):
    """Regional power bans or rationing: part of the fleet off in some months of the year."""

    months: list[int] = Field(min_length=1, description="Calendar months (1–12) rationed.")
    curtailed_share: float = Field(ge=0, le=1, description="Share of the load off then.")

    @field_validator("months")
    @classmethod
    def _months(cls, v: list[int]) -> list[int]:
        bad = [m for m in v if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"calendar months must be 1..12, got {bad}")
        return v


class TaxConfig(_Strict):
    """A tax on mining revenue from a given month (paid in kind)."""

    revenue_tax_rate: float = Field(ge=0, le=1, description="Share of BTC mined [-].")
    from_month: int = Field(0, ge=0, le=600, description="First month it applies.")


class RelocationConfig(_Strict):
    """Moving the jurisdiction's fleets elsewhere when exchange access is cut off."""

    enabled: bool = Field(
        False,
        description="Relocate on a cut-off (the report shows P(default) with relocation "
        "allowed either way).",
    )
    cost_usd_per_th: float = Field(ge=0, description="Cost of moving [USD per TH/s].")
    downtime_months: int = Field(ge=0, le=36, description="Months without production.")
    cost_factor: float = Field(
        1.0, gt=0, le=5, description="Operating costs afterwards, relative to before."
    )


class JurisdictionConfig(_Strict):
    """What a jurisdiction does to the sites in it."""

    sanctions: SanctionsConfig | None = Field(None, description="Sanctions on selling BTC.")
    embargo: EmbargoConfig | None = Field(None, description="Spare-parts embargo.")
    rationing: RationingConfig | None = Field(None, description="Seasonal power rationing.")
    tax: TaxConfig | None = Field(None, description="Revenue tax change.")
    expropriation_probability_annual: float = Field(
        0.0, ge=0, le=1, description="Yearly chance the sites are seized."
    )
    relocation: RelocationConfig | None = Field(None, description="Option to move the fleets.")
    rules_out: list[RuleOutConfig] = Field(
        default_factory=list,
        description="Alternatives not open to sites here, each with its reason (e.g. a "
        "sanctioned operator cannot sign a US hyperscaler lease).",
    )


#: Jurisdiction codes a site may name without the plan defining a regime for it.
KNOWN_JURISDICTIONS = (
    "",
    "US",
    "US-TX",
    "US-GA",
    "US-KY",
    "US-NC",
    "US-ND",
    "US-NY",
    "US-OK",
    "US-PA",
    "US-WA",
    "CA",
    "CA-AB",
    "CA-QC",
    "CA-BC",
    "RU",
    "KZ",
    "PY",
    "ET",
    "NO",
    "SE",
    "IS",
    "FI",
    "AE",
    "OM",
    "BT",
    "BR",
    "AR",
    "CN",
    "IR",
    "MY",
    "LA",
)
