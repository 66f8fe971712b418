"""The local data store: a user's imports and fetched updates, layered over the shipped data.

A folder (the user data directory from ``platformdirs``, or ``--data-dir`` /
``HASHPIVOT_DATA_DIR``) holding one Parquet file per version of each dataset, named by its content
hash, and ``catalog.json`` naming each dataset's current version::

    <data dir>/catalog.json
    <data dir>/datasets/<dataset>/<sha256>.parquet

The content hash is the SHA-256 of the dataset's canonical bytes (:func:`canonical_bytes`:
sorted times and float64 columns), so it does not depend on the Parquet library's version. A
version's file is written and renamed into place before the catalog is replaced (each step
atomic), so an interrupted import or update leaves the catalog pointing at the previous version;
a stray file of an unfinished write is never read. Earlier versions stay on disk, so a run that
recorded a hash can be reproduced.

Datasets: ``user:NAME`` (hourly prices, kind ``hourly_prices``), ``btc_daily`` (daily network
rows: extends the shipped table past its end) and ``fx:CUR`` (daily units of CUR per USD: extends
the shipped fixings).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..files import atomic_file, write_atomic

#: The environment variable that moves the store (the CLI's ``--data-dir`` sets it).
DATA_DIR_ENV = "HASHPIVOT_DATA_DIR"

#: What a dataset can hold.
KINDS = ("hourly_prices", "btc_daily", "fx")

#: Dataset names: ``user:NAME``, ``btc_daily`` or ``fx:CUR``.
NAME_PATTERN = r"^(user:[A-Za-z0-9][A-Za-z0-9._-]{0,63}|btc_daily|fx:[A-Z]{3})$"

if TYPE_CHECKING:  # pandas loads only when a dataset is read or written: `hashpivot network`
    import pandas as pd  # (a warm cache) and `--help` stay fast

CATALOG = "catalog.json"
FORMAT = 1


def data_dir() -> Path:
    """The store's folder: ``HASHPIVOT_DATA_DIR`` if set, else the user data directory.

    Returns
    -------
    pathlib.Path
        The folder (not created here).
    """
    pinned = os.environ.get(DATA_DIR_ENV, "").strip()
    if pinned:
        return Path(pinned).expanduser()
    import platformdirs  # light, but only the store needs it

    return Path(platformdirs.user_data_dir("hashpivot", appauthor=False))


def check_name(name: str, field: str = "dataset") -> str:
    """``name`` if it is a valid store dataset name, else a named error.

    Parameters
    ----------
    name : str
        ``user:NAME``, ``btc_daily`` or ``fx:CUR``.
    field : str
        The field named in the error.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    InputError
        A name outside :data:`NAME_PATTERN`.
    """
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise InputError(
            field,
            name,
            "user:NAME (letters, digits, '.', '_', '-'; at most 64), btc_daily, or fx:CUR",
        )
    return name


def read_catalog(root: Path | None = None) -> dict[str, Any]:
    """The store's catalog (empty when there is no store yet).

    Parameters
    ----------
    root : pathlib.Path or None
        The store's folder (``None``: :func:`data_dir`).

    Returns
    -------
    dict
        ``{"format": 1, "datasets": {name: {"kind", "current", "versions": [...]}}}``.

    Raises
    ------
    InputError
        A catalog that is not this format's JSON.
    """
    path = (root or data_dir()) / CATALOG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"format": FORMAT, "datasets": {}}
    except OSError as exc:
        raise InputError("data dir", str(path), f"a readable catalog ({exc.strerror})") from None
    try:
        cat = json.loads(text)
    except json.JSONDecodeError:
        raise InputError("data dir", str(path), "a catalog.json written by hashpivot") from None
    if not isinstance(cat, dict) or cat.get("format") != FORMAT:
        raise InputError("data dir", str(path), f"a catalog of format {FORMAT}")
    return cat


def canonical_bytes(frame: pd.DataFrame) -> bytes:
    """The canonical bytes of a dataset frame: what its content hash is taken over.

    A format tag, the column names, the times (sorted; int64 nanoseconds since 1970 UTC, little
    endian) and each column as little-endian float64 with one NaN pattern — independent of the
    Parquet or pandas version that wrote or read it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The dataset, indexed by time, numeric columns.

    Returns
    -------
    bytes
        The canonical bytes.
    """
    import numpy as np
    import pandas as pd

    f = frame.sort_index()
    idx = pd.DatetimeIndex(f.index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    parts = [b"hashpivot-dataset-v1\n", "\x1f".join(map(str, f.columns)).encode() + b"\n"]
    parts.append(idx.as_unit("ns").asi8.astype("<i8").tobytes())
    for col in f.columns:
        values = f[col].to_numpy(dtype="<f8", copy=True)
        values[np.isnan(values)] = np.nan
        parts.append(values.tobytes())
    return b"".join(parts)


def _dataset_dir(root: Path, name: str) -> Path:
    return root / "datasets" / name.replace(":", "+")


def put(
    name: str,
    kind: str,
    frame: pd.DataFrame,
    meta: dict[str, Any],
    root: Path | None = None,
) -> dict[str, Any]:
    """Store a new version of a dataset and make it current (atomically).

    Parameters
    ----------
    name : str
        The dataset name (:func:`check_name`).
    kind : str
        One of :data:`KINDS`.
    frame : pandas.DataFrame
        The rows, indexed by time (UTC hours, or days).
    meta : dict
        What the version needs to be read back and described (origin, time zone, currency, …).
    root : pathlib.Path or None
        The store's folder (``None``: :func:`data_dir`).

    Returns
    -------
    dict
        The version's entry: ``sha256``, ``rows``, ``first``, ``last``, ``stored_at`` and
        ``meta``.
    """
    check_name(name)
    if kind not in KINDS:
        raise InputError("kind", kind, "one of " + ", ".join(KINDS))
    root = root or data_dir()
    raw = canonical_bytes(frame)
    sha = hashlib.sha256(raw).hexdigest()
    target = _dataset_dir(root, name) / f"{sha}.parquet"
    if not target.exists():
        with atomic_file(target, suffix=".parquet") as tmp:
            frame.sort_index().to_parquet(tmp)
    idx = frame.index
    version = {
        "sha256": sha,
        "rows": len(frame),
        "first": None if not len(idx) else str(idx.min()),
        "last": None if not len(idx) else str(idx.max()),
        "stored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "meta": meta,
    }
    cat = read_catalog(root)
    entry = cat["datasets"].setdefault(name, {"kind": kind, "current": None, "versions": []})
    if entry["kind"] != kind:
        raise InputError("kind", kind, f"{entry['kind']} (what {name} already holds)")
    entry["versions"] = [v for v in entry["versions"] if v["sha256"] != sha] + [version]
    entry["current"] = sha
    write_atomic(root / CATALOG, json.dumps(cat, indent=1, sort_keys=True) + "\n")
    return version


def current(name: str, root: Path | None = None) -> dict[str, Any] | None:
    """The current version's entry of a dataset, or ``None`` when the store lacks it.

    Parameters
    ----------
    name : str
        The dataset name.
    root : pathlib.Path or None
        The store's folder (``None``: :func:`data_dir`).

    Returns
    -------
    dict or None
        The entry of :func:`put` plus ``kind`` and ``path``.
    """
    root = root or data_dir()
    entry = read_catalog(root)["datasets"].get(name)
    if not entry or entry["current"] is None:
        return None
    v = next(x for x in entry["versions"] if x["sha256"] == entry["current"])
    path = _dataset_dir(root, name) / f"{v['sha256']}.parquet"
    return v | {"kind": entry["kind"], "path": str(path)}


def load(name: str, root: Path | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The current version of a dataset and its entry.

    Parameters
    ----------
    name : str
        The dataset name.
    root : pathlib.Path or None
        The store's folder (``None``: :func:`data_dir`).

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The rows and the entry of :func:`current`.

    Raises
    ------
    InputError
        A dataset the store does not hold, naming those it does.
    """
    import pandas as pd

    v = current(name, root)
    if v is None:
        held = ", ".join(sorted(read_catalog(root)["datasets"])) or "none yet"
        raise InputError(
            "dataset",
            name,
            f"a dataset of the local store at {root or data_dir()} (it holds: {held}; "
            "add one with hashpivot data import)",
        )
    return pd.read_parquet(v["path"]), v


def names(kind: str | None = None, root: Path | None = None) -> list[str]:
    """The datasets the store holds, optionally of one kind.

    Parameters
    ----------
    kind : str or None
        One of :data:`KINDS`, or ``None`` for all.
    root : pathlib.Path or None
        The store's folder (``None``: :func:`data_dir`).

    Returns
    -------
    list of str
        Dataset names, sorted.
    """
    ds = read_catalog(root)["datasets"]
    return sorted(n for n, e in ds.items() if kind is None or e["kind"] == kind)


def current_sha256(name: str) -> str | None:
    """The content hash of a dataset's current version (``None``: the store lacks it).

    Parameters
    ----------
    name : str
        The dataset name.

    Returns
    -------
    str or None
        The SHA-256.
    """
    v = current(name)
    return None if v is None else str(v["sha256"])
