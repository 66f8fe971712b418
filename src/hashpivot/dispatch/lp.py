"""Hour-by-hour operation of a mining site against power prices, as a linear program on HiGHS.

For each hour ``h`` the site chooses how many MW to mine (``m_h``) and how many MW to offer as a
demand-response reserve (``r_h``). The grid exchange ``g_h`` (MW bought at the hourly price,
negative when energy is sold back) closes the power balance::

    g_h − m_h + called_h · r_h = F − Q_h              (power balance; dual = the hourly price)
    r_h ≤ m_h                                         (only running load can be curtailed)
    −ramp ≤ m_h − m_{h−1} ≤ ramp                      (ramp limits)
    0 ≤ m_h ≤ min(capacity, interconnect − F),  committed_h ≤ r_h ≤ reserve max

    maximise  Σ_h  v_h (m_h − called_h r_h) + π_h r_h − p_h g_h   (− Σ Q_h c, a constant)

Here ``v_h`` is the mining value per MWh (hashprice ÷ energy per PH-day), ``p_h`` the hourly
price, ``F`` a firm load that is never curtailed (e.g. AI halls on the same interconnect), ``Q_h``
the block of a fixed-price PPA (paid at ``c`` whatever is used, so unused energy is sold back at
``p_h``: the "power credits" Riot reported) and ``π_h`` the reserve payment. A fixed-price supply
contract billed on consumption is the same LP with ``p_h = c``. Without ramp, reserve and firm
terms the LP reduces to the closed form "mine iff ``v_h > p_h``", and a test holds it to that.

The model is built as sparse matrices by a pipeline of ``define_*`` functions (PyPSA's layout)
and passed to HiGHS through ``highspy``. An infeasible or failed solve raises; it never returns
zeros (linopy's "no silent wrong answers").
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import (
    HashpivotError,
    InputError,
    present,
    require_non_negative,
    require_positive,
)
from ..solver import highs_lp, quiet_highs
from ..units import BoolArray, FloatArray


class SolverStatus(enum.Enum):
    """How a solve ended. A :class:`DispatchResult` is always ``OPTIMAL``: any other ending
    raises (linopy's rule, no silent wrong answers), and the exception carries its status."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


class DispatchInfeasible(HashpivotError):
    """The site's constraints cannot all hold (e.g. ramp limits against a committed reserve)."""

    status = SolverStatus.INFEASIBLE


class SolverFailed(HashpivotError):
    """HiGHS did not reach an optimum (unbounded, time limit, numerical trouble); ``status``
    says which (``UNBOUNDED`` or ``ERROR``)."""

    def __init__(self, message: str, status: SolverStatus = SolverStatus.ERROR) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reserve:
    """A demand-response / ancillary commitment.

    Up to ``max_mw`` of running load is offered as reserve each hour for ``payment_usd_per_mw_h``;
    at least ``committed_mw`` must be offered in every hour of ``committed`` (a firm program);
    in ``called`` hours the reserved MW are curtailed (not mined, so their energy is saved or sold
    back).
    """

    max_mw: float
    payment_usd_per_mw_h: FloatArray | float
    committed_mw: float = 0.0
    committed: BoolArray | None = None
    called: BoolArray | None = None


@dataclass(frozen=True)
class DispatchSite:
    """One site's hourly problem (see module docstring for the symbols)."""

    name: str
    capacity_mw: float
    value_usd_per_mwh: FloatArray | float
    ppa_mw: float = 0.0
    ppa_price_usd_per_mwh: float = 0.0
    firm_mw: float = 0.0
    interconnect_mw: float | None = None
    ramp_mw_per_hour: float | None = None
    reserve: Reserve | None = None
    export_mw: float | None = None  # max MW sold back (None: no limit beyond the balance)

    def __post_init__(self) -> None:
        require_positive("capacity_mw", self.capacity_mw)
        require_non_negative("ppa_mw", self.ppa_mw)
        require_non_negative("firm_mw", self.firm_mw)
        if self.interconnect_mw is not None and not self.interconnect_mw >= self.firm_mw:
            raise InputError(
                "interconnect_mw",
                self.interconnect_mw,
                f">= firm_mw ({self.firm_mw}): the firm load must fit",
            )
        if self.ramp_mw_per_hour is not None:
            require_positive("ramp_mw_per_hour", self.ramp_mw_per_hour)
        if self.reserve is not None:
            require_non_negative("reserve.max_mw", self.reserve.max_mw)
            require_non_negative("reserve.committed_mw", self.reserve.committed_mw)


@dataclass(frozen=True)
class LpModel:
    """A built LP in HiGHS's column-wise form, and where each variable block sits."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    a: sp.csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    n_hours: int
    offsets: dict[str, int]
    constant_usd: float
    balance_rows: slice
    build_s: float


@dataclass(frozen=True)
class DispatchResult:
    """A solved site: dispatch by hour, duals, objective and the accounts."""

    site: str
    status: SolverStatus
    objective_usd: float
    mining_mw: FloatArray
    reserve_mw: FloatArray
    grid_mw: FloatArray
    balance_dual_usd_per_mwh: FloatArray
    prices_usd_per_mwh: FloatArray
    value_usd_per_mwh: FloatArray
    called: BoolArray
    capacity_mw: float
    ppa_cost_usd: float
    reserve_payment_usd_per_mw_h: FloatArray
    build_s: float
    solve_s: float

    @property
    def mined_mw(self) -> FloatArray:
        """MW actually hashing: scheduled minus reserve curtailed in called hours."""
        return self.mining_mw - self.called * self.reserve_mw

    def to_frame(self, index: Any = None) -> pd.DataFrame:
        """One row per hour: price and mining value [USD/MWh], scheduled, mined, reserve and grid
        power [MW] (grid > 0 buys, < 0 sells), the balance dual [USD/MWh] and whether the
        reserve was called. ``index`` (e.g. the prices' ``index_utc``) labels the hours."""
        return pd.DataFrame(
            {
                "price_usd_per_mwh": self.prices_usd_per_mwh,
                "mining_value_usd_per_mwh": self.value_usd_per_mwh,
                "mining_mw": self.mining_mw,
                "mined_mw": self.mined_mw,
                "reserve_mw": self.reserve_mw,
                "grid_mw": self.grid_mw,
                "balance_dual_usd_per_mwh": self.balance_dual_usd_per_mwh,
                "reserve_called": self.called,
            },
            index=index,
        )

    def accounts(self) -> dict[str, Any]:
        """The ``--json`` summary (energy in MWh, money in USD)."""
        p = self.prices_usd_per_mwh
        sold = np.maximum(-self.grid_mw, 0.0)
        bought = np.maximum(self.grid_mw, 0.0)
        mined = self.mined_mw
        return {
            "status": self.status.value,
            "objective_usd": self.objective_usd,
            "mwh_mined": float(mined.sum()),
            "mwh_curtailed": float((self.capacity_mw - mined).sum()),
            "mwh_sold_back": float(sold.sum()),
            "revenue_mining_usd": float((self.value_usd_per_mwh * mined).sum()),
            "revenue_sellback_usd": float((p * sold).sum()),
            "revenue_demand_response_usd": float(
                (self.reserve_payment_usd_per_mw_h * self.reserve_mw).sum()
            ),
            "power_cost_usd": float((p * bought).sum() + self.ppa_cost_usd),
            "uptime": float(mined.sum() / (self.capacity_mw * mined.size)),
        }


# --------------------------------------------------------------------------- the pipeline
def _hourly(name: str, value: FloatArray | float, n: int) -> FloatArray:
    a = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(a)):
        raise InputError(name, "NaN/inf", "finite numbers for every hour")
    return a


def define_variables(site: DispatchSite, n: int) -> tuple[dict[str, int], FloatArray, FloatArray]:
    """Columns of the LP: mining MW ``m`` (hours 0..n−1), reserve MW ``r`` (if any), grid MW ``g``.

    Mining is bounded by the capacity (and by the interconnect less the firm load), a committed
    reserve hour by its committed MW, and the grid draw below by the export limit.

    Parameters
    ----------
    site : DispatchSite
        The site.
    n : int
        Hours in the horizon [h].

    Returns
    -------
    tuple of (dict, numpy.ndarray, numpy.ndarray)
        Offsets of each variable block (``"m"``, ``"r"``, ``"g"``) and the column bounds [MW].
    """
    upper_m = site.capacity_mw
    if site.interconnect_mw is not None:
        upper_m = min(upper_m, site.interconnect_mw - site.firm_mw)
    offsets = {"m": 0}
    lower = [np.zeros(n)]
    upper = [np.full(n, upper_m)]
    if site.reserve is not None:
        offsets["r"] = n
        r = site.reserve
        committed = np.zeros(n, dtype=bool) if r.committed is None else np.asarray(r.committed)
        lo = np.where(committed, r.committed_mw, 0.0)
        lower.append(lo)
        upper.append(np.full(n, r.max_mw))
    offsets["g"] = sum(x.size for x in lower)
    g_lo = -np.inf if site.export_mw is None else -site.export_mw
    lower.append(np.full(n, g_lo))
    upper.append(np.full(n, np.inf))
    return offsets, np.concatenate(lower), np.concatenate(upper)


def define_power_balance(
    site: DispatchSite, n: int, offsets: dict[str, int], called: BoolArray
) -> tuple[sp.coo_matrix, FloatArray, FloatArray]:
    """The power balance ``g_h − m_h + called_h r_h = F − Q`` for every hour.

    ``F`` is the firm load and ``Q`` the PPA delivery; its duals are the site's hourly marginal
    value of power.

    Parameters
    ----------
    site : DispatchSite
        The site.
    n : int
        Hours in the horizon [h].
    offsets : dict of str to int
        Variable offsets from :func:`define_variables`.
    called : numpy.ndarray of bool
        Hours in which the reserve is called, shape ``(n,)``.

    Returns
    -------
    tuple of (scipy.sparse.coo_matrix, numpy.ndarray, numpy.ndarray)
        The rows and their lower and upper bounds [MW].
    """
    h = np.arange(n)
    rows = [h, h]
    cols = [offsets["g"] + h, offsets["m"] + h]
    vals = [np.ones(n), -np.ones(n)]
    if "r" in offsets and called.any():
        hc = h[called]
        rows.append(hc)
        cols.append(offsets["r"] + hc)
        vals.append(np.ones(hc.size))
    rhs = np.full(n, site.firm_mw - site.ppa_mw)
    a = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))))
    return a, rhs, rhs


