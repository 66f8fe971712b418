"""Hourly power prices: the shipped ERCOT series and a user's own file, as complete UTC hourly
series (:class:`HourlyPrices`), named in one vocabulary (``ercot:LZ_WEST:2023``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataRangeError, InputError
from ..files import read_local_file
from ..locations import data_path
from . import store

#: Price nodes in the shipped hourly file.
POWER_NODES = ("LZ_WEST", "LZ_NORTH")


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

    Parameters
    ----------
    node : str
        Load zone of the shipped file (``LZ_WEST``, ``LZ_HOUSTON``).

    Returns
    -------
    pandas.DataFrame
        One row per hour; prices [USD/MWh].

    Raises
    ------
    InputError
        A zone the shipped file does not hold, listing those it does.
    """
    if node not in POWER_NODES:
        raise InputError("node", node, "one of: " + ", ".join(POWER_NODES))
    df = _power_prices()
    out = df[df["node"] == node].drop(columns="node").set_index("timestamp_utc").sort_index()
    return out.copy()


# --------------------------------------------------------------------------- hourly price series
@dataclass(frozen=True)
class HourlyPrices:
    """A complete hourly price series in UTC (hour beginning) and what was done to make it so."""

    source: str
    index_utc: pd.DatetimeIndex
    price_usd_per_mwh: np.ndarray
    filled_hours_utc: tuple[str, ...]  # hours filled explicitly (the DST fall-back hour)
    tz_local: str = "UTC"  # the market's clock: months and days are taken in it
    missing_hours_utc: tuple[str, ...] = ()  # hours the source lacks (left out, never filled)
    currency_note: str = ""  # how prices in another currency were turned into USD

    @property
    def index_local(self) -> pd.DatetimeIndex:
        """The hours in the market's local time zone."""
        return self.index_utc.tz_convert(self.tz_local)

    def month(self, month: str) -> HourlyPrices:
        """The hours of one calendar month (``YYYY-MM``) on the market's local clock."""
        try:
            start = pd.Timestamp(month + "-01", tz=self.tz_local)
        except (TypeError, ValueError):
            raise InputError("month", month, "a month as YYYY-MM") from None
        end = start + pd.offsets.MonthBegin(1)
        local = self.index_local
        keep = (local >= start) & (local < end)
        if not keep.any():
            first, last = local[0], local[-1]
            raise DataRangeError(
                "month", month, f"a month within the prices ({first:%Y-%m} .. {last:%Y-%m})"
            )
        filled = tuple(h for h in self.filled_hours_utc if start <= pd.Timestamp(h) < end)
        missing = tuple(h for h in self.missing_hours_utc if start <= pd.Timestamp(h) < end)
        return HourlyPrices(
            f"{self.source} {month}",
            self.index_utc[keep],
            self.price_usd_per_mwh[keep],
            filled,
            self.tz_local,
            missing,
            self.currency_note,
        )

    def require_complete(self, field: str = "prices") -> HourlyPrices:
        """This series if no hour is missing, else a named error (the hourly LP needs them all).

        Parameters
        ----------
        field : str
            The field or flag named in the error.

        Returns
        -------
        HourlyPrices
            ``self``.

        Raises
        ------
        DataRangeError
            Hours are missing: the error gives how many, the first, and the complete months.
        """
        if not self.missing_hours_utc:
            return self
        local = self.index_local
        months = sorted({f"{t:%Y-%m}" for t in local})
        gaps = {
            f"{pd.Timestamp(h).tz_convert(self.tz_local):%Y-%m}" for h in self.missing_hours_utc
        }
        complete = [m for m in months if m not in gaps]
        raise DataRangeError(
            field,
            f"{self.source} ({len(self.missing_hours_utc)} hours missing from "
            f"{self.missing_hours_utc[0]})",
            "a period with every hour (the hourly LP needs them all); complete months in this "
            "series: " + (", ".join(complete[:24]) or "none"),
        )


def validate_hourly(index_utc: pd.DatetimeIndex, prices: np.ndarray, source: str) -> None:
    """Raise a named error for NaN prices, duplicated hours or gaps in an hourly UTC series.

    Parameters
    ----------
    index_utc : pandas.DatetimeIndex
        Hour-beginning timestamps in UTC.
    prices : numpy.ndarray
        Price per hour [USD/MWh].
    source : str
        The series' name or file, used in errors.

    Raises
    ------
    InputError
        The first NaN, duplicated hour or gap, with its timestamp.
    """
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
MARKET_NAME_PATTERN = (
    r"^([a-z]+:[A-Z0-9_]+(:da)?(:[0-9]{4})?|user:[A-Za-z0-9][A-Za-z0-9._-]{0,63})$"
)


