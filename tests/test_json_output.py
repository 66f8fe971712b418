"""Every command that has ``--json`` prints JSON and nothing else on stdout, each in a fresh
process (HiGHS prints a banner on the first solver it builds in a process; numba, Rich and
library warnings must not reach stdout either). Also the run-store and ledger conveniences:
``--version``, ``runs --db X show``, ``latest`` and unique prefixes, and one default ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from cli_helpers import ROOT, run
from hashpivot import locations
from hashpivot.cli.app import app

EX = ROOT / "examples"


def json_commands() -> set[tuple[str, ...]]:
    """The command paths (e.g. ``("runs", "show")``) that take ``--json``."""
    found: set[tuple[str, ...]] = set()

    def walk(cmd: typer.core.TyperCommand, path: tuple[str, ...]) -> None:
        if any("--json" in p.opts for p in cmd.params):
            found.add(path)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def _store_without_record(db: Path) -> Path:
    """A run store holding one run that no ledger records (what `runs relog` is for)."""
    from hashpivot.config import models as config
    from hashpivot.engine import run as plan
    from hashpivot.runs import store

    cfg, text = config.load_plan(EX / "texas_miner.yaml", ["paths=64", "horizon_months=12"])
    with store.connect(db) as con:
        store.save_run(con, "20260101T000000-000000", plan.run(cfg, with_tornado=False), text, None)
    return db


def _samples(tmp: Path) -> dict[tuple[str, ...], list[str]]:
    """Arguments for each --json command, in an order where later ones use earlier results."""
    db, led = str(tmp / "runs.duckdb"), str(tmp / "own.ledger.sqlite")
    unlogged = str(_store_without_record(tmp / "unlogged.duckdb"))
    record = tmp / "record.json"
    record.write_text(json.dumps({"type": "spending", "fields": {"amount_usd": 12.5}}))
    prices = tmp / "prices.csv"
    prices.write_text("timestamp_utc,price\n2024-01-01T00:00Z,10\n2024-01-01T01:00Z,11\n")
    return {
        ("network",): ["--date", "2024-04-20"],
        ("cost",): [str(EX / "industry_average_2025.yaml")],
        ("hardware",): ["--kind", "gpu"],
        ("plan",): [
            *(str(EX / "texas_miner.yaml"), "--paths", "128", "--months", "24"),
            *("--db", db, "--out", str(tmp)),
        ],
        ("dispatch",): [str(EX / "texas_ppa_2023.yaml"), "--month", "2023-08", "--out", str(tmp)],
        ("screen",): [str(EX / "public_miners_2025.csv"), "--paths", "128"],
        ("backtest",): ["--origins", "2021-01:2021-03", "--horizons", "3", "--paths", "64"],
        ("buildout",): [str(EX / "openai_16gw.yaml"), "--out", str(tmp)],
        ("sweep",): [
            *(str(EX / "texas_miner.yaml"), "--vary", "discount_rate_annual=0.08,0.1"),
            *("--paths", "64", "--workers", "0", "--db", db, "--out", str(tmp)),
        ],
        ("sweeps", "list"): ["--db", db],
        ("runs",): ["--db", db],
        ("runs", "show"): ["latest", "--db", db],
        ("runs", "verify"): ["latest", "--db", db],
        ("runs", "relog"): ["latest", "--db", unlogged],
        ("ledger", "init"): ["--db", led],
        ("ledger", "append"): ["--record", str(record), "--db", led],
        ("ledger", "head"): ["--db", led],
        ("ledger", "verify"): ["--db", led],
        ("ledger", "verify-proof"): ["--proof", str(tmp / "proof.json"), "--public-key", "@key"],
        ("data", "status"): [],
        ("data", "import"): [str(prices), "--market", "user:json-sample"],
        # Pinned today (the day after the shipped prices end): nothing to fetch, no network.
        ("data", "update"): ["--source", "price"],
    }


def test_every_json_command_prints_only_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASHPIVOT_TODAY", "2026-08-22")
    monkeypatch.setenv("HASHPIVOT_DATA_DIR", str(tmp_path / "data"))
    samples = _samples(tmp_path)
    assert set(samples) == json_commands(), "add a sample for each new --json command"
    outputs = {}
    for path, args in samples.items():
        if path == ("ledger", "verify-proof"):
            r = run("ledger", "prove", "--index", "0", "--db", str(tmp_path / "own.ledger.sqlite"))
            (tmp_path / "proof.json").write_text(r.stdout)
            args = [
                a if a != "@key" else outputs[("ledger", "head")]["public_key_hex"] for a in args
            ]
        r = run(*path, *args, "--json")
        assert r.returncode == 0, (path, r.stderr)
        try:
            outputs[path] = json.loads(r.stdout)
        except json.JSONDecodeError as exc:  # pragma: no cover - the failure to report
            pytest.fail(
                f"hashpivot {' '.join(path)} --json: stdout is not JSON ({exc}): {r.stdout[:300]!r}"
            )
    assert outputs[("dispatch",)]["status"] == "optimal"
    assert outputs[("runs", "verify")]["verified"] is True
    assert outputs[("ledger", "verify-proof")]["valid"] is True
    assert {d["name"] for d in outputs[("data", "status")]["datasets"]} >= {"btc_daily_2025_2026"}
    assert outputs[("data", "import")]["rows"] == 2
    bt = outputs[("backtest",)]
    for key in ("coverage_90", "coverage_50", "pit_deciles", "crps", "spread_skill"):
        assert set(bt[key]) == {"btc_price", "hashrate", "hashprice", "fees"}
    assert bt["baseline_crps"]["hashprice"]["3"].keys() == {"random_walk", "flat"}
    assert outputs[("data", "update")]["updates"][0]["days"] == 0
    sw = outputs[("sweep",)]
    assert [s["sweep_id"] for s in outputs[("sweeps", "list")]] == [sw["sweep_id"]]


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("hashpivot ")


def test_runs_group_db_latest_and_prefixes(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    ids = []
    for seed in ("1", "2"):
        r = run(
            "plan", str(EX / "texas_miner.yaml"), "--paths", "64", "--months", "12", "--seed",
            seed, "--db", str(db), "--out", str(tmp_path), "--json",
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        ids.append(json.loads(r.stdout)["run_id"])
    # The group's --db reaches the subcommands (it was ignored: the default file was read).
    shown = json.loads(run("runs", "--db", str(db), "show", "latest", "--json").stdout)
    assert shown["run_id"] == ids[1]
    # A unique prefix: the id up to the last distinct characters.
    prefix = ids[0][:-3]
    assert not ids[1].startswith(prefix)
    shown = json.loads(run("runs", "show", prefix, "--db", str(db), "--json").stdout)
    assert shown["run_id"] == ids[0]
    # An ambiguous prefix is a named error listing the matches.
    r = run("runs", "--db", str(db), "show", "2")
    assert r.returncode == 2 and "prefix of one run only" in r.stderr and ids[0] in r.stderr
    # Full ids in the table, even in 80 columns.
    table = run("runs", "--db", str(db)).stdout
    assert ids[0] in table and ids[1] in table


def test_one_default_ledger_for_plan_and_ledger_commands(tmp_path: Path) -> None:
    # `hashpivot plan` in a folder logs to the default store's ledger; `hashpivot ledger verify`
    # with no --db audits that same file.
    r = run(
        "plan", str(EX / "texas_miner.yaml"), "--paths", "64", "--months", "12", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / locations.DEFAULT_LEDGER).exists()
    v = run("ledger", "verify", "--json", cwd=tmp_path)
    assert v.returncode == 0, v.stderr
    assert json.loads(v.stdout)["size"] == 1


def test_cost_quick_form_defaults_to_the_latest_day_and_says_so() -> None:
    r = run("cost", "--efficiency-j-per-th", "18", "--power-usd-per-kwh", "0.05", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "latest day of the shipped data" in out["market"]
    r = run(
        "cost", "--efficiency-j-per-th", "18", "--power-usd-per-kwh", "0.05", "--difficulty", "1e14"
    )
    assert r.returncode == 2 and "--btc-price-usd" in r.stderr
