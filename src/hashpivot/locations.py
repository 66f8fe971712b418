"""Where hashpivot keeps its files by default, and the files kept beside others: one home for
the rules, so the CLI, the API and the library agree (``hashpivot plan`` logs to the same ledger
that ``hashpivot ledger`` and ``hashpivot runs verify`` read)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path


def data_path(name: str) -> str:
    """Filesystem path of a data file shipped inside the package (``hashpivot/data/``).

    Parameters
    ----------
    name : str
        The file's name (``btc_daily.csv``).

    Returns
    -------
    str
        Its absolute path.
    """
    return str(resources.files("hashpivot").joinpath("data", name))


#: The shipped daily network files, oldest first: each continues the one before from the next day.
DAILY_FILES = ("btc_daily.csv", "btc_daily_2025_2026.csv")


#: The run store, in the working directory.
DEFAULT_DB = "hashpivot.duckdb"


def default_ledger_path(db: str | Path) -> Path:
    """The audit ledger kept beside a run store: ``<db>.ledger.sqlite``.

    Parameters
    ----------
    db : str or pathlib.Path
        The run store's file.

    Returns
    -------
    pathlib.Path
        The ledger's file.
    """
    p = Path(db)
    return p.with_name(p.name + ".ledger.sqlite")


def key_path(ledger_path: str | Path) -> Path:
    """A ledger's Ed25519 signing key, beside it: ``<ledger>.key``.

    Parameters
    ----------
    ledger_path : str or pathlib.Path
        The ledger's file.

    Returns
    -------
    pathlib.Path
        The key's file.
    """
    p = Path(ledger_path)
    return p.with_name(p.name + ".key")


#: The ledger ``hashpivot ledger …`` works on by default: the one ``hashpivot plan`` writes.
DEFAULT_LEDGER = default_ledger_path(DEFAULT_DB)


def safe_name(text: str, limit: int = 80) -> str:
    """A user-given name (a campaign, a site, a price file) as one file-name component.

    Letters, digits, ``.``, ``_`` and ``-`` only, no leading dot, at most ``limit`` characters —
    so a name like ``../../etc/x`` or ``/tmp/y`` cannot place a file outside the output folder.

    Parameters
    ----------
    text : str
        The name.
    limit : int
        Longest result [character].

    Returns
    -------
    str
        The safe component (never empty).
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip(".")[:limit]
    return name or "unnamed"
