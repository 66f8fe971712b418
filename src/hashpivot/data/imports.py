"""``hashpivot data import``: a user's own file, validated row by row, into the local store.

Three kinds:

* ``hourly_prices`` — a time column and a price column (a utility's tariff file, an ISO or
  Nord Pool download, a Russian regional price), in UTC, with offsets, or on a local clock given by
  ``tz``; stored as ``user:NAME`` in its own currency and converted to USD at each local day's
  fixing when read. On a local clock a DST fall-back hour must appear twice (in order) and a
  spring-forward hour never; hours absent from the file are kept absent and listed (never filled).
* ``btc_daily`` — UTC days with any of ``price_usd``, ``difficulty``, ``blocks``, ``fees_btc``,
  ``issuance_btc``: extends the shipped daily table (consecutive days, starting by the day after
  it ends).
* ``fx`` — UTC days and the units of one currency per USD: extends the shipped fixings.

Every error names the file, the row (the line of the file, header = 1), the column and the value,
and what is allowed. Nothing reaches the store unless the whole file is valid.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import read_local_file
from . import catalog, store

#: Largest file imported [bytes] (ten years of hourly rows is about 5 MB).
MAX_IMPORT_BYTES = 256 * 1024 * 1024

#: Columns of a ``btc_daily`` import (any subset besides the date).
BTC_DAILY_COLUMNS = ("price_usd", "difficulty", "blocks", "fees_btc", "issuance_btc")

#: Default column names per kind and role (``--column-map`` overrides them).
DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "hourly_prices": {"time": "timestamp_utc", "price": "price"},
    "btc_daily": {"time": "date"},
    "fx": {"time": "date", "rate": "rate"},
}


@dataclass(frozen=True)
class Imported:
    """What an import stored: the dataset, its version and what the file lacked."""

    dataset: str
    kind: str
    version: dict[str, Any]
    missing: tuple[str, ...]  # hours (or days) inside the range the file does not have


def parse_column_map(text: str | None, kind: str) -> dict[str, str]:
    """``time=Col,price=Col`` → ``{"time": "Col", "price": "Col"}`` over the kind's defaults.

    Parameters
    ----------
    text : str or None
        The ``--column-map`` value.
    kind : str
        The import kind (its roles are the keys allowed).

    Returns
    -------
    dict of str to str
        Role → column name in the file.

    Raises
    ------
    InputError
        A malformed pair or a role the kind does not have.
    """
    roles = dict(DEFAULT_COLUMNS[kind])
    allowed = (*roles, *(BTC_DAILY_COLUMNS if kind == "btc_daily" else ()))
    for part in filter(None, (text or "").split(",")):
        role, sep, col = part.partition("=")
        role, col = role.strip(), col.strip()
        if not sep or not col:
            raise InputError("--column-map", part, "ROLE=COLUMN pairs separated by commas")
        if role not in allowed:
            raise InputError("--column-map", role, "a role of " + ", ".join(allowed))
        roles[role] = col
    return roles


def _read_table(path: Path) -> tuple[pd.DataFrame, bytes]:
    spec = str(path)
    raw = read_local_file(path, "FILE", MAX_IMPORT_BYTES, "an existing CSV file")
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError("FILE", spec, f"a readable CSV ({str(exc).splitlines()[0]})") from None
    if df.empty:
        raise InputError("FILE", spec, "a CSV with a header and at least one row")
    return df, raw


def _column(df: pd.DataFrame, path: Path, role: str, name: str) -> pd.Series:
    if name not in df.columns:
        raise InputError(
            f"{path}: column {name!r} ({role})",
            "absent",
            "a column of the file: "
            + ", ".join(map(repr, df.columns))
            + " (map it with --column-map ROLE=COLUMN)",
        )
    return df[name].str.strip()


def _where(path: Path, i: int, col: str) -> str:
    return f"{path}: row {i + 2}, column {col!r}"  # line of the file: header is line 1


def _numbers(
    s: pd.Series, path: Path, col: str, *, lowest: float | None = None, strict: bool = False
) -> np.ndarray:
    """A column of numbers (thousands separators allowed); an empty cell is no data (NaN).

    ``lowest`` bounds the values (``strict``: above it, else at or above it)."""
    values = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce")
    blank = (s == "").to_numpy()
    x = values.to_numpy(dtype=np.float64)
    bad = ~blank & ~np.isfinite(x)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(_where(path, i, col), s.iloc[i], "a number (or an empty cell: no data)")
    if lowest is not None:
        with np.errstate(invalid="ignore"):
            low = ~blank & ((x <= lowest) if strict else (x < lowest))
        if low.any():
            i = int(np.flatnonzero(low)[0])
            bound = "above" if strict else "at least"
            raise InputError(_where(path, i, col), s.iloc[i], f"a number {bound} {lowest:g}")
    return x


def _zone(tz: str) -> ZoneInfo | None:
    if tz.upper() == "UTC":
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("--tz", tz, "an IANA time zone (e.g. Europe/Stockholm) or UTC") from None


def _hours_utc(s: pd.Series, path: Path, col: str, tz: str) -> pd.DatetimeIndex:
    """Parse the time column to UTC hours: offsets kept, naive times on ``tz``'s clock."""
    zone = _zone(tz)
    parsed = pd.to_datetime(s, errors="coerce", format="mixed", utc=False)
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(_where(path, i, col), s.iloc[i], "a date-time (ISO 8601)")
    with_offset = s.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    if with_offset.all():
        idx = pd.DatetimeIndex(pd.to_datetime(s, utc=True, format="mixed"))
    elif with_offset.any():
        i = int(np.flatnonzero((~with_offset).to_numpy())[0])
        raise InputError(
            _where(path, i, col), s.iloc[i], "the same form on every row (all with an offset)"
        )
    elif zone is None:
        idx = pd.DatetimeIndex(pd.to_datetime(s, format="mixed")).tz_localize("UTC")
    else:
        local = pd.DatetimeIndex(pd.to_datetime(s, format="mixed"))
        probe = local.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        gone = probe.isna() & ~local.tz_localize(zone, ambiguous=True, nonexistent="NaT").isna()
        skipped = probe.isna() & ~gone
        if skipped.any():
            i = int(np.flatnonzero(skipped)[0])
            raise InputError(
                _where(path, i, col),
                s.iloc[i],
                f"a local time that exists in {tz} (the DST spring-forward hour does not)",
            )
        try:
            idx = local.tz_localize(zone, ambiguous="infer").tz_convert("UTC")
        except ValueError as exc:  # pandas: "Cannot infer dst time …"
            i = int(np.flatnonzero(gone)[0]) if gone.any() else 0
            raise InputError(
                _where(path, i, col),
                s.iloc[i],
                f"a DST fall-back hour given twice in order on {tz}'s clock, or times with an "
                f"offset ({type(exc).__name__})",
            ) from None
    off_hour = (idx.minute != 0) | (idx.second != 0)
    if off_hour.any():
        i = int(np.flatnonzero(off_hour)[0])
        raise InputError(_where(path, i, col), s.iloc[i], "hour-beginning times on the hour")
    return idx


