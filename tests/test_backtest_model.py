"""Issue 17, the re-specified processes and what a user sees of the backtest: AR(1) hashrate
errors recovered from a known process, the fee level from a trailing mean, the model's own world
covered at the nominal rate, the ``hashpivot backtest`` report and store, and every run quoting
its model's backtest."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hashpivot.cli import app
from hashpivot.config.models import MarketModelConfig
from hashpivot.engine.run import market_calibration
from hashpivot.errors import InputError
from hashpivot.market import backtest as bt
from hashpivot.market import hindcast, scenarios
from hashpivot.runs import store

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


def _synthetic_history(rho: float, sigma: float, n: int, seed: int) -> tuple[pd.DataFrame, float]:
    """Monthly history whose hashrate growth is ``a + b·lhp + c·t + ε``, ε AR(1) (ρ, σ), with
    an exogenous hashprice (so OLS is unbiased and the truth is known)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2016-01-01", periods=n, freq="MS")
    lhp = np.log(100.0) + np.cumsum(rng.normal(0, 0.1, n))
    eps = np.zeros(n)
    for t in range(1, n):
        eps[t] = rho * eps[t - 1] + sigma * rng.standard_normal()
    t_years = scenarios.years_since_2016(idx)
    growth = np.r_[np.nan, -0.2 + 0.05 * lhp[:-1] - 0.01 * t_years[1:] + eps[1:]]
    m = pd.DataFrame(
        {"hashrate_growth": growth, "hashprice_usd_per_ph_day": np.exp(lhp)}, index=idx
    )
    return m, eps[-1]


def test_ar1_hashrate_errors_are_recovered_from_a_known_process() -> None:
    m, last = _synthetic_history(rho=0.4, sigma=0.05, n=4000, seed=3)
    fit = scenarios.fit_hashrate(m)
    assert fit.b == pytest.approx(0.05, abs=0.01)
    assert fit.c == pytest.approx(-0.01, abs=0.003)
    assert fit.rho == pytest.approx(0.4, abs=0.04)  # se of ρ̂ ≈ √((1−ρ²)/n) ≈ 0.015
    assert fit.sigma == pytest.approx(0.05, rel=0.05)
    assert fit.sigma_stationary == pytest.approx(0.05 / np.sqrt(1 - 0.4**2), rel=0.05)
    assert fit.eps0 == pytest.approx(last, abs=0.01)  # the last residual ≈ the last error
    # i.i.d. errors give ρ ≈ 0 (clipped at 0 when negative): the test can fail
    iid = scenarios.fit_hashrate(_synthetic_history(rho=0.0, sigma=0.05, n=4000, seed=4)[0])
    assert iid.rho < 0.05


def test_the_simulated_hashrate_error_is_the_ar1_closed_form() -> None:
    """Median path of a model whose only shock is off: the error decays as ρ^t·ε₀, so the
    log growth in month t (from month 2 on, whole months) is the response plus ρ^t·ε₀."""
    model = scenarios.calibrate(as_of="2021-12-31", stochastic=False)
    hr = model.hashrate
    assert hr.rho > 0.1 and abs(hr.eps0) > 1e-4
    seeds = scenarios.block_seeds(1, 64)
    p = scenarios.simulate(model, 4, seeds, 0, 1, 64)
    h0 = model.hashrate0_eh_s
    g1 = np.log(p.hashrate_eh_s[0, 0] / h0)
    resp = (
        hr.a + hr.b * model.log_hashprice0 + hr.c * float(scenarios.years_since_2016(model.start))
    )
    assert g1 == pytest.approx(resp + hr.rho * hr.eps0, abs=1e-12)


def test_fees_revert_to_the_trailing_mean() -> None:
    m = scenarios.monthly_history("2016-01-01", as_of="2025-12-31")
    x = np.log(m["fees_btc_per_block"].to_numpy())
    fit = scenarios.fit_fees(m, 24)
    assert fit.mean_log == pytest.approx(x[-24:].mean(), abs=1e-12)
    assert scenarios.fit_fees(m).mean_log == pytest.approx(x.mean(), abs=1e-12)
    assert fit.phi == scenarios.fit_fees(m).phi  # persistence from the whole window
    with pytest.raises(InputError, match="fee_mean_months"):
        scenarios.fit_fees(m, 0)


