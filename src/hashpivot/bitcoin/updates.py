"""``hashpivot data update``: extend the daily table from public sources, incrementally.

Each source continues from the last day the table (shipped plus stored) already has:

* ``chain`` — blocks after the last day with block data, read 15 at a time from a
  mempool.space-compatible API (:mod:`hashpivot.data.fetch`), bucketed by the UTC day of their
  median time past (the shipped data's convention): ``blocks``, ``fees_btc`` (Σ fees),
  ``issuance_btc`` (Σ consensus subsidy by height) and ``difficulty`` (mean over the day's
  blocks). Only whole days are kept: a day is complete once a later block's median time is on a
  later day (median time past never decreases).
* ``price`` — Bitstamp daily closes after the last priced day, up to yesterday (UTC).

Progress is stored every :data:`DAYS_PER_SAVE` days as a new version of the store's ``btc_daily``
dataset, so an interrupted update resumes where it stopped and a second call fetches only what is
new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..data import fetch, store
from ..errors import InputError
from . import history, network

#: The sources ``data update`` knows (``iso`` needs the ``gridstatus`` extra and a market).
SOURCES = ("chain", "price", "iso")

#: What ``data update`` runs when no ``--source`` is given (``iso`` needs ``--market``).
DEFAULT_SOURCES = ("chain", "price")

#: Days of chain data fetched between saves (resumable progress).
DAYS_PER_SAVE = 10

#: Blocks read before the first expected new one (the daily heights are good to a few blocks).
OVERLAP_BLOCKS = 30


def _stored() -> pd.DataFrame:
    if store.current(history.LOCAL_DAILY) is None:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    frame, _ = store.load(history.LOCAL_DAILY)
    return frame


def _save(rows: pd.DataFrame, source: str, url: str) -> dict[str, Any]:
    """Merge ``rows`` into the stored ``btc_daily`` (new values win for their columns)."""
    old = _stored()
    merged = rows.combine_first(old) if len(old) else rows
    merged.index.name = "date"
    cols = [c for c in ("price_usd", "difficulty", "blocks", "fees_btc", "issuance_btc")
            if c in merged.columns]  # fmt: skip
    last = {c: str(merged[c].dropna().index.max().date()) for c in cols if merged[c].notna().any()}
    meta = {
        "source": f"data update ({source}: {url})",
        "licence": "mempool.space API data; Bitstamp public market data (see their terms)",
        "commercial_use": None,
        "column_last_dates": last,
    }
    return store.put(history.LOCAL_DAILY, "btc_daily", merged[cols], meta)


def _day_rows(blocks: pd.DataFrame) -> pd.DataFrame:
    day = pd.to_datetime(blocks["mediantime"], unit="s").dt.normalize()
    subsidy = blocks["height"].map(network.block_subsidy_sats) / network.COIN_SATS
    g = blocks.assign(day=day, subsidy=subsidy).groupby("day")
    out = pd.DataFrame(
        {
            "blocks": g.size().astype(float),
            "fees_btc": g["fees_sat"].sum() / network.COIN_SATS,
            "issuance_btc": g["subsidy"].sum(),
            "difficulty": g["difficulty"].mean(),
        }
    )
    out.index.name = "date"
    return out


def update_chain(
    url: str = fetch.DEFAULT_URLS["chain"],
    progress: Callable[[str], None] | None = None,
    max_requests: int | None = None,
) -> dict[str, Any]:
    """Fetch whole days of blocks after the table's last day with block data.

    Parameters
    ----------
    url : str
        A mempool.space-compatible API root.
    progress : callable or None
        Called with a line of progress.
    max_requests : int or None
        Stop after this many block requests [-] (the rest on the next call).

    Returns
    -------
    dict
        ``source``, ``from`` and ``to`` (days added, or ``None``), ``days``, ``requests``.
    """
    last_day = pd.Timestamp(history.column_last_dates()["blocks"])
    state = history.network_state(last_day.date())
    first_new = state.height + 6  # blocks with median time on or before last_day: heights < this
    tip = fetch.tip_height(url)
    height = first_new - OVERLAP_BLOCKS
    requests, added, first_added = 0, 0, None
    pending = pd.DataFrame(columns=["height", "mediantime", "difficulty", "fees_sat"])

    def store_complete(blocks: pd.DataFrame) -> pd.DataFrame:
        """Save the whole days of ``blocks``; return the blocks of the unfinished last day."""
        nonlocal added, first_added, last_day
        days = pd.to_datetime(blocks["mediantime"], unit="s").dt.normalize()
        complete = (days < days.max()).to_numpy()
        if not complete.any():
            return blocks
        rows = _day_rows(blocks[complete])
        _save(rows, "chain", url)
        first_added = first_added if first_added is not None else rows.index[0]
        added += len(rows)
        last_day = rows.index[-1]
        if progress:
            progress(f"chain: stored {rows.index[0].date()} .. {last_day.date()}")
        return blocks[~complete]

    while height <= tip and (max_requests is None or requests < max_requests):
        top = min(height + 14, tip)
        page = fetch.blocks_ending_at(url, top)
        requests += 1
        page = page[(page["height"] >= height) & (page["height"] <= top)]
        if len(page) != top - height + 1:
            raise fetch.FetchError(
                f"{url}/api/v1/blocks/{top}", f"{len(page)} blocks", f"{top - height + 1} blocks"
            )
        height = top + 1
        new = page[pd.to_datetime(page["mediantime"], unit="s").dt.normalize() > last_day]
        if new.empty:
            continue
        pending = new if pending.empty else pd.concat([pending, new], ignore_index=True)
        days = pd.to_datetime(pending["mediantime"], unit="s").dt.normalize()
        if days.nunique() > DAYS_PER_SAVE:
            pending = store_complete(pending)
    if not pending.empty:
        pending = store_complete(pending)
    return {
        "source": "chain",
        "from": None if first_added is None else str(first_added.date()),
        "to": None if not added else str(last_day.date()),
        "days": added,
        "requests": requests,
        "tip_height": tip,
        "next_height": height,
    }


def update_price(
    url: str = fetch.DEFAULT_URLS["price"], today: pd.Timestamp | None = None
) -> dict[str, Any]:
    """Fetch Bitstamp daily closes after the last priced day, up to yesterday (UTC).

    Parameters
    ----------
    url : str
        Bitstamp's API root.
    today : pandas.Timestamp or None
        Today (UTC); days from it on are incomplete and skipped.

    Returns
    -------
    dict
        ``source``, ``from``, ``to``, ``days``, ``requests``.
    """
    from ..clock import today as clock_today

    now = pd.Timestamp(today if today is not None else clock_today()).normalize()
    start = pd.Timestamp(history.column_last_dates()["price_usd"]) + pd.Timedelta(days=1)
    got: list[pd.Series] = []
    requests = 0
    while start < now:
        s = fetch.daily_closes(url, start)
        requests += 1
        s = s[(s.index >= start) & (s.index < now)]
        if s.empty:
            break
        got.append(s)
        start = s.index[-1] + pd.Timedelta(days=1)
    if not got:
        return {"source": "price", "from": None, "to": None, "days": 0, "requests": requests}
    prices = pd.concat(got)
    prices = prices[~prices.index.duplicated()]
    full = pd.date_range(prices.index[0], prices.index[-1])
    if len(full) != len(prices) or prices.index[0] != full[0]:
        gap = full.difference(prices.index)
        raise fetch.FetchError(url, f"no candle on {gap[0].date()}", "a candle for every day")
    _save(prices.to_frame(), "price", url)
    return {
        "source": "price",
        "from": str(prices.index[0].date()),
        "to": str(prices.index[-1].date()),
        "days": len(prices),
        "requests": requests,
    }


def update_iso(
    market: str, start: str | None = None, today: pd.Timestamp | None = None
) -> dict[str, Any]:
    """ISO day-ahead prices through ``gridstatus`` into ``user:ISO-LOCATION-da``, continuing after
    the stored last hour (or from ``start``) up to yesterday.

    Parameters
    ----------
    market : str
        ``iso:LOCATION`` (``ercot:HB_WEST``, ``caiso:TH_NP15_GEN-APND``).
    start : str or None
        First day when the store has none of this market yet (default: 90 days ago).
    today : pandas.Timestamp or None
        Today (UTC); the fetch ends the day before.

    Returns
    -------
    dict
        ``source``, ``dataset``, ``from``, ``to``, ``hours``.
    """
    from ..clock import today as clock_today

    iso, sep, location = market.partition(":")
    if not sep or iso not in fetch.GRIDSTATUS_ISOS or not location:
        raise InputError(
            "--market", market, "iso:LOCATION with iso one of " + ", ".join(fetch.GRIDSTATUS_ISOS)
        )
    name = store.check_name(f"user:{iso}-{location}-da", "--market")
    now = pd.Timestamp(today if today is not None else clock_today()).normalize()
    have = store.current(name)
    if have is not None:
        old, _ = store.load(name)
        first = pd.Timestamp(have["last"]).tz_convert(fetch.ISO_TZ[iso]).normalize().tz_localize(
            None
        ) + pd.Timedelta(days=1)
    else:
        old = None
        first = pd.Timestamp(start) if start else now - pd.Timedelta(days=90)
    last = now - pd.Timedelta(days=1)
    if first > last:
        return {"source": "iso", "dataset": name, "from": None, "to": None, "hours": 0}
    frame = fetch.gridstatus_day_ahead(iso, location, str(first.date()), str(last.date()))
    new = fetch.gridstatus_to_hourly(frame, iso, location).to_frame()
    merged = new if old is None else new.combine_first(old)
    full = pd.date_range(merged.index[0], merged.index[-1], freq="h")
    missing = [t.isoformat().replace("+00:00", "Z") for t in full.difference(merged.index)]
    meta = {
        "source": f"gridstatus {iso} day-ahead {location}",
        "licence": "the ISO's public market data terms",
        "commercial_use": None,
        "tz_local": fetch.ISO_TZ[iso],
        "currency": "USD",
        "missing_hours_utc": missing,
    }
    store.put(name, "hourly_prices", merged, meta)
    return {
        "source": "iso",
        "dataset": name,
        "from": str(new.index[0]),
        "to": str(new.index[-1]),
        "hours": len(new),
    }


def update(
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    urls: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    market: str | None = None,
) -> list[dict[str, Any]]:
    """Run the named sources in order.

    Parameters
    ----------
    sources : tuple of str
        Any of :data:`SOURCES`.
    urls : dict or None
        Source → API root, overriding :data:`hashpivot.data.fetch.DEFAULT_URLS`.
    progress : callable or None
        Called with lines of progress.
    market : str or None
        ``iso:LOCATION`` for the ``iso`` source.

    Returns
    -------
    list of dict
        One summary per source.

    Raises
    ------
    InputError
        An unknown source; :class:`~hashpivot.data.fetch.FetchError` when a source is unreachable.
    """
    for s in sources:
        if s not in SOURCES:
            raise InputError(
                "--source",
                s,
                "one of " + ", ".join(SOURCES) + " (or export a file and use hashpivot data "
                "import --kind hourly_prices)",
            )
    if "iso" in sources and market is None:
        raise InputError("--market", None, "iso:LOCATION for --source iso (e.g. ercot:HB_WEST)")
    base = fetch.DEFAULT_URLS | (urls or {})
    out = []
    for s in sources:
        if s == "chain":
            out.append(update_chain(base["chain"], progress))
        elif s == "price":
            out.append(update_price(base["price"]))
        else:
            out.append(update_iso(str(market)))
    return out
