"""GW-scale build-outs: published capex totals, the sources-and-uses identity, circular exposure
and lender returns against hand computations, the CLI and its report in Chromium, bad input."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot import buildout
from hashpivot.cli import app as cli
from hashpivot.config.buildout import CAPEX_PRESETS, CampaignConfig, load_campaign
from hashpivot.errors import ConfigError, InputError
from hashpivot.finance import metrics

ROOT = Path(__file__).resolve().parents[1]
OPENAI = ROOT / "examples" / "openai_16gw.yaml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def main(args: list[str]) -> int:
    """The CLI entry point in-process (Typer ends a successful command with SystemExit(0))."""
    try:
        return cli.main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


def two_party(**over: object) -> CampaignConfig:
    """One vendor V selling 1 GW to one operator funded by V (per GW) and one equity share."""
    data: dict = {
        "name": "two-party",
        "start": "2026-01",
        "horizon_years": 4,
        "capex_preset": "custom",
        "capex_usd_per_gw": {
            "compute": 30e9,
            "networking": 5e9,
            "power_cooling": 8e9,
            "shell": 4e9,
            "land": 1e9,
            "soft": 2e9,
        },
        "gpu_refresh_years": 5,
        "tranches": [
            {"name": "v-1gw", "vendor": "V", "vendor_gross_margin": 0.6, "gw": 1, "gw_per_year": 1}
        ],
        "power": {"available_gw_by_year": [1.4], "electricity_usd_per_mwh": 50},
        "revenue": {"usd_per_kw_month": 800},
        "financing": [
            {"name": "v-investment", "kind": "vendor", "per_gw_usd": 10e9, "tranche": "v-1gw"},
            {"name": "operator-equity", "kind": "equity", "share": 1.0},
        ],
        "scenarios": 200,
    }
    data.update(over)
    return CampaignConfig.model_validate(data)


@pytest.mark.parametrize(
    ("preset", "per_gw", "total"),
    [
        ("nvidia_ceo_50", 50e9, 0.80e12),
        ("analyst_60", 60e9, 0.96e12),
        ("bernstein_35", 35e9, 0.56e12),
    ],
)
def test_16_gw_at_published_capex_per_gw(preset: str, per_gw: float, total: float) -> None:
    # Nvidia CEO: ~$35B Nvidia hardware + ~$15B other ≈ $50B/GW; analysts $50–60B; Bernstein ~$35B.
    assert sum(CAPEX_PRESETS[preset].values()) == pytest.approx(per_gw, rel=1e-12)
    if preset == "nvidia_ceo_50":
        nv = CAPEX_PRESETS[preset]["compute"] + CAPEX_PRESETS[preset]["networking"]
        assert nv == pytest.approx(35e9)
    cfg, _ = load_campaign(str(OPENAI), [f"capex_preset={preset}"])
    b = buildout.build(cfg)
    s = b.summary()
    assert s["gw_total"] == pytest.approx(16.0)
    assert s["capex_total_usd"] == pytest.approx(total, rel=1e-12)
    assert s["gw_by_tranche"] == pytest.approx({"nvidia-10gw": 10.0, "amd-6gw": 6.0})


def test_sources_plus_gap_equal_uses_every_month_on_the_example() -> None:
    cfg, _ = load_campaign(str(OPENAI))
    b = buildout.build(cfg)
    funded = sum(b.sources.values()) + b.gap
    np.testing.assert_allclose(funded, b.uses, rtol=0, atol=1e-3)
    # Caps hold, and the announced vendor terms come out: $100B from Nvidia, 160M AMD shares.
    assert b.sources["nvidia-strategic-investment"].sum() == pytest.approx(100e9)
    assert b.sources["amd-warrants"].sum() == pytest.approx(160e6 * 200)
    assert b.sources["hyperscalers-and-cloud-partners"].sum() <= 300e9 + 1e-3
    assert b.sources["loan-guarantee-hypothetical"].sum() <= 50e9 + 1e-3
    assert b.gap.sum() > 0  # the caps bind: the example has a real gap
    assert all(v.min() >= -1e-6 for v in b.sources.values())


@settings(max_examples=40, deadline=None)
@given(
    shares=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4),
    caps=st.lists(st.one_of(st.none(), st.floats(0, 2e11)), min_size=4, max_size=4),
    per_gw=st.floats(0, 80e9),
    vendor_cap=st.one_of(st.none(), st.floats(0, 1e11)),
    guarantee=st.floats(0, 1e11),
)
def test_sources_plus_gap_equal_uses_property(shares, caps, per_gw, vendor_cap, guarantee) -> None:
    total = sum(shares)
    financing = [
        {
            "name": "vendor",
            "kind": "vendor",
            "per_gw_usd": per_gw,
            "tranche": "v-1gw",
            "cap_usd": vendor_cap,
        }
    ]
    financing += [
        {"name": f"s{i}", "kind": "equity", "share": x / total, "cap_usd": caps[i]}
        for i, x in enumerate(shares)
    ]
    financing[-1]["share"] = 1.0 - sum(f["share"] for f in financing[1:-1])
    financing.append({"name": "backstop", "kind": "guarantor", "cap_usd": guarantee})
    cfg = two_party(
        financing=financing,
        horizon_years=8,
        tranches=[{"name": "v-1gw", "vendor": "V", "gw": 3, "gw_per_year": 1}],
        power={"available_gw_by_year": [4.2], "electricity_usd_per_mwh": 50},
    )
    b = buildout.build(cfg)
    np.testing.assert_allclose(sum(b.sources.values()) + b.gap, b.uses, rtol=0, atol=1e-2)
    assert b.gap.min() >= -1e-2  # nothing is over-funded
    for f in cfg.financing:
        assert b.sources[f.name].min() >= -1e-6
        if f.cap_usd is not None:
            assert b.sources[f.name].sum() <= f.cap_usd * (1 + 1e-12) + 1e-3


def test_circular_exposure_two_party_by_hand() -> None:
    # V sells 1 GW: compute $30B + networking $5B = $35B of revenue; it invested $10B per GW.
    b = buildout.build(two_party())
    c = b.circular["V"]
    assert c["revenue_usd"] == pytest.approx(35e9)
    assert c["self_funded_usd"] == pytest.approx(10e9)
    assert c["share_of_revenue_self_funded"] == pytest.approx(10 / 35)
    # With a refresh inside the horizon V sells the compute again: 10 / (35 + 30).
    b = buildout.build(two_party(horizon_years=4, gpu_refresh_years=2))
    assert b.circular["V"]["share_of_revenue_self_funded"] == pytest.approx(10 / 65)
    # Warrants: 100M shares at $50 vest over the 1 GW, $5B of V's own equity funds its sales.
    b = buildout.build(
        two_party(
            financing=[
                {
                    "name": "v-warrants",
                    "kind": "vendor",
                    "warrant_shares": 100e6,
                    "share_price_usd": 50,
                    "tranche": "v-1gw",
                },
                {"name": "operator-equity", "kind": "equity", "share": 1.0},
            ]
        )
    )
    assert b.circular["V"]["share_of_revenue_self_funded"] == pytest.approx(5 / 35)


def test_what_each_party_keeps_when_rents_fall_to_zero() -> None:
    # No rent: the operator earns nothing, its equity is lost; V keeps 60% margin on $35B minus
    # the $10B it invested: $11B, whatever the utilisation.
    cfg = two_party()
    b = buildout.build(cfg)
    flows = buildout.party_flows(cfg, b, np.array([0.0, 0.0]), np.array([0.8, 0.3]))
    np.testing.assert_allclose(flows["V"].sum(axis=1), 0.6 * 35e9 - 10e9, rtol=1e-12)
    np.testing.assert_allclose(
        flows["operator-equity"].sum(axis=1), -b.sources["operator-equity"].sum(), rtol=1e-12
    )
    # V's stake is its share of the equity capital put in.
    rich = buildout.party_flows(cfg, b, np.array([5000.0]), np.array([1.0]))
    assert rich["V"].sum() > 0.6 * 35e9 - 10e9 and rich["operator-equity"].sum() > 0


def test_vendor_margin_follows_each_tranche() -> None:
    # One vendor, two 1 GW tranches sold at 60% and 40% gross margin; it invests $10B in the
    # first. With no rent it keeps 0.6·$35B + 0.4·$35B − $10B = $25B.
    cfg = two_party(
        tranches=[
            {"name": "v-1gw", "vendor": "V", "vendor_gross_margin": 0.6, "gw": 1, "gw_per_year": 1},
            {"name": "v-2", "vendor": "V", "vendor_gross_margin": 0.4, "gw": 1, "gw_per_year": 1},
        ],
        power={"available_gw_by_year": [2.8], "electricity_usd_per_mwh": 50},
    )
    b = buildout.build(cfg)
    flows = buildout.party_flows(cfg, b, np.array([0.0]), np.array([0.8]))
    assert flows["V"].sum() == pytest.approx(0.6 * 35e9 + 0.4 * 35e9 - 10e9, rel=1e-12)


def test_lender_fully_served_earns_its_rate() -> None:
    # A loan repaid on schedule (and its balance at the horizon) earns (1 + r/12)^12 − 1.
    cfg = two_party(
        horizon_years=6,
        financing=[
            {"name": "debt", "kind": "debt", "share": 0.6, "rate_annual": 0.08, "tenor_years": 10},
            {"name": "operator-equity", "kind": "equity", "share": 0.4},
        ],
    )
    b = buildout.build(cfg)
    flows = buildout.party_flows(cfg, b, np.array([3000.0]), np.array([1.0]))
    irr = metrics.irr_annual_paths(flows["debt"])[0]
    assert irr == pytest.approx((1 + 0.08 / 12) ** 12 - 1, abs=1e-9)
    # Without revenue and without terminal value the lender gets nothing back.
    broke = buildout.party_flows(cfg, b, np.array([0.0]), np.array([1.0]))
    assert broke["debt"].sum() == pytest.approx(-b.sources["debt"].sum())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=30), st.floats(-1e4, -1))
def test_vectorised_irr_matches_scalar(tail: list[float], first: float) -> None:
    cf = np.array([first, *tail])
    scalar = metrics.irr_monthly_to_annual(cf)
    vec = metrics.irr_annual_paths(cf[None, :])[0]
    if np.isnan(scalar):
        assert np.isnan(vec)
    else:
        npv = cf @ (1 + vec) ** (-(np.arange(cf.size) + 1) / 12)
        assert abs(npv) < 1e-6 * max(1.0, np.abs(cf).sum()) or abs(vec - scalar) < 1e-8


def test_cli_json_keys_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "buildout",
            str(OPENAI),
            "--out",
            str(tmp_path),
            "--json",
            "--set",
            "capex_preset=analyst_60",
            "--set",
            "scenarios=300",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "gw_total",
        "capex_total_usd",
        "funding_by_source_usd",
        "funding_gap_usd",
        "circular_exposure",
        "irr_by_party",
        "sensitivity",
        "host_sites",
        "by_year",
    ):
        assert key in out
    assert out["capex_total_usd"] == pytest.approx(0.96e12)
    uses = sum(out["funding_by_source_usd"].values()) + out["funding_gap_usd"]
    assert uses == pytest.approx(out["uses_total_usd"], rel=1e-12)
    # The sensitivity at 100% is the total itself; GPU price moves only the compute.
    i = out["sensitivity"]["scales"].index(1.0)
    assert out["sensitivity"]["capex_total_usd_vs_capex_per_gw"][i] == pytest.approx(0.96e12)
    gpu = out["sensitivity"]["capex_total_usd_vs_gpu_price"]
    assert gpu[-1] - gpu[i] == pytest.approx(0.3 * 16 * CAPEX_PRESETS["analyst_60"]["compute"])
    # Host sites come from the Texas plan: 300 + 100 MW of facility power at PUE 1.2.
    assert out["host_sites"]["it_mw_total"] == pytest.approx(400 / 1.2)
    assert Path(out["report_path"]).exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("tranches[0].gw=-10", "tranches[0].gw"),
        ("financing[2].share=0.5", "shares add up to 1.15"),
        ("power.available_gw_by_year=[2, 4, 6, 8]", "power.available_gw_by_year[0]"),
        ("tranches[1].gw_per_year=0.1", "tranches[1].gw_per_year"),
        ("financing[6].share=0.1", "guarantor"),
        ("financing[0].tranche=null", "needs the tranche"),
        ("max_loan_to_cost=0.3", "max_loan_to_cost"),
    ],
)
def test_bad_campaigns_exit_2_naming_the_field(
    override: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["buildout", str(OPENAI), "--out", str(tmp_path), "--set", override])
    err = capsys.readouterr().err
    assert code == 2
    assert field in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_errors_are_named_types() -> None:
    with pytest.raises(ConfigError):
        load_campaign(str(OPENAI), ["tranches[0].gw=-1"])
    cfg = two_party(power={"available_gw_by_year": [0.5], "electricity_usd_per_mwh": 50})
    with pytest.raises(InputError, match="available_gw_by_year"):
        buildout.build(cfg)
    with pytest.raises(InputError, match="revenue"):
        buildout.circular_exposure(1.0, 0.0)


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (make test installs it; under CI this test must run)",
)
def test_buildout_report_renders_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert main(["buildout", str(OPENAI), "--out", str(tmp_path), "--set", "scenarios=200"]) == 0
    page_path = tmp_path / "buildout-openai-16gw.html"
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 5")
        drawn = page.eval_on_selector_all(
            ".js-plotly-plot",
            "els => els.filter(e => e.querySelectorAll('g.trace, g.barlayer g.point').length > 0)"
            ".length",
        )
        text = page.inner_text("body")
        browser.close()
    assert drawn == 5 and errors == []
    assert "$800.0B" in text and "Circular exposure" in text and "west-texas-ppa" in text


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


@pytest.mark.parametrize(
    ("pue", "procured", "ok"),
    [
        (1.2, [5.0, 10.0, 15.0, 16.5], False),  # 16 GW of IT × 1.2 = 19.2 GW of grid > 16.5
        (2.0, [5.0, 10.0, 15.0, 19.5], False),  # × 2.0 = 32 GW: far short
        (1.2, [4.8, 9.6, 14.4, 19.2], True),  # exactly IT × PUE each year
        (1.0, [4.0, 8.0, 12.0, 16.0], True),
    ],
)
def test_power_check_compares_grid_power_it_times_pue(
    pue: float, procured: list[float], ok: bool
) -> None:
    # The OpenAI example deploys 4 GW of IT a year (2.5 + 1.5) to 16 GW in year 4.
    cfg, _ = load_campaign(
        str(OPENAI), [f"power.pue={pue}", f"power.available_gw_by_year={procured}"]
    )
    if ok:
        buildout.schedule(cfg)
    else:
        with pytest.raises(InputError, match=r"GW of grid power.*× PUE"):
            buildout.schedule(cfg)


def test_one_pue_default_for_it_conversions() -> None:
    from hashpivot.config.buildout import PowerConfig
    from hashpivot.config.models import ConversionConfig
    from hashpivot.sites.hosting import DEFAULT_AI_PUE, GpuCloud

    assert ConversionConfig.model_fields["ai_pue"].default == DEFAULT_AI_PUE
    assert PowerConfig.model_fields["pue"].default == DEFAULT_AI_PUE
    assert GpuCloud.__dataclass_fields__["ai_pue"].default == DEFAULT_AI_PUE
