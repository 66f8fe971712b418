"""Scoring forecast fans against what happened: the pure functions under ``hashpivot backtest``.

A *fan* is an ensemble of simulated values of one quantity at one horizon, ``[..., member]``; the
outcome is the realised value, ``[...]``. Every score here is vectorised over the leading axes
(origins, horizons) and works on whatever scale it is given (the backtest passes logs).

* :func:`band_coverage` — whether the outcome lies inside the central ``level`` band of the fan,
  and below or above it;
* :func:`pit` — the probability integral transform, the fan's share below the outcome (ties
  count half), uniform on [0, 1] for a calibrated fan; :func:`pit_deciles` its histogram;
* :func:`crps_ensemble` — the continuous ranked probability score of the ensemble, ``E|X − y| −
  ½ E|X − X′|`` [1]_, exact for the empirical distribution, in O(m log m) per fan;
* :func:`spread_skill` — RMSE of the fan median's error over the mean fan sd (1 when the spread
  is honest);
* :func:`independent_windows` and :func:`block_bootstrap_interval` — how many non-overlapping
  windows a figure rests on, and a circular block bootstrap interval for a coverage rate [2]_;
* :func:`random_walk_fan` and :func:`flat_fan` — the two naive baselines every model must beat.

References
----------
.. [1] Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
   estimation. *JASA* 102(477), 359–378 (eq. 20 and the ensemble form).
.. [2] Politis, D. N. & Romano, J. P. (1992). A circular block-resampling procedure for
   stationary data. In *Exploring the Limits of Bootstrap*, Wiley, 263–270; after Künsch, H. R.
   (1989), *Annals of Statistics* 17(3), 1217–1241.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..units import FloatArray


@dataclass(frozen=True)
class Coverage:
    """Where outcomes fell against a central band: boolean arrays of the outcomes' shape."""

    inside: npt.NDArray[np.bool_]
    below: npt.NDArray[np.bool_]
    above: npt.NDArray[np.bool_]


