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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import audit, plan, report, store
from .config import PlanConfig
from .errors import HashpivotError, StorageError
from .plan import ProgressFn


@dataclass
class PlanRun:
    run_id: str
    report_path: str
    ledger_size: int
    summary: dict[str, Any]


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
) -> PlanRun:
    """Simulate ``cfg``, write its report, log it and store it (see the module docstring)."""
    plan.chunk_blocks(chunk_size)  # validate before any work
    plan.check_memory(cfg, chunk_size, max_memory_bytes, memory_flag)
    db = Path(db)
    ledger_path = Path(ledger_path) if ledger_path is not None else audit.default_ledger_path(db)
    store.check_writable(db)
    audit.check_ledger_writable(ledger_path)
    run_id = run_id or store.new_run_id()
    result = plan.run(cfg, chunk_size=chunk_size, progress=progress)
    summary = result.summary()  # computed once: the report, the hash and the store share it
    report_path = out / run_id / "report.html"
    try:
        report.write_atomic(report_path, report.render(result, run_id, cfg.description))
    except OSError as exc:
        raise StorageError(
            f"run {run_id} was simulated but nothing was written: the report "
            f"{report_path} could not be written ({exc.strerror})"
        ) from None
    results_hash = store.results_sha256(result, summary)
    try:
        head = audit.log_run(
            ledger_path, run_id, store.sha256_text(plan_yaml), result.seed, result.version,
            results_hash,
        )  # fmt: skip
    except (HashpivotError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StorageError(
            f"run {run_id} was simulated and its report written to {report_path}, but it was "
            f"neither logged nor stored: the ledger {ledger_path} could not be appended "
            f"({reason}); earlier runs are intact"
        ) from None
    try:
        with store.connect(db) as con:
            store.save_run(con, run_id, result, plan_yaml, str(report_path), summary=summary)
    except (HashpivotError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StorageError(
            f"run {run_id} was simulated, its report written to {report_path} and its record "
            f"logged in {ledger_path} (entry {head.size - 1}), but it was not stored in {db} "
            f"({reason}); earlier runs are intact"
        ) from None
    return PlanRun(run_id, str(report_path), head.size, summary)
