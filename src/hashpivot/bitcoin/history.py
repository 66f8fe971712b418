"""The shipped real datasets as pandas objects, with units in column names.

* ``btc_daily.csv`` — Coin Metrics community data (CC BY-NC 4.0), daily 2010-07-18 .. 2025-09-26;
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
import io
import stat as stat_mod
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataRangeError, InputError
from ..locations import data_path
from . import network

#: Blocks Coin Metrics counted before the first day of ``btc_daily.csv`` (derived, see module doc).
BLOCKS_BEFORE_FIRST_DAY = 68_784
#: Price nodes in the shipped hourly file.
POWER_NODES = ("LZ_WEST", "LZ_NORTH")


@lru_cache(maxsize=1)
def _btc_daily() -> pd.DataFrame:
    raw = pd.read_csv(data_path("btc_daily.csv"), parse_dates=["date"])
    df = raw.rename(columns={"hashrate_ehs": "hashrate_eh_s"}).set_index("date")
    df.index.name = "date"
    df["height_end_of_day"] = BLOCKS_BEFORE_FIRST_DAY + df["blocks"].cumsum() - 6
    blocks = df["blocks"].where(df["blocks"] > 0)
    df["subsidy_btc_per_block"] = df["issuance_btc"] / blocks
    df["fees_btc_per_block"] = df["fees_btc"] / blocks
    return df


def btc_daily() -> pd.DataFrame:
    """Daily Bitcoin network data, indexed by UTC date.

    Columns: ``price_usd`` (Coin Metrics end-of-day reference rate), ``difficulty``,
    ``hashrate_eh_s`` (one-day estimator ``blocks·D·2^32/86400``, noisy), ``blocks``, ``fees_btc``,
    ``issuance_btc``, ``fees_usd``, ``issuance_usd``, and derived ``height_end_of_day``,
    ``subsidy_btc_per_block`` and ``fees_btc_per_block``.
    """
    return _btc_daily().copy()


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


@lru_cache(maxsize=1)
def _power_prices() -> pd.DataFrame:
    df = pd.read_csv(data_path("power_prices_hourly.csv"))
    df["timestamp_utc"] = pd.to_datetime(df["timestamp_utc"], utc=True)
    df = df.rename(columns={"price_usd_mwh": "price_usd_per_mwh"})
    return df


def power_prices_hourly(node: str) -> pd.DataFrame:
    """Hourly ERCOT real-time prices of one load zone, 2023, indexed by UTC hour.

    Columns: ``timestamp_local`` (Central Prevailing Time, hour beginning, as in the source),
    ``market``, ``price_usd_per_mwh``. The source lacks the repeated 01:00 of the DST fall-back
    day, so 2023-11-05T07:00Z is missing (8,759 rows); callers that need a full year must fill it
    explicitly.
    """
    if node not in POWER_NODES:
        raise InputError("node", node, "one of: " + ", ".join(POWER_NODES))
    df = _power_prices()
    out = df[df["node"] == node].drop(columns="node").set_index("timestamp_utc").sort_index()
    return out.copy()


# --------------------------------------------------------------------------- derived views
def date_range() -> tuple[dt.date, dt.date]:
    """First and last date of the daily data."""
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
        return asdict(self)


def network_state(date: str | dt.date | None = None) -> NetworkState:
    """Network state on ``date`` (default: the last day of the shipped data)."""
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
    hashprice and
    are dropped (none after 2010).

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
    """The first ``count`` halvings with the dates the shipped data puts them on."""
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
    """Daily network inputs for mining economics over ``[start, end]`` (both in the data):
    ``difficulty``, ``price_usd``, ``subsidy_btc_per_block``, ``fees_btc_per_block``."""
    return hashprice_history(start, end)[
        ["difficulty", "price_usd", "subsidy_btc_per_block", "fees_btc_per_block"]
    ]


# --------------------------------------------------------------------------- hourly price series
@dataclass(frozen=True)
class HourlyPrices:
    """A complete hourly price series in UTC (hour beginning) and what was done to make it so."""

    source: str
    index_utc: pd.DatetimeIndex
    price_usd_per_mwh: np.ndarray
    filled_hours_utc: tuple[str, ...]  # hours filled explicitly (the DST fall-back hour)
    tz_local: str = "UTC"  # the market's clock: months and days are taken in it

    @property
    def index_local(self) -> pd.DatetimeIndex:
        return self.index_utc.tz_convert(self.tz_local)

    def month(self, month: str) -> HourlyPrices:
        """The hours of one calendar month (``YYYY-MM``) on the market's local clock."""
        try:
            start = pd.Timestamp(month + "-01", tz=self.tz_local)
        except (TypeError, ValueError):
            raise InputError("--month", month, "a month as YYYY-MM") from None
        end = start + pd.offsets.MonthBegin(1)
        local = self.index_local
        keep = (local >= start) & (local < end)
        if not keep.any():
            first, last = local[0], local[-1]
            raise DataRangeError(
                "--month", month, f"a month within the prices ({first:%Y-%m} .. {last:%Y-%m})"
            )
        filled = tuple(h for h in self.filled_hours_utc if start <= pd.Timestamp(h) < end)
        return HourlyPrices(
            f"{self.source} {month}",
            self.index_utc[keep],
            self.price_usd_per_mwh[keep],
            filled,
            self.tz_local,
        )


