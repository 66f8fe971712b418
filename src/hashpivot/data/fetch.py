"""Reading public web APIs for ``hashpivot data update`` — only when the user asks.

* **Chain data** from an Esplora / mempool.space-compatible REST API: ``GET /api/blocks/tip/height``
  (the tip, as text) and ``GET /api/v1/blocks/{height}`` (up to 15 blocks ending at ``height``,
  newest first, each with ``height``, ``mediantime``, ``difficulty`` and ``extras.totalFees``
  [sat]), as documented at https://mempool.space/docs/api/rest.
* **BTC/USD daily candles** from Bitstamp's public API (the exchange the shipped prices come
  from): ``GET /api/v2/ohlc/btcusd/?step=86400&limit=N&start=UNIX`` returning
  ``{"data": {"pair": "BTC/USD", "ohlc": [{"timestamp", "open", "high", "low", "close",
  "volume"}, …]}}`` with numbers as strings (https://www.bitstamp.net/api/).

No retries hide a failure: an unreachable host, an HTTP error or a body of another shape is one
:class:`FetchError` naming the URL and what was expected.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pandas as pd

from ..errors import InputError
from ..version import __version__

#: Where updates read by default (``--url`` overrides, e.g. a self-hosted Esplora).
DEFAULT_URLS = {"chain": "https://mempool.space", "price": "https://www.bitstamp.net"}

#: Seconds a request may take.
TIMEOUT_S = 20.0


class FetchError(InputError):
    """A public source could not be read: the URL, what went wrong and what to do."""


def get(url: str) -> bytes:
    """GET ``url`` and return the body.

    Parameters
    ----------
    url : str
        An ``http(s)://`` URL.

    Returns
    -------
    bytes
        The response body.

    Raises
    ------
    FetchError
        Unreachable (offline), timed out, or an HTTP error status.
    """
    req = urllib.request.Request(url, headers={"User-Agent": f"hashpivot/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            body: bytes = resp.read()
            return body
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"HTTP {exc.code}", "a 200 response") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(
            url,
            f"unreachable ({reason})",
            "a reachable source: data update needs the internet (the shipped and stored data "
            "keep working offline)",
        ) from None


def get_json(url: str) -> Any:
    """GET ``url`` and parse JSON.

    Parameters
    ----------
    url : str
        The URL.

    Returns
    -------
    Any
        The parsed body.

    Raises
    ------
    FetchError
        As :func:`get`, or a body that is not JSON.
    """
    body = get(url)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FetchError(url, body[:60].decode("latin-1"), "a JSON body") from None


def tip_height(base: str) -> int:
    """The chain tip's height from ``GET {base}/api/blocks/tip/height``.

    Parameters
    ----------
    base : str
        The API's root URL.

    Returns
    -------
    int
        The tip height [block].
    """
    url = f"{base.rstrip('/')}/api/blocks/tip/height"
    text = get(url).decode("ascii", "replace").strip()
    if not text.isdigit():
        raise FetchError(url, text[:40], "a block height as text")
    return int(text)


def blocks_ending_at(base: str, height: int) -> pd.DataFrame:
    """Up to 15 blocks ending at ``height`` from ``GET {base}/api/v1/blocks/{height}``.

    Parameters
    ----------
    base : str
        The API's root URL.
    height : int
        The newest block wanted [block].

    Returns
    -------
    pandas.DataFrame
        ``height``, ``mediantime`` [s since 1970], ``difficulty`` [-], ``fees_sat`` [sat], by row.
    """
    url = f"{base.rstrip('/')}/api/v1/blocks/{int(height)}"
    data = get_json(url)
    try:
        rows = [
            {
                "height": int(b["height"]),
                "mediantime": int(b["mediantime"]),
                "difficulty": float(b["difficulty"]),
                "fees_sat": int(b["extras"]["totalFees"]),
            }
            for b in data
        ]
    except (TypeError, KeyError, ValueError):
        raise FetchError(
            url, "another shape", "a list of blocks with height, mediantime, difficulty and "
            "extras.totalFees (mempool.space /api/v1/blocks)",
        ) from None  # fmt: skip
    return pd.DataFrame(rows, columns=["height", "mediantime", "difficulty", "fees_sat"])


def daily_closes(base: str, start: pd.Timestamp, limit: int = 1000) -> pd.Series:
    """Bitstamp BTC/USD daily closes from ``start`` (UTC day), at most ``limit`` candles.

    Parameters
    ----------
    base : str
        The API's root URL.
    start : pandas.Timestamp
        The first UTC day wanted.
    limit : int
        Most candles per request [-] (Bitstamp allows 1000).

    Returns
    -------
    pandas.Series
        Close [USD] by UTC day (the candle's day).
    """
    ts = int(pd.Timestamp(start).tz_localize(None).normalize().timestamp())
    url = f"{base.rstrip('/')}/api/v2/ohlc/btcusd/?step=86400&limit={int(limit)}&start={ts}"
    data = get_json(url)
    try:
        candles = data["data"]["ohlc"]
        days = pd.to_datetime([int(c["timestamp"]) for c in candles], unit="s").normalize()
        close = [float(c["close"]) for c in candles]
    except (TypeError, KeyError, ValueError):
        raise FetchError(
            url, "another shape", 'a {"data": {"ohlc": [{"timestamp", "close", …}]}} body'
        ) from None
    return pd.Series(close, index=pd.DatetimeIndex(days, name="date"), name="price_usd")


#: ISO day-ahead prices through the optional ``gridstatus`` extra: iso → (client class, method,
#: price column, location type or ``None``).
GRIDSTATUS_ISOS = {
    "ercot": ("Ercot", "get_spp", "SPP", "Trading Hub"),
    "caiso": ("CAISO", "get_lmp", "LMP", None),
}

#: Each ISO's clock (its days are the ones gridstatus asks for).
ISO_TZ = {"ercot": "America/Chicago", "caiso": "America/Los_Angeles"}


def gridstatus_day_ahead(iso: str, location: str, start: str, end: str) -> pd.DataFrame:
    """Day-ahead hourly prices of one location from ``gridstatus`` (``pip install
    'hashpivot[iso]'``), in its documented frame shape.

    Parameters
    ----------
    iso : str
        A key of :data:`GRIDSTATUS_ISOS`.
    location : str
        The ISO's location name (``HB_WEST``; CAISO ``TH_NP15_GEN-APND``).
    start : str
        First day (ISO date, the ISO's local calendar).
    end : str
        Last day (ISO date), included.

    Returns
    -------
    pandas.DataFrame
        gridstatus's rows: ``Interval Start`` (tz-aware), ``Location`` and the price column.

    Raises
    ------
    FetchError
        The extra is not installed, or the ISO cannot be reached.
    """
    if iso not in GRIDSTATUS_ISOS:
        raise InputError("--market", iso, "an ISO of " + ", ".join(GRIDSTATUS_ISOS))
    try:
        import gridstatus
    except ImportError:
        raise FetchError(
            "--source iso", "gridstatus not installed", "pip install 'hashpivot[iso]' first"
        ) from None
    cls, method, _, location_type = GRIDSTATUS_ISOS[iso]
    client = getattr(gridstatus, cls)()
    kwargs: dict[str, Any] = {"end": end, "market": "DAY_AHEAD_HOURLY", "locations": [location]}
    if location_type is not None:
        kwargs["location_type"] = location_type
    try:
        frame: pd.DataFrame = getattr(client, method)(start, **kwargs)
    except Exception as exc:  # requests' and the ISO sites' many failures: one named error
        raise FetchError(
            f"gridstatus {cls}.{method}",
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}",
            "a reachable ISO (data update needs the internet)",
        ) from None
    return frame


def gridstatus_to_hourly(frame: pd.DataFrame, iso: str, location: str) -> pd.Series:
    """gridstatus rows → one hourly price series in UTC.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`gridstatus_day_ahead` (``Interval Start``, ``Location``, price column).
    iso : str
        A key of :data:`GRIDSTATUS_ISOS`.
    location : str
        The location kept.

    Returns
    -------
    pandas.Series
        Price [USD/MWh] by UTC hour start.

    Raises
    ------
    FetchError
        A frame without the documented columns, or with a duplicated hour.
    """
    price_col = GRIDSTATUS_ISOS[iso][2]
    need = {"Interval Start", "Location", price_col}
    if not need <= set(frame.columns):
        raise FetchError("gridstatus", sorted(map(str, frame.columns)), f"columns {sorted(need)}")
    rows = frame[frame["Location"] == location]
    start = pd.DatetimeIndex(pd.to_datetime(rows["Interval Start"], utc=True), name="time_utc")
    s = pd.Series(rows[price_col].to_numpy(dtype=float), index=start, name="price_per_mwh")
    if s.index.duplicated().any():
        raise FetchError("gridstatus", str(s.index[s.index.duplicated()][0]), "each hour once")
    return s.sort_index()
