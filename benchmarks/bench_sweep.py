"""Sweeps and large runs on Dask (issue 19), in one run on this machine:

* a 64-variant sweep of ``examples/bitriver.yaml`` at 10,000 paths (``market.mu_annual`` × 8 ×
  ``sites[0].power_usd_per_mwh`` × 8; each variant a full run, the decision included) in this
  process — the baseline, with the kernels on one thread like a worker's — then on a
  LocalCluster of 1 and of 2 worker processes (one core each);
* a 200,000-path single plan of the same file in this process (one thread), on 1 and on 2
  workers.

Every variant's and the plan's numbers must be identical in all three places (checked here).
``overhead_per_task_s`` is the mean of (wall time on 1 worker − the same work in this process)
per task. The plan is timed step by step (the calls ``engine.run`` makes): the client's part
before the tasks, the tasks (wall, and compute where they ran) and the client's finalise. The
64-worker figures come from a model of these measurements: a sweep is ``ceil(64 / W)`` waves of
(task + overhead); a plan is the client's part plus ``TASKS_PER_WORKER`` waves of (1-worker
compute ÷ tasks + the measured per-task overhead), each worker with a machine's memory
bandwidth to itself. Peak memory is each worker's peak resident set, warm and after the
200,000-path plan. Goals: speed-up ≥ 1.7× on 2 workers for both; per-task overhead ≤ 10% of a
task's compute. Prints one JSON line.
"""

from __future__ import annotations

import json
import math
import resource
import time
from pathlib import Path

import numba

from hashpivot import executor
from hashpivot.config.models import load_plan
from hashpivot.engine import run as engine
from hashpivot.engine import sweep
from hashpivot.finance import metrics
from hashpivot.market import scenarios
from hashpivot.runs import store, sweeps

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "examples" / "bitriver.yaml"
VARY = ["market.mu_annual=0.0:0.35:8", "sites[0].power_usd_per_mwh=20:55:8"]
SWEEP_PATHS = 10_000
LARGE_PATHS = 200_000


def peak_rss_mb() -> float:
    """This process's peak resident set [MB] (run on each worker): the kernel's high-water mark
    of this address space (``VmHWM``; ``getrusage``'s ``ru_maxrss`` would carry the parent's peak
    across the ``exec`` of a spawned worker)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # not Linux


def timed_sweep(items: list[sweep.Variant], ex: executor.Executor) -> tuple[float, list]:
    start = time.perf_counter()
    results = sorted(sweep.run_sweep(items, ex), key=lambda r: r.index)
    return time.perf_counter() - start, results


def timed_blocks(job: engine.PathJob, first: int, n: int) -> tuple[float, object]:
    """A path task timed where it runs."""
    start = time.perf_counter()
    acc = engine.evaluate_blocks(job, first, n)
    return time.perf_counter() - start, acc


def timed_plan(cfg, ex: executor.Executor) -> dict[str, object]:
    """``engine.run`` step by step (the same calls), each step timed: the client's part before
    the tasks, the tasks (wall and compute where they ran) and the client's finalise."""
    t0 = time.perf_counter()
    model = engine.build_model(cfg)
    seeds = scenarios.block_seeds(cfg.seed, cfg.paths)
    train = engine.TrainingPaths(model, seeds)
    policies = engine.fit_policies(model, train)
    strikes = engine.hedge_strikes(model, train)
    job = ex.share(engine.PathJob(model, seeds, policies, strikes, 32))
    tasks = engine.path_tasks(len(seeds), 32, ex.workers)
    t1 = time.perf_counter()
    acc = metrics.PathAccumulator(model.n_months)
    compute = 0.0
    for _, (c, part) in ex.completed(timed_blocks, tasks, (job,)):
        compute += c
        acc.merge(part)
    t2 = time.perf_counter()
    result = engine.finalise(model, acc, engine.Tornado(), policies, train)
    t3 = time.perf_counter()
    return {
        "seconds": t3 - t0,
        "client_before_s": t1 - t0,
        "tasks_wall_s": t2 - t1,
        "tasks_compute_s": compute,
        "client_finalise_s": t3 - t2,
        "tasks": len(tasks),
        "sha": store.results_sha256(result),
    }


def warm(ex: executor.Executor) -> None:
    """Load the compiled kernels on every worker (a first task would otherwise pay it)."""
    cfg, _ = load_plan(PLAN, paths=256)
    engine.run(cfg, with_tornado=False, executor=ex)


