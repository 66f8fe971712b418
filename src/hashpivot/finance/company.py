"""Company finance: treasury, debt, hedges, jurisdictions and default, month by month per path.

The plan engine hands over, per chunk of paths, the BTC each group of sites mined (net of pool
fees) and the USD they cost, ``[group, path, month]``. A group is a jurisdiction, or a set of
co-invested sites. It also hands over the company's other USD flows: hosting income, corporate
costs and capex. This module runs the company's month on every path in one numba kernel
(:func:`consolidate`):

1. **Production.** A group's BTC and costs count at the company's share (a co-investor takes the
   rest), and stop once the group is expropriated or while it relocates. BTC mined under
   sanctions can only be sold with a haircut, and the proceeds arrive ``delay`` months later.
   After an exchange cut-off (a random month per path) the haircut rises.
2. **Treasury policy.** Sell all that is mined, hold everything, hold to a target, sell
   everything when the price is above a threshold, or sell a fixed share of each month's
   production (``sell_share``).
3. **Hedges and debt.** Hashprice forwards settle in cash. Loans pay interest and principal on
   their schedules. A convertible converts at maturity if BTC is above its conversion price. A
   BTC-backed loan is topped up with free BTC at its margin-call LTV and liquidated at its
   liquidation LTV.
4. **Obligations before tests.** Whatever the policy ("never sell, except to avoid default"),
   the company then sells free BTC, and after it restricted BTC at the month's haircut, until cash
   is not negative and, while debt is outstanding, its liquidity (cash plus the share of free
   BTC's value that the covenant counts, ``btc_liquidity_share``) meets the minimum.
5. **Covenants.** Liquidity still below the minimum, or debt above the maximum multiple of
   annualised operating cash flow, accelerates every loan.
6. **Default.** When cash is negative after selling all free BTC and then the restricted BTC
   (immediately, at the cut-off haircut), the company has defaulted in that month, with the
   remaining gap as its shortfall. A defaulted path stops.

Every flow of every month is recorded per path (``trace``), so tests rebuild the accounting
identities: Δcash equals inflows minus outflows, and BTC is conserved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._numba import HAVE_NUMBA
from ..errors import InputError
from ..units import DAYS_PER_MONTH, FloatArray, IntArray

POLICIES = {
    "sell_all": 0,
    "hold_all": 1,
    "hold_target": 2,
    "sell_above_price": 3,
    "sell_share": 4,
}
#: Columns of the per-path flow trace (USD unless named _btc).
FLOWS = (
    "btc_sales",
    "costs",
    "other",
    "hedges",
    "interest",
    "principal",
    "loan_drawn",
    "haircut_loss",
    "relocation",
    "btc_mined_btc",
    "btc_sold_btc",
    "btc_liquidated_btc",
)
F = {name: k for k, name in enumerate(FLOWS)}
# Column numbers as module constants (numba compiles them as literals).
SALES, COSTS, OTHER, HEDGES, INTEREST, PRINCIPAL, DRAWN, HAIRCUT, RELOC = range(9)
MINED_BTC, SOLD_BTC, LIQUIDATED_BTC = 9, 10, 11


@dataclass(frozen=True)
class Loan:
    """A loan's deterministic schedule (before any acceleration or conversion)."""

    name: str
    kind: str  # term_loan | convertible | equipment | btc_backed
    principal_usd: float
    rate_annual: float
    start_month: int
    maturity_months: int
    amortization: str  # bullet | linear
    conversion_price_usd: float = 0.0
    collateral_btc: float = 0.0
    margin_call_ltv: float = 1.0
    liquidation_ltv: float = 1.0

    def __post_init__(self) -> None:
        if self.principal_usd < 0:
            raise InputError(f"debt.{self.name}.principal_usd", self.principal_usd, ">= 0")
        if not 0 < self.margin_call_ltv <= 1 or not 0 < self.liquidation_ltv <= 1:
            raise InputError(
                f"debt.{self.name}.ltv",
                (self.margin_call_ltv, self.liquidation_ltv),
                "LTVs in (0, 1]",
            )

    def principal_schedule(self, n_months: int) -> FloatArray:
        """Scheduled principal repaid each month of the plan."""
        out = np.zeros(n_months)
        end = self.start_month + self.maturity_months  # repaid at the end of month end−1
        if self.amortization == "linear":
            months = np.arange(self.start_month, min(end, n_months))
            out[months] = self.principal_usd / self.maturity_months
        elif end - 1 < n_months:
            out[end - 1] = self.principal_usd
        return out


