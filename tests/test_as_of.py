"""Plans placed ``as_of`` a past day: no datum after it is read, and the run starts from the state
on that day with no day skipped."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hashpivot.bitcoin import history
from hashpivot.cli import app
from hashpivot.config import models as config
from hashpivot.engine import run
from hashpivot.errors import ConfigError, DataRangeError, InputError
from hashpivot.market import scenarios
from hashpivot.sites import hardware

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bitriver.yaml"

#: A 2021 miner with debt, a treasury and a power index: fleets of models on sale in 2021.
PLAN_2021 = """
name: miner-2021
horizon_months: 24
paths: 256
seed: 11
discount_rate_annual: 0.12
market:
  window_start: 2018-01-01
  indices:
    - {name: power, volatility: 0.2, half_life_months: 6, escalator_annual: 0.03, corr_btc: 0.1}
company:
  name: Miner 2021
  cash_usd: 20000000
  sga_cash_usd_per_month: 500000
  treasury: {policy: sell_share, sell_share_of_production: 0.7, initial_btc: 200}
  debt:
    - {name: term, kind: term_loan, principal_usd: 30000000, rate_annual: 0.12,
       maturity_months: 24, amortization: linear}
sites:
  - {name: west, power_capacity_mw: 60, pue: 1.08, power_usd_per_mwh: 38, power_index: power,
     uptime: 0.95, pool_fee: 0.02,
     fleet: [{model: Antminer S19j Pro, share_of_power: 0.7},
             {model: WhatsMiner M30S, share_of_power: 0.3}]}
  - {name: north, power_capacity_mw: 25, pue: 1.1, power_usd_per_mwh: 45, uptime: 0.93,
     pool_fee: 0.02, start_month: 4, fleet: [{model: Antminer S19 Pro, share_of_power: 1.0}]}
"""


def _clear_caches() -> None:
    for f in (history._daily_layered, history._complete_days, history._difficulty_epochs):
        f.cache_clear()


@pytest.fixture
def poisoned_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Copies of the daily and epoch files whose every row after a day is wrong (price ×10,
    blocks and fees ×3, difficulty ÷4), read instead of the shipped ones."""

    def poison(day: str) -> None:
        cut = pd.Timestamp(day)
        for name in history.DAILY_FILES:
            df = pd.read_csv(history.data_path(name), parse_dates=["date"])
            late = df["date"] > cut
            for col, k in (("price_usd", 10.0), ("blocks", 3.0), ("fees_btc", 3.0)):
                df.loc[late, col] = df.loc[late, col] * k
            df.loc[late, "difficulty"] = df.loc[late, "difficulty"] / 4.0
            df.to_csv(tmp_path / name, index=False, date_format="%Y-%m-%d")
        ep = pd.read_csv(history.data_path("btc_difficulty_epochs.csv"))
        ep.to_csv(tmp_path / "btc_difficulty_epochs.csv", index=False)
        real = history.data_path
        monkeypatch.setattr(
            history,
            "data_path",
            lambda name: str(tmp_path / name) if (tmp_path / name).exists() else real(name),
        )
        _clear_caches()

    yield poison
    monkeypatch.undo()
    _clear_caches()


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("plan") / "miner_2021.yaml"
    p.write_text(PLAN_2021)
    return p


def _plan(plan_file: Path, as_of: str | None, *sets: str) -> config.PlanConfig:
    extra = [f"market.as_of={as_of}"] if as_of else []
    cfg, _ = config.load_plan(plan_file, [*extra, *sets])
    return cfg


def test_a_plan_as_of_2021_uses_no_datum_after_that_day(plan_file: Path, poisoned_after) -> None:
    clean = run.run(_plan(plan_file, "2021-12-31")).summary()
    poisoned_after("2021-12-31")
    # The poison is live: the daily table now reads ten times the price after the cut.
    assert history.btc_daily().loc["2022-01-02", "price_usd"] > 300_000
    dirty = run.run(_plan(plan_file, "2021-12-31")).summary()
    assert dirty == clean
    # ...and a plan placed after the cut sees it (the test can fail).
    later = run.run(_plan(plan_file, "2022-02-28"), with_tornado=False).summary()
    assert later["market_assumptions"]["start_btc_price_usd"] > 300_000


def test_the_start_state_is_the_state_on_the_day() -> None:
    model = scenarios.calibrate(as_of="2021-12-15")
    state = history.network_state("2021-12-15")
    assert model.start == pd.Timestamp("2021-12-16")
    assert model.price0_usd == state.price_usd
    assert model.height0 == state.height
    assert model.hashrate0_eh_s == state.hashrate_eh_s
    # The month of data ending on the day: 2021-11-16 .. 2021-12-15.
    hp = history.hashprice_history("2021-11-16", "2021-12-15")["hashprice_usd_per_ph_day"]
    assert model.log_hashprice0 == pytest.approx(np.log(hp.mean()), rel=1e-12)
    assert model.data_end == pd.Timestamp("2021-12-15")


