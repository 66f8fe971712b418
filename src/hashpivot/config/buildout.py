"""Schema of a GW-scale AI build-out campaign (``hashpivot buildout CAMPAIGN.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import Field, model_validator

from ..errors import ConfigError, present
from ..sites.hosting import DEFAULT_AI_PUE
from .io import StrictModel, apply_overrides, parse_yaml_text, read_yaml, validate

#: Capex per GW [USD] by component, from published totals. Component splits are assumptions.
CAPEX_PRESETS: dict[str, dict[str, float]] = {
    # Nvidia CEO, Aug 2025 earnings call: ~$35B of Nvidia hardware + ~$15B other ≈ $50B per GW.
    # Split of the $35B (compute 30, networking 5) and of the $15B: assumptions.
    "nvidia_ceo_50": {
        "compute": 30e9,
        "networking": 5e9,
        "power_cooling": 8e9,
        "shell": 4e9,
        "land": 1e9,
        "soft": 2e9,
    },
    # Analysts quote $50–60B per GW: the upper end, same proportions.
    "analyst_60": {
        "compute": 36e9,
        "networking": 6e9,
        "power_cooling": 9.6e9,
        "shell": 4.8e9,
        "land": 1.2e9,
        "soft": 2.4e9,
    },
    # Bernstein: ~$35B per GW all-in, same proportions.
    "bernstein_35": {
        "compute": 21e9,
        "networking": 3.5e9,
        "power_cooling": 5.6e9,
        "shell": 2.8e9,
        "land": 0.7e9,
        "soft": 1.4e9,
    },
}
COMPONENTS = ("compute", "networking", "power_cooling", "shell", "land", "soft")


_Strict = StrictModel  # the one strict base (config_io.StrictModel)


class TrancheConfig(_Strict):
    """GW deployed on one vendor's chips."""

    name: str = Field(min_length=1, description="Tranche name.")
    vendor: str = Field(min_length=1, description="Chip vendor (e.g. nvidia, amd).")
    vendor_gross_margin: float = Field(
        0.6, ge=0, lt=1, description="Vendor's gross margin on the compute and networking [-]."
    )
    gw: float = Field(gt=0, le=1000, description="GW of IT capacity [GW].")
    first_month: int = Field(0, ge=0, le=600, description="Month the first capacity is deployed.")
    gw_per_year: float = Field(gt=0, le=1000, description="Deployment rate [GW/yr].")


class PowerConfig(_Strict):
    """Where the power comes from and what it costs."""

    available_gw_by_year: list[float] = Field(
        min_length=1,
        description="Cumulative GW of grid power procured by the end of each year "
        "from the start (the last value holds after); compared with IT GW deployed × pue.",
    )
    interconnection_delay_months: int = Field(
        0, ge=0, le=120, description="Months from deployment to energisation."
    )
    electricity_usd_per_mwh: float = Field(ge=0, le=1000, description="Power price [USD/MWh].")
    pue: float = Field(
        DEFAULT_AI_PUE,
        ge=1,
        le=3,
        description="Grid power per unit of IT power [-]: electricity is billed and power "
        f"procured on IT × PUE (default {DEFAULT_AI_PUE:g}, the one default for IT-MW "
        "conversions, as in plan conversions).",
    )
    mining_sites_plan: str | None = Field(
        None, description="A plan file whose mining sites could host part of the campaign."
    )
    retrofit_capex_usd_per_mw_it: float = Field(
        9.5e6, ge=0, description="Retrofit of a mining site [USD/MW IT] (TeraWulf/Cipher $8–11M)."
    )
    greenfield_capex_usd_per_mw_it: float = Field(
        11.7e6, ge=0, description="Greenfield shell and power [USD/MW IT] (C&W 2025 average)."
    )
    retrofit_lead_months: int = Field(9, ge=0, le=120, description="Miner sites: 6–12 months.")
    greenfield_lead_months: int = Field(48, ge=0, le=240, description="Greenfield: 4+ years.")


class RevenueConfig(_Strict):
    """What the capacity earns, and how uncertain that is."""

    usd_per_kw_month: float = Field(ge=0, le=10_000, description="Revenue per kW of IT a month.")
    utilisation: float = Field(0.8, gt=0, le=1, description="Share of capacity sold [-].")
    opex_usd_per_mw_year: float = Field(0.0, ge=0, description="Operating cost [USD/MW/yr].")
    rent_volatility: float = Field(
        0.3, ge=0, le=3, description="Lognormal sd of the rent level across scenarios [-]."
    )
    utilisation_sd: float = Field(0.1, ge=0, le=1, description="Sd of utilisation [-].")


