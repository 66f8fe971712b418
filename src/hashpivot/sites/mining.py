"""Mining revenue and costs, the cost to mine one BTC (energy, cash, all-in) and breakevens.

Definitions follow CoinShares' quarterly mining reports [1]_: *cash cost* is cost of revenue
(mostly electricity) plus SG&A with non-cash items removed; *all-in* adds depreciation &
amortisation and stock-based compensation — and, as TheMinerMag's all-in does, interest. Here:

* energy cost per BTC = electricity / BTC mined;
* cash cost per BTC = (electricity + site opex + pool fees + cash SG&A) / BTC mined;
* all-in cost per BTC = cash + (depreciation + stock compensation + interest) / BTC mined.

BTC mined is the gross expected production (before the pool's fee); the pool fee is a cost, so
every figure is per BTC of production and the stack adds up term by term.

Breakevens: the *breakeven power price* is the price at which revenue net of pool fees equals the
electricity bill, ``hashprice · (1 − fee) / (J/TH · PUE · 0.024)`` in $/kWh with hashprice per
TH/s-day [2]_ — the price above which a machine should be switched off; the *breakeven BTC price*
is the price at which the cash margin is zero, ``(electricity + opex + cash SG&A) /
(BTC · (1 − fee))``, and the all-in breakeven adds the non-cash and financing costs.

References
----------
.. [1] CoinShares, *Bitcoin Mining Report*, quarterly (cash cost and all-in cost per BTC of listed
   miners).
.. [2] Luxor Technology, *Hashrate Index*: hashprice and breakeven power price.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..bitcoin import network
from ..errors import InputError, require_fraction, require_positive
from ..units import DAYS_PER_MONTH, FloatArray
from .site import FixedCosts, Site

ArrayLike = npt.ArrayLike


@dataclass(frozen=True)
class MiningFlows:
    """Production and variable costs over some days, elementwise over any array shape.

    All money in USD; ``btc_mined`` gross of the pool fee.
    """

    btc_mined: FloatArray
    revenue_usd: FloatArray
    pool_fee_usd: FloatArray
    energy_mwh: FloatArray
    energy_cost_usd: FloatArray


def mining_flows(
    *,
    hashrate_th_s: ArrayLike,
    facility_power_mw: ArrayLike,
    uptime: ArrayLike,
    pool_fee: ArrayLike,
    difficulty: ArrayLike,
    subsidy_btc: ArrayLike,
    fees_btc_per_block: ArrayLike,
    price_usd: ArrayLike,
    power_usd_per_mwh: ArrayLike,
    days: ArrayLike = 1.0,
) -> MiningFlows:
    """Expected production and variable costs of a fleet over ``days`` (vectorised).

    .. math::
        BTC = \\frac{H \\cdot u \\cdot 86400 \\cdot days}{D \\cdot 2^{32}} (s + f), \\quad
        E = P_{fac} \\cdot u \\cdot 24 \\cdot days

    Parameters
    ----------
    hashrate_th_s : array_like
        Fleet hashrate [TH/s].
    facility_power_mw : array_like
        Power at the meter while hashing, cooling overhead included [MW].
    uptime : array_like
        Share of time hashing [-].
    pool_fee : array_like
        Pool fee as a share of gross revenue [-].
    difficulty : array_like
        Network difficulty [-].
    subsidy_btc : array_like
        Block subsidy [BTC/block].
    fees_btc_per_block : array_like
        Fees per block [BTC/block].
    price_usd : array_like
        BTC price [USD/BTC].
    power_usd_per_mwh : array_like
        Power price [USD/MWh].
    days : array_like
        Length of the period [days].
    """
    per_ph = np.asarray(network.btc_per_ph_day(difficulty, subsidy_btc, fees_btc_per_block))
    u = np.asarray(uptime, dtype=np.float64)
    d = np.asarray(days, dtype=np.float64)
    btc = np.asarray(hashrate_th_s, dtype=np.float64) / 1000.0 * per_ph * u * d
    revenue = btc * np.asarray(price_usd, dtype=np.float64)
    pool = revenue * np.asarray(pool_fee, dtype=np.float64)
    energy_mwh = np.asarray(facility_power_mw, dtype=np.float64) * 24.0 * u * d
    energy_cost = energy_mwh * np.asarray(power_usd_per_mwh, dtype=np.float64)
    # Every flow covers the same elements (e.g. days of a period), so sums over them agree.
    arrays = np.broadcast_arrays(btc, revenue, pool, energy_mwh, energy_cost)
    return MiningFlows(*(np.array(a, dtype=np.float64) for a in arrays))


@dataclass(frozen=True)
class CostStack:
    """Totals over a period and the cost to mine one BTC, as separately labelled metrics."""

    days: float
    btc_mined: float
    revenue_usd: float
    energy_mwh: float
    energy_cost_usd: float
    pool_fee_usd: float
    site_opex_usd: float
    sga_cash_usd: float
    depreciation_usd: float
    stock_comp_usd: float
    interest_usd: float

    @property
    def cash_cost_usd(self) -> float:
        """Energy, site opex, pool fees and cash SG&A [USD]."""
        return self.energy_cost_usd + self.site_opex_usd + self.pool_fee_usd + self.sga_cash_usd

    @property
    def all_in_cost_usd(self) -> float:
        """Cash cost plus depreciation, stock compensation and interest [USD]."""
        return self.cash_cost_usd + self.depreciation_usd + self.stock_comp_usd + self.interest_usd

    @property
    def energy_cost_usd_per_btc(self) -> float:
        """Energy cost per BTC mined [USD/BTC]."""
        return self.energy_cost_usd / self.btc_mined

    @property
    def cash_cost_usd_per_btc(self) -> float:
        """Cash cost per BTC mined [USD/BTC]."""
        return self.cash_cost_usd / self.btc_mined

    @property
    def all_in_cost_usd_per_btc(self) -> float:
        """All-in cost per BTC mined [USD/BTC]."""
        return self.all_in_cost_usd / self.btc_mined

    @property
    def average_price_usd(self) -> float:
        """Production-weighted BTC price over the period [USD/BTC]."""
        return self.revenue_usd / self.btc_mined

    @property
    def breakeven_power_usd_per_kwh(self) -> float:
        """Power price at which revenue net of pool fees equals the electricity bill [USD/kWh]."""
        return (self.revenue_usd - self.pool_fee_usd) / (self.energy_mwh * 1000.0)

    @property
    def cash_breakeven_power_usd_per_kwh(self) -> float:
        """Power price at which the cash margin is zero [USD/kWh] (negative: never)."""
        other = self.site_opex_usd + self.sga_cash_usd
        return (self.revenue_usd - self.pool_fee_usd - other) / (self.energy_mwh * 1000.0)

    @property
    def breakeven_btc_price_usd(self) -> float:
        """BTC price at which the cash margin is zero [USD/BTC]."""
        net_share = 1.0 - self.pool_fee_usd / self.revenue_usd if self.revenue_usd else 1.0
        cash_ex_pool = self.energy_cost_usd + self.site_opex_usd + self.sga_cash_usd
        return cash_ex_pool / (self.btc_mined * net_share)

    @property
    def all_in_breakeven_btc_price_usd(self) -> float:
        """BTC price at which the all-in margin is zero [USD/BTC]."""
        net_share = 1.0 - self.pool_fee_usd / self.revenue_usd if self.revenue_usd else 1.0
        ex_pool = self.all_in_cost_usd - self.pool_fee_usd
        return ex_pool / (self.btc_mined * net_share)

    def per_btc(self) -> dict[str, float]:
        """Each cost line per BTC mined [USD/BTC]."""
        return {
            "energy": self.energy_cost_usd / self.btc_mined,
            "site_opex": self.site_opex_usd / self.btc_mined,
            "pool_fees": self.pool_fee_usd / self.btc_mined,
            "sga_cash": self.sga_cash_usd / self.btc_mined,
            "depreciation": self.depreciation_usd / self.btc_mined,
            "stock_comp": self.stock_comp_usd / self.btc_mined,
            "interest": self.interest_usd / self.btc_mined,
        }

    def to_dict(self) -> dict[str, float]:
        """The totals and the per-BTC metrics as plain data."""
        out = asdict(self)
        for key in (
            "cash_cost_usd",
            "all_in_cost_usd",
            "energy_cost_usd_per_btc",
            "cash_cost_usd_per_btc",
            "all_in_cost_usd_per_btc",
            "average_price_usd",
            "breakeven_power_usd_per_kwh",
            "cash_breakeven_power_usd_per_kwh",
            "breakeven_btc_price_usd",
            "all_in_breakeven_btc_price_usd",
        ):
            out[key] = getattr(self, key)
        return out


def cost_stack(flows: MiningFlows, costs: FixedCosts, days: float) -> CostStack:
    """Sum ``flows`` over all their elements and add ``days`` worth of the fixed monthly costs.

    The cost lines are the industry's energy, cash and all-in costs (see :class:`CostStack`).

    Parameters
    ----------
    flows : MiningFlows
        From :func:`mining_flows`.
    costs : FixedCosts
        The site's monthly fixed costs [USD/month].
    days : float
        Length of the period [day]; fixed costs count ``days / DAYS_PER_MONTH`` months.

    Returns
    -------
    CostStack
        Totals over the period [BTC, USD, MWh] and the cost per BTC of each line [USD/BTC].
    """
    require_positive("days", days)
    btc = float(np.sum(flows.btc_mined))
    if not btc > 0:
        raise InputError("btc_mined", btc, "> 0 (the fleet must hash for some time)")
    months = days / DAYS_PER_MONTH
    return CostStack(
        days=float(days),
        btc_mined=btc,
        revenue_usd=float(np.sum(flows.revenue_usd)),
        energy_mwh=float(np.sum(flows.energy_mwh)),
        energy_cost_usd=float(np.sum(flows.energy_cost_usd)),
        pool_fee_usd=float(np.sum(flows.pool_fee_usd)),
        site_opex_usd=costs.site_opex_usd_per_month * months,
        sga_cash_usd=costs.sga_cash_usd_per_month * months,
        depreciation_usd=costs.depreciation_usd_per_month * months,
        stock_comp_usd=costs.stock_comp_usd_per_month * months,
        interest_usd=costs.interest_usd_per_month * months,
    )


@dataclass(frozen=True)
class MarketSeries:
    """Network state per day (arrays of equal length), e.g. from
    :func:`hashpivot.bitcoin.history.network_over_period`, or a single day as length-1 arrays."""

    difficulty: FloatArray
    subsidy_btc: FloatArray
    fees_btc_per_block: FloatArray
    price_usd: FloatArray

    @classmethod
    def constant(
        cls, difficulty: float, subsidy_btc: float, fees_btc_per_block: float, price_usd: float
    ) -> MarketSeries:
        """One day of a constant market: difficulty, subsidy [BTC], fees [BTC/block], price
        [USD]."""
        return cls(
            np.array([float(difficulty)]),
            np.array([float(subsidy_btc)]),
            np.array([float(fees_btc_per_block)]),
            np.array([float(price_usd)]),
        )

    @property
    def days(self) -> int:
        """Number of days in the series."""
        return int(self.difficulty.shape[0])


@dataclass(frozen=True)
class SiteEconomics:
    """A site's cost stack over a market period, with the hashprice it earned."""

    stack: CostStack
    hashrate_th_s: float
    facility_power_mw: float
    wall_efficiency_j_per_th: float
    btc_per_ph_day: float
    hashprice_usd_per_ph_day: float

    def summary(self) -> dict[str, Any]:
        """The cost command's JSON: fixed keys first, then the stack in detail."""
        s = self.stack
        return {
            "energy_cost_usd_per_btc": s.energy_cost_usd_per_btc,
            "cash_cost_usd_per_btc": s.cash_cost_usd_per_btc,
            "all_in_cost_usd_per_btc": s.all_in_cost_usd_per_btc,
            "breakeven_power_usd_per_kwh": s.breakeven_power_usd_per_kwh,
            "breakeven_btc_price_usd": s.breakeven_btc_price_usd,
            "btc_per_ph_day": self.btc_per_ph_day,
            "all_in_breakeven_btc_price_usd": s.all_in_breakeven_btc_price_usd,
            "cash_breakeven_power_usd_per_kwh": s.cash_breakeven_power_usd_per_kwh,
            "hashprice_usd_per_ph_day": self.hashprice_usd_per_ph_day,
            "average_btc_price_usd": s.average_price_usd,
            "hashrate_th_s": self.hashrate_th_s,
            "facility_power_mw": self.facility_power_mw,
            "wall_efficiency_j_per_th": self.wall_efficiency_j_per_th,
            "days": s.days,
            "btc_mined": s.btc_mined,
            "revenue_usd": s.revenue_usd,
            "energy_mwh": s.energy_mwh,
            "cost_usd": {
                "energy": s.energy_cost_usd,
                "site_opex": s.site_opex_usd,
                "pool_fees": s.pool_fee_usd,
                "sga_cash": s.sga_cash_usd,
                "depreciation": s.depreciation_usd,
                "stock_comp": s.stock_comp_usd,
                "interest": s.interest_usd,
            },
            "cost_usd_per_btc": s.per_btc(),
        }

    def to_frame(self) -> pd.DataFrame:
        """The cost stack: one row per cost line, its total [USD], per BTC mined [USD/BTC] and
        per MWh used [USD/MWh]."""
        s = self.stack
        totals = self.summary()["cost_usd"]
        per_btc = s.per_btc()
        frame = pd.DataFrame(
            {
                "cost_line": list(totals),
                "cost_usd": [totals[k] for k in totals],
                "cost_usd_per_btc": [per_btc[k] for k in totals],
                "cost_usd_per_mwh": [totals[k] / s.energy_mwh for k in totals],
            }
        )
        return frame.set_index("cost_line")


