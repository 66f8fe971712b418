"""The decision of `hashpivot plan` over sites' alternatives (engine.decision): closed-form
equalities on the plan's own paths, the unconstrained choice, and bad input at the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli_helpers import plan_json, run
from hashpivot.config.models import load_plan, load_plan_text
from hashpivot.engine import decision

PLAN = """
name: decision-test
horizon_months: 24
paths: 256
seed: 3
discount_rate_annual: 0.12
market: {btc_model: gbm, window_start: 2020-01-01}
company: {name: Test Co., cash_usd: 50_000_000}
sites:
  - name: west
    jurisdiction: US-TX
    power_capacity_mw: 50
    pue: 1.05
    power_usd_per_mwh: 35
    uptime: 0.95
    fleet: [{model: Antminer S21, share_of_power: 1.0}]
    alternatives:
      # resale never pays more than mining: a resale cost above every hourly price of the
      # market (Nord Pool SE1 2023 peaks at $359/MWh)
      - {kind: mine_flexibly, name: flex_never,
         sell_back: {power_market: "nordpool:SE1:da:2023", resale_cost_usd_per_mwh: 1000}}
      - {kind: mine_flexibly, sell_back: {power_market: "ercot:HB_WEST:da"}}
      - {kind: sell_site, price_usd_per_mw: 400_000, comparable: test}
      - {kind: shut_down, decommissioning_usd: 1_000_000}
  - name: north
    jurisdiction: US-TX
    power_capacity_mw: 20
    pue: 1.05
    power_usd_per_mwh: 60
    fleet: [{model: Antminer S19 XP, share_of_power: 1.0}]
    alternatives:
      - {kind: sell_site, price_usd_per_mw: 100_000, comparable: test}
