"""Least-squares Monte Carlo speed: the conversion decision of examples/convert_or_mine.yaml over
100,000 paths × 120 monthly steps.

Prints one JSON line:

* ``lsm_seconds`` — hashpivot's LSM with the full site model: the site's mining cash per path and
  month, the exercise value of converting (lease, capex, credit), the state basis (hashprice, BTC
  price, AI rent) and the fitted policy (`converted.decision_arrays` + `conversion.fit_policy`);
* ``bare_lstsq_seconds`` — a bare NumPy Longstaff–Schwartz backward induction with
  ``np.linalg.lstsq`` on the same precomputed exercise/running/state arrays (no site model);
* ``n_paths``, ``n_steps``, and the two estimates of the option's value, which must agree.

The market paths are simulated once beforehand and not timed for either.
Usage: ``python benchmarks/bench_conversion.py [--paths N]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hashpivot.config import models as config
from hashpivot.engine import run as plan
from hashpivot.engine import special_sites as converted
from hashpivot.finance import lsm as conversion
from hashpivot.market import scenarios

ROOT = Path(__file__).resolve().parents[1]


def bare_lsm(exercise, running, states, d):  # type: ignore[no-untyped-def]
    """Textbook LSM: backward induction, basis of the standardised states (degree 2), lstsq."""
    n, steps = exercise.shape
    value = np.zeros(n)
    for t in range(steps - 1, -1, -1):
        y = d * (running[:, t] + value)
        ex = exercise[:, t]
        ok = np.isfinite(ex)
        if not ok.any():
            value = y
            continue
        x = states[:, :, t]
        x = (x - x.mean(axis=1, keepdims=True)) / np.where(
            x.std(axis=1, keepdims=True) > 0, x.std(axis=1, keepdims=True), 1.0
        )
        cols = [np.ones(n), *x]
        for i in range(x.shape[0]):
            for j in range(i, x.shape[0]):
                cols.append(x[i] * x[j])
        basis = np.column_stack(cols)
        beta = np.linalg.lstsq(basis, y, rcond=None)[0]
        value = np.where(ok & (ex > basis @ beta), ex, y)
    return float(value.mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=100_000)
    args = ap.parse_args()
    cfg, _ = config.load_plan(ROOT / "examples" / "convert_or_mine.yaml", [f"paths={args.paths}"])
    model = plan.build_model(cfg)
    site = next(s for s in model.special if s.kind == "option_to_convert")
    seeds = scenarios.block_seeds(cfg.seed, args.paths)
    paths = scenarios.simulate(model.market, model.n_months, seeds, 0, len(seeds), args.paths)
    d = model.monthly_discount

    t = time.perf_counter()
    exercise, running, states, discount, _ = converted.decision_arrays(site, paths, d)
    fit = conversion.fit_policy(exercise, running, states, discount, degree=2)
    lsm_s = time.perf_counter() - t

    t = time.perf_counter()
    bare_value = bare_lsm(exercise, running, states, d)
    bare_s = time.perf_counter() - t
    print(
        json.dumps(
            {
                "benchmark": "conversion",
                "plan": "examples/convert_or_mine.yaml",
                "n_paths": args.paths,
                "n_steps": int(exercise.shape[1]),
                "lsm_seconds": round(lsm_s, 3),
                "bare_lstsq_seconds": round(bare_s, 3),
                "ratio": round(lsm_s / bare_s, 2),
                "lsm_value_usd": round(fit.mean),
                "bare_value_usd": round(bare_value),
            }
        )
    )


if __name__ == "__main__":
    main()