def site_economics(site: Site, market: MarketSeries) -> SiteEconomics:
    """The cost stack of ``site`` over the days of ``market`` (one element per day).

    Parameters
    ----------
    site : Site
        The site (fleet, power, fixed costs).
    market : MarketSeries
        Network state per day (from :func:`hashpivot.bitcoin.history.network_over_period`, or a
        single day).

    Returns
    -------
    SiteEconomics
        The cost stack, the fleet's hashrate [TH/s], power [MW] and wall efficiency [J/TH], and
        the BTC [BTC/PH/day] and hashprice [USD/PH/day] it earned.
    """
    flows = mining_flows(
        hashrate_th_s=site.hashrate_th_s,
        facility_power_mw=site.facility_power_mw,
        uptime=site.uptime,
        pool_fee=site.pool_fee,
        difficulty=market.difficulty,
        subsidy_btc=market.subsidy_btc,
        fees_btc_per_block=market.fees_btc_per_block,
        price_usd=market.price_usd,
        power_usd_per_mwh=site.power_usd_per_mwh,
        days=1.0,
    )
    stack = cost_stack(flows, site.costs, float(market.days))
    # Production-weighted BTC per PH/s-day over the period (uptime removed): what 1 PH/s earned.
    ph_days = site.hashrate_th_s / 1000.0 * site.uptime * market.days
    btc_per_ph_day = stack.btc_mined / ph_days
    return SiteEconomics(
        stack=stack,
        hashrate_th_s=site.hashrate_th_s,
        facility_power_mw=site.facility_power_mw,
        wall_efficiency_j_per_th=site.wall_efficiency_j_per_th,
        btc_per_ph_day=btc_per_ph_day,
        hashprice_usd_per_ph_day=stack.revenue_usd / ph_days,
    )


