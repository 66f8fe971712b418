"""Hourly dispatch LP speed: 1, 10 and 50 sites × 8,760 hours, hashpivot against PyPSA.

Each site mines up to 100 MW with a 20 MW/h ramp limit, holds a 100 MW fixed-price PPA block
($27/MWh) and buys or sells the difference at the real 2023 ERCOT real-time price (sites
alternate between LZ_WEST and LZ_NORTH; mining values differ by site). hashpivot builds one sparse
LP per site, because sites that share no constraint are independent problems, and solves each
with HiGHS. PyPSA builds the identical LP as one network (a bus per site: grid, PPA and mining
generators) and solves it with HiGHS through linopy. The objectives must agree to 1e-6 relative.

Prints one JSON line: ``{"results": [{"sites", "hours", "hashpivot_build_s",
"hashpivot_solve_s", "pypsa_total_s", "objective_rel_diff", "speedup"}, ...]}``.
Needs the benchmark extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import time
import warnings

import numpy as np
import pandas as pd

from hashpivot.data import power_prices as price_data
from hashpivot.dispatch import lp as dispatch

CAPACITY_MW, RAMP_MW, PPA_MW, PPA_USD = 100.0, 20.0, 100.0, 27.0


def sites(n: int) -> list[tuple[dispatch.DispatchSite, np.ndarray]]:
    prices = {
        node: price_data.hourly_prices(f"ercot:{node}:2023").price_usd_per_mwh
        for node in ("LZ_WEST", "LZ_NORTH")
    }
    out = []
    for i in range(n):
        node = "LZ_WEST" if i % 2 == 0 else "LZ_NORTH"
        site = dispatch.DispatchSite(
            f"s{i}",
            CAPACITY_MW,
            50.0 + 5.0 * (i % 10),
            ppa_mw=PPA_MW,
            ppa_price_usd_per_mwh=PPA_USD,
            ramp_mw_per_hour=RAMP_MW,
        )
        out.append((site, prices[node]))
    return out


def run_hashpivot(problems: list[tuple[dispatch.DispatchSite, np.ndarray]]) -> tuple[float, ...]:
    build = solve = objective = 0.0
    for site, prices in problems:
        model = dispatch.build(site, prices)
        result = dispatch.solve(site, prices, model)
        build += model.build_s
        solve += result.solve_s
        objective += result.objective_usd
    return build, solve, objective


def run_pypsa(problems: list[tuple[dispatch.DispatchSite, np.ndarray]]) -> tuple[float, float]:
    import pypsa

    t = time.perf_counter()
    n = pypsa.Network()
    hours = len(problems[0][1])
    n.set_snapshots(pd.RangeIndex(hours))
    for site, prices in problems:
        bus = f"bus_{site.name}"
        n.add("Bus", bus)
        n.add(
            "Generator",
            f"grid_{site.name}",
            bus=bus,
            p_nom=10 * CAPACITY_MW,
            p_min_pu=-1,
            p_max_pu=1,
            marginal_cost=pd.Series(prices, index=n.snapshots),
        )
        n.add(
            "Generator",
            f"ppa_{site.name}",
            bus=bus,
            p_nom=PPA_MW,
            p_min_pu=1,
            p_max_pu=1,
            marginal_cost=PPA_USD,
        )
        n.add(
            "Generator",
            f"mine_{site.name}",
            bus=bus,
            p_nom=CAPACITY_MW,
            p_min_pu=-1,
            p_max_pu=0,
            marginal_cost=float(site.value_usd_per_mwh),
            ramp_limit_up=RAMP_MW / CAPACITY_MW,
            ramp_limit_down=RAMP_MW / CAPACITY_MW,
        )
    status, condition = n.optimize(
        solver_name="highs", log_to_console=False, include_objective_constant=False
    )
    if condition != "optimal":
        raise RuntimeError(f"PyPSA: {status} {condition}")
    return time.perf_counter() - t, -float(n.objective)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, nargs="+", default=[1, 10, 50])
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    results = []
    for n in args.sites:
        problems = sites(n)
        build, solve, ours = run_hashpivot(problems)
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            pypsa_s, theirs = run_pypsa(problems)
        results.append(
            {
                "sites": n,
                "hours": 8760,
                "hashpivot_build_s": round(build, 4),
                "hashpivot_solve_s": round(solve, 4),
                "pypsa_total_s": round(pypsa_s, 3),
                "objective_rel_diff": abs(ours - theirs) / abs(theirs),
                "speedup": round(pypsa_s / (build + solve), 1),
            }
        )
    print(json.dumps({"benchmark": "dispatch", "results": results}))


if __name__ == "__main__":
    main()
