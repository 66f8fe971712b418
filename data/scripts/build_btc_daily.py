"""Build ``btc_daily_2025_2026.csv``: the daily network table after the Coin Metrics file ends.

Run from the project root with the two mirrors the data leads name (``fetch`` brings them as
bare git directories)::

    python data/scripts/build_btc_daily.py \
        --blocks-git /work/.mirror/m-marqx+BTC-RPC-Data/repo \
        --prices-git /work/.mirror/typedcypher+historical-bitcoin-prices/repo

Sources (commits pinned below; see ``src/hashpivot/data/SOURCES.md``):

* blocks, fees and subsidy: Bitcoin Core ``getblockstats`` per block (m-marqx/BTC-RPC-Data,
  MIT), heights 909,458 → 934,575, bucketed by UTC day of ``mediantime`` — the convention of
  the Coin Metrics file (median time past), checked here to reproduce its ``blocks``,
  ``fees_btc`` and ``issuance_btc`` exactly on every full day the two overlap;
* difficulty: the shipped retarget epochs (``btc_difficulty_epochs.csv``, Electrum checkpoints),
  each block's consensus difficulty by height, averaged over the day's blocks (Coin Metrics'
  ``DiffMean``; checked on the overlap);
* hashrate: estimated, never measured: ``blocks · difficulty · 2³² / 86,400`` (Coin Metrics'
  one-day estimator);
* price: Bitstamp BTC/USD, the first minute of the *next* UTC day (typedcypher/
  historical-bitcoin-prices, built from the Kaggle Bitstamp minute set, CC BY-SA 4.0), which
  is the close of the day; on the 2016–2025 overlap it differs from Coin Metrics' end-of-day
  reference rate by a median of 0.13% (checked here).

Rows run from the day after the Coin Metrics file ends to the last day with a price; the
network columns are empty after the last full day of block data (a gap stays a gap).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

BLOCKS_COMMIT = "34548a531d0438d4e2b5197801f9ce89521d5cd0"
BLOCKS_DIR = "data/onchain/BTC/block_stats_fragments"
PRICES_COMMIT = "9f156d8af7c5a0f3f2b6c80e12761b6e10123639"
PRICES_PATH = "data/daily_bitcoin_prices.csv"
DATA = Path(__file__).resolve().parents[2] / "src" / "hashpivot" / "data"
OUT = DATA / "btc_daily_2025_2026.csv"
COLUMNS = [
    "date", "price_usd", "difficulty", "hashrate_ehs", "blocks", "fees_btc", "issuance_btc",
    "fees_usd", "issuance_usd",
]  # fmt: skip


def git_show(git_dir: Path, commit: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


def block_stats(git_dir: Path) -> pd.DataFrame:
    names = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "--name-only", BLOCKS_COMMIT,
         BLOCKS_DIR],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    wanted = [n for n in names if "incremental_block_stats_" in n]
    frames = []
    for name in wanted:
        try:
            raw = git_show(git_dir, BLOCKS_COMMIT, name)
        except subprocess.CalledProcessError:
            continue  # files of 4 MiB or more are absent from the snapshot
        frames.append(
            pd.read_parquet(
                io.BytesIO(raw), columns=["height", "mediantime", "totalfee", "subsidy"]
            )
        )
    blocks = pd.concat(frames).drop_duplicates("height").sort_values("height")
    heights = blocks["height"].to_numpy()
    if not (np.diff(heights) == 1).all():
        sys.exit("block stats: heights are not contiguous")
    return blocks.reset_index(drop=True)


def epoch_difficulty(heights: np.ndarray) -> np.ndarray:
    epochs = pd.read_csv(DATA / "btc_difficulty_epochs.csv")
    k = np.searchsorted(epochs["height"].to_numpy(), heights, side="right") - 1
    return epochs["difficulty"].to_numpy()[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks-git", type=Path, required=True)
    ap.add_argument("--prices-git", type=Path, required=True)
    args = ap.parse_args()

    cm = pd.read_csv(DATA / "btc_daily.csv", parse_dates=["date"]).set_index("date")
    b = block_stats(args.blocks_git)
    b["day"] = pd.to_datetime(b["mediantime"], unit="s").dt.normalize()
    b["difficulty"] = epoch_difficulty(b["height"].to_numpy())
    daily = b.groupby("day").agg(
        blocks=("height", "size"),
        fees_btc=("totalfee", "sum"),
        issuance_btc=("subsidy", "sum"),
        # One epoch's value exactly (a mean of equal floats can move the last digit).
        difficulty=("difficulty", lambda x: x.iloc[0] if x.nunique() == 1 else x.mean()),
    )
    daily[["fees_btc", "issuance_btc"]] /= 1e8
    daily = daily.iloc[1:-1]  # the first and last days are partial
    # The overlap with Coin Metrics proves the bucketing: exact blocks, fees and subsidy.
    both = daily.index.intersection(cm.index)
    if len(both) < 30:
        sys.exit(f"only {len(both)} days overlap the Coin Metrics file")
    for col in ("blocks", "fees_btc", "issuance_btc"):
        diff = (daily.loc[both, col] - cm.loc[both, col]).abs().max()
        if diff > 1e-8:
            sys.exit(f"{col}: differs from Coin Metrics by {diff} on the overlap")
    rel = (daily.loc[both, "difficulty"] / cm.loc[both, "difficulty"] - 1).abs()
    print(f"overlap {both[0].date()}..{both[-1].date()}: {len(both)} days exact; "
          f"difficulty max rel. diff {rel.max():.2e}")  # fmt: skip

    p = pd.read_csv(io.BytesIO(git_show(args.prices_git, PRICES_COMMIT, PRICES_PATH)))
    p = p.assign(Date=pd.to_datetime(p["Date"])).set_index("Date").sort_index()["BTC_USD"]
    if not (p.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all():
        sys.exit("prices: days are missing")
    close = p.shift(-1).dropna()  # first minute of the next day = close of this day
    both_p = close.index.intersection(cm.index[cm.index >= "2016-01-01"])
    dev = np.log(close.loc[both_p] / cm.loc[both_p, "price_usd"]).abs()
    print(f"price vs Coin Metrics 2016-{both_p[-1].year}: median |log diff| {dev.median():.4%}, "
          f"P95 {dev.quantile(0.95):.4%}")  # fmt: skip

    start = cm.index[-1] + pd.Timedelta(days=1)
    days = pd.date_range(start, close.index[-1], freq="D")
    out = pd.DataFrame(index=days)
    out["price_usd"] = close.reindex(days)
    out = out.join(daily)
    out["hashrate_ehs"] = out["blocks"] * out["difficulty"] * 2.0**32 / 86_400 / 1e18
    out["fees_usd"] = out["fees_btc"] * out["price_usd"]
    out["issuance_usd"] = out["issuance_btc"] * out["price_usd"]
    out.index.name = "date"
    out = out.reset_index()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    out["blocks"] = out["blocks"].astype("Int64")
    tmp = OUT.with_suffix(".tmp")
    out[COLUMNS].to_csv(tmp, index=False)
    tmp.replace(OUT)
    last_net = out.dropna(subset=["blocks"])["date"].iloc[-1]
    print(f"wrote {OUT.name}: {len(out)} rows {out['date'].iloc[0]}..{out['date'].iloc[-1]}; "
          f"network columns to {last_net}")  # fmt: skip


if __name__ == "__main__":
    main()