class SourceConfig(_Strict):
    """One source of funds. Exactly one way of sizing it:

    - ``share``: a share of each month's uses left after the per-GW sources (shares add up to 1);
    - ``per_gw_usd`` with ``tranche``: an amount per GW of that tranche deployed (a chip maker
      investing progressively, as Nvidia's up to $100B over 10 GW);
    - ``warrant_shares`` and ``share_price_usd`` with ``tranche``: a vendor's own shares granted
      to the operator, vesting in proportion to the tranche's GW (AMD's 160M-share warrants); the
      operator sells them as they vest, so the vendor funds its own sales;
    - ``kind: guarantor`` with ``cap_usd`` only: a backstop that funds the gap left by caps.
    """

    name: str = Field(min_length=1, description="Source name.")
    kind: Literal["vendor", "hyperscaler", "sovereign", "debt", "equity", "guarantor", "other"] = (
        Field(description="Kind of party.")
    )
    share: float | None = Field(
        None, ge=0, le=1, description="Share of each month's uses left after per-GW sources [-]."
    )
    per_gw_usd: float | None = Field(None, ge=0, description="Amount per GW deployed [USD/GW].")
    warrant_shares: float | None = Field(
        None, gt=0, description="Vendor shares granted, vesting with the tranche's GW [shares]."
    )
    share_price_usd: float | None = Field(
        None, gt=0, description="Vendor share price the vested warrants are sold at [USD]."
    )
    tranche: str | None = Field(None, description="per-GW and warrant sources: the tranche.")
    cap_usd: float | None = Field(None, ge=0, description="Most it provides in total [USD].")
    rate_annual: float = Field(
        0.0, ge=0, le=1, description="debt and guarantor: interest rate [1/yr]."
    )
    tenor_years: int = Field(10, gt=0, le=40, description="debt and guarantor: amortisation [yr].")

    @model_validator(mode="after")
    def _mode(self) -> Self:
        modes = [
            m
            for m, on in (
                ("share", self.share is not None),
                ("per_gw_usd", self.per_gw_usd is not None),
                ("warrant_shares", self.warrant_shares is not None),
            )
            if on
        ]
        if self.kind == "guarantor":
            if modes or self.cap_usd is None:
                raise ValueError("a guarantor gives only cap_usd: it funds the gap up to its cap")
            return self
        if len(modes) != 1:
            raise ValueError(
                f"give exactly one of share, per_gw_usd, warrant_shares (got {modes or 'none'})"
            )
        if modes[0] != "share" and self.tranche is None:
            raise ValueError(f"a {modes[0]} source needs the tranche it follows")
        if (self.warrant_shares is None) != (self.share_price_usd is None):
            raise ValueError("warrant_shares and share_price_usd go together")
        return self

    @property
    def is_lender(self) -> bool:
        """Debt and guarantors are served before equity."""
        return self.kind in ("debt", "guarantor")


