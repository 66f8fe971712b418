"""The audit trail of plan runs: each stored run is logged in the tamper-evident ledger, and a run
can later be proven unaltered.

When a run is stored, :func:`log_run` appends a ``plan_run`` record: the run id, the SHA-256 of
the plan YAML, the seed, the hashpivot version and the SHA-256 of the results (summary JSON and
per-path NPVs). It then signs a new tree head. :func:`verify_run` recomputes both hashes from
what the run store holds now, finds the run's record in the ledger, checks that the record
matches, and verifies the record's inclusion proof against the latest signed head with the
ledger's public key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from . import ledger
from .errors import InputError
from .locations import default_ledger_path, key_path  # noqa: F401 - audit.default_ledger_path is public
from .store import get_run, sha256_text


def log_run(
    ledger_path: Path, run_id: str, plan_sha256: str, seed: int, version: str, results_sha256: str
) -> ledger.SignedTreeHead:
    """Append the run's record (creating the ledger and its key on first use) and sign."""
    kp = key_path(ledger_path)
    if not ledger_path.exists():
        if not kp.exists():
            ledger.generate_key(kp)
        lg = ledger.Ledger(ledger_path, create=True)
    else:
        lg = ledger.Ledger(ledger_path)
    try:
        data, _ = ledger.make_record(
            "plan_run",
            {
                "run_id": run_id,
                "plan_sha256": plan_sha256,
                "seed": seed,
                "version": version,
                "results_sha256": results_sha256,
            },
        )
        lg.append([data], ["plan_run"])
        return lg.sign_head(ledger.load_key(kp))
    finally:
        lg.close()


def results_sha256_from_store(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The results hash recomputed from what the store holds (see ``store.results_sha256``)."""
    summary = json.loads(
        con.execute("SELECT summary_json FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    )
    npv = con.execute(
        "SELECT npv_usd FROM run_npv WHERE run_id = ? ORDER BY path", [run_id]
    ).fetchnumpy()["npv_usd"]
    h = hashlib.sha256()
    h.update(json.dumps(summary, sort_keys=True, default=float).encode())
    h.update(np.ascontiguousarray(np.asarray(npv, dtype="<f8")).tobytes())
    return h.hexdigest()


@dataclass
class RunVerification:
    run_id: str
    ok: bool
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    ledger_index: int | None = None
    head: dict[str, Any] | None = None


def verify_run(con: duckdb.DuckDBPyConnection, run_id: str, ledger_path: Path) -> RunVerification:
    """Prove a stored run was not altered since it was logged."""
    run = get_run(con, run_id)  # raises a named error for an unknown id
    plan_yaml = con.execute("SELECT plan_yaml FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    out = RunVerification(run_id, False)
    plan_now = sha256_text(plan_yaml)
    results_now = results_sha256_from_store(con, run_id)
    out.checks.append(
        (
            "stored results hash matches the stored results",
            results_now == run["results_sha256"],
            results_now,
        )
    )
    if not ledger_path.exists():
        raise InputError("--ledger", str(ledger_path), "the ledger this run store logs to")
    lg = ledger.Ledger(ledger_path)
    try:
        record = None
        for i in range(lg.size - 1, -1, -1):
            data, kind = lg.entry(i)
            if kind == "plan_run":
                rec = ledger.parse_record(data)
                if rec and rec["fields"].get("run_id") == run_id:
                    record, out.ledger_index = rec["fields"], i
                    break
        if record is None:
            out.checks.append(("run is logged in the ledger", False, str(ledger_path)))
            return out
        out.checks.append(
            ("plan YAML matches the logged hash", record["plan_sha256"] == plan_now, plan_now)
        )
        out.checks.append(
            ("results match the logged hash", record["results_sha256"] == results_now, results_now)
        )
        bundle = ledger.proof_bundle(lg, out.ledger_index)
        ok, reason = ledger.verify_bundle(bundle, lg.public_key())
        out.checks.append(("ledger record is included under the signed head", ok, reason))
        out.head = bundle["head"]
    finally:
        lg.close()
    out.ok = all(c[1] for c in out.checks)
    return out