@dataclass(frozen=True)
class Regime:
    """What a group of sites' jurisdiction does to it (all zero: nothing)."""

    haircut: float = 0.0
    delay_months: int = 0
    cutoff_haircut: float = 0.0
    cutoff_hazard_monthly: float = 0.0
    expropriation_hazard_monthly: float = 0.0
    relocation_enabled: bool = False
    relocation_cost_usd: float = 0.0
    relocation_downtime_months: int = 0
    relocation_cost_factor: float = 1.0  # costs after moving, relative to before
    share: float = 1.0  # the company's share of the group's flows


@dataclass(frozen=True)
class CompanyModel:
    cash0_usd: float
    btc0: float
    policy: int
    target_btc: float
    sell_price_usd: float
    loans: tuple[Loan, ...]
    min_liquidity_usd: float
    max_leverage: float
    regimes: tuple[Regime, ...]
    sell_share: float = 0.0  # sell_share: share of each month's production sold [-]
    btc_liquidity_share: float = 0.0  # share of free BTC's value the liquidity covenant counts

    def __post_init__(self) -> None:
        if not 0.0 <= self.sell_share <= 1.0:
            raise InputError("treasury.sell_share_of_production", self.sell_share, "0..1")
        if not 0.0 <= self.btc_liquidity_share <= 1.0:
            raise InputError(
                "covenants.btc_counts_toward_liquidity_pct",
                self.btc_liquidity_share * 100.0,
                "0..100",
            )

    def schedules(self, n_months: int) -> tuple[FloatArray, ...]:
        """Loan arrays for the kernel: principal, rate, start, maturity month, scheduled
        principal [loan, month], kind codes, conversion prices, collateral and LTVs."""
        L = len(self.loans)
        sched = np.zeros((max(L, 1), n_months))
        kinds = {"term_loan": 0, "convertible": 1, "equipment": 2, "btc_backed": 3}
        arr = np.zeros((max(L, 1), 8))
        for k, loan in enumerate(self.loans):
            sched[k] = loan.principal_schedule(n_months)
            arr[k] = (
                loan.principal_usd,
                loan.rate_annual,
                loan.start_month,
                loan.start_month + loan.maturity_months - 1,
                kinds[loan.kind],
                loan.conversion_price_usd,
                loan.margin_call_ltv,
                loan.liquidation_ltv,
            )
        return sched, arr


def event_months(uniforms: FloatArray, hazard_monthly: float, n_months: int) -> IntArray:
    """First month of an event with a constant monthly hazard, from uniforms: ``floor(−ln U / λ)``.

    Parameters
    ----------
    uniforms : numpy.ndarray of float
        Uniforms on ``(0, 1]`` [-], one per path.
    hazard_monthly : float
        Hazard rate [1/month].
    n_months : int
        Plan horizon [month].

    Returns
    -------
    numpy.ndarray of int
        Month of the event [month]; ``n_months`` when it does not happen within the horizon.
    """
    if hazard_monthly <= 1e-12:  # none within any horizon
        return np.full(uniforms.shape, n_months, dtype=np.int64)
    t = np.floor(-np.log(np.clip(uniforms, 1e-300, 1.0)) / hazard_monthly)
    return np.minimum(t, n_months).astype(np.int64)


def _sell_py(held, need_usd, p, haircut, row):  # compiled (inlined) by numba below
    """Sell up to ``need_usd`` of proceeds from ``held`` BTC at ``p`` less ``haircut``, record
    the sale in the month's flow ``row``; return what is left held and the proceeds [USD]."""
    per = p * (1.0 - haircut)
    if need_usd <= 0.0 or held <= 0.0 or per <= 0.0:
        return held, 0.0
    fire = min(held, need_usd / per)
    row[SALES] += fire * per
    row[HAIRCUT] += fire * p * haircut
    row[SOLD_BTC] += fire
    return held - fire, fire * per