def define_reserve_constraints(
    n: int, offsets: dict[str, int]
) -> tuple[sp.coo_matrix, FloatArray, FloatArray]:
    """``r_h − m_h ≤ 0``: only running load can be offered as reserve.

    Parameters
    ----------
    n : int
        Hours in the horizon [h].
    offsets : dict of str to int
        Variable offsets from :func:`define_variables`.

    Returns
    -------
    tuple of (scipy.sparse.coo_matrix, numpy.ndarray, numpy.ndarray)
        The rows and their lower and upper bounds [MW].
    """
    h = np.arange(n)
    rows = np.concatenate([h, h])
    cols = np.concatenate([offsets["r"] + h, offsets["m"] + h])
    vals = np.concatenate([np.ones(n), -np.ones(n)])
    return sp.coo_matrix((vals, (rows, cols))), np.full(n, -np.inf), np.zeros(n)


def define_ramp_constraints(
    site: DispatchSite, n: int, offsets: dict[str, int]
) -> tuple[sp.coo_matrix, FloatArray, FloatArray]:
    """``−ramp ≤ m_h − m_{h−1} ≤ ramp`` for ``h = 1 .. n−1``.

    Parameters
    ----------
    site : DispatchSite
        The site (``ramp_mw_per_hour`` must be set).
    n : int
        Hours in the horizon [h].
    offsets : dict of str to int
        Variable offsets from :func:`define_variables`.

    Returns
    -------
    tuple of (scipy.sparse.coo_matrix, numpy.ndarray, numpy.ndarray)
        The rows and their lower and upper bounds [MW/h].
    """
    h = np.arange(1, n)
    rows = np.concatenate([h - 1, h - 1])
    cols = np.concatenate([offsets["m"] + h, offsets["m"] + h - 1])
    vals = np.concatenate([np.ones(n - 1), -np.ones(n - 1)])
    ramp = present(site.ramp_mw_per_hour, "ramp_mw_per_hour")
    return sp.coo_matrix((vals, (rows, cols))), np.full(n - 1, -ramp), np.full(n - 1, ramp)