def _check(fan: FloatArray, outcome: FloatArray) -> tuple[FloatArray, FloatArray]:
    f = np.asarray(fan, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    if f.ndim < 1 or f.shape[-1] < 2:
        raise InputError("fan", f.shape, "an ensemble with at least 2 members on the last axis")
    if f.shape[:-1] != y.shape:
        raise InputError("outcome", y.shape, f"the fan's leading shape {f.shape[:-1]}")
    return f, y


def band_coverage(fan: FloatArray, outcome: FloatArray, level: float) -> Coverage:
    """Whether each outcome lies inside the fan's central ``level`` band.

    Parameters
    ----------
    fan : numpy.ndarray of float
        Ensembles ``[..., member]``.
    outcome : numpy.ndarray of float
        Realised values ``[...]``.
    level : float
        Central probability of the band [-] (0.9: from the 5th to the 95th percentile).

    Returns
    -------
    Coverage
        ``inside``, ``below`` and ``above``, each of the outcomes' shape.
    """
    if not 0 < level < 1:
        raise InputError("level", level, "a probability strictly between 0 and 1")
    f, y = _check(fan, outcome)
    lo, hi = np.quantile(f, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    below, above = y < lo, y > hi
    return Coverage(~(below | above), below, above)


def pit(fan: FloatArray, outcome: FloatArray) -> FloatArray:
    """Probability integral transform: the fan's share below each outcome, ties counting half.

    Parameters
    ----------
    fan : numpy.ndarray of float
        Ensembles ``[..., member]``.
    outcome : numpy.ndarray of float
        Realised values ``[...]``.

    Returns
    -------
    numpy.ndarray of float
        PIT values in [0, 1] [-], of the outcomes' shape.
    """
    f, y = _check(fan, outcome)
    yy = y[..., None]
    return ((f < yy).sum(axis=-1) + 0.5 * (f == yy).sum(axis=-1)) / f.shape[-1]


def pit_deciles(pits: FloatArray) -> FloatArray:
    """Share of PIT values in each tenth of [0, 1] (0.1 each for a calibrated fan).

    Parameters
    ----------
    pits : numpy.ndarray of float
        PIT values [-].

    Returns
    -------
    numpy.ndarray of float
        Ten shares [-] summing to 1.
    """
    p = np.asarray(pits, dtype=np.float64).ravel()
    if p.size == 0:
        raise InputError("pits", "empty", "at least one PIT value")
    counts = np.histogram(np.clip(p, 0.0, 1.0), bins=10, range=(0.0, 1.0))[0]
    return counts / p.size


def crps_ensemble(fan: FloatArray, outcome: FloatArray) -> FloatArray:
    """CRPS of the empirical distribution of each ensemble: ``E|X − y| − ½ E|X − X′|``.

    Computed from the sorted members as ``(2/m²) Σᵢ (x₍ᵢ₎ − y)(m·1{y < x₍ᵢ₎} − i + ½)``, the
    same value in O(m log m).

    Parameters
    ----------
    fan : numpy.ndarray of float
        Ensembles ``[..., member]``.
    outcome : numpy.ndarray of float
        Realised values ``[...]``.

    Returns
    -------
    numpy.ndarray of float
        CRPS in the fan's units, of the outcomes' shape (0 is perfect).
    """
    f, y = _check(fan, outcome)
    x = np.sort(f, axis=-1)
    m = x.shape[-1]
    i = np.arange(1, m + 1, dtype=np.float64)
    yy = y[..., None]
    weight = m * (yy < x) - i + 0.5
    return 2.0 / m**2 * ((x - yy) * weight).sum(axis=-1)


def spread_skill(fan: FloatArray, outcome: FloatArray) -> float:
    """RMSE of the fan medians' errors divided by the mean fan standard deviation.

    Parameters
    ----------
    fan : numpy.ndarray of float
        Ensembles ``[..., member]`` (one score over all leading positions).
    outcome : numpy.ndarray of float
        Realised values ``[...]``.

    Returns
    -------
    float
        The ratio [-]: above 1, the fans are too narrow; below 1, too wide.
    """
    f, y = _check(fan, outcome)
    err = np.median(f, axis=-1) - y
    sd = f.std(axis=-1, ddof=1)
    return float(np.sqrt(np.mean(err**2)) / np.mean(sd))


def independent_windows(n_origins: int, step_months: int, horizon_months: int) -> int:
    """How many non-overlapping ``horizon``-month windows ``n_origins`` origins ``step`` months
    apart contain: what a score at that horizon rests on.

    Parameters
    ----------
    n_origins : int
        Origins scored [-].
    step_months : int
        Months between origins [month].
    horizon_months : int
        The horizon [month].

    Returns
    -------
    int
        The number of independent windows [-] (at least 1 when there is an origin).
    """
    if n_origins <= 0:
        return 0
    span = (n_origins - 1) * step_months
    return span // horizon_months + 1


def block_bootstrap_interval(
    hits: npt.ArrayLike,
    block: int,
    *,
    level: float = 0.9,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Circular block bootstrap interval of a rate over a time-ordered series of hits.

    Blocks of ``block`` consecutive origins are drawn with starts anywhere in the series and
    wrap around its end (Politis & Romano 1992), so every origin is drawn equally often: a
    moving-block bootstrap, whose blocks cannot start near the end, under-draws the first and
    last origins and can give an interval that misses the rate itself when the misses sit there.

    Parameters
    ----------
    hits : array_like of bool or float
        One value per origin, in time order (1 = the outcome was inside the band).
    block : int
        Block length [origin] (the horizon over the step: overlapping outcomes move together).
    level : float
        Central probability of the interval [-].
    n_boot : int
        Bootstrap resamples [-].
    seed : int
        Seed of the resampling [-].

    Returns
    -------
    tuple of float
        Lower and upper end of the interval [-].
    """
    h = np.asarray(hits, dtype=np.float64).ravel()
    n = h.size
    if n == 0:
        raise InputError("hits", "empty", "at least one origin")
    b = int(min(max(block, 1), n))
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // b)
    starts = rng.integers(0, n, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_boot, -1)[:, :n] % n
    rates = h[idx].mean(axis=1)
    lo, hi = np.quantile(rates, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def random_walk_fan(
    log_history: FloatArray,
    horizon_months: int,
    n_members: int,
    rng: np.random.Generator,
    vol_window_months: int = 24,
) -> FloatArray:
    """Baseline 1: a log random walk from the last value with the trailing monthly volatility.

    Parameters
    ----------
    log_history : numpy.ndarray of float
        Monthly log values up to the origin [-], oldest first.
    horizon_months : int
        The horizon [month].
    n_members : int
        Ensemble size [-].
    rng : numpy.random.Generator
        Random numbers.
    vol_window_months : int
        Months of changes the volatility is estimated on [month].

    Returns
    -------
    numpy.ndarray of float
        The fan [n_members] of log values at the horizon.
    """
    x = np.asarray(log_history, dtype=np.float64)
    d = np.diff(x)[-vol_window_months:]
    if d.size < 2:
        raise InputError("log_history", x.size, "at least 3 months before the origin")
    sigma = d.std(ddof=1)
    return x[-1] + sigma * np.sqrt(horizon_months) * rng.standard_normal(n_members)


def flat_fan(log_history: FloatArray, horizon_months: int) -> FloatArray:
    """Baseline 2: today's value with the historical dispersion of ``horizon``-month changes,
    re-centred on zero (a flat forecast).

    Parameters
    ----------
    log_history : numpy.ndarray of float
        Monthly log values up to the origin [-], oldest first.
    horizon_months : int
        The horizon [month].

    Returns
    -------
    numpy.ndarray of float
        The fan of log values at the horizon, one member per past ``horizon``-month change.
    """
    x = np.asarray(log_history, dtype=np.float64)
    changes = x[horizon_months:] - x[:-horizon_months]
    if changes.size < 2:
        raise InputError(
            "log_history", x.size, f"more than {horizon_months + 1} months before the origin"
        )
    return x[-1] + changes - changes.mean()
