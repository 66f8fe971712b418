"""The run store (a real DuckDB file), the plan CLI end to end, and the HTML report in Chromium."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cli_helpers import EXE, ROOT, plan_json
from cli_helpers import run as run_cli
from hashpivot.config import models as config
from hashpivot.engine import run as plan
from hashpivot.engine.results import Tornado, TornadoRow
from hashpivot.errors import StorageError
from hashpivot.runs import store

TEXAS = ROOT / "examples" / "texas_miner.yaml"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def count_runs(db: Path) -> int:
    if not db.exists():
        return 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("store")
    db, out = d / "runs.duckdb", d / "out"
    return {"db": db, "out": out, "dir": d, "result": plan_json(TEXAS, db, out, 512, 24)}


def test_plan_json_keys(stored: dict) -> None:
    res = stored["result"]
    for key in ("run_id", "report_path", "npv_usd", "p_cash_negative_by_horizon", "sites"):
        assert key in res
    assert set(res["npv_usd"]) >= {"mean", "p5", "p50", "p95"}
    assert res["npv_usd"]["p5"] <= res["npv_usd"]["p50"] <= res["npv_usd"]["p95"]
    assert set(res["p_cash_negative_by_horizon"]) == {"12m", "24m", "horizon"}
    for site in res["sites"].values():
        assert set(site["cost_usd_per_btc"]) == {"energy", "cash", "all_in"}
    assert Path(res["report_path"]).exists()


def test_runs_list_show_export(stored: dict) -> None:
    db, run_id = str(stored["db"]), stored["result"]["run_id"]
    listed = json.loads(run_cli("runs", "--db", db, "--json").stdout)
    assert [r["run_id"] for r in listed] == [run_id]
    shown = json.loads(run_cli("runs", "show", run_id, "--db", db, "--json").stdout)
    assert shown["summary"]["npv_usd"] == stored["result"]["npv_usd"]
    con = duckdb.connect(db, read_only=True)
    plan_yaml = con.execute("SELECT plan_yaml FROM runs").fetchone()[0]
    con.close()
    assert shown["plan_sha256"] == store.sha256_text(plan_yaml)
    target = stored["dir"] / "export"
    r = run_cli("runs", "export", run_id, "--parquet", str(target), "--db", db)
    assert r.returncode == 0, r.stderr
    con = duckdb.connect()
    npv_rows = con.execute(f"SELECT count(*) FROM '{target / 'run_npv.parquet'}'").fetchone()[0]
    con.close()
    assert npv_rows == 512
    r = run_cli("runs", "show", "no-such-run", "--db", db)
    assert r.returncode == 2 and run_id in r.stderr


def test_excel_export_opens_and_its_totals_are_the_runs(stored: dict) -> None:
    import openpyxl

    db, run_id, res = str(stored["db"]), stored["result"]["run_id"], stored["result"]
    book = stored["dir"] / "run.xlsx"
    r = run_cli("runs", "export", run_id[:12], "--xlsx", str(book), "--db", db)
    assert r.returncode == 0, r.stderr
    wb = openpyxl.load_workbook(book, read_only=True)
    assert wb.sheetnames == ["summary", "sites", "fans", "npv_distribution", "assumptions"]

    def rows(name: str) -> list[dict]:
        values = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(values[0], row, strict=True)) for row in values[1:]]

    npv = [row["npv_usd"] for row in rows("npv_distribution")]
    assert len(npv) == 512 == res["paths"]
    assert sum(npv) / len(npv) == pytest.approx(res["npv_usd"]["mean"], rel=1e-12)
    assert sorted(npv)[len(npv) // 2 - 1] <= res["npv_usd"]["p50"] <= sorted(npv)[len(npv) // 2]
    summary = {row["key"]: row["value"] for row in rows("summary")}
    # Excel keeps 15 significant digits (openpyxl writes them so): equal to that precision.
    assert summary["run_id"] == run_id
    assert summary["npv_usd.mean"] == pytest.approx(res["npv_usd"]["mean"], rel=1e-14)
    sites = rows("sites")
    assert sum(s["mined_btc"] for s in sites) == pytest.approx(
        sum(s["btc_mined"] for s in res["sites"].values()), rel=1e-12
    )
    fans = rows("fans")
    price = [f for f in fans if f["series"] == "btc_price_usd"]
    assert len(price) == 24 and all(f["p5"] <= f["p50"] <= f["p95"] for f in price)
    kinds = {a["kind"] for a in rows("assumptions")}
    assert {"market", "calibration"} <= kinds
    wb.close()
    # The same sheets as CSV; the Parquet export reads back in pandas (pyarrow).
    folder = stored["dir"] / "csv"
    assert run_cli("runs", "export", "latest", "--csv", str(folder), "--db", db).returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{s}.csv" for s in ("summary", "sites", "fans", "npv_distribution", "assumptions")
    )
    exact = pd.read_csv(folder / "npv_distribution.csv")["npv_usd"]  # CSV keeps all 17 digits
    assert exact.mean() == pytest.approx(res["npv_usd"]["mean"], rel=1e-15)
    assert np.allclose(exact, npv, rtol=1e-14, atol=0)
    parquet = stored["dir"] / "pq"
    r = run_cli("runs", "export", "latest", "--parquet", str(parquet), "--db", db)
    assert r.returncode == 0, r.stderr
    assert pd.read_parquet(parquet / "run_npv.parquet")["npv_usd"].tolist() == exact.tolist()
    # Nothing to export to is a named error, not a silent no-op.
    r = run_cli("runs", "export", "latest", "--db", db)
    assert r.returncode == 2 and "--xlsx" in r.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--set", "sites[0].power_capacity_mw=-5"], "sites[0].power_capacity_mw: -5"),
        (["--set", "sites[0].fleet[0].model=Antminer S99"], "sites[0].fleet[0].model"),
        (["--set", "horizon_months=-3"], "horizon_months: -3"),
        (["--paths", "0"], "paths: 0"),
        (["--set", "discount_rate_annual=.nan"], "discount_rate_annual"),
        (["--set", "sites[0].pwer_usd_per_mwh=3"], "sites[0].pwer_usd_per_mwh: unknown key"),
        (["--chunk-size", "100"], "--chunk-size"),
    ],
)
def test_bad_plans_write_nothing(stored: dict, args: list[str], field: str) -> None:
    db = stored["db"]
    before = count_runs(db)
    r = run_cli("plan", str(TEXAS), "--db", str(db), "--out", str(stored["out"]), *args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and field in r.stderr
    assert count_runs(db) == before


def test_failed_save_rolls_back_and_keeps_earlier_runs(tmp_path: Path) -> None:
    cfg, text = config.load_plan(TEXAS, ["paths=64", "horizon_months=12"])
    result = plan.run(cfg, chunk_size=64)
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    store.save_run(con, "first", result, text, None)
    broken = TornadoRow("broken", "not a number", 0.0, 0.0)  # type: ignore[arg-type]
    result = dataclasses.replace(result, tornado=Tornado((*result.tornado, broken)))
    with pytest.raises(StorageError, match="run second was not stored"):
        store.save_run(con, "second", result, text, None)
    for table in store.TABLES:
        n = con.execute(f"SELECT count(*) FROM {table} WHERE run_id = 'second'").fetchone()[0]
        assert n == 0, table
    assert [r["run_id"] for r in store.list_runs(con)] == ["first"]
    con.close()


def test_killed_run_leaves_store_readable(tmp_path: Path) -> None:
    db, out = tmp_path / "k.duckdb", tmp_path / "out"
    ok = run_cli(
        "plan",
        str(TEXAS),
        "--paths",
        "128",
        "--months",
        "12",
        "--db",
        str(db),
        "--out",
        str(out),
        "--json",
    )
    assert ok.returncode == 0, ok.stderr
    first = json.loads(ok.stdout)["run_id"]
    # A long run, killed with SIGKILL part-way (during simulation or while writing).
    for delay in (1.5, 4.0):
        proc = subprocess.Popen(
            [
                EXE,
                "plan",
                str(TEXAS),
                "--paths",
                "200000",
                "--months",
                "120",
                "--db",
                str(db),
                "--out",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        listed = json.loads(run_cli("runs", "--db", str(db), "--json").stdout)
        assert first in [r["run_id"] for r in listed]
        shown = run_cli("runs", "show", first, "--db", str(db), "--json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["run_id"] == first


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (make test installs it; under CI this test must run)",
)
def test_report_renders_in_chromium(stored: dict) -> None:
    from playwright.sync_api import sync_playwright

    report = Path(stored["result"]["report_path"]).resolve()
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 8")
        n_plots = page.eval_on_selector_all(".js-plotly-plot", "els => els.length")
        # Every chart drew at least one trace into its SVG.
        drawn = page.eval_on_selector_all(
            ".js-plotly-plot",
            "els => els.filter(e => e.querySelectorAll('g.trace, g.barlayer g.point').length > 0)"
            ".length",
        )
        page.screenshot(path=str(ARTIFACTS / "plan_report.png"), full_page=True)
        browser.close()
    assert n_plots == 8
    assert drawn == n_plots
    assert errors == []