def define_objective(
    site: DispatchSite,
    n: int,
    offsets: dict[str, int],
    prices: FloatArray,
    value: FloatArray,
    payment: FloatArray,
    called: BoolArray,
    n_cols: int,
) -> FloatArray:
    """Column costs of ``max Σ v (m − called r) + π r − p g`` (one hour steps).

    Parameters
    ----------
    site : DispatchSite
        The site.
    n : int
        Hours in the horizon [h].
    offsets : dict of str to int
        Variable offsets from :func:`define_variables`.
    prices : numpy.ndarray of float
        Hourly power price [USD/MWh].
    value : numpy.ndarray of float
        Hourly value of a MWh of mining [USD/MWh].
    payment : numpy.ndarray of float
        Hourly reserve payment [USD/MW/h].
    called : numpy.ndarray of bool
        Hours in which the reserve is called.
    n_cols : int
        Number of columns [-].

    Returns
    -------
    numpy.ndarray of float
        The objective coefficient of each column [USD/MWh].
    """
    cost = np.zeros(n_cols)
    cost[offsets["m"] : offsets["m"] + n] = value
    if "r" in offsets:
        cost[offsets["r"] : offsets["r"] + n] = payment - value * called
    cost[offsets["g"] : offsets["g"] + n] = -prices
    return cost


