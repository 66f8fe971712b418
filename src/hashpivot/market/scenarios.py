"""Stochastic market processes, their calibration from the shipped history, and path simulation.

Monthly processes, all driven by correlated standard-normal shocks:

* **BTC price**: geometric Brownian motion with μ, σ estimated from monthly log-returns over a
  window, or a circular block bootstrap of the real monthly log-returns;
* **network hashrate**: an error-correction regression calibrated on 2016–2025,
  ``Δlog H_t = a + b·log hp_{t−1} + c·years_t + ε_t``. Hashrate grows faster when last month's
  hashprice was high. The time term is the efficiency frontier: the hashprice at which the network
  holds steady falls by ``c / b`` in log terms a year (see ``docs/scenarios.md``);
* **difficulty and blocks**: difficulty follows hashrate with half a month's lag (the geometric
  mean of this and last month's hashrate), so blocks come faster while hashrate grows; heights
  advance by the simulated blocks and the subsidy halves exactly at each 210,000-block boundary;
* **fees**: BTC per block, lognormal, AR(1) in logs month to month — independent of the
  subsidy, so a halving halves the subsidy but not the fees;
* **power-price indices**: lognormal around a base with an annual escalator and Ornstein–Uhlenbeck
  (AR(1)) noise in logs.

Randomness is keyed by fixed blocks of paths: block ``b`` draws from its own generator,
``np.random.default_rng(SeedSequence(seed).spawn(n_blocks)[b])``. A chunk is a whole number of
blocks, so results do not depend on the chunk size or on which machine ran a chunk. With
antithetic variates the second half of every block uses the negated shocks of the first half.

References
----------
.. [1] Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*, §4.2 (antithetic
   variates). Springer.
.. [2] Politis, D. N. & Romano, J. P. (1992). A circular block-resampling procedure for stationary
   data. In *Exploring the Limits of Bootstrap*, 263–270. Wiley.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._numba import HAVE_NUMBA
from ..bitcoin import history, network
from ..errors import DataRangeError, InputError
from ..units import DAYS_PER_YEAR, FloatArray
from ..workspace import Workspace, empty
from . import kernel as market_kernel
from .types import (  # noqa: F401 - re-exported: scenarios.MarketPaths etc. stay public
    ERA_SUBSIDY_BTC,
    PATH_BLOCK,
    BlockShocks,
    MarketPaths,
    RecursionCoefficients,
)

#: Threads drawing a chunk's blocks.
DRAW_THREADS = max(1, min(4, os.cpu_count() or 1))
#: Average days per month.
#: Shock order in the correlation matrix.
SHOCKS = ("btc", "hashrate", "fees")


# --------------------------------------------------------------------------- calibration
def monthly_history(
    start: str = "2015-01-01", end: str | None = None, as_of: str | None = None
) -> pd.DataFrame:
    """Monthly aggregates of the shipped daily history, whole months only.

    Parameters
    ----------
    start : str
        First month kept, an ISO date (``"2015-01-01"``).
    end : str or None
        Last month kept, an ISO date; ``None`` keeps every whole month to the data's end.
    as_of : str or None
        Last day of data read, an ISO date; ``None`` reads to the data's end. The month holding
        ``as_of`` is kept only when ``as_of`` is its last day: no datum after ``as_of`` enters.

    Returns
    -------
    pandas.DataFrame
        Indexed by month start: ``price_usd`` (month-end) [USD], ``hashrate_eh_s`` (mean) [EH/s],
        ``hashprice_usd_per_ph_day`` (mean) [USD/PH/day], ``fees_btc`` and ``issuance_btc``
        (sums) [BTC], ``blocks`` [-], and the derived ``log_return`` [-], ``hashrate_growth``
        [-] (log differences), ``fee_share`` [-] and ``fees_btc_per_block`` [BTC].
    """
    d = history.btc_daily()
    hp = history.hashprice_history()["hashprice_usd_per_ph_day"]
    d = d.assign(hashprice_usd_per_ph_day=hp)
    if as_of is not None:
        d = d.loc[:as_of]
    m = d.resample("MS").agg(
        {
            "price_usd": "last",
            "hashrate_eh_s": "mean",
            "hashprice_usd_per_ph_day": "mean",
            "fees_btc": "sum",
            "issuance_btc": "sum",
            "blocks": "sum",
        }
    )
    m = whole_months(m, d.index[-1]).loc[start:end]  # a None end keeps every month
    m["log_return"] = np.log(m["price_usd"]).diff()
    m["hashrate_growth"] = np.log(m["hashrate_eh_s"]).diff()
    m["fee_share"] = m["fees_btc"] / m["issuance_btc"]
    m["fees_btc_per_block"] = m["fees_btc"] / m["blocks"]
    return m


def whole_months(monthly: pd.DataFrame, last_day: pd.Timestamp) -> pd.DataFrame:
    """Monthly rows without the last one when the data end before that month's last day.

    Parameters
    ----------
    monthly : pandas.DataFrame
        Rows by month start, from ``resample("MS")`` of daily data.
    last_day : pandas.Timestamp
        The daily data's last day.

    Returns
    -------
    pandas.DataFrame
        The whole months only.
    """
    partial = (last_day + pd.Timedelta(days=1)).month == last_day.month
    return monthly.iloc[:-1] if partial else monthly


def trailing_month(as_of: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The month of data ending on ``as_of``: its calendar month when ``as_of`` is a month's
    last day, else the days after the same day of the month before.

    Parameters
    ----------
    as_of : pandas.Timestamp
        The last day [day].

    Returns
    -------
    tuple of pandas.Timestamp
        First and last day of the window (inclusive).
    """
    day = pd.Timestamp(as_of).normalize()
    if (day + pd.Timedelta(days=1)).day == 1:
        return day.replace(day=1), day
    return day - pd.DateOffset(months=1) + pd.Timedelta(days=1), day


