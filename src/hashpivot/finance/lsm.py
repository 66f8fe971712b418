"""When to convert: least-squares Monte Carlo (Longstaff–Schwartz) over the plan's paths.

A generic engine for optimal stopping with running cash flows. At each decision step ``t`` a holder
either *stops*, receiving ``exercise[:, t]`` (the value at ``t`` of converting then), or
*continues*, receiving ``running[:, t]`` at the end of the step and the decision again at ``t+1``.
Working backwards, the realised value of continuing,
``Y_t = d_t · (running_t + V_{t+1})``, is regressed on a basis of the state at ``t``. A path stops
where its exercise value beats the fitted continuation value. Along each path the realised value,
never the fitted one, is carried back. The policy, i.e. the regression coefficients of each step,
can be estimated on one set of paths and applied to another. Plans do that, so the result does not
depend on chunking.

References
----------
.. [1] Longstaff, F. A. & Schwartz, E. S. (2001). Valuing American options by simulation: a simple
   least-squares approach. *Review of Financial Studies* 14(1), 113–147. Table 1: S=36, K=40,
   r=6%, σ=20%, T=1, 50 exercise dates a year → 4.472.
.. [2] Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*, §8.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..units import FloatArray


def laguerre_basis(x: FloatArray, degree: int = 3) -> FloatArray:
    """Weighted Laguerre polynomials ``e^{-x/2} L_k(x)``, k = 0..degree (columns), as in [1].

    Parameters
    ----------
    x : numpy.ndarray of float
        One state per path [-] (in [1], the moneyness S/K).
    degree : int
        Highest polynomial degree [-].

    Returns
    -------
    numpy.ndarray of float
        Design columns ``[n, degree + 1]`` [-].

    References
    ----------
    .. [1] F. A. Longstaff and E. S. Schwartz, "Valuing American options by simulation: a simple
       least-squares approach", *Rev. Financ. Stud.* 14(1), 113–147 (2001).
    """
    w = np.exp(-x / 2)
    cols = [w, w * (1 - x), w * (1 - 2 * x + x**2 / 2), w * (1 - 3 * x + 1.5 * x**2 - x**3 / 6)]
    if degree > 3:
        raise InputError("degree", degree, "0..3 for the Laguerre basis")
    return np.column_stack(cols[: degree + 1])


def polynomial_basis(states: FloatArray, degree: int = 2) -> FloatArray:
    """Constant, linear, squares and pairwise products of the (standardised) state variables.

    Parameters
    ----------
    states : numpy.ndarray of float
        Standardised states ``[k, n]`` [-].
    degree : int
        Degree of the basis (1–3) [-].

    Returns
    -------
    numpy.ndarray of float
        Design matrix ``[n, p]`` [-].
    """
    s = np.atleast_2d(states)
    cols = [np.ones(s.shape[1])]
    cols += list(s)
    if degree >= 2:
        k = s.shape[0]
        for i in range(k):
            for j in range(i, k):
                cols.append(s[i] * s[j])
    if degree >= 3:
        cols += [v**3 for v in s]
    return np.column_stack(cols)


@dataclass(frozen=True)
class LsmPolicy:
    """Regression coefficients of each decision step (None where no regression was possible: the
    holder continues) and the standardisation used for the states."""

    coefficients: list[FloatArray | None]
    center: FloatArray  # [step, k]
    scale: FloatArray  # [step, k]
    degree: int
    basis: str = "polynomial"

    def design(self, x: FloatArray) -> FloatArray:
        """Design matrix of states ``x[k, n]`` in the policy's basis."""
        return make_basis(x, self.basis, self.degree)


@dataclass(frozen=True)
class LsmResult:
    """Value per path (at step 0), the step each path stops at (``n_steps`` = never) and the
    policy."""

    value: FloatArray
    stop_step: npt.NDArray[np.int64]
    policy: LsmPolicy

    @property
    def mean(self) -> float:
        """Mean value over the paths [USD]."""
        return float(self.value.mean())


