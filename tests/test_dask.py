"""On a real Dask cluster: a LocalCluster of 2 worker processes (as ``--workers 2`` starts), a
scheduler of its own with no workers, and an address nobody listens on.

A sweep equals its variants run alone; a large run is bit-identical to the single-process run;
a worker killed mid-sweep has its tasks re-run and the sweep still comes out right; bad places
are named errors before any task."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from cli_helpers import EXE
from hashpivot import executor
from hashpivot.config.models import load_plan
from hashpivot.engine import run as engine
from hashpivot.engine import sweep
from hashpivot.errors import HashpivotError, InputError
from hashpivot.market import hindcast
from hashpivot.runs import store, sweeps

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "examples" / "core_scientific.yaml"
TEXAS = ROOT / "examples" / "texas_miner.yaml"

# One test process runs them all (make test: --dist loadgroup), so one cluster serves the module.
pytestmark = [
    pytest.mark.xdist_group("dask"),
    pytest.mark.skipif(
        executor.machine_cores() < 2 and not os.environ.get("CI"),
        reason="a 2-worker LocalCluster needs 2 cores (CI has them: there these tests must run)",
    ),
]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, as ``--workers 2`` starts them."""
    before = {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", *executor.WORKER_MALLOC_ENV)}
    ex = executor.local_cluster(2, threads_per_worker=1)
    # the workers' settings stay theirs: this process's numba would refuse a changed thread count
    assert {k: os.environ.get(k) for k in before} == before
    try:
        yield ex
    finally:
        ex.close()


def _alone(v: sweep.Variant) -> sweep.VariantResult:
    """The variant run by itself in this process as ``hashpivot plan --set`` runs it: the plan's
    own loader, its own calibration (not the sweep's shared market), ``engine.run``."""
    cfg, _ = load_plan(CORE, values=v.overrides, paths=v.plan.paths)
    assert not cfg.has_alternatives  # else the decision would be part of the run too
    summary = engine.run(cfg, with_tornado=False).summary()
    return sweep.variant_result(sweep.Variant(v.index, v.overrides, cfg), summary, 0.0)


def test_sweep_on_two_workers_equals_each_variant_alone(cluster, tmp_path: Path) -> None:
    spec = sweeps.SweepSpec(
        vary=["market.mu_annual=0.0:0.3:4", "discount_rate_annual=0.08,0.12"], paths=640
    )
    done = sweeps.execute_sweep(
        CORE.read_text(), str(CORE), spec, db=tmp_path / "s.duckdb", out=tmp_path, executor=cluster
    )
    assert len(done.results) == 8 and done.workers == 2
    items, _, _ = sweeps.prepare(CORE.read_text(), str(CORE), spec)
    for r, v in zip(done.results, items, strict=True):
        assert r == _alone(v)  # every field but the compute time, exactly
    with store.connect(tmp_path / "s.duckdb", read_only=True) as con:
        got = store.get_sweep(con, done.sweep_id)
    assert got["status"] == "complete" and got["workers"] == 2
    assert [row["npv_usd"] for row in got["rows"]] == [r.npv_usd for r in done.results]


def test_large_run_on_two_workers_is_bit_identical(cluster) -> None:
    cfg, _ = load_plan(TEXAS, paths=20_000, horizon_months=36)
    one = engine.run(cfg, chunk_size=1024)
    two = engine.run(cfg, chunk_size=2048, executor=cluster)
    assert np.array_equal(one.npv_values, two.npv_values)
    assert store.results_sha256(one) == store.results_sha256(two)
    assert one.summary() == two.summary()


def test_killed_worker_has_its_tasks_rerun(cluster, tmp_path: Path) -> None:
    spec = sweeps.SweepSpec(vary=["discount_rate_annual=0.05:0.16:12"], paths=2048)
    items, _, _ = sweeps.prepare(CORE.read_text(), str(CORE), spec)
    pids = cluster.client.run(os.getpid)
    got = []
    killed = False
    for r in sweep.run_sweep(items, cluster):
        got.append(r)
        if not killed:  # after the first result, while the rest run: kill one worker outright
            os.kill(next(iter(pids.values())), signal.SIGKILL)
            killed = True
    assert killed and sorted(r.index for r in got) == list(range(12))
    for r in got:
        assert r == _alone(items[r.index])
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    now = set(cluster.client.run(os.getpid).values())
    assert next(iter(pids.values())) not in now and len(now) == 2  # the kill did happen


def test_backtest_on_two_workers_equals_in_process(cluster) -> None:
    origins = hindcast.month_end_origins("2021-06", "2022-06", 6)
    here = hindcast.run(origins, (3, 6), n_paths=256, seed=3)
    there = hindcast.run(origins, (3, 6), n_paths=256, seed=3, executor=cluster)
    for p in hindcast.PROCESSES:
        for h in (3, 6):
            assert np.array_equal(here.fans[p][h], there.fans[p][h])
            assert np.array_equal(here.baseline_rw[p][h], there.baseline_rw[p][h])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_named() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(InputError, match=r"scheduler.*none answered within 2 s"):
        executor.connect(address, connect_timeout_s=2)
    assert time.monotonic() - start < 30


def test_scheduler_without_workers_is_named() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, dashboard_address=":0", processes=False) as empty:
        with pytest.raises(InputError, match="at least one worker"):
            executor.connect(empty.scheduler_address, wait_for_workers_s=1)


