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

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ..errors import InputError, present
from ..ledger import log as ledger
from ..locations import default_ledger_path, key_path  # noqa: F401 - audit.default_ledger_path is public
from .store import get_run, sha256_text, stored_plan_yaml, stored_results_sha256


def check_ledger_writable(ledger_path: Path) -> None:
    """Refuse, before a run's long part, a ledger the run could not be logged in.

    That is: a ledger file without its signing key, a 0-byte or unreadable key, a key that is not
    the ledger's, a file that is not a ledger, or a folder that cannot be written.

    Parameters
    ----------
    ledger_path : pathlib.Path
        The audit ledger (it need not exist yet).

    Raises
    ------
    StorageError
        The ledger could not take the run's record; the message says why.
    """
    ledger_path = Path(ledger_path)
    kp = key_path(ledger_path)
    if ledger_path.exists():
        if not kp.exists():
            raise InputError(
                "ledger_path",
                str(ledger_path),
                f"a ledger with its signing key beside it ({kp} is missing)",
            )
        key = ledger.load_key(kp)  # refuses a 0-byte, unreadable or foreign key file
        lg = ledger.Ledger(ledger_path, read_only=True)
        try:
            if lg.size and lg.public_key() != ledger.public_key_bytes(key):
                raise InputError("ledger_path", str(kp), f"the key {ledger_path} was created with")
        finally:
            lg.close()
        if not os.access(ledger_path, os.W_OK):
            raise InputError("ledger_path", str(ledger_path), "a ledger file that can be written")
        return
    if kp.exists():
        ledger.load_key(kp)
    folder = ledger_path.parent if str(ledger_path.parent) else Path(".")
    if folder.exists() and not os.access(folder, os.W_OK):
        raise InputError("ledger_path", str(ledger_path), "a path in a folder that can be written")


def log_run(
    ledger_path: Path,
    run_id: str,
    plan_sha256: str,
    seed: int,
    version: str,
    results_sha256: str,
    data_sha256: dict[str, str] | None = None,
) -> ledger.SignedTreeHead:
    """Append the run's record (creating the ledger and its key on first use) and sign.

    Parameters
    ----------
    ledger_path : pathlib.Path
        The audit ledger.
    run_id : str
        The run's id.
    plan_sha256 : str
        SHA-256 of the effective plan YAML, in hex.
    seed : int
        The run's seed [-].
    version : str
        The hashpivot version that made the run.
    results_sha256 : str
        The results hash (:func:`~hashpivot.runs.store.results_sha256`), in hex.
    data_sha256 : dict of str to str or None
        Dataset → SHA-256 of the data the run read (shipped files and local store versions).

    Returns
    -------
    SignedTreeHead
        The new signed head, covering the record.
    """
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
            }
            | ({"data_sha256": data_sha256} if data_sha256 else {}),
        )
        lg.append([data], ["plan_run"])
        return lg.sign_head(ledger.load_key(kp))
    finally:
        lg.close()


def find_run_record(lg: ledger.Ledger, run_id: str) -> tuple[int, dict[str, Any]] | None:
    """The newest ``plan_run`` record of ``run_id``: its index and fields.

    Found by the entry's own (hashed) bytes, never by the ``kinds`` label stored beside them,
    which a tamperer could relabel to hide a run.

    Parameters
    ----------
    lg : Ledger
        An open ledger.
    run_id : str
        The run's id.

    Returns
    -------
    tuple of (int, dict) or None
        The record's index [-] and fields, or ``None`` if the run was never logged.
    """
    for i in range(lg.size - 1, -1, -1):
        data, _ = lg.entry(i)
        rec = ledger.parse_record(data)
        if rec and rec.get("type") == "plan_run" and rec["fields"].get("run_id") == run_id:
            return i, rec["fields"]
    return None


def relog_run(con: duckdb.DuckDBPyConnection, run_id: str, ledger_path: Path) -> int:
    """Log a stored run that has no ledger record.

    For runs stored by a version that logged after the store, or before a ledger was restored:
    first checks that the stored results still hash to what was written with them. The record
    proves the run unaltered from now on, not before.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The run store.
    run_id : str
        A full run id.
    ledger_path : pathlib.Path
        The audit ledger.

    Returns
    -------
    int
        The new record's index [-].

    Raises
    ------
    InputError
        The run is already logged, or its stored results no longer hash to the stored hash.
    """
    run = get_run(con, run_id)
    if Path(ledger_path).exists():
        lg = ledger.Ledger(ledger_path, read_only=True)
        try:
            found = find_run_record(lg, run_id)
        finally:
            lg.close()
        if found is not None:
            raise InputError("run_id", run_id, f"a run not yet logged (it is entry {found[0]})")
    now = stored_results_sha256(con, run_id)
    if now != run["results_sha256"]:
        raise InputError(
            "run_id",
            run_id,
            "a run whose stored results still match their hash (these changed since the run "
            "was written: not logging them)",
        )
    plan_yaml = stored_plan_yaml(con, run_id)
    used = (run.get("summary") or {}).get("market_assumptions", {}).get("data_used", {})
    data = {name: d["sha256"] for name, d in used.items()}
    head = log_run(
        ledger_path, run_id, sha256_text(plan_yaml), run["seed"], run["version"], now, data
    )
    return head.size - 1


@dataclass
class RunVerification:
    run_id: str
    ok: bool
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    ledger_index: int | None = None
    head: dict[str, Any] | None = None


def verify_run(con: duckdb.DuckDBPyConnection, run_id: str, ledger_path: Path) -> RunVerification:
    """Prove a stored run was not altered since it was logged.

    Checks the plan hash, the results hash recomputed from the store, the ledger record's fields
    and the signed head's inclusion proof.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The run store.
    run_id : str
        A full run id.
    ledger_path : pathlib.Path
        The audit ledger.

    Returns
    -------
    RunVerification
        ``ok`` and each named check with its outcome and detail.
    """
    run = get_run(con, run_id)  # raises a named error for an unknown id
    plan_yaml = stored_plan_yaml(con, run_id)
    out = RunVerification(run_id, False)
    plan_now = sha256_text(plan_yaml)
    results_now = stored_results_sha256(con, run_id)
    out.checks.append(
        (
            "stored results hash matches the stored results",
            results_now == run["results_sha256"],
            results_now,
        )
    )
    if not ledger_path.exists():
        raise InputError("ledger_path", str(ledger_path), "the ledger this run store logs to")
    lg = ledger.Ledger(ledger_path, read_only=True)
    try:
        found = find_run_record(lg, run_id)
        record = None
        if found is not None:
            out.ledger_index, record = found
        if record is None:
            out.checks.append(("run is logged in the ledger", False, str(ledger_path)))
            return out
        out.checks.append(
            ("plan YAML matches the logged hash", record["plan_sha256"] == plan_now, plan_now)
        )
        out.checks.append(
            ("results match the logged hash", record["results_sha256"] == results_now, results_now)
        )
        bundle = ledger.proof_bundle(lg, present(out.ledger_index, "ledger_index"))
        ok, reason = ledger.verify_bundle(bundle, lg.public_key())
        out.checks.append(("ledger record is included under the signed head", ok, reason))
        out.head = bundle["head"]
    finally:
        lg.close()
    out.ok = all(c[1] for c in out.checks)
    return out