class CampaignConfig(_Strict):
    """A GW-scale AI build-out campaign."""

    name: str = Field(min_length=1, description="Campaign name.")
    start: str = Field(pattern=r"^\d{4}-\d{2}$", description="First month, YYYY-MM.")
    horizon_years: int = Field(10, gt=0, le=40, description="Years modelled.")
    discount_rate_annual: float = Field(0.10, ge=-0.5, le=2, description="For NPVs.")
    capex_preset: Literal["nvidia_ceo_50", "analyst_60", "bernstein_35", "custom"] = Field(
        "nvidia_ceo_50", description="Capex per GW preset (see docs)."
    )
    capex_usd_per_gw: dict[str, float] | None = Field(
        None,
        description="custom: capex per GW by component (compute, networking, "
        "power_cooling, shell, land, soft).",
    )
    gpu_refresh_years: int = Field(5, gt=0, le=20, description="Compute re-bought every N years.")
    tranches: list[TrancheConfig] = Field(min_length=1, description="Deployment tranches.")
    power: PowerConfig = Field(description="Power and sites.")
    revenue: RevenueConfig = Field(description="Revenue and its uncertainty.")
    financing: list[SourceConfig] = Field(min_length=1, description="Sources of funds.")
    terminal_ebitda_multiple: float = Field(
        6.0, ge=0, le=50, description="Value at the horizon / last 12 months' operating cash [-]."
    )
    max_loan_to_cost: float = Field(
        0.85, ge=0, le=1, description="Most of each month's cost that debt shares may fund [-]."
    )
    scenarios: int = Field(2000, gt=0, le=100_000, description="Monte Carlo scenarios.")
    seed: int = Field(0, ge=0, description="Seed.")

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.capex_preset == "custom":
            c = self.capex_usd_per_gw or {}
            missing = [k for k in COMPONENTS if k not in c]
            extra = [k for k in c if k not in COMPONENTS]
            if missing or extra:
                raise ValueError(
                    f"capex_usd_per_gw needs exactly {list(COMPONENTS)} "
                    f"(missing {missing}, unknown {extra})"
                )
            if any(v < 0 for v in c.values()):
                raise ValueError("capex_usd_per_gw values must be >= 0")
        names = [t.name for t in self.tranches]
        if len(set(names)) != len(names):
            raise ValueError(f"tranche names must be unique, got {names}")
        shares = [s.share for s in self.financing if s.share is not None]
        if shares and abs(sum(shares) - 1.0) > 1e-9:
            raise ValueError(
                f"financing shares add up to {sum(shares):g}; allowed: exactly 1 "
                "(caps, not shares, create the funding gap)"
            )
        debt = sum(s.share for s in self.financing if s.kind == "debt" and s.share is not None)
        if debt > self.max_loan_to_cost + 1e-12:
            raise ValueError(
                f"debt shares add up to {debt:g}; allowed: at most max_loan_to_cost "
                f"= {self.max_loan_to_cost:g} (project loan-to-cost)"
            )
        sources = [s.name for s in self.financing]
        if len(set(sources)) != len(sources):
            raise ValueError(f"financing names must be unique, got {sources}")
        for s in self.financing:
            if s.tranche is not None and s.tranche not in names:
                raise ValueError(
                    f"financing {s.name!r}: tranche {s.tranche!r} is not one of {names}"
                )
        return self

    def capex_per_gw(self) -> dict[str, float]:
        """Capex per GW by component [USD/GW]: the preset's, or the campaign's own for
        ``custom``."""
        return (
            dict(present(self.capex_usd_per_gw, "capex_usd_per_gw"))
            if self.capex_preset == "custom"
            else dict(CAPEX_PRESETS[self.capex_preset])
        )


def load_campaign(path: str, overrides: list[str] | None = None) -> tuple[CampaignConfig, str]:
    """Read, override (``key.path=value``) and validate a build-out campaign.

    A relative ``power.mining_sites_plan`` is relative to the campaign file.

    Parameters
    ----------
    path : str
        The campaign YAML.
    overrides : list of str or None
        ``KEY=VALUE`` texts, values parsed as YAML (the CLI's ``--set``).

    Returns
    -------
    tuple of (CampaignConfig, str)
        The validated campaign and its effective YAML.

    Raises
    ------
    ConfigError
        One line per invalid field, with its path.
    """
    data = _overridden(read_yaml(path), overrides)
    plan = _mining_sites_plan(data)
    if isinstance(plan, str) and not Path(plan).is_absolute():
        data["power"]["mining_sites_plan"] = str(Path(path).parent / plan)
    return _validated(data, str(path)), yaml.safe_dump(data, sort_keys=False)


def load_campaign_text(
    text: str, source: str = "campaign", overrides: list[str] | None = None
) -> CampaignConfig:
    """A campaign from YAML text (an upload).

    It may not name a ``mining_sites_plan``: a server does not read files a request names.

    Parameters
    ----------
    text : str
        The campaign YAML.
    source : str
        Where the text came from, used in errors.
    overrides : list of str or None
        ``KEY=VALUE`` texts.

    Returns
    -------
    CampaignConfig
        The validated campaign.

    Raises
    ------
    ConfigError
        An invalid field, or a ``mining_sites_plan``.
    """
    data = _overridden(parse_yaml_text(text, source), overrides)
    if _mining_sites_plan(data) is not None:
        raise ConfigError(
            source,
            [
                "power.mining_sites_plan: not allowed in an upload; allowed: "
                "null (use the CLI to read a plan file)"
            ],
            [("power", "mining_sites_plan")],
        )
    return _validated(data, source)


def _overridden(data: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    return apply_overrides(data, overrides) if overrides else data


def _mining_sites_plan(data: dict[str, Any]) -> Any:
    power = data.get("power")
    return power.get("mining_sites_plan") if isinstance(power, dict) else None


def _validated(data: dict[str, Any], source: str) -> CampaignConfig:
    return validate(CampaignConfig, data, source)
