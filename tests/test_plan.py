"""Plan engine: determinism, calibration, agreement with the core cost functions, variance
reduction, kernels, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from hashpivot.config import models as config
from hashpivot.config import reference as config_schema
from hashpivot.engine import run as plan
from hashpivot.errors import ConfigError, InputError
from hashpivot.market import kernel as market_kernel
from hashpivot.market import scenarios
from hashpivot.sites import kernel as kernels
from hashpivot.sites import mining
from hashpivot.sites.site import FixedCosts
from hashpivot.units import DAYS_PER_MONTH

ROOT = Path(__file__).resolve().parents[1]

ONE_SITE = {
    "name": "one-site",
    "horizon_months": 36,
    "paths": 256,
    "seed": 7,
    "discount_rate_annual": 0.1,
    "market": {"window_start": "2020-01-01", "mu_annual": 0.1},
    "company": {"name": "Co", "cash_usd": 5e6, "sga_cash_usd_per_month": 2e5},
    "sites": [
        {
            "name": "a",
            "power_capacity_mw": 50,
            "pue": 1.1,
            "power_usd_per_mwh": 45,
            "uptime": 0.95,
            "pool_fee": 0.02,
            "site_opex_usd_per_mw_month": 2000,
            "sga_cash_usd_per_month": 100_000,
            "interest_usd_per_month": 50_000,
            "fleet": [{"model": "Antminer S21", "share_of_power": 1.0}],
        }
    ],
}


def make_plan(data: dict) -> config.PlanConfig:
    return config.validate(config.PlanConfig, data, "test")


def with_(data: dict, **changes) -> dict:
    out = yaml.safe_load(yaml.safe_dump(data))
    out.update(changes)
    return out


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_metrics_and_chunk_size_does_not_matter() -> None:
    cfg = make_plan(with_(ONE_SITE, paths=1000))
    model = plan.build_model(cfg)
    a = plan.run(cfg, chunk_size=64, model=model, with_tornado=False)
    b = plan.run(cfg, chunk_size=1024, model=model, with_tornado=False)
    c = plan.run(cfg, chunk_size=192, model=model, with_tornado=False)
    np.testing.assert_array_equal(a.npv_values, b.npv_values)
    np.testing.assert_array_equal(a.npv_values, c.npv_values)
    assert a.summary() == b.summary() == c.summary()
    assert a.fans == b.fans


def test_different_seed_differs() -> None:
    a = plan.run(make_plan(ONE_SITE), with_tornado=False)
    b = plan.run(make_plan(with_(ONE_SITE, seed=8)), with_tornado=False)
    assert a.npv.mean != b.npv.mean


def test_chunk_size_must_be_whole_blocks() -> None:
    with pytest.raises(InputError) as err:
        plan.chunk_blocks(100)
    assert err.value.field == "chunk_size"


# --------------------------------------------------------------------------- calibration
@pytest.mark.parametrize(("mu", "sigma"), [(0.3, 0.6), (-0.1, 0.2), (0.05, 1.0)])
def test_gbm_calibration_recovers_parameters(mu: float, sigma: float) -> None:
    rng = np.random.default_rng(42)
    n, dt = 1200, 1 / 12  # 100 years of monthly returns
    r = (mu - sigma**2 / 2) * dt + sigma * np.sqrt(dt) * rng.standard_normal(n)
    fit = scenarios.fit_gbm(r, dt)
    years = n * dt
    # Sampling errors: sd(μ̂) ≈ σ/√T; sd(σ̂) ≈ σ/√(2n). Allow 3 standard errors.
    assert abs(fit.mu_annual - mu) < 3 * sigma / np.sqrt(years)
    assert abs(fit.sigma_annual - sigma) < 3 * sigma / np.sqrt(2 * n)


def test_hashrate_regression_on_history() -> None:
    m = scenarios.monthly_history("2015-01-01")
    fit = scenarios.fit_hashrate(m.loc["2016-01-01":])
    # Hashrate grows faster after high hashprice, and the frontier trend is positive.
    assert fit.b > 0 and fit.c > 0
    assert 0.1 < fit.r2 < 0.5
    assert fit.n > 100


# --------------------------------------------------------------------------- agreement with core
def test_zero_volatility_one_path_equals_core_cost_functions_month_by_month() -> None:
    data = with_(ONE_SITE, paths=1)
    data["market"] = {
        "window_start": "2020-01-01",
        "mu_annual": 0.1,
        "stochastic": False,
        "antithetic": False,
    }
    data["company"] = {"name": "Co"}
    data["sites"][0]["curtail_when_unprofitable"] = False
    cfg = make_plan(data)
    model = plan.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, 1)
    paths = scenarios.simulate(model.market, cfg.horizon_months, seeds, 0, 1, 1)
    ev = plan.evaluate(model, paths)
    company = ev.company_usd
    site = cfg.sites[0].to_site()
    # Month by month, the core functions on the same monthly network state:
    for t in range(cfg.horizon_months):
        flows = mining.mining_flows(
            hashrate_th_s=site.hashrate_th_s,
            facility_power_mw=site.facility_power_mw,
            uptime=site.uptime,
            pool_fee=site.pool_fee,
            difficulty=paths.difficulty[0, t],
            subsidy_btc=paths.subsidy_btc[0, t],
            fees_btc_per_block=paths.fees_btc_per_block[0, t],
            price_usd=paths.price_usd[0, t],
            power_usd_per_mwh=site.power_usd_per_mwh,
            days=paths.days[t],
        )
        stack = mining.cost_stack(flows, site.costs, paths.days[t])
        want = (
            stack.revenue_usd
            - stack.pool_fee_usd
            - stack.energy_cost_usd
            - stack.site_opex_usd
            - stack.sga_cash_usd
            - stack.interest_usd
        )
        assert company[0, t] == pytest.approx(want, rel=1e-10)
    # A deterministic model: no shocks, one path — the same whatever the seed.
    other = scenarios.simulate(
        model.market, cfg.horizon_months, scenarios.block_seeds(99, 1), 0, 1, 1
    )
    np.testing.assert_array_equal(other.price_usd, paths.price_usd)
    # Price grows at μ exactly. A month's price is the geometric mean of its start and end, so
    # month 11 over month 0 is e^{μ (T_10 + T_11)/2 − μ T_0/2} with T_k the years to month k's end.
    d = paths.days / 365.25
    elapsed = d[:11].sum() + (d[11] - d[0]) / 2
    assert paths.price_usd[0, 11] / paths.price_usd[0, 0] == pytest.approx(
        np.exp(0.1 * elapsed), rel=1e-12
    )
    assert ev.totals["btc"][0, 0] == pytest.approx(
        np.sum(site.hashrate_th_s * site.uptime * paths.btc_per_th_day[0] * paths.days), rel=1e-12
    )


def test_subsidy_halves_on_schedule_in_the_simulation() -> None:
    cfg = make_plan(with_(ONE_SITE, horizon_months=60, paths=64))
    model = plan.build_model(cfg)
    paths = scenarios.simulate(model.market, 60, scenarios.block_seeds(1, 64), 0, 1, 64)
    sub = paths.subsidy_btc
    assert np.all(np.abs(sub[:, 0] - 3.125) < 1e-14)
    assert np.allclose(sub[:, -1], 1.5625)  # the 2028 halving (height 1,050,000) has happened
    assert np.all(np.diff(sub, axis=1) <= 1e-14)  # never rises


# --------------------------------------------------------------------------- variance reduction
def test_antithetic_variance_below_plain() -> None:
    base = with_(ONE_SITE, paths=2048, seed=3)
    anti = plan.run(make_plan(base), with_tornado=False)
    plain_data = with_(base)
    plain_data["market"]["antithetic"] = False
    plain = plan.run(make_plan(plain_data), with_tornado=False)
    n = anti.npv_values.size
    blk = scenarios.PATH_BLOCK
    v = anti.npv_values.reshape(-1, blk)
    pairs = 0.5 * (v[:, : blk // 2] + v[:, blk // 2 :])  # mirrored partners within each block
    var_anti = pairs.var(ddof=1) / (n / 2)
    var_plain = plain.npv_values.var(ddof=1) / n
    assert var_anti < var_plain


# --------------------------------------------------------------------------- kernels
def test_fused_kernel_equals_numpy_reference() -> None:
    cfg, _ = config.load_plan(
        ROOT / "examples" / "bitriver.yaml", ["paths=256", "horizon_months=60"]
    )
    model = plan.build_model(cfg)
    paths = scenarios.simulate(model.market, 60, scenarios.block_seeds(5, 256), 0, 4, 256)
    args = (model.params, paths.price_usd, paths.btc_per_th_day, paths.days, paths.index_values)
    b = kernels.site_cashflows_numpy(*args)
    for groups in (True, False):
        a = kernels.site_cashflows_numba(*args, groups=groups)
        names = ["cash_usd", "btc", "revenue_usd", "pool_fee_usd", "energy_usd", "energy_mwh"]
        for name in names + (["btc_net_g", "cost_usd_g"] if groups else []):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-6)


def test_curtailment_never_loses_money_on_variable_costs() -> None:
    data = with_(ONE_SITE)
    data["sites"][0]["power_usd_per_mwh"] = 400  # far above the breakeven power price
    cfg = make_plan(data)
    model = plan.build_model(cfg)
    paths = scenarios.simulate(model.market, 36, scenarios.block_seeds(7, 256), 0, 4, 256)
    t = plan.evaluate(model, paths).totals
    assert np.all(t["revenue_usd"] - t["pool_fee_usd"] - t["energy_usd"] >= -1e-6)


def test_site_cost_per_btc_identities() -> None:
    r = plan.run(make_plan(ONE_SITE), with_tornado=False)
    s = r.sites[0]
    c = s.cost_usd_per_btc
    assert c["energy"] <= c["cash"] <= c["all_in"]
    # The stack is the cost lines of the lower-median path (paths come in even numbers, so the
    # median is the mean of the two middle paths): never above the median, and one path's gap
    # from it — small, but set by the data's spacing of neighbouring paths, not by the code.
    stack = sum(v for v in s.stack_usd_per_btc.values())
    assert stack <= c["all_in"] * (1 + 1e-12)
    assert stack == pytest.approx(c["all_in"], rel=1e-2)


def test_fixed_costs_match_months() -> None:
    cfg = make_plan(ONE_SITE)
    model = plan.build_model(cfg)
    days = scenarios.month_days(model.market.start, cfg.horizon_months)
    assert model.active_months[0] == pytest.approx(days.sum() / DAYS_PER_MONTH)
    assert FixedCosts().site_opex_usd_per_month == 0


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (
            lambda d: d["sites"][0].update(power_capacity_mw=-5),
            "sites[0].power_capacity_mw: -5 is not above 0",
        ),
        (
            lambda d: d["sites"][0]["fleet"][0].update(model="Antminer S99"),
            "sites[0].fleet[0].model",
        ),
        (lambda d: d["sites"][0].update(power_index="nowhere"), "sites[0].power_index"),
        (lambda d: d.update(horizon_months=-1), "horizon_months: -1 is not above 0"),
        (lambda d: d.update(paths=0), "paths: 0 is not above 0"),
        (lambda d: d.update(discount_rate_annual=float("nan")), "discount_rate_annual"),
        (lambda d: d.update(horizn_months=5), "horizn_months: unknown key"),
        (lambda d: d["sites"][0].update(pue=0.9), "sites[0].pue: 0.9 is below 1"),
    ],
)
def test_bad_plans_name_the_field(change, expect: str) -> None:
    data = with_(ONE_SITE)
    change(data)
    with pytest.raises(ConfigError) as err:
        make_plan(data)
    assert any(expect in m for m in err.value.messages), err.value.messages


def test_overrides_apply_and_name_bad_paths(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump(ONE_SITE))
    cfg, text = config.load_plan(p, ["sites[0].power_usd_per_mwh=55", "paths=128"])
    assert cfg.sites[0].power_usd_per_mwh == 55 and cfg.paths == 128
    assert "power_usd_per_mwh: 55" in text
    with pytest.raises(ConfigError, match=r"sites\[3\]: index 3 out of range"):
        config.load_plan(p, ["sites[3].pue=1.2"])
    with pytest.raises(ConfigError, match=r"sites\[0\]\.pue: -1 is below 1"):
        config.load_plan(p, ["sites[0].pue=-1"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        config.load_plan(p, ["paths"])


def test_examples_validate() -> None:
    for name in ("bitriver.yaml", "texas_miner.yaml"):
        cfg, _ = config.load_plan(ROOT / "examples" / name)
        assert cfg.sites
    cfg, _ = config.load_plan(ROOT / "examples" / "bitriver.yaml")
    operating = [s for s in cfg.sites if s.start_month == 0]
    assert len(operating) == 21 and len(cfg.sites) == 31
    assert sum(s.power_capacity_mw for s in operating) == pytest.approx(533, abs=0.5)


def test_schema_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "plan-schema.md").read_text(encoding="utf-8")
    assert committed == config_schema.schema_markdown() + "\n", (
        "run: hashpivot schema --out docs/plan-schema.md"
    )


def test_average_subsidy_equals_integer_sums_on_whole_heights() -> None:
    from hashpivot.bitcoin import network

    rng = np.random.default_rng(0)
    h0 = rng.integers(800_000, 1_300_000, size=200)
    h1 = h0 + rng.integers(1, 20_000, size=200)
    got = scenarios.average_subsidy_btc(h0.astype(float), h1.astype(float))
    for a, b, g in zip(h0, h1, got, strict=True):
        sats = network.supply_sats_at_height(int(b) - 1) - network.supply_sats_at_height(int(a) - 1)
        assert g == pytest.approx(sats / 1e8 / (b - a), rel=1e-13)


@pytest.mark.parametrize(
    "market",
    [
        {"btc_model": "gbm", "window_start": "2020-01-01"},
        {"btc_model": "bootstrap", "window_start": "2018-01-01", "bootstrap_block_months": 3},
        {
            "btc_model": "gbm",
            "antithetic": False,
            "indices": [{"name": "x", "volatility": 0.3, "half_life_months": 4, "corr_btc": 0.5}],
        },
        # A mid-month as_of: a partial first period (its share of drift and variance).
        {"btc_model": "gbm", "as_of": "2021-12-15"},
        {"btc_model": "bootstrap", "as_of": "2021-12-15"},
        # The joint bootstrap without antithetic twins, the hashrate fitted from 2013.
        {"btc_model": "bootstrap", "antithetic": False, "hashrate_window_start": "2013-01-01"},
    ],
)
def test_fused_market_recursion_equals_numpy_reference(market: dict) -> None:
    data = with_(ONE_SITE, paths=200, market=market)
    if "as_of" in market:  # a fleet on sale then
        data["sites"][0]["fleet"] = [{"model": "Antminer S19j Pro", "share_of_power": 1.0}]
    cfg = make_plan(data)
    model = plan.build_model(cfg).market
    seeds = scenarios.block_seeds(3, 200)
    shocks = scenarios.draw_shocks(model, seeds, 0, 4, 200, 48)
    fused = market_kernel.market_recursion_numba(
        scenarios.recursion_coefficients(model, 48),
        shocks,
        np.linalg.cholesky(model.full_correlation()),
    )
    ref = scenarios.recursion_numpy(scenarios.recursion_inputs(model, shocks, 48))
    for name in (
        "price_usd",
        "hashrate_eh_s",
        "difficulty",
        "blocks",
        "subsidy_btc",
        "fees_btc_per_block",
        "btc_per_th_day",
        "index_values",
    ):
        np.testing.assert_allclose(getattr(fused, name), getattr(ref, name), rtol=1e-12)
    assert fused.price_usd.shape == (200, 48)