if HAVE_NUMBA:
    from numba import njit

    _sell: Any = njit(cache=True, inline="always")(_sell_py)
else:  # pragma: no cover
    _sell = _sell_py


def _kernel_py(  # the company's months on every path; compiled by numba below
    price,
    btc_g,
    cost_g,
    other,
    hedge,
    days,
    reg,
    cutoff_m,
    expro_m,
    policy,
    target,
    sell_px,
    sell_share,
    cash0,
    btc0,
    principal_due,
    loans,
    n_loans,
    min_liq,
    max_lev,
    btc_liq,
    collateral0,
    cash_out,
    btc_out,
    default_m,
    shortfall,
    flows,
    debt_end,
):
    n, n_months = price.shape
    n_groups = btc_g.shape[0]
    max_delay = 0
    for g in range(n_groups):
        max_delay = max(max_delay, int(reg[g, 1]))
    for i in range(n):
        cash = cash0
        free = btc0 - collateral0
        restricted = 0.0
        pledged = collateral0
        out = np.zeros(max(n_loans, 1))
        pend = np.zeros(n_months + max_delay + 1)
        op_hist = np.zeros(3)
        dead = False
        default_m[i] = n_months
        shortfall[i] = 0.0
        flows[i] = 0.0  # this path's flows start at zero
        for t in range(n_months):
            if dead:
                cash_out[i, t] = cash
                btc_out[i, t] = free + restricted + pledged
                continue
            p = price[i, t]
            op = 0.0
            mined_free = 0.0
            mined_res = 0.0
            # 1. production by group, under its jurisdiction's regime
            for g in range(n_groups):
                share = reg[g, 9]
                moved_at = cutoff_m[g, i] if reg[g, 5] > 0 else n_months + 1
                down = (t >= moved_at) and (t < moved_at + int(reg[g, 7]))
                live = (t < expro_m[g, i]) and not down
                factor = reg[g, 8] if t >= moved_at + int(reg[g, 7]) else 1.0
                if t == moved_at:
                    cash -= reg[g, 6]
                    flows[i, t, RELOC] += reg[g, 6]
                if not live:
                    continue
                b = btc_g[g, i, t] * share
                c = cost_g[g, i, t] * share * factor
                sanctioned = (reg[g, 0] > 0 or reg[g, 2] > 0) and t < moved_at
                if sanctioned:
                    restricted += b
                    mined_res += b
                else:
                    free += b
                    mined_free += b
                cash -= c
                op += b * p - c
                flows[i, t, COSTS] += c
                flows[i, t, MINED_BTC] += b
            cash += other[i, t] + hedge[i, t]
            op += other[i, t]
            flows[i, t, OTHER] += other[i, t]
            flows[i, t, HEDGES] += hedge[i, t]
            # 2. treasury policy
            sell_free = 0.0
            sell_res = 0.0
            if policy == 0:
                sell_free, sell_res = free, restricted
            elif policy == 2:
                excess = free + restricted - target
                if excess > 0:
                    sell_res = min(restricted, excess)
                    sell_free = min(free, excess - sell_res)
            elif policy == 3 and p >= sell_px:
                sell_free, sell_res = free, restricted
            elif policy == 4:
                sell_free, sell_res = sell_share * mined_free, sell_share * mined_res
            # haircut of restricted BTC: the worst group's regime at this month (one group with
            # sanctions in practice); proceeds arrive after its delay
            hc, delay = 0.0, 0
            for g in range(n_groups):
                if reg[g, 0] > 0 or reg[g, 2] > 0:
                    h = reg[g, 2] if t >= cutoff_m[g, i] else reg[g, 0]
                    if h >= hc:
                        hc, delay = h, int(reg[g, 1])
            free -= sell_free
            restricted -= sell_res
            cash += sell_free * p
            pend[t + delay] += sell_res * p * (1.0 - hc)
            flows[i, t, SALES] += sell_free * p
            flows[i, t, HAIRCUT] += sell_res * p * hc
            flows[i, t, SOLD_BTC] += sell_free + sell_res
            cash += pend[t]
            flows[i, t, SALES] += pend[t]
            # 3. debt: drawdown, interest, principal, conversion, BTC-backed margin
            for k in range(n_loans):
                start, maturity, kind = int(loans[k, 2]), int(loans[k, 3]), int(loans[k, 4])
                if t == start:
                    out[k] = loans[k, 0]
                    if start > 0:  # new borrowing; a start of 0 is debt held at the plan start
                        cash += loans[k, 0]
                        flows[i, t, DRAWN] += loans[k, 0]
                if out[k] <= 0:
                    continue
                interest = out[k] * loans[k, 1] / 12.0 * days[t] / DAYS_PER_MONTH
                cash -= interest
                flows[i, t, INTEREST] += interest
                due = min(out[k], principal_due[k, t])
                if kind == 1 and t == maturity and p >= loans[k, 5]:
                    due = 0.0
                    out[k] = 0.0  # converted into equity
                cash -= due
                out[k] -= due
                flows[i, t, PRINCIPAL] += due
                if kind == 3 and out[k] > 0:
                    value = pledged * p
                    if value > 0 and out[k] / value > loans[k, 6]:
                        need = out[k] / (loans[k, 6] * 0.9 * p) - pledged  # back below the call
                        top = min(free, max(need, 0.0))
                        free -= top
                        pledged += top
                        value = pledged * p
                    if value <= 0 or out[k] / value > loans[k, 7]:
                        sold = min(pledged, out[k] / p)
                        pledged -= sold
                        out[k] -= sold * p
                        # the lender sells the collateral: proceeds repay it, no cash moves
                        flows[i, t, PRINCIPAL] += sold * p
                        flows[i, t, SALES] += sold * p
                        flows[i, t, LIQUIDATED_BTC] += sold
            debt = 0.0
            for k in range(n_loans):
                debt += out[k]
            # 4. meet obligations before any test: sell free BTC, then restricted BTC at this
            #    month's haircut (proceeds at once), until cash is not negative and, with debt
            #    outstanding, liquidity (cash + the counted share of free BTC) meets the
            #    covenant minimum: "never sell, except to avoid default" for holding policies.
            hc_fire = 0.0
            for g in range(n_groups):
                hc_fire = max(hc_fire, reg[g, 2] if reg[g, 2] > 0 else reg[g, 0])
            need = -cash
            if debt > 0 and min_liq > 0 and btc_liq < 1.0:
                # selling x BTC raises liquidity by x·p·(1 − btc_liq)
                need = max(need, (min_liq - cash - btc_liq * free * p) / (1.0 - btc_liq))
            free, got = _sell(free, need, p, 0.0, flows[i, t])
            cash += got
            need = -cash
            if debt > 0 and min_liq > 0:
                need = max(need, min_liq - cash - btc_liq * free * p)
            restricted, got = _sell(restricted, need, p, hc, flows[i, t])
            cash += got
            # 5. covenants: a breach accelerates every loan (BTC-backed loans have their own
            #    margin terms)
            op_hist[t % 3] = op
            annual = (op_hist[0] + op_hist[1] + op_hist[2]) * 4.0 if t >= 2 else 1e300
            liquidity = cash + btc_liq * free * p
            breach = debt > 0 and (
                liquidity < min_liq - 1e-6
                or (max_lev > 0 and annual > 0 and debt / annual > max_lev)
                or (max_lev > 0 and annual <= 0 and t >= 2)
            )
            if breach:
                for k in range(n_loans):
                    if out[k] > 0 and int(loans[k, 4]) != 3:
                        cash -= out[k]
                        flows[i, t, PRINCIPAL] += out[k]
                        out[k] = 0.0
            # 6. default: what an accelerated loan leaves unpaid, after selling what is left
            #    (free first, then restricted at the worst haircut)
            free, got = _sell(free, -cash, p, 0.0, flows[i, t])
            cash += got
            restricted, got = _sell(restricted, -cash, p, hc_fire, flows[i, t])
            cash += got
            if cash < -1e-6:
                dead = True
                default_m[i] = t
                shortfall[i] = -cash
            cash_out[i, t] = cash
            btc_out[i, t] = free + restricted + pledged
        owed = 0.0
        for k in range(n_loans):
            owed += out[k]
        debt_end[i] = owed


