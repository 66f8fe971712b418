"""Rolling-origin hindcasts of the market model: calibrate as of each origin, simulate forward,
and line the fans up with what happened (the engine of ``hashpivot backtest``).

An origin is the last day of a month. At each origin the model is calibrated with
``scenarios.calibrate(as_of=origin)`` — nothing after it is read — and simulated for the longest
horizon. At horizon ``h`` months the fan of each process is the simulated value of the ``h``-th
calendar month after the origin, and the outcome is that month's realised value, both in logs:

* ``btc_price`` — the month's mean price [USD] (the simulation's month price is the geometric
  mean of its start and end);
* ``hashrate`` — the month's mean hashrate [EH/s] (simulated: the month's effective hashrate, the
  one its difficulty follows);
* ``hashprice`` — the month's mean hashprice [USD/PH/day];
* ``fees`` — fees per block over the month [BTC].

The two naive baselines of :mod:`hashpivot.market.backtest` are built from the same monthly
history up to the origin, so every score has its comparison in the same run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from ..bitcoin import history, network
from ..data import catalog, store
from ..errors import InputError
from ..executor import Executor, in_process
from ..units import FloatArray
from ..version import __version__
from . import backtest, scenarios

#: A backtest of fewer origins × paths than this runs in this process unless told otherwise: an
#: origin is a few tens of milliseconds of work (the full 79 × 4,000 backtest takes ~5 s here),
#: less than starting worker processes costs.
SMALL_HINDCAST_PATHS = 2_000_000

#: The processes scored, in order.
PROCESSES = ("btc_price", "hashrate", "hashprice", "fees")


def realised_monthly() -> pd.DataFrame:
    """Monthly realised values of the processes, whole months of the daily data only.

    Returns
    -------
    pandas.DataFrame
        Indexed by month start: ``btc_price`` [USD], ``hashrate`` [EH/s], ``hashprice``
        [USD/PH/day] (means over the month's days) and ``fees`` [BTC/block] (the month's fees
        over its blocks).
    """
    d = history.btc_daily()
    hp = history.hashprice_history()["hashprice_usd_per_ph_day"]
    m = pd.DataFrame(
        {
            "btc_price": d["price_usd"].resample("MS").mean(),
            "hashrate": d["hashrate_eh_s"].resample("MS").mean(),
            "hashprice": hp.resample("MS").mean(),
            "fees": d["fees_btc"].resample("MS").sum() / d["blocks"].resample("MS").sum(),
        }
    )
    return scenarios.whole_months(m, d.index[-1])


def month_end_origins(first: str, last: str, step_months: int = 1) -> list[pd.Timestamp]:
    """Origins on the last day of every ``step``-th month from ``first`` to ``last``.

    Parameters
    ----------
    first : str
        First origin month, ``YYYY-MM``.
    last : str
        Last origin month, ``YYYY-MM``.
    step_months : int
        Months between origins [month].

    Returns
    -------
    list of pandas.Timestamp
        The origins (month-end days).
    """
    if step_months < 1:
        raise InputError("--step", step_months, "a whole number of months ≥ 1")
    try:
        months = pd.period_range(first, last, freq="M")[::step_months]
    except (ValueError, TypeError):
        raise InputError("--origins", f"{first}:{last}", "YYYY-MM:YYYY-MM") from None
    if not len(months):
        raise InputError("--origins", f"{first}:{last}", "a first month on or before the last")
    return [p.to_timestamp(how="end").normalize() for p in months]


@dataclass(frozen=True)
class Hindcast:
    """Fans and outcomes by process and horizon: ``fans[p][h]`` is ``[origin, member]`` and
    ``outcomes[p][h]`` ``[origin]``, in logs, over the origins whose outcome is known."""

    origins: tuple[pd.Timestamp, ...]
    horizons: tuple[int, ...]
    fans: dict[str, dict[int, FloatArray]] = field(repr=False)
    outcomes: dict[str, dict[int, FloatArray]] = field(repr=False)
    scored: dict[int, tuple[int, ...]] = field(repr=False)  # horizon → origin indices scored
    baseline_rw: dict[str, dict[int, FloatArray]] = field(repr=False)
    baseline_flat: dict[str, dict[int, FloatArray]] = field(repr=False)


#: The fit windows a backtest moves back when an origin comes too early for them.
WINDOW_KEYS = ("window_start", "hashrate_window_start", "fee_window_start")

#: Months of data every fit window holds at the least in a backtest [month].
MIN_WINDOW_MONTHS = 24


def windows_at(origin: pd.Timestamp, calibration: dict[str, Any]) -> dict[str, Any]:
    """The calibration at ``origin``: each fit window starts where the plan says, or
    :data:`MIN_WINDOW_MONTHS` before the origin when that is earlier.

    A plan fitted from 2020 (``window_start: 2020-01-01``) cannot be placed at 2018; backtested,
    its windows reach back just far enough to fit, and from 2022 on they are the plan's own.

    Parameters
    ----------
    origin : pandas.Timestamp
        The origin day.
    calibration : dict
        ``calibrate`` arguments.

    Returns
    -------
    dict
        The same arguments with the windows moved back where needed (a new dict).
    """
    latest = (origin - pd.DateOffset(months=MIN_WINDOW_MONTHS) + pd.Timedelta(days=1)).normalize()
    out = dict(calibration)
    for key in WINDOW_KEYS:
        start = out.get(key)
        if start is not None and pd.Timestamp(start) > latest:
            out[key] = str(latest.replace(day=1).date())
    return out


def _simulated_logs(paths: scenarios.MarketPaths, month: int) -> dict[str, FloatArray]:
    hashrate = paths.difficulty[:, month] * network.TWO_32 / network.TARGET_SPACING_S / 1e18
    return {
        "btc_price": np.log(paths.price_usd[:, month]),
        "hashrate": np.log(hashrate),
        "hashprice": np.log(paths.btc_per_th_day[:, month] * paths.price_usd[:, month] * 1000.0),
        "fees": np.log(paths.fees_btc_per_block[:, month]),
    }


#: One origin's draws: horizon → process → (fan, outcome, random-walk fan, flat fan).
OriginDraws = dict[int, dict[str, tuple[FloatArray, float, FloatArray, FloatArray]]]


def origin_draws(
    logs: pd.DataFrame,
    origin: pd.Timestamp,
    horizons: tuple[int, ...],
    n_paths: int,
    seed: int,
    calibration: dict[str, Any],
) -> OriginDraws:
    """One origin of a hindcast (one task): calibrate as of it, simulate, draw the baselines.

    Parameters
    ----------
    logs : pandas.DataFrame
        Log realised monthly values by process (:func:`realised_monthly`).
    origin : pandas.Timestamp
        The origin day.
    horizons : tuple of int
        Months ahead scored [month].
    n_paths : int
        Paths [-].
    seed : int
        The run's seed [-]; the origin draws from ``SeedSequence([seed, month])``.
    calibration : dict
        ``calibrate`` arguments (before :func:`windows_at`).

    Returns
    -------
    dict
        Horizon → process → (fan, outcome, random-walk fan, flat fan), for the horizons whose
        outcome is in the data.
    """
    # The origin's own seed, keyed by its month: the same fan whichever origins run with it.
    child = np.random.SeedSequence([seed, origin.year * 12 + origin.month - 1])
    month0 = (origin + pd.Timedelta(days=1)).normalize()  # the first simulated month
    model = scenarios.calibrate(as_of=str(origin.date()), **windows_at(origin, calibration))
    seeds = scenarios.block_seeds(int(child.generate_state(1)[0]), n_paths)
    paths = scenarios.simulate(model, max(horizons), seeds, 0, len(seeds), n_paths)
    past = logs.loc[: origin - pd.offsets.MonthBegin(1)]  # whole months up to the origin
    rng = np.random.default_rng(child.spawn(1)[0])
    out: OriginDraws = {}
    for h in horizons:
        target = month0 + pd.DateOffset(months=h - 1)
        if target not in logs.index:
            continue  # the outcome is not in the data yet
        sim = _simulated_logs(paths, h - 1)
        out[h] = {}
        for p in PROCESSES:
            x = past[p].to_numpy()
            out[h][p] = (
                sim[p],
                float(logs.loc[target, p]),
                backtest.random_walk_fan(x, h, n_paths, rng),
                backtest.flat_fan(x, h),
            )
    return out


def run(
    origins: list[pd.Timestamp],
    horizons: tuple[int, ...] = (3, 6, 12, 24),
    n_paths: int = 4000,
    seed: int = 1,
    executor: Executor | None = None,
    **calibration: object,
) -> Hindcast:
    """Calibrate as of each origin, simulate, and collect fans, outcomes and baselines.

    Parameters
    ----------
    origins : list of pandas.Timestamp
        Month-end days (:func:`month_end_origins`).
    horizons : tuple of int
        Months ahead scored [month].
    n_paths : int
        Paths per origin [-].
    seed : int
        Seed of the run; each origin draws from ``SeedSequence([seed, month])``, so its fan does
        not depend on which origins run together, nor where.
    executor : Executor or None
        Where the origins run, one task each (:func:`hashpivot.executor.open_executor`);
        ``None``: in this process.
    **calibration
        Passed to :func:`hashpivot.market.scenarios.calibrate` (``btc_model``, ``window_start``,
        ``drift`` …), each fit window moved back where an origin comes too early for it
        (:func:`windows_at`).

    Returns
    -------
    Hindcast
        Log fans, outcomes and the two baselines by process and horizon.
    """
    if not horizons or min(horizons) < 1:
        raise InputError("--horizons", list(horizons), "whole months ≥ 1")
    executor = executor or in_process()
    logs = np.log(realised_monthly())
    fans: dict[str, dict[int, list[FloatArray]]] = {p: {h: [] for h in horizons} for p in PROCESSES}
    outs: dict[str, dict[int, list[float]]] = {p: {h: [] for h in horizons} for p in PROCESSES}
    rw: dict[str, dict[int, list[FloatArray]]] = {p: {h: [] for h in horizons} for p in PROCESSES}
    flat: dict[str, dict[int, list[FloatArray]]] = {p: {h: [] for h in horizons} for p in PROCESSES}
    scored: dict[int, list[int]] = {h: [] for h in horizons}
    shared = executor.share(logs)
    tasks = [(o, tuple(horizons), n_paths, seed, dict(calibration)) for o in origins]
    draws: dict[int, OriginDraws] = dict(
        executor.completed(origin_draws, tasks, (shared,), name="origin")
    )
    for k in range(len(origins)):  # gathered in origin order, whatever order they finished in
        for h, by_process in draws.pop(k).items():
            scored[h].append(k)
            for p, (fan, outcome, walk, level) in by_process.items():
                fans[p][h].append(fan)
                outs[p][h].append(outcome)
                rw[p][h].append(walk)
                flat[p][h].append(level)

    def stack(
        d: dict[str, dict[int, list]], ragged: bool = False
    ) -> dict[str, dict[int, FloatArray]]:
        out: dict[str, dict[int, FloatArray]] = {}
        for p, by_h in d.items():
            out[p] = {}
            for h, rows in by_h.items():
                if not rows:
                    out[p][h] = np.empty((0, 2))
                elif ragged:  # flat fans differ in length between origins: trim to the shortest
                    n = min(len(r) for r in rows)
                    out[p][h] = np.stack([np.quantile(r, (np.arange(n) + 0.5) / n) for r in rows])
                else:
                    out[p][h] = np.stack(rows)
        return out

    return Hindcast(
        origins=tuple(origins),
        horizons=tuple(horizons),
        fans=stack(fans),
        outcomes={p: {h: np.asarray(v) for h, v in by.items()} for p, by in outs.items()},
        scored={h: tuple(v) for h, v in scored.items()},
        baseline_rw=stack(rw),
        baseline_flat=stack(flat, ragged=True),
    )


def scores(hc: Hindcast, step_months: int = 1, seed: int = 0) -> dict[str, object]:
    """The backtest's figures by process and horizon (keys of ``hashpivot backtest --json``).

    Parameters
    ----------
    hc : Hindcast
        From :func:`run`.
    step_months : int
        Months between origins [month] (for the independent-window counts and bootstrap blocks).
    seed : int
        Seed of the bootstrap intervals [-].

    Returns
    -------
    dict
        ``coverage_90``, ``coverage_50`` (each ``{"rate", "below", "above", "interval_90"}``),
        ``pit_deciles``, ``pit_mean``, ``crps``, ``spread_skill``, ``baseline_crps``
        (``{"random_walk", "flat"}``), ``origins`` and ``independent_windows`` — each
        ``{process: {"h": …}}``.
    """
    out: dict[str, dict[str, dict[str, object]]] = {
        k: {p: {} for p in PROCESSES}
        for k in (
            "coverage_90", "coverage_50", "pit_deciles", "pit_mean", "crps", "spread_skill",
            "baseline_crps", "origins", "independent_windows",
        )
    }  # fmt: skip
    for p in PROCESSES:
        for h in hc.horizons:
            fan, y = hc.fans[p][h], hc.outcomes[p][h]
            key = str(h)
            n = len(y)
            out["origins"][p][key] = n
            out["independent_windows"][p][key] = backtest.independent_windows(n, step_months, h)
            if n < 2:
                continue
            block = max(1, h // step_months)
            for level, name in ((0.9, "coverage_90"), (0.5, "coverage_50")):
                cov = backtest.band_coverage(fan, y, level)
                out[name][p][key] = {
                    "rate": float(cov.inside.mean()),
                    "below": float(cov.below.mean()),
                    "above": float(cov.above.mean()),
                    "interval_90": backtest.block_bootstrap_interval(cov.inside, block, seed=seed),
                }
            pits = backtest.pit(fan, y)
            out["pit_deciles"][p][key] = backtest.pit_deciles(pits).tolist()
            out["pit_mean"][p][key] = float(pits.mean())
            out["crps"][p][key] = float(backtest.crps_ensemble(fan, y).mean())
            out["spread_skill"][p][key] = backtest.spread_skill(fan, y)
            out["baseline_crps"][p][key] = {
                "random_walk": float(backtest.crps_ensemble(hc.baseline_rw[p][h], y).mean()),
                "flat": float(backtest.crps_ensemble(hc.baseline_flat[p][h], y).mean()),
            }
    return dict(out)


def record(
    hc: Hindcast,
    calibration: dict[str, Any],
    *,
    n_paths: int,
    seed: int,
    step_months: int = 1,
) -> dict[str, Any]:
    """A backtest's full record: what was run and its scores (``hashpivot backtest --json``).

    Parameters
    ----------
    hc : Hindcast
        From :func:`run`.
    calibration : dict
        The ``calibrate`` arguments it ran with.
    n_paths : int
        Paths per origin [-].
    seed : int
        The run's seed [-].
    step_months : int
        Months between origins [month].

    Returns
    -------
    dict
        ``origin_days``, ``horizons``, ``paths``, ``seed``, ``step_months``, ``version``,
        ``data_end`` (the last day of the data scored against), ``calibration`` and the keys of
        :func:`scores`.
    """
    return {
        "origin_days": [str(o.date()) for o in hc.origins],
        "horizons": list(hc.horizons),
        "paths": n_paths,
        "seed": seed,
        "step_months": step_months,
        "version": __version__,
        "data_end": str(history.btc_daily().index[-1].date()),
        "calibration": calibration_key(calibration),
    } | scores(hc, step_months=step_months, seed=seed)


def calibration_key(calibration: dict[str, Any]) -> dict[str, Any]:
    """``calibration`` as plain JSON values with sorted keys, the form records are matched by.

    Parameters
    ----------
    calibration : dict
        ``calibrate`` arguments.

    Returns
    -------
    dict
        The same, JSON-normalised.
    """
    return dict(json.loads(json.dumps(calibration, sort_keys=True, default=str)))


#: The shipped backtest records (``docs/scripts/backtest_scores.py --write`` rebuilds them).
PUBLISHED_FILE = "backtest_scores.json"

#: Horizons [month] and processes a run's report quotes from its model's backtest.
HONESTY_HORIZONS = ("12", "24")
HONESTY_PROCESSES = ("btc_price", "hashrate", "hashprice")


def published_records() -> list[dict[str, Any]]:
    """The backtest records shipped with the package, one per market model they cover.

    Returns
    -------
    list of dict
        Records as :func:`record` makes them (the HTML-only fields left out).
    """
    text = resources.files("hashpivot.market").joinpath(PUBLISHED_FILE).read_text("utf-8")
    return list(json.loads(text)["records"])


def published_scores(calibration: dict[str, Any]) -> dict[str, Any] | None:
    """The shipped backtest of the model ``calibration`` describes, or ``None`` if not shipped.

    Parameters
    ----------
    calibration : dict
        ``calibrate`` arguments (as :func:`hashpivot.engine.run.market_calibration` gives).

    Returns
    -------
    dict or None
        Its record.
    """
    key = calibration_key(calibration)
    for rec in published_records():
        if rec["calibration"] == key:
            return rec
    return None


def honesty(rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a run's report says of its model's backtest: 90% and 50% band coverage and the
    spread-skill at 12 and 24 months for BTC, hashrate and hashprice, against nominal.

    Parameters
    ----------
    rec : dict or None
        A backtest record (:func:`published_scores`).

    Returns
    -------
    dict or None
        ``coverage_90``, ``coverage_50``, ``spread_skill`` (``{process: {"12": …, "24": …}}``),
        ``origins`` (first and last), ``paths`` and ``text`` (one sentence); ``None`` without a
        record.
    """
    if rec is None:
        return None
    out: dict[str, Any] = {
        name: {
            p: {h: rec[name][p][h]["rate"] for h in HONESTY_HORIZONS if h in rec[name][p]}
            for p in HONESTY_PROCESSES
        }
        for name in ("coverage_90", "coverage_50")
    }
    out["spread_skill"] = {
        p: {h: rec["spread_skill"][p][h] for h in HONESTY_HORIZONS if h in rec["spread_skill"][p]}
        for p in HONESTY_PROCESSES
    }
    out["origins"] = [rec["origin_days"][0][:7], rec["origin_days"][-1][:7]]
    out["paths"] = rec["paths"]
    parts = [
        f"{p.replace('_', ' ')} {' / '.join(f'{v:.0%}' for v in out['coverage_90'][p].values())}"
        for p in HONESTY_PROCESSES
    ]
    out["text"] = (
        f"out of sample ({len(rec['origin_days'])} monthly origins {out['origins'][0]} .. "
        f"{out['origins'][1]}), the 90% band held the realised value at 12 / 24 months: "
        + ", ".join(parts)
        + f" (nominal 90%; scored on data to {rec['data_end']})"
    )
    return out


