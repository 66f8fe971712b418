"""The Python API analysts script against: ``import hashpivot as hp``. Checked against the CLI's
own answers for the same plan and seed, against each result's own totals, and for the things a
notebook relies on (typed overrides, frozen results, units in column names, a light import)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hashpivot as hp
from cli_helpers import ROOT, plan_json
from hashpivot.engine.results import NpvSummary, PlanResult
from hashpivot.errors import ConfigError

EX = ROOT / "examples"
TEXAS = EX / "texas_miner.yaml"
UNIT_SUFFIXES = (
    "_usd", "_usd_per_btc", "_usd_per_mwh", "_usd_per_kwh", "_usd_per_ph_day", "_btc",
    "_btc_per_block", "_btc_per_day", "_btc_per_ph_day", "_mw", "_mwh", "_eh_s", "_th_s",
    "_j_per_th", "_month", "_months", "month_index",
)  # fmt: skip


@pytest.fixture(scope="module")
def texas() -> PlanResult:
    return hp.run_plan(hp.load_plan(TEXAS, paths=256, horizon_months=24, seed=11), tornado=False)


def test_the_api_gives_the_cli_numbers(tmp_path: Path, texas: PlanResult) -> None:
    cli = plan_json(TEXAS, tmp_path / "r.duckdb", tmp_path, 256, 24, "--seed", "11")
    api = texas.summary()
    assert cli["npv_usd"] == api["npv_usd"]
    assert cli["p_default"] == api["p_default"]
    assert cli["sites"] == api["sites"]


def test_typed_overrides_reach_the_plan_without_a_text_round_trip() -> None:
    plan = hp.load_plan(
        TEXAS,
        {"sites[0].power_usd_per_mwh": 41.5, "company.cash_usd": 2_000_000},
        paths=128,
        seed=2**62 + 1,  # exact: no float or YAML round trip
    )
    assert plan.sites[0].power_usd_per_mwh == 41.5
    assert plan.company.cash_usd == 2_000_000
    assert plan.seed == 2**62 + 1 and plan.paths == 128
    np_value = hp.load_plan(TEXAS, {"sites[0].power_usd_per_mwh": np.float64(41.5)}, paths=64)
    assert np_value.sites[0].power_usd_per_mwh == 41.5


@pytest.mark.parametrize(
    ("overrides", "kw", "says"),
    [
        ({"sites[0].power_usd_per_mwh": -1.0}, {}, "sites[0].power_usd_per_mwh"),
        ({"sites[7].pue": 1.1}, {}, "sites[7]: index 7 out of range"),
        ({}, {"paths": "64"}, "paths"),  # a string is not a number here
        ({}, {"seed": True}, "seed"),
        ({"sites[0].nonsense": 1}, {}, "nonsense"),
    ],
)
def test_bad_overrides_name_the_field(
    overrides: dict[str, Any], kw: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError) as err:
        hp.load_plan(TEXAS, overrides, **kw)
    assert says in str(err.value)


def test_results_are_frozen_and_the_summary_is_computed_once(texas: PlanResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        texas.seed = 3  # type: ignore[misc]  # the point: frozen
    with pytest.raises(ValueError, match="read-only"):
        texas.npv_values[0] = 0.0
    assert texas.summary() is texas.summary()
    assert texas.default is None  # no company finance in this plan
    assert isinstance(texas.npv, NpvSummary)


def test_frames_hold_the_results_numbers(texas: PlanResult) -> None:
    s = texas.summary()
    row = texas.to_frame().iloc[0]
    assert row["npv_mean_usd"] == s["npv_usd"]["mean"]
    assert row["p_default_12m"] == s["p_default"]["12m"]
    npv = texas.npv_frame()
    assert len(npv) == 256 and npv["npv_usd"].mean() == pytest.approx(s["npv_usd"]["mean"])
    fans = texas.fans_frame()
    price = fans[fans["series"] == "btc_price_usd"]
    assert len(price) == 24
    assert list(price["p50"]) == list(texas.fans["btc_price_usd"].p50)
    assert (price["p5"] <= price["p50"]).all() and (price["p50"] <= price["p95"]).all()
    sites = texas.sites_frame()
    for name, site in s["sites"].items():
        assert sites.loc[name, "mined_btc"] == site["btc_mined"]
        assert sites.loc[name, "cost_all_in_usd_per_btc"] == site["cost_usd_per_btc"]["all_in"]


def test_frame_columns_carry_units(texas: PlanResult) -> None:
    frames = [texas.to_frame(), texas.sites_frame(), texas.npv_frame(), texas.tornado_frame()]
    allowed_plain = {
        "seed",
        "paths",
        "months",
        "start",
        "type",
        "series",
        "month",
        "path",
        "driver",
    }
    for frame in frames:
        for col in frame.columns:
            if col in allowed_plain or col.startswith(("p_", "share_")) or col in ("p5", "p25"):
                continue
            if col in ("p50", "p75", "p95", "mean", "median_conversion_month", "start_month"):
                continue
            assert col.endswith(UNIT_SUFFIXES), col


def test_network_cost_dispatch_and_buildout_frames() -> None:
    state = hp.network_state("2024-04-20")
    frame = state.to_frame()
    assert frame.loc["2024-04-20", "subsidy_btc"] == 3.125  # the fourth halving's era
    econ = hp.cost_stack(EX / "texas_ppa_2023.yaml")
    stack = econ.to_frame()
    assert stack["cost_usd"].sum() == pytest.approx(sum(econ.summary()["cost_usd"].values()))
    assert stack.loc["energy", "cost_usd_per_mwh"] == pytest.approx(
        econ.stack.energy_cost_usd / econ.stack.energy_mwh
    )
    import hashpivot.dispatch.lp  # noqa: F401 - the subpackage once shadowed a face function

    result = hp.dispatch_site(EX / "texas_ppa_2023.yaml", "ercot:LZ_WEST:2023")
    hours = result.to_frame()
    assert len(hours) == 8760
    assert hours["mined_mw"].sum() == pytest.approx(result.accounts()["mwh_mined"])
    b = hp.run_buildout(EX / "openai_16gw.yaml")
    months = b.to_frame()
    assert isinstance(months.index, pd.DatetimeIndex)
    assert months["capex_compute_usd"].sum() == pytest.approx(
        b.summary()["capex_by_component_usd"]["compute"]
    )


def test_importing_hashpivot_is_light() -> None:
    heavy = "('pandas', 'numba', 'duckdb')"
    code = f"import sys, hashpivot; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_face_names_are_not_subpackages() -> None:
    """Importing a subpackage binds its name on the package, so a face function of the same name
    (``hp.dispatch`` was one) is replaced by the module: no name may be both."""
    import pkgutil

    subpackages = {m.name for m in pkgutil.iter_modules(hp.__path__)}
    assert sorted(set(hp.__all__) & subpackages) == []
    for name in hp.__all__:
        assert callable(getattr(hp, name)) or name == "__version__"


def test_run_sweep_face_equals_the_plans_run_alone() -> None:
    import hashpivot as hp

    rows = hp.run_sweep(
        ROOT / "examples" / "texas_miner.yaml", ["discount_rate_annual=0.08,0.1"], paths=128
    )
    assert [r.overrides for r in rows] == [
        {"discount_rate_annual": 0.08},
        {"discount_rate_annual": 0.1},
    ]
    for r in rows:
        plan = hp.load_plan(ROOT / "examples" / "texas_miner.yaml", r.overrides, paths=128)
        assert hp.run_plan(plan, tornado=False).summary()["npv_usd"]["mean"] == r.npv_usd["mean"]