# --------------------------------------------------------------------------- closed forms
def mining_value_usd_per_mwh(
    hashprice_usd_per_ph_day: FloatArray | float,
    wall_efficiency_j_per_th: FloatArray | float,
    pool_fee: float,
) -> FloatArray:
    """What 1 MWh earns when mining [USD/MWh]: ``hashprice · (1 − fee) / (0.024 · J/TH)``.

    1 PH/s at ``e`` J/TH draws ``e`` MW·(1000 TH/PH)/(10⁶ W/MW) = ``e/1000`` MW, i.e.
    ``0.024·e`` MWh a day; divide a PH/s-day's revenue after pool fees by it. The one home of
    this rule: dispatch values hours with it, the plan's market-priced sites value months with
    it, and :func:`breakeven_power_usd_per_kwh` is it per kWh.

    Parameters
    ----------
    hashprice_usd_per_ph_day : float or array
        Revenue of 1 PH/s for a day [USD/PH/day].
    wall_efficiency_j_per_th : float
        Energy per hash at the wall, cooling included (efficiency · PUE) [J/TH].
    pool_fee : float
        Pool fee [fraction].

    References
    ----------
    Luxor Hashrate Index, "Hashprice" (hashrateindex.com/blog/what-is-hashprice).
    """
    if np.any(np.asarray(wall_efficiency_j_per_th) <= 0):
        raise InputError("wall_efficiency_j_per_th", wall_efficiency_j_per_th, "> 0")
    hp = np.asarray(hashprice_usd_per_ph_day, dtype=np.float64)
    return hp * (1.0 - pool_fee) / (0.024 * wall_efficiency_j_per_th)