def build(site: DispatchSite, prices_usd_per_mwh: FloatArray) -> LpModel:
    """Build the site's LP with the ``define_*`` pipeline (sparse, vectorised).

    Parameters
    ----------
    site : DispatchSite
        The site.
    prices_usd_per_mwh : numpy.ndarray of float
        Hourly power price [USD/MWh]; its length sets the horizon.

    Returns
    -------
    LpModel
        Costs, bounds and the constraint matrix in CSC form, ready for HiGHS.

    Raises
    ------
    InputError
        A non-finite price or an hourly array of the wrong length, naming the field.
    """
    t0 = time.perf_counter()
    prices = _hourly("prices_usd_per_mwh", prices_usd_per_mwh, len(prices_usd_per_mwh))
    n = prices.size
    if n < 1:
        raise InputError("prices_usd_per_mwh", n, "at least one hour")
    value = _hourly("value_usd_per_mwh", site.value_usd_per_mwh, n)
    called = np.zeros(n, dtype=bool)
    payment = np.zeros(n)
    if site.reserve is not None:
        if site.reserve.called is not None:
            called = np.asarray(site.reserve.called, dtype=bool)
        payment = _hourly("reserve.payment_usd_per_mw_h", site.reserve.payment_usd_per_mw_h, n)
    offsets, lower, upper = define_variables(site, n)
    blocks = [define_power_balance(site, n, offsets, called)]
    if site.reserve is not None:
        blocks.append(define_reserve_constraints(n, offsets))
    if site.ramp_mw_per_hour is not None and n > 1:
        blocks.append(define_ramp_constraints(site, n, offsets))
    n_cols = lower.size
    a = sp.vstack(
        [
            sp.coo_matrix((b[0].data, (b[0].row, b[0].col)), shape=(b[1].size, n_cols))
            for b in blocks
        ]
    ).tocsc()
    cost = define_objective(site, n, offsets, prices, value, payment, called, n_cols)
    return LpModel(
        cost=cost,
        col_lower=lower,
        col_upper=upper,
        a=a,
        row_lower=np.concatenate([b[1] for b in blocks]),
        row_upper=np.concatenate([b[2] for b in blocks]),
        n_hours=n,
        offsets=offsets,
        constant_usd=-site.ppa_mw * site.ppa_price_usd_per_mwh * n,
        balance_rows=slice(0, n),
        build_s=time.perf_counter() - t0,
    )


