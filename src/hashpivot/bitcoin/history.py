"""The shipped real datasets as pandas objects, with units in column names.

* ``btc_daily.csv`` — Coin Metrics community data (CC BY-NC 4.0), daily 2010-07-18 .. 2025-09-26;
* ``btc_daily_2025_2026.csv`` — its continuation with the same columns and conventions: blocks,
  fees and subsidy from per-block ``getblockstats`` (to 2026-01-31), difficulty from the epochs,
  hashrate estimated from difficulty × blocks, and the Bitstamp close (to 2026-08-21);
* ``btc_difficulty_epochs.csv`` — difficulty of every retarget epoch 0..473 (Electrum checkpoints);
* ``power_prices_hourly.csv`` — ERCOT real-time load-zone prices, LZ_WEST and LZ_NORTH, 2023.

See ``data/SOURCES.md`` for origins, licences and caveats. Nothing is downloaded; every loader
reads a file inside the package and caches the parsed frame (callers get a copy).

Block height per day
--------------------
The daily file has block counts but no heights. Coin Metrics counts a block on the UTC day of its
median-time-past, roughly the header time of the block five lower; the number of blocks counted
before 2010-07-18 is fixed at :data:`BLOCKS_BEFORE_FIRST_DAY` = 68,784, the one value for which the
rule ``first day with cumsum(BlkCnt) − 5 ≥ height`` reproduces every epoch date in the epoch table.
``height_end_of_day`` is therefore ``68,784 + cumsum(blocks) − 6``: the height of the last block
whose header time falls on that day (to within the median-time-past jitter of a block or two). It
puts the four halvings on 2012-11-28, 2016-07-09, 2020-05-11 and 2024-04-20, as observed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .. import locations
from ..data import store
from ..errors import DataRangeError, InputError
from ..locations import data_path
from . import network

#: Blocks Coin Metrics counted before the first day of ``btc_daily.csv`` (derived, see module doc).
BLOCKS_BEFORE_FIRST_DAY = 68_784


#: The columns a day needs for a complete network state.
NETWORK_COLUMNS = ("price_usd", "difficulty", "blocks", "fees_btc", "issuance_btc")


#: The daily files, oldest first (defined beside the other file locations).
DAILY_FILES = locations.DAILY_FILES


def _daily_all() -> pd.DataFrame:
    return _daily_layered(store.current_sha256(LOCAL_DAILY))


#: The store's dataset that extends the daily table (``data import --kind btc_daily`` and
#: ``data update`` write it); the shipped rows win where both have a value.
LOCAL_DAILY = "btc_daily"


def local_daily_rows(extra: pd.DataFrame) -> pd.DataFrame:
    """A store's daily rows with the shipped file's derived columns: the hashrate estimated from
    difficulty × blocks [EH/s] and the USD values of fees and issuance.

    Parameters
    ----------
    extra : pandas.DataFrame
        Daily rows with any of ``price_usd``, ``difficulty``, ``blocks``, ``fees_btc``,
        ``issuance_btc``.

    Returns
    -------
    pandas.DataFrame
        The rows with ``hashrate_eh_s``, ``fees_usd`` and ``issuance_usd`` where computable.
    """
    out = extra.copy()
    cols = out.columns
    if {"blocks", "difficulty"} <= set(cols):
        out["hashrate_eh_s"] = (
            out["blocks"] * out["difficulty"] * network.TWO_32 / network.SECONDS_PER_DAY / 1e18
        )
    if "price_usd" in cols:
        for btc, usd in (("fees_btc", "fees_usd"), ("issuance_btc", "issuance_usd")):
            if btc in cols:
                out[usd] = out[btc] * out["price_usd"]
    return out


@lru_cache(maxsize=2)
def _daily_layered(local_sha: str | None) -> pd.DataFrame:
    parts = [pd.read_csv(data_path(name), parse_dates=["date"]) for name in DAILY_FILES]
    raw = pd.concat(parts, ignore_index=True)
    df = raw.rename(columns={"hashrate_ehs": "hashrate_eh_s"}).set_index("date")
    if local_sha is not None:
        extra, _ = store.load(LOCAL_DAILY)
        df = df.combine_first(local_daily_rows(extra))[df.columns]
    df.index.name = "date"
    steps = df.index.to_series().diff().dropna()
    if not (steps == pd.Timedelta(days=1)).all():  # a broken rebuild must not pass silently
        bad = steps[steps != pd.Timedelta(days=1)].index[0]
        raise DataRangeError("btc daily files", str(bad.date()), "one row per day, no gaps")
    df["height_end_of_day"] = BLOCKS_BEFORE_FIRST_DAY + df["blocks"].cumsum() - 6
    blocks = df["blocks"].where(df["blocks"] > 0)
    df["subsidy_btc_per_block"] = df["issuance_btc"] / blocks
    df["fees_btc_per_block"] = df["fees_btc"] / blocks
    return df


def _btc_daily() -> pd.DataFrame:
    return _complete_days(store.current_sha256(LOCAL_DAILY))


@lru_cache(maxsize=2)
def _complete_days(local_sha: str | None) -> pd.DataFrame:
    df = _daily_layered(local_sha)
    return df.loc[: df.dropna(subset=list(NETWORK_COLUMNS)).index[-1]]


def btc_daily() -> pd.DataFrame:
    """Daily Bitcoin network data, indexed by UTC date, through the last complete day.

    Columns: ``price_usd`` (end-of-day: Coin Metrics' reference rate to 2025-09-26, then the
    Bitstamp close), ``difficulty`` (mean over the day's blocks), ``hashrate_eh_s`` (one-day
    estimator ``blocks·D·2^32/86400``, noisy), ``blocks``, ``fees_btc``, ``issuance_btc``,
    ``fees_usd``, ``issuance_usd``, and derived ``height_end_of_day``,
    ``subsidy_btc_per_block`` and ``fees_btc_per_block``.

    Returns
    -------
    pandas.DataFrame
        One row per day, every column present, to :func:`date_range`'s last day (the
        columns' own last dates are in :func:`column_last_dates`; prices run further, see
        :func:`btc_price_daily`).
    """
    return _btc_daily().copy()


def btc_price_daily() -> pd.Series:
    """BTC end-of-day price [USD] to its own last day (past the last complete network day).

    Returns
    -------
    pandas.Series
        ``price_usd`` by UTC date.
    """
    return _daily_all()["price_usd"].dropna().copy()


def column_last_dates() -> dict[str, dt.date]:
    """The last day each column of the daily data has a value.

    Returns
    -------
    dict of str to datetime.date
        Column name → last date (e.g. ``price_usd`` runs past ``blocks``).
    """
    df = _daily_all()
    cols = ["price_usd", "difficulty", "hashrate_eh_s", "blocks", "fees_btc", "issuance_btc"]
    return {c: df[c].dropna().index[-1].date() for c in cols}


@lru_cache(maxsize=1)
def _difficulty_epochs() -> pd.DataFrame:
    df = pd.read_csv(data_path("btc_difficulty_epochs.csv"), dtype={"bits": str})
    df["date"] = pd.to_datetime(df["date"])
    df["bits"] = df["bits"].map(lambda s: int(s, 16))
    return df.set_index("epoch")


def difficulty_epochs() -> pd.DataFrame:
    """Difficulty per retarget epoch (0..473): ``height``, ``date`` (NaT where unknown),
    ``timestamp_utc``, ``date_source``, ``bits`` (int), ``difficulty``, ``change_pct``."""
    return _difficulty_epochs().copy()


def difficulty_at_end_of_day(date: str | dt.date) -> float:
    """The consensus difficulty in force at the end of a UTC day, from the retarget epochs.

    Past the daily data this still answers, up to the last epoch whose start is dated (the
    epochs after it have no date in the shipped sources).

    Parameters
    ----------
    date : str or datetime.date
        The day (ISO date).

    Returns
    -------
    float
        Difficulty of the last epoch that started on or before that day [-].

    Raises
    ------
    InputError
        A malformed date.
    DataRangeError
        A day before the first epoch or after the last dated one (later retargets have no
        date in the shipped sources).
    """
    ts = _parse_date("date", date)
    ep = _difficulty_epochs().dropna(subset=["date"])
    if ts < ep["date"].iloc[0] or ts > ep["date"].iloc[-1]:
        raise DataRangeError(
            "date",
            str(date),
            f"a date from {ep['date'].iloc[0].date()} to {ep['date'].iloc[-1].date()} (the dated "
            "retarget epochs)",
        )
    return float(ep.loc[ep["date"] <= ts, "difficulty"].iloc[-1])


# --------------------------------------------------------------------------- derived views
def date_range() -> tuple[dt.date, dt.date]:
    """First and last date of the daily data on which every network column is present.

    Returns
    -------
    tuple of (datetime.date, datetime.date)
        The first and the last complete day.
    """
    idx = _btc_daily().index
    return idx[0].date(), idx[-1].date()


def _parse_date(field: str, value: str | dt.date) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(field, value, "a date as YYYY-MM-DD") from None
    if ts is pd.NaT or ts.tz is not None:
        raise InputError(field, value, "a date as YYYY-MM-DD (no time zone)")
    return ts.normalize()


def _require_in_data(field: str, ts: pd.Timestamp, value: object) -> None:
    first, last = date_range()
    if not (pd.Timestamp(first) <= ts <= pd.Timestamp(last)):
        raise DataRangeError(field, str(value), f"a date from {first} to {last} (the shipped data)")


@dataclass(frozen=True)
class NetworkState:
    """The network on one day (all values from the shipped daily data).

    ``height`` is the last block of the day, ``subsidy_btc`` the subsidy at that height,
    ``difficulty`` Coin Metrics' mean difficulty of the day, ``hashrate_eh_s`` the trailing 7-day
    mean of the one-day estimator (what hashrate dashboards quote), ``hashrate_implied_eh_s`` the
    hashrate the difficulty implies at 600 s blocks, ``fees_btc_per_day`` the day's total fees,
    and the hashprices follow Luxor's definition with the day's average fees per block.
    """

    date: str
    height: int
    subsidy_btc: float
    difficulty: float
    hashrate_eh_s: float
    hashrate_implied_eh_s: float
    blocks: int
    fees_btc_per_day: float
    fees_btc_per_block: float
    price_usd: float
    hashprice_usd_per_ph_day: float
    hashprice_btc_per_ph_day: float

    def to_dict(self) -> dict[str, object]:
        """The state as a plain dict (the ``network --json`` answer)."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row indexed by date; units in the column names."""
        return pd.DataFrame([self.to_dict()]).set_index("date")