def _require_sorted_unique(idx: pd.DatetimeIndex, s: pd.Series, path: Path, col: str) -> None:
    dup = idx.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(idx == idx[i])[0])
        raise InputError(
            _where(path, i, col),
            s.iloc[i],
            f"each time once ({idx[i]} is already on row {first + 2})",
        )
    if len(idx) > 1 and not idx.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(idx.asi8) < 0)[0]) + 1
        raise InputError(_where(path, i, col), s.iloc[i], "rows in time order")


def _currency(code: str) -> str:
    from . import power_prices  # the FX tables (shipped and the store's)

    known = ["USD", *power_prices.fx_currencies()]
    if code not in known:
        raise InputError(
            "--currency",
            code,
            "one of " + ", ".join(known) + " (import more with --kind fx --currency CUR)",
        )
    return code


def import_hourly(
    path: Path,
    market: str,
    *,
    tz: str = "UTC",
    column_map: str | None = None,
    currency: str = "USD",
) -> tuple[pd.DataFrame, dict[str, Any], tuple[str, ...]]:
    """Validate an hourly price file.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file.
    market : str
        ``user:NAME``: the name plans and ``dispatch --prices`` use.
    tz : str
        The clock of naive times: ``UTC`` or an IANA zone (the market's local clock).
    column_map : str or None
        ``time=…,price=…``.
    currency : str
        The prices' currency: USD or one with fixings.

    Returns
    -------
    tuple
        The frame (``price_per_mwh`` [currency/MWh] by UTC hour), its metadata and the hours
        missing inside its range.
    """
    store.check_name(market, "--market")
    if not market.startswith("user:"):
        raise InputError("--market", market, "user:NAME for hourly prices")
    cur = _currency(currency)
    _zone(tz)
    df, raw = _read_table(path)
    cols = parse_column_map(column_map, "hourly_prices")
    times = _column(df, path, "time", cols["time"])
    prices_s = _column(df, path, "price", cols["price"])
    idx = _hours_utc(times, path, cols["time"], tz)
    _require_sorted_unique(idx, times, path, cols["time"])
    prices = _numbers(prices_s, path, cols["price"])
    keep = np.isfinite(prices)
    idx, prices = idx[keep], prices[keep]
    if not len(idx):
        raise InputError(f"{path}: column {cols['price']!r}", "no prices", "at least one price")
    full = pd.date_range(idx[0], idx[-1], freq="h")
    missing = tuple(t.isoformat().replace("+00:00", "Z") for t in full.difference(idx))
    frame = pd.DataFrame({"price_per_mwh": prices}, index=pd.DatetimeIndex(idx, name="time_utc"))
    meta = {
        "origin": path.name,
        "origin_sha256": hashlib.sha256(raw).hexdigest(),
        "tz_local": "UTC" if _zone(tz) is None else tz,
        "currency": cur,
        "missing_hours_utc": list(missing),
    }
    return frame, meta, missing


