"""The installed ``hashpivot`` command, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import ROOT, run

EXAMPLE = ROOT / "examples" / "industry_average_2025.yaml"


def test_network_json_keys_on_halving_day() -> None:
    r = run("network", "--date", "2024-04-20", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in [
        "date",
        "height",
        "subsidy_btc",
        "difficulty",
        "hashrate_eh_s",
        "fees_btc_per_day",
        "price_usd",
        "hashprice_usd_per_ph_day",
        "hashprice_btc_per_ph_day",
    ]:
        assert key in out
    assert out["subsidy_btc"] == 3.125
    assert out["difficulty"] == pytest.approx(86_388_558_925_171.02, abs=0.01)


def test_cost_quick_form_keys_and_identities() -> None:
    r = run(
        "cost",
        "--efficiency-j-per-th",
        "17.5",
        "--power-usd-per-kwh",
        "0.05",
        "--difficulty",
        "1.2e14",
        "--btc-price-usd",
        "90000",
        "--fees-btc-per-block",
        "0.03",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in [
        "energy_cost_usd_per_btc",
        "cash_cost_usd_per_btc",
        "all_in_cost_usd_per_btc",
        "breakeven_power_usd_per_kwh",
        "breakeven_btc_price_usd",
        "btc_per_ph_day",
    ]:
        assert key in out
    # No extra costs given: cash = all-in = energy only.
    assert out["cash_cost_usd_per_btc"] == pytest.approx(out["energy_cost_usd_per_btc"])
    assert out["all_in_cost_usd_per_btc"] == pytest.approx(out["energy_cost_usd_per_btc"])
    # Closed forms: energy per BTC = J/TH × 24/1000 kWh per TH-day ÷ BTC per TH-day × $/kWh.
    btc_per_th_day = 86400 * 1e12 / (1.2e14 * 2**32) * 3.155
    assert out["btc_per_ph_day"] == pytest.approx(btc_per_th_day * 1000)
    assert out["energy_cost_usd_per_btc"] == pytest.approx(17.5 * 0.024 * 0.05 / btc_per_th_day)
    hashprice_th = btc_per_th_day * 90000
    assert out["breakeven_power_usd_per_kwh"] == pytest.approx(hashprice_th / (17.5 * 0.024))


def test_cost_quick_form_pool_fee_adds_fee_times_price() -> None:
    base = [
        "cost",
        "--efficiency-j-per-th",
        "20",
        "--power-usd-per-kwh",
        "0.04",
        "--difficulty",
        "1e14",
        "--btc-price-usd",
        "100000",
        "--fees-btc-per-block",
        "0",
        "--json",
    ]
    a = json.loads(run(*base).stdout)
    b = json.loads(run(*base, "--pool-fee", "0.02", "--uptime", "0.9").stdout)
    assert b["energy_cost_usd_per_btc"] == pytest.approx(a["energy_cost_usd_per_btc"])
    assert b["cash_cost_usd_per_btc"] == pytest.approx(a["energy_cost_usd_per_btc"] + 2000)


def test_cost_site_file_and_hardware() -> None:
    r = run("cost", str(EXAMPLE), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (
        out["all_in_cost_usd_per_btc"]
        > out["cash_cost_usd_per_btc"]
        > out["energy_cost_usd_per_btc"]
    )
    r = run("hardware", "--json")
    assert r.returncode == 0
    assert any(m["model"] == "Antminer S21" for m in json.loads(r.stdout))


BAD_SITE = """
site:
  name: bad
  power_capacity_mw: {capacity}
  pue: 1.1
  power_usd_per_mwh: 40
  fleet:
    - {fleet}
market:
  date: {date}
"""


def write_site(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "site.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("capacity", "fleet", "date", "field", "value"),
    [
        (
            -5,
            "{model: Antminer S21, share_of_power: 1.0}",
            "2024-04-20",
            "site.power_capacity_mw",
            "-5",
        ),
        (
            0,
            "{model: Antminer S21, share_of_power: 1.0}",
            "2024-04-20",
            "site.power_capacity_mw",
            "0",
        ),
        (
            10,
            "{efficiency_j_per_th: 0, share_of_power: 1.0}",
            "2024-04-20",
            "site.fleet[0].efficiency_j_per_th",
            "0",
        ),
        (
            10,
            "{efficiency_j_per_th: -3, share_of_power: 1.0}",
            "2024-04-20",
            "site.fleet[0].efficiency_j_per_th",
            "-3",
        ),
        (
            10,
            "{model: Antminer S99, share_of_power: 1.0}",
            "2024-04-20",
            "site.fleet[0].model",
            "Antminer S99",
        ),
        (10, "{model: Antminer S21, share_of_power: 1.0}", "2031-01-01", "date", "2031-01-01"),
    ],
)
def test_bad_site_values_give_one_line_errors(
    tmp_path: Path, capacity: int, fleet: str, date: str, field: str, value: str
) -> None:
    p = write_site(tmp_path, BAD_SITE.format(capacity=capacity, fleet=fleet, date=date))
    r = run("cost", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert field in lines[0] and value in lines[0]
    assert "allowed" in lines[0] or "should" in lines[0]


def test_malformed_yaml(tmp_path: Path) -> None:
    p = write_site(tmp_path, "site: [unclosed\n  name: x\n")
    r = run("cost", str(p))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "malformed YAML" in r.stderr and "line" in r.stderr


def test_missing_and_misspelt_fields(tmp_path: Path) -> None:
    text = BAD_SITE.format(
        capacity=10, fleet="{model: Antminer S21, share_of_power: 1}", date="2024-04-20"
    )
    p = write_site(
        tmp_path, text.replace("  pue: 1.1\n", "").replace("power_usd_per_mwh", "power_usd_per_mw")
    )
    r = run("cost", str(p))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "site.pue: missing" in r.stderr
    assert "site.power_usd_per_mw: unknown key" in r.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (
            ["--efficiency-j-per-th", "0", "--power-usd-per-kwh", "0.05", "--date", "2024-04-20"],
            "--efficiency-j-per-th",
        ),
        (
            ["--efficiency-j-per-th", "20", "--power-usd-per-kwh", "0.05", "--date", "2009-01-01"],
            "date",
        ),
        (
            # Part of the network given: the rest is named (with none, the latest day is used).
            [
                "--efficiency-j-per-th",
                "20",
                "--power-usd-per-kwh",
                "0.05",
                "--btc-price-usd",
                "1e5",
            ],
            "--difficulty",
        ),
        (
            [
                "--efficiency-j-per-th",
                "20",
                "--power-usd-per-kwh",
                "0.05",
                "--date",
                "2024-04-20",
                "--uptime",
                "1.5",
            ],
            "--uptime",
        ),
    ],
)
def test_quick_form_bad_options(args: list[str], field: str) -> None:
    r = run("cost", *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert field in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_file() -> None:
    r = run("cost", "/nonexistent/site.yaml")
    assert r.returncode == 2 and "file not found" in r.stderr