def test_remote_scheduler_checks_versions_and_runs(cluster) -> None:
    address = cluster.cluster.scheduler_address
    with executor.connect(address) as remote:
        assert remote.workers == 2 and address in remote.where
        cfg, _ = load_plan(TEXAS, paths=4096, horizon_months=24)
        assert store.results_sha256(engine.run(cfg, executor=remote)) == store.results_sha256(
            engine.run(cfg)
        )


def test_separate_dask_scheduler_and_worker_processes(tmp_path: Path) -> None:
    """``dask scheduler`` and ``dask worker`` started as a user would on other machines
    (docs/scale.md), here as separate processes on loopback: a plan run through them is
    bit-identical to this process's."""
    dask_cli = str(Path(sys.executable).parent / "dask")
    info = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--dashboard-address", ":0", "--scheduler-file", str(info)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [dask_cli, "worker", address, "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        with executor.connect(address, wait_for_workers_s=60) as remote:
            assert remote.workers == 1
            cfg, _ = load_plan(TEXAS, paths=4096, horizon_months=24)
            there = store.results_sha256(engine.run(cfg, executor=remote))
        assert there == store.results_sha256(engine.run(cfg))
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)


def test_cli_sweep_on_two_workers(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    r = subprocess.run(
        [EXE, "sweep", str(CORE), "--vary", "discount_rate_annual=0.08,0.1", "--paths", "256",
         "--workers", "2", "--db", str(db), "--out", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "on a LocalCluster of 2 worker processes" in r.stderr


def test_cli_plan_with_a_scheduler(cluster, tmp_path: Path) -> None:
    r = subprocess.run(
        [EXE, "plan", str(TEXAS), "--paths", "2048", "--months", "24", "--scheduler",
         cluster.cluster.scheduler_address, "--db", str(tmp_path / "r.duckdb"), "--out",
         str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "on the Dask cluster at" in r.stderr


def test_ctrl_c_cancels_the_sweep_and_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    p = subprocess.Popen(
        [EXE, "sweep", str(CORE), "--vary", "discount_rate_annual=0.05:0.2:40", "--paths",
         "8192", "--workers", "2", "--db", str(db), "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    started = False
    while time.monotonic() < deadline and p.poll() is None:  # wait for the first stored variant
        if db.exists():
            try:
                con = duckdb.connect(str(db), read_only=True)
                started = con.execute("SELECT count(*) FROM sweep_variants").fetchone()[0] > 0
                con.close()
            except duckdb.Error:
                pass
        if started:
            break
        time.sleep(0.3)
    assert started, "the sweep never stored a variant"
    os.killpg(p.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "nothing of it was stored" in err and "Traceback" not in err
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM sweeps").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM sweep_variants").fetchone() == (0,)


def test_a_task_that_kills_every_worker_is_a_named_error(cluster) -> None:
    """A task whose worker dies each time it runs (os._exit, as an out-of-memory kill would):
    the scheduler retries it on fresh workers, then gives up; the caller gets one plain error."""
    with pytest.raises(HashpivotError, match=r"task 0: every worker that ran it died"):
        for _ in cluster.completed(os._exit, [(3,)], name="task"):
            pass
    cluster.client.wait_for_workers(2, timeout=120)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
