"""ASIC and GPU catalogue, fleets, efficiency degradation and depreciation schedules.

The catalogue is the shipped ``asic_models.csv`` / ``gpu_models.csv`` (secondary sources quoting
manufacturer nameplates, one ``sources`` cell per row; see ``data/SOURCES.md``). A fleet is a mix
of catalogue models, each either a number of units or a share of a site's IT power.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import InputError, require_fraction, require_non_negative, require_positive
from ..locations import data_path
from ..units import FloatArray


@lru_cache(maxsize=1)
def _asics() -> pd.DataFrame:
    return pd.read_csv(data_path("asic_models.csv")).set_index("model")


@lru_cache(maxsize=1)
def _gpus() -> pd.DataFrame:
    return pd.read_csv(data_path("gpu_models.csv")).set_index("model")


def asic_catalogue() -> pd.DataFrame:
    """The ASIC catalogue indexed by model: ``maker, release_year, release_month, hashrate_th,
    power_w, efficiency_j_per_th, derived_field, cooling, price_usd_observed, sources, notes``.
    Empty cells are unknown (never estimated)."""
    return _asics().copy()


def gpu_catalogue() -> pd.DataFrame:
    """The GPU catalogue indexed by model: ``vendor, form_factor, release_year, memory_gb, tdp_w,
    msrp_usd_approx, rental_usd_per_gpu_hour_low/high, ...``."""
    return _gpus().copy()


@dataclass(frozen=True)
class AsicModel:
    """One catalogue ASIC. ``hashrate_th`` and ``power_w`` may be unknown (NaN) for models whose
    sources give only the efficiency; such a model can fill a share of a site's power but cannot
    be counted in units."""

    model: str
    maker: str
    hashrate_th: float
    power_w: float
    efficiency_j_per_th: float
    cooling: str
    release_date: str = ""  # "YYYY-MM" or "YYYY" as sourced; "" when no source gave it

    @property
    def has_unit_specs(self) -> bool:
        """Whether the catalogue gives the unit's hashrate and power."""
        return bool(np.isfinite(self.hashrate_th) and np.isfinite(self.power_w))


def asic(model: str, field: str = "model") -> AsicModel:
    """Look up a catalogue ASIC by its exact name.

    Parameters
    ----------
    model : str
        The catalogue name, e.g. ``"Antminer S21"`` (see :func:`asic_catalogue`).
    field : str, default "model"
        The field an unknown name is reported under (a plan's ``sites[0].fleet[1].model``).

    Returns
    -------
    AsicModel
        Its maker, hashrate [TH/s], power [W], efficiency [J/TH] and cooling.

    Raises
    ------
    InputError
        An unknown name, listing the catalogue's.
    """
    cat = _asics()
    if model not in cat.index:
        raise InputError(field, model, "one of the catalogue models: " + ", ".join(cat.index))
    return _asic_row(model)


@cache
def _asic_row(model: str) -> AsicModel:
    """The catalogue's row of ``model`` (a known name), read once."""
    row = _asics().loc[model]
    return AsicModel(
        model=model,
        maker=str(row["maker"]),
        hashrate_th=float(row["hashrate_th"]),
        power_w=float(row["power_w"]),
        efficiency_j_per_th=float(row["efficiency_j_per_th"]),
        cooling=str(row["cooling"]),
        release_date=_release_text(row["release_date"]),
    )


def _release_text(cell: object) -> str:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    return str(int(cell)) if isinstance(cell, (int, float, np.integer)) else str(cell)


def earliest_release_day(release_date: str) -> dt.date | None:
    """The first day a catalogue release date allows (``"2021-06"`` → 2021-06-01, ``"2022"`` →
    2022-01-01); ``None`` when the release is unknown.

    Parameters
    ----------
    release_date : str
        ``"YYYY-MM"``, ``"YYYY"`` or ``""``.

    Returns
    -------
    datetime.date or None
        The earliest day the model can have been on sale.
    """
    if not release_date:
        return None
    year, _, month = release_date.partition("-")
    return dt.date(int(year), int(month) if month else 1, 1)