def test_the_joint_bootstrap_pool_holds_whole_months() -> None:
    """The pool's three rows are the same months: BTC return, hashrate and fee innovations."""
    model = scenarios.calibrate(as_of="2023-06-30")
    m = scenarios.monthly_history("2010-01-01", as_of="2023-06-30")
    inn = scenarios.bootstrap_innovations(model)
    eta = scenarios.hashrate_innovations(m.loc["2016-01-01":], model.hashrate)
    common = eta.index.intersection(m.loc["2016-01-01":, "log_return"].dropna().index)
    assert model.bootstrap_returns.size == inn.shape[1] == len(common)
    z = (eta.loc[common] - eta.loc[common].mean()) / eta.loc[common].std(ddof=0)
    np.testing.assert_allclose(inn[0], z.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(inn.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(inn.std(axis=1), 1.0, atol=1e-12)
    broken = dataclasses.replace(model, bootstrap_innovations=None)
    with pytest.raises(InputError, match="bootstrap_innovations"):
        scenarios.bootstrap_innovations(broken)


@pytest.mark.parametrize("btc_model", ["gbm", "bootstrap"])
def test_the_models_own_world_is_covered_at_the_nominal_rate(btc_model: str) -> None:
    """Harness and model together: outcomes drawn from the model (one seed) and fans from it
    (another) → the 90% and 50% bands hold about their share at 12 months, PIT near flat."""
    model = scenarios.calibrate(as_of="2021-12-31", btc_model=btc_model)
    n_world, n_fan = 640, 2048
    world = scenarios.simulate(model, 12, scenarios.block_seeds(11, n_world), 0, 10, n_world)
    fan = scenarios.simulate(model, 12, scenarios.block_seeds(12, n_fan), 0, 32, n_fan)
    for p in ("hashprice", "hashrate", "btc_price"):
        y = hindcast._simulated_logs(world, 11)[p]
        members = np.broadcast_to(hindcast._simulated_logs(fan, 11)[p], (n_world, n_fan))
        cov90 = bt.band_coverage(members, y, 0.9).inside.mean()
        cov50 = bt.band_coverage(members, y, 0.5).inside.mean()
        assert 0.86 <= cov90 <= 0.94 and 0.44 <= cov50 <= 0.56, (p, cov90, cov50)
        assert np.abs(bt.pit_deciles(bt.pit(members, y)) - 0.1).max() < 0.04


def test_the_backtest_is_deterministic_for_a_seed() -> None:
    o = hindcast.month_end_origins("2019-06", "2019-08")
    a = hindcast.record(hindcast.run(o, (3, 6), n_paths=128, seed=4), {}, n_paths=128, seed=4)
    b = hindcast.record(hindcast.run(o, (3, 6), n_paths=128, seed=4), {}, n_paths=128, seed=4)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_the_shipped_record_of_the_default_model_is_current() -> None:
    """A default plan finds its model's backtest, made from today's data; re-running its first
    origins reproduces the fans it was scored on (the record is not stale)."""
    cal = market_calibration(MarketModelConfig())
    rec = hindcast.published_scores(cal)
    assert rec is not None, "docs/scripts/backtest_scores.py --write"
    assert rec["data_sha256"] == hindcast.data_sha256()
    assert rec["origin_days"][0] == "2018-06-30" and rec["origin_days"][-1] == "2024-12-31"
    assert rec["paths"] == 4000
    h = hindcast.honesty(rec)
    assert h is not None and set(h["coverage_90"]["hashprice"]) == {"12", "24"}
    assert hindcast.published_scores(cal | {"bootstrap_block_months": 7}) is None


def test_backtest_cli_writes_its_report_and_stores_its_scores(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    args = ["backtest", "--origins", "2019-01:2019-04", "--horizons", "3,6", "--paths", "128"]
    r = CliRunner().invoke(app.app, [*args, "--out", str(tmp_path / "out"), "--db", str(db)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        app.app, [*args, "--out", str(tmp_path / "out"), "--db", str(db), "--json"]
    )
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    for key in ("coverage_90", "coverage_50", "pit_deciles", "crps", "spread_skill",
                "baseline_crps"):  # fmt: skip
        assert set(rec[key]) == set(hindcast.PROCESSES) and set(rec[key]["hashprice"]) == {
            "3",
            "6",
        }
    page = Path(rec["report_path"]).read_text()
    for section in ("Coverage by horizon", "PIT histograms", "Realised against the fans",
                    "naive baselines"):  # fmt: skip
        assert section in page
    con = store.connect(db, read_only=True)
    try:
        stored = store.list_backtests(con)
        assert len(stored) == 2 and stored[-1]["backtest_id"] == rec["backtest_id"]
        again = store.get_backtest(con, rec["backtest_id"])
        assert again["crps"] == rec["crps"]
        n = con.execute(
            "SELECT count(*) FROM backtest_scores WHERE backtest_id = ? AND metric = 'coverage_90'",
            [rec["backtest_id"]],
        ).fetchone()
        assert n == (len(hindcast.PROCESSES) * 2,)
        v = con.execute(
            "SELECT value FROM backtest_scores WHERE backtest_id = ? AND process = 'hashprice' "
            "AND horizon_months = 6 AND metric = 'crps_random_walk'",
            [rec["backtest_id"]],
        ).fetchone()
        assert v == (pytest.approx(rec["baseline_crps"]["hashprice"]["6"]["random_walk"]),)
    finally:
        con.close()


def test_a_backtest_with_a_bad_db_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_text("plain text, not DuckDB")
    out = tmp_path / "out"
    r = CliRunner().invoke(
        app.app,
        ["backtest", "--origins", "2019-01:2019-01", "--horizons", "3", "--paths", "64",
         "--out", str(out), "--db", str(bad)],
    )  # fmt: skip
    assert r.exit_code != 0 and "--db" in str(r.exception)
    assert not out.exists()


def test_a_run_quotes_its_models_backtest(tmp_path: Path) -> None:
    from hashpivot.config import models as config
    from hashpivot.engine import run as plan

    cfg, _ = config.load_plan(ROOT / "examples" / "texas_miner.yaml", paths=256, horizon_months=12)
    m = plan.market_assumptions(plan.build_model(cfg))
    rec = hindcast.published_scores(market_calibration(cfg.market))
    if rec is None:
        assert "not among the backtested" in m["backtest_text"]
    else:
        assert (
            m["backtest"]["coverage_90"]["hashprice"]["12"]
            == rec["coverage_90"]["hashprice"]["12"]["rate"]
        )
        assert "nominal 90%" in m["backtest_text"]
        missed = [
            (p, h)
            for p in hindcast.HONESTY_PROCESSES
            for h, v in m["backtest"]["coverage_90"][p].items()
            if not 0.85 <= v <= 0.95
        ]
        flagged = [f for f in m["flags"] if "out of sample" in f]
        assert len(flagged) == (1 if missed else 0)
        for p, h in missed:
            assert f"{p.replace('_', ' ')} " in flagged[0] and f"at {h} m" in flagged[0]
    other, _ = config.load_plan(
        ROOT / "examples" / "texas_miner.yaml", ["market.bootstrap_block_months=7"], paths=256
    )
    m2 = plan.market_assumptions(plan.build_model(other))
    assert m2["backtest"] is None and "hashpivot backtest" in m2["backtest_text"]


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (make test installs it; under CI this test must run)",
)
def test_the_backtest_report_renders_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    r = subprocess.run(
        [str(Path(sys.executable).parent / "hashpivot"), "backtest", "--origins", "2019-01:2019-12",
         "--horizons", "3,12", "--paths", "128", "--out", str(tmp_path), "--db",
         str(tmp_path / "s.duckdb"), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    page_path = Path(json.loads(r.stdout)["report_path"])
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 6")
        drawn = page.eval_on_selector_all(
            ".js-plotly-plot",
            "els => els.filter(e => e.querySelectorAll('g.trace, g.barlayer g.point').length > 0)"
            ".length",
        )
        text = page.inner_text("body")
        browser.close()
    assert drawn == 6 and errors == []
    assert "hashprice" in text and "random walk" in text


def test_a_plans_late_window_reaches_back_only_as_far_as_an_origin_needs(tmp_path: Path) -> None:
    cal = {"window_start": "2020-01-01", "hashrate_window_start": "2016-01-01", "drift": "x"}
    early = hindcast.windows_at(pd.Timestamp("2018-06-30"), cal)
    assert early == cal | {"window_start": "2016-07-01"}  # 24 whole months: 2016-07 .. 2018-06
    assert hindcast.windows_at(pd.Timestamp("2022-01-31"), cal) == cal  # the plan's own from here
    assert cal["window_start"] == "2020-01-01"  # not changed in place
    r = CliRunner().invoke(
        app.app,
        ["backtest", str(ROOT / "examples" / "texas_miner.yaml"), "--origins", "2018-06:2018-06",
         "--horizons", "3", "--paths", "64", "--json", "--db", str(tmp_path / "s.duckdb"),
         "--out", str(tmp_path)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["calibration"]["window_start"] == "2020-01-01"


def test_the_bootstrap_takes_an_explicit_volatility() -> None:
    m = scenarios.calibrate(sigma_annual=0.4)
    r = m.bootstrap_returns
    assert np.sqrt(r.var(ddof=1) * 12) == pytest.approx(0.4, rel=1e-12)
    assert m.sigma_annual == 0.4 and r.mean() == pytest.approx(0.0, abs=1e-15)