def network_state(date: str | dt.date | None = None) -> NetworkState:
    """Network state on ``date`` from the shipped daily data.

    Parameters
    ----------
    date : str or datetime.date or None
        The day (ISO date); ``None`` for the last day of the shipped data.

    Returns
    -------
    NetworkState
        Height [block], subsidy [BTC/block], difficulty [-], hashrate [EH/s], fees [BTC/day],
        price [USD] and hashprices [USD/PH/day] on that day.

    Raises
    ------
    InputError
        A malformed date.
    DataRangeError
        A date outside the shipped data, naming the range.
    """
    df = _btc_daily()
    if date is None:
        ts = df.index[-1]
    else:
        ts = _parse_date("date", date)
        _require_in_data("date", ts, date)
    row = df.loc[ts]
    hashrate_7d = df["hashrate_eh_s"].loc[:ts].tail(7).mean()
    height = int(row["height_end_of_day"])
    subsidy_btc = network.block_subsidy_sats(height) / network.COIN_SATS
    fees_per_block = float(row["fees_btc_per_block"])
    difficulty = float(row["difficulty"])
    price = float(row["price_usd"])
    return NetworkState(
        date=ts.date().isoformat(),
        height=height,
        subsidy_btc=subsidy_btc,
        difficulty=difficulty,
        hashrate_eh_s=float(hashrate_7d),
        hashrate_implied_eh_s=float(network.hashrate_h_s_from_difficulty(difficulty)) / 1e18,
        blocks=int(row["blocks"]),
        fees_btc_per_day=float(row["fees_btc"]),
        fees_btc_per_block=fees_per_block,
        price_usd=price,
        hashprice_usd_per_ph_day=float(
            network.hashprice_usd_per_ph_day(difficulty, subsidy_btc, fees_per_block, price)
        ),
        hashprice_btc_per_ph_day=float(
            network.hashprice_btc_per_ph_day(difficulty, subsidy_btc, fees_per_block)
        ),
    )