if HAVE_NUMBA:  # paths run serially: in parallel it measured no faster
    _kernel: Any = njit(cache=True, nogil=True)(_kernel_py)
else:  # pragma: no cover
    _kernel = _kernel_py


@dataclass
class CompanyOutcome:
    """Per path: cash and BTC held by month, the default month (n_months: none), the shortfall
    at default, and every flow by month ``[path, month, flow]`` (see :data:`FLOWS`)."""

    cash_usd: FloatArray
    btc_held: FloatArray
    default_month: IntArray
    shortfall_usd: FloatArray
    flows: FloatArray
    debt_end_usd: FloatArray = field(default_factory=lambda: np.zeros(0))  # [path]


def regime_array(regimes: tuple[Regime, ...]) -> FloatArray:
    """The groups' jurisdiction regimes as the kernel's table, one row per group.

    Parameters
    ----------
    regimes : tuple of Regime
        One regime per group of sites.

    Returns
    -------
    numpy.ndarray of float
        ``[group, 10]``: haircut [-], delay [month], cut-off haircut [-], cut-off and
        expropriation hazards [1/month], relocation enabled (0/1), relocation cost [USD],
        downtime [month], cost factor after moving [-] and the company's share [-].
    """
    return np.array(
        [
            [
                r.haircut,
                r.delay_months,
                r.cutoff_haircut,
                r.cutoff_hazard_monthly,
                r.expropriation_hazard_monthly,
                1.0 if r.relocation_enabled else 0.0,
                r.relocation_cost_usd,
                r.relocation_downtime_months,
                r.relocation_cost_factor,
                r.share,
            ]
            for r in regimes
        ]
    ).reshape(-1, 10)


