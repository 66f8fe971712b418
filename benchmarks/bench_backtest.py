"""The full rolling backtest in one run: month-end origins 2018-06 … 2024-12 (step 1), 4,000
paths per origin, horizons 3, 6, 12 and 24 months — calibration as of each origin, the fused
kernel, and the scores with their bootstrap intervals.

Keys: ``origins``, ``paths``, ``seconds`` (wall, scores included), ``origins_per_s``,
``calibrate_seconds`` (the share spent calibrating), and ``goal_seconds`` (60, issue 17's goal on
2 cores). The kernels are compiled before the clock starts. Prints one JSON line.
"""

from __future__ import annotations

import json
import time

from hashpivot.market import hindcast, scenarios


def main() -> None:
    origins = hindcast.month_end_origins("2018-06", "2024-12")
    hindcast.run(origins[:1], (3,), n_paths=64, seed=1)  # compile the kernels
    t = time.perf_counter()
    for o in origins:
        scenarios.calibrate(as_of=str(o.date()))
    calibrate_s = time.perf_counter() - t
    t = time.perf_counter()
    hc = hindcast.run(origins, (3, 6, 12, 24), n_paths=4000, seed=1)
    hindcast.scores(hc)
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {
                "bench": "backtest",
                "origins": len(origins),
                "paths": 4000,
                "seconds": round(seconds, 2),
                "origins_per_s": round(len(origins) / seconds, 2),
                "calibrate_seconds": round(calibrate_s, 2),
                "goal_seconds": 60,
            }
        )
    )


if __name__ == "__main__":
    main()