def release_date(model: str, kind: str = "asic") -> str:
    """A catalogue model's release date as sourced (``"YYYY-MM"`` or ``"YYYY"``; ``""`` unknown).

    Parameters
    ----------
    model : str
        The catalogue name.
    kind : str
        ``"asic"`` or ``"gpu"``.

    Returns
    -------
    str
        The release date.

    Raises
    ------
    InputError
        An unknown model or kind.
    """
    if kind not in ("asic", "gpu"):
        raise InputError("kind", kind, "asic or gpu")
    cat = _asics() if kind == "asic" else _gpus()
    if model not in cat.index:
        raise InputError("model", model, "one of the catalogue models: " + ", ".join(cat.index))
    return _release_text(cat.loc[model, "release_date"])


# --------------------------------------------------------------------------- fleets
@dataclass(frozen=True)
class FleetLine:
    """Part of a fleet: one model (or a generic efficiency) with its total hashrate and power."""

    label: str
    hashrate_th_s: float
    power_w: float

    @property
    def efficiency_j_per_th(self) -> float:
        """Efficiency of the line at the chips [J/TH]."""
        return self.power_w / self.hashrate_th_s


@dataclass(frozen=True)
class Fleet:
    """A fleet of miners, the sum of its lines; efficiency is total W / total TH/s."""

    lines: tuple[FleetLine, ...]

    @property
    def hashrate_th_s(self) -> float:
        """Fleet hashrate [TH/s]."""
        return float(sum(line.hashrate_th_s for line in self.lines))

    @property
    def power_w(self) -> float:
        """Fleet power at the chips [W]."""
        return float(sum(line.power_w for line in self.lines))

    @property
    def power_mw(self) -> float:
        """Fleet power at the chips [MW]."""
        return self.power_w / 1e6

    @property
    def efficiency_j_per_th(self) -> float:
        """Fleet efficiency at the chips [J/TH]."""
        return self.power_w / self.hashrate_th_s


def fleet_line_units(model: str, units: int, field: str = "model") -> FleetLine:
    """A fleet line of ``units`` machines of a catalogue model.

    Parameters
    ----------
    model : str
        A catalogue model with known hashrate and power.
    units : int
        Machines [-], > 0.
    field : str, default "model"
        Where errors are reported.

    Returns
    -------
    FleetLine
        Hashrate ``units · TH/s`` [TH/s] and power ``units · W`` [W].
    """
    spec = asic(model, field)
    if not spec.has_unit_specs:
        raise InputError(
            field,
            model,
            "a model with known hashrate and power to count in units "
            "(this one has only an efficiency: give share_of_power instead)",
        )
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise InputError(field.rsplit(".", 1)[0] + ".units", units, "an integer > 0")
    return FleetLine(spec.model, spec.hashrate_th * units, spec.power_w * units)


def fleet_line_power(efficiency_j_per_th: float, power_mw: float, label: str) -> FleetLine:
    """A fleet line filling ``power_mw`` of IT power at an efficiency: hashrate
    ``P / e`` [TH/s] with ``P`` in W.

    Parameters
    ----------
    efficiency_j_per_th : float
        Energy per hash at the machine [J/TH], > 0.
    power_mw : float
        IT power the line draws [MW], > 0.
    label : str
        The line's name (a model, or "generic 17.5 J/TH").

    Returns
    -------
    FleetLine
    """
    require_positive("efficiency_j_per_th", efficiency_j_per_th)
    require_positive("power_mw", power_mw)
    power_w = power_mw * 1e6
    return FleetLine(label, power_w / efficiency_j_per_th, power_w)


def fleet(lines: Iterable[FleetLine]) -> Fleet:
    """A fleet from its lines.

    Parameters
    ----------
    lines : iterable of FleetLine
        At least one line [-]; its hashrate [TH/s] and power [W] add up.

    Returns
    -------
    Fleet
    """
    lines = tuple(lines)
    if not lines:
        raise InputError("fleet", [], "at least one fleet line")
    return Fleet(lines)


