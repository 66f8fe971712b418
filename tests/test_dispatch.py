"""Hourly dispatch on HiGHS: hand-solvable LPs, the closed form on real 2023 prices, balances,
duals, the Riot August-2023 pattern, price validation and infeasibility."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_helpers import ROOT, run
from hashpivot.config import models as config
from hashpivot.data import power_prices as price_data
from hashpivot.dispatch import curve as dispatch_curves
from hashpivot.dispatch import lp as dispatch
from hashpivot.dispatch import site_file as dispatch_site
from hashpivot.errors import InputError

EXAMPLE = ROOT / "examples" / "texas_ppa_2023.yaml"


# --------------------------------------------------------------------------- hand-solved LPs
def test_two_hours_market() -> None:
    # Value $50/MWh, prices 30 and 70: mine the first hour only, (50 − 30) × 10 MW = 200.
    r = dispatch.solve(dispatch.DispatchSite("a", 10, 50.0), np.array([30.0, 70.0]))
    assert r.objective_usd == pytest.approx(200.0, abs=1e-9)
    np.testing.assert_allclose(r.mining_mw, [10, 0], atol=1e-9)


def test_three_hours_ramp() -> None:
    # Prices 100, 0, 100 against value 50: only the middle hour pays, but a 5 MW/h ramp from
    # hour 1 means m = (0, 5, 0) at best: −50·0 + 50·5 − 50·0 = 250.
    site = dispatch.DispatchSite("a", 10, 50.0, ramp_mw_per_hour=5)
    r = dispatch.solve(site, np.array([100.0, 0.0, 100.0]))
    assert r.objective_usd == pytest.approx(250.0, abs=1e-9)
    np.testing.assert_allclose(r.mining_mw, [0, 5, 0], atol=1e-9)


def test_two_hours_ppa_sellback() -> None:
    # 10 MW PPA at $20: hour 1 (price 30 < value 50) mine; hour 2 (price 200) sell the block
    # back: 50·10 + 200·10 − 20·10·2 = 2,100.
    site = dispatch.DispatchSite("a", 10, 50.0, ppa_mw=10, ppa_price_usd_per_mwh=20)
    r = dispatch.solve(site, np.array([30.0, 200.0]))
    assert r.objective_usd == pytest.approx(2100.0, abs=1e-9)
    acc = r.accounts()
    assert acc["revenue_sellback_usd"] == pytest.approx(2000.0)
    assert acc["revenue_mining_usd"] == pytest.approx(500.0)
    assert acc["power_cost_usd"] == pytest.approx(400.0)


def test_two_hours_reserve() -> None:
    # Reserve up to 4 MW at $5/MW-h; hour 2 is called. Hour 1: mine 10 and offer 4 (+20).
    # Hour 2: a called MW earns 5 but loses the 20 margin, so offer none. 220 + 200 = 420.
    called = np.array([False, True])
    site = dispatch.DispatchSite("a", 10, 50.0, reserve=dispatch.Reserve(4, 5.0, called=called))
    r = dispatch.solve(site, np.array([30.0, 30.0]))
    assert r.objective_usd == pytest.approx(420.0, abs=1e-9)
    np.testing.assert_allclose(r.reserve_mw, [4, 0], atol=1e-9)


def test_firm_load_shares_the_interconnect() -> None:
    # 5 MW firm load on a 12 MW interconnect leaves 7 MW to mine: 50·7 − 30·12 = −10.
    site = dispatch.DispatchSite("a", 10, 50.0, firm_mw=5, interconnect_mw=12)
    r = dispatch.solve(site, np.array([30.0]))
    assert r.objective_usd == pytest.approx(-10.0, abs=1e-9)
    assert r.mining_mw[0] == pytest.approx(7.0)


# --------------------------------------------------------------------------- real 2023 prices
@pytest.fixture(scope="module")
def west() -> price_data.HourlyPrices:
    return price_data.hourly_prices("ercot:LZ_WEST:2023")


@pytest.mark.parametrize("node", ["LZ_WEST", "LZ_NORTH"])
@pytest.mark.parametrize("value", [25.0, 80.0, 400.0])
def test_unconstrained_lp_equals_closed_form_on_2023(node: str, value: float) -> None:
    p = price_data.hourly_prices(f"ercot:{node}:2023").price_usd_per_mwh
    site = dispatch.DispatchSite("a", 100, value, ppa_mw=100, ppa_price_usd_per_mwh=27)
    lp = dispatch.solve(site, p)
    m, objective = dispatch.closed_form(site, p)
    assert lp.objective_usd == pytest.approx(objective, rel=1e-9)
    strict = value != p
    np.testing.assert_allclose(lp.mining_mw[strict], m[strict], atol=1e-6)


def test_example_balance_and_duals_every_hour(west: price_data.HourlyPrices) -> None:
    sf = config.load_site_file(EXAMPLE)
    site = dispatch_site.site_problem(sf, west)
    r = dispatch.solve(site, west.price_usd_per_mwh)
    # Energy balance rebuilt from the solution, every hour.
    lhs = r.grid_mw - r.mining_mw + r.called * r.reserve_mw
    np.testing.assert_allclose(lhs, site.firm_mw - site.ppa_mw, atol=1e-6)
    # g is unbounded here, so every hour is interior: the dual is the hourly price.
    np.testing.assert_allclose(r.balance_dual_usd_per_mwh, west.price_usd_per_mwh, atol=1e-6)
    assert np.all(r.reserve_mw <= r.mining_mw + 1e-6)


def test_dual_equals_price_only_where_interior(west: price_data.HourlyPrices) -> None:
    p = west.price_usd_per_mwh
    site = dispatch.DispatchSite("a", 100, 60.0, ppa_mw=100, ppa_price_usd_per_mwh=27, export_mw=50)
    r = dispatch.solve(site, p)
    interior = r.grid_mw > -50 + 1e-6
    assert interior.any() and (~interior).any()
    np.testing.assert_allclose(r.balance_dual_usd_per_mwh[interior], p[interior], atol=1e-6)
    # Where the export limit binds, the site's marginal energy is worth less than the price.
    assert np.all(r.balance_dual_usd_per_mwh[~interior] <= p[~interior] + 1e-6)


def test_august_2023_sellback_beats_mining_like_riot(west: price_data.HourlyPrices) -> None:
    # Riot, August 2023: $24.2M of power credits against ~$8.9M of BTC mined. With the example's
    # sourced PPA ($27/MWh) and fleet (S19j Pro, 29.5 J/TH) on LZ_WEST, the same pattern holds.
    aug = west.month("2023-08")
    assert aug.price_usd_per_mwh.mean() == pytest.approx(199.16, abs=0.01)  # SOURCES: ≈ $199
    sf = config.load_site_file(EXAMPLE)
    r = dispatch.solve(dispatch_site.site_problem(sf, aug), dispatch_site.market_prices(sf, aug))
    acc = r.accounts()
    assert acc["revenue_sellback_usd"] > acc["revenue_mining_usd"] > 0
    assert acc["revenue_demand_response_usd"] > 0


def test_strike_policy_never_beats_the_optimum(west: price_data.HourlyPrices) -> None:
    site = dispatch.DispatchSite("a", 100, 70.0, ramp_mw_per_hour=30)
    out = dispatch.strike_comparison(site, west.price_usd_per_mwh)
    assert out["strike_policy_value_lost_usd"] >= -1e-6
    assert out["strike_low_usd_per_mwh"] <= out["strike_high_usd_per_mwh"]


def test_dispatch_curve_matches_hour_counts(west: price_data.HourlyPrices) -> None:
    curve = dispatch_curves.dispatch_curve(west)
    aug = west.month("2023-08").price_usd_per_mwh
    for v in (20.0, 80.0, 250.0):
        k = int(np.searchsorted(curve.value_grid_usd_per_mwh, v))
        v_grid = curve.value_grid_usd_per_mwh[k]
        assert curve.uptime[7, k] == pytest.approx(np.mean(aug < v_grid))
        assert curve.avg_price_usd_per_mwh[7, k] == pytest.approx(aug[aug < v_grid].mean())
    assert np.all(np.diff(curve.uptime, axis=1) >= 0)


# --------------------------------------------------------------------------- bad input
def write_prices(tmp_path: Path, hours: pd.DatetimeIndex, prices: list[float]) -> Path:
    p = tmp_path / "prices.csv"
    pd.DataFrame(
        {"timestamp_utc": hours.strftime("%Y-%m-%dT%H:%MZ"), "price_usd_per_mwh": prices}
    ).to_csv(p, index=False)
    return p


def test_price_validation(tmp_path: Path) -> None:
    h = pd.date_range("2023-08-01", periods=4, freq="h", tz="UTC")
    good = price_data.hourly_prices_file(str(write_prices(tmp_path, h, [1, 2, 3, 4])))
    assert good.price_usd_per_mwh.tolist() == [1, 2, 3, 4]
    with pytest.raises(InputError, match="NaN"):
        price_data.hourly_prices_file(str(write_prices(tmp_path, h, [1, float("nan"), 3, 4])))
    with pytest.raises(InputError, match="duplicated hour"):
        price_data.hourly_prices_file(str(write_prices(tmp_path, h[[0, 1, 1, 2]], [1, 2, 3, 4])))
    with pytest.raises(InputError, match="gap"):
        price_data.hourly_prices_file(str(write_prices(tmp_path, h[[0, 1, 3]], [1, 2, 4])))


def test_dst_fall_back_hour_is_filled_explicitly(west: price_data.HourlyPrices) -> None:
    assert west.price_usd_per_mwh.size == 8760
    assert west.filled_hours_utc == ("2023-11-05 07:00:00+00:00",)
    i = west.index_utc.get_loc(pd.Timestamp("2023-11-05T07:00Z"))
    assert west.price_usd_per_mwh[i] == west.price_usd_per_mwh[i - 1]
    assert west.month("2023-11").price_usd_per_mwh.size == 721  # the repeated local hour


def test_infeasible_is_reported_as_such() -> None:
    # 50 MW committed, but only 40 MW can run: no feasible schedule.
    committed = np.ones(3, dtype=bool)
    site = dispatch.DispatchSite(
        "a", 100, 50.0, interconnect_mw=40, reserve=dispatch.Reserve(60, 5.0, 50, committed)
    )
    with pytest.raises(dispatch.DispatchInfeasible, match="infeasible") as err:
        dispatch.solve(site, np.array([10.0, 20.0, 30.0]))
    assert err.value.status is dispatch.SolverStatus.INFEASIBLE


def test_a_solved_result_is_always_optimal() -> None:
    site = dispatch.DispatchSite("a", 10, 50.0)
    assert dispatch.solve(site, np.array([10.0, 60.0])).status is dispatch.SolverStatus.OPTIMAL


def test_cli_json_keys(tmp_path: Path) -> None:
    r = run(
        "dispatch",
        str(EXAMPLE),
        "--prices",
        "ercot:LZ_WEST:2023",
        "--month",
        "2023-08",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in (
        "status",
        "objective_usd",
        "mwh_mined",
        "mwh_curtailed",
        "mwh_sold_back",
        "revenue_mining_usd",
        "revenue_sellback_usd",
        "revenue_demand_response_usd",
        "power_cost_usd",
        "strike_low_usd_per_mwh",
        "strike_high_usd_per_mwh",
    ):
        assert key in out
    assert out["status"] == "optimal"
    assert Path(out["chart_path"]).exists()


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--prices", "ercot:LZ_EAST:2023"], "node"),
        (["--prices", "ercot:LZ_WEST:2021"], "2023"),
        (["--month", "2024-02"], "--month"),
        (["--prices", "/nonexistent.csv"], "--prices"),
    ],
)
def test_cli_bad_inputs(tmp_path: Path, args: list[str], text: str) -> None:
    r = run("dispatch", str(EXAMPLE), "--out", str(tmp_path), *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr and text in r.stderr, r.stderr


def test_cli_infeasible_ramp(tmp_path: Path) -> None:
    site = tmp_path / "s.yaml"
    # A 40 MW interconnect cannot carry the 50 MW committed reserve.
    text = EXAMPLE.read_text().replace(
        "  firm_load_mw: 0\n", "  firm_load_mw: 0\n  interconnect_mw: 40\n"
    )
    site.write_text(text)
    r = run("dispatch", str(site), "--month", "2023-08", "--out", str(tmp_path))
    assert r.returncode == 2 and "infeasible" in r.stderr and "Traceback" not in r.stderr
