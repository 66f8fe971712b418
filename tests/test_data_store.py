"""The local data store and ``hashpivot data import``: round trips per kind, DST days, gaps, named
errors, layering over the shipped data, use by name in plans and dispatch, and a kill mid-import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hashpivot.bitcoin import history
from hashpivot.cli import app
from hashpivot.data import catalog, imports, store
from hashpivot.data import power_prices as pp
from hashpivot.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "store"
    monkeypatch.setenv(store.DATA_DIR_ENV, str(d))
    return d


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fall_back_day(tmp_path: Path) -> Path:
    """Stockholm, 2023-10-29: 02:00 local twice (CEST then CET), 10:00 absent (a gap)."""
    rows = ["Tid,Pris"]
    for h in range(24):
        if h == 10:
            continue
        rows.append(f"2023-10-29 {h:02d}:00,{50 + h}")
        if h == 2:
            rows.append("2023-10-29 02:00,40")
    return _write(tmp_path / "se3.csv", rows)


def test_hourly_round_trip_on_a_dst_fall_back_day_with_a_gap(
    tmp_path: Path, data_dir: Path
) -> None:
    f = _fall_back_day(tmp_path)
    done = imports.import_file(
        f, "hourly_prices", market="user:se3", tz="Europe/Stockholm",
        column_map="time=Tid,price=Pris", currency="EUR",
    )  # fmt: skip
    assert done.dataset == "user:se3" and done.version["rows"] == 24
    # The local day 00:00 CEST = 22:00 UTC the day before; 25 local hours, one left out.
    assert done.missing == ("2023-10-29T09:00:00Z",)
    prices = pp.hourly_prices("user:se3")
    assert prices.index_utc[0] == pd.Timestamp("2023-10-28T22:00Z")
    # Both 02:00 hours, in order: 00:00Z (CEST, 52) then 01:00Z (CET, 40).
    eur = pp.fx_usd_daily().loc["2023-10-27", "EUR"]  # Sunday: the Friday fixing
    i = prices.index_utc.get_loc(pd.Timestamp("2023-10-29T00:00Z"))
    assert prices.price_usd_per_mwh[i] == pytest.approx(52 / eur)
    assert prices.price_usd_per_mwh[i + 1] == pytest.approx(40 / eur)
    assert prices.missing_hours_utc == ("2023-10-29T09:00:00Z",)
    with pytest.raises(InputError, match="missing"):
        prices.require_complete()
    assert "EUR converted" in prices.currency_note


def test_a_reimport_is_a_new_version_and_the_old_one_stays(tmp_path: Path, data_dir: Path) -> None:
    a = _write(
        tmp_path / "a.csv", ["timestamp_utc,price", "2024-01-01T00:00Z,10", "2024-01-01T01:00Z,11"]
    )
    b = _write(
        tmp_path / "b.csv", ["timestamp_utc,price", "2024-01-01T00:00Z,10", "2024-01-01T01:00Z,12"]
    )
    v1 = imports.import_file(a, "hourly_prices", market="user:u").version
    v2 = imports.import_file(b, "hourly_prices", market="user:u").version
    assert v1["sha256"] != v2["sha256"]
    cat = store.read_catalog()
    entry = cat["datasets"]["user:u"]
    assert entry["current"] == v2["sha256"] and len(entry["versions"]) == 2
    assert (data_dir / "datasets" / "user+u" / f"{v1['sha256']}.parquet").exists()
    assert pp.hourly_prices("user:u").price_usd_per_mwh.tolist() == [10.0, 12.0]
    # The same content again is the same version: the hash is of the content, not the file.
    c = _write(tmp_path / "c.csv", ["time,price", "2024-01-01 00:00,10.0", "2024-01-01 01:00,12"])
    v3 = imports.import_file(c, "hourly_prices", market="user:u", column_map="time=time").version
    assert v3["sha256"] == v2["sha256"]
    assert len(store.read_catalog()["datasets"]["user:u"]["versions"]) == 2
    # Rows out of time order are refused.
    d = _write(
        tmp_path / "d.csv", ["timestamp_utc,price", "2024-01-01T01:00Z,12", "2024-01-01T00:00Z,10"]
    )
    with pytest.raises(InputError, match="time order"):
        imports.import_file(d, "hourly_prices", market="user:u")


@pytest.mark.parametrize(
    ("lines", "tz", "where", "value"),
    [
        (["timestamp_utc,price", "2024-01-01T00:00Z,10", "2024-01-01T01:00Z,n/a"], "UTC",
         "row 3, column 'price'", "n/a"),
        (["timestamp_utc,price", "2024-01-01T00:00Z,10", "2024-01-01T00:00Z,11"], "UTC",
         "row 3, column 'timestamp_utc'", "2024-01-01T00:00Z"),
        (["timestamp_utc,price", "2024-01-01T00:00Z,10", "yesterday,11"], "UTC",
         "row 3, column 'timestamp_utc'", "yesterday"),
        (["timestamp_utc,price", "2023-03-26 01:00,1", "2023-03-26 02:00,2"], "Europe/Berlin",
         "row 3, column 'timestamp_utc'", "2023-03-26 02:00"),
        (["timestamp_utc,price", "2023-10-29 01:00,1", "2023-10-29 02:00,2", "2023-10-29 03:00,3"],
         "Europe/Berlin", "column 'timestamp_utc'", "2023-10-29 02:00"),
        (["timestamp_utc,price", "2024-01-01T00:30Z,10"], "UTC",
         "row 2, column 'timestamp_utc'", "2024-01-01T00:30Z"),
    ],
)  # fmt: skip
def test_bad_rows_are_named_with_file_row_column_and_value(
    tmp_path: Path, data_dir: Path, lines: list[str], tz: str, where: str, value: str
) -> None:
    f = _write(tmp_path / "bad.csv", lines)
    with pytest.raises(InputError) as e:
        imports.import_file(f, "hourly_prices", market="user:bad", tz=tz)
    text = str(e.value)
    assert str(f) in text and where in text and repr(value) in text and "allowed" in text
    assert store.read_catalog()["datasets"] == {}  # nothing half-written


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"market": "user:x", "currency": "XYZ"}, "--currency"),
        ({"market": "user:x", "tz": "Mars/Olympus"}, "--tz"),
        ({"market": "ercot:HB_WEST:da"}, "--market"),
        ({"market": None}, "--market"),
        ({"market": "user:x", "column_map": "when=Tid"}, "--column-map"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, data_dir: Path, kw: dict, field: str) -> None:
    f = _write(tmp_path / "ok.csv", ["timestamp_utc,price", "2024-01-01T00:00Z,10"])
    with pytest.raises(InputError, match=field):
        imports.import_file(f, "hourly_prices", **kw)


def test_a_missing_column_lists_the_files_columns(tmp_path: Path, data_dir: Path) -> None:
    f = _write(tmp_path / "cols.csv", ["when,eur", "2024-01-01T00:00Z,10"])
    with pytest.raises(InputError, match=r"'when', 'eur'.*--column-map"):
        imports.import_file(f, "hourly_prices", market="user:x")


def test_btc_daily_import_extends_the_daily_table(tmp_path: Path, data_dir: Path) -> None:
    """Three days after the shipped network data (2026-02-01..03), with blocks, fees, issuance and
    difficulty: the table and the network state move forward; shipped rows are untouched."""
    before = history.btc_daily()
    last = before.index[-1]
    assert last == pd.Timestamp("2026-01-31")
    diff = history.difficulty_at_end_of_day("2026-02-01")
    rows = ["date,blocks,fees_btc,issuance_btc,difficulty,price_usd"]
    price = history.btc_price_daily()
    for k, day in enumerate(pd.date_range("2026-02-01", periods=3)):
        rows.append(f"{day.date()},{140 + k},2.5,{(140 + k) * 3.125},{diff},{price[day]}")
    # A row that overlaps the shipped table is ignored where the shipped one has a value.
    rows.insert(1, f"2026-01-31,1,0,3.125,1,{price['2026-01-31']}")
    f = _write(tmp_path / "daily.csv", rows)
    done = imports.import_file(f, "btc_daily")
    assert done.dataset == "btc_daily"
    after = history.btc_daily()
    assert after.index[-1] == pd.Timestamp("2026-02-03")
    pd.testing.assert_frame_equal(after.loc[:last], before)  # the shipped rows win
    s = history.network_state("2026-02-03")
    assert s.blocks == 142 and s.difficulty == diff
    assert after.loc["2026-02-02", "hashrate_eh_s"] == pytest.approx(
        141 * diff * 2**32 / 86_400 / 1e18
    )
    assert (
        history.network_state("2026-02-03").height
        == history.network_state("2026-01-31").height + 140 + 141 + 142
    )
    rows_status = {r["name"]: r for r in catalog.status()}
    assert rows_status["btc_daily"]["layer"] == "local"


def test_btc_daily_with_a_gap_or_a_late_start_is_refused(tmp_path: Path, data_dir: Path) -> None:
    gap = _write(tmp_path / "gap.csv", ["date,price_usd", "2026-08-22,100", "2026-08-24,100"])
    with pytest.raises(InputError, match=r"row 3.*consecutive days"):
        imports.import_file(gap, "btc_daily")
    late = _write(tmp_path / "late.csv", ["date,price_usd", "2026-09-01,100"])
    with pytest.raises(InputError, match=r"row 2.*2026-08-22"):
        imports.import_file(late, "btc_daily")
    neg = _write(tmp_path / "neg.csv", ["date,blocks", "2026-02-01,-3"])
    with pytest.raises(InputError, match=r"row 2, column 'blocks'.*above 0"):
        imports.import_file(neg, "btc_daily")


def test_fx_import_adds_a_currency_that_prices_can_use(tmp_path: Path, data_dir: Path) -> None:
    """RUB fixings end 2022-03-01 in the shipped data; a user's series (e.g. the Bank of Russia's
    official rate) extends them, and a price file in RUB converts at it."""
    days = pd.date_range("2023-01-01", "2023-01-10")
    f = _write(
        tmp_path / "rub.csv", ["date,rate", *[f"{d.date()},{70 + i}" for i, d in enumerate(days)]]
    )
    imports.import_file(f, "fx", currency="RUB")
    assert pp.fx_usd_daily().loc["2023-01-05", "RUB"] == 74
    assert pp.fx_usd_daily().loc["2020-01-06", "RUB"] == pytest.approx(
        pd.read_csv(pp.data_path("fx_usd_daily.csv"), index_col="date").loc["2020-01-06", "RUB"]
    )
    hp = _write(tmp_path / "irk.csv", ["timestamp_utc,price", "2023-01-05T00:00Z,2960"])
    imports.import_file(hp, "hourly_prices", market="user:irkutsk", currency="RUB")
    assert pp.hourly_prices("user:irkutsk").price_usd_per_mwh[0] == pytest.approx(2960 / 74)
    kzt = _write(tmp_path / "kzt.csv", ["timestamp_utc,price", "2023-01-05T00:00Z,1"])
    with pytest.raises(InputError, match="RUB"):  # the allowed list now names RUB from the store
        imports.import_file(kzt, "hourly_prices", market="user:kz", currency="KZT")


def test_a_user_market_runs_in_dispatch_and_in_a_plan(tmp_path: Path, data_dir: Path) -> None:
    # A real year of ERCOT hub prices, exported and imported back as a user's file.
    real = pp.hourly_prices("ercot:HB_WEST:da:2021")
    f = tmp_path / "hb_west_2021.csv"
    pd.DataFrame(
        {
            "timestamp_utc": real.index_utc.strftime("%Y-%m-%dT%H:%MZ"),
            "price": real.price_usd_per_mwh,
        }
    ).to_csv(f, index=False)
    imports.import_file(f, "hourly_prices", market="user:hb-west", tz="America/Chicago")
    mine = pp.hourly_prices("user:hb-west")
    np.testing.assert_array_equal(mine.index_utc, real.index_utc)
    np.testing.assert_allclose(mine.price_usd_per_mwh, real.price_usd_per_mwh, rtol=1e-15)
    assert mine.missing_hours_utc == real.missing_hours_utc
    r = CliRunner().invoke(
        app.app,
        ["dispatch", str(ROOT / "examples" / "texas_ppa_2023.yaml"), "--prices", "user:hb-west",
         "--month", "2021-07", "--json", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    ref = CliRunner().invoke(
        app.app,
        ["dispatch", str(ROOT / "examples" / "texas_ppa_2023.yaml"), "--prices",
         "ercot:HB_WEST:da:2021", "--month", "2021-07", "--json", "--out", str(tmp_path / "o2")],
    )  # fmt: skip
    assert r.exit_code == 0 and ref.exit_code == 0, r.output + ref.output
    a, b = json.loads(r.output), json.loads(ref.output)
    assert a["objective_usd"] == b["objective_usd"] and a["hours"] == b["hours"] == 744
    # ...and as a plan site's power market, equal to the shipped market it copies.
    from hashpivot.config import models as config
    from hashpivot.engine import run

    plans = ROOT / "examples" / "texas_miner.yaml"
    sets = ["paths=128", "horizon_months=12"]
    res = {}
    for name in ("user:hb-west", "ercot:HB_WEST:da:2021"):
        cfg, _ = config.load_plan(plans, [*sets, f"sites[0].power_market={name}"])
        res[name] = run.run(cfg, with_tornado=False).summary()["npv_usd"]
    assert res["user:hb-west"] == res["ercot:HB_WEST:da:2021"]
    unknown = CliRunner().invoke(
        app.app,
        ["dispatch", str(ROOT / "examples" / "texas_ppa_2023.yaml"), "--prices", "user:nope"],
    )
    assert isinstance(unknown.exception, InputError)
    assert "user:hb-west" in str(unknown.exception)  # names what the store holds


def test_data_dir_flag_and_status_json(tmp_path: Path) -> None:
    d = tmp_path / "elsewhere"
    f = _write(tmp_path / "p.csv", ["timestamp_utc,price", "2024-01-01T00:00Z,10"])
    env = {store.DATA_DIR_ENV: str(tmp_path / "not-this-one")}
    r = CliRunner(env=env).invoke(
        app.app, ["--data-dir", str(d), "data", "import", str(f), "--market", "user:p", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["data_dir"] == str(d)
    s = CliRunner(env=env).invoke(app.app, ["--data-dir", str(d), "data", "status", "--json"])
    rows = {x["name"]: x for x in json.loads(s.output)["datasets"]}
    assert rows["user:p"]["layer"] == "local" and rows["user:p"]["rows"] == 1
    assert rows["btc_daily_2025_2026"]["layer"] == "shipped"
    assert not (tmp_path / "not-this-one").exists()


def test_a_killed_import_leaves_the_previous_version(tmp_path: Path, data_dir: Path) -> None:
    """A large import is killed (SIGKILL) while it runs: the catalog still names the earlier
    version, which still loads; no temporary file is taken for a dataset."""
    small = _write(tmp_path / "small.csv", ["timestamp_utc,price", "2024-01-01T00:00Z,10"])
    first = imports.import_file(small, "hourly_prices", market="user:big").version["sha256"]
    hours = pd.date_range("1990-01-01", periods=2_000_000, freq="h", tz="UTC")
    big = tmp_path / "big.csv"
    pd.DataFrame({"timestamp_utc": hours.strftime("%Y-%m-%dT%H:%MZ"), "price": 1.5}).to_csv(
        big, index=False
    )
    env = os.environ | {store.DATA_DIR_ENV: str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from hashpivot.cli import main; main()", "data", "import",
         str(big), "--market", "user:big"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the import finished before the kill: enlarge it"
    assert store.read_catalog()["datasets"]["user:big"]["current"] == first
    assert pp.hourly_prices("user:big").price_usd_per_mwh.tolist() == [10.0]


def test_a_run_records_the_data_it_read_in_the_store_and_the_ledger(
    tmp_path: Path, data_dir: Path
) -> None:
    from hashpivot import locations
    from hashpivot.config import models as config
    from hashpivot.ledger import log as ledger
    from hashpivot.runs import audit, runner
    from hashpivot.runs import store as runs_store

    f = _write(tmp_path / "rub.csv", ["date,rate", "2023-01-02,70", "2023-01-03,71"])
    fx_sha = imports.import_file(f, "fx", currency="RUB").version["sha256"]
    cfg, text = config.load_plan(
        ROOT / "examples" / "texas_miner.yaml", ["paths=64", "horizon_months=12"]
    )
    db = tmp_path / "runs.duckdb"
    done = runner.execute_plan(cfg, text, db=db, out=tmp_path / "out")
    used = done.summary["market_assumptions"]["data_used"]
    assert used["fx:RUB"] == {
        "file": str(data_dir / "datasets" / "fx+RUB" / f"{fx_sha}.parquet"),
        "sha256": fx_sha,
        "layer": "local",
    }
    assert used["btc_daily_2025_2026"]["sha256"] == catalog.file_sha256("btc_daily_2025_2026")
    with runs_store.connect(db) as con:
        stored = runs_store.get_run(con, done.run_id)["summary"]["market_assumptions"]
    assert stored["data_used"] == used and stored["data_last_dates"]["price_usd"] == "2026-08-21"
    lg = ledger.Ledger(locations.default_ledger_path(db), read_only=True)
    try:
        found = audit.find_run_record(lg, done.run_id)
    finally:
        lg.close()
    assert found is not None
    assert found[1]["data_sha256"] == {k: v["sha256"] for k, v in used.items()}
