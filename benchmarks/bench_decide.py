"""The portfolio decision at BitRiver's scale: 31 sites × 7 alternatives × 2,000 scenarios.

Values are drawn per (site, alternative) from scenario factors shared by all sites (BTC and AI
rent), so the CVaR couples the sites as a real portfolio does; capex falls on conversions and
repowering, with a yearly budget, a cap on conversions per year and a CVaR floor at 95% all
binding. Timed: build + solve of the MILP (``milp_seconds``), the frontier at 10 CVaR levels
(``frontier_seconds``), and brute-force enumeration of the 6-site subset (``brute_force_seconds``,
7⁶ = 117,649 choices) beside the MILP on the same subset (``milp_6_seconds``), whose answers must
agree. Goal (issue 18): the 31-site decision under 10 s, the frontier under 60 s on 2 cores.
Prints one JSON line.
"""

from __future__ import annotations

import json
import time

import numpy as np

from hashpivot.finance import portfolio as pf

ALTERNATIVES = (
    "keep_mining", "mine_flexibly", "repower", "convert_lease", "gpu_cloud", "sell_power",
    "shut_down",
)  # fmt: skip


def problem(n_sites: int, n_scenarios: int, seed: int = 7) -> pf.PortfolioProblem:
    """A synthetic portfolio with the structure of a real one (see the module docstring)."""
    rng = np.random.default_rng(seed)
    btc = rng.standard_normal(n_scenarios)
    rent = rng.standard_normal(n_scenarios)
    mw = rng.uniform(20, 200, n_sites)
    # mean [USD/MW], loading on BTC, on rent, idiosyncratic sd — per alternative
    spec = np.array(
        [
            [0.3e6, 1.0e6, 0.0, 0.3e6],  # keep mining
            [0.45e6, 0.9e6, 0.0, 0.3e6],  # flexible
            [0.5e6, 1.3e6, 0.0, 0.4e6],  # repower
            [0.9e6, 0.1e6, 0.8e6, 0.3e6],  # convert and lease
            [1.0e6, 0.0, 1.5e6, 0.6e6],  # GPU cloud
            [0.2e6, 0.0, 0.0, 0.05e6],  # sell power
            [0.0, 0.0, 0.0, 0.01e6],  # shut down
        ]
    )
    noise = rng.standard_normal((n_sites, len(ALTERNATIVES), n_scenarios))
    npv = (
        spec[None, :, 0, None]
        + spec[None, :, 1, None] * btc[None, None, :]
        + spec[None, :, 2, None] * rent[None, None, :]
        + spec[None, :, 3, None] * noise
    ) * mw[:, None, None]
    capex = np.zeros((n_sites, len(ALTERNATIVES), 3))
    year = rng.integers(0, 3, n_sites)
    for j, per_mw in ((2, 0.4e6), (3, 1.5e6), (4, 3.0e6)):
        capex[np.arange(n_sites), j, year] = per_mw * mw
    conv = np.full((n_sites, len(ALTERNATIVES)), -1, dtype=np.int64)
    conv[:, 3] = conv[:, 4] = year
    leased = np.zeros((n_sites, len(ALTERNATIVES)))
    leased[:, 3] = mw
    return pf.PortfolioProblem(
        sites=tuple(f"site{i}" for i in range(n_sites)),
        alternatives=(ALTERNATIVES,) * n_sites,
        npv_usd=npv,
        capex_usd=capex,
        conversion_year=conv,
        leased_mw=leased,
    )


def limits_for(p: pf.PortfolioProblem) -> pf.PortfolioLimits:
    """Limits that bind: a third of the greedy choice's capex, 3 conversions a year, and a CVaR
    floor halfway between the unconstrained optimum's and the highest reachable."""
    greedy = np.argmax(p.mean_npv_usd, axis=1)
    spend = p.capex_usd[np.arange(len(p.sites)), greedy].sum(axis=0)
    base = pf.PortfolioLimits(capex_budget_usd=spend / 3, conversions_per_year=3, cvar_level=0.95)
    free = pf.solve(p, base)
    top = pf.max_cvar(p, base)
    assert free is not None and top is not None
    return pf.PortfolioLimits(
        capex_budget_usd=spend / 3,
        conversions_per_year=3,
        cvar_level=0.95,
        cvar_floor_usd=0.5 * (free.cvar_usd + top),
    )


def main() -> None:
    p = problem(31, 2000)
    limits = limits_for(p)
    t = time.perf_counter()
    choice = pf.solve(p, limits)
    milp_s = time.perf_counter() - t
    assert choice is not None
    t = time.perf_counter()
    front = pf.frontier(p, limits, n_points=10)
    frontier_s = time.perf_counter() - t
    small = problem(6, 2000)
    small_limits = limits_for(small)
    t = time.perf_counter()
    brute = pf.brute_force(small, small_limits)
    brute_s = time.perf_counter() - t
    t = time.perf_counter()
    milp6 = pf.solve(small, small_limits)
    milp6_s = time.perf_counter() - t
    assert brute is not None and milp6 is not None
    agree = abs(brute.expected_npv_usd - milp6.expected_npv_usd) <= 1e-6 * abs(
        brute.expected_npv_usd
    )
    print(
        json.dumps(
            {
                "bench": "decide",
                "sites": 31,
                "alternatives": len(ALTERNATIVES),
                "scenarios": 2000,
                "milp_seconds": round(milp_s, 3),
                "frontier_seconds": round(frontier_s, 2),
                "frontier_points": len(front),
                "brute_force_seconds": round(brute_s, 2),
                "milp_6_seconds": round(milp6_s, 3),
                "milp_equals_brute_force_6": bool(agree),
                "goal_milp_seconds": 10,
                "goal_frontier_seconds": 60,
            }
        )
    )


if __name__ == "__main__":
    main()
