"""A mining site: power, cooling overhead, contract, fleet and the costs attributed to it.

A thin frozen object; the economics live in :mod:`hashpivot.sites.mining` as pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError, require_fraction, require_non_negative, require_positive
from .hardware import Fleet


@dataclass(frozen=True)
class FixedCosts:
    """Monthly costs that do not scale with hashing [USD/month]."""

    site_opex_usd_per_month: float = 0.0
    sga_cash_usd_per_month: float = 0.0
    depreciation_usd_per_month: float = 0.0
    stock_comp_usd_per_month: float = 0.0
    interest_usd_per_month: float = 0.0

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            require_non_negative(name, value)


@dataclass(frozen=True)
class Site:
    """One site.

    Attributes
    ----------
    name : str
    power_capacity_mw : float
        Grid capacity at the meter [MW] (the interconnect).
    pue : float
        Facility power / IT power [-], >= 1 (cooling, transformers, lighting).
    power_usd_per_mwh : float
        All-in delivered power price [USD/MWh].
    uptime : float
        Share of hours the fleet hashes [-], in (0, 1] (curtailment, outages).
    pool_fee : float
        Pool fee as a share of gross revenue [-], in [0, 1).
    fleet : Fleet
        The machines; their IT power times ``pue`` must fit within ``power_capacity_mw``.
    costs : FixedCosts
        Site opex, allocated cash SG&A, depreciation, stock compensation and interest.
    jurisdiction : str
        Where the site is (free text for now; sanctions and regimes come with the company model).
    """

    name: str
    power_capacity_mw: float
    pue: float
    power_usd_per_mwh: float
    uptime: float
    pool_fee: float
    fleet: Fleet
    costs: FixedCosts
    jurisdiction: str = ""

    def __post_init__(self) -> None:
        require_positive("power_capacity_mw", self.power_capacity_mw)
        if not self.pue >= 1.0 or self.pue != self.pue or self.pue > 3.0:
            raise InputError("pue", self.pue, "a number in [1, 3]")
        require_non_negative("power_usd_per_mwh", self.power_usd_per_mwh)
        require_fraction("uptime", self.uptime, open_low=True)
        require_fraction("pool_fee", self.pool_fee)
        if self.pool_fee >= 1:
            raise InputError("pool_fee", self.pool_fee, "a number in [0, 1)")
        if self.facility_power_mw > self.power_capacity_mw * (1 + 1e-9):
            raise InputError(
                "fleet",
                f"{self.fleet.power_mw:.3f} MW IT x PUE {self.pue} = "
                f"{self.facility_power_mw:.3f} MW",
                f"at most power_capacity_mw = {self.power_capacity_mw} MW",
            )

    @property
    def facility_power_mw(self) -> float:
        """Power drawn at the meter when the whole fleet hashes [MW]."""
        return self.fleet.power_mw * self.pue

    @property
    def hashrate_th_s(self) -> float:
        """The fleet's hashrate [TH/s]."""
        return self.fleet.hashrate_th_s

    @property
    def wall_efficiency_j_per_th(self) -> float:
        """Energy per hash at the meter, cooling overhead included [J/TH]."""
        return self.fleet.efficiency_j_per_th * self.pue