def main() -> None:
    items, _, _ = sweeps.prepare(
        PLAN.read_text(), str(PLAN), sweeps.SweepSpec(VARY, paths=SWEEP_PATHS)
    )
    assert len(items) == 64
    large, _ = load_plan(PLAN, paths=LARGE_PATHS)
    here = executor.in_process()
    warm(here)
    run_sha = store.results_sha256(engine.run(large, with_tornado=False))
    all_cores = timed_plan(large, here)  # hashpivot plan's default: the kernels on every core
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # the in-process baseline on one core, like one worker
    plan_here = timed_plan(large, here)
    sweep_here, ref = timed_sweep(items, here)
    numba.set_num_threads(threads)
    assert plan_here["sha"] == all_cores["sha"] == run_sha, "timed steps differ from engine.run"
    plan: dict[int, dict] = {}
    sweep_s: dict[int, float] = {}
    compute: dict[int, float] = {}
    rss: dict[int, dict[str, list[float]]] = {}
    start_s: dict[int, float] = {}
    for w in (1, 2):
        t = time.perf_counter()
        with executor.local_cluster(w, threads_per_worker=1) as ex:
            start_s[w] = time.perf_counter() - t
            warm(ex)
            before = sorted(ex.client.run(peak_rss_mb).values())
            plan[w] = timed_plan(large, ex)
            after = sorted(ex.client.run(peak_rss_mb).values())
            assert plan[w]["sha"] == run_sha, "the large run differs from its in-process run"
            rss[w] = {"warm": before, "after_plan": after}
            sweep_s[w], got = timed_sweep(items, ex)
            assert got == ref, "a variant differs from its in-process run"
            compute[w] = sum(r.seconds for r in got)
    task_here = sweep_here / len(items)
    overhead = (sweep_s[1] - sweep_here) / len(items)
    p1, p2 = plan[1], plan[2]
    plan_task_overhead = (p1["tasks_wall_s"] - plan_here["tasks_wall_s"]) / p1["tasks"]
    # The model at W workers (one machine's bandwidth each, as on a cluster): the client's own
    # part, then waves of tasks of 1-worker compute plus the measured per-task overhead.
    client_s = p1["client_before_s"] + p1["client_finalise_s"]
    per_task_64 = p1["tasks_compute_s"] / (64 * engine.TASKS_PER_WORKER)
    plan_64 = client_s + engine.TASKS_PER_WORKER * (per_task_64 + max(plan_task_overhead, 0.0))
    sweep_64 = math.ceil(len(items) / 64) * (task_here + max(overhead, 0.0))
    r = lambda x: round(x, 3)  # noqa: E731
    out = {
        "benchmark": "sweep",
        "variants": len(items),
        "sweep_paths": SWEEP_PATHS,
        "large_paths": LARGE_PATHS,
        "cores": executor.machine_cores(),
        "seconds_in_process": r(sweep_here),
        "seconds_1": r(sweep_s[1]),
        "seconds_2": r(sweep_s[2]),
        "variants_per_s_in_process": r(len(items) / sweep_here),
        "variants_per_s_1": r(len(items) / sweep_s[1]),
        "variants_per_s_2": r(len(items) / sweep_s[2]),
        "speedup_2_workers": r(sweep_s[1] / sweep_s[2]),
        "task_compute_s": r(task_here),
        "overhead_per_task_s": r(overhead),
        "overhead_share_of_task": r(overhead / task_here),
        "worker_compute_s_1": r(compute[1]),
        "worker_compute_s_2": r(compute[2]),
        "cluster_start_s": {str(w): r(x) for w, x in start_s.items()},
        "plan_seconds_in_process_all_cores": r(all_cores["seconds"]),
        "plan_seconds_in_process": r(plan_here["seconds"]),
        "plan_seconds_1": r(p1["seconds"]),
        "plan_seconds_2": r(p2["seconds"]),
        "plan_speedup_2_workers": r(p1["seconds"] / p2["seconds"]),
        "plan_tasks_speedup_2_workers": r(p1["tasks_wall_s"] / p2["tasks_wall_s"]),
        "plan_kernel_threads_speedup_in_process": r(
            plan_here["tasks_wall_s"] / all_cores["tasks_wall_s"]
        ),
        "plan_parts": {
            k: {x: (r(v) if isinstance(v, float) else v) for x, v in d.items() if x != "sha"}
            for k, d in (("in_process", plan_here), ("1", p1), ("2", p2))
        },
        "plan_overhead_per_task_s": r(plan_task_overhead),
        "peak_rss_mb_per_worker": {str(w): v for w, v in rss.items()},
        "driver_peak_rss_mb": round(peak_rss_mb()),
        "model_64_workers": {
            "sweep_seconds": r(sweep_64),
            "sweep_speedup_vs_1": round(sweep_s[1] / sweep_64, 1),
            "plan_seconds": r(plan_64),
            "plan_speedup_vs_1": round(p1["seconds"] / plan_64, 1),
            "plan_client_s": r(client_s),
        },
        "identical": True,
        "goals": {
            "speedup_2_workers_ge_1_7": sweep_s[1] / sweep_s[2] >= 1.7,
            "plan_speedup_2_workers_ge_1_7": p1["seconds"] / p2["seconds"] >= 1.7,
            "overhead_le_10pct": overhead <= 0.1 * task_here,
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
