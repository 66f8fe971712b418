"""Issue 18 (first step): the portfolio MILP — one alternative per site, on common scenarios —
checked by hand, against brute-force enumeration, and against the empirical CVaR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashpivot.errors import InputError
from hashpivot.finance import portfolio as pf


def _problem(
    npv: np.ndarray,
    capex: np.ndarray | None = None,
    conv: np.ndarray | None = None,
    leased: np.ndarray | None = None,
    n_alts: list[int] | None = None,
) -> pf.PortfolioProblem:
    s, a, _ = npv.shape
    n_alts = n_alts or [a] * s
    return pf.PortfolioProblem(
        sites=tuple(f"s{i}" for i in range(s)),
        alternatives=tuple(tuple(f"alt{j}" for j in range(n)) for n in n_alts),
        npv_usd=npv,
        capex_usd=np.zeros((s, a, 1)) if capex is None else capex,
        conversion_year=np.full((s, a), -1, dtype=np.int64) if conv is None else conv,
        leased_mw=np.zeros((s, a)) if leased is None else leased,
    )


def _hand_case() -> pf.PortfolioProblem:
    """Three sites, alternatives keep (0), convert (1), sell (2); two scenarios.

    Expected NPV [USD M]: site A keep 10, convert 30 (capex 50), sell 12; site B keep 20,
    convert 26 (capex 40), sell 15; site C keep 5, convert 14 (capex 30), sell 8.
    """
    m = 1e6
    npv = (
        np.array(
            [
                [[10, 10], [10, 50], [12, 12]],
                [[20, 20], [6, 46], [15, 15]],
                [[5, 5], [4, 24], [8, 8]],
            ],
            dtype=float,
        )
        * m
    )
    capex = np.zeros((3, 3, 1))
    capex[:, 1, 0] = np.array([50, 40, 30]) * m
    conv = np.full((3, 3), -1, dtype=np.int64)
    conv[:, 1] = 0
    return _problem(npv, capex=capex, conv=conv)


def test_three_sites_by_hand() -> None:
    """Unconstrained: convert all three (30 + 26 + 14 = 70). Budget 80: converting A and C
    (capex 80: 30 + 20 + 14 = 64) beats A and B (capex 90, over) and B and C (70: 12 + 26 + 14
    = 52); so A, C converted, B kept. One conversion a year: A converted, B keep, C sell
    (30 + 20 + 8 = 58)."""
    p = _hand_case()
    free = pf.solve(p, pf.PortfolioLimits())
    assert free is not None and free.alternative.tolist() == [1, 1, 1]
    assert free.expected_npv_usd == pytest.approx(70e6)
    budget = pf.solve(p, pf.PortfolioLimits(capex_budget_usd=np.array([80e6])))
    assert budget is not None and budget.alternative.tolist() == [1, 0, 1]
    assert budget.expected_npv_usd == pytest.approx(64e6)
    one = pf.solve(p, pf.PortfolioLimits(conversions_per_year=1))
    assert one is not None and one.alternative.tolist() == [1, 0, 2]
    assert one.expected_npv_usd == pytest.approx(58e6)


def test_the_decision_prices_what_it_did_not_take() -> None:
    p = _hand_case()
    d = pf.decide(p, pf.PortfolioLimits(capex_budget_usd=np.array([80e6])), {"capex_budget": 10e6})
    # Site B: next best with A and C converted is selling (15) or keeping (20) → keep is taken,
    # so the next best is sell, costing 5; forcing B's conversion costs more (budget).
    assert d.choice.alternative.tolist() == [1, 0, 1]
    assert d.next_best[1] == 2 and d.cost_to_force_usd[1] == pytest.approx(5e6)
    # A forced alternative's cost is the difference in objective (re-solved with it fixed).
    forced = pf.solve(p, pf.PortfolioLimits(capex_budget_usd=np.array([80e6])), fixed={0: 0})
    assert forced is not None
    next_a = pf.solve(p, pf.PortfolioLimits(capex_budget_usd=np.array([80e6])), banned=((0, 1),))
    assert next_a is not None
    assert d.cost_to_force_usd[0] == pytest.approx(64e6 - next_a.expected_npv_usd)
    assert d.cost_to_force_usd[0] <= 64e6 - forced.expected_npv_usd + 1e-6
    # +$10M of budget (90): A and B converted (30 + 26 + 8 = 64) ties; +$10M gains nothing…
    assert "capex_budget" not in d.binding
    # …but +$20M (100: A and B converted, C sold… or A, C and still B kept) — check by re-solve:
    d2 = pf.decide(p, pf.PortfolioLimits(capex_budget_usd=np.array([80e6])), {"capex_budget": 40e6})
    assert d2.binding["capex_budget"] == pytest.approx(70e6 - 64e6)
    # The greedy spreadsheet choice converts all three and breaks the budget.
    assert d.greedy.alternative.tolist() == [1, 1, 1] and not d.greedy_feasible


def test_without_limits_the_portfolio_is_each_sites_best() -> None:
    rng = np.random.default_rng(3)
    p = _problem(rng.normal(size=(6, 4, 50)) * 1e6)
    c = pf.solve(p, pf.PortfolioLimits())
    assert c is not None
    np.testing.assert_array_equal(c.alternative, np.argmax(p.mean_npv_usd, axis=1))


def test_the_cvar_is_the_empirical_tail_mean() -> None:
    v = np.arange(1.0, 21.0)  # 20 scenarios
    assert pf.cvar_lower(v, 0.9) == pytest.approx(1.5)  # worst 2 of 20
    assert pf.cvar_lower(v, 0.875) == pytest.approx((1 + 2 + 0.5 * 3) / 2.5)  # fractional
    w = pf.tail_weights(v[::-1], 0.875)
    assert w.sum() == pytest.approx(1.0) and (v[::-1] * w).sum() == pytest.approx(
        pf.cvar_lower(v, 0.875)
    )


@st.composite
def _portfolios(draw: st.DrawFn) -> tuple[pf.PortfolioProblem, pf.PortfolioLimits]:
    s = draw(st.integers(1, 6))
    a = draw(st.integers(1, 4))
    k = draw(st.integers(5, 30))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    npv = np.round(rng.normal(0, 10, size=(s, a, k)) + rng.normal(0, 5, size=(s, a, 1)), 3)
    n_alts = [draw(st.integers(1, a)) for _ in range(s)]
    for i, n in enumerate(n_alts):
        npv[i, n:] = np.nan
    capex = np.round(rng.uniform(0, 10, size=(s, a, 2)), 3)
    conv = rng.integers(-1, 2, size=(s, a))
    leased = np.round(rng.uniform(0, 50, size=(s, a)), 3)
    p = _problem(npv, capex=capex, conv=conv, leased=leased, n_alts=n_alts)
    limits = pf.PortfolioLimits(
        capex_budget_usd=np.array(
            [draw(st.floats(5, 40)), draw(st.floats(5, 40))]
        ) if draw(st.booleans()) else None,
        conversions_per_year=draw(st.integers(0, 3)) if draw(st.booleans()) else None,
        leased_mw=draw(st.floats(20, 200)) if draw(st.booleans()) else None,
        cvar_level=draw(st.sampled_from([0.8, 0.9, 0.95])),
        cvar_floor_usd=draw(st.floats(-40, 5)) if draw(st.booleans()) else None,
    )  # fmt: skip
    return p, limits


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_portfolios())
def test_the_milp_equals_brute_force_enumeration(case) -> None:
    p, limits = case
    milp = pf.solve(p, limits)  # CVaR by cutting planes
    linearised = pf.solve(p, limits, method="linearised")  # the full Rockafellar–Uryasev rows
    brute = pf.brute_force(p, limits)
    assert (milp is None) == (brute is None) == (linearised is None)
    if milp is None or brute is None or linearised is None:
        return
    assert milp.expected_npv_usd == pytest.approx(brute.expected_npv_usd, rel=1e-7, abs=1e-7)
    assert linearised.expected_npv_usd == pytest.approx(brute.expected_npv_usd, rel=1e-7, abs=1e-7)
    assert pf.feasible(p, limits, milp.alternative)
    # the CVaR the MILP constrains is the empirical CVaR of the chosen portfolio, here by the
    # Rockafellar–Uryasev variational form max_t {t − E[(t − V)⁺] / (1 − α)} (the maximum is
    # at a scenario value), not by the module's tail weights
    values = p.npv_usd[np.arange(len(p.sites)), milp.alternative].sum(axis=0)
    alpha = limits.cvar_level
    empirical = max(t - np.maximum(t - values, 0.0).mean() / (1.0 - alpha) for t in values)
    assert milp.cvar_usd == pytest.approx(empirical)
    if limits.cvar_floor_usd is not None:
        assert empirical >= limits.cvar_floor_usd - 1e-6


def test_an_infeasible_budget_names_the_limit_and_its_smallest_relaxation() -> None:
    p = _hand_case()
    # every alternative of every site costs something: force it by closing keep and sell
    npv = p.npv_usd.copy()
    npv[:, [0, 2]] = np.nan
    q = pf.PortfolioProblem(p.sites, p.alternatives, npv, p.capex_usd, p.conversion_year,
                            p.leased_mw)  # fmt: skip
    with pytest.raises(pf.PortfolioInfeasible) as e:
        pf.decide(q, pf.PortfolioLimits(capex_budget_usd=np.array([100e6])))
    assert "capex_budget" in str(e.value)
    assert e.value.relaxation["capex_budget"] == pytest.approx(20e6)  # 120 needed, 100 allowed


def test_a_cvar_level_outside_0_1_is_a_named_error() -> None:
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(InputError, match="cvar_level"):
            pf.PortfolioLimits(cvar_level=bad)


def test_the_frontier_trades_expected_npv_for_cvar() -> None:
    rng = np.random.default_rng(5)
    # risky alternatives pay more on average
    safe = rng.normal(10, 1, size=(5, 1, 200))
    risky = rng.normal(14, 12, size=(5, 1, 200))
    p = _problem(np.concatenate([safe, risky], axis=1))
    front = pf.frontier(p, pf.PortfolioLimits(cvar_level=0.9), n_points=6)
    assert len(front) == 6
    means = [c.expected_npv_usd for c in front]
    cvars = [c.cvar_usd for c in front]
    assert all(np.diff(means) <= 1e-9) and all(np.diff(cvars) >= -1e-9)
    assert front[0].alternative.tolist() == [1] * 5 and front[-1].alternative.tolist() == [0] * 5


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), s_n=st.integers(2, 4), a_n=st.integers(2, 3))
def test_frontier_points_are_the_enumerated_optima(seed: int, s_n: int, a_n: int) -> None:
    """Every frontier point maximises (1 − w)·E + w·CVaR over all choices (enumerated here,
    CVaR by the Rockafellar–Uryasev variational form), and is the best choice at a CVaR floor
    equal to its own CVaR: no enumerated choice has a higher mean and at least its CVaR."""
    rng = np.random.default_rng(seed)
    k = 60
    npv = rng.normal(rng.uniform(0, 10, (s_n, a_n, 1)), rng.uniform(0.1, 8, (s_n, a_n, 1)),
                     (s_n, a_n, k))  # fmt: skip
    p = _problem(npv)
    level = 0.9
    front = pf.frontier(p, pf.PortfolioLimits(cvar_level=level), n_points=5)
    weights = np.linspace(0, 1, 5)

    def ru_cvar(v: np.ndarray) -> float:  # max_t t − E[(t − V)⁺]/(1 − α), t over the samples
        return max(t - np.maximum(t - v, 0).mean() / (1 - level) for t in v)

    choices = list(itertools.product(range(a_n), repeat=s_n))
    totals = [npv[np.arange(s_n), list(c)].sum(axis=0) for c in choices]
    means = np.array([v.mean() for v in totals])
    cvars = np.array([ru_cvar(v) for v in totals])
    for w, point in zip(weights, front, strict=True):
        best = ((1 - w) * means + w * cvars).max()
        got = (1 - w) * point.expected_npv_usd + w * point.cvar_usd
        assert got == pytest.approx(best, rel=1e-7, abs=1e-7)
        dominated = (means > point.expected_npv_usd + 1e-7) & (cvars >= point.cvar_usd - 1e-9)
        assert not dominated.any()
