"""The plan engine's compiled parts against NumPy and pandas doing the same job."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot.engine import run as plan
from hashpivot.engine import site_results
from hashpivot.market import kernel as market_kernel
from hashpivot.market import scenarios
from hashpivot.workspace import Workspace
from test_plan import ONE_SITE, make_plan, with_


def _market(antithetic: bool = True, btc_model: str = "gbm") -> scenarios.MarketModel:
    data = with_(ONE_SITE, paths=300, market={"antithetic": antithetic, "btc_model": btc_model})
    return plan.build_model(make_plan(data)).market


@pytest.mark.parametrize("antithetic", [True, False])
def test_block_normals_are_numpys_stream_whatever_the_threads(
    antithetic: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _market(antithetic)
    seeds = scenarios.block_seeds(11, 300)
    half = scenarios.PATH_BLOCK // 2 if antithetic else scenarios.PATH_BLOCK
    expected = np.stack(
        [
            np.random.default_rng(seeds[b]).standard_normal((model.n_shocks, half, 24))
            for b in range(1, 5)
        ]
    )
    for threads in (1, 2, 3):
        monkeypatch.setattr(scenarios, "DRAW_THREADS", threads)
        shocks = scenarios.draw_shocks(model, seeds, 1, 4, 300, 24)
        np.testing.assert_array_equal(shocks.u, expected)


def test_bootstrap_draws_continue_the_block_generator() -> None:
    model = _market(btc_model="bootstrap")
    seeds = scenarios.block_seeds(5, 300)
    shocks = scenarios.draw_shocks(model, seeds, 0, 2, 300, 24)
    rng = np.random.default_rng(seeds[1])
    half = scenarios.PATH_BLOCK // 2
    rng.standard_normal((model.n_shocks, half, 24))
    idx = scenarios._bootstrap_indices(
        rng, half, 24, model.bootstrap_returns.size, model.bootstrap_block_months
    )
    blk = scenarios.PATH_BLOCK
    np.testing.assert_array_equal(shocks.boot[0, blk : blk + half], model.bootstrap_returns[idx])
    # the same months' hashrate and fee innovations, drawn with the returns
    inn = scenarios.bootstrap_innovations(model)
    np.testing.assert_array_equal(shocks.boot[1:, blk : blk + half], inn[:, idx])
    # antithetic twins: BTC reflected about its mean, the centred innovations negated
    r = model.bootstrap_returns
    np.testing.assert_allclose(
        shocks.boot[0, blk + half : blk + 2 * half], 2 * r.mean() - r[idx], rtol=1e-15
    )
    np.testing.assert_allclose(
        shocks.boot[1:, blk + half : blk + 2 * half], -inn[:, idx], rtol=0, atol=1e-15
    )


def test_workspace_run_reuses_arrays_and_changes_nothing() -> None:
    model = _market()
    seeds = scenarios.block_seeds(2, 300)
    ws = Workspace()
    a = scenarios.simulate(model, 36, seeds, 0, 2, 300, ws)
    price_a = a.price_usd.copy()
    b = scenarios.simulate(model, 36, seeds, 2, 2, 300, ws)
    assert b.price_usd is a.price_usd  # the same scratch array, refilled
    fresh_a = scenarios.simulate(model, 36, seeds, 0, 2, 300)
    fresh_b = scenarios.simulate(model, 36, seeds, 2, 2, 300)
    np.testing.assert_array_equal(price_a, fresh_a.price_usd)
    np.testing.assert_array_equal(b.btc_per_th_day, fresh_b.btc_per_th_day)


@pytest.mark.parametrize("start", ["2025-11-01", "2025-11-15", "2024-02-01", "2023-12-31"])
def test_month_days_match_pandas_calendar(start: str) -> None:
    """Periods run from the start day to its month's end, then whole calendar months."""
    day = pd.Timestamp(start)
    edges = pd.DatetimeIndex([day]).append(
        pd.date_range(day + pd.offsets.MonthBegin(1), periods=120, freq="MS")
    )
    expected = np.diff(edges.to_numpy()).astype("timedelta64[D]").astype(np.float64)
    np.testing.assert_array_equal(scenarios.month_days(day, 120), expected)
    assert scenarios.month_days(day, 120).sum() == (edges[-1] - day).days


@settings(max_examples=300, deadline=None)
@given(st.floats(-3.0, 3.0, allow_nan=False))
def test_inlined_exp_matches_libm(x: float) -> None:
    assert market_kernel._exp_near_zero(x) == pytest.approx(np.exp(x), rel=4e-16, abs=0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 1.0),
)
def test_row_medians_equal_nanmedian(rows: int, cols: int, seed: int, gap_share: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(size=(rows, cols))
    x[rng.random((rows, cols)) < gap_share] = np.nan
    x[rng.random((rows, cols)) < gap_share / 4] = np.inf
    got = site_results.row_medians(x)
    for r in range(rows):
        finite = x[r][np.isfinite(x[r])]
        if finite.size == 0:
            assert got[r] is None
        else:
            assert got[r] == pytest.approx(float(np.median(finite)), rel=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 50), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_compiled_site_medians_equal_numpy(
    n_sites: int, n_paths: int, seed: int, idle_share: float
) -> None:
    rng = np.random.default_rng(seed)
    shape = (n_sites, n_paths)
    btc = rng.lognormal(size=shape) * (rng.random(shape) >= idle_share)
    mwh = rng.lognormal(size=shape) * (rng.random(shape) >= idle_share)
    args = site_results.CostInputs(
        btc=btc,
        energy_usd=rng.lognormal(10, size=shape),
        pool_fee_usd=rng.lognormal(8, size=shape),
        revenue_usd=rng.lognormal(11, size=shape),
        energy_mwh=mwh,
        months=rng.integers(0, 120, size=shape).astype(float),
        breakeven_rate=rng.lognormal(9, size=n_sites),
        other_rate=rng.lognormal(9, size=n_sites),
        dep=rng.lognormal(15, size=n_sites),
        net=1.0 - rng.uniform(0, 0.03, size=n_sites),
    )
    fast, ref = site_results.site_medians(args), site_results.site_medians_numpy(args)
    for name in site_results.SiteMedians.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name), err_msg=name)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_draws_work_in_a_forked_child() -> None:
    import multiprocessing

    model = _market()
    seeds = scenarios.block_seeds(4, 300)
    parent = scenarios.draw_shocks(model, seeds, 0, 4, 300, 12).u  # the pool now exists
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        child = pool.apply_async(_draw_in_child, (model, seeds)).get(timeout=120)
    np.testing.assert_array_equal(child, parent)


def _draw_in_child(model: scenarios.MarketModel, seeds: list) -> np.ndarray:
    return scenarios.draw_shocks(model, seeds, 0, 4, 300, 12).u
