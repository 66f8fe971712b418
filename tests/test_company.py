"""Company finance: accounting identities, a hand-computed default, monotonicity, hedges, the
plan engine reproduced, the BitRiver case, screening and named errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import ROOT, plan_json, plan_rejected, run
from hashpivot.config import models as config
from hashpivot.engine import run as plan
from hashpivot.engine import screen as scr
from hashpivot.engine.model import TrainingPaths
from hashpivot.finance import company as C
from hashpivot.market import scenarios

DAYS = np.full(36, 30.4375)


def market(n: int = 64, t: int = 36, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    price = 100_000 * np.exp(np.cumsum(rng.normal(0, 0.15, (n, t)), axis=1))
    btc = rng.uniform(5, 15, (2, n, t))
    cost = rng.uniform(3e5, 1.2e6, (2, n, t))
    other = rng.normal(-2e5, 1e5, (n, t))
    return price, btc, cost, other


def model(**kw: object) -> C.CompanyModel:
    base = dict(
        cash0_usd=2e6,
        btc0=50.0,
        policy=0,
        target_btc=0.0,
        sell_price_usd=0.0,
        loans=(),
        min_liquidity_usd=0.0,
        max_leverage=0.0,
        regimes=(C.Regime(), C.Regime()),
    )
    base.update(kw)
    return C.CompanyModel(**base)


regime = st.builds(
    C.Regime,
    haircut=st.floats(0, 0.5),
    delay_months=st.integers(0, 3),
    cutoff_haircut=st.floats(0, 0.6),
    cutoff_hazard_monthly=st.floats(0, 0.1),
    expropriation_hazard_monthly=st.floats(0, 0.05),
    relocation_enabled=st.booleans(),
    relocation_cost_usd=st.floats(0, 1e6),
    relocation_downtime_months=st.integers(0, 4),
    relocation_cost_factor=st.floats(0.5, 2),
    share=st.floats(0.2, 1),
)
loan = st.builds(
    C.Loan,
    name=st.just("l"),
    kind=st.sampled_from(["term_loan", "convertible", "equipment"]),
    principal_usd=st.floats(0, 2e7),
    rate_annual=st.floats(0, 0.3),
    start_month=st.integers(0, 6),
    maturity_months=st.integers(1, 40),
    amortization=st.sampled_from(["bullet", "linear"]),
    conversion_price_usd=st.floats(50_000, 200_000),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(regime, min_size=2, max_size=2),
    st.lists(loan, max_size=2),
    st.sampled_from([0, 1, 2, 3]),
    st.integers(0, 10),
)
def test_accounting_identities_every_month_every_path(regimes, loans, policy, seed) -> None:
    price, btc, cost, other = market(seed=seed)
    m = model(
        regimes=tuple(regimes),
        loans=tuple(loans),
        policy=policy,
        target_btc=20.0,
        sell_price_usd=110_000.0,
    )
    hedge = np.random.default_rng(seed).normal(0, 1e5, price.shape)
    ev = np.random.default_rng(seed + 1).random((4, price.shape[0]))
    out = C.consolidate(m, price, btc, cost, other, hedge, DAYS, ev)
    f = out.flows
    # Cash: Δcash = inflows − outflows, every month of every path (frozen after default).
    prev = np.concatenate([np.full((price.shape[0], 1), m.cash0_usd), out.cash_usd[:, :-1]], 1)
    inflow = f[..., C.SALES] + f[..., C.OTHER] + f[..., C.HEDGES] + f[..., C.DRAWN]
    outflow = f[..., C.COSTS] + f[..., C.INTEREST] + f[..., C.PRINCIPAL] + f[..., C.RELOC]
    # BTC-backed liquidations pass through sales and principal without touching cash (none here).
    np.testing.assert_allclose(out.cash_usd - prev, inflow - outflow, rtol=1e-9, atol=1e-3)
    # BTC: holdings change by mined − sold − liquidated.
    held_prev = np.concatenate([np.full((price.shape[0], 1), m.btc0), out.btc_held[:, :-1]], 1)
    np.testing.assert_allclose(
        out.btc_held - held_prev,
        f[..., C.MINED_BTC] - f[..., C.SOLD_BTC] - f[..., C.LIQUIDATED_BTC],
        atol=1e-9,
    )
    assert np.all(out.btc_held >= -1e-9)


def test_default_month_by_hand() -> None:
    # $100k cash, 1 BTC/month mined and worth $50k, $80k of costs a month.
    n, t = 1, 8

    def run_months(**company: object) -> C.CompanyOutcome:
        return C.consolidate(
            model(cash0_usd=1e5, regimes=(C.Regime(),), **company),
            np.full((n, t), 5e4),
            np.ones((1, n, t)),
            np.full((1, n, t), 8e4),
            np.zeros((n, t)),
            np.zeros((n, t)),
            np.full(t, 30.4375),
            np.full((2, n), 0.5),
        )

    # Selling what it mines: −$30k a month. Cash after month t: 100k − 30k·(t+1) → 70k, 40k,
    # 10k, −20k: default in month 3, short $20k.
    out = run_months(btc0=0.0)
    assert out.default_month[0] == 3
    assert out.shortfall_usd[0] == pytest.approx(2e4)
    np.testing.assert_allclose(out.cash_usd[0, :3], [7e4, 4e4, 1e4])
    # Holding 1 BTC and what it mines, selling only to cover costs: the BTC held plus mined is
    # worth 50k·(t+2) against costs of 80k·(t+1) − 100k, so it lasts while
    # 100k + 50k·(t+2) − 80k·(t+1) ≥ 0: through month 4 (exactly 0), default in month 5, $30k short.
    out2 = run_months(btc0=1.0, policy=1)
    assert out2.default_month[0] == 5
    assert out2.shortfall_usd[0] == pytest.approx(3e4)


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 0.4), st.floats(0, 0.4), st.floats(0, 2e7), st.floats(0, 2e7))
def test_p_default_monotone_in_haircut_and_debt(h1, h2, d1, d2) -> None:
    price, btc, cost, other = market(n=128)
    ev = np.random.default_rng(3).random((4, 128))

    def p_default(haircut: float, debt: float) -> np.ndarray:
        r = C.Regime(haircut=haircut, delay_months=1)
        loans = (C.Loan("d", "term_loan", debt, 0.15, 0, 24, "linear"),)
        out = C.consolidate(
            model(regimes=(r, r), loans=loans),
            price,
            btc,
            cost,
            other,
            np.zeros_like(price),
            DAYS,
            ev,
        )
        return out.default_month

    lo_h, hi_h = sorted((h1, h2))
    lo_d, hi_d = sorted((d1, d2))
    # Per path the default comes no later with a bigger haircut or more debt, so P(default) by
    # any horizon is monotone.
    assert np.all(p_default(hi_h, lo_d) <= p_default(lo_h, lo_d))
    assert np.all(p_default(lo_h, hi_d) <= p_default(lo_h, lo_d))


def test_hedges_pay_the_difference_to_the_index() -> None:
    hp = np.array([[40.0, 55.0, 50.0]])
    strike = np.array([50.0, 50.0, 50.0])
    days = np.array([31.0, 28.0, 31.0])
    pay = C.hedge_payoff(hp, strike, np.array([100.0, 100.0, 0.0]), days)
    np.testing.assert_allclose(pay, [[100 * 31 * 10, 100 * 28 * -5, 0.0]])


def _plan(data: dict) -> config.PlanConfig:
    return config.validate(config.PlanConfig, data, "test")


BASE = yaml.safe_load((ROOT / "examples" / "texas_miner.yaml").read_text())
BASE.update(paths=512, horizon_months=36)


def test_no_debt_no_sanctions_reproduces_the_plan_engine() -> None:
    plain = plan.run(_plan(BASE), with_tornado=False)
    data = copy.deepcopy(BASE)
    data["company"]["covenants"] = {"min_liquidity_usd": 1e-9}  # engages the company model
    fin = plan.run(_plan(data), with_tornado=False)
    assert fin.default is not None  # the finance engine ran
    # Default = cumulative cash negative at some month, as the plan engine counts it.
    np.testing.assert_allclose(
        fin.default.p_default_by_month["as_configured"], plain.p_cash_negative_ever, atol=1e-12
    )
    # Paths that never default have identical NPVs (sell-all, no debt: same cash flows).
    assert plain.p_cash_negative_ever[-1] < 1
    same = np.isclose(fin.npv_values, plain.npv_values, rtol=1e-9)
    assert same.mean() >= 1 - plain.p_cash_negative_ever[-1] - 1e-9


def test_hedged_plan_settles_against_the_index() -> None:
    data = copy.deepcopy(BASE)
    data["company"]["hedges"] = [{"notional_ph_s": 1000, "start_month": 0, "months": 12}]
    cfg = _plan(data)
    model = plan.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, cfg.paths)
    strikes = plan.hedge_strikes(model, TrainingPaths(model, seeds))
    paths = scenarios.simulate(model.market, cfg.horizon_months, seeds, 0, len(seeds), cfg.paths)
    ev = plan.evaluate(model, paths, None, {}, strikes)
    hedges = ev.finance["as_configured"].flows[..., C.HEDGES]
    want = 1000 * paths.days * (strikes - paths.hashprice_usd_per_ph_day)
    alive = ev.finance["as_configured"].default_month[:, None] > np.arange(cfg.horizon_months)
    np.testing.assert_allclose((hedges * alive)[:, :12], (want * alive)[:, :12], rtol=1e-12)
    assert np.all(hedges[:, 12:] == 0)
    # The strike is the expected hashprice over these same paths: the average payoff each month
    # is zero (up to rounding).
    np.testing.assert_allclose(
        want[:, :12].mean(axis=0), 0.0, atol=1e-9 * np.abs(want[:, :12]).max()
    )


def test_bitriver_sanctions_raise_default_risk() -> None:
    cfg, _ = config.load_plan(ROOT / "examples" / "bitriver.yaml", ["paths=1024"])
    r = plan.run(cfg, with_tornado=False)
    by = r.summary()["p_default_by_scenario"]
    assert by["as_configured"]["12m"] >= by["no_sanctions"]["12m"]
    assert set(r.summary()["p_default"]) == {"12m", "24m", "horizon"}
    assert r.default is not None
    assert r.default.worst_paths_waterfall_usd[0][0] == "opening cash"


def test_screen_example() -> None:
    rows = scr.screen(scr.read_companies(ROOT / "examples" / "public_miners_2025.csv"), paths=512)
    by = {r.company: r for r in rows}
    # Breakeven hashprice by hand for Riot: 35.4 EH/s × 21 J/TH = 743.4 MW; power a month
    # 743.4 MW · 1000 · 24 · 30.4375 · $0.035 = $19.0M; + SG&A $15.2M + interest 9%·$200M/12.
    power = 35.4 * 21 * 1000 * 24 * 30.4375 * 0.035
    fixed = 15.2e6 + 200e6 * 0.09 / 12
    assert by["Riot"].breakeven_hashprice_usd_per_ph_day == pytest.approx(
        (power + fixed) / (30.4375 * 35_400)
    )
    assert all(0 <= r.p_default_12m <= 1 for r in rows)


@pytest.mark.parametrize(
    ("override", "text"),
    [
        (
            "company.debt=[{name: a, principal_usd: -5, rate_annual: 0.1, maturity_months: 12}]",
            "principal_usd: -5",
        ),
        (
            "company.debt=[{name: a, kind: btc_backed, principal_usd: 5, rate_annual: 0.1, "
            "maturity_months: 12, collateral_btc: 1, margin_call_ltv: 1.2}]",
            "margin_call_ltv: 1.2",
        ),
        ("sites[0].jurisdiction=XX", "sites[0].jurisdiction: 'XX' is not a known jurisdiction"),
        (
            "company.co_investor={name: f, share: 1.5, sites: [west-texas-ppa]}",
            "company.co_investor.share: 1.5 is above 1",
        ),
    ],
)
def test_bad_finance_inputs(tmp_path: Path, override: str, text: str) -> None:
    message = plan_rejected(ROOT / "examples" / "texas_miner.yaml", tmp_path, "--set", override)
    assert text in message, message


def test_plan_json_has_p_default(tmp_path: Path) -> None:
    out = plan_json(ROOT / "examples" / "bitriver.yaml", tmp_path / "d.duckdb", tmp_path, 256, 60)
    assert set(out["p_default"]) == {"12m", "24m", "horizon"}
    assert set(out["p_default_by_scenario"]) == {
        "as_configured",
        "no_sanctions",
        "relocation_allowed",
    }


def test_screen_cli_and_bad_csv(tmp_path: Path) -> None:
    r = run("screen", str(ROOT / "examples" / "public_miners_2025.csv"), "--paths", "256", "--json")
    assert r.returncode == 0, r.stderr
    assert {
        "company",
        "breakeven_hashprice_usd_per_ph_day",
        "runway_months",
        "p_default_12m",
    } <= set(json.loads(r.stdout)[0])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "company,eh_s,efficiency_j_per_th,power_usd_per_kwh,cash_usd,btc_held,debt_usd\n"
        "X,-3,20,0.05,1,0,0\n"
    )
    r = run("screen", str(bad))
    assert r.returncode == 2 and "eh_s" in r.stderr and "Traceback" not in r.stderr
