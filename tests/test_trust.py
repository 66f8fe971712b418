"""Numbers a CFO can trust: equity value after default, obligations met before covenants are
tested, the sell_share policy, neutral market defaults, fleets that fill their site, fees per
block through a halving. Each test fails on the code before these fixes."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from cli_helpers import ROOT, local_client, plan_rejected
from hashpivot.bitcoin import network
from hashpivot.config import models as config
from hashpivot.engine import run as plan
from hashpivot.engine.model import TrainingPaths
from hashpivot.errors import ConfigError
from hashpivot.finance import company as C
from hashpivot.finance import metrics
from hashpivot.market import scenarios

DAYS = 30.4375


def _plan(data: dict) -> config.PlanConfig:
    return config.validate(config.PlanConfig, data, "test")


def _load(name: str, *sets: str) -> config.PlanConfig:
    cfg, _ = config.load_plan(ROOT / "examples" / name, list(sets))
    return cfg


# --------------------------------------------------------------------------- equity after default
def test_equity_flows_two_paths_by_hand() -> None:
    # Opening cash 100. Path 0 stays solvent: cash 120, 150, 170, terminal value 50.
    # Path 1 defaults in month 1 (cash −30, frozen after): terminal value 80 must not count.
    out = C.CompanyOutcome(
        cash_usd=np.array([[120.0, 150.0, 170.0], [60.0, -30.0, -30.0]]),
        btc_held=np.zeros((2, 3)),
        default_month=np.array([3, 1]),
        shortfall_usd=np.array([0.0, 30.0]),
        flows=np.zeros((2, 3, len(C.FLOWS))),
    )
    flows, terminal = C.equity_flows(out, 100.0, np.array([50.0, 80.0]))
    np.testing.assert_array_equal(flows, [[20.0, 30.0, 20.0], [-40.0, -60.0, 0.0]])
    np.testing.assert_array_equal(terminal, [50.0, 0.0])
    # NPV at 12%/yr, month t discounted by 1.12^-(t+1)/12 (metrics' convention), by hand:
    d = [1.12 ** (-1 / 12), 1.12 ** (-2 / 12), 1.12 ** (-3 / 12)]
    df = metrics.discount_factors(0.12, 3)
    npv = flows @ df + terminal * df[-1]
    assert npv[0] == pytest.approx(20 * d[0] + 30 * d[1] + 20 * d[2] + 50 * d[2], rel=1e-12)
    # The defaulted path loses its opening cash, discounted to when it went: −40·d0 − 60·d1.
    assert npv[1] == pytest.approx(-40 * d[0] - 60 * d[1], rel=1e-12)
    assert npv[1] >= -100.0


DISTRESSED = (
    # Core Scientific's six leased sites with $10M of cash and a $2B bullet bond: the leases'
    # contracted value after the horizon is large, but every path defaults before it.
    "company.cash_usd=10000000",
    "company.debt=[{name: bond, principal_usd: 2000000000, rate_annual: 0.12, "
    "maturity_months: 24}]",
    "paths=256",
)


@pytest.mark.parametrize(
    ("example", "sets"),
    [
        ("core_scientific.yaml", DISTRESSED),
        ("bitriver.yaml", ("paths=512",)),
        ("bitriver.yaml", ("paths=512", "company.treasury.policy=hold_all")),
    ],
)
def test_defaulted_paths_keep_nothing_after_default(example: str, sets: tuple[str, ...]) -> None:
    cfg = _load(example, *sets)
    model = plan.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, cfg.paths)
    paths = scenarios.simulate(model.market, cfg.horizon_months, seeds, 0, len(seeds), cfg.paths)
    ev = plan.evaluate(
        model, paths, None, plan.fit_policies(model, TrainingPaths(model, seeds)), None
    )
    base = ev.finance["as_configured"]
    df = metrics.discount_factors(cfg.discount_rate_annual, cfg.horizon_months)
    npv = ev.company_usd @ df + ev.tail_usd * df[-1]
    defaulted = base.default_month < cfg.horizon_months
    assert defaulted.any()
    # PV of the equity flows before the default month, from the cash balances alone.
    cash = np.concatenate([np.full((cfg.paths, 1), cfg.company.cash_usd), base.cash_usd], axis=1)
    before = np.arange(cfg.horizon_months)[None, :] < base.default_month[:, None]
    pv_before = (np.diff(cash, axis=1) * before) @ df
    assert np.all(npv[defaulted] <= pv_before[defaulted] + 1e-6)
    # Limited liability: no defaulted path loses more than the opening cash (its equity flows
    # add up to −cash0, and each partial sum is at least −cash0, so their PV is too).
    assert np.all(npv[defaulted] >= -cfg.company.cash_usd - 1e-6)


def test_distressed_plan_npv_is_the_lost_cash() -> None:
    r = plan.run(_load("core_scientific.yaml", *DISTRESSED), with_tornado=False)
    assert r.p_default()["horizon"] == 1.0
    # Before the fix every path kept the leases' tail: NPV +$723M on every path.
    assert r.npv.p95 <= 0.0
    assert r.npv.p5 >= -10_000_000


# --------------------------------------------------------------------------- obligations first
def _consolidate(policy: int, btc_mined: float, **kw: object) -> C.CompanyOutcome:
    """One path, 6 months: BTC at $50k, ``btc_mined`` BTC a month, $80k of costs, 2 BTC held,
    a $1M bullet term loan at 12% ($10k of interest a month), a $50k liquidity covenant."""
    t = 6
    m = C.CompanyModel(
        cash0_usd=100_000.0,
        btc0=2.0,
        policy=policy,
        target_btc=0.0,
        sell_price_usd=0.0,
        loans=(C.Loan("bank", "term_loan", 1e6, 0.12, 0, 24, "bullet"),),
        min_liquidity_usd=50_000.0,
        max_leverage=0.0,
        regimes=(C.Regime(),),
        **kw,
    )
    return C.consolidate(
        m,
        np.full((1, t), 50_000.0),
        np.full((1, 1, t), btc_mined),
        np.full((1, 1, t), 80_000.0),
        np.zeros((1, t)),
        np.zeros((1, t)),
        np.full(t, DAYS),
        np.full((2, 1), 0.5),
    )


def test_holding_company_sells_btc_to_meet_obligations_then_tests_covenants() -> None:
    # hold_all, 2 BTC mined a month ($100k) against $80k of costs and $10k of interest.
    # Month 0: 2 + 2 = 4 BTC; cash 100k − 80k − 10k = 10k, below the $50k minimum: sell
    #          (50k − 10k) / 50k = 0.8 BTC → cash 50k, 3.2 BTC; the covenant holds.
    # Month 1+: 5.2 BTC; cash 50k − 90k = −40k; sell 90k / 50k = 1.8 BTC → cash 50k, 3.4 BTC;
    #          and so on: 1.8 BTC sold a month, 0.2 BTC kept. Never a default.
    out = _consolidate(C.POLICIES["hold_all"], 2.0)
    f = out.flows[0]
    assert out.default_month[0] == 6  # none within the 6 months
    np.testing.assert_allclose(f[:, C.SOLD_BTC], [0.8, 1.8, 1.8, 1.8, 1.8, 1.8])
    np.testing.assert_allclose(f[:, C.SALES], [40e3, 90e3, 90e3, 90e3, 90e3, 90e3])
    np.testing.assert_allclose(f[:, C.INTEREST], 10e3)
    np.testing.assert_allclose(f[:, C.COSTS], 80e3)
    np.testing.assert_allclose(f[:, C.PRINCIPAL], 0.0)  # no acceleration
    np.testing.assert_allclose(out.cash_usd[0], 50e3)
    np.testing.assert_allclose(out.btc_held[0], [3.2, 3.4, 3.6, 3.8, 4.0, 4.2])


def test_btc_counted_toward_liquidity_at_a_haircut() -> None:
    # Half the BTC's value counts as liquidity. Month 0: cash 10k + 0.5·4·50k = 110k ≥ 50k: no
    # sale. Month 1: 6 BTC, cash 10k − 90k = −80k: sell 80k / 50k = 1.6 BTC → cash 0, 4.4 BTC,
    # liquidity 0 + 0.5·4.4·50k = 110k. Month 2: 6.4 BTC, cash −90k: sell 1.8 → 4.6 BTC, …
    out = _consolidate(C.POLICIES["hold_all"], 2.0, btc_liquidity_share=0.5)
    f = out.flows[0]
    assert out.default_month[0] == 6
    np.testing.assert_allclose(f[:, C.SOLD_BTC], [0.0, 1.6, 1.8, 1.8, 1.8, 1.8])
    np.testing.assert_allclose(out.cash_usd[0], [10e3, 0, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(out.btc_held[0], [4.0, 4.4, 4.6, 4.8, 5.0, 5.2])


def test_a_real_shortfall_still_defaults_in_the_month_it_happens() -> None:
    # 1 BTC a month ($50k) against $90k of costs and interest. Month 0: 3 BTC, cash 10k: sell
    # 0.8 → 2.2 BTC, cash 50k. Month 1: 3.2 BTC, cash −40k: sell 1.8 → 1.4 BTC. Month 2: 2.4,
    # sell 1.8 → 0.6. Month 3: 1.6 BTC, cash −40k: selling all gives 40k < 50k: the covenant is
    # breached, the $1M is accelerated, cash −960k: default in month 3, $960k short.
    out = _consolidate(C.POLICIES["hold_all"], 1.0)
    assert out.default_month[0] == 3
    assert out.shortfall_usd[0] == pytest.approx(960e3)
    np.testing.assert_allclose(out.flows[0, :4, C.SOLD_BTC], [0.8, 1.8, 1.8, 1.6])
    np.testing.assert_allclose(out.flows[0, :4, C.PRINCIPAL], [0, 0, 0, 1e6])


def test_bitriver_holding_no_longer_defaults_in_the_first_month() -> None:
    sell = plan.run(_load("bitriver.yaml", "paths=1024"), with_tornado=False)
    hold = plan.run(
        _load("bitriver.yaml", "paths=1024", "company.treasury.policy=hold_all"),
        with_tornado=False,
    )
    # Before the fix: 99.97% within 12 months holding against 54.6% selling.
    assert hold.p_default()["12m"] < 0.75
    assert hold.default.p_default_by_month["as_configured"][0] < 0.05
    assert abs(hold.p_default()["12m"] - sell.p_default()["12m"]) < 0.25


def test_deterministic_one_path_plan_holding_stays_solvent_by_selling() -> None:
    data = yaml.safe_load((ROOT / "examples" / "texas_miner.yaml").read_text())
    data.update(paths=1, horizon_months=24)
    data["market"] = {"window_start": "2020-01-01", "stochastic": False, "antithetic": False}
    data["company"]["treasury"] = {"policy": "hold_all", "initial_btc": 10}
    data["company"]["debt"] = [
        {"name": "bank", "principal_usd": 5e7, "rate_annual": 0.1, "maturity_months": 60}
    ]
    data["company"]["covenants"] = {"min_liquidity_usd": 1e7}
    cfg = _plan(data)
    model = plan.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, cfg.paths)
    paths = scenarios.simulate(model.market, 24, seeds, 0, 1, 1)
    ev = plan.evaluate(model, paths, None, {}, None)
    out = ev.finance["as_configured"]
    f = out.flows[0]
    assert out.default_month[0] == 24  # solvent throughout
    # Each month the company sells exactly what keeps its cash at the $10M minimum (or nothing,
    # while it has more): month by month, cash after = cash before + sales + other − costs −
    # interest, and sales are zero whenever cash before the sale was at least the minimum.
    cash = np.concatenate([[cfg.company.cash_usd], out.cash_usd[0]])
    before_sales = cash[:-1] + f[:, C.OTHER] - f[:, C.COSTS] - f[:, C.INTEREST]
    np.testing.assert_allclose(cash[1:], before_sales + f[:, C.SALES], rtol=1e-12)
    need = np.maximum(1e7 - before_sales, 0.0)
    np.testing.assert_allclose(f[:, C.SALES], need, rtol=1e-9, atol=1e-3)
    assert f[:, C.SALES].sum() > 0  # it had to sell
    assert np.all(out.cash_usd[0] >= 1e7 - 1e-3)


# --------------------------------------------------------------------------- sell_share
def test_sell_share_sells_that_share_of_each_months_production() -> None:
    # Half of 3 BTC a month sold ($75k) against $80k of costs and $10k of interest.
    # Month 0: 5 BTC; cash 100k − 80k + 75k − 10k = 85k ≥ 50k; 1.5 sold, 3.5 held.
    # Month 1: 85k − 15k = 70k (5.0 held); month 2: 55k (6.5 held).
    # Month 3: 55k − 15k = 40k < 50k: sell 0.2 more → 50k, 1.7 sold, 7.8 held.
    # Months 4–5: 50k − 15k = 35k: sell 0.3 more → 1.8 sold, 9.0 and 10.2 held.
    out = _consolidate(C.POLICIES["sell_share"], 3.0, sell_share=0.5)
    f = out.flows[0]
    np.testing.assert_allclose(f[:, C.SOLD_BTC], [1.5, 1.5, 1.5, 1.7, 1.8, 1.8])
    np.testing.assert_allclose(out.cash_usd[0], [85e3, 70e3, 55e3, 50e3, 50e3, 50e3])
    np.testing.assert_allclose(out.btc_held[0], [3.5, 5.0, 6.5, 7.8, 9.0, 10.2])


def test_sell_share_in_the_schema(tmp_path: Path) -> None:
    cfg = _load(
        "texas_miner.yaml",
        "company.treasury.policy=sell_share",
        "company.treasury.sell_share_of_production=0.5",
        "paths=128",
    )
    model = plan.build_model(cfg)
    assert model.variants["as_configured"].sell_share == 0.5
    msg = plan_rejected(
        ROOT / "examples" / "texas_miner.yaml",
        tmp_path,
        "--set",
        "company.treasury.policy=sell_share",
    )
    assert "sell_share_of_production" in msg
    msg = plan_rejected(
        ROOT / "examples" / "texas_miner.yaml",
        tmp_path,
        "--set",
        "company.covenants.btc_counts_toward_liquidity_pct=120",
    )
    assert "btc_counts_toward_liquidity_pct: 120" in msg


# --------------------------------------------------------------------------- neutral defaults
PLAIN = {
    "name": "plain-150",
    "horizon_months": 120,
    "paths": 512,
    "seed": 1,
    "discount_rate_annual": 0.12,
    "company": {"name": "Co", "cash_usd": 5e7},
    "sites": [
        {
            "name": "a",
            "power_capacity_mw": 150,
            "pue": 1.1,
            "power_usd_per_mwh": 45,
            "fleet": [{"model": "Antminer S21", "share_of_power": 1.0}],
        }
    ],
}


def test_default_drift_keeps_the_median_flat_and_says_so() -> None:
    cfg = _plan(copy.deepcopy(PLAIN))
    model = plan.build_model(cfg)
    m = model.market
    assert m.drift_rule == "median_flat"
    assert m.mu_annual == pytest.approx(m.sigma_annual**2 / 2, rel=1e-12)
    r = plan.run(cfg, with_tornado=False)
    s = r.summary()["market_assumptions"]
    # No drift flag (the others: how old the data are and the backtest's misses, which every
    # run states).
    assert s["drift_rule"] == "median_flat"
    others = [f for f in s["flags"] if not f.startswith("data end ") and "out of sample" not in f]
    assert others == []
    for key in (
        "data_end",
        "start_month",
        "start_btc_price_usd",
        "start_hashrate_eh_s",
        "mu_annual",
        "sigma_annual",
        "discount_rate_annual",
    ):
        assert key in s
    # The median BTC price ten years out is today's, within Monte Carlo error (before the fix
    # the 2016–2025 drift of ~80%/yr sent it up by a factor of ~300).
    median_end = r.fans["btc_price_usd"].p50[-1]
    assert median_end == pytest.approx(m.price0_usd, rel=0.2)
    assert "equity" not in r.summary()["npv_definition"]  # no company finance here


def test_deterministic_default_run_is_flat() -> None:
    data = copy.deepcopy(PLAIN)
    data.update(paths=1, market={"stochastic": False, "antithetic": False})
    r = plan.run(_plan(data), with_tornado=False)
    price = r.fans["btc_price_usd"].p50
    assert price[-1] == pytest.approx(price[0], rel=1e-12)
    assert r.fans["network_hashrate_eh_s"].p50[-1] < 1e4  # not 1,000,000 EH/s


def test_historical_drift_must_be_asked_for_and_is_flagged() -> None:
    data = copy.deepcopy(PLAIN)
    data["market"] = {"drift": "historical"}
    r = plan.run(_plan(data), with_tornado=False)
    s = r.summary()["market_assumptions"]
    assert s["drift_rule"] == "historical"
    assert s["mu_annual"] > 0.5 and s["flags"] and "history" in s["flags"][0]
    data["market"] = {"drift": "historical", "mu_annual": 0.1}
    with pytest.raises(ConfigError, match="not both"):
        _plan(data)


def test_bootstrap_is_recentred_on_the_drift() -> None:
    m = scenarios.calibrate(btc_model="bootstrap", window_start="2016-01-01")
    r = m.bootstrap_returns
    sigma = np.sqrt(r.var(ddof=1) * 12)
    assert r.mean() == pytest.approx((m.mu_annual - sigma**2 / 2) / 12, abs=1e-15)
    assert r.mean() == pytest.approx(0.0, abs=1e-15)  # median_flat: no trend


# --------------------------------------------------------------------------- fleet shares
def test_fleet_shares_must_fill_the_site_or_name_the_idle_share(tmp_path: Path) -> None:
    half = "sites[0].fleet=[{model: Antminer S21, share_of_power: 0.5}]"
    msg = plan_rejected(ROOT / "examples" / "texas_miner.yaml", tmp_path, "--set", half)
    assert "sites[0]" in msg and "adds up to 0.5" in msg and "idle_share" in msg
    data = copy.deepcopy(PLAIN)
    data["sites"][0]["fleet"] = [{"model": "Antminer S21", "share_of_power": 0.5}]
    data["sites"][0]["idle_share"] = 0.5
    full = _plan(copy.deepcopy(PLAIN)).sites[0].to_site()
    idle = _plan(data).sites[0].to_site()
    assert idle.hashrate_th_s == pytest.approx(full.hashrate_th_s / 2, rel=1e-9)


# --------------------------------------------------------------------------- fees per block
def test_fees_per_block_do_not_halve_at_the_halving() -> None:
    cfg = _plan(copy.deepcopy(PLAIN) | {"paths": 2048, "horizon_months": 60})
    model = plan.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, cfg.paths)
    p = scenarios.simulate(model.market, 60, seeds, 0, len(seeds), cfg.paths)
    # The month each path crosses block 1,050,000 (the fifth halving, 2028).
    era = np.floor((model.market.height0 + np.cumsum(p.blocks, axis=1)) / 210_000)
    crossed = np.argmax(era >= 5, axis=1)
    assert np.all(crossed > 3)
    rows = np.arange(cfg.paths)
    before = p.fees_btc_per_block[rows, crossed - 2]
    after = p.fees_btc_per_block[rows, crossed + 2]
    sub_before = p.subsidy_btc[rows, crossed - 2]
    sub_after = p.subsidy_btc[rows, crossed + 2]
    np.testing.assert_allclose(sub_before, 3.125)
    np.testing.assert_allclose(sub_after, 1.5625)
    # Subsidy halves; the median fee per block does not (within sampling noise; before the fix
    # it went from 0.100 to 0.051 BTC).
    assert np.median(after) / np.median(before) == pytest.approx(1.0, abs=0.1)
    assert network.block_subsidy_sats(1_050_000) == 156_250_000


# --------------------------------------------------------------------------- what people see
def test_npv_histogram_clips_to_p1_p99_and_counts_the_rest() -> None:
    from hashpivot.reports import plan as report

    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(0, 1e6, 9_990), np.full(10, 2e10)])  # ten paths at $20B
    h = report.npv_histogram(v)
    assert h["p99_usd"] < 1e8  # the axis is not stretched to $20B
    assert sum(h["counts"]) + h["below"] + h["above"] == v.size
    assert h["above"] >= 10 and h["below"] >= 1
    assert "npv_values" not in h and len(h["counts"]) == 60  # bins, not raw values


def test_report_states_market_assumptions_and_colours_the_tornado(tmp_path: Path) -> None:
    from hashpivot.reports import plan as report

    r = plan.run(_load("bitriver.yaml", "paths=256"))
    figs = report.build_figures(r)
    tor = figs["tornado"].data
    assert [t.name for t in tor] == ["adverse", "favourable"]
    assert tor[0].marker.color == report.ADVERSE_COLOUR == "#d62728"  # red is unfavourable
    html = report.render(r, "RUN")
    assert 'id="market-assumptions"' in html and "median_flat" in html
    assert "equity value after default" in html
    data = copy.deepcopy(PLAIN)
    data["market"] = {"drift": "historical"}
    assert "FLAG:" in report.render(plan.run(_plan(data), with_tornado=False), "RUN")


def test_dispatch_chart_draws_prices_above_the_load() -> None:
    from hashpivot.config import models as cfgmod
    from hashpivot.data import power_prices as price_data
    from hashpivot.dispatch import site_file as dispatch_site
    from hashpivot.reports import plan as report

    sf = cfgmod.load_site_file(ROOT / "examples" / "texas_ppa_2023.yaml")
    series = price_data.hourly_prices("ercot:LZ_WEST:2023").month("2023-08")
    result, accounts = dispatch_site.run_site_file(sf, series)
    html = report.render_dispatch(result, accounts, series, "t")
    # Plotly draws an overlaying axis's traces above the base axis's: the filled load is on the
    # base axis, the price line on the overlaying one.
    assert "price (USD" in html
    fig = report.dispatch_figure(result, series)
    by = {t.name: t for t in fig.data}
    assert by["mining load (MW)"].fill == "tozeroy" and by["mining load (MW)"].yaxis in (None, "y")
    assert by["price (USD/MWh)"].yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"


def test_api_docs_work_offline(tmp_path: Path) -> None:

    from hashpivot.api.app import create_app

    client = local_client(create_app(tmp_path / "r.duckdb", "token"))
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "jsdelivr" not in page.text and "unpkg" not in page.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_first_run_says_it_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hashpivot.engine import run as plan

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "empty-cache"))
    assert plan.kernels_need_compiling()
    # With an index newer than every kernel source in the cache folder (numba names the folder
    # after the source's own folder), nothing to say.
    for folder, name in (
        ("sites", "kernel"),
        ("market", "kernel"),
        ("finance", "company"),
        ("engine", "site_results"),
    ):
        (tmp_path / "empty-cache" / f"{folder}_0").mkdir(parents=True)
        (tmp_path / "empty-cache" / f"{folder}_0" / f"{name}._k-1.py311.nbi").write_bytes(b"")
        assert plan.kernels_need_compiling() == (folder != "engine")
    assert not plan.kernels_need_compiling()