def hashprice_history(
    start: str | dt.date | None = None, end: str | dt.date | None = None
) -> pd.DataFrame:
    """Daily hashprice recomputed from the shipped data.

    Per day: ``subsidy_btc_per_block = issuance_btc / blocks`` (so a halving day blends both
    eras), ``fees_btc_per_block = fees_btc / blocks``, the day's difficulty and price, fed to
    :func:`hashpivot.bitcoin.network.hashprice_usd_per_ph_day`. Days without blocks have no
    hashprice and are dropped (none after 2010).

    Parameters
    ----------
    start : str or datetime.date or None
        First day (ISO date); ``None`` from the data's start.
    end : str or datetime.date or None
        Last day; ``None`` to the data's end.

    Returns
    -------
    DataFrame
        Indexed by date: ``difficulty``, ``price_usd``, ``subsidy_btc_per_block``,
        ``fees_btc_per_block``, ``hashprice_btc_per_ph_day``, ``hashprice_usd_per_ph_day``.
    """
    df = _btc_daily()
    lo = df.index[0] if start is None else _parse_date("start", start)
    hi = df.index[-1] if end is None else _parse_date("end", end)
    if start is not None:
        _require_in_data("start", lo, start)
    if end is not None:
        _require_in_data("end", hi, end)
    if hi < lo:
        raise InputError("end", str(end), f"a date on or after start ({lo.date()})")
    sub = df.loc[lo:hi]
    sub = sub[sub["blocks"] > 0]
    out = sub[["difficulty", "price_usd", "subsidy_btc_per_block", "fees_btc_per_block"]].copy()
    out["hashprice_btc_per_ph_day"] = network.hashprice_btc_per_ph_day(
        out["difficulty"].to_numpy(),
        out["subsidy_btc_per_block"].to_numpy(),
        out["fees_btc_per_block"].to_numpy(),
    )
    out["hashprice_usd_per_ph_day"] = out["hashprice_btc_per_ph_day"] * out["price_usd"]
    return out


