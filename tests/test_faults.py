"""Faults around the run store and the ledger: budgets checked after loading, jobs that can be
cancelled and queue that is bounded, a store held only while it is written, the order log-then-
store with its recovery, keys that are refused early, and a full disk (a real, small tmpfs)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli_helpers import ROOT, local_client, plan_rejected, run
from hashpivot import locations
from hashpivot.api import app as api
from hashpivot.api.app import create_app
from hashpivot.config import models as config
from hashpivot.errors import InputError, StorageError
from hashpivot.runs import audit, runner, store

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TEXAS = ROOT / "examples" / "texas_miner.yaml"
BITRIVER = (ROOT / "examples" / "bitriver.yaml").read_text()


def _small(tmp_path: Path, *sets: str) -> tuple[config.PlanConfig, str]:
    return config.load_plan(TEXAS, ["paths=64", "horizon_months=12", *sets])


# --------------------------------------------------------------------------- budgets
def test_api_limits_apply_to_what_was_loaded(tmp_path: Path) -> None:
    client = local_client(create_app(tmp_path / "r.duckdb", TOKEN, max_memory_bytes=2 * 2**30))
    for overrides in (["paths=10000000"], ["paths=2000000", "horizon_months=600"]):
        r = client.post(
            "/api/runs", json={"plan_yaml": BITRIVER, "overrides": overrides}, headers=AUTH
        )
        assert r.status_code == 422, r.text
        assert "paths" in r.text
    r = client.post(
        "/api/runs", json={"plan_yaml": BITRIVER, "overrides": ["paths=500000"]}, headers=AUTH
    )
    assert r.status_code == 422 and "memory budget" in r.text and "GiB" in r.text


def test_cli_refuses_a_run_over_the_memory_budget(tmp_path: Path) -> None:
    msg = plan_rejected(
        ROOT / "examples" / "bitriver.yaml", tmp_path, "--paths", "10000000", "--months", "600"
    )
    assert "memory budget" in msg and "--max-memory-gb" in msg and "GiB" in msg
    msg = plan_rejected(TEXAS, tmp_path, "--paths", "64", "--max-memory-gb", "0.01")
    assert "--max-memory-gb" in msg


# --------------------------------------------------------------------------- jobs
def _wait(client: TestClient, job_id: str, states: set[str], timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        j = client.get(f"/api/jobs/{job_id}").json()
        if j["status"] in states:
            return j
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach {states}: {j}")


def test_job_queue_is_bounded_and_jobs_can_be_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "MAX_PENDING_JOBS", 1)
    db = tmp_path / "r.duckdb"
    client = local_client(create_app(db, TOKEN))
    body = {"plan_yaml": BITRIVER, "overrides": ["paths=200000"]}
    first = client.post("/api/runs", json=body, headers=AUTH)
    assert first.status_code == 202, first.text
    job = first.json()["job_id"]
    second = client.post("/api/runs", json=body, headers=AUTH)
    assert second.status_code == 429 and "DELETE /api/jobs" in second.text
    _wait(client, job, {"running"})
    assert client.delete(f"/api/jobs/{job}").status_code == 401  # a write: token required
    r = client.delete(f"/api/jobs/{job}", headers=AUTH)
    assert r.status_code == 200
    done = _wait(client, job, {"cancelled", "done", "failed"})
    assert done["status"] == "cancelled"
    assert client.get("/api/runs").json() == []  # nothing written
    assert (
        client.post("/api/runs", json=body | {"overrides": ["paths=64"]}, headers=AUTH).status_code
        == 202
    )


def test_series_are_downsampled_and_the_job_page_escapes_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "MAX_SERIES_NPVS", 100)
    db = tmp_path / "r.duckdb"
    cfg, text = _small(tmp_path, "paths=512")
    done = runner.execute_plan(cfg, text, db=db, out=tmp_path)
    client = local_client(create_app(db, TOKEN))
    s = client.get(f"/api/runs/{done.run_id}/series").json()
    assert len(s["npv_usd"]) == 100 and s["npv_usd_is_quantiles"] and s["npv_paths"] == 512
    page = client.get("/jobs/%5C")
    assert page.status_code == 200
    assert 'const jobId = "\\\\";' in page.text  # a JS string, not a syntax error


# --------------------------------------------------------------------------- store while simulating
def test_the_store_is_free_while_a_run_simulates(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    proc = _one_run_then_a_long_one(db, tmp_path)
    seen = []
    try:
        while proc.poll() is None:  # while it simulates, readers get the store at once
            r = run("runs", "--db", str(db), "--json")
            assert r.returncode == 0, r.stderr  # was: "cannot open … lock" for the whole run
            seen.append(len(json.loads(r.stdout)))
    finally:
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert 1 in seen  # at least one read happened before the new run was stored
    assert len(json.loads(run("runs", "--db", str(db), "--json").stdout)) == 2


def _exe() -> list[str]:
    from cli_helpers import EXE

    return [EXE]


def _one_run_then_a_long_one(db: Path, out: Path) -> subprocess.Popen[str]:
    """Store one small run, then start a long one (300,000 BitRiver paths) in the background."""
    first = run(
        "plan", str(TEXAS), "--paths", "64", "--months", "12", "--db", str(db), "--out", str(out)
    )
    assert first.returncode == 0, first.stderr
    # stdout to a file: the JSON (hundreds of kB with the decision) would fill a pipe nobody
    # reads until the run ends, and the run would wait on it for ever
    with db.with_suffix(".stdout.json").open("w") as stdout:  # the child keeps its own copy
        return subprocess.Popen(
            [*_exe(), "plan", str(ROOT / "examples" / "bitriver.yaml"), "--paths", "300000",
             "--db", str(db), "--out", str(out), "--json"],
            stdout=stdout, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip


# --------------------------------------------------------------------------- log, then store
def test_a_failed_store_after_logging_says_what_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "r.duckdb"
    cfg, text = _small(tmp_path)
    ok = runner.execute_plan(cfg, text, db=db, out=tmp_path)

    def killed(*a: object, **k: object) -> None:
        raise StorageError("--db: simulated crash during COMMIT")

    monkeypatch.setattr(store, "save_run", killed)
    with pytest.raises(StorageError) as exc:
        runner.execute_plan(cfg, text, db=db, out=tmp_path)
    msg = str(exc.value)
    assert "logged in" in msg and "(entry 1)" in msg and "was not stored" in msg
    monkeypatch.undo()
    # The earlier run is intact and verifies; the orphan record harms nothing.
    with store.connect(db, read_only=True) as con:
        assert [r["run_id"] for r in store.list_runs(con)] == [ok.run_id]
        assert audit.verify_run(con, ok.run_id, locations.default_ledger_path(db)).ok


def test_a_run_stored_without_a_record_is_recovered_by_relog(tmp_path: Path) -> None:
    # What a kill between the store's commit and the ledger append left (the old order):
    # a stored run with no record.
    db = tmp_path / "r.duckdb"
    cfg, text = _small(tmp_path)
    from hashpivot.engine import run as plan

    result = plan.run(cfg, with_tornado=False)
    with store.connect(db) as con:
        store.save_run(con, "20260101T000000-abcdef", result, text, None)
    led = locations.default_ledger_path(db)
    runner.execute_plan(cfg, text, db=db, out=tmp_path)  # creates the ledger with another run
    v = run("runs", "verify", "20260101T000000-abcdef", "--db", str(db), "--json")
    assert v.returncode == 1 and not json.loads(v.stdout)["verified"]
    r = run("runs", "relog", "2026010", "--db", str(db), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ledger_index"] == 1
    v = run("runs", "verify", "20260101T000000-abcdef", "--db", str(db), "--json")
    assert v.returncode == 0 and json.loads(v.stdout)["verified"], v.stdout
    again = run("runs", "relog", "20260101T000000-abcdef", "--db", str(db))
    assert (again.returncode == 2 and "already" in again.stderr) or "not yet logged" in again.stderr
    assert led.exists()


@pytest.mark.parametrize("fault", ["missing", "empty", "garbage", "foreign"])
def test_a_bad_ledger_key_is_refused_before_simulating(tmp_path: Path, fault: str) -> None:
    db = tmp_path / "r.duckdb"
    cfg, text = _small(tmp_path)
    runner.execute_plan(cfg, text, db=db, out=tmp_path)
    key = locations.key_path(locations.default_ledger_path(db))
    if fault == "missing":
        key.unlink()
    elif fault == "empty":
        key.write_bytes(b"")
    elif fault == "garbage":
        key.write_text("not a key")
    else:
        key.unlink()
        from hashpivot.ledger import log as ledger

        ledger.generate_key(key)
    before = json.loads(run("runs", "--db", str(db), "--json").stdout)
    r = run(
        "plan",
        str(TEXAS),
        "--paths",
        "64",
        "--months",
        "12",
        "--db",
        str(db),
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "key" in r.stderr
    assert json.loads(run("runs", "--db", str(db), "--json").stdout) == before  # nothing stored


# --------------------------------------------------------------------------- a full disk
@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.decode().strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(folder: Path, leave_bytes: int) -> None:
    """Fill the file system of ``folder`` until about ``leave_bytes`` remain."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler", "wb") as fh:
        with contextlib.suppress(OSError):
            fh.write(b"\0" * max(free - leave_bytes, 0))