def make_basis(x: FloatArray, basis: str, degree: int) -> FloatArray:
    """Design matrix ``[n, p]`` of states ``x[k, n]``.

    'polynomial' (of standardised states) or 'laguerre' (one raw state: a constant and weighted
    Laguerre polynomials, as in [1]).

    Parameters
    ----------
    x : numpy.ndarray of float
        States ``[k, n]`` [-].
    basis : str
        ``"polynomial"`` or ``"laguerre"``.
    degree : int
        Degree of the basis [-].

    Returns
    -------
    numpy.ndarray of float
        Design matrix ``[n, p]`` [-].

    Raises
    ------
    InputError
        An unknown basis, or a Laguerre basis of more than one state.

    References
    ----------
    .. [1] F. A. Longstaff and E. S. Schwartz, "Valuing American options by simulation: a simple
       least-squares approach", *Rev. Financ. Stud.* 14(1), 113–147 (2001).
    """
    if basis == "polynomial":
        return polynomial_basis(x, degree)
    if basis == "laguerre":
        if x.shape[0] != 1:
            raise InputError("basis", basis, "one state variable for the Laguerre basis")
        return np.column_stack([np.ones(x.shape[1]), laguerre_basis(x[0], degree)])
    raise InputError("basis", basis, "polynomial or laguerre")


def _design_into(out: FloatArray, x: FloatArray, degree: int) -> FloatArray:
    """Fill ``out[n, p]`` with the polynomial basis of ``x[k, n]`` (same columns as
    :func:`polynomial_basis`) without temporaries."""
    k = x.shape[0]
    out[:, 0] = 1.0
    col = 1
    for i in range(k):
        out[:, col] = x[i]
        col += 1
    if degree >= 2:
        for i in range(k):
            for j in range(i, k):
                np.multiply(x[i], x[j], out=out[:, col])
                col += 1
    if degree >= 3:
        for i in range(k):
            np.power(x[i], 3, out=out[:, col])
            col += 1
    return out


def _regress(design: FloatArray, y: FloatArray) -> FloatArray:
    """Least squares by the normal equations (Cholesky) on the standardised basis, which is well
    conditioned; falls back to ``lstsq`` (SVD) if the Gram matrix is not."""
    gram = design.T @ design
    rhs = design.T @ y
    try:
        if np.linalg.cond(gram) < 1e10:
            chol = np.linalg.cholesky(gram)
            return np.linalg.solve(chol.T, np.linalg.solve(chol, rhs))
    except np.linalg.LinAlgError:
        pass
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    return np.asarray(solution, dtype=np.float64)