def solve(
    site: DispatchSite, prices_usd_per_mwh: FloatArray, model: LpModel | None = None
) -> DispatchResult:
    """Build (unless given) and solve the site's LP on HiGHS.

    Parameters
    ----------
    site : DispatchSite
        The site.
    prices_usd_per_mwh : numpy.ndarray of float
        Hourly power price [USD/MWh].
    model : LpModel or None
        A model already built by :func:`build` for the same inputs.

    Returns
    -------
    DispatchResult
        Hourly mining, reserve and grid MW, the balance duals [USD/MWh] and the objective [USD].

    Raises
    ------
    DispatchInfeasible
        HiGHS proves the LP infeasible (the status is carried).
    SolverFailed
        Any other non-optimal status.

    References
    ----------
    .. [1] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
       *Math. Prog. Comp.* 10, 119–142 (2018) (HiGHS).
    """
    import highspy

    prices = _hourly("prices_usd_per_mwh", prices_usd_per_mwh, len(prices_usd_per_mwh))
    model = model or build(site, prices)
    h = quiet_highs()
    lp = highs_lp(
        model.cost, model.col_lower, model.col_upper, model.a, model.row_lower, model.row_upper
    )
    t0 = time.perf_counter()
    h.passModel(lp)
    h.run()
    solve_s = time.perf_counter() - t0
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise DispatchInfeasible(
            f"site {site.name!r}: the dispatch problem is infeasible (check ramp_mw_per_hour "
            f"against reserve commitments and the interconnect)"
        )
    if status != highspy.HighsModelStatus.kOptimal:
        unbounded = status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        )
        raise SolverFailed(
            f"site {site.name!r}: HiGHS stopped with status {h.modelStatusToString(status)}",
            SolverStatus.UNBOUNDED if unbounded else SolverStatus.ERROR,
        )
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    duals = np.asarray(sol.row_dual)
    n, off = model.n_hours, model.offsets
    mining = x[off["m"] : off["m"] + n]
    reserve = x[off["r"] : off["r"] + n] if "r" in off else np.zeros(n)
    grid = x[off["g"] : off["g"] + n]
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(duals))):
        raise SolverFailed(f"site {site.name!r}: HiGHS returned non-finite values")
    res = site.reserve
    return DispatchResult(
        site=site.name,
        status=SolverStatus.OPTIMAL,
        objective_usd=float(h.getInfo().objective_function_value) + model.constant_usd,
        mining_mw=mining,
        reserve_mw=reserve,
        grid_mw=grid,
        # The balance row's dual is the objective's change per MWh more load to serve (its
        # right-hand side); its negative is the site's marginal price of energy.
        balance_dual_usd_per_mwh=-duals[model.balance_rows],
        prices_usd_per_mwh=prices,
        value_usd_per_mwh=_hourly("value_usd_per_mwh", site.value_usd_per_mwh, n),
        called=np.zeros(n, bool) if res is None or res.called is None else np.asarray(res.called),
        capacity_mw=site.capacity_mw,
        ppa_cost_usd=site.ppa_mw * site.ppa_price_usd_per_mwh * n,
        reserve_payment_usd_per_mw_h=np.zeros(n)
        if res is None
        else _hourly("reserve.payment_usd_per_mw_h", res.payment_usd_per_mw_h, n),
        build_s=model.build_s,
        solve_s=solve_s,
    )


def closed_form(site: DispatchSite, prices_usd_per_mwh: FloatArray) -> tuple[FloatArray, float]:
    """Optimal dispatch without ramp, reserve or firm terms: mine at capacity iff ``v_h > p_h``.

    Parameters
    ----------
    site : DispatchSite
        The site (its ramp and reserve are ignored).
    prices_usd_per_mwh : numpy.ndarray of float
        Hourly power price [USD/MWh].

    Returns
    -------
    tuple of (numpy.ndarray, float)
        Hourly mining [MW] and the objective [USD], with the same accounting as the LP.
    """
    p = np.asarray(prices_usd_per_mwh, dtype=np.float64)
    v = _hourly("value_usd_per_mwh", site.value_usd_per_mwh, p.size)
    cap = site.capacity_mw
    if site.interconnect_mw is not None:
        cap = min(cap, site.interconnect_mw - site.firm_mw)
    m = np.where(v > p, cap, 0.0)
    objective = float(
        ((v - p) * m).sum()
        + (p * (site.ppa_mw - site.firm_mw)).sum()
        - site.ppa_mw * site.ppa_price_usd_per_mwh * p.size
    )
    return m, objective