@pytest.mark.parametrize("where", ["report", "store", "ledger"])
def test_a_full_disk_is_one_line_and_leaves_earlier_results(tmp_path: Path, where: str) -> None:
    with tmpfs(tmp_path / "small", "8m") as disk:
        db = disk / "r.duckdb" if where != "ledger" else tmp_path / "r.duckdb"
        out = disk / "out" if where == "report" else tmp_path / "out"
        led = disk / "runs.ledger.sqlite" if where == "ledger" else None
        args = [
            "plan",
            str(TEXAS),
            "--paths",
            "64",
            "--months",
            "12",
            "--db",
            str(db),
            "--out",
            str(out),
        ]
        if led is not None:
            args += ["--ledger", str(led)]
        first = run(*args)
        assert first.returncode == 0, first.stderr
        _fill(disk, 16 * 1024)
        r = run(*args)
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "No space left on device" in r.stderr or "space" in r.stderr.lower()
        (disk / "filler").unlink()
        runs = json.loads(run("runs", "--db", str(db), "--json").stdout)
        assert len(runs) == 1  # the earlier run is intact
        ledger_file = led or locations.default_ledger_path(db)
        v = run("runs", "verify", runs[0]["run_id"], "--db", str(db), "--ledger", str(ledger_file))
        assert v.returncode == 0, v.stdout + v.stderr


