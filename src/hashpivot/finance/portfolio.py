"""Choosing one alternative per site: a mixed-integer programme over simulated scenarios.

Each site ``s`` has alternatives ``a`` (keep mining, convert, repower, sell …, each possibly at
several start months), valued on the same ``N`` scenarios (common random numbers):
``npv_usd[s, a, k]``. The portfolio takes exactly one alternative per site and maximises the
expected NPV (sample-average approximation)

.. math::
    \\max_x \\; \\frac1N \\sum_k \\sum_{s,a} x_{sa} V_{sak}, \\quad \\sum_a x_{sa} = 1, \\;
    x_{sa} \\in \\{0, 1\\}

subject to the limits of :class:`PortfolioLimits`: capex by year, conversions started per year,
leased MW, and a floor on the CVaR of portfolio NPV at level α (the mean of its worst
``1 − α`` share of scenarios), linearised after Rockafellar and Uryasev [1]_: with the loss
``L_k = −Σ x V_k``,

.. math::
    t + \\frac{1}{(1-α) N} \\sum_k u_k \\le -\\text{floor}, \\quad u_k \\ge L_k - t, \\;
    u_k \\ge 0 .

Solved on HiGHS [2]_. :func:`decide` also gives what a decision-maker asks next: per site the
next best alternative and what forcing it would cost (a re-solve with that alternative fixed),
the value of relaxing each binding limit (a re-solve with the limit moved by a stated step —
a MILP has no duals), and the greedy per-site choice a spreadsheet would make, with whether it
fits the limits. :func:`frontier` traces expected NPV against CVaR over risk weights.

References
----------
.. [1] R. T. Rockafellar and S. Uryasev, "Optimization of conditional value-at-risk",
   *Journal of Risk* 2(3), 21–41 (2000).
.. [2] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
   *Math. Prog. Comp.* 10, 119–142 (2018).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..errors import HashpivotError, InputError, present
from ..solver import highs_lp, quiet_highs
from ..units import FloatArray

#: Relative tolerance of the MILP (HiGHS ``mip_rel_gap``).
MIP_REL_GAP = 1e-9

#: Relative tolerance on the CVaR floor: HiGHS keeps rows to an absolute 1e-7, so a cut met by
#: the solver may leave the choice's CVaR that far below it.
CVAR_REL_TOL = 1e-7


class PortfolioInfeasible(HashpivotError):
    """No choice satisfies the limits; ``relaxation`` holds the smallest change of each limit
    that makes the problem feasible (limit name → amount)."""

    def __init__(self, message: str, relaxation: dict[str, float]) -> None:
        super().__init__(message)
        self.relaxation = relaxation


@dataclass(frozen=True)
class PortfolioProblem:
    """Sites' alternatives valued on common scenarios.

    ``npv_usd[s, a, k]`` is NaN where alternative ``a`` is not open to site ``s`` (a ragged list
    padded); ``capex_usd[s, a, y]`` the capex it spends in year ``y`` [USD]; ``conversion_year``
    the year index a conversion starts (−1: not a conversion); ``leased_mw`` the MW it leases to a
    tenant [MW].
    """

    sites: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...]
    npv_usd: FloatArray
    capex_usd: FloatArray
    conversion_year: npt.NDArray[np.int64]
    leased_mw: FloatArray
    debt_usd: FloatArray | None = None  # [s, a]: project debt it raises [USD]

    def __post_init__(self) -> None:
        s, a, _ = self.npv_usd.shape
        if len(self.sites) != s or len(self.alternatives) != s:
            raise InputError("sites", len(self.sites), f"{s} names, one per row of npv_usd")
        for name, alts in zip(self.sites, self.alternatives, strict=True):
            if not alts:
                raise InputError(f"sites[{name}].alternatives", [], "at least one alternative")
            if len(alts) > a:
                raise InputError(f"sites[{name}].alternatives", len(alts), f"at most {a}")
        for key in ("capex_usd", "conversion_year", "leased_mw", "debt_usd"):
            if getattr(self, key) is not None and getattr(self, key).shape[:2] != (s, a):
                raise InputError(key, getattr(self, key).shape, f"leading shape ({s}, {a})")

    @property
    def allowed(self) -> npt.NDArray[np.bool_]:
        """``[site, alternative]``: open to the site (named and valued) [-]."""
        n = np.array([len(a) for a in self.alternatives])
        named = np.arange(self.npv_usd.shape[1])[None, :] < n[:, None]
        return named & np.isfinite(self.npv_usd).all(axis=2)

    @property
    def mean_npv_usd(self) -> FloatArray:
        """Expected NPV ``[site, alternative]`` over the scenarios [USD] (−inf where closed)."""
        return np.where(self.allowed, np.nan_to_num(self.npv_usd).mean(axis=2), -np.inf)


@dataclass(frozen=True)
class PortfolioLimits:
    """The ``portfolio:`` section's limits; ``None`` leaves a limit out.

    ``capex_budget_usd[y]`` caps the capex of year ``y`` [USD]; ``conversions_per_year`` the
    conversions started in any year [-]; ``leased_mw`` the MW tenants will take [MW];
    ``cvar_level`` α in (0, 1) and ``cvar_floor_usd`` the least CVaR of portfolio NPV allowed
    (the mean of the worst ``1 − α`` share of scenarios) [USD]; ``financing_usd`` the project
    debt that can be raised in all [USD].
    """

    capex_budget_usd: FloatArray | None = None
    conversions_per_year: int | None = None
    leased_mw: float | None = None
    financing_usd: float | None = None
    cvar_level: float = 0.95
    cvar_floor_usd: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.cvar_level < 1.0:
            raise InputError("portfolio.cvar_level", self.cvar_level, "a level in (0, 1)")
        if self.conversions_per_year is not None and self.conversions_per_year < 0:
            raise InputError(
                "portfolio.conversions_per_year", self.conversions_per_year, "a count ≥ 0"
            )
        if self.leased_mw is not None and self.leased_mw < 0:
            raise InputError("portfolio.leased_mw", self.leased_mw, "MW ≥ 0")
        if self.financing_usd is not None and self.financing_usd < 0:
            raise InputError("portfolio.financing_capacity_usd", self.financing_usd, "USD ≥ 0")


@dataclass(frozen=True)
class Choice:
    """One solved portfolio: ``alternative[s]`` the index chosen for site ``s``."""

    alternative: npt.NDArray[np.int64]
    expected_npv_usd: float
    cvar_usd: float
    npv_usd: FloatArray = field(repr=False)  # [scenario]: the portfolio's NPV


@dataclass(frozen=True)
class Decision:
    """The portfolio decision and what surrounds it.

    ``next_best[s]`` is the best other alternative of site ``s`` (``-1`` if it has none) and
    ``cost_to_force_usd[s]`` what forcing it costs in expected NPV; ``binding`` maps each limit
    that binds to the gain from relaxing it by its step (``step_of``); ``greedy`` is each site's
    best alternative on its own and ``greedy_feasible`` whether it fits the limits.
    """

    choice: Choice
    next_best: npt.NDArray[np.int64]
    cost_to_force_usd: FloatArray
    binding: dict[str, float]
    step_of: dict[str, float]
    greedy: Choice
    greedy_feasible: bool


def cvar_lower(npv_usd: npt.ArrayLike, level: float) -> float:
    """CVaR of NPV at ``level``: the mean of its worst ``1 − level`` share of scenarios.

    With ``N(1 − level)`` not whole, the boundary scenario counts with its fraction (the exact
    sample CVaR, the value the Rockafellar–Uryasev programme attains).

    Parameters
    ----------
    npv_usd : array_like of float
        NPV per scenario [USD].
    level : float
        α in (0, 1) [-].

    Returns
    -------
    float
        The lower-tail mean [USD].
    """
    v = np.asarray(npv_usd, dtype=np.float64)
    return float(tail_weights(v, level) @ v)


def _highs() -> Any:
    h = quiet_highs()
    h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    return h


@dataclass(frozen=True)
class _Milp:
    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    integrality: npt.NDArray[np.int64]
    a: sp.csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    rows: dict[str, list[int]]  # limit name → its rows
    n_x: int


def define_milp(
    problem: PortfolioProblem,
    limits: PortfolioLimits,
    fixed: dict[int, int] | None = None,
    banned: tuple[tuple[int, int], ...] = (),
    cuts: FloatArray | None = None,
) -> _Milp:
    """Build the MILP: one binary per open (site, alternative), the CVaR rows, the limits' rows.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites, alternatives and their values.
    limits : PortfolioLimits
        The limits.
    fixed : dict of int to int or None
        Sites whose alternative is forced (site index → alternative index).
    banned : tuple of (int, int)
        (site, alternative) pairs excluded.
    cuts : numpy.ndarray of float or None
        ``[cut, s·A + a]``: impose the CVaR floor by these cuts ``c·x ≥ floor`` (see
        :func:`tail_weights`) instead of the full linearisation [USD].

    Returns
    -------
    _Milp
        Columns ``x[s·A + a]`` then (linearised CVaR) ``t`` and ``u[k]``; rows named by limit.
    """
    s_n, a_n, k_n = problem.npv_usd.shape
    n_x = s_n * a_n
    allowed = problem.allowed.ravel().copy()
    for s, a in banned:
        allowed[s * a_n + a] = False
    upper_x = allowed.astype(np.float64)
    lower_x = np.zeros(n_x)
    for s, a in (fixed or {}).items():
        lower_x[s * a_n + a] = upper_x[s * a_n + a] = 1.0
        if not allowed[s * a_n + a]:
            raise InputError(f"sites[{problem.sites[s]}]", a, "an alternative open to the site")
    values = np.nan_to_num(problem.npv_usd).reshape(n_x, k_n)
    mean = values.mean(axis=1)
    use_cvar = limits.cvar_floor_usd is not None and cuts is None
    n_col = n_x + (1 + k_n if use_cvar else 0)
    cost = np.zeros(n_col)
    cost[:n_x] = mean
    lower = np.r_[lower_x, np.full(n_col - n_x, -np.inf)]
    upper = np.r_[upper_x, np.full(n_col - n_x, np.inf)]
    if use_cvar:
        lower[n_x + 1 :] = 0.0  # u ≥ 0 (t is free)
    integrality = np.r_[np.ones(n_x, dtype=np.int64), np.zeros(n_col - n_x, dtype=np.int64)]
    blocks: list[sp.csr_matrix] = []
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    rows: dict[str, list[int]] = {}
    n_rows = 0

    def add(name: str, mat: Any, r_lo: FloatArray, r_hi: FloatArray) -> None:
        nonlocal n_rows
        m = sp.csr_matrix(mat)
        m.resize((m.shape[0], n_col))
        blocks.append(m)
        lo.append(np.asarray(r_lo, dtype=np.float64))
        hi.append(np.asarray(r_hi, dtype=np.float64))
        rows[name] = list(range(n_rows, n_rows + m.shape[0]))
        n_rows += m.shape[0]

    one = sp.kron(sp.eye(s_n), np.ones((1, a_n)))
    add("one_per_site", one, np.ones(s_n), np.ones(s_n))
    if limits.capex_budget_usd is not None:
        budget = np.asarray(limits.capex_budget_usd, dtype=np.float64)
        capex = problem.capex_usd.reshape(n_x, -1)
        years = min(budget.size, capex.shape[1])
        spend = np.zeros((budget.size, n_x))
        spend[:years] = capex[:, :years].T
        add("capex_budget", spend, np.full(budget.size, -np.inf), budget)
    if limits.conversions_per_year is not None:
        cy = problem.conversion_year.ravel()
        start_years = np.unique(cy[cy >= 0])
        if start_years.size:
            mat = (cy[None, :] == start_years[:, None]).astype(np.float64)
            cap = np.full(start_years.size, float(limits.conversions_per_year))
            add("conversions_per_year", mat, np.full(start_years.size, -np.inf), cap)
    if limits.leased_mw is not None:
        add(
            "leased_mw",
            problem.leased_mw.reshape(1, n_x),
            np.array([-np.inf]),
            np.array([limits.leased_mw]),
        )
    if limits.financing_usd is not None and problem.debt_usd is not None:
        add(
            "financing",
            problem.debt_usd.reshape(1, n_x),
            np.array([-np.inf]),
            np.array([limits.financing_usd]),
        )
    if use_cvar:
        floor = float(limits.cvar_floor_usd)  # type: ignore[arg-type]
        # u_k + Σ x V_k + t ≥ 0   (u_k ≥ L_k − t with L_k = −Σ x V_k)
        mat = sp.hstack([sp.csr_matrix(values.T), np.ones((k_n, 1)), sp.eye(k_n)])
        add("cvar_scenarios", mat, np.zeros(k_n), np.full(k_n, np.inf))
        # t + Σ u / ((1 − α) N) ≤ −floor
        row = np.zeros((1, n_col))
        row[0, n_x] = 1.0
        row[0, n_x + 1 :] = 1.0 / ((1.0 - limits.cvar_level) * k_n)
        add("cvar_floor", row, np.array([-np.inf]), np.array([-floor]))
    if cuts is not None and limits.cvar_floor_usd is not None and len(cuts):
        c = np.asarray(cuts, dtype=np.float64).reshape(-1, n_x)
        add("cvar_cuts", c, np.full(c.shape[0], float(limits.cvar_floor_usd)),
            np.full(c.shape[0], np.inf))  # fmt: skip
    a = sp.vstack(blocks).tocsc()
    return _Milp(
        cost, lower, upper, integrality, a, np.concatenate(lo), np.concatenate(hi), rows, n_x
    )


def _run(m: _Milp, start: FloatArray | None = None) -> tuple[FloatArray, float] | None:
    """Solve on HiGHS (maximising): the column values and the objective, ``None`` if infeasible.
    ``start`` is a known feasible point (the MIP search's first incumbent)."""
    import highspy

    h = _highs()
    lp = highs_lp(m.cost, m.lower, m.upper, m.a, m.row_lower, m.row_upper, m.integrality)
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status != highspy.HighsModelStatus.kOptimal:
        raise HashpivotError(
            f"portfolio: HiGHS stopped with status {h.modelStatusToString(status)}"
        )
    return np.asarray(h.getSolution().col_value), float(h.getInfo().objective_function_value)


def _solve(
    m: _Milp,
    problem: PortfolioProblem,
    limits: PortfolioLimits,
    start: npt.NDArray[np.int64] | None = None,
) -> Choice | None:
    x0 = None
    if start is not None and m.cost.size == m.n_x:
        x0 = np.zeros(m.n_x)
        x0[np.arange(start.size) * problem.npv_usd.shape[1] + start] = 1.0
    out = _run(m, x0)
    if out is None:
        return None
    a_n = problem.npv_usd.shape[1]
    chosen = np.argmax(out[0][: m.n_x].reshape(-1, a_n), axis=1).astype(np.int64)
    return evaluate(problem, chosen, limits.cvar_level)


def evaluate(problem: PortfolioProblem, chosen: npt.ArrayLike, level: float = 0.95) -> Choice:
    """A given choice's portfolio NPV per scenario, its mean and its CVaR.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    chosen : array_like of int
        Alternative index per site [-].
    level : float
        CVaR level α [-].

    Returns
    -------
    Choice
        The choice with its expected NPV [USD], CVaR [USD] and NPV per scenario [USD].
    """
    c = np.asarray(chosen, dtype=np.int64)
    npv = np.nan_to_num(problem.npv_usd[np.arange(c.size), c]).sum(axis=0)
    return Choice(c, float(npv.mean()), cvar_lower(npv, level), npv)


def feasible(problem: PortfolioProblem, limits: PortfolioLimits, chosen: npt.ArrayLike) -> bool:
    """Whether a choice keeps every limit (to a relative 1e-9).

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        The limits.
    chosen : array_like of int
        Alternative index per site [-].

    Returns
    -------
    bool
        ``True`` when the choice is open to every site and within every limit.
    """
    c = np.asarray(chosen, dtype=np.int64)
    rows = np.arange(c.size)
    if not problem.allowed[rows, c].all():
        return False
    tol = 1e-9
    if limits.capex_budget_usd is not None:
        budget = np.asarray(limits.capex_budget_usd, dtype=np.float64)
        spend = problem.capex_usd[rows, c].sum(axis=0)
        n = min(budget.size, spend.size)
        if (spend[:n] > budget[:n] + tol * (1 + np.abs(budget[:n]))).any():
            return False
    if limits.conversions_per_year is not None:
        cy = problem.conversion_year[rows, c]
        if cy[cy >= 0].size and np.bincount(cy[cy >= 0]).max() > limits.conversions_per_year:
            return False
    if limits.leased_mw is not None:
        if problem.leased_mw[rows, c].sum() > limits.leased_mw * (1 + tol) + tol:
            return False
    if limits.financing_usd is not None and problem.debt_usd is not None:
        if problem.debt_usd[rows, c].sum() > limits.financing_usd * (1 + tol) + tol:
            return False
    if limits.cvar_floor_usd is not None:
        cvar = evaluate(problem, c, limits.cvar_level).cvar_usd
        if cvar < limits.cvar_floor_usd - CVAR_REL_TOL * (1 + abs(limits.cvar_floor_usd)):
            return False
    return True


def tail_weights(npv_usd: npt.ArrayLike, level: float) -> FloatArray:
    """The scenario weights of the lower-tail mean: ``CVaR = Σ w_k NPV_k``.

    ``1/((1 − α) N)`` on the worst scenarios, the remainder on the boundary one, zero elsewhere;
    ``Σ w = 1``. For any other portfolio these weights give an upper bound of its CVaR (CVaR is
    the minimum over all such weightings), so ``Σ_k w_k NPV_k(x) ≥ floor`` is a valid cut.

    Parameters
    ----------
    npv_usd : array_like of float
        NPV per scenario [USD].
    level : float
        α in (0, 1) [-].

    Returns
    -------
    numpy.ndarray of float
        Weights per scenario [-].
    """
    v = np.asarray(npv_usd, dtype=np.float64)
    n = v.size
    cap = 1.0 / ((1.0 - level) * n)
    # the worst first, each up to the cap, until the weights reach one
    reached = np.minimum(cap * np.arange(1, n + 1), 1.0)
    w = np.zeros(n)
    w[np.argsort(v, kind="stable")] = np.diff(reached, prepend=0.0)
    return w


#: MILP rounds of CVaR cuts before :func:`solve` turns to the full linearisation: near the
#: highest reachable CVaR the cuts exclude the many violating choices one by one, while the
#: linearisation (one row per scenario) takes tens of seconds whatever the floor.
MILP_CUT_ROUNDS = 40

#: MILP rounds of cuts in :func:`weighted` before it turns to the linearisation: the cuts'
#: bound closes on the optimum slowly (Kelley's tail), the linearisation is exact in seconds.
WEIGHTED_CUT_ROUNDS = 8

#: Cut rounds on the LP relaxation at most, before the MILP rounds (each adds one cut; they
#: converge in far fewer: the cuts are the vertices of a finite polytope).
MAX_CUT_ROUNDS = 500


def solve(
    problem: PortfolioProblem,
    limits: PortfolioLimits,
    fixed: dict[int, int] | None = None,
    banned: tuple[tuple[int, int], ...] = (),
    method: str = "cuts",
    cut_pool: list[FloatArray] | None = None,
    start: npt.NDArray[np.int64] | None = None,
) -> Choice | None:
    """The best feasible choice, or ``None`` when no choice keeps the limits.

    A CVaR floor is imposed either by the full Rockafellar–Uryasev linearisation
    (``method="linearised"``: one auxiliary and one row per scenario) or, by default, by its
    cutting planes (``"cuts"``, Künzi-Bay and Mayer 2006): solve without it, and while the
    choice's CVaR is below the floor, add the cut of its tail weights (:func:`tail_weights`)
    and solve again. Both give the same optimum (the cuts describe the same feasible set on
    the binaries); the cuts keep every MILP as small as the sites × alternatives. After
    :data:`MILP_CUT_ROUNDS` MILP rounds the cuts give way to the linearisation (with a floor
    near the highest reachable CVaR they would exclude violating choices one by one).

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        The limits.
    fixed : dict of int to int or None
        Forced alternatives (site → alternative).
    banned : tuple of (int, int)
        Excluded (site, alternative) pairs.
    method : str
        ``"cuts"`` or ``"linearised"``.
    cut_pool : list of numpy.ndarray or None
        Cuts to start from, extended in place with the new ones [USD]: a cut holds for every
        floor and every limit (it bounds the CVaR of any choice), so a frontier shares one pool.
    start : numpy.ndarray of int or None
        A choice known to keep every limit (alternative per site) [-], the first incumbent.

    Returns
    -------
    Choice or None
        The optimum.

    Raises
    ------
    InputError
        An unknown ``method``.
    """
    if method not in ("cuts", "linearised"):
        raise InputError("method", method, "cuts or linearised")
    if method == "linearised" or limits.cvar_floor_usd is None:
        return _solve(define_milp(problem, limits, fixed, banned), problem, limits)
    values = np.nan_to_num(problem.npv_usd).reshape(-1, problem.npv_usd.shape[2])
    floor = float(limits.cvar_floor_usd)
    tol = CVAR_REL_TOL * (1.0 + abs(floor))
    cuts: list[FloatArray] = [] if cut_pool is None else cut_pool
    seen: set[bytes] = set()
    # Phase 1: cuts on the LP relaxation (each round milliseconds), the pool the MILP starts from.
    for _ in range(MAX_CUT_ROUNDS):
        rows = np.array(cuts) if cuts else np.zeros((0, values.shape[0]))
        m = define_milp(problem, limits, fixed, banned, cuts=rows)
        relaxed = _run(replace(m, integrality=np.zeros_like(m.integrality)))
        if relaxed is None:
            return None  # the relaxation is infeasible, so is the MILP
        npv = values.T @ relaxed[0][: m.n_x]
        if cvar_lower(npv, limits.cvar_level) >= floor - tol:
            break
        cuts.append(values @ tail_weights(npv, limits.cvar_level))
    for _ in range(MILP_CUT_ROUNDS):
        rows = np.array(cuts) if cuts else np.zeros((0, values.shape[0]))
        m = define_milp(problem, limits, fixed, banned, cuts=rows)
        c = _solve(m, problem, limits, start)
        if c is None or c.cvar_usd >= floor - tol:
            return c
        key = c.alternative.tobytes()
        if key in seen:  # its cut is in and the solver holds it met: numerically on the floor
            raise HashpivotError(
                f"portfolio: the CVaR floor {floor:,.6g} is met only to {c.cvar_usd:,.6g} "
                "(numerical tolerance); move the floor slightly"
            )
        seen.add(key)
        cuts.append(values @ tail_weights(c.npv_usd, limits.cvar_level))
    # a floor near the safest end: the full linearisation instead
    return _solve(define_milp(problem, limits, fixed, banned), problem, limits)


def brute_force(problem: PortfolioProblem, limits: PortfolioLimits) -> Choice | None:
    """Enumerate every choice (small problems: the tests' reference).

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        The limits.

    Returns
    -------
    Choice or None
        The feasible choice of highest expected NPV.
    """
    opts = [np.flatnonzero(row) for row in problem.allowed]
    best: Choice | None = None
    for combo in itertools.product(*opts):
        if not feasible(problem, limits, combo):
            continue
        c = evaluate(problem, combo, limits.cvar_level)
        if best is None or c.expected_npv_usd > best.expected_npv_usd + 1e-9 * (
            1 + abs(best.expected_npv_usd)
        ):
            best = c
    return best


def smallest_relaxation(problem: PortfolioProblem, limits: PortfolioLimits) -> dict[str, float]:
    """For an infeasible problem, how far each limit alone must move to make it feasible.

    Each limit is dropped in turn (the others kept); the least relaxation of it that the best
    choice then needs is reported. A limit whose removal alone does not help is left out.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        Limits no choice keeps.

    Returns
    -------
    dict of str to float
        Limit name → the smallest change that suffices with the others as they are (USD of
        budget in the tightest year, conversions per year, MW, USD of CVaR floor).
    """
    out: dict[str, float] = {}
    rows = np.arange(len(problem.sites))
    if limits.capex_budget_usd is not None:
        alt = solve(problem, replace(limits, capex_budget_usd=None))
        if alt is not None:
            budget = np.asarray(limits.capex_budget_usd, dtype=np.float64)
            spend = problem.capex_usd[rows, alt.alternative].sum(axis=0)[: budget.size]
            out["capex_budget"] = float(np.max(spend - budget[: spend.size], initial=0.0))
    if limits.conversions_per_year is not None:
        alt = solve(problem, replace(limits, conversions_per_year=None))
        if alt is not None:
            cy = problem.conversion_year[rows, alt.alternative]
            most = np.bincount(cy[cy >= 0]).max() if (cy >= 0).any() else 0
            out["conversions_per_year"] = float(max(0, most - limits.conversions_per_year))
    if limits.leased_mw is not None:
        alt = solve(problem, replace(limits, leased_mw=None))
        if alt is not None:
            mw = problem.leased_mw[rows, alt.alternative].sum()
            out["leased_mw"] = float(max(0.0, mw - limits.leased_mw))
    if limits.financing_usd is not None and problem.debt_usd is not None:
        alt = solve(problem, replace(limits, financing_usd=None))
        if alt is not None:
            debt = problem.debt_usd[rows, alt.alternative].sum()
            out["financing"] = float(max(0.0, debt - limits.financing_usd))
    if limits.cvar_floor_usd is not None:
        # the safest portfolio's CVaR (within the other limits) is the highest floor possible
        best_cvar = max_cvar(problem, replace(limits, cvar_floor_usd=None))
        if best_cvar is not None:
            out["cvar_floor"] = float(max(0.0, limits.cvar_floor_usd - best_cvar))
    return out


def max_cvar(problem: PortfolioProblem, limits: PortfolioLimits) -> float | None:
    """The highest CVaR of portfolio NPV any choice within the (non-CVaR) limits reaches.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        Limits; its CVaR floor is ignored.

    Returns
    -------
    float or None
        CVaR [USD] (``None`` when the other limits are infeasible).
    """
    c = safest(problem, limits)
    return None if c is None else c.cvar_usd


def safest(problem: PortfolioProblem, limits: PortfolioLimits) -> Choice | None:
    """The choice of highest CVaR within the (non-CVaR) limits: :func:`weighted` at weight 1.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        Limits; its CVaR floor is ignored.

    Returns
    -------
    Choice or None
        The safest choice (``None`` when the other limits are infeasible).
    """
    return weighted(problem, limits, 1.0)


def weighted(problem: PortfolioProblem, limits: PortfolioLimits, weight: float) -> Choice | None:
    """The choice maximising ``(1 − w)·E[NPV] + w·CVaR`` within the (non-CVaR) limits.

    CVaR is concave in the choice (the minimum over tail weightings of ``w·NPV``), so it is
    approximated from above by cuts ``z ≤ c·x`` (the tail weights of the choices met so far),
    tightened until the optimum's ``z`` meets its own CVaR — first on the LP relaxation, then
    on the MILP for :data:`WEIGHTED_CUT_ROUNDS` rounds, then by the full linearisation from the
    best choice met (Kelley's bound closes slowly on a MILP). A choice optimal for some weight
    is on the efficient frontier: no choice has both a higher expected NPV and a higher CVaR.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        Limits; its CVaR floor is ignored.
    weight : float
        ``w`` in [0, 1] [-]: 0 the highest expected NPV, 1 the highest CVaR.

    Returns
    -------
    Choice or None
        The optimum (``None`` when the other limits are infeasible).

    Raises
    ------
    InputError
        A weight outside [0, 1].
    """
    if not 0.0 <= weight <= 1.0:
        raise InputError("weight", weight, "a number in [0, 1]")
    core = define_milp(problem, replace(limits, cvar_floor_usd=None))
    if weight == 0.0:
        return _solve(core, problem, limits)
    n_x, a_n = core.n_x, problem.npv_usd.shape[1]
    values = np.nan_to_num(problem.npv_usd).reshape(-1, problem.npv_usd.shape[2])
    cost = np.r_[(1.0 - weight) * core.cost[:n_x], weight]
    greedy = evaluate(problem, np.argmax(problem.mean_npv_usd, axis=1), limits.cvar_level)
    cuts = [values @ tail_weights(greedy.npv_usd, limits.cvar_level)]

    def with_cuts(integer: bool) -> _Milp:
        """The limits' rows and ``z ≤ c·x`` for every cut so far, z the last column."""
        c_rows = sp.csr_matrix(np.hstack([-np.array(cuts), np.ones((len(cuts), 1))]))
        zero = sp.csc_matrix((core.a.shape[0], 1))
        return _Milp(
            cost, np.r_[core.lower, -np.inf], np.r_[core.upper, np.inf],
            np.r_[core.integrality, 0] * integer,
            sp.vstack([sp.hstack([core.a, zero]), c_rows]).tocsc(),
            np.r_[core.row_lower, np.full(len(cuts), -np.inf)],
            np.r_[core.row_upper, np.zeros(len(cuts))], {}, n_x,
        )  # fmt: skip

    # The LP relaxation first: cheap rounds that give the MILP most of its cuts.
    for _ in range(MAX_CUT_ROUNDS):
        sol = _run(with_cuts(integer=False))
        if sol is None:
            return None
        npv = values.T @ sol[0][:n_x]
        cvar = cvar_lower(npv, limits.cvar_level)
        if sol[0][n_x] <= cvar + CVAR_REL_TOL * (1.0 + abs(cvar)):
            break
        cuts.append(values @ tail_weights(npv, limits.cvar_level))
    best: tuple[float, Choice, FloatArray] | None = None  # by true objective, with its start
    for _ in range(WEIGHTED_CUT_ROUNDS):
        # the best choice so far, with z at its own CVaR, keeps every cut (each cut bounds
        # any choice's CVaR from above): the MIP search starts from it and prunes by it
        sol = _run(with_cuts(integer=True), None if best is None else best[2])
        if sol is None:
            return None
        c = evaluate(problem, np.argmax(sol[0][:n_x].reshape(-1, a_n), axis=1), limits.cvar_level)
        true = (1.0 - weight) * c.expected_npv_usd + weight * c.cvar_usd
        if best is None or true > best[0]:
            start = np.r_[np.zeros(n_x), c.cvar_usd]
            start[np.arange(c.alternative.size) * a_n + c.alternative] = 1.0
            best = (true, c, start)
        # the cuts' objective bounds every choice's true one from above
        if sol[1] <= best[0] + CVAR_REL_TOL * (1.0 + abs(best[0])):
            return best[1]
        cuts.append(values @ tail_weights(c.npv_usd, limits.cvar_level))
    return _weighted_linearised(problem, limits, weight, present(best, "weighted: a choice")[1])


def _weighted_linearised(
    problem: PortfolioProblem, limits: PortfolioLimits, weight: float, start: Choice
) -> Choice | None:
    """:func:`weighted` by the full Rockafellar–Uryasev linearisation, from a known choice."""
    m = define_milp(problem, replace(limits, cvar_floor_usd=-np.inf))  # the rows, no floor
    s_n, a_n, k_n = problem.npv_usd.shape
    n_x = s_n * a_n
    tail = 1.0 / ((1.0 - limits.cvar_level) * k_n)
    cost = np.r_[(1.0 - weight) * m.cost[:n_x], -weight, np.full(k_n, -weight * tail)]
    x0 = np.zeros(m.cost.size)
    x0[np.arange(s_n) * a_n + start.alternative] = 1.0
    loss = -start.npv_usd
    t = float(np.quantile(loss, limits.cvar_level))  # any t gives a feasible start
    x0[n_x] = t
    x0[n_x + 1 :] = np.maximum(loss - t, 0.0)
    out = _run(replace(m, cost=cost), x0)
    if out is None:  # pragma: no cover - the start is feasible
        return None
    chosen = np.argmax(out[0][:n_x].reshape(-1, a_n), axis=1).astype(np.int64)
    return evaluate(problem, chosen, limits.cvar_level)


def decide(
    problem: PortfolioProblem,
    limits: PortfolioLimits,
    steps: dict[str, float] | None = None,
) -> Decision:
    """Solve, then price the alternatives not taken, the binding limits and the greedy choice.

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        The limits.
    steps : dict of str to float or None
        How far to relax each limit when pricing it: ``capex_budget`` [USD, added to every
        year's budget; default 1e8], ``conversions_per_year`` [-, default 1], ``leased_mw``
        [MW, default 10% of the limit], ``financing`` [USD, default 1e8], ``cvar_floor`` [USD,
        default 10% of |floor|].

    Returns
    -------
    Decision
        The choice, next best per site with the cost of forcing it, binding limits with the
        value of relaxing each, and the greedy choice.

    Raises
    ------
    PortfolioInfeasible
        No choice keeps the limits (the message names each limit and the smallest relaxation).
    """
    pool: list[FloatArray] = []  # CVaR cuts, valid for every re-solve below
    best = solve(problem, limits, cut_pool=pool)
    if best is None:
        relax = smallest_relaxation(problem, limits)
        what = ", ".join(f"{k} by {v:,.6g}" for k, v in relax.items()) or "none alone suffices"
        raise PortfolioInfeasible(
            f"portfolio: no choice of alternatives keeps every limit; the smallest relaxation "
            f"of a single limit that makes it feasible: {what}",
            relax,
        )
    s_n = len(problem.sites)
    next_best = np.full(s_n, -1, dtype=np.int64)
    cost = np.full(s_n, np.nan)
    for s in range(s_n):
        alt = solve(problem, limits, banned=((s, int(best.alternative[s])),), cut_pool=pool)
        if alt is not None:
            next_best[s] = alt.alternative[s]
            cost[s] = best.expected_npv_usd - alt.expected_npv_usd
    step = {
        "capex_budget": 1e8,
        "conversions_per_year": 1.0,
        "leased_mw": 0.1 * (limits.leased_mw or 0.0),
        "financing": 1e8,
        "cvar_floor": 0.1 * abs(limits.cvar_floor_usd or 0.0),
    } | (steps or {})
    binding: dict[str, float] = {}
    relaxed: dict[str, PortfolioLimits] = {}
    if limits.capex_budget_usd is not None:
        budget = np.asarray(limits.capex_budget_usd) + step["capex_budget"]
        relaxed["capex_budget"] = replace(limits, capex_budget_usd=budget)
    if limits.conversions_per_year is not None:
        more = limits.conversions_per_year + int(step["conversions_per_year"])
        relaxed["conversions_per_year"] = replace(limits, conversions_per_year=more)
    if limits.leased_mw is not None:
        relaxed["leased_mw"] = replace(limits, leased_mw=limits.leased_mw + step["leased_mw"])
    if limits.financing_usd is not None:
        more_debt = limits.financing_usd + step["financing"]
        relaxed["financing"] = replace(limits, financing_usd=more_debt)
    if limits.cvar_floor_usd is not None:
        lower = limits.cvar_floor_usd - step["cvar_floor"]
        relaxed["cvar_floor"] = replace(limits, cvar_floor_usd=lower)
    for name, relaxed_limits in relaxed.items():
        alt = solve(problem, relaxed_limits, cut_pool=pool)
        gain = 0.0 if alt is None else alt.expected_npv_usd - best.expected_npv_usd
        if gain > 1e-9 * (1 + abs(best.expected_npv_usd)):
            binding[name] = gain
    greedy = evaluate(problem, np.argmax(problem.mean_npv_usd, axis=1), limits.cvar_level)
    return Decision(
        choice=best,
        next_best=next_best,
        cost_to_force_usd=cost,
        binding=binding,
        step_of={k: step[k] for k in relaxed},
        greedy=greedy,
        greedy_feasible=feasible(problem, limits, greedy.alternative),
    )


def frontier(
    problem: PortfolioProblem, limits: PortfolioLimits, n_points: int = 10
) -> list[Choice]:
    """Expected NPV against CVaR: the best choice at ``n_points`` risk weights ``w`` evenly
    spaced in [0, 1] (:func:`weighted`; ``w = 0`` the highest expected NPV, ``w = 1`` the
    highest CVaR), within the other limits.

    Each point is efficient (no choice beats it on both) and is the optimum of the CVaR-floor
    problem at its own CVaR; between such points the integer frontier may hold points no
    weight reaches (a MILP's frontier is not concave). Weights, not floors, because a floor near
    the safest CVaR leaves one feasible choice among very many that the cuts must exclude one
    by one (minutes at 31 sites × 7 alternatives × 2,000 scenarios), while each weight
    converges like the safest choice does (seconds).

    Parameters
    ----------
    problem : PortfolioProblem
        Sites and values.
    limits : PortfolioLimits
        The other limits (its CVaR floor is ignored).
    n_points : int
        Risk weights [-] (≥ 2); points that pick the same choice are kept, one per weight.

    Raises
    ------
    InputError
        Fewer than two points.

    Returns
    -------
    list of Choice
        One optimum per weight, from the riskiest to the safest.
    """
    if n_points < 2:
        raise InputError("n_points", n_points, "at least 2")
    weights = [float(w) for w in np.linspace(0.0, 1.0, n_points)]
    # Each weight on its own cuts, so a point never depends on which others ran first; HiGHS
    # releases the GIL, so the weights solve side by side on the machine's cores.
    workers = min(len(weights), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        out = list(pool.map(lambda w: weighted(problem, limits, w), weights))
    if any(c is None for c in out):
        return []
    return [c for c in out if c is not None]
