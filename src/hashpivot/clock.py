"""Today's date, the one place hashpivot reads the clock for dates.

Outputs say how old their data are against today ("data end 2026-01-31, 10 months before
today"). ``HASHPIVOT_TODAY=YYYY-MM-DD`` pins today, so that recorded outputs (the README's) and
tests are reproducible; the value is checked like any other input.
"""

from __future__ import annotations

import datetime as dt
import os

from .errors import InputError

#: Environment variable that pins today's date (``YYYY-MM-DD``).
TODAY_ENV = "HASHPIVOT_TODAY"


def today() -> dt.date:
    """Today's date in UTC, or the date ``HASHPIVOT_TODAY`` pins.

    Returns
    -------
    datetime.date
        The date.

    Raises
    ------
    InputError
        ``HASHPIVOT_TODAY`` is set but is not a date as ``YYYY-MM-DD``.
    """
    pinned = os.environ.get(TODAY_ENV, "").strip()
    if not pinned:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(pinned)
    except ValueError:
        raise InputError(TODAY_ENV, pinned, "a date as YYYY-MM-DD") from None


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (0 within the same month's length).

    Parameters
    ----------
    earlier : datetime.date
        The first date.
    later : datetime.date
        The second date.

    Returns
    -------
    int
        Completed months [month]; negative when ``later`` is before ``earlier``.
    """
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return months


def data_age_note(data_end: dt.date, today_: dt.date | None = None) -> str | None:
    """``"data end 2026-01-31, 10 months before today (2026-12-02)"``, or ``None`` if current.

    Parameters
    ----------
    data_end : datetime.date
        The last day of the data a result stands on.
    today_ : datetime.date or None
        Today; ``None`` reads :func:`today`.

    Returns
    -------
    str or None
        The note when the data end at least one whole month before today.
    """
    now = today() if today_ is None else today_
    months = months_between(data_end, now)
    if months < 1:
        return None
    unit = "month" if months == 1 else "months"
    return f"data end {data_end.isoformat()}, {months} {unit} before today ({now.isoformat()})"