def test_a_mid_month_start_has_a_partial_first_period_and_skips_no_day() -> None:
    days = scenarios.month_days(pd.Timestamp("2021-12-16"), 3)
    assert days.tolist() == [16.0, 31.0, 28.0]  # Dec 16-31, Jan, Feb
    frac = scenarios.month_fractions(pd.Timestamp("2021-12-16"), 3)
    assert frac.tolist() == pytest.approx([16 / 31, 1.0, 1.0])
    assert scenarios.month_days(pd.Timestamp("2022-01-01"), 2).tolist() == [31.0, 28.0]


def _paths(model: scenarios.MarketModel, n_months: int) -> scenarios.MarketPaths:
    seeds = scenarios.block_seeds(1, 64)
    return scenarios.simulate(model, n_months, seeds, 0, 1, 64)


def test_a_partial_first_period_takes_its_share_of_the_monthly_growth() -> None:
    """Median path: the first 16 days of a month grow log hashrate by 16/31 of the whole month's
    response (the step is scaled to the period) and by √(16/31) of the error carried from the
    last month (ρ·ε₀, a shock's share of the variance), and blocks follow the period's days."""
    model = scenarios.calibrate(as_of="2021-12-15", stochastic=False)
    part = _paths(model, 2)
    assert part.days.tolist() == [16.0, 31.0]
    hr = model.hashrate
    assert hr.rho > 0 and hr.eps0 != 0  # the carried error is there to test
    growth_month = (
        hr.a + hr.b * model.log_hashprice0 + hr.c * float(scenarios.years_since_2016(model.start))
    )
    growth = 16 / 31 * growth_month + np.sqrt(16 / 31) * hr.rho * hr.eps0
    expected = model.hashrate0_eh_s * np.exp(growth)
    assert part.hashrate_eh_s[0, 0] == pytest.approx(expected, rel=1e-9)
    assert part.blocks[0, 0] == pytest.approx(16 * 144 * np.exp(growth / 2), rel=1e-9)


def test_a_bootstrap_first_period_has_its_share_of_the_variance() -> None:
    model = scenarios.calibrate(as_of="2021-12-15", btc_model="bootstrap")
    seeds = scenarios.block_seeds(5, 64 * 200)
    shocks = scenarios.draw_shocks(model, seeds, 0, 200, 64 * 200, 2)
    assert shocks.boot is not None
    ratio = shocks.boot[0, :, 0].var() / shocks.boot[0, :, 1].var()
    assert ratio == pytest.approx(16 / 31, rel=0.1)


@pytest.mark.parametrize("day", ["2012-01-01", "2026-02-01", "2030-01-01"])
def test_an_as_of_outside_the_data_is_a_named_error(plan_file: Path, day: str) -> None:
    with pytest.raises(ConfigError) as e:
        _plan(plan_file, day)
    assert "market.as_of" in str(e.value) and day in str(e.value)
    with pytest.raises(DataRangeError, match=r"market\.as_of"):
        scenarios.calibrate(as_of=day)


def test_a_window_past_as_of_is_a_named_error(plan_file: Path) -> None:
    with pytest.raises(ConfigError, match="window_end"):
        _plan(plan_file, "2021-12-31", "market.window_end=2022-06-01")


def test_hourly_prices_after_as_of_are_refused(plan_file: Path) -> None:
    cfg = _plan(plan_file, "2021-12-31", "sites[1].power_market=ercot:HB_WEST:da:2023")
    with pytest.raises(InputError, match=r"sites\[1\]\.power_market"):
        run.build_model(cfg)
    ok = _plan(plan_file, "2021-12-31", "sites[1].power_market=ercot:HB_WEST:da:2021")
    run.build_model(ok)


def test_a_model_released_after_as_of_is_a_named_error(plan_file: Path) -> None:
    with pytest.raises(ConfigError) as e:
        _plan(plan_file, "2021-12-31", "sites[1].fleet[0].model=Antminer S21")
    text = str(e.value)
    assert "sites[1].fleet[0].model" in text and "Antminer S21" in text and "2023-09" in text
    # A site starting after the release may use it.
    _plan(plan_file, "2023-06-30", "sites[1].fleet[0].model=Antminer S21")
    assert hardware.earliest_release_day(hardware.release_date("Antminer S19 XP")) == (
        dt.date(2022, 1, 1)
    )
    assert hardware.release_date("Antminer S21 XP") == ""  # unknown: never guessed


def test_the_cli_takes_as_of(plan_file: Path, tmp_path: Path) -> None:
    shutil.copy(plan_file, tmp_path / "p.yaml")
    r = CliRunner().invoke(
        app.app,
        [
            "plan",
            str(tmp_path / "p.yaml"),
            "--as-of",
            "2021-12-31",
            "--paths",
            "128",
            "--months",
            "12",
            "--db",
            str(tmp_path / "s.duckdb"),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)["market_assumptions"]
    assert m["as_of"] == "2021-12-31" and m["start"] == "2022-01-01"
    assert any(f.startswith("as of 2021-12-31") for f in m["flags"])