def _days(s: pd.Series, path: Path, col: str) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(s, errors="coerce", format="mixed")
    if parsed.dt.tz is not None:  # one offset anywhere makes the column tz-aware
        i = int(np.flatnonzero(s.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$").to_numpy())[0])
        raise InputError(_where(path, i, col), s.iloc[i], "a UTC day as YYYY-MM-DD")
    bad = (parsed.isna() | (parsed != parsed.dt.normalize())).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(_where(path, i, col), s.iloc[i], "a UTC day as YYYY-MM-DD")
    return pd.DatetimeIndex(parsed, name="date")


def import_btc_daily(
    path: Path, *, column_map: str | None = None
) -> tuple[pd.DataFrame, dict[str, Any], tuple[str, ...]]:
    """Validate a daily network file that extends the shipped table.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file.
    column_map : str or None
        ``time=…`` and any of ``price_usd=…,difficulty=…,blocks=…,fees_btc=…,issuance_btc=…``.

    Returns
    -------
    tuple
        The frame by UTC day, its metadata and ``()`` (days may not be missing).
    """
    df, raw = _read_table(path)
    cols = parse_column_map(column_map, "btc_daily")
    days_s = _column(df, path, "time", cols["time"])
    idx = _days(days_s, path, cols["time"])
    _require_sorted_unique(idx, days_s, path, cols["time"])
    present = [c for c in BTC_DAILY_COLUMNS if cols.get(c, c) in df.columns]
    if not present:
        raise InputError(
            f"{path}: columns", list(df.columns), "at least one of " + ", ".join(BTC_DAILY_COLUMNS)
        )
    frame = pd.DataFrame(index=idx)
    for c in present:
        name = cols.get(c, c)
        # Fees may be zero; blocks, issuance, difficulty and price may not.
        frame[c] = _numbers(df[name].str.strip(), path, name, lowest=0.0, strict=c != "fees_btc")
    gap = np.asarray(idx[1:] - idx[:-1] != pd.Timedelta(days=1))
    if gap.any():
        i = int(np.flatnonzero(gap)[0]) + 1
        raise InputError(
            _where(path, i, cols["time"]),
            days_s.iloc[i],
            f"consecutive days (the day after {idx[i - 1].date()}): the daily table has no gaps",
        )
    shipped_end = pd.Timestamp(catalog.shipped_last_day("btc_daily"))
    if idx[0] > shipped_end + pd.Timedelta(days=1):
        raise InputError(
            _where(path, 0, cols["time"]),
            days_s.iloc[0],
            f"a first day by {(shipped_end + pd.Timedelta(days=1)).date()} (the day after the "
            "shipped table ends), so the table stays gap-free",
        )
    meta = {"origin": path.name, "origin_sha256": hashlib.sha256(raw).hexdigest()}
    return frame, meta, ()


def import_fx(
    path: Path, currency: str, *, column_map: str | None = None
) -> tuple[pd.DataFrame, dict[str, Any], tuple[str, ...]]:
    """Validate a daily FX file: units of ``currency`` per USD.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file.
    currency : str
        ISO 4217 code (three capitals).
    column_map : str or None
        ``time=…,rate=…``.

    Returns
    -------
    tuple
        The frame (column ``currency``) by day, its metadata and ``()``.
    """
    if (
        not (
            isinstance(currency, str)
            and len(currency) == 3
            and currency.isalpha()
            and currency.isupper()
        )
        or currency == "USD"
    ):
        raise InputError("--currency", currency, "an ISO 4217 code other than USD (e.g. RUB)")
    df, raw = _read_table(path)
    cols = parse_column_map(column_map, "fx")
    days_s = _column(df, path, "time", cols["time"])
    idx = _days(days_s, path, cols["time"])
    _require_sorted_unique(idx, days_s, path, cols["time"])
    rates = _numbers(
        _column(df, path, "rate", cols["rate"]), path, cols["rate"], lowest=0.0, strict=True
    )
    frame = pd.DataFrame({currency: rates}, index=idx).dropna()
    meta = {
        "origin": path.name,
        "origin_sha256": hashlib.sha256(raw).hexdigest(),
        "currency": currency,
        "units": f"{currency} per USD",
    }
    return frame, meta, ()


def import_file(
    path: str | Path,
    kind: str,
    *,
    market: str | None = None,
    tz: str = "UTC",
    column_map: str | None = None,
    currency: str | None = None,
) -> Imported:
    """Validate a file and store it as the current version of its dataset.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.
    kind : str
        ``hourly_prices``, ``btc_daily`` or ``fx``.
    market : str or None
        ``user:NAME`` (hourly prices only, required there).
    tz : str
        The clock of naive times (hourly prices).
    column_map : str or None
        ``ROLE=COLUMN`` pairs.
    currency : str or None
        Hourly prices: their currency (default USD); fx: the currency quoted (required).

    Returns
    -------
    Imported
        The dataset name, the stored version and the missing hours.

    Raises
    ------
    InputError
        A bad option or any invalid row, naming file, row, column, value and what is allowed.
    """
    p = Path(path)
    if kind == "hourly_prices":
        if market is None:
            raise InputError("--market", None, "user:NAME (the name plans and dispatch use)")
        frame, meta, missing = import_hourly(
            p, market, tz=tz, column_map=column_map, currency=currency or "USD"
        )
        name = market
    elif kind == "btc_daily":
        if market not in (None, "btc_daily"):
            raise InputError("--market", market, "no --market for btc_daily (one dataset)")
        frame, meta, missing = import_btc_daily(p, column_map=column_map)
        name = "btc_daily"
    elif kind == "fx":
        if currency is None:
            raise InputError("--currency", None, "the currency quoted per USD (e.g. RUB)")
        frame, meta, missing = import_fx(p, currency, column_map=column_map)
        name = f"fx:{currency}"
    else:
        raise InputError("--kind", kind, "one of " + ", ".join(store.KINDS))
    version = store.put(name, kind, frame, meta)
    return Imported(name, kind, version, missing)
