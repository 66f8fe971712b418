"""Run a plan end to end — simulate, write the report, store the run, log it in the ledger —
for the CLI (``hashpivot plan``) and the web API alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import audit, plan, report, store
from .config import PlanConfig
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
) -> PlanRun:
    """Simulate ``cfg``, then write its report (atomically), save the run in one DuckDB
    transaction and append its record to the audit ledger. The store is opened before the long
    part so that a bad ``db`` fails early; a failure leaves earlier runs intact."""
    plan.chunk_blocks(chunk_size)  # validate before any work
    run_id = run_id or store.new_run_id()
    con = store.connect(db)
    try:
        result = plan.run(cfg, chunk_size=chunk_size, progress=progress)
        report_path = out / run_id / "report.html"
        report.write_atomic(report_path, report.render(result, run_id, cfg.description))
        store.save_run(con, run_id, result, plan_yaml, str(report_path))
    finally:
        con.close()
    head = audit.log_run(
        ledger_path or audit.default_ledger_path(db),
        run_id,
        store.sha256_text(plan_yaml),
        result.seed,
        result.version,
        store.results_sha256(result),
    )
    return PlanRun(run_id, str(report_path), head.size, result.summary())