def fit_policy(
    exercise: FloatArray,
    running: FloatArray,
    states: FloatArray,
    discount: FloatArray,
    degree: int = 2,
    itm_only: bool = False,
    basis: str = "polynomial",
) -> LsmResult:
    """Estimate the stopping policy and value by least-squares Monte Carlo.

    Backward induction: at each step the continuation value is regressed on the basis of the
    states, and a path stops where its exercise value beats the fitted continuation; values are
    the realised discounted cash along each path, not the regression's (as in [1]).

    Parameters
    ----------
    exercise : numpy.ndarray of float
        ``[path, step]``: value at the start of step ``t`` of stopping then [USD] (NaN where
        stopping is not allowed).
    running : numpy.ndarray of float
        ``[path, step]``: cash received at the end of step ``t`` when continuing through it
        [USD].
    states : numpy.ndarray of float
        ``[k, path, step]``: state variables of the basis [-] (standardised per step).
    discount : numpy.ndarray of float
        ``[step]``: discount factor over step ``t`` [-].
    degree : int
        Degree of the basis (1–3) [-].
    itm_only : bool
        Regress only on paths whose exercise value is positive, as [1] does for options.
    basis : str
        'polynomial' in the standardised states, or 'laguerre' in one raw state (as [1]).

    Returns
    -------
    LsmResult
        Value per path at step 0 [USD], the stopping step (``n_steps``: never) and the policy.

    Raises
    ------
    InputError
        Shapes that disagree or non-finite running cash or states.

    References
    ----------
    .. [1] F. A. Longstaff and E. S. Schwartz, "Valuing American options by simulation: a simple
       least-squares approach", *Rev. Financ. Stud.* 14(1), 113–147 (2001).
    """
    n, n_steps = exercise.shape
    if running.shape != (n, n_steps) or states.shape[1:] != (n, n_steps):
        raise InputError("states", states.shape, f"arrays of shape [*, {n}, {n_steps}]")
    if not (np.all(np.isfinite(running)) and np.all(np.isfinite(states))):
        raise InputError("running/states", "NaN", "finite numbers")
    k = states.shape[0]
    # Step-major copies, so every step reads contiguous rows.
    ex_t = np.ascontiguousarray(exercise.T)
    run_t = np.ascontiguousarray(running.T)
    st_t = np.ascontiguousarray(np.moveaxis(states, 2, 0))  # [step, k, path]
    p = make_basis(np.zeros((k, 1)), basis, degree).shape[1]
    design = np.empty((n, p))
    value = np.zeros(n)
    stop = np.full(n, n_steps, dtype=np.int64)
    coefs: list[FloatArray | None] = [None] * n_steps
    centers = np.zeros((n_steps, k))
    scales = np.ones((n_steps, k))
    for t in range(n_steps - 1, -1, -1):
        y = discount[t] * (run_t[t] + value)
        ex = ex_t[t]
        allowed = np.isfinite(ex)
        if not allowed.any():  # no decision this step: carry the realised value back
            value = y
            continue
        x = st_t[t]
        if basis == "laguerre":
            design = make_basis(x, basis, degree)
        else:
            centers[t] = x.mean(axis=1)
            sd = x.std(axis=1)
            scales[t] = np.where(sd > 0, sd, 1.0)
            _design_into(design, (x - centers[t][:, None]) / scales[t][:, None], degree)
        fit_rows = allowed & (ex > 0) if itm_only else allowed
        n_fit = int(fit_rows.sum())
        cont = y
        if n_fit > p:
            if n_fit == n:
                beta = _regress(design, y)
            else:
                beta = _regress(design[fit_rows], y[fit_rows])
            coefs[t] = beta
            cont = design @ beta
        elif n_fit:
            cont = np.full(n, y[fit_rows].mean())  # too few paths to regress: use their mean
            coefs[t] = np.r_[y[fit_rows].mean(), np.zeros(p - 1)]
        exercise_now = fit_rows & (ex > cont)
        value = np.where(exercise_now, ex, y)
        stop[exercise_now] = t
    return LsmResult(value, stop, LsmPolicy(coefs, centers, scales, degree, basis))


def apply_policy(
    policy: LsmPolicy,
    exercise: FloatArray,
    running: FloatArray,
    states: FloatArray,
    discount: FloatArray,
    itm_only: bool = False,
) -> LsmResult:
    """Apply a fitted policy to other paths.

    Stop at the first step where the exercise value beats the policy's continuation value; the
    value is the realised discounted cash along the path (an out-of-sample, low-biased estimate).

    Parameters
    ----------
    policy : LsmPolicy
        From :func:`fit_policy`.
    exercise : numpy.ndarray of float
        ``[path, step]``: value of stopping at each step [USD] (NaN: not allowed).
    running : numpy.ndarray of float
        ``[path, step]``: cash of continuing through each step [USD].
    states : numpy.ndarray of float
        ``[k, path, step]``: state variables [-].
    discount : numpy.ndarray of float
        ``[step]``: discount factor over each step [-].
    itm_only : bool
        Consider stopping only where the exercise value is positive.

    Returns
    -------
    LsmResult
        Value per path [USD], stopping step and the policy.

    References
    ----------
    .. [1] F. A. Longstaff and E. S. Schwartz, "Valuing American options by simulation: a simple
       least-squares approach", *Rev. Financ. Stud.* 14(1), 113–147 (2001).
    """
    n, n_steps = exercise.shape
    stop = np.full(n, n_steps, dtype=np.int64)
    undecided = np.ones(n, dtype=bool)
    for t in range(n_steps):
        beta = policy.coefficients[t]
        ex = exercise[:, t]
        allowed = np.isfinite(ex) & undecided
        if itm_only:
            allowed &= ex > 0
        if beta is None or not allowed.any():
            continue
        x = (states[:, :, t] - policy.center[t][:, None]) / policy.scale[t][:, None]
        cont = policy.design(x) @ beta
        now = allowed & (ex > cont)
        stop[now] = t
        undecided &= ~now
    return LsmResult(realised_value(exercise, running, discount, stop), stop, policy)