def consolidate(
    model: CompanyModel,
    price_usd: FloatArray,
    btc_g: FloatArray,
    cost_g: FloatArray,
    other_usd: FloatArray,
    hedge_usd: FloatArray,
    days: FloatArray,
    event_uniforms: FloatArray,
    flows: FloatArray | None = None,
) -> CompanyOutcome:
    """Run the company's months on every path (see the module docstring).

    Each month: production after the jurisdictions, the treasury policy, hedges and debt, the
    sales that obligations force, then the covenants; a path defaults in the first month its
    cash stays negative after selling all its BTC.

    Parameters
    ----------
    model : CompanyModel
        Opening cash and BTC, treasury policy, loans, covenants and regimes.
    price_usd : numpy.ndarray of float
        BTC price per ``[path, month]`` [USD/BTC].
    btc_g : numpy.ndarray of float
        BTC mined by each group ``[group, path, month]`` [BTC].
    cost_g : numpy.ndarray of float
        Cash costs of each group ``[group, path, month]`` [USD].
    other_usd : numpy.ndarray of float
        Other cash (hosting, special sites) per ``[path, month]`` [USD].
    hedge_usd : numpy.ndarray of float
        Hedge settlements per ``[path, month]`` [USD].
    days : numpy.ndarray of float
        Days in each month [day].
    event_uniforms : numpy.ndarray of float
        ``[2·group, path]``: uniforms [-] for each group's exchange cut-off and expropriation
        months.
    flows : numpy.ndarray of float or None
        ``[path, month, flow]`` array to write the flows into [USD] (e.g. a run workspace's; the
        kernel zeroes each path's rows); ``None`` allocates one.

    Returns
    -------
    CompanyOutcome
        Cash [USD] and BTC held [BTC] by month, the default month, the shortfall at default [USD]
        and every flow by month.
    """
    n, n_months = price_usd.shape
    n_groups = btc_g.shape[0]
    if len(model.regimes) != n_groups:
        raise InputError("regimes", len(model.regimes), f"one per group ({n_groups})")
    reg = regime_array(model.regimes)
    cutoff = np.stack(
        [
            event_months(event_uniforms[2 * g], r.cutoff_hazard_monthly, n_months)
            for g, r in enumerate(model.regimes)
        ]
    )
    expro = np.stack(
        [
            event_months(event_uniforms[2 * g + 1], r.expropriation_hazard_monthly, n_months)
            for g, r in enumerate(model.regimes)
        ]
    )
    sched, loans = model.schedules(n_months)
    collateral = sum(x.collateral_btc for x in model.loans if x.kind == "btc_backed")
    if collateral > model.btc0 + 1e-9:
        raise InputError(
            "debt.collateral_btc", collateral, f"at most the BTC held at the start ({model.btc0})"
        )
    cash = np.empty((n, n_months))
    btc = np.empty((n, n_months))
    default_m = np.empty(n, dtype=np.int64)
    shortfall = np.empty(n)
    if flows is None:
        flows = np.empty((n, n_months, len(FLOWS)))
    debt_end = np.empty(n)
    _kernel(
        np.ascontiguousarray(price_usd),
        np.ascontiguousarray(btc_g),
        np.ascontiguousarray(cost_g),
        np.ascontiguousarray(other_usd),
        np.ascontiguousarray(hedge_usd),
        days,
        reg,
        cutoff,
        expro,
        model.policy,
        model.target_btc,
        model.sell_price_usd,
        model.sell_share,
        model.cash0_usd,
        model.btc0,
        sched,
        loans,
        len(model.loans),
        model.min_liquidity_usd,
        model.max_leverage,
        model.btc_liquidity_share,
        collateral,
        cash,
        btc,
        default_m,
        shortfall,
        flows,
        debt_end,
    )
    return CompanyOutcome(cash, btc, default_m, shortfall, flows, debt_end)


