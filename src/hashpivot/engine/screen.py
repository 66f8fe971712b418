"""Screening miners from a few public numbers: breakeven hashprice, runway, P(default in 12 months).

Input rows (CSV): ``company, eh_s, efficiency_j_per_th, power_usd_per_kwh, cash_usd, btc_held,
debt_usd``, and optionally ``interest_rate_annual, sga_usd_per_month, source``. Per company:

* **breakeven hashprice** [USD/PH/day]: what covers power, cash SG&A and interest,
  ``(J/TH · 0.024 · $/kWh · 1000) + (SG&A + interest) / (30.44 · PH/s)``;
* **runway** [months]: liquid assets (cash + BTC at today's price) over the monthly burn at
  today's hashprice. None when the company earns more than it spends;
* **P(default within 12 months)**: over Monte Carlo paths of hashprice and BTC price from the
  calibrated scenario engine, the share of paths on which liquid assets (cash plus cumulative
  operating cash flow plus BTC held at that month's price) turn negative in some month. Debt
  counts as interest only: maturities are not in the screen's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..bitcoin import history
from ..errors import InputError
from ..market import scenarios
from ..units import DAYS_PER_MONTH

REQUIRED = (
    "company",
    "eh_s",
    "efficiency_j_per_th",
    "power_usd_per_kwh",
    "cash_usd",
    "btc_held",
    "debt_usd",
)
OPTIONAL = {"interest_rate_annual": 0.0, "sga_usd_per_month": 0.0, "source": ""}
DAYS = DAYS_PER_MONTH  # average month [d]


@dataclass(frozen=True)
class Screened:
    company: str
    breakeven_hashprice_usd_per_ph_day: float
    hashprice_today_usd_per_ph_day: float
    runway_months: float | None
    p_default_12m: float
    monthly_burn_usd: float

    def to_dict(self) -> dict[str, Any]:
        """The row as a plain dict (the ``screen --json`` answer)."""
        return self.__dict__.copy()


def read_companies(path: str | Path) -> pd.DataFrame:
    """Read and validate the screen's CSV.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV with one row per company (see ``examples/public_miners_2025.csv``).

    Returns
    -------
    pandas.DataFrame
        The companies, one row each.

    Raises
    ------
    InputError
        A missing file or column, or a bad value, naming the row and column.
    """
    try:
        df = pd.read_csv(path, comment="#")
    except FileNotFoundError:
        raise InputError("COMPANIES.csv", str(path), "an existing CSV file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError("COMPANIES.csv", str(path), f"a readable CSV ({exc})") from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{path}: columns", list(df.columns), "also " + ", ".join(missing))
    for col, default in OPTIONAL.items():
        if col not in df.columns:
            df[col] = default
    for col in (*REQUIRED[1:], "interest_rate_annual", "sga_usd_per_month"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | (values < 0)
        if col in ("eh_s", "efficiency_j_per_th"):
            bad |= values <= 0
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path}: row {row + 1} ({df['company'].iloc[row]}).{col}",
                df[col].iloc[row],
                "a number >= 0 (> 0 for eh_s and efficiency)",
            )
        df[col] = values.astype(float)
    return df


def screen(df: pd.DataFrame, paths: int = 4096, seed: int = 1) -> list[Screened]:
    """Screen every company against today's network and 12 simulated months.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`read_companies`.
    paths : int
        Simulated paths [-].
    seed : int
        Random seed [-].

    Returns
    -------
    list of Screened
        Per company: breakeven and today's hashprice [USD/PH/day], runway [month], P(default
        within 12 months) [-] and monthly burn [USD].
    """
    state = history.network_state()
    hp0 = state.hashprice_usd_per_ph_day
    model = scenarios.calibrate(window_start="2020-01-01", mu_annual=0.2)
    seeds = scenarios.block_seeds(seed, paths)
    sim = scenarios.simulate(model, 12, seeds, 0, len(seeds), paths)
    hashprice = sim.hashprice_usd_per_ph_day  # [path, month]
    price = sim.price_usd
    out = []
    for _, r in df.iterrows():
        ph = r["eh_s"] * 1000.0
        power_mw = r["eh_s"] * r["efficiency_j_per_th"]  # EH/s × J/TH = MW
        energy_month = power_mw * 1000.0 * 24.0 * DAYS * r["power_usd_per_kwh"]
        fixed_month = r["sga_usd_per_month"] + r["debt_usd"] * r["interest_rate_annual"] / 12.0
        breakeven = (energy_month + fixed_month) / (DAYS * ph)
        burn = energy_month + fixed_month - ph * hp0 * DAYS
        liquid0 = r["cash_usd"] + r["btc_held"] * state.price_usd
        runway = float(liquid0 / burn) if burn > 0 else None
        flows = ph * hashprice * sim.days[None, :] - energy_month - fixed_month
        liquid = r["cash_usd"] + np.cumsum(flows, axis=1) + r["btc_held"] * price
        p_default = float((liquid < 0).any(axis=1).mean())
        out.append(
            Screened(
                str(r["company"]), float(breakeven), float(hp0), runway, p_default, float(burn)
            )
        )
    return out
