"""Hosting economics and the decision to convert: LSM against Longstaff & Schwartz, hand-computed
leases, published deal terms, the zero-volatility optimum and policy dominance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cli_helpers import ROOT, plan_json, plan_rejected
from hashpivot.config import models as config
from hashpivot.engine import run as plan
from hashpivot.finance import lsm as conversion
from hashpivot.market import scenarios
from hashpivot.sites import hosting


# --------------------------------------------------------------------------- the LSM engine
def test_american_put_matches_longstaff_schwartz_table_1() -> None:
    # L&S (2001) Table 1: S=36, K=40, r=0.06, σ=0.2, T=1, 50 exercise dates a year → 4.472.
    price = conversion.american_put_lsm(36, 40, 0.06, 0.2, 1, 50, 100_000, seed=2001)
    assert price == pytest.approx(4.472, abs=0.05)


def test_american_put_other_rows_and_bounds() -> None:
    # Table 1: S=36, σ=0.2, T=2 → 4.821; S=44, σ=0.4, T=1 → 3.948.
    assert conversion.american_put_lsm(36, 40, 0.06, 0.2, 2, 50, 100_000, 1) == pytest.approx(
        4.821, abs=0.05
    )
    assert conversion.american_put_lsm(44, 40, 0.06, 0.4, 1, 50, 100_000, 1) == pytest.approx(
        3.948, abs=0.05
    )
    # An American put is worth at least the European one (Black–Scholes, closed form) and less
    # than the strike.
    from math import erf, exp, log, sqrt

    def bs_put(s: float, k: float, r: float, v: float, t: float) -> float:
        n = lambda x: 0.5 * (1 + erf(x / sqrt(2)))  # noqa: E731
        d1 = (log(s / k) + (r + v * v / 2) * t) / (v * sqrt(t))
        return k * exp(-r * t) * n(-(d1 - v * sqrt(t))) - s * n(-d1)

    for spot in (32.0, 36.0, 40.0, 44.0):
        american = conversion.american_put_lsm(spot, 40, 0.06, 0.2, 1, 50, 40_000, 3)
        assert bs_put(spot, 40, 0.06, 0.2, 1) - 0.03 <= american < 40.0


def test_lsm_on_a_deterministic_problem_finds_the_best_month() -> None:
    # One path repeated: running cash falls by 1 a step, stopping pays 100 − 2t.
    n, steps = 8, 30
    running = np.tile(10.0 - np.arange(steps), (n, 1))
    exercise = np.tile(100.0 - 2 * np.arange(steps), (n, 1))
    states = np.tile(np.arange(steps, dtype=float), (1, n, 1))
    discount = np.full(steps, 0.99)
    res = conversion.fit_policy(exercise, running, states, discount)
    values = [
        conversion.realised_value(exercise, running, discount, np.full(n, s))[0]
        for s in range(steps + 1)
    ]
    assert res.mean == pytest.approx(max(values), rel=1e-12)
    assert int(res.stop_step[0]) == int(np.argmax(values))


# --------------------------------------------------------------------------- hosting economics
def test_implied_rent_of_published_deals() -> None:
    # REFERENCE_FIGURES: Core Scientific–CoreWeave all options $8.7B / 12 yr / 500 MW ≈ $121;
    # Cipher–AWS $5.5B / 15 yr / 300 MW ≈ $102; Hut 8–Fluidstack $7B / 15 yr / 245 MW ≈ $159.
    assert hosting.implied_rent_usd_per_kw_month(8.7e9, 12, 500) == pytest.approx(120.83, abs=0.01)
    assert hosting.implied_rent_usd_per_kw_month(5.5e9, 15, 300) == pytest.approx(101.85, abs=0.01)
    assert hosting.implied_rent_usd_per_kw_month(7e9, 15, 245) == pytest.approx(158.73, abs=0.01)


def test_core_scientific_example_reproduces_the_contract() -> None:
    cfg, _ = config.load_plan(ROOT / "examples" / "core_scientific.yaml")
    it_kw = sum(
        hosting.critical_it_mw(s.power_capacity_mw, s.conversion.ai_pue, s.conversion.share) * 1000
        for s in cfg.sites
    )
    assert it_kw == pytest.approx(500_000, rel=0.002)  # ~500 MW of critical IT
    rents = {s.lease.rent_usd_per_kw_month for s in cfg.sites}
    terms = {s.lease.term_months for s in cfg.sites}
    assert terms == {144}
    (rent,) = rents
    # Implied rent recomputed from the example's own terms equals the published $8.7B.
    contract_value = rent * it_kw * 144
    assert contract_value == pytest.approx(8.7e9, rel=0.003)
    assert rent == pytest.approx(hosting.implied_rent_usd_per_kw_month(8.7e9, 12, 500), abs=0.01)
    # Muskogee: 100 MW gross ≈ 70 MW of critical IT.
    musk = next(s for s in cfg.sites if s.name == "muskogee")
    assert hosting.critical_it_mw(musk.power_capacity_mw, musk.conversion.ai_pue) == pytest.approx(
        70, abs=0.1
    )


def test_lease_schedule_by_hand() -> None:
    # 2 MW of IT, $100/kW-month, 12-month term, 3-month build, no ramp, no credit risk,
    # landlord opex $10/kW-month, capex $3M over the build.
    lease = hosting.LeaseTerms(
        rent_usd_per_kw_month=100, term_months=12, landlord_opex_usd_per_kw_month=10
    )
    proj = hosting.ConversionProject(2.0, 3e6, 3, 0, lease, 1.3, 50.0)
    a, b = proj.schedule()
    assert a.size == 15
    np.testing.assert_allclose(a, [0, 0, 0] + [2000.0] * 12)  # $ per $1/kW-month
    np.testing.assert_allclose(b, [-1e6] * 3 + [-20_000.0] * 12)
    d = 0.99
    pa, pb = proj.present_value_coefficients(d)
    annuity = sum(d ** (m + 1) for m in range(3, 15))
    assert pa == pytest.approx(2000 * annuity)
    assert pb == pytest.approx(-1e6 * (d + d**2 + d**3) - 20_000 * annuity)


def test_gross_lease_pays_power_and_credit_terms() -> None:
    base = dict(rent_usd_per_kw_month=150, term_months=24, structure="gross", load_factor=0.5)
    proj = hosting.ConversionProject(1.0, 0.0, 0, 0, hosting.LeaseTerms(**base), 1.4, 60.0)
    _, b = proj.schedule()
    # Landlord's power bill: 1 MW × 0.5 × 1.4 × 730.5 h × $60 = $30,681 a month.
    assert b[0] == pytest.approx(-1.0 * 0.5 * 1.4 * 730.5 * 60.0)
    risky = hosting.LeaseTerms(**base, tenant_default_probability_annual=0.1, backstop_share=0.4)
    a_risky, _ = hosting.ConversionProject(1.0, 0.0, 0, 0, risky, 1.4, 60.0).schedule()
    # After 12 months: survive 0.9, and the guarantor pays 40% of the rest → 0.94 of rent.
    assert a_risky[12] / 1000 == pytest.approx(0.9 + 0.1 * 0.4)


def test_prepayment_keeps_total_rent() -> None:
    plain = hosting.LeaseTerms(rent_usd_per_kw_month=100, term_months=36, escalator_annual=0.03)
    prepaid = hosting.LeaseTerms(
        rent_usd_per_kw_month=100, term_months=36, escalator_annual=0.03, prepayment_months=6
    )
    a1, _ = hosting.ConversionProject(1.0, 0, 2, 0, plain, 1.3, 50).schedule()
    a2, _ = hosting.ConversionProject(1.0, 0, 2, 0, prepaid, 1.3, 50).schedule()
    assert a2.sum() == pytest.approx(a1.sum())
    assert a2[0] > 0 and np.all(a2[2:8] == 0)


def test_gpu_cloud_by_hand() -> None:
    # 10 MW IT of H100s (700 W, overhead 1.5) → 9,524 GPUs; $2/h at 70% utilisation.
    g = hosting.GpuCloud(
        it_mw=10,
        gpu_tdp_w=700,
        gpu_price_usd=30_000,
        rate_usd_per_gpu_hour=2.0,
        utilisation=0.7,
        life_months=60,
        rate_decline_annual=0.0,
        power_usd_per_mwh=50,
        ai_pue=1.3,
    )
    assert g.n_gpus == pytest.approx(10e6 / (700 * 1.5))
    a, b = g.schedule(61)
    assert a[0] == pytest.approx(g.n_gpus * 2.0 * 730.5 * 0.7)
    power = 10 * 0.7 * 1.3 * 730.5 * 50
    assert b[1] == pytest.approx(-power)
    assert b[0] == pytest.approx(-power - g.n_gpus * 30_000 * 1.4)
    assert b[60] == pytest.approx(b[0])  # refresh after the 60-month life


# --------------------------------------------------------------------------- plans with options
def _convert_or_mine(**market) -> config.PlanConfig:
    data = yaml.safe_load((ROOT / "examples" / "convert_or_mine.yaml").read_text())
    data["paths"] = 2048
    data["market"].update(market)
    return config.validate(config.PlanConfig, data, "test")


@pytest.mark.parametrize("rent", [90.0, 135.0, 200.0])
def test_option_value_dominates_never_and_now(rent: float) -> None:
    cfg = _convert_or_mine()
    data = cfg.model_dump(mode="json")
    data["sites"][0]["lease"]["rent_usd_per_kw_month"] = rent
    cfg = config.validate(config.PlanConfig, data, "test")
    r = plan.run(cfg, with_tornado=False)
    by = r.summary()["npv_usd_by_policy"]["texas-200"]
    # Monte Carlo tolerance: 3 standard errors of the site's NPV under the best simple policy.
    tol = 3 * abs(r.npv.stderr) + 1e-6 * abs(max(by["never"], by["now"]))
    assert by["optimal"] >= max(by["never"], by["now"]) - tol
    assert by["value_of_flexibility"] == pytest.approx(by["optimal"] - max(by["never"], by["now"]))


def test_zero_volatility_lsm_equals_enumerated_optimum() -> None:
    cfg = _convert_or_mine(stochastic=False)
    model = plan.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, 64)
    paths = scenarios.simulate(model.market, model.n_months, seeds, 0, 1, 64)
    from hashpivot.engine import special_sites as converted

    site = model.special[0]
    exercise, running, states, discount, _ = converted.decision_arrays(
        site, paths, model.monthly_discount
    )
    fit = conversion.fit_policy(exercise, running, states, discount)
    n_months = model.n_months
    candidates = [s for s in range(n_months) if np.isfinite(exercise[0, s])] + [n_months]
    values = {
        s: conversion.realised_value(exercise[:1], running[:1], discount, np.array([s]))[0]
        for s in candidates
    }
    best = max(values, key=values.get)
    assert fit.value[0] == pytest.approx(values[best], rel=1e-9)
    assert int(fit.stop_step[0]) == best
    # The plan applies the same decision on every (identical) path.
    r = plan.run(cfg, with_tornado=False)
    conv = r.sites[0].conversion
    if best < n_months:
        assert conv.conversion_month_counts[best] == cfg.paths
    else:
        assert conv.share_never_converted == 1.0


def test_plan_json_has_npv_by_policy(tmp_path: Path) -> None:
    out = plan_json(
        ROOT / "examples" / "convert_or_mine.yaml", tmp_path / "d.duckdb", tmp_path, 256, 60
    )
    by = out["npv_usd_by_policy"]["texas-200"]
    assert set(by) >= {"never", "now", "fixed_date", "optimal", "value_of_flexibility"}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("sites[0].conversion.lead_time_months=-3", "sites[0].conversion.lead_time_months: -3"),
        ("sites[0].conversion.capex_usd_per_mw_it=-1", "sites[0].conversion.capex_usd_per_mw_it"),
        ("sites[0].lease.rent_usd_per_kw_month=-10", "sites[0].lease.rent_usd_per_kw_month: -10"),
        ("sites[0].lease.term_months=600", "sites[0].lease.term_months: 600 is above 360"),
        ("sites[0].conversion.ai_pue=0.9", "sites[0].conversion.ai_pue: 0.9 is below 1"),
        ("sites[0].conversion.share=1.5", "sites[0].conversion.share: 1.5 is above 1"),
        ("sites[0].conversion.share=0", "sites[0].conversion.share: 0 is not above 0"),
        ("sites[0].pue=0.8", "sites[0].pue: 0.8 is below 1"),
        ("sites[0].lease.rent_index=nowhere", "sites[0].lease.rent_index"),
        ("sites[0].type=hosting_typo", "sites[0].type"),
    ],
)
def test_bad_conversion_inputs(tmp_path: Path, override: str, field: str) -> None:
    message = plan_rejected(ROOT / "examples" / "convert_or_mine.yaml", tmp_path, "--set", override)
    assert field in message, message
