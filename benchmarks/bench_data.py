"""Data layer speed: importing a year of hourly prices, ``data status`` over every dataset, and
the interactive commands, in one run.

* ``import_rows_per_s`` — ``data import`` (validation, the store's Parquet version and its catalog)
  of a real year of ERCOT HB_WEST day-ahead prices (2021, 8,760 hours with Winter Storm Uri's
  gaps), written on the local clock (America/Chicago, so the DST hours are resolved); the best of
  3 runs into fresh stores;
* ``read_csv_rows_per_s`` — the baseline: ``pandas.read_csv`` of the same file with the time
  column parsed, nothing validated or stored;
* ``status_seconds`` — ``catalog.status()`` over the shipped datasets and the imported one, in a
  fresh process (hashing and reading every file once), best of 3;
* ``network_warm_seconds`` / ``help_seconds`` — wall time of ``hashpivot network --json`` (the
  second call: its cached answer) and ``hashpivot --help``, best of 3, with bytecode caching on.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from hashpivot.data import power_prices as pp

MARKET = "ercot:HB_WEST:da:2021"


def _year_file(tmp: Path) -> Path:
    prices = pp.hourly_prices(MARKET)
    local = prices.index_utc.tz_convert("America/Chicago").strftime("%Y-%m-%d %H:%M")
    path = tmp / "hb_west_2021_local.csv"
    pd.DataFrame({"time": local, "price": prices.price_usd_per_mwh}).to_csv(path, index=False)
    return path


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        f = _year_file(tmp)
        rows = len(pd.read_csv(f))
        env = os.environ.copy()
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # "warm" includes compiled bytecode
        code = (
            "import sys,time;from hashpivot.data import imports;t=time.perf_counter();"
            "imports.import_file(sys.argv[1],'hourly_prices',market='user:bench',"
            "tz='America/Chicago',column_map='time=time');print(time.perf_counter()-t)"
        )
        imp = []
        for k in range(3):
            e = env | {"HASHPIVOT_DATA_DIR": str(tmp / f"store{k}")}
            out = subprocess.run(
                [sys.executable, "-c", code, str(f)], env=e, check=True, capture_output=True
            )
            imp.append(float(out.stdout))
        base = []
        for _ in range(3):
            t = time.perf_counter()
            pd.read_csv(f, parse_dates=["time"])
            base.append(time.perf_counter() - t)
        status_code = (
            "import time;t=time.perf_counter();from hashpivot.data import catalog;"
            "catalog.status();print(time.perf_counter()-t)"
        )
        e = env | {"HASHPIVOT_DATA_DIR": str(tmp / "store0")}
        status = [
            float(
                subprocess.run(
                    [sys.executable, "-c", status_code], env=e, check=True, capture_output=True
                ).stdout
            )
            for _ in range(3)
        ]
        cli = [sys.executable, "-c", "from hashpivot.cli import main; raise SystemExit(main())"]
        _timed([*cli, "network", "--json"], e)  # fills the cache
        network = min(_timed([*cli, "network", "--json"], e) for _ in range(3))
        help_s = min(_timed([*cli, "--help"], e) for _ in range(3))
    print(
        json.dumps(
            {
                "bench": "data",
                "rows": rows,
                "import_rows_per_s": round(rows / min(imp)),
                "read_csv_rows_per_s": round(rows / min(base)),
                "status_seconds": round(min(status), 3),
                "network_warm_seconds": round(network, 3),
                "help_seconds": round(help_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