@dataclass(frozen=True)
class GbmFit:
    """GBM parameters from monthly log-returns: ``mu_annual`` is the drift of the price
    (``E[P_t] = P_0 e^{μt}``), ``sigma_annual`` the volatility; ``n`` returns were used."""

    mu_annual: float
    sigma_annual: float
    n: int


def fit_gbm(log_returns: npt.ArrayLike, dt_years: float = 1 / 12) -> GbmFit:
    """Maximum-likelihood GBM fit: ``σ² = var(r)/Δt``, ``μ = mean(r)/Δt + σ²/2``.

    The sampling error of ``μ`` is ``σ/√T`` (T = years of data), of ``σ`` about ``σ/√(2n)``.

    Parameters
    ----------
    log_returns : array_like of float
        Log-returns over equal steps [-]; non-finite entries are dropped.
    dt_years : float
        Length of one step [yr] (a month is ``1/12``).

    Returns
    -------
    GbmFit
        ``mu_annual`` [1/yr], ``sigma_annual`` [1/√yr] and the number of returns used.

    Raises
    ------
    InputError
        Fewer than three finite returns.

    References
    ----------
    .. [1] J. C. Hull, *Options, Futures, and Other Derivatives*, 10th ed., §15.4 (estimating
       volatility from historical data).
    """
    r = np.asarray(log_returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 3:
        raise InputError("log_returns", r.size, "at least 3 finite returns")
    var = r.var(ddof=1) / dt_years
    return GbmFit(
        mu_annual=r.mean() / dt_years + var / 2, sigma_annual=float(np.sqrt(var)), n=r.size
    )


@dataclass(frozen=True)
class HashrateFit:
    """``Δlog H_t = a + b·log hp_{t−1} + c·years_since_2016_t + ε_t`` with persistent errors
    ``ε_t = rho·ε_{t−1} + η_t``, ``η`` of sd ``sigma``; ``eps0`` is the error of the last month
    fitted (the one the simulation continues from), ``n`` the months used."""

    a: float
    b: float
    c: float
    sigma: float
    r2: float
    n: int
    rho: float = 0.0
    eps0: float = 0.0

    @property
    def frontier_decline_per_year(self) -> float:
        """Yearly log decline of the steady-state hashprice implied by the trend (``c/b``)."""
        return self.c / self.b

    @property
    def sigma_stationary(self) -> float:
        """Stationary sd of the error ``ε``, ``sigma / √(1 − rho²)`` [-]."""
        return float(self.sigma / np.sqrt(1.0 - self.rho**2))


def years_since_2016(ts: pd.DatetimeIndex | pd.Timestamp) -> FloatArray:
    """Time since 2016-01-01 in years of 365.25 days, the trend variable of the hashrate fit.

    Parameters
    ----------
    ts : pandas.DatetimeIndex or pandas.Timestamp
        Dates.

    Returns
    -------
    numpy.ndarray of float
        Years since 2016-01-01 [yr].
    """
    return np.asarray((ts - pd.Timestamp("2016-01-01")).days, dtype=np.float64) / DAYS_PER_YEAR


def fit_hashrate(m: pd.DataFrame) -> HashrateFit:
    """Fit the hashrate response ``Δlog H_t = a + b·log hp_{t−1} + c·t + ε_t``, AR(1) errors.

    Two steps: ordinary least squares for ``a, b, c``, then the lag-1 autocorrelation of the
    residuals (clipped to ``[0, 0.95]``) for ``rho`` and the sd of the innovations
    ``η_t = ε_t − rho·ε_{t−1}`` for ``sigma``. The errors persist because machines arrive from a
    pipeline (orders placed months before, sites energised in steps) and leave in waves (the
    2021 China ban, the 2018 and 2022 capitulations): an error does not vanish the next month.

    Parameters
    ----------
    m : pandas.DataFrame
        Monthly history from :func:`monthly_history` (``hashrate_growth`` and
        ``hashprice_usd_per_ph_day`` are used).

    Returns
    -------
    HashrateFit
        Coefficients ``a`` [-], ``b`` [-] (per log USD/PH/day), ``c`` [1/yr], the innovation sd
        ``sigma`` [-], ``r2`` [-] of the regression, the months used, ``rho`` [-] and the last
        month's error ``eps0`` [-].

    Raises
    ------
    InputError
        Fewer than 12 usable months.

    References
    ----------
    .. [1] J. D. Hamilton, *Time Series Analysis*, Princeton, 1994, §8.2 (regression with
       serially correlated errors).
    """
    x = pd.DataFrame(
        {
            "g": m["hashrate_growth"],
            "lhp": np.log(m["hashprice_usd_per_ph_day"]).shift(1),
            "t": years_since_2016(m.index),
        },
        index=m.index,
    ).dropna()
    if len(x) < 12:
        raise InputError("hashrate window", len(x), "at least 12 months of history")
    design = np.column_stack([np.ones(len(x)), x["lhp"], x["t"]])
    y = x["g"].to_numpy()
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    r2 = 1 - (resid**2).sum() / ((y - y.mean()) ** 2).sum()
    rho = float(np.clip(np.corrcoef(resid[:-1], resid[1:])[0, 1], 0.0, 0.95))
    innovations = resid[1:] - rho * resid[:-1]
    return HashrateFit(
        a=float(coef[0]),
        b=float(coef[1]),
        c=float(coef[2]),
        sigma=float(innovations.std(ddof=4)),
        r2=float(r2),
        n=len(x),
        rho=rho,
        eps0=float(resid[-1]),
    )


def hashrate_residuals(m: pd.DataFrame, fit: HashrateFit) -> pd.Series:
    """Residuals of the hashrate fit on monthly history, the hashrate shocks of the past.

    Parameters
    ----------
    m : pandas.DataFrame
        Monthly history from :func:`monthly_history`.
    fit : HashrateFit
        A fit from :func:`fit_hashrate`.

    Returns
    -------
    pandas.Series
        Observed minus predicted monthly log growth of the hashrate [-], by month.
    """
    lhp = np.log(m["hashprice_usd_per_ph_day"]).shift(1)
    pred = fit.a + fit.b * lhp + fit.c * years_since_2016(m.index)
    return (m["hashrate_growth"] - pred).dropna()


def hashrate_innovations(m: pd.DataFrame, fit: HashrateFit) -> pd.Series:
    """The innovations ``η_t = ε_t − rho·ε_{t−1}`` of the hashrate errors on monthly history.

    Parameters
    ----------
    m : pandas.DataFrame
        Monthly history from :func:`monthly_history`.
    fit : HashrateFit
        A fit from :func:`fit_hashrate`.

    Returns
    -------
    pandas.Series
        The month's new hashrate shock [-] (log growth), by month.
    """
    eps = hashrate_residuals(m, fit)
    return (eps - fit.rho * eps.shift(1)).dropna()


@dataclass(frozen=True)
class FeeFit:
    """Log fees per block [BTC]: stationary mean ``mean_log``, sd ``sd_log``, AR(1) ``phi``."""

    mean_log: float
    sd_log: float
    phi: float
    n: int

    @property
    def median_btc_per_block(self) -> float:
        """Median of the stationary distribution of fees per block [BTC]."""
        return float(np.exp(self.mean_log))


def fit_fees(m: pd.DataFrame, mean_months: int | None = None) -> FeeFit:
    """Fit the AR(1) of log fees per block on monthly history.

    The persistence ``phi`` and the sd come from the whole window; the level the fees revert to
    is the mean of the last ``mean_months`` months when given (the fee market moves between
    regimes — the 2017 and 2021 congestion, ordinals in 2023, Runes at the 2024 halving, the
    quiet 2025 blocks — and a whole-window mean drags every forecast back to an old one).

    Parameters
    ----------
    m : pandas.DataFrame
        Monthly history from :func:`monthly_history` (``fees_btc_per_block`` is used).
    mean_months : int or None
        Months of the trailing mean [month]; ``None`` for the whole window's mean.

    Returns
    -------
    FeeFit
        Mean and sd of the log fees per block (log BTC), the lag-1 autocorrelation clipped to
        ``[0, 0.99]`` [-] and the months used.

    Raises
    ------
    InputError
        Fewer than 12 usable months, or ``mean_months`` below 1.
    """
    x = np.log(m["fees_btc_per_block"].to_numpy())
    x = x[np.isfinite(x)]
    if x.size < 12:
        raise InputError("fee window", x.size, "at least 12 months of history")
    if mean_months is not None and mean_months < 1:
        raise InputError("market.fee_mean_months", mean_months, "a whole number of months ≥ 1")
    phi = float(np.corrcoef(x[:-1], x[1:])[0, 1])
    level = x[-mean_months:] if mean_months else x
    return FeeFit(float(level.mean()), float(x.std(ddof=1)), float(np.clip(phi, 0.0, 0.99)), x.size)


def fee_innovations(m: pd.DataFrame, fit: FeeFit) -> pd.Series:
    """The innovations of the fee AR(1), ``x_t − μ − φ·(x_{t−1} − μ)`` with ``x`` the log fees
    per block, on monthly history.

    Parameters
    ----------
    m : pandas.DataFrame
        Monthly history from :func:`monthly_history`.
    fit : FeeFit
        A fit from :func:`fit_fees`.

    Returns
    -------
    pandas.Series
        The month's new log-fee shock [-], by month.
    """
    x = np.log(m["fees_btc_per_block"])
    return (x - fit.mean_log - fit.phi * (x.shift(1) - fit.mean_log)).dropna()


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class PriceIndex:
    """A price index (power, AI rent, GPU rate, token): ``log p_t = escalator·t + x_t`` around 1,
    ``x`` AR(1) with stationary sd ``volatility`` and half-life ``half_life_months`` (starts at
    0), shocks correlated with BTC by ``corr_btc``."""

    name: str
    volatility: float
    half_life_months: float
    escalator_annual: float
    corr_btc: float = 0.0

    @property
    def phi(self) -> float:
        """Monthly AR(1) coefficient of the log index, ``0.5^(1/half-life)`` [-]."""
        return float(0.5 ** (1.0 / self.half_life_months))


@dataclass(frozen=True)
class MarketModel:
    """Everything the simulation needs; built by :func:`calibrate` (and overridable)."""

    start: pd.Timestamp
    price0_usd: float
    hashrate0_eh_s: float
    height0: int
    log_hashprice0: float
    log_fees_btc_per_block0: float
    btc_model: str  # "gbm" or "bootstrap"
    mu_annual: float
    sigma_annual: float
    bootstrap_returns: FloatArray
    bootstrap_block_months: int
    hashrate: HashrateFit
    fees: FeeFit
    correlation: FloatArray  # 3×3 over SHOCKS
    antithetic: bool
    indices: tuple[PriceIndex, ...] = field(default_factory=tuple)
    n_events: int = 0  # uniforms per path for company events (cut-offs, expropriation)
    drift_rule: str = "median_flat"  # how mu_annual was set: see DRIFT_RULES
    #: [2, month] the pool's hashrate and fee innovations in units of their sd, month by month
    #: beside ``bootstrap_returns`` (the joint bootstrap draws all three together)
    bootstrap_innovations: FloatArray | None = None
    data_end: pd.Timestamp | None = None  # last day of the history the model starts from

    @property
    def n_shocks(self) -> int:
        """Number of correlated shocks: BTC, hashrate, fees and one per power index [-]."""
        return len(SHOCKS) + len(self.indices)

    def full_correlation(self) -> FloatArray:
        """Correlation of all shocks: market block plus one row per power index (correlated with
        BTC only)."""
        k = self.n_shocks
        c = np.eye(k)
        c[:3, :3] = self.correlation
        for j, idx in enumerate(self.indices):
            c[0, 3 + j] = c[3 + j, 0] = idx.corr_btc
        return c


#: How the BTC drift is set. ``median_flat`` (the default): μ = σ²/2, so the median price stays
#: at today's (a neutral planning view); ``historical``: the drift estimated from the window,
#: flagged in every output (2016–2025 gave ~80%/yr); ``explicit``: the plan's ``mu_annual``.
DRIFT_RULES = ("median_flat", "historical", "explicit")


def calibrate(
    *,
    btc_model: str = "bootstrap",
    window_start: str = "2016-01-01",
    window_end: str | None = None,
    drift: str = "median_flat",
    mu_annual: float | None = None,
    sigma_annual: float | None = None,
    bootstrap_block_months: int = 6,
    hashrate_window_start: str = "2016-01-01",
    fee_window_start: str = "2016-01-01",
    fee_mean_months: int | None = 24,
    antithetic: bool = True,
    indices: tuple[PriceIndex, ...] = (),
    stochastic: bool = True,
    as_of: str | None = None,
) -> MarketModel:
    """Calibrate the market model from the shipped history, as of a day.

    Every fit reads only data up to ``as_of`` (whole months ending by it), and the simulation
    starts the day after, from the state on ``as_of``: that day's price, height and 7-day
    hashrate, and the hashprice and fees per block of the month ending on it
    (:func:`trailing_month`). When ``as_of`` is not a month's last day the first simulated
    period is the rest of its month (see :func:`month_days`), so no day is skipped.

    The BTC drift follows ``drift`` (see :data:`DRIFT_RULES`)
    unless ``mu_annual`` is given (rule ``explicit``). The bootstrap (the default) resamples
    whole months of the history jointly — the month's BTC log-return, hashrate innovation and
    fee innovation, on the months common to the three windows — in circular blocks, so the
    shocks keep their fat tails, clustering and co-movement; the BTC returns are re-centred on
    the chosen drift's mean log-return ``(μ − σ²/2)/12``, so under ``median_flat`` it carries the
    window's shapes but not its trend. ``gbm`` draws the three as correlated normals instead
    (correlation estimated on the same common months). ``docs/scenarios.md`` gives the
    out-of-sample scores behind each choice.
    Without shocks (``stochastic=False``) the single path is the median path: flat under
    ``median_flat``, growing at μ otherwise.

    Parameters
    ----------
    btc_model : str
        ``"bootstrap"`` (joint block bootstrap of whole months) or ``"gbm"`` (lognormal monthly
        returns, correlated normal hashrate and fee shocks).
    window_start : str
        First month of the BTC calibration window, an ISO date.
    window_end : str or None
        Last month of the BTC window; ``None`` uses the data to their end.
    drift : str
        ``"median_flat"`` or ``"historical"`` (see :data:`DRIFT_RULES`).
    mu_annual : float or None
        Explicit BTC drift [1/yr]; not allowed with ``drift="historical"``.
    sigma_annual : float or None
        Explicit BTC volatility [1/√yr]; ``None`` uses the window's estimate (the bootstrap pool's
        under ``bootstrap``, whose returns are scaled to an explicit value).
    bootstrap_block_months : int
        Block length of the bootstrap [month].
    hashrate_window_start : str
        First month of the hashrate-response fit, an ISO date.
    fee_window_start : str
        First month of the fee AR(1) fit, an ISO date.
    fee_mean_months : int or None
        Months of the trailing mean the fees revert to [month] (see :func:`fit_fees`);
        ``None`` for the fee window's mean.
    antithetic : bool
        Mirror every shock block (variance reduction).
    indices : tuple of PriceIndex
        Power-price indices simulated beside the network (AR(1) in logs, correlated).
    stochastic : bool
        ``False`` switches every shock off (one median path).
    as_of : str or None
        The day the plan is placed at, an ISO date; ``None`` for the last complete day of data.

    Returns
    -------
    MarketModel
        The calibrated model, with its fits and the correlation of the shocks.

    Raises
    ------
    InputError
        An unknown ``btc_model`` or ``drift``, ``mu_annual`` with ``drift="historical"``, or a
        BTC window with fewer than 12 whole months before ``as_of``.
    DataRangeError
        An ``as_of`` outside the daily data.
    """
    if btc_model not in ("gbm", "bootstrap"):
        raise InputError("market.btc_model", btc_model, "gbm or bootstrap")
    if drift not in DRIFT_RULES[:2]:
        raise InputError("market.drift", drift, "median_flat or historical")
    if mu_annual is not None and drift == "historical":
        raise InputError(
            "market.mu_annual", mu_annual, "no mu_annual together with drift: historical"
        )
    daily = history.btc_daily()
    day = daily.index[-1] if as_of is None else pd.Timestamp(as_of).normalize()
    if not daily.index[0] + pd.DateOffset(years=3) <= day <= daily.index[-1]:
        raise DataRangeError(
            "market.as_of",
            str(as_of),
            f"a date from {(daily.index[0] + pd.DateOffset(years=3)).date()} to "
            f"{daily.index[-1].date()} (the network data, with three years before it to fit)",
        )
    m_all = monthly_history("2010-01-01", as_of=str(day.date()))
    window = m_all.loc[window_start:window_end] if window_end else m_all.loc[window_start:]
    returns = window["log_return"].dropna().to_numpy()
    if returns.size < 12:
        raise InputError(
            "market.window_start",
            window_start,
            f"a BTC window with at least 12 whole months before as_of {day.date()} "
            f"(it has {returns.size})",
        )
    gbm = fit_gbm(returns)
    hr = fit_hashrate(m_all.loc[hashrate_window_start:])
    fees = fit_fees(m_all.loc[fee_window_start:], fee_mean_months)
    # The months' shocks: BTC log-return, hashrate innovation, fee innovation. Their correlation
    # (GBM) and the joint bootstrap's pool are both taken on the months common to the windows.
    common = pd.concat(
        [
            window["log_return"].rename("btc"),
            hashrate_innovations(m_all.loc[hashrate_window_start:], hr).rename("hashrate"),
            fee_innovations(m_all.loc[fee_window_start:], fees).rename("fees"),
        ],
        axis=1,
        sort=True,
    ).dropna()
    corr = np.corrcoef(common.to_numpy().T)
    state = history.network_state(day.date())
    lo, hi = trailing_month(day)
    month = daily.loc[lo:hi]
    hashprice0 = history.hashprice_history(lo.date(), hi.date())["hashprice_usd_per_ph_day"]
    start = day + pd.Timedelta(days=1)
    innovations = None
    returns_dm = returns - returns.mean()
    if btc_model == "bootstrap":
        # One pool of whole months: a month's BTC return, hashrate and fee innovations are drawn
        # together, so their co-movement (and each one's tails and clustering) is the history's.
        pool = common["btc"].to_numpy()
        sample_sigma = float(np.sqrt(pool.var(ddof=1) * 12.0))
        returns_dm = pool - pool.mean()
        if sigma_annual is not None:  # the pool's shapes at the plan's volatility
            returns_dm = returns_dm * (float(sigma_annual) / sample_sigma)
        sigma = sample_sigma if sigma_annual is None else float(sigma_annual)
        rest = common[["hashrate", "fees"]].to_numpy().T
        innovations = (rest - rest.mean(axis=1, keepdims=True)) / rest.std(axis=1, keepdims=True)
    else:
        sigma = gbm.sigma_annual if sigma_annual is None else float(sigma_annual)
    if mu_annual is not None:
        rule, mu = "explicit", float(mu_annual)
    elif drift == "historical":
        rule, mu = "historical", gbm.mu_annual
    else:
        rule, mu = "median_flat", 0.5 * sigma**2 if stochastic else 0.0
    if btc_model == "bootstrap":
        returns = returns_dm + (mu - 0.5 * sigma**2) / 12.0  # re-centred on the drift rule
    model = MarketModel(
        start=start,
        price0_usd=state.price_usd,
        hashrate0_eh_s=state.hashrate_eh_s,
        height0=state.height,
        log_hashprice0=float(np.log(hashprice0.mean())),
        log_fees_btc_per_block0=float(np.log(month["fees_btc"].sum() / month["blocks"].sum())),
        btc_model=btc_model,
        mu_annual=mu,
        sigma_annual=sigma,
        bootstrap_returns=returns,
        bootstrap_block_months=int(bootstrap_block_months),
        bootstrap_innovations=innovations,
        hashrate=hr,
        fees=fees,
        correlation=corr,
        antithetic=antithetic,
        indices=tuple(indices),
        drift_rule=rule,
        data_end=day,
    )
    return model if stochastic else deterministic(model)


def deterministic(model: MarketModel) -> MarketModel:
    """The same model with every shock switched off (σ = 0 for price, hashrate, fees, power).

    The hashrate error carried from the last month (``ρ·ε₀``, decaying as ``ρ^t``) stays: it is
    the expected part of the error, not a shock, so the single path is the median path.

    Parameters
    ----------
    model : MarketModel
        A calibrated model.

    Returns
    -------
    MarketModel
        A copy whose simulation gives the one median path.
    """
    return replace(
        model,
        sigma_annual=0.0,
        btc_model="gbm",
        hashrate=replace(model.hashrate, sigma=0.0),
        fees=replace(model.fees, sd_log=0.0),
        indices=tuple(replace(p, volatility=0.0) for p in model.indices),
    )


# --------------------------------------------------------------------------- simulation
def month_days(start: pd.Timestamp, n_months: int) -> FloatArray:
    """Days in each simulated period: from ``start`` to the end of its month, then whole months.

    A ``start`` on the first of a month gives calendar months; a later day gives a partial
    first period (the rest of that month), so a plan placed on any day skips none.

    Parameters
    ----------
    start : pandas.Timestamp
        First day simulated.
    n_months : int
        Number of periods [month].

    Returns
    -------
    numpy.ndarray of float
        Days in each period [day], shape ``(n_months,)``.
    """
    day = np.datetime64(pd.Timestamp(start).date(), "D")
    first = day.astype("datetime64[M]")
    edges = (first + np.arange(n_months + 1)).astype("datetime64[D]")
    edges[0] = day
    return np.diff(edges).astype(np.float64)


def month_fractions(start: pd.Timestamp, n_months: int) -> FloatArray:
    """Each period's share of its calendar month: below 1 only for a partial first period.

    Parameters
    ----------
    start : pandas.Timestamp
        First day simulated.
    n_months : int
        Number of periods [month].

    Returns
    -------
    numpy.ndarray of float
        Fractions [-], shape ``(n_months,)``.
    """
    frac = np.ones(n_months)
    if n_months:
        frac[0] = month_days(start, 1)[0] / pd.Timestamp(start).days_in_month
    return frac


def average_subsidy_btc(height_from: FloatArray, height_to: FloatArray) -> FloatArray:
    """Average subsidy per block over the continuous height interval ``[from, to)``.

    Sums each era's overlap with the interval times that era's subsidy, so a month that crosses a
    halving blends both eras by the share of its blocks in each, and a month inside one era gets
    that era's subsidy to rounding (block counts are differenced, never supply totals).

    Parameters
    ----------
    height_from : numpy.ndarray of float
        First height of each interval [block].
    height_to : numpy.ndarray of float
        End height of each interval, exclusive [block]; same shape.

    Returns
    -------
    numpy.ndarray of float
        Mean subsidy per block [BTC], same shape.

    References
    ----------
    .. [1] Bitcoin Core, ``GetBlockSubsidy`` in ``src/validation.cpp`` (halving every 210,000
       blocks from 50 BTC).
    """
    h0 = np.asarray(height_from, dtype=np.float64)
    h1 = np.asarray(height_to, dtype=np.float64)
    total = np.zeros(np.broadcast(h0, h1).shape)
    first_era = int(np.floor(h0.min() / network.HALVING_INTERVAL_BLOCKS))
    last_era = min(33, int(np.floor(h1.max() / network.HALVING_INTERVAL_BLOCKS)))
    for era in range(first_era, last_era + 1):
        start = era * network.HALVING_INTERVAL_BLOCKS
        end = start + network.HALVING_INTERVAL_BLOCKS
        overlap = np.clip(np.minimum(h1, end) - np.maximum(h0, start), 0.0, None)
        total += overlap * ((network.INITIAL_SUBSIDY_SATS >> era) / network.COIN_SATS)
    return total / (h1 - h0)


def _draw_pool() -> ThreadPoolExecutor:
    """The process's drawing threads, started once (starting threads per chunk costs more than
    drawing a block); a forked child, which inherits the pool but not its threads, starts its
    own."""
    return _pool_of(os.getpid())


@functools.cache
def _pool_of(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(DRAW_THREADS, thread_name_prefix="hashpivot-draw")


def draw_shocks(
    model: MarketModel,
    seeds: list[np.random.SeedSequence],
    first_block: int,
    n_blocks: int,
    n_paths_total: int,
    n_months: int,
    workspace: Workspace | None = None,
) -> BlockShocks:
    """Draw the raw shocks of path blocks ``first_block .. first_block + n_blocks − 1``.

    Each block has its own generator (``seeds[block]``), so the draws do not depend on how the
    run is chunked.

    Parameters
    ----------
    model : MarketModel
        A calibrated model (number of shocks, antithetic, bootstrap).
    seeds : list of numpy.random.SeedSequence
        One seed per block of :data:`PATH_BLOCK` paths, from :func:`block_seeds`.
    first_block : int
        Index of the first block drawn [-].
    n_blocks : int
        Number of blocks drawn [-].
    n_paths_total : int
        Paths in the whole run [-] (the last block is cut there).
    n_months : int
        Months simulated [month].
    workspace : Workspace or None
        Reusable arrays; ``None`` allocates.

    Returns
    -------
    BlockShocks
        Standard normals ``[block, shock, half-block, month]`` (and bootstrap returns).
    """
    k = model.n_shocks
    half = PATH_BLOCK // 2 if model.antithetic else PATH_BLOCK
    u = empty(workspace, "shocks.u", (n_blocks, k, half, n_months))
    boots: list[FloatArray] = [np.empty(0)] * n_blocks

    def draw(j: int) -> None:
        rng = np.random.default_rng(seeds[first_block + j])
        market_kernel.fill_standard_normal(rng, u[j])
        if model.btc_model == "bootstrap":
            returns = model.bootstrap_returns
            idx = _bootstrap_indices(
                rng, half, n_months, returns.size, model.bootstrap_block_months
            )
            pool = np.vstack([returns[None, :], bootstrap_innovations(model)])
            boot = pool[:, idx]  # [shock, row, month]: the three shocks of the same months
            if model.antithetic:
                # Antithetic pairs reflect the resampled shocks about their mean (0 but BTC's).
                mean = pool.mean(axis=1)[:, None, None]
                boot = np.concatenate([boot, 2 * mean - boot], axis=1)
            f0 = month_fractions(model.start, 1)[0] if n_months else 1.0
            if f0 < 1.0:  # a partial first period: its share of BTC's mean and variance
                mean = returns.mean()
                boot[0, :, 0] = mean * f0 + (boot[0, :, 0] - mean) * np.sqrt(f0)
            boots[j] = boot

    def draw_range(lo: int, hi: int) -> None:
        for j in range(lo, hi):
            draw(j)

    # Each block has its own generator and its own slice of ``u``: drawing blocks on several
    # threads (the normals release the GIL) gives the same numbers as drawing them in order.
    workers = min(DRAW_THREADS, n_blocks)
    if workers > 1:
        edges = np.linspace(0, n_blocks, workers + 1).astype(int)
        list(_draw_pool().map(draw_range, edges[:-1], edges[1:]))
    else:
        draw_range(0, n_blocks)
    n = min(n_blocks * PATH_BLOCK, n_paths_total - first_block * PATH_BLOCK)
    boot_all = (
        np.ascontiguousarray(np.concatenate(boots, axis=1)[:, :n])
        if model.btc_model == "bootstrap"
        else None
    )
    events = _events(model, seeds, first_block, n_blocks, half, n)
    return BlockShocks(u, boot_all, n, model.antithetic, events)


def _events(
    model: MarketModel,
    seeds: list[np.random.SeedSequence],
    first_block: int,
    n_blocks: int,
    half: int,
    n: int,
) -> FloatArray | None:
    """Event uniforms per path, from a child of each block's seed (so the market draws are the
    same with or without events)."""
    if not model.n_events:
        return None
    out = []
    for b in range(first_block, first_block + n_blocks):
        rng = np.random.default_rng(
            np.random.SeedSequence(seeds[b].entropy, spawn_key=(*seeds[b].spawn_key, 1 << 20))
        )
        ev = rng.random((model.n_events, half))
        if model.antithetic:
            ev = np.concatenate([ev, 1.0 - ev], axis=1)
        out.append(ev)
    return np.concatenate(out, axis=1)[:, :n]


def correlated_normals(model: MarketModel, shocks: BlockShocks) -> FloatArray:
    """The shocks materialised as correlated normals.

    Parameters
    ----------
    model : MarketModel
        A calibrated model (its full correlation matrix is used).
    shocks : BlockShocks
        Raw shocks from :func:`draw_shocks`.

    Returns
    -------
    numpy.ndarray of float
        Correlated standard normals ``[shock, path, month]`` [-].
    """
    block, row, sign = shocks.path_rows()
    raw = np.moveaxis(shocks.u[block, :, row, :], 1, 0) * sign[None, :, None]
    chol = np.linalg.cholesky(model.full_correlation())
    return np.einsum("ij,jpm->ipm", chol, raw)


def bootstrap_innovations(model: MarketModel) -> FloatArray:
    """The joint bootstrap's hashrate and fee innovations ``[2, month]`` in units of their sd.

    Parameters
    ----------
    model : MarketModel
        A model with ``btc_model="bootstrap"``.

    Returns
    -------
    numpy.ndarray of float
        Rows hashrate and fees, one column per month of ``bootstrap_returns`` [-].

    Raises
    ------
    InputError
        A bootstrap model without the pool's innovations (built by hand, not calibrated).
    """
    inn = model.bootstrap_innovations
    if inn is None or inn.shape != (2, model.bootstrap_returns.size):
        raise InputError(
            "market.bootstrap_innovations",
            None if inn is None else inn.shape,
            f"(2, {model.bootstrap_returns.size}): the hashrate and fee innovations of the "
            "bootstrap's months, as calibrate() sets them",
        )
    return inn


def _bootstrap_indices(
    rng: np.random.Generator, n: int, n_months: int, n_obs: int, block: int
) -> npt.NDArray[np.int64]:
    n_blocks = -(-n_months // block)
    starts = rng.integers(0, n_obs, size=(n, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n_obs  # circular
    return idx.reshape(n, n_blocks * block)[:, :n_months]


@dataclass(frozen=True)
class RecursionInputs:
    """Coefficients and materialised shocks (the NumPy reference's input)."""

    coef: RecursionCoefficients
    log_return: FloatArray  # [path, month] BTC month-end log-returns
    z_hashrate: FloatArray  # [path, month]
    z_fees: FloatArray  # [path, month]
    z_power: FloatArray  # [index, path, month]


def recursion_coefficients(model: MarketModel, n_months: int) -> RecursionCoefficients:
    """Per-month coefficients of the market recursions.

    Parameters
    ----------
    model : MarketModel
        A calibrated model.
    n_months : int
        Months simulated [month].

    Returns
    -------
    RecursionCoefficients
        Month lengths [day], times [yr], the BTC drift and volatility per month [-], the starting
        logs and the hashrate, fee and power-index coefficients.
    """
    days = month_days(model.start, n_months)
    dt = days / DAYS_PER_YEAR
    sig = model.sigma_annual
    hr, ff = model.hashrate, model.fees
    return RecursionCoefficients(
        days=days,
        frac=month_fractions(model.start, n_months),
        t_years=years_since_2016(model.start) + np.cumsum(dt) - dt,
        t_mid=np.cumsum(dt) - dt / 2,
        drift=(model.mu_annual - 0.5 * sig**2) * dt,
        vol=sig * np.sqrt(dt),
        log_price0=float(np.log(model.price0_usd)),
        log_hashrate0=float(np.log(model.hashrate0_eh_s)),
        log_hashprice0=model.log_hashprice0,
        height0=float(model.height0 + 1),  # the next block to be mined
        log_fees_btc_per_block0=model.log_fees_btc_per_block0,
        hashrate_coef=np.array([hr.a, hr.b, hr.c, hr.sigma, hr.rho, hr.eps0]),
        fee_coef=np.array([ff.mean_log, ff.phi, ff.sd_log * np.sqrt(1 - ff.phi**2)]),
        power_coef=np.array(
            [
                [p.phi, p.volatility * np.sqrt(1 - p.phi**2), p.escalator_annual]
                for p in model.indices
            ]
        ).reshape(-1, 3),
    )


def recursion_inputs(model: MarketModel, shocks: BlockShocks, n_months: int) -> RecursionInputs:
    """Coefficients and correlated shocks for the NumPy reference recursion.

    Parameters
    ----------
    model : MarketModel
        A calibrated model.
    shocks : BlockShocks
        Raw shocks from :func:`draw_shocks`.
    n_months : int
        Months simulated [month].

    Returns
    -------
    RecursionInputs
        Input of :func:`recursion_numpy`.
    """
    coef = recursion_coefficients(model, n_months)
    z = correlated_normals(model, shocks)
    # A joint bootstrap replaces the three market shocks by the resampled months.
    r, zh, zf = (coef.drift + coef.vol * z[0], z[1], z[2]) if shocks.boot is None else shocks.boot
    return RecursionInputs(
        coef=coef,
        log_return=np.ascontiguousarray(r),
        z_hashrate=np.ascontiguousarray(zh),
        z_fees=np.ascontiguousarray(zf),
        z_power=np.ascontiguousarray(z[3:]),
    )


def recursion_numpy(inp: RecursionInputs) -> MarketPaths:
    """Reference implementation of the monthly recursions.

    Vectorised over paths, a Python loop over months;
    :func:`hashpivot.market.kernel.market_recursion_numba` must agree with it.

    Parameters
    ----------
    inp : RecursionInputs
        From :func:`recursion_inputs`.

    Returns
    -------
    MarketPaths
        Average price [USD], hashrate [EH/s], difficulty [-], blocks [-], subsidy and fees
        [BTC/block], expected yield [BTC/TH/day] and power indices [-] per ``[path, month]``.
    """
    n, n_months = inp.log_return.shape
    days = inp.coef.days
    log_p_end = inp.coef.log_price0 + np.cumsum(inp.log_return, axis=1)
    log_p_start = np.concatenate([np.full((n, 1), inp.coef.log_price0), log_p_end[:, :-1]], axis=1)
    price = np.exp(0.5 * (log_p_start + log_p_end))
    a, b, c, sig, rho, eps0 = inp.coef.hashrate_coef
    eps = np.full(n, eps0)  # the hashrate error, AR(1)
    fee_mean, fee_phi, fee_innov = inp.coef.fee_coef
    log_fee = np.full(n, inp.coef.log_fees_btc_per_block0)
    log_h_prev = np.full(n, inp.coef.log_hashrate0)
    lhp_prev = np.full(n, inp.coef.log_hashprice0)
    height = np.full(n, inp.coef.height0)
    out = {k: np.empty((n, n_months)) for k in ("h", "d", "blocks", "sub", "fees", "bpt")}
    for t in range(n_months):
        log_fee = fee_mean + fee_phi * (log_fee - fee_mean) + fee_innov * inp.z_fees[:, t]
        # A partial first period takes its share of the month's drift and variance.
        f = inp.coef.frac[t]
        eps = rho * eps + sig * inp.z_hashrate[:, t]
        log_h_now = log_h_prev + f * (a + b * lhp_prev + c * inp.coef.t_years[t]) + np.sqrt(f) * eps
        log_h_eff = 0.5 * (log_h_prev + log_h_now)
        difficulty = np.exp(log_h_eff) * 1e18 * network.TARGET_SPACING_S / network.TWO_32
        blocks = days[t] * 144.0 * np.exp(log_h_now - log_h_eff)
        subsidy = average_subsidy_btc(height, height + blocks)
        fees = np.exp(log_fee)
        bpt = network.SECONDS_PER_DAY * 1e12 / (difficulty * network.TWO_32) * (subsidy + fees)
        for key, val in (
            ("h", np.exp(log_h_now)),
            ("d", difficulty),
            ("blocks", blocks),
            ("sub", subsidy),
            ("fees", fees),
            ("bpt", bpt),
        ):
            out[key][:, t] = val
        lhp_prev = np.log(bpt * 1000.0 * price[:, t])
        log_h_prev = log_h_now
        height = height + blocks
    k = inp.coef.power_coef.shape[0]
    power = np.empty((k, n, n_months))
    for j in range(k):
        phi, innov, esc = inp.coef.power_coef[j]
        xp = np.zeros(n)
        for t in range(n_months):
            xp = phi * xp + innov * inp.z_power[j, :, t]
            power[j, :, t] = np.exp(esc * inp.coef.t_mid[t] + xp)
    return MarketPaths(
        price_usd=price,
        hashrate_eh_s=out["h"],
        difficulty=out["d"],
        blocks=out["blocks"],
        subsidy_btc=out["sub"],
        fees_btc_per_block=out["fees"],
        btc_per_th_day=out["bpt"],
        days=days,
        index_values=power,
    )


def block_seeds(seed: int, n_paths: int) -> list[np.random.SeedSequence]:
    """One seed sequence per block of :data:`PATH_BLOCK` paths.

    Parameters
    ----------
    seed : int
        The run's seed [-].
    n_paths : int
        Paths in the run [-].

    Returns
    -------
    list of numpy.random.SeedSequence
        ``ceil(n_paths / PATH_BLOCK)`` independent children of ``SeedSequence(seed)``.
    """
    n_blocks = -(-n_paths // PATH_BLOCK)
    return np.random.SeedSequence(seed).spawn(n_blocks)


def simulate(
    model: MarketModel,
    n_months: int,
    seeds: list[np.random.SeedSequence],
    first_block: int,
    n_blocks: int,
    n_paths_total: int,
    workspace: Workspace | None = None,
) -> MarketPaths:
    """Simulate the market paths of blocks ``first_block .. first_block + n_blocks − 1``.

    The last block of the run is cut at ``n_paths_total``. Each block's shocks come from its own
    generator, so the result is identical whatever the chunking. Runs the fused numba kernel when
    available (it correlates and mirrors the raw shocks itself), else :func:`recursion_numpy`.
    With a ``workspace`` the shocks and paths live in its arrays, valid until the next chunk.

    Parameters
    ----------
    model : MarketModel
        A calibrated model.
    n_months : int
        Months simulated [month].
    seeds : list of numpy.random.SeedSequence
        From :func:`block_seeds`.
    first_block : int
        Index of the first block [-].
    n_blocks : int
        Number of blocks [-].
    n_paths_total : int
        Paths in the whole run [-].
    workspace : Workspace or None
        Reusable arrays; ``None`` allocates.

    Returns
    -------
    MarketPaths
        The paths of the chunk, ``[path, month]``.
    """
    shocks = draw_shocks(model, seeds, first_block, n_blocks, n_paths_total, n_months, workspace)
    if HAVE_NUMBA:
        paths = market_kernel.market_recursion_numba(
            recursion_coefficients(model, n_months),
            shocks,
            np.asarray(np.linalg.cholesky(model.full_correlation()), dtype=np.float64),
            workspace,
        )
    else:
        paths = recursion_numpy(recursion_inputs(model, shocks, n_months))
    return paths if shocks.events is None else replace(paths, event_uniforms=shocks.events)