def realised_value(
    exercise: FloatArray, running: FloatArray, discount: FloatArray, stop: npt.NDArray[np.int64]
) -> FloatArray:
    """Value at step 0 of running until ``stop`` and then stopping.

    Parameters
    ----------
    exercise : numpy.ndarray of float
        ``[path, step]``: value of stopping at each step [USD].
    running : numpy.ndarray of float
        ``[path, step]``: cash of continuing through each step [USD].
    discount : numpy.ndarray of float
        ``[step]``: discount factor over each step [-].
    stop : numpy.ndarray of int
        Stopping step of each path [-] (``n_steps``: never).

    Returns
    -------
    numpy.ndarray of float
        Discounted value per path [USD].
    """
    n, n_steps = exercise.shape
    df_start = np.concatenate([[1.0], np.cumprod(discount)])  # DF to the start of each step
    steps = np.arange(n_steps)
    before = steps[None, :] < stop[:, None]
    run_pv = (running * before * df_start[1:][None, :]).sum(axis=1)
    stopped = stop < n_steps
    ex = np.where(stopped, exercise[np.arange(n), np.minimum(stop, n_steps - 1)], 0.0)
    return run_pv + np.where(stopped, ex * df_start[np.minimum(stop, n_steps)], 0.0)


def american_put_lsm(
    spot: float,
    strike: float,
    rate: float,
    volatility: float,
    years: float,
    steps_per_year: int,
    n_paths: int,
    seed: int,
) -> float:
    """American put by least-squares Monte Carlo, as in Longstaff & Schwartz (2001) [1].

    GBM paths (half of them antithetic), exercise at ``steps_per_year · years`` dates after 0,
    regression on in-the-money paths with a constant and the first three weighted Laguerre
    polynomials of ``S/K``. S=36, K=40, r=0.06, σ=0.2, T=1, 50 dates → ≈ 4.472.

    Parameters
    ----------
    spot : float
        Spot price [USD].
    strike : float
        Strike price [USD].
    rate : float
        Continuously compounded risk-free rate [1/yr].
    volatility : float
        Volatility [1/√yr].
    years : float
        Maturity [yr].
    steps_per_year : int
        Exercise dates per year [1/yr].
    n_paths : int
        Simulated paths [-].
    seed : int
        Random seed [-].

    Returns
    -------
    float
        The put's value [USD].

    References
    ----------
    .. [1] F. A. Longstaff and E. S. Schwartz, "Valuing American options by simulation: a simple
       least-squares approach", *Rev. Financ. Stud.* 14(1), 113–147 (2001).
    """
    for field, v in (
        ("spot", spot),
        ("strike", strike),
        ("volatility", volatility),
        ("years", years),
    ):
        if not v > 0:
            raise InputError(field, v, "> 0")
    n_steps = round(steps_per_year * years)
    if n_steps < 1 or n_paths < 2:
        raise InputError("steps_per_year/n_paths", (steps_per_year, n_paths), "≥ 1 step, ≥ 2 paths")
    dt = years / n_steps
    rng = np.random.default_rng(seed)
    half = n_paths // 2
    z = rng.standard_normal((half, n_steps))
    z = np.concatenate([z, -z])
    log_s = np.log(spot) + np.cumsum(
        (rate - 0.5 * volatility**2) * dt + volatility * np.sqrt(dt) * z, axis=1
    )
    s = np.exp(log_s)  # prices at exercise dates 1..n_steps
    df = np.exp(-rate * dt)
    # Decision step t is exercise date t+1; continuing runs to the next date (no running cash).
    payoff = np.maximum(strike - s, 0.0)
    result = fit_policy(
        exercise=payoff,
        running=np.zeros_like(payoff),
        states=(s / strike)[None, :, :],
        discount=np.full(n_steps, df),
        degree=3,
        itm_only=True,
        basis="laguerre",
    )
    return float(df * result.value.mean())  # from date 1 back to date 0
