"""Plan-engine throughput on examples/bitriver.yaml at 10,000 paths × 120 months.

Prints one JSON line:

* ``path_site_months_per_s`` — the whole run (simulation, site kernel, consolidation, metrics;
  calibration and the tornado excluded), best of 10 after a warm-up that compiles the kernels;
* ``loop_path_site_months_per_s`` — the same model as a plain Python loop over paths, months and
  sites with scalar arithmetic (no NumPy inside the loop), on the first 64 paths, scaled, best
  of 5; it also draws its normals (``random.gauss``), as the engine does. Its NPVs, computed
  on the engine's own shocks, are checked against the engine's for the same paths;
* ``roofline_path_site_months_per_s`` — memory bandwidth measured here (the better of a NumPy
  triad ``a = b + s·c`` counted as 24 bytes/element, STREAM's convention, and a copy counted as
  16 bytes/element, on arrays much larger than cache), divided by 16 bytes per path·site·month.

Usage: ``python benchmarks/bench_plan.py [--paths N] [--months M]``
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import yaml

from hashpivot.config import models as config
from hashpivot.engine import run as plan
from hashpivot.finance import metrics
from hashpivot.market import scenarios

ROOT = Path(__file__).resolve().parents[1]
DAYS_PER_MONTH = 365.25 / 12


def roofline_bytes_per_s(n: int = 1 << 25, repeats: int = 5) -> float:
    a, b, c = np.empty(n), np.random.default_rng(0).random(n), np.random.default_rng(1).random(n)
    best_triad = best_copy = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)
        best_triad = min(best_triad, time.perf_counter() - t)
        t = time.perf_counter()
        np.copyto(a, b)
        best_copy = min(best_copy, time.perf_counter() - t)
    return max(24 * n / best_triad, 16 * n / best_copy)


def loop_model(model: plan.PlanModel, inp: scenarios.RecursionInputs, rate: float) -> list[float]:
    """The plan's model in plain Python scalars: market recursion, every site, NPV per path."""
    n, n_months = inp.log_return.shape
    r, zh, zf = inp.log_return.tolist(), inp.z_hashrate.tolist(), inp.z_fees.tolist()
    zp = inp.z_power.tolist()
    c0 = inp.coef
    days, t_years, t_mid = c0.days.tolist(), c0.t_years.tolist(), c0.t_mid.tolist()
    a, b, c, sig, rho, eps0 = c0.hashrate_coef.tolist()
    f_mean, f_phi, f_innov = c0.fee_coef.tolist()
    pc = c0.power_coef.tolist()
    era_sub = scenarios.ERA_SUBSIDY_BTC.tolist()
    p = model.params
    sites = list(
        zip(
            p.hashrate_th_s.tolist(),
            p.hashrate_factor.tolist(),
            p.facility_power_mw.tolist(),
            p.uptime.tolist(),
            p.pool_fee.tolist(),
            p.power_usd_per_mwh.tolist(),
            p.power_index.tolist(),
            p.start_month.tolist(),
            p.fixed_usd_per_month.tolist(),
            p.curtail.tolist(),
            strict=True,
        )
    )
    capex = model.capex_usd.sum(axis=0).tolist()
    corporate = model.corporate_cash_usd_per_month
    npvs = []
    for i in range(n):
        lp, lh, lhp, height, lf = (
            c0.log_price0,
            c0.log_hashrate0,
            c0.log_hashprice0,
            c0.height0,
            c0.log_fees_btc_per_block0,
        )
        x = [0.0] * len(pc)
        eps = eps0
        total = 0.0
        for t in range(n_months):
            lp_new = lp + r[i][t]
            price = math.exp(0.5 * (lp + lp_new))
            lp = lp_new
            lf = f_mean + f_phi * (lf - f_mean) + f_innov * zf[i][t]
            eps = rho * eps + sig * zh[i][t]
            lh_new = lh + a + b * lhp + c * t_years[t] + eps
            l_eff = 0.5 * (lh + lh_new)
            d = math.exp(l_eff) * 1e18 * 600.0 / 4294967296.0
            blk = days[t] * 144.0 * math.exp(lh_new - l_eff)
            h0, h1 = height, height + blk
            sub = 0.0
            era = int(h0 // 210000)
            while era < 34 and era * 210000.0 < h1:
                lo, hi = max(h0, era * 210000.0), min(h1, era * 210000.0 + 210000.0)
                sub += max(0.0, hi - lo) * era_sub[era]
                era += 1
            sub /= blk
            fee = math.exp(lf)  # fees per block [BTC]
            bpt = 86400.0 * 1e12 / (d * 4294967296.0) * (sub + fee)
            lhp = math.log(bpt * 1000.0 * price)
            lh = lh_new
            height = h1
            idx = []
            for j in range(len(pc)):
                x[j] = pc[j][0] * x[j] + pc[j][1] * zp[j][i][t]
                idx.append(math.exp(pc[j][2] * t_mid[t] + x[j]))
            cash = 0.0
            for h, hf, pfac, up, fee_s, pp, pi, start, fixed, curtail in sites:
                if t < start:
                    continue
                btc = h * hf[t] * up * bpt * days[t]
                rev = btc * price
                pool = rev * fee_s
                energy = pfac * 24.0 * up * days[t] * pp * (idx[pi] if pi >= 0 else 1.0)
                if curtail and rev - pool < energy:
                    rev = pool = energy = 0.0
                cash += rev - pool - energy - fixed * days[t] / DAYS_PER_MONTH
            cash -= corporate * days[t] / DAYS_PER_MONTH + capex[t]
            total += cash * (1.0 + rate) ** (-(t + 1) / 12.0)
        npvs.append(total)
    return npvs


def without_finance() -> dict:
    """examples/bitriver.yaml without treasury, debt, co-investor and jurisdiction regimes."""
    data = config.read_yaml(ROOT / "examples" / "bitriver.yaml")
    data = {k: v for k, v in data.items() if not str(k).startswith("x-") and k != "jurisdictions"}
    keep = ("name", "cash_usd", "sga_cash_usd_per_month", "stock_comp_usd_per_month")
    data["company"] = {k: v for k, v in data["company"].items() if k in keep}
    return data


def timed_run(cfg: config.PlanConfig, model: plan.PlanModel) -> tuple[float, plan.PlanResult]:
    """Best of 10 whole runs after a warm-up that compiles the kernels."""
    plan.run(cfg.model_copy(update={"paths": 128}), model=model, with_tornado=False)
    best, result = math.inf, None
    for _ in range(10):
        t = time.perf_counter()
        result = plan.run(cfg, model=model, with_tornado=False)
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--loop-paths", type=int, default=64)  # at most one block
    args = ap.parse_args()
    sets = [f"paths={args.paths}", f"horizon_months={args.months}"]
    # The loop implements the plan engine's market and site model with the company selling what
    # it mines; the shipped BitRiver also has treasury, debt and jurisdiction regimes (the company
    # kernel). The comparison runs BitRiver without them; the full plan is timed beside it.
    cfg_full, _ = config.load_plan(ROOT / "examples" / "bitriver.yaml", sets)
    cfg, _ = config.load_plan_text(yaml.safe_dump(without_finance()), "bitriver-no-finance", sets)
    model = plan.build_model(cfg)
    n_sites = len(cfg.sites)
    best, result = timed_run(cfg, model)
    best_full, _ = timed_run(cfg_full, plan.build_model(cfg_full))
    work = args.paths * n_sites * args.months

    # The same model as a plain Python loop, on the first paths (same shocks).
    seeds = scenarios.block_seeds(cfg.seed, args.paths)
    k = args.loop_paths
    shocks = scenarios.draw_shocks(model.market, seeds, 0, 1, args.paths, args.months)
    full = scenarios.recursion_inputs(model.market, shocks, args.months)
    inp = scenarios.RecursionInputs(
        coef=full.coef,
        log_return=full.log_return[:k],
        z_hashrate=full.z_hashrate[:k],
        z_fees=full.z_fees[:k],
        z_power=full.z_power[:, :k],
    )
    # The engine's time includes drawing its normals; the loop draws the same number per path
    # with random.gauss (scalar Python), timed with it. Best of 5 (the engine: best of 10):
    # this machine is noisy.
    n_normals = model.market.n_shocks * args.months * k
    if model.market.antithetic:
        n_normals //= 2
    loop_s = math.inf
    for _ in range(5):
        gauss = random.Random(cfg.seed).gauss
        t = time.perf_counter()
        loop_npv = loop_model(model, inp, cfg.discount_rate_annual)
        for _ in range(n_normals):
            gauss(0.0, 1.0)
        loop_s = min(loop_s, time.perf_counter() - t)
    np.testing.assert_allclose(loop_npv, result.npv_values[:k], rtol=1e-9)
    loop_rate = k * n_sites * args.months / loop_s

    bandwidth = roofline_bytes_per_s()
    roofline = bandwidth / 16.0
    rate = work / best
    print(
        json.dumps(
            {
                "benchmark": "plan",
                "plan": "examples/bitriver.yaml",
                "paths": args.paths,
                "sites": n_sites,
                "months": args.months,
                "seconds": round(best, 4),
                "path_site_months_per_s": round(rate),
                "with_finance_seconds": round(best_full, 4),
                "with_finance_path_site_months_per_s": round(work / best_full),
                "loop_path_site_months_per_s": round(loop_rate),
                "roofline_path_site_months_per_s": round(roofline),
                "speedup_vs_loop": round(rate / loop_rate, 1),
                "fraction_of_roofline": round(rate / roofline, 3),
                "memory_bandwidth_gb_s": round(bandwidth / 1e9, 2),
                "loop_paths": k,
                "npv_mean_usd": round(float(metrics.summary(result.npv_values)["mean"])),
            }
        )
    )


if __name__ == "__main__":
    main()