# --------------------------------------------------------------------------- ageing
def degraded_efficiency_j_per_th(
    efficiency_j_per_th: npt.ArrayLike, age_years: npt.ArrayLike, degradation_per_year: float
) -> FloatArray:
    """Efficiency after ``age_years`` of use, worsening geometrically:
    ``e · (1 + g)^age`` [J/TH].

    Chip wear, fouled heat sinks and fan wear raise the energy per hash as machines age; field
    figures of a few percent a year are typical. ``g = 0`` keeps nameplate efficiency. The plan
    engine's hashrate left per unit of power is ``1 / (1 + g)^age`` from this function.

    Parameters
    ----------
    efficiency_j_per_th : float or array
        Nameplate efficiency [J/TH].
    age_years : float or array
        Age [year], ≥ 0.
    degradation_per_year : float
        ``g`` [1/year], ≥ 0.

    Returns
    -------
    ndarray
        Degraded efficiency [J/TH].
    """
    require_non_negative("degradation_per_year", degradation_per_year)
    e = np.asarray(efficiency_j_per_th, dtype=np.float64)
    age = np.asarray(age_years, dtype=np.float64)
    if np.any(age < 0):
        raise InputError("age_years", age_years, "ages >= 0")
    return e * (1.0 + degradation_per_year) ** age


def surviving_fraction(age_years: npt.ArrayLike, failure_rate_per_year: float) -> FloatArray:
    """Share of units still running after ``age_years`` with a constant annual failure rate
    ``λ`` and no replacement: ``(1 − λ)^age`` (the plan's spare-parts embargo).

    Parameters
    ----------
    age_years : float or array
        Age [year], ≥ 0.
    failure_rate_per_year : float
        ``λ`` [1/year], in [0, 1].

    Returns
    -------
    ndarray
        Surviving share [-].
    """
    require_fraction("failure_rate_per_year", failure_rate_per_year)
    age = np.asarray(age_years, dtype=np.float64)
    if np.any(age < 0):
        raise InputError("age_years", age_years, "ages >= 0")
    return (1.0 - failure_rate_per_year) ** age


# --------------------------------------------------------------------------- depreciation
def straight_line_depreciation(
    cost_usd: float, life_months: int, n_months: int, salvage_usd: float = 0.0
) -> FloatArray:
    """Straight-line depreciation by month: ``(cost − salvage) / life`` for the first
    ``life_months`` months, then zero (the plan's site assets, from each site's start).

    Parameters
    ----------
    cost_usd : float
        Cost of the asset [USD], ≥ 0.
    life_months : int
        Useful life [month], > 0.
    n_months : int
        Length of the schedule [month], ≥ 0.
    salvage_usd : float, default 0
        Value left at the end of the life [USD], ≤ cost.

    Returns
    -------
    ndarray
        Depreciation ``[month]`` [USD].
    """
    require_non_negative("cost_usd", cost_usd)
    require_non_negative("salvage_usd", salvage_usd)
    if salvage_usd > cost_usd:
        raise InputError("salvage_usd", salvage_usd, f"<= cost_usd ({cost_usd})")
    life_months = _months("life_months", life_months)
    n_months = _months("n_months", n_months, allow_zero=True)
    out = np.zeros(n_months)
    out[: min(life_months, n_months)] = (cost_usd - salvage_usd) / life_months
    return out


def declining_balance_depreciation(
    cost_usd: float, life_months: int, n_months: int, factor: float = 2.0
) -> FloatArray:
    """Monthly declining-balance depreciation (``factor`` = 2 is double-declining) switching to
    straight line when that is larger, so the asset is fully written off at ``life_months``.

    Parameters
    ----------
    cost_usd : float
        Cost of the asset [USD], ≥ 0.
    life_months : int
        Useful life [month], > 0.
    n_months : int
        Length of the schedule [month], ≥ 0.
    factor : float, default 2.0
        Multiple of the straight-line rate [-], > 0.

    Returns
    -------
    ndarray
        Depreciation ``[month]`` [USD].

    References
    ----------
    IRS Publication 946, *How to Depreciate Property* (declining balance switching to straight
    line).
    """
    require_non_negative("cost_usd", cost_usd)
    require_positive("factor", factor)
    life_months = _months("life_months", life_months)
    n_months = _months("n_months", n_months, allow_zero=True)
    out = np.zeros(n_months)
    book = cost_usd
    rate = factor / life_months
    for m in range(min(life_months, n_months)):  # at most a few hundred months: not a hot path
        remaining = life_months - m
        dep = min(book, max(book * rate, book / remaining))
        out[m] = dep
        book -= dep
    return out


def _months(field: str, value: int, allow_zero: bool = False) -> int:
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise InputError(field, value, "an integer >= 0" if allow_zero else "an integer > 0")
    return int(value)
