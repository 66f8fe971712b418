"""The datasets hashpivot ships, described for ``hashpivot data status``: what each file is,
where it came from, its licence, its range, rows and content hash (SHA-256 of the file's bytes,
so a run can name exactly the data it used).

Origins, commits and transformations are in ``SOURCES.md``; the scripts that build the files are
in the project's ``data/scripts/``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from ..clock import months_between, today
from ..errors import InputError
from ..locations import data_path
from . import store


@dataclass(frozen=True)
class Dataset:
    """One shipped file: its name, kind, source, licence and whether commercial use is allowed."""

    name: str
    file: str
    kind: str  # btc_daily, difficulty_epochs, hourly_prices, fx, hardware
    source: str
    licence: str
    commercial_use: bool
    time_column: str | None  # the column that carries the dates (None: a catalogue)


#: Every shipped dataset, in the order ``data status`` lists them.
SHIPPED = (
    Dataset(
        "btc_daily_coinmetrics", "btc_daily.csv", "btc_daily",
        "Coin Metrics community data", "CC BY-NC 4.0", False, "date",
    ),
    Dataset(
        "btc_daily_2025_2026", "btc_daily_2025_2026.csv", "btc_daily",
        "getblockstats (BTC-RPC-Data) + Bitstamp close", "MIT; CC BY-SA 4.0", True, "date",
    ),
    Dataset(
        "btc_difficulty_epochs", "btc_difficulty_epochs.csv", "difficulty_epochs",
        "Electrum checkpoints + block timestamps", "MIT; CC0", True, "date",
    ),
    Dataset(
        "ercot_rt_lz_2023", "power_prices_hourly.csv", "hourly_prices",
        "ERCOT real-time load zones", "ERCOT public data (MIT repository)", True,
        "timestamp_utc",
    ),
    Dataset(
        "ercot_da_hubs", "power_ercot_da.csv.gz", "hourly_prices",
        "EIA copy of ERCOT day-ahead hub LMPs", "US public domain (EIA)", True, "timestamp_utc",
    ),
    Dataset(
        "caiso_da_zones", "power_caiso_da.csv.gz", "hourly_prices",
        "EIA copy of CAISO day-ahead zone LMPs", "US public domain (EIA)", True, "timestamp_utc",
    ),
    Dataset(
        "nordpool_se_da", "power_nordpool_se_da.csv.gz", "hourly_prices",
        "ENTSO-E Transparency, SE1–SE4 day-ahead (EUR)", "ENTSO-E terms (attribution)", True,
        "timestamp_utc",
    ),
    Dataset(
        "entsoe_de_lu_da", "power_entsoe_de_lu_da.csv.gz", "hourly_prices",
        "SMARD.de DE-LU day-ahead (EUR)", "CC BY 4.0", True, "timestamp_utc",
    ),
    Dataset(
        "fx_usd_daily", "fx_usd_daily.csv", "fx",
        "ECB reference rates, then CNB fixings", "ECB/CNB reuse with attribution", True, "date",
    ),
    Dataset(
        "asic_models", "asic_models.csv", "hardware",
        "hand-transcribed spec pages", "mixed (see SOURCES.md)", True, None,
    ),
    Dataset(
        "gpu_models", "gpu_models.csv", "hardware",
        "hand-transcribed spec pages", "mixed (see SOURCES.md)", True, None,
    ),
)  # fmt: skip


@lru_cache(maxsize=len(SHIPPED))
def _describe(name: str) -> dict[str, Any]:
    ds = next(d for d in SHIPPED if d.name == name)
    with open(data_path(ds.file), "rb") as fh:
        raw = fh.read()
    text = gzip.decompress(raw) if ds.file.endswith(".gz") else raw
    df = pd.read_csv(io.BytesIO(text))
    first = last = None
    column_last: dict[str, str] = {}
    if ds.time_column is not None:
        dates = pd.to_datetime(df[ds.time_column], errors="coerce", utc=True)
        first, last = dates.min().date().isoformat(), dates.max().date().isoformat()
        if ds.kind == "btc_daily":  # the price runs past the block data: say each column's end
            for col in df.columns.drop(ds.time_column):
                column_last[col] = dates[df[col].notna()].max().date().isoformat()
    return {
        "name": ds.name,
        "file": ds.file,
        "kind": ds.kind,
        "layer": "shipped",
        "source": ds.source,
        "licence": ds.licence,
        "commercial_use": ds.commercial_use,
        "first_date": first,
        "last_date": last,
        "rows": len(df),
        "column_last_dates": column_last,
        "sha256": file_sha256(name),
    }


def status(now: dt.date | None = None) -> list[dict[str, Any]]:
    """Every shipped dataset with its range, rows, content hash and age.

    Parameters
    ----------
    now : datetime.date or None
        Today (``None``: :func:`hashpivot.clock.today`).

    Returns
    -------
    list of dict
        Per dataset: ``name``, ``file``, ``kind``, ``layer``, ``source``, ``licence``,
        ``commercial_use``, ``first_date`` and ``last_date`` (UTC days), ``rows``,
        ``column_last_dates`` (daily network files: each column's own last day), ``sha256`` and
        ``months_old`` [month] (whole months from the last date to today).
    """
    day = today() if now is None else now
    out = [dict(_describe(ds.name)) for ds in SHIPPED] + local_rows()
    for row in out:
        last = row["last_date"]
        row["months_old"] = (
            None if last is None else months_between(dt.date.fromisoformat(last), day)
        )
    return out


def local_rows() -> list[dict[str, Any]]:
    """The local store's datasets, described like the shipped ones (``layer`` = ``local``).

    Returns
    -------
    list of dict
        Per dataset: the keys of :func:`status` (without ``months_old``) plus ``versions``.
    """
    rows = []
    cat = store.read_catalog()
    for name in sorted(cat["datasets"]):
        entry = cat["datasets"][name]
        v = store.current(name)
        if v is None:
            continue
        meta = v["meta"]
        first = None if v["first"] is None else v["first"][:10]
        last = None if v["last"] is None else v["last"][:10]
        rows.append(
            {
                "name": name,
                "file": v["path"],
                "kind": entry["kind"],
                "layer": "local",
                "source": meta.get("source", f"imported from {meta.get('origin', '?')}"),
                "licence": meta.get("licence", "the user's (imported)"),
                "commercial_use": meta.get("commercial_use"),
                "first_date": first,
                "last_date": last,
                "rows": v["rows"],
                "column_last_dates": meta.get("column_last_dates", {}),
                "sha256": v["sha256"],
                "versions": len(entry["versions"]),
            }
        )
    return rows


@lru_cache(maxsize=len(SHIPPED))
def file_sha256(name: str) -> str:
    """SHA-256 of one shipped dataset's file (what a run records; no parsing).

    Parameters
    ----------
    name : str
        A dataset name of :data:`SHIPPED`.

    Returns
    -------
    str
        The hex digest of the file's bytes.

    Raises
    ------
    InputError
        An unknown dataset name.
    """
    ds = next((d for d in SHIPPED if d.name == name), None)
    if ds is None:
        raise InputError("dataset", name, "one of: " + ", ".join(d.name for d in SHIPPED))
    with open(data_path(ds.file), "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def dataset_of_file(file: str) -> str:
    """The dataset name of a shipped file.

    Parameters
    ----------
    file : str
        A file name in the package's data folder.

    Returns
    -------
    str
        Its dataset name.
    """
    return next(d.name for d in SHIPPED if d.file == file)


def shipped_last_day(kind: str) -> dt.date:
    """The last day any shipped dataset of ``kind`` covers (``btc_daily``: the price's end).

    Parameters
    ----------
    kind : str
        A dataset kind (``btc_daily``, ``fx``, ``hourly_prices``).

    Returns
    -------
    datetime.date
        The latest ``last_date`` of the shipped datasets of that kind.
    """
    days = [_describe(d.name)["last_date"] for d in SHIPPED if d.kind == kind]
    if not days:
        raise InputError("kind", kind, "a kind of the shipped datasets")
    return dt.date.fromisoformat(max(days))