@dataclass(frozen=True)
class PriceMarket:
    """A shipped day-ahead market family: one file, one column per node, one clock, one currency."""

    iso: str
    file: str
    tz_local: str
    currency: str
    nodes: tuple[str, ...]


#: The shipped day-ahead markets (``data/SOURCES.md``), named ``iso:NODE:da[:YEAR]``.
DAY_AHEAD = {
    m.iso: m
    for m in (
        PriceMarket(
            "ercot",
            "power_ercot_da.csv.gz",
            "America/Chicago",
            "USD",
            ("HB_HOUSTON", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST", "HB_HUBAVG", "HB_BUSAVG"),
        ),
        PriceMarket(
            "caiso", "power_caiso_da.csv.gz", "America/Los_Angeles", "USD", ("NP15", "SP15", "ZP26")
        ),
        PriceMarket(
            "nordpool",
            "power_nordpool_se_da.csv.gz",
            "Europe/Stockholm",
            "EUR",
            ("SE1", "SE2", "SE3", "SE4"),
        ),
        PriceMarket("entsoe", "power_entsoe_de_lu_da.csv.gz", "Europe/Berlin", "EUR", ("DE_LU",)),
    )
}


@lru_cache(maxsize=len(DAY_AHEAD))
def _day_ahead(iso: str) -> pd.DataFrame:
    df = pd.read_csv(data_path(DAY_AHEAD[iso].file), index_col="timestamp_utc")
    df.index = pd.to_datetime(df.index, utc=True)
    return df


@lru_cache(maxsize=1)
def _fx_shipped() -> pd.DataFrame:
    df = pd.read_csv(data_path("fx_usd_daily.csv"), index_col="date", parse_dates=True)
    return df


@lru_cache(maxsize=4)
def _fx_layered(versions: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    df = _fx_shipped()
    for name, _ in versions:
        extra, _meta = store.load(name)
        cur = name.split(":", 1)[1]
        col = df[cur] if cur in df.columns else pd.Series(np.nan, index=df.index, name=cur)
        merged = col.combine_first(extra[cur])  # the shipped fixings win where both exist
        df = df.reindex(df.index.union(merged.index))
        df[cur] = merged
        df["source"] = df["source"].fillna("local")
    return df


def _fx() -> pd.DataFrame:
    """The shipped fixings, extended by the store's ``fx:CUR`` datasets."""
    versions = tuple((n, store.current_sha256(n) or "") for n in store.names("fx"))
    return _fx_layered(versions) if versions else _fx_shipped()


def fx_currencies() -> tuple[str, ...]:
    """Currencies with daily fixings: the shipped ones and the store's.

    Returns
    -------
    tuple of str
        ISO 4217 codes.
    """
    return tuple(c for c in _fx().columns if c != "source")


def fx_usd_daily() -> pd.DataFrame:
    """Daily units of EUR, BRL, INR, ZAR, CNY and RUB per US dollar (ECB, then CNB fixings).

    Returns
    -------
    pandas.DataFrame
        Indexed by fixing day; one column per currency [unit/USD] and ``source`` (``ecb`` or
        ``cnb``). RUB ends 2022-03-01.
    """
    return _fx().copy()


def to_usd(
    values: np.ndarray, index_utc: pd.DatetimeIndex, currency: str, tz_local: str
) -> np.ndarray:
    """Convert hourly prices in ``currency`` to USD at the fixing of each hour's local day.

    The rate of a day is the last ECB/CNB fixing on or before it (weekends and holidays take the
    fixing before them).

    Parameters
    ----------
    values : numpy.ndarray of float
        Prices per hour [currency/MWh].
    index_utc : pandas.DatetimeIndex
        The hours (UTC).
    currency : str
        ``USD`` or a column of :func:`fx_usd_daily`.
    tz_local : str
        The market's time zone (its days pick the fixing).

    Returns
    -------
    numpy.ndarray of float
        Prices per hour [USD/MWh].

    Raises
    ------
    DataRangeError
        An hour before the first or after the last fixing of ``currency``.
    """
    if currency == "USD":
        return np.asarray(values, dtype=np.float64)
    rate = _fx()[currency].dropna()
    days = index_utc.tz_convert(tz_local).tz_localize(None).normalize()
    k = rate.index.searchsorted(days, side="right") - 1
    if (k < 0).any() or days[-1] > rate.index[-1] + pd.Timedelta(days=7):
        raise DataRangeError(
            "prices",
            f"{days[0]:%Y-%m-%d} .. {days[-1]:%Y-%m-%d}",
            f"days within the {currency} fixings ({rate.index[0]:%Y-%m-%d} .. "
            f"{rate.index[-1]:%Y-%m-%d})",
        )
    return np.asarray(values, dtype=np.float64) / rate.to_numpy()[k]


#: Largest price file the CLI reads [bytes] (a year of hourly rows is about 0.5 MB).
MAX_PRICE_FILE_BYTES = 64 * 1024 * 1024


def market_names() -> tuple[str, ...]:
    """Every market name of the shipped data, each year of a day-ahead market included.

    Returns
    -------
    tuple of str
        ``ercot:LZ_WEST:2023`` (real time, 2023), then ``iso:NODE:da`` and ``iso:NODE:da:YEAR``
        for each shipped day-ahead node and local calendar year.
    """
    return _market_names()


@lru_cache(maxsize=1)
def _market_names() -> tuple[str, ...]:
    names = [f"ercot:{node}:2023" for node in POWER_NODES]
    for m in DAY_AHEAD.values():
        years = sorted(set(_day_ahead(m.iso).index.tz_convert(m.tz_local).year))
        for node in m.nodes:
            names.append(f"{m.iso}:{node}:da")
            names += [f"{m.iso}:{node}:da:{y}" for y in years]
    return tuple(names)


def _day_ahead_prices(spec: str) -> HourlyPrices:
    iso, node, _, *year = spec.split(":")
    m = DAY_AHEAD[iso]
    s = _day_ahead(iso)[node].dropna()
    local = s.index.tz_convert(m.tz_local)
    if year:
        s = s[local.year == int(year[0])]
        start = pd.Timestamp(f"{year[0]}-01-01", tz=m.tz_local).tz_convert("UTC")
        end = pd.Timestamp(f"{int(year[0]) + 1}-01-01", tz=m.tz_local).tz_convert("UTC")
        full = pd.date_range(start, end, freq="h", inclusive="left")
    else:
        full = pd.date_range(s.index[0], s.index[-1], freq="h")
    missing = tuple(t.isoformat().replace("+00:00", "Z") for t in full.difference(s.index))
    usd = to_usd(s.to_numpy(), s.index, m.currency, m.tz_local)
    note = (
        ""
        if m.currency == "USD"
        else f"{m.currency} converted to USD at the ECB/CNB fixing of each local day"
    )
    return HourlyPrices(spec, s.index, usd, (), m.tz_local, missing, note)


def check_market_name(name: str, field: str = "power_market") -> str:
    """``name`` if it is a market of the shipped data, else a named error listing them.

    Parameters
    ----------
    name : str
        A market name (``ercot:NODE:YEAR``).
    field : str
        The field named in the error (``power_market``, ``--prices``).

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    InputError
        An unknown market, listing the shipped ones.
    """
    if name.startswith("user:"):
        if name not in store.names("hourly_prices"):
            held = ", ".join(store.names("hourly_prices")) or "none yet"
            raise InputError(
                field,
                name,
                f"a user market of the local store (it holds: {held}; add one with "
                "hashpivot data import FILE --kind hourly_prices --market user:NAME)",
            )
        return name
    if name not in market_names():
        raise InputError(field, name, "a market name: " + market_vocabulary())
    return name


def market_files(name: str) -> tuple[str, ...]:
    """The shipped files a market name reads (its prices, and the FX fixings for EUR markets).

    Parameters
    ----------
    name : str
        A market name of :func:`market_names`.

    Returns
    -------
    tuple of str
        File names in the package's data folder.
    """
    check_market_name(name, "market")
    if name.startswith("user:"):
        return ()  # a store dataset: see user_market_version
    iso, _, *rest = name.split(":")
    if rest[:1] != ["da"]:
        return ("power_prices_hourly.csv",)
    m = DAY_AHEAD[iso]
    return (m.file,) if m.currency == "USD" else (m.file, "fx_usd_daily.csv")


def market_vocabulary() -> str:
    """The market names in brief, for errors and help.

    Returns
    -------
    str
        The name patterns with the shipped nodes and an example each.
    """
    day_ahead = "; ".join(f"{m.iso}:{{{','.join(m.nodes)}}}:da[:YEAR]" for m in DAY_AHEAD.values())
    return (
        "ercot:LZ_WEST:2023, ercot:LZ_NORTH:2023 (real time), day-ahead "
        + day_ahead
        + ", or user:NAME (imported with hashpivot data import)"
    )


def user_prices(name: str) -> HourlyPrices:
    """A user market from the local store, in USD at each local day's fixing.

    Parameters
    ----------
    name : str
        ``user:NAME``.

    Returns
    -------
    HourlyPrices
        The stored hours [USD/MWh], the hours the file lacked, and how its currency was converted.

    Raises
    ------
    InputError
        A name the store does not hold.
    """
    check_market_name(name, "prices")
    frame, v = store.load(name)
    meta = v["meta"]
    idx = pd.DatetimeIndex(frame.index)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    cur, tz = meta["currency"], meta["tz_local"]
    usd = to_usd(frame["price_per_mwh"].to_numpy(), idx, cur, tz)
    note = "" if cur == "USD" else f"{cur} converted to USD at the fixing of each local day"
    missing = tuple(meta.get("missing_hours_utc", ()))
    return HourlyPrices(name, idx, usd, (), tz, missing, note)


def hourly_prices(spec: str) -> HourlyPrices:
    """Hourly prices of a market named ``ercot:NODE:YEAR`` (the shipped ERCOT data).

    The shipped ERCOT file has one 01:00 row on the DST fall-back day (2023-11-05), so the UTC hour
    07:00 is missing. It is filled explicitly with the price of the hour before (the source's single
    01:00 CPT row covers both UTC hours) and listed in ``filled_hours_utc``. Any other gap, NaN or
    duplicated hour is an error. A name is all this reads: never a path or a URL (a user's own file
    goes through :func:`hourly_prices_file`, from the command line only).

    Parameters
    ----------
    spec : str
        The market's name.

    Returns
    -------
    HourlyPrices
        UTC hours, prices [USD/MWh] and the hours filled.

    Raises
    ------
    InputError
        An unknown market name.
    """
    if spec.startswith("user:"):
        return user_prices(spec)
    if spec in market_names() and spec.split(":")[2:3] == ["da"]:
        return _day_ahead_prices(spec)
    if not spec.startswith("ercot:") or len(spec.split(":")) != 3:
        raise InputError(
            "prices",
            spec,
            "a market name: ercot:LZ_WEST:2023, or iso:NODE:da[:YEAR] with iso one of "
            + ", ".join(DAY_AHEAD)
            + " (e.g. ercot:HB_WEST:da:2021, caiso:NP15:da, nordpool:SE1:da:2022)",
        )
    _, node, year = spec.split(":")
    df = power_prices_hourly(node)
    if year != "2023":
        raise DataRangeError("prices", spec, "year 2023 (the shipped ERCOT data)")
    s = df["price_usd_per_mwh"]
    full = pd.date_range(s.index[0], s.index[-1], freq="h")
    missing = full.difference(s.index)
    known_gap = pd.DatetimeIndex([pd.Timestamp("2023-11-05T07:00Z")])
    if not missing.difference(known_gap).empty:  # pragma: no cover - shipped data is checked
        raise InputError("prices", spec, "the shipped series with only the DST hour missing")
    s = s.reindex(full).ffill()
    filled = tuple(str(t) for t in missing)
    validate_hourly(s.index, s.to_numpy(), spec)
    return HourlyPrices(spec, s.index, s.to_numpy(dtype=np.float64), filled, "America/Chicago")


def hourly_prices_file(path: str | Path) -> HourlyPrices:
    """Hourly prices from a local CSV file with columns ``timestamp_utc, price_usd_per_mwh``.

    The command line's ``--prices FILE``, read for the user who named it. A regular file of at
    most :data:`MAX_PRICE_FILE_BYTES`; never a URL, a device or a pipe.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.

    Returns
    -------
    HourlyPrices
        UTC hours and prices [USD/MWh].

    Raises
    ------
    InputError
        Not a regular file, too large, missing columns, or a gap, duplicate or NaN.
    """
    spec = str(path)
    raw = read_local_file(
        spec,
        "prices",
        MAX_PRICE_FILE_BYTES,
        "a market name (see `hashpivot data status`) or a CSV file",
    )
    try:
        df = pd.read_csv(io.BytesIO(raw))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError("prices", spec, f"a readable CSV ({exc})") from None
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