def equity_flows(
    outcome: CompanyOutcome, cash0_usd: float, terminal_usd: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Cash flows to equity by month ``[path, month]`` and the terminal value ``[path]``.

    Equity's flow in a month is the change in its claim on the company's cash, floored at zero
    (limited liability): ``max(cash_t, 0) − max(cash_{t−1}, 0)`` with ``cash_{−1}`` the opening
    cash. A path that defaults in month ``d`` loses what cash it had left in month ``d`` and has no
    flow after it; its terminal value (contracted lease tails, BTC held, less debt) is zero,
    because the creditors take the company. Only paths solvent at the horizon keep
    ``terminal_usd``. So a defaulted path's NPV is the present value of its equity flows up to the
    default month, at most that of its flows before it.

    Parameters
    ----------
    outcome : CompanyOutcome
        From :func:`consolidate`.
    cash0_usd : float
        Opening cash [USD].
    terminal_usd : numpy.ndarray of float
        Value at the horizon per path [USD] (before default is applied).

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Equity flows [USD] per ``[path, month]`` and the terminal value [USD] per path.
    """
    n, n_months = outcome.cash_usd.shape
    equity = np.maximum(outcome.cash_usd, 0.0)
    flows = np.diff(np.concatenate([np.full((n, 1), cash0_usd), equity], axis=1), axis=1)
    after = np.arange(n_months)[None, :] > outcome.default_month[:, None]
    flows[after] = 0.0
    solvent = outcome.default_month >= n_months
    return flows, np.where(solvent, terminal_usd, 0.0)


def hedge_payoff(
    hashprice: FloatArray, strike: FloatArray, notional_ph: FloatArray, days: FloatArray
) -> FloatArray:
    """Cash a miner receives for selling hashprice forward, each month.

    ``notional_PH · days · (strike − index)``, for 1 PH/s-day contracts cash-settled against the
    index.

    Parameters
    ----------
    hashprice : numpy.ndarray of float
        Hashprice index per ``[path, month]`` [USD/PH/day].
    strike : numpy.ndarray of float
        Strike per month [USD/PH/day].
    notional_ph : numpy.ndarray of float
        Hashrate sold forward per month [PH/s].
    days : numpy.ndarray of float
        Days in each month [day].

    Returns
    -------
    numpy.ndarray of float
        Settlement per ``[path, month]`` [USD] (positive when the index is below the strike).
    """
    return notional_ph[None, :] * days[None, :] * (strike[None, :] - hashprice)