def validate_hourly(index_utc: pd.DatetimeIndex, prices: np.ndarray, source: str) -> None:
    """Raise a named error for NaN prices, duplicated hours or gaps in an hourly UTC series."""
    bad = ~np.isfinite(prices)
    if bad.any():
        where = [str(t) for t in index_utc[bad][:3]]
        raise InputError(
            f"{source}: price_usd_per_mwh",
            f"NaN at {', '.join(where)}",
            "a finite price for every hour",
        )
    dup = index_utc.duplicated()
    if dup.any():
        raise InputError(
            f"{source}: timestamp_utc",
            f"duplicated hour {index_utc[dup][0]}",
            "each UTC hour once (a DST fall-back hour must be given in UTC)",
        )
    step = np.diff(index_utc.to_numpy()) if len(index_utc) > 1 else np.array([])
    wrong = step != np.timedelta64(1, "h")
    if np.any(wrong):
        k = int(np.flatnonzero(wrong)[0])
        raise InputError(
            f"{source}: timestamp_utc",
            f"gap or disorder between {index_utc[k]} and {index_utc[k + 1]}",
            "consecutive hours in UTC",
        )


#: Market names a plan, a request or ``--prices`` may use: ``ercot:NODE:YEAR`` of the shipped
#: data. Names only: no plan or request ever makes hashpivot read a file or fetch a URL.
MARKET_NAME_PATTERN = r"^ercot:[A-Z0-9_]+:[0-9]{4}$"
#: Largest price file the CLI reads [bytes] (a year of hourly rows is about 0.5 MB).
MAX_PRICE_FILE_BYTES = 64 * 1024 * 1024


def market_names() -> tuple[str, ...]:
    """Every market name of the shipped data."""
    return tuple(f"ercot:{node}:2023" for node in POWER_NODES)


def check_market_name(name: str, field: str = "power_market") -> str:
    """``name`` if it is a market of the shipped data, else a named error listing them."""
    if name not in market_names():
        raise InputError(field, name, "a market name: " + ", ".join(market_names()))
    return name


def hourly_prices(spec: str) -> HourlyPrices:
    """Hourly prices of a market named ``ercot:NODE:YEAR`` (the shipped ERCOT data).

    The shipped ERCOT file has one 01:00 row on the DST fall-back day (2023-11-05), so the UTC
    hour 07:00 is missing. It is filled explicitly with the price of the hour before (the source's
    single 01:00 CPT row covers both UTC hours) and listed in ``filled_hours_utc``. Any other gap,
    NaN or duplicated hour is an error. A name is all this reads: never a path or a URL (a user's
    own file goes through :func:`hourly_prices_file`, from the command line only).
    """
    if not spec.startswith("ercot:") or len(spec.split(":")) != 3:
        raise InputError("--prices", spec, "ercot:NODE:YEAR, e.g. ercot:LZ_WEST:2023")
    _, node, year = spec.split(":")
    df = power_prices_hourly(node)
    if year != "2023":
        raise DataRangeError("--prices", spec, "year 2023 (the shipped ERCOT data)")
    s = df["price_usd_per_mwh"]
    full = pd.date_range(s.index[0], s.index[-1], freq="h")
    missing = full.difference(s.index)
    known_gap = pd.DatetimeIndex([pd.Timestamp("2023-11-05T07:00Z")])
    if not missing.difference(known_gap).empty:  # pragma: no cover - shipped data is checked
        raise InputError("--prices", spec, "the shipped series with only the DST hour missing")
    s = s.reindex(full).ffill()
    filled = tuple(str(t) for t in missing)
    validate_hourly(s.index, s.to_numpy(), spec)
    return HourlyPrices(spec, s.index, s.to_numpy(dtype=np.float64), filled, "America/Chicago")


def hourly_prices_file(path: str | Path) -> HourlyPrices:
    """Hourly prices from a local CSV file with columns ``timestamp_utc, price_usd_per_mwh``:
    the command line's ``--prices FILE``, read for the user who named it. A regular file of at
    most :data:`MAX_PRICE_FILE_BYTES`; never a URL, a device or a pipe."""
    spec = str(path)
    if "://" in spec or spec.startswith(("http:", "https:", "ftp:", "file:")):
        raise InputError("--prices", spec, "a market name or a local file (never a URL)")
    p = Path(spec)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(
            "--prices", spec, "a market name (" + ", ".join(market_names()) + ") or a CSV file"
        ) from None
    except OSError as exc:
        raise InputError("--prices", spec, f"a readable file ({exc.strerror})") from None

    if not stat_mod.S_ISREG(st.st_mode):
        raise InputError("--prices", spec, "a regular file (not a device, pipe or folder)")
    if st.st_size > MAX_PRICE_FILE_BYTES:
        raise InputError("--prices", f"{st.st_size:,} bytes", f"at most {MAX_PRICE_FILE_BYTES:,}")
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_PRICE_FILE_BYTES + 1)
        df = pd.read_csv(io.BytesIO(raw))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError("--prices", spec, f"a readable CSV ({exc})") from None
    for col in ("timestamp_utc", "price_usd_per_mwh"):
        if col not in df.columns:
            raise InputError(f"{spec}: columns", list(df.columns), f"a column named {col}")
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(df["timestamp_utc"], utc=True))
    except (TypeError, ValueError):
        raise InputError(f"{spec}: timestamp_utc", "unparseable", "ISO timestamps") from None
    prices = pd.to_numeric(df["price_usd_per_mwh"], errors="coerce").to_numpy(dtype=np.float64)
    validate_hourly(idx, prices, spec)
    return HourlyPrices(spec, idx, prices, ())