portfolio: {scenarios: 256, frontier_points: 3}
"""


@pytest.fixture(scope="module")
def result() -> decision.DecisionResult:
    plan, _ = load_plan_text(PLAN)
    return decision.decide_plan(plan)


def test_mine_flexibly_without_a_better_market_equals_keep_mining() -> None:
    plan, _ = load_plan_text(PLAN)
    opts = {o.name: o for o in decision.options_of(plan, 0)}
    bare = decision.bare_plan(plan)
    from hashpivot.engine.run import build_model
    from hashpivot.market import scenarios

    market = build_model(bare.model_copy(update={"sites": [opts["keep_mining"].config]})).market
    seeds = scenarios.block_seeds(plan.seed, plan.paths)
    paths = scenarios.simulate(market, plan.horizon_months, seeds, 0, 4, plan.paths)
    keep = decision.value_option(bare, opts["keep_mining"], market, paths).npv_usd
    never = decision.value_option(bare, opts["flex_never"], market, paths).npv_usd
    flex = decision.value_option(bare, opts["mine_flexibly"], market, paths).npv_usd
    np.testing.assert_allclose(never, keep, rtol=1e-9, atol=1e-3)
    assert (flex >= keep - 1e-3).all()  # the right to resell is worth ≥ 0 on every path
    assert flex.mean() > keep.mean()


def test_flexible_mining_reads_no_prices_after_as_of() -> None:
    from hashpivot.engine.run import build_model
    from hashpivot.errors import InputError

    text = PLAN.replace(
        "window_start: 2020-01-01}", "window_start: 2020-01-01, as_of: 2023-06-30}"
    ).replace("Antminer S21", "Antminer S19 XP")  # on sale by then
    plan, _ = load_plan_text(text)
    flex = next(o for o in decision.options_of(plan, 0) if o.name == "mine_flexibly")
    bare = decision.bare_plan(plan).model_copy(update={"sites": [flex.config]})
    with pytest.raises(InputError, match=r"sell_back\.power_market.*as_of 2023-06-30"):
        build_model(bare)  # ercot:HB_WEST:da runs to 2024-09


def test_no_limits_each_site_takes_its_best(result: decision.DecisionResult) -> None:
    for site in result.sites:
        best = max((o for o in site.options if o.npv_usd is not None), key=lambda o: o.npv_usd.mean)
        assert site.action == best.name == site.greedy_action
    assert result.greedy_feasible
    assert result.portfolio.expected_npv_usd == pytest.approx(result.greedy.expected_npv_usd)
    # the portfolio's expected NPV is the sum of the chosen alternatives' means
    total = sum(s.option(s.action).npv_usd.mean for s in result.sites)
    assert result.portfolio.expected_npv_usd == pytest.approx(total, rel=1e-9)


def test_forcing_the_next_best_costs_the_difference(result: decision.DecisionResult) -> None:
    for site in result.sites:
        if site.next_best is None:
            continue
        gap = site.option(site.action).npv_usd.mean - site.option(site.next_best).npv_usd.mean
        assert site.cost_to_force_next_best_usd == pytest.approx(gap, rel=1e-6, abs=1.0)


def test_sale_proceeds_are_the_closed_form(result: decision.DecisionResult) -> None:
    north = next(s for s in result.sites if s.site == "north")
    sale = north.option("sell_site")
    # 20 MW × $100k at month 0 (end of the month), discounted one month at 12%/yr
    assert sale.npv_usd.mean == pytest.approx(2_000_000 * 1.12 ** (-1 / 12), rel=1e-9)


def test_cli_decision_json_and_bad_input(tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN)
    out = plan_json(plan, tmp_path / "runs.duckdb", tmp_path / "out", 256, 24)
    d = out["decision"]
    for key in ("action", "start_month", "npv_usd", "npv_vs_keep_usd", "next_best"):
        assert key in d["sites"][0]
    for key in ("expected_npv_usd", "cvar_usd", "binding"):
        assert key in d["portfolio"]
    assert isinstance(d["frontier"], list) and d["frontier"]
    bad = {
        "portfolio.cvar_level": PLAN.replace("frontier_points: 3}", "cvar_level: 1.5}"),
        "price_source": PLAN.replace(
            "- {kind: shut_down, decommissioning_usd: 1_000_000}",
            "- {kind: repower, fleet: [{model: Antminer S21, share_of_power: 1}], "
            "price_usd_per_th: 15}",
        ),
        # no choice reaches a CVaR of $1T: infeasible, with the smallest relaxation named
        "cvar_floor": PLAN.replace("frontier_points: 3}", "cvar_floor_usd: 1.0e12}"),
    }
    for field, text in bad.items():
        plan.write_text(text)
        db = tmp_path / f"{field}.duckdb"
        r = run("plan", str(plan), "--db", str(db), "--out", str(tmp_path / "o2"), "--json")
        assert r.returncode == 2, (field, r.stderr)
        assert field in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not db.exists() or "decision-test" not in db.read_bytes().decode("latin1")


def test_us_miner_portfolio_keeps_its_limits() -> None:
    """The shipped Texas/Georgia example: the choice keeps every limit of its portfolio
    section, beats keeping everything, and is bounded above by the greedy per-site choice
    (which maximises each site alone, so no choice within limits can exceed it)."""
    plan, _ = load_plan(
        Path(__file__).resolve().parents[1] / "examples" / "us_miner_portfolio.yaml",
        values={"portfolio.scenarios": 256},
        paths=256,
    )
    limits = plan.portfolio
    assert limits is not None and limits.capex_budget_usd_by_year is not None
    r = decision.decide_plan(plan)
    chosen = [s.option(s.action) for s in r.sites]
    capex = np.sum([o.capex_usd_by_year for o in chosen], axis=0)
    budget = np.asarray(limits.capex_budget_usd_by_year)
    assert (capex[: budget.size] <= budget * (1 + 1e-9)).all()
    assert sum(o.leased_mw for o in chosen) <= (limits.leased_mw or np.inf) + 1e-9
    years = [s.start_month // 12 for s, o in zip(r.sites, chosen, strict=True)
             if o.kind in ("convert_lease", "gpu_cloud") and s.start_month is not None]  # fmt: skip
    assert max(np.bincount(years, minlength=1)) <= (limits.conversions_per_year or np.inf)
    assert r.portfolio.expected_npv_usd >= r.keep.expected_npv_usd
    assert r.portfolio.expected_npv_usd <= r.greedy.expected_npv_usd * (1 + 1e-12)
    if not r.greedy_feasible:  # the limits cost something: some limit binds
        assert r.binding and r.portfolio.expected_npv_usd < r.greedy.expected_npv_usd


CEILING_PLAN = """
name: ceiling-test
horizon_months: 24
paths: 256
seed: 5
discount_rate_annual: 0.12
market: {btc_model: gbm, window_start: 2020-01-01}
company:
  name: Test Co.
  cash_usd: 2_000_000
  debt: [{name: note, principal_usd: 15_000_000, rate_annual: 0.08, maturity_months: 12}]
sites:
  - name: west
    jurisdiction: US-TX
    power_capacity_mw: 50
    pue: 1.05
    power_usd_per_mwh: 35
    uptime: 0.95
    fleet: [{model: Antminer S21, share_of_power: 1.0}]
    alternatives:
      # a sale pays the note at once; mining is worth more on average but may miss it
      - {kind: sell_site, price_usd_per_mw: 300_000, comparable: test}
portfolio: {scenarios: 256, frontier_points: 4}
"""


def test_a_p_default_ceiling_is_kept_at_the_best_expected_npv() -> None:
    """A ceiling on P(default) at the safest frontier portfolio's odds: the decision keeps the
    ceiling (the company model on the same paths) and is worth at least every frontier
    portfolio that keeps it; the ceiling is reported binding."""
    free = decision.decide_plan(load_plan_text(CEILING_PLAN)[0])
    ceiling = min(p.p_default for p in free.frontier if p.p_default is not None)
    assert free.portfolio.p_default is not None and free.portfolio.p_default > ceiling
    text = CEILING_PLAN.replace(
        "frontier_points: 4}", f"frontier_points: 4, p_default_max: {ceiling}}}"
    )
    kept = decision.decide_plan(load_plan_text(text)[0])
    assert kept.portfolio.p_default is not None and kept.portfolio.p_default <= ceiling
    keepers = [p.expected_npv_usd for p in free.frontier if (p.p_default or 0) <= ceiling]
    assert kept.portfolio.expected_npv_usd >= max(keepers) - 1e-6 * abs(max(keepers))
    assert kept.binding["p_default_max"] > 0
