"""Presentation helpers shared by the CLI, the reports and the web API."""

from __future__ import annotations

import math
from typing import Any


def usd_compact(x: float) -> str:
    """Compact money for tables and charts: $146.1M, -$1.2B, $950.

    Parameters
    ----------
    x : float
        An amount [USD].

    Returns
    -------
    str
        The amount with a k, M or B suffix (none below $1,000).
    """
    sign, a = ("-" if x < 0 else ""), abs(x)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= scale:
            return f"{sign}${a / scale:,.1f}{unit}"
    return f"{sign}${a:,.0f}"


def jsonable(obj: Any) -> Any:
    """JSON-safe: NaN and inf become null, numpy scalars plain numbers, keys strings.

    Parameters
    ----------
    obj : Any
        Nested dicts, lists, tuples, numpy arrays and scalars.

    Returns
    -------
    Any
        The same structure in plain Python types.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):  # numpy scalars
        return jsonable(obj.item())
    return obj
