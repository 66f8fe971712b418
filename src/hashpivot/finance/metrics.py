"""Financial metrics over Monte Carlo paths, and accumulators that merge across chunks.

Discounting happens here only. Cash flows fall at the end of each plan month and are discounted
with monthly compounding of an annual rate: ``DF_t = (1 + r)^{-(t+1)/12}``.

Accumulators keep what is needed to give the *same* answer whatever the chunking: per-path scalars
(concatenated in path order), integer counts per month (summed), and the series of the first
:data:`FAN_PATHS` paths (for fan charts). Final statistics are computed once, on the merged whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..units import FloatArray

#: Paths whose monthly series feed the fan charts (path index < FAN_PATHS).
FAN_PATHS = 2048
#: Quantiles drawn in fan charts.
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def discount_factors(rate_annual: float, n_months: int) -> FloatArray:
    """Monthly discount factors ``DF_t = (1 + r)^{-(t+1)/12}``, cash at the end of each month.

    Parameters
    ----------
    rate_annual : float
        Annual discount rate ``r`` [1/year], > −1.
    n_months : int
        Months ``t = 0 .. n_months − 1`` [month].

    Returns
    -------
    ndarray
        ``DF[month]`` [-].

    References
    ----------
    Brealey, Myers and Allen, *Principles of Corporate Finance*, ch. 2 (present value, compound
    interest at a sub-annual frequency).
    """
    if not rate_annual > -1:
        raise InputError("discount_rate_annual", rate_annual, "> -1")
    return (1.0 + rate_annual) ** (-(np.arange(n_months) + 1) / 12.0)


def npv(
    cash_usd: FloatArray, discount: FloatArray, terminal_usd: FloatArray | float = 0.0
) -> FloatArray:
    """Net present value of monthly cash flows: ``Σ_t CF_t · DF_t + TV · DF_{T−1}``.

    Parameters
    ----------
    cash_usd : ndarray
        Cash flows ``[path, month]`` [USD], at the end of each month.
    discount : ndarray
        Factors ``[month]`` [-] from :func:`discount_factors`.
    terminal_usd : float or ndarray, default 0
        Value at the horizon ``[path]`` [USD], discounted as the last month.

    Returns
    -------
    ndarray
        NPV ``[path]`` [USD].
    """
    return cash_usd @ discount + terminal_usd * discount[-1]


def irr_monthly_to_annual(cash_usd: FloatArray, tol: float = 1e-10) -> float:
    """Annual IRR of one monthly cash-flow vector, by bisection: the ``r`` with
    ``Σ_t CF_t (1 + r)^{-(t+1)/12} = 0``. The scalar oracle :func:`irr_annual_paths` is tested
    against.

    Parameters
    ----------
    cash_usd : ndarray
        Cash flows ``[month]`` [USD].
    tol : float, default 1e-10
        Stop when the NPV or the bracket is this small [USD, 1/year].

    Returns
    -------
    float
        IRR [1/year]; NaN when the NPV has no sign change on ``[−0.99, 10]``.
    """
    cf = np.asarray(cash_usd, dtype=np.float64)

    def f(r: float) -> float:
        return float(cf @ (1 + r) ** (-(np.arange(cf.size) + 1) / 12))

    lo, hi = -0.99, 10.0
    flo, fhi = f(lo), f(hi)
    if np.sign(flo) == np.sign(fhi):
        return float("nan")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if abs(fm) < tol or hi - lo < tol:
            return mid
        if np.sign(fm) == np.sign(flo):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi)


def summary(values: FloatArray) -> dict[str, float]:
    """Statistics of a value over paths: mean, P5/P50/P95, the standard error of the mean and
    CVaR 5% (the mean of the worst 5%, expected shortfall).

    Parameters
    ----------
    values : ndarray
        One value per path [its unit, e.g. USD]; finite, at least one.

    Returns
    -------
    dict
        ``mean``, ``p5``, ``p50``, ``p95``, ``stderr``, ``cvar5`` [the values' unit].

    References
    ----------
    Acerbi and Tasche (2002), "On the coherence of expected shortfall", J. Banking & Finance 26.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise InputError("values", v.size, "a non-empty array of finite numbers")
    p5, p50, p95 = np.percentile(v, [5, 50, 95])
    tail = v[v <= p5]
    return {
        "mean": float(v.mean()),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "stderr": float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0,
        "cvar5": float(tail.mean()) if tail.size else float(p5),
    }


def fan(series: FloatArray) -> dict[str, list[float]]:
    """Fan chart bands: per-month quantiles (:data:`FAN_QUANTILES`, NumPy's default linear
    interpolation) and the mean; one sort of contiguous month rows serves every quantile.

    Parameters
    ----------
    series : ndarray
        ``[path, month]`` [the series' unit].

    Returns
    -------
    dict
        ``p5``, ``p25``, ``p50``, ``p75``, ``p95``, ``mean``: each a list by month.
    """
    rows = np.sort(np.ascontiguousarray(series.T), axis=1)
    n = rows.shape[1]
    out = {}
    for p in FAN_QUANTILES:
        pos = p * (n - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        w = pos - lo
        out[f"p{round(p * 100)}"] = ((1 - w) * rows[:, lo] + w * rows[:, hi]).tolist()
    out["mean"] = series.mean(axis=0).tolist()
    return out


@dataclass
class PathAccumulator:
    """Merge chunk results keyed by their first path index, then finalise once."""

    n_months: int
    scalars: dict[str, list[tuple[int, FloatArray]]] = field(default_factory=dict)
    counts: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    fans: dict[str, list[tuple[int, FloatArray]]] = field(default_factory=dict)

    def add_scalars(self, name: str, first_path: int, values: FloatArray) -> None:
        """Per-path values (last axis = paths) of the chunk starting at ``first_path``."""
        self.scalars.setdefault(name, []).append((first_path, np.asarray(values)))

    def add_count(self, name: str, counts: npt.NDArray[np.int64]) -> None:
        """Add a chunk's counts (by month) under ``name``."""
        self.counts[name] = self.counts.get(name, 0) + np.asarray(counts, dtype=np.int64)

    def add_fan(self, name: str, first_path: int, series: FloatArray) -> None:
        """Keep the rows of ``series`` whose global path index is below :data:`FAN_PATHS`."""
        keep = max(0, min(series.shape[0], FAN_PATHS - first_path))
        if keep:
            self.fans.setdefault(name, []).append((first_path, np.array(series[:keep])))

    def merge(self, other: PathAccumulator) -> None:
        """Fold another accumulator (of other paths of the same run) into this one.

        Per-path values and fan rows keep their first path index and are put in path order when
        read; counts are whole numbers, so their sums are exact. Merging the chunks of a run in
        any order, or in any grouping, gives the same accumulator as folding them one by one.

        Parameters
        ----------
        other : PathAccumulator
            Of disjoint paths and the same ``n_months``.

        Raises
        ------
        InputError
            ``other`` has another number of months, or a path index this one already holds.
        """
        if other.n_months != self.n_months:
            raise InputError("n_months", other.n_months, f"{self.n_months}, as this accumulator")
        for name, parts in other.scalars.items():
            mine = self.scalars.setdefault(name, [])
            taken = {first for first, _ in mine}
            if any(first in taken for first, _ in parts):
                raise InputError("first_path", name, "paths not already merged (disjoint chunks)")
            mine.extend(parts)
        for name, counts in other.counts.items():
            self.add_count(name, counts)
        for name, parts in other.fans.items():
            self.fans.setdefault(name, []).extend(parts)

    def values(self, name: str) -> FloatArray:
        """The per-path values of ``name`` merged in path order."""
        parts = sorted(self.scalars[name], key=lambda p: p[0])
        return np.concatenate([p[1] for p in parts], axis=-1)

    def fan_series(self, name: str) -> FloatArray:
        """The fan rows of ``name`` merged in path order ``[path, month]``."""
        parts = sorted(self.fans[name], key=lambda p: p[0])
        return np.concatenate([p[1] for p in parts], axis=0)


def irr_annual_paths(cash_usd: FloatArray, iterations: int = 80) -> FloatArray:
    """Annual IRR of each row of monthly cash flows, by vectorised bisection.

    Same convention as :func:`irr_monthly_to_annual` (month ``t`` discounted by
    ``(1 + r) ** -((t + 1) / 12)``).

    Parameters
    ----------
    cash_usd : ndarray
        Cash flows ``[path, month]`` [USD].
    iterations : int, default 80
        Halvings of the bracket ``[−0.99, 10]`` (width ``11 / 2**80`` after 80) [-].

    Returns
    -------
    ndarray
        IRR ``[path]`` [1/year]; NaN where the NPV has no sign change on the bracket.
    """
    cf = np.atleast_2d(np.asarray(cash_usd, dtype=np.float64))
    t = (np.arange(cf.shape[1]) + 1) / 12.0

    def f(r: FloatArray) -> FloatArray:
        return np.einsum("pm,pm->p", cf, (1.0 + r[:, None]) ** -t[None, :])

    lo = np.full(cf.shape[0], -0.99)
    hi = np.full(cf.shape[0], 10.0)
    flo, fhi = f(lo), f(hi)
    ok = np.sign(flo) != np.sign(fhi)
    for _ in range(iterations):  # a fixed number of halvings: width 11 / 2**80
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        same = np.sign(fm) == np.sign(flo)
        lo = np.where(same, mid, lo)
        flo = np.where(same, fm, flo)
        hi = np.where(same, hi, mid)
    return np.where(ok, 0.5 * (lo + hi), np.nan)
