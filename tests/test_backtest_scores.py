"""The backtest's scores (issue 17, first step): by hand on tiny cases, against closed forms, and
a harness check — fans from the true process of a simulated world cover at their nominal rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hashpivot.errors import InputError
from hashpivot.market import backtest as bt


def test_coverage_and_pit_by_hand() -> None:
    fan = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    y = np.array([0.5, 3.0])
    cov = bt.band_coverage(fan, y, 0.5)  # the 25th..75th percentile: 2 .. 4
    assert cov.inside.tolist() == [False, True]
    assert cov.below.tolist() == [True, False] and cov.above.tolist() == [False, False]
    # PIT: 0 members below 0.5; two below 3 and one tie → (2 + 0.5) / 5.
    assert bt.pit(fan, y).tolist() == [0.0, 0.5]
    deciles = bt.pit_deciles(np.array([0.05, 0.15, 0.15, 0.95, 1.0]))
    assert deciles.tolist() == [0.2, 0.4, 0, 0, 0, 0, 0, 0, 0, 0.4]


def test_crps_of_an_ensemble_by_hand_and_by_definition() -> None:
    # Two members {0, 2}, outcome 1: E|X − 1| = 1, ½ E|X − X′| = ½ · (0 + 2 + 2 + 0)/4 = 0.5.
    assert bt.crps_ensemble(np.array([[0.0, 2.0]]), np.array([1.0]))[0] == pytest.approx(0.5)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 60)), rng.normal(size=4)
    direct = np.abs(x - y[:, None]).mean(axis=1) - 0.5 * np.abs(x[:, :, None] - x[:, None, :]).mean(
        axis=(1, 2)
    )
    np.testing.assert_allclose(bt.crps_ensemble(x, y), direct, rtol=1e-12)


@pytest.mark.parametrize(("mu", "sigma", "y"), [(0.0, 1.0, 0.3), (2.0, 0.5, 1.1), (-1.0, 3.0, 4.0)])
def test_crps_of_a_large_normal_ensemble_matches_the_closed_form(
    mu: float, sigma: float, y: float
) -> None:
    """Gneiting & Raftery (2007) eq. 20: CRPS(N(μ,σ²), y) = σ[z(2Φ(z) − 1) + 2φ(z) − 1/√π]."""
    z = (y - mu) / sigma
    exact = sigma * (
        z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
    )
    members = mu + sigma * stats.norm.ppf((np.arange(20_000) + 0.5) / 20_000)
    assert bt.crps_ensemble(members[None, :], np.array([y]))[0] == pytest.approx(exact, rel=2e-3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30), st.floats(-1e3, 1e3))
def test_crps_is_non_negative_and_zero_only_for_a_point_mass_on_the_outcome(
    members: list[float], y: float
) -> None:
    fan = np.array([members])
    c = bt.crps_ensemble(fan, np.array([y]))[0]
    assert c >= -1e-9 * (1 + abs(y) + np.abs(fan).max())
    assert bt.crps_ensemble(np.full((1, 5), y), np.array([y]))[0] == pytest.approx(0.0, abs=1e-9)


def test_a_world_drawn_from_the_true_process_is_covered_at_the_nominal_rate() -> None:
    """Harness check: outcomes and fans from the same Gaussian random walk (200 independent
    origins, 2,000 members) → 90% bands hold ~90%, 50% bands ~50%, PIT deciles ~0.1 each,
    spread-skill ~1. A fan half as wide fails all three (the checks can fail)."""
    rng = np.random.default_rng(7)
    n, m, h, sigma = 400, 2000, 12, 0.1
    start = rng.normal(size=n)
    outcome = start + sigma * math.sqrt(h) * rng.standard_normal(n)
    fan = start[:, None] + sigma * math.sqrt(h) * rng.standard_normal((n, m))
    cov90 = bt.band_coverage(fan, outcome, 0.9).inside.mean()
    cov50 = bt.band_coverage(fan, outcome, 0.5).inside.mean()
    assert 0.86 <= cov90 <= 0.94 and 0.44 <= cov50 <= 0.56
    assert np.abs(bt.pit_deciles(bt.pit(fan, outcome)) - 0.1).max() < 0.05
    assert 0.9 <= bt.spread_skill(fan, outcome) <= 1.1
    narrow = start[:, None] + 0.5 * (fan - start[:, None])
    assert bt.band_coverage(narrow, outcome, 0.9).inside.mean() < 0.8
    assert bt.spread_skill(narrow, outcome) > 1.6


def test_overlapping_origins_are_counted_as_independent_windows() -> None:
    assert bt.independent_windows(75, 1, 12) == 7  # 74 months of origins → 6 whole years + 1
    assert bt.independent_windows(75, 1, 3) == 25
    assert bt.independent_windows(1, 1, 24) == 1 and bt.independent_windows(0, 1, 3) == 0


def test_the_block_bootstrap_interval_covers_the_rate_and_widens_with_dependence() -> None:
    rng = np.random.default_rng(11)
    iid = rng.random(300) < 0.9
    lo, hi = bt.block_bootstrap_interval(iid, 1, seed=1)
    assert lo < iid.mean() < hi and hi - lo < 0.08
    # Runs of 12 identical hits (what overlapping 12-month outcomes look like) widen it.
    runs = np.repeat(rng.permutation(np.arange(25) >= 3), 12)  # 22 of 25 windows hit
    lo1, hi1 = bt.block_bootstrap_interval(runs, 1, seed=1)
    lo12, hi12 = bt.block_bootstrap_interval(runs, 12, seed=1)
    assert hi12 - lo12 > 1.8 * (hi1 - lo1)
    assert bt.block_bootstrap_interval(runs, 12, seed=1) == (lo12, hi12)  # deterministic


def test_the_block_bootstrap_draws_every_origin_equally_often() -> None:
    """Misses at both ends of the series (as in a backtest whose first and last origins miss):
    each origin is drawn equally often, so the resampled mean centres on the rate and the
    interval holds it (a moving-block bootstrap, with no block starting near the end, gave
    [0.96, 1.0] for a rate of 0.94)."""
    hits = np.ones(68)
    hits[:2] = hits[-2:] = 0.0
    lo, hi = bt.block_bootstrap_interval(hits, 24, seed=0, n_boot=4000)
    assert lo <= hits.mean() <= hi


def test_the_baselines() -> None:
    x = np.log(np.linspace(100.0, 200.0, 40))
    rng = np.random.default_rng(0)
    rw = bt.random_walk_fan(x, 12, 4000, rng)
    sigma = np.diff(x)[-24:].std(ddof=1)
    assert rw.mean() == pytest.approx(x[-1], abs=4 * sigma * math.sqrt(12) / math.sqrt(4000))
    assert rw.std() == pytest.approx(sigma * math.sqrt(12), rel=0.05)
    flat = bt.flat_fan(x, 12)
    assert flat.size == 28 and flat.mean() == pytest.approx(x[-1])
    with pytest.raises(InputError, match="log_history"):
        bt.flat_fan(x[:12], 12)
    with pytest.raises(InputError, match="outcome"):
        bt.pit(np.zeros((2, 5)), np.zeros(3))