def test_a_full_disk_while_creating_the_key_leaves_no_empty_key(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "1m") as disk:
        _fill(disk, 0)
        key = disk / "k.key"
        from hashpivot.ledger import log as ledger

        with pytest.raises(OSError):
            ledger.generate_key(key)
        assert not key.exists()
        assert not [p for p in disk.iterdir() if p.name != "filler"]
    with pytest.raises(InputError, match="0 bytes"):
        (tmp_path / "empty.key").write_bytes(b"")
        ledger.load_key(tmp_path / "empty.key")


# --------------------------------------------------------------------------- Ctrl-C, names, sizes
def test_ctrl_c_leaves_nothing_half_written(tmp_path: Path) -> None:
    import signal

    db = tmp_path / "r.duckdb"
    proc = _one_run_then_a_long_one(db, tmp_path / "out")
    time.sleep(5)  # loading and simulating
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert len(json.loads(run("runs", "--db", str(db), "--json").stdout)) == 1
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]
    assert leftovers == []  # no temporary report file left behind


def test_user_names_cannot_place_files_outside_the_output_folder(tmp_path: Path) -> None:
    assert locations.safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert "/" not in locations.safe_name("/tmp/x") and not locations.safe_name("..x").startswith(
        "."
    )
    out = tmp_path / "out"
    r = run(
        "buildout", str(ROOT / "examples" / "openai_16gw.yaml"), "--set", "name=../../escape",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    page = Path(json.loads(r.stdout)["report_path"])
    assert page.parent == out and not (tmp_path.parent / "escape.html").exists()
    r = run(
        "buildout",
        str(ROOT / "examples" / "openai_16gw.yaml"),
        "--set",
        "financing[0].per_gw_usd=1e308",
    )
    assert r.returncode == 2 and "too large" in r.stderr


def test_the_report_does_not_grow_with_the_paths(tmp_path: Path) -> None:
    from hashpivot.engine import run as plan
    from hashpivot.reports import plan as report

    sizes = []
    for n in (2048, 20480):
        cfg, _ = config.load_plan(TEXAS, [f"paths={n}", "horizon_months=24"])
        sizes.append(len(report.render(plan.run(cfg, with_tornado=False), "RUN")))
    assert sizes[1] < sizes[0] * 1.05  # bins, not every path's NPV (27 MB at 2M paths before)
