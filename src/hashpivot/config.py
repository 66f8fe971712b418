"""YAML input files as pydantic models: the one source of units, ranges, defaults and descriptions.

Every field carries its unit in its name and a description; unknown keys are errors (typos are
caught); errors name the field path (``site.fleet[1].model``), the value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Self

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import hardware, history
from .errors import ConfigError, InputError
from .mining import MarketSeries
from .site import FixedCosts, Site


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    fleet: list[FleetEntryConfig] = Field(min_length=1, description="The machines.")
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

    @model_validator(mode="after")
    def _shares(self) -> Self:
        total = sum(e.share_of_power or 0.0 for e in self.fleet)
        if total > 1 + 1e-9:
            raise ValueError(f"fleet share_of_power adds up to {total:g}; allowed: at most 1")
        return self

    def to_site(self) -> Site:
        it_power_mw = self.power_capacity_mw / self.pue
        lines = []
        for i, entry in enumerate(self.fleet):
            field = f"site.fleet[{i}].model"
            if entry.units is not None:
                lines.append(hardware.fleet_line_units(entry.model, entry.units, field))
            else:
                if entry.model is not None:
                    eff = hardware.asic(entry.model, field).efficiency_j_per_th
                    label = entry.model
                else:
                    eff = entry.efficiency_j_per_th
                    label = f"generic {eff:g} J/TH"
                lines.append(
                    hardware.fleet_line_power(eff, it_power_mw * entry.share_of_power, label)
                )
        depreciation = self.depreciation_usd_per_month + sum(
            a.cost_usd / a.life_months for a in self.assets
        )
        costs = FixedCosts(
            site_opex_usd_per_month=self.site_opex_usd_per_mw_month * self.power_capacity_mw,
            sga_cash_usd_per_month=self.sga_cash_usd_per_month,
            depreciation_usd_per_month=depreciation,
            stock_comp_usd_per_month=self.stock_comp_usd_per_month,
            interest_usd_per_month=self.interest_usd_per_month,
        )
        return Site(
            name=self.name,
            power_capacity_mw=self.power_capacity_mw,
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

    date: dt.date | None = Field(None, description="One day of the shipped history.")
    start: dt.date | None = Field(None, description="First day of a period of history.")
    end: dt.date | None = Field(None, description="Last day of a period of history.")
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
            df = history.network_over_period(self.start, self.end)
            return MarketSeries(
                df["difficulty"].to_numpy(np.float64),
                df["subsidy_btc_per_block"].to_numpy(np.float64),
                df["fees_btc_per_block"].to_numpy(np.float64),
                df["price_usd"].to_numpy(np.float64),
            )
        return MarketSeries.constant(
            self.difficulty, self.subsidy_btc, self.fees_btc_per_block, self.btc_price_usd
        )


class SiteFile(_Strict):
    """A site file for ``hashpivot cost``: one site and the market to price it in."""

    site: SiteConfig
    market: MarketConfig


# --------------------------------------------------------------------------- loading
def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; unreadable or malformed files raise :class:`ConfigError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(p), [f"malformed YAML at {where}{problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            str(p), [f"top level must be a mapping of keys, got {type(data).__name__}"]
        )
    return data


def format_validation_error(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem: ``field.path: value — what is allowed``."""
    lines = []
    for err in exc.errors(include_url=False):
        path = prefix
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += ("." if path else "") + str(part)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            lines.append(f"{path or '(top level)'}: missing; required field")
        elif err["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown key (check the spelling)")
        else:
            lines.append(f"{path or '(top level)'}: {err.get('input')!r} is not allowed; {msg}")
    return lines


def validate(model: type[BaseModel], data: Any, source: str) -> Any:
    """Validate ``data`` against ``model``; failures raise :class:`ConfigError` with field paths."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc)) from None


def load_site_file(path: str | Path) -> SiteFile:
    """Read and validate a site file."""
    return validate(SiteFile, read_yaml(path), str(path))