# --------------------------------------------------------------------------- strike policies
def implied_strikes(result: DispatchResult) -> tuple[float, float]:
    """The low/high strike prices a fleet tool would be set to from the optimal dispatch.

    Curtail when the price rises above ``high`` (the lowest price at which the optimum is fully
    off), resume when it falls below ``low`` (the highest price at which it runs fully).

    Parameters
    ----------
    result : DispatchResult
        An optimal dispatch.

    Returns
    -------
    tuple of (float, float)
        ``(low, high)`` [USD/MWh].
    """
    m, p, cap = result.mined_mw, result.prices_usd_per_mwh, result.capacity_mw
    full = m >= cap * (1 - 1e-6)
    off = m <= cap * 1e-6
    high = float(p[off].min()) if off.any() else float(p.max())
    low = float(p[full].max()) if full.any() else float(p.min())
    return min(low, high), high


def strike_policy_dispatch(
    prices: FloatArray,
    capacity_mw: float,
    low: float,
    high: float,
    ramp_mw_per_hour: float | None = None,
) -> FloatArray:
    """Dispatch of a two-strike (hysteresis) policy.

    Switch off above ``high``, back on below ``low``, moving at most ``ramp`` MW an hour toward
    the target.

    Parameters
    ----------
    prices : numpy.ndarray of float
        Hourly power price [USD/MWh].
    capacity_mw : float
        Mining load when on [MW].
    low : float
        Resume below this price [USD/MWh].
    high : float
        Curtail above this price [USD/MWh].
    ramp_mw_per_hour : float or None
        Largest change of load in an hour [MW/h]; ``None`` for no limit.

    Returns
    -------
    numpy.ndarray of float
        Hourly mining load [MW].
    """
    p = np.asarray(prices, dtype=np.float64)
    m = np.empty(p.size)
    level, on = capacity_mw, True
    for i, price in enumerate(p):  # a state machine over hours: inherently sequential
        if on and price > high:
            on = False
        elif not on and price < low:
            on = True
        target = capacity_mw if on else 0.0
        if ramp_mw_per_hour is not None:
            target = float(np.clip(target, level - ramp_mw_per_hour, level + ramp_mw_per_hour))
        level = target
        m[i] = level
    return m


# --------------------------------------------------------------------------- strikes vs the optimum
def strike_comparison(site: DispatchSite, prices: FloatArray) -> dict[str, float]:
    """What a two-strike policy at the optimum's implied strikes loses against the optimum.

    Parameters
    ----------
    site : DispatchSite
        The site (solved without its reserve terms).
    prices : numpy.ndarray of float
        Hourly power price [USD/MWh].

    Returns
    -------
    dict of str to float
        ``strike_low_usd_per_mwh``, ``strike_high_usd_per_mwh`` [USD/MWh],
        ``strike_policy_objective_usd``, ``energy_only_optimum_usd`` and
        ``strike_policy_value_lost_usd`` [USD].
    """
    energy_only = replace(site, reserve=None)
    opt = solve(energy_only, prices)
    low, high = implied_strikes(opt)
    cap = float(opt.mining_mw.max()) if opt.mining_mw.max() > 0 else site.capacity_mw
    m = strike_policy_dispatch(prices, cap, low, high, site.ramp_mw_per_hour)
    v = opt.value_usd_per_mwh
    grid = m + site.firm_mw - site.ppa_mw
    strike_obj = float((v * m).sum() - (prices * grid).sum() - opt.ppa_cost_usd)
    return {
        "strike_low_usd_per_mwh": low,
        "strike_high_usd_per_mwh": high,
        "strike_policy_objective_usd": strike_obj,
        "energy_only_optimum_usd": opt.objective_usd,
        "strike_policy_value_lost_usd": opt.objective_usd - strike_obj,
    }