def breakeven_power_usd_per_kwh(
    hashprice_usd_per_ph_day: ArrayLike,
    efficiency_j_per_th: ArrayLike,
    pue: float = 1.0,
    pool_fee: float = 0.0,
) -> FloatArray | float:
    """Breakeven power price: ``hashprice/TH/day · (1 − fee) / (J/TH · PUE · 0.024)``.

    1 TH/s at ``e`` J/TH draws ``e`` W, i.e. ``e · 24 / 1000`` kWh a day; divide a TH/s-day's
    revenue by it.

    Parameters
    ----------
    hashprice_usd_per_ph_day : array_like of float
        Hashprice [USD/PH/day].
    efficiency_j_per_th : array_like of float
        Fleet efficiency at the chips [J/TH], > 0.
    pue : float
        Power usage effectiveness of the site [-].
    pool_fee : float
        Pool fee as a share of gross revenue [-].

    Returns
    -------
    numpy.ndarray of float or float
        Power price at which revenue equals the power bill [USD/kWh].

    Raises
    ------
    InputError
        A non-positive efficiency or a fee outside [0, 1].
    """
    require_fraction("pool_fee", pool_fee)
    e = np.asarray(efficiency_j_per_th, dtype=np.float64)
    if np.any(e <= 0):
        raise InputError("efficiency_j_per_th", efficiency_j_per_th, "> 0")
    hashprice = np.asarray(hashprice_usd_per_ph_day, dtype=np.float64)
    out = mining_value_usd_per_mwh(hashprice, e * pue, pool_fee) / 1000.0
    return float(out) if out.ndim == 0 else out
