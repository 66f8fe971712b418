"""Run a plan end to end — simulate, write the report, log the run in the ledger, store it —
for the CLI (``hashpivot plan``) and the web API alike.

The order is chosen so that no fault leaves a run that cannot be verified:

1. everything that can fail for a reason the user can fix is checked first — chunk size, the
   memory budget, the run store (opened and closed again: no lock is held while simulating), the
   ledger and its signing key (a 0-byte or unreadable key is refused here, not after an hour);
2. the simulation, holding nothing open;
3. the report, written atomically;
4. the ledger record (the plan and results hashes), appended and signed — *before* the store;
5. the run, in one DuckDB transaction.

A kill between 4 and 5 leaves a ledger record of a run that was never stored, which verifies
nothing and harms nothing; a kill before 4 leaves at most the report file. A run stored without a
record (by a version before this order, or a ledger restored from an old copy) is logged with
``hashpivot runs relog ID``. When a late step fails, the error says what was written.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import models as config
from ..config.models import PlanConfig
from ..engine import decision
from ..engine import run as plan
from ..engine.run import ProgressFn
from ..errors import HashpivotError, RunCancelled, StorageError
from ..executor import Executor, open_executor
from ..files import write_atomic
from ..reports import plan as report
from . import audit, store

#: A plan of fewer paths runs in this process unless told otherwise: its compiled kernels already
#: use every core, and starting worker processes (~4 s) pays off only for longer runs.
LARGE_RUN_PATHS = 1_000_000


@dataclass
class PlanRun:
    run_id: str
    report_path: str
    ledger_size: int
    summary: dict[str, Any]


def check_run(
    cfg: PlanConfig,
    *,
    db: Path,
    ledger_path: Path | None = None,
    chunk_size: int = 2048,
    max_memory_bytes: int | None = None,
    memory_flag: str = "max_memory_bytes",
) -> Path:
    """Step 1: everything a run can fail on that the user can fix, before the long part.

    The memory estimate, the run store and the ledger (and its key) are checked; nothing is
    written.

    Parameters
    ----------
    cfg : PlanConfig
        The validated plan.
    db : pathlib.Path
        The run store's file.
    ledger_path : pathlib.Path or None
        The audit ledger; ``None`` puts it beside the store.
    chunk_size : int
        Paths simulated at a time [-].
    max_memory_bytes : int or None
        Memory budget [byte]; ``None`` for the default.
    memory_flag : str
        The flag or field named in a memory error (``--max-memory-gb`` from the CLI).

    Returns
    -------
    pathlib.Path
        The ledger the run will be logged in.
    """
    plan.chunk_blocks(chunk_size)  # validate before any work
    plan.check_memory(cfg, chunk_size, max_memory_bytes, memory_flag)
    db = Path(db)
    ledger_path = Path(ledger_path) if ledger_path is not None else audit.default_ledger_path(db)
    store.check_writable(db)
    audit.check_ledger_writable(ledger_path)
    return ledger_path


@dataclass
class Simulated:
    """Steps 2–3 done: the results, their summary (computed once) and the written report."""

    run_id: str
    result: plan.PlanResult
    summary: dict[str, Any]
    report_path: Path


def simulate(
    cfg: PlanConfig,
    *,
    out: Path,
    run_id: str,
    chunk_size: int = 2048,
    progress: ProgressFn | None = None,
    executor: Executor | None = None,
) -> Simulated:
    """Steps 2–3: simulate, holding nothing open, and write the report atomically.

    Runs in the server's run process too (it returns what :func:`record` needs).

    Parameters
    ----------
    cfg : PlanConfig
        The validated plan.
    out : pathlib.Path
        The folder of the HTML report.
    run_id : str
        The run's id (names the report).
    chunk_size : int
        Paths simulated at a time [-].
    progress : callable or None
        Called as ``progress(done, total)`` [-] after each chunk.
    executor : Executor or None
        Where the path tasks run; ``None``: in this process.

    Returns
    -------
    Simulated
        The results, their summary (computed once) and the report's path.
    """
    # the decision first: an infeasible portfolio fails before the long run
    decided = decision.decide_plan(cfg) if cfg.has_alternatives else None
    result = plan.run(cfg, chunk_size=chunk_size, progress=progress, executor=executor)
    result = replace(result, decision=decided)
    summary = result.summary()  # computed once: the report, the hash and the store share it
    report_path = Path(out) / run_id / "report.html"
    try:
        write_atomic(report_path, report.render(result, run_id, cfg.description))
    except OSError as exc:
        raise StorageError(
            f"run {run_id} was simulated but nothing was written: the report "
            f"{report_path} could not be written ({exc.strerror})"
        ) from None
    return Simulated(run_id, result, summary, report_path)


def _reason(exc: BaseException) -> str:
    """What went wrong, in the words a user can act on (an OS error's own text, e.g. "No space
    left on device")."""
    return (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)


def record(sim: Simulated, plan_yaml: str, *, db: Path, ledger_path: Path) -> PlanRun:
    """Steps 4–5: log the run in the ledger, then store it (see the module docstring).

    Parameters
    ----------
    sim : Simulated
        From :func:`simulate`.
    plan_yaml : str
        The effective plan as YAML (hashed into the ledger record and stored).
    db : pathlib.Path
        The run store's file.
    ledger_path : pathlib.Path
        The audit ledger.

    Returns
    -------
    PlanRun
        Run id, report path, ledger size and summary.
    """
    run_id, result, summary, report_path = sim.run_id, sim.result, sim.summary, sim.report_path
    results_hash = store.results_sha256(result)
    used = summary.get("market_assumptions", {}).get("data_used", {})
    try:
        head = audit.log_run(
            ledger_path, run_id, store.sha256_text(plan_yaml), result.seed, result.version,
            results_hash, {name: d["sha256"] for name, d in used.items()},
        )  # fmt: skip
    except (HashpivotError, OSError) as exc:
        raise StorageError(
            f"run {run_id} was simulated and its report written to {report_path}, but it was "
            f"neither logged nor stored: the ledger {ledger_path} could not be appended "
            f"({_reason(exc)}); earlier runs are intact"
        ) from None
    try:
        with store.connect(db) as con:
            store.save_run(con, run_id, result, plan_yaml, str(report_path))
    except (HashpivotError, OSError) as exc:
        raise StorageError(
            f"run {run_id} was simulated, its report written to {report_path} and its record "
            f"logged in {ledger_path} (entry {head.size - 1}), but it was not stored in {db} "
            f"({_reason(exc)}); earlier runs are intact"
        ) from None
    return PlanRun(run_id, str(report_path), head.size, summary)


def execute_plan(
    cfg: PlanConfig,
    plan_yaml: str,
    *,
    db: Path,
    out: Path,
    ledger_path: Path | None = None,
    chunk_size: int = 2048,
    progress: ProgressFn | None = None,
    run_id: str | None = None,
    max_memory_bytes: int | None = None,
    memory_flag: str = "max_memory_bytes",
    workers: int | None = None,
    scheduler: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> PlanRun:
    """Check, simulate, write the report, log and store ``cfg`` (see the module docstring).

    Parameters
    ----------
    cfg : PlanConfig
        The validated plan.
    plan_yaml : str
        The effective plan as YAML.
    db : pathlib.Path
        The run store's file.
    out : pathlib.Path
        The folder of the HTML report.
    ledger_path : pathlib.Path or None
        The audit ledger; ``None`` puts it beside the store.
    chunk_size : int
        Paths simulated at a time [-].
    progress : callable or None
        Called as ``progress(done, total)`` [-] after each chunk.
    run_id : str or None
        The run's id; ``None`` makes a new one.
    max_memory_bytes : int or None
        Memory budget [byte]; ``None`` for the default.
    memory_flag : str
        The flag or field named in a memory error.
    workers : int or None
        Worker processes [-]. 0: in this process; N: a LocalCluster of N worker processes;
        ``None``: this process below :data:`LARGE_RUN_PATHS` paths, else one worker per core.
    scheduler : str or None
        A running Dask scheduler to spread the path blocks over.
    announce : callable or None
        Told where the paths run, once the executor is open.

    Returns
    -------
    PlanRun
        Run id, report path, ledger size and summary.
    """
    ledger_path = check_run(
        cfg,
        db=db,
        ledger_path=ledger_path,
        chunk_size=chunk_size,
        max_memory_bytes=max_memory_bytes,
        memory_flag=memory_flag,
    )
    small = cfg.paths < LARGE_RUN_PATHS
    with open_executor(workers, scheduler, small=small) as executor:
        if announce:
            announce(f"{cfg.paths:,} paths {executor.where}")
        sim = simulate(
            cfg,
            out=out,
            run_id=run_id or store.new_run_id(),
            chunk_size=chunk_size,
            progress=progress,
            executor=executor,
        )
    return record(sim, plan_yaml, db=Path(db), ledger_path=ledger_path)


# --------------------------------------------------------------------------- the run process
# The web server simulates in a child process: a run's Python parts (report rendering, the
# tornado, the finalise step) would otherwise hold the server's GIL and stall every request. The
# child only simulates and writes the report; the server logs and stores the result (DuckDB
# allows one writing process, and the server reads the store meanwhile). One run at a time, so
# one shared progress counter and one cancel flag serve every job.
_PROGRESS: Any = None
_CANCEL: Any = None


def child_init(progress: Any, cancel: Any) -> None:
    """Initialiser of the run process: the shared progress counter and cancel flag.

    Parameters
    ----------
    progress : multiprocessing.Value
        Paths done so far [-], written by the child.
    cancel : multiprocessing.Event
        Set by the server to stop the run at the next chunk.
    """
    global _PROGRESS, _CANCEL
    _PROGRESS, _CANCEL = progress, cancel


def child_simulate(plan_yaml: str, out: str, run_id: str, chunk_size: int = 2048) -> tuple:
    """In the run process: validate the effective plan again, simulate and write the report.

    Returns plain values, so no exception has to cross the process boundary.

    Parameters
    ----------
    plan_yaml : str
        The effective plan as YAML.
    out : str
        The folder of the HTML report.
    run_id : str
        The run's id.
    chunk_size : int
        Paths simulated at a time [-].

    Returns
    -------
    tuple
        ``("done", Simulated)``, ``("cancelled", None)`` or ``("failed", message)``.
    """

    def progress(done: int, total: int) -> None:
        _PROGRESS.value = done
        if _CANCEL.value:
            raise RunCancelled(f"run {run_id} cancelled")

    try:
        cfg, _ = config.load_plan_text(plan_yaml, "plan_yaml")
        sim = simulate(cfg, out=Path(out), run_id=run_id, chunk_size=chunk_size, progress=progress)
        return ("done", sim)
    except RunCancelled:
        return ("cancelled", None)
    except HashpivotError as exc:
        return ("failed", str(exc))
    except Exception:  # a bug: the server's log gets the traceback, the job a plain message
        traceback.print_exc()
        return ("failed", "internal error (see the server's log)")