@dataclass(frozen=True)
class Halving:
    """One halving: its number, height, the UTC day it happened (None if beyond the data), and the
    subsidy after it [BTC]."""

    number: int
    height: int
    date: str | None
    subsidy_btc_after: float


def halvings(count: int = 5) -> list[Halving]:
    """The first ``count`` halvings with the dates the shipped data puts them on.

    Parameters
    ----------
    count : int
        Number of halvings [-] (heights 210,000 × 1 … × ``count``).

    Returns
    -------
    list of Halving
        Number, height [block], UTC date (``None`` if past the data) and subsidy after
        [BTC/block].
    """
    df = _btc_daily()
    h = df["height_end_of_day"].to_numpy()
    out = []
    for n in range(1, count + 1):
        height = network.halving_height(n)
        idx = int(np.searchsorted(h, height, side="left"))
        date = df.index[idx].date().isoformat() if idx < len(h) and idx > 0 else None
        out.append(Halving(n, height, date, network.block_subsidy_sats(height) / network.COIN_SATS))
    return out


def network_over_period(start: str | dt.date, end: str | dt.date) -> pd.DataFrame:
    """Daily network inputs for mining economics over ``[start, end]`` (both in the data).

    Parameters
    ----------
    start : str or datetime.date
        First day (ISO date).
    end : str or datetime.date
        Last day (ISO date), not before ``start``.

    Returns
    -------
    pandas.DataFrame
        Indexed by date: ``difficulty`` [-], ``price_usd`` [USD], ``subsidy_btc_per_block`` and
        ``fees_btc_per_block`` [BTC/block].

    Raises
    ------
    InputError
        A malformed date or ``end`` before ``start``.
    DataRangeError
        A date outside the shipped data, naming the range.
    """
    return hashprice_history(start, end)[
        ["difficulty", "price_usd", "subsidy_btc_per_block", "fees_btc_per_block"]
    ]