def data_sha256() -> str:
    """SHA-256 over the hashes of the daily network data a backtest reads (shipped and local).

    Returns
    -------
    str
        Hex digest: a stored backtest and the data it scored stay tied together.
    """
    parts = []
    for f in history.DAILY_FILES:
        parts.append(catalog.file_sha256(catalog.dataset_of_file(f)))
    local = store.current(history.LOCAL_DAILY)
    if local is not None:
        parts.append(local["sha256"])
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def path_check(origin: str, n_paths: int = 4000, seed: int = 1, **calibration: Any) -> pd.DataFrame:
    """The fan of one origin month by month against every realised month after it in the data.

    Parameters
    ----------
    origin : str
        The origin, a month's last day (ISO date).
    n_paths : int
        Paths [-].
    seed : int
        Seed [-], used as in :func:`run` (the same fan as a backtest's origin).
    **calibration
        ``calibrate`` arguments.

    Returns
    -------
    pandas.DataFrame
        One row per (month, process): ``realised``, ``p5``, ``p25``, ``p50``, ``p75``, ``p95``
        (levels) and ``inside_90``, ``inside_50``.

    Raises
    ------
    InputError
        No whole month of data after the origin.
    """
    day = pd.Timestamp(origin)
    real = realised_monthly().loc[day + pd.Timedelta(days=1) :]
    if real.empty:
        raise InputError("origin", origin, "a day with at least one whole month of data after it")
    hc = run([day], tuple(range(1, len(real) + 1)), n_paths=n_paths, seed=seed, **calibration)
    rows = []
    for h, month in enumerate(real.index, start=1):
        for p in PROCESSES:
            q = np.exp(np.quantile(hc.fans[p][h][0], (0.05, 0.25, 0.5, 0.75, 0.95)))
            y = float(real.loc[month, p])
            rows.append(
                {"month": month.strftime("%Y-%m"), "process": p, "realised": y}
                | dict(zip(("p5", "p25", "p50", "p75", "p95"), q, strict=True))
                | {"inside_90": bool(q[0] <= y <= q[4]), "inside_50": bool(q[1] <= y <= q[3])}
            )
    return pd.DataFrame(rows)
