"""Runs and their results in an embedded DuckDB file (``hashpivot.duckdb`` by default).

A run is written in one transaction after it has finished: the plan YAML and its SHA-256, the
seed, the package version, the summary metrics, per-month series, per-site results, the per-path
NPVs and the tornado. A run that fails or is killed before the commit leaves no trace, and
earlier runs stay intact (DuckDB's write-ahead log replays only committed transactions).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from ..engine.results import PlanResult, site_row
from ..errors import HashpivotError, InputError, StorageError
from ..files import atomic_file, write_folder
from ..locations import DEFAULT_DB
from ..units import FloatArray

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    created_utc TIMESTAMP NOT NULL,
    plan_name VARCHAR NOT NULL,
    plan_sha256 VARCHAR NOT NULL,
    plan_yaml VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    paths BIGINT NOT NULL,
    months INTEGER NOT NULL,
    version VARCHAR NOT NULL,
    summary_json VARCHAR NOT NULL,
    calibration_json VARCHAR NOT NULL,
    results_sha256 VARCHAR NOT NULL,
    report_path VARCHAR
);
CREATE TABLE IF NOT EXISTS run_series (
    run_id VARCHAR NOT NULL, series VARCHAR NOT NULL, month INTEGER NOT NULL,
    p5 DOUBLE, p25 DOUBLE, p50 DOUBLE, p75 DOUBLE, p95 DOUBLE, mean DOUBLE
);
CREATE TABLE IF NOT EXISTS run_sites (
    run_id VARCHAR NOT NULL, site VARCHAR NOT NULL, result_json VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS run_npv (
    run_id VARCHAR NOT NULL, path BIGINT NOT NULL, npv_usd DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS run_tornado (
    run_id VARCHAR NOT NULL, driver VARCHAR NOT NULL,
    low_npv_usd DOUBLE, high_npv_usd DOUBLE, base_npv_usd DOUBLE
);
CREATE TABLE IF NOT EXISTS backtests (
    backtest_id VARCHAR PRIMARY KEY,
    created_utc TIMESTAMP NOT NULL,
    version VARCHAR NOT NULL,
    first_origin DATE NOT NULL,
    last_origin DATE NOT NULL,
    step_months INTEGER NOT NULL,
    horizons VARCHAR NOT NULL,
    paths BIGINT NOT NULL,
    seed BIGINT NOT NULL,
    calibration_json VARCHAR NOT NULL,
    scores_json VARCHAR NOT NULL,
    data_sha256 VARCHAR NOT NULL,
    report_path VARCHAR
);
CREATE TABLE IF NOT EXISTS backtest_scores (
    backtest_id VARCHAR NOT NULL, process VARCHAR NOT NULL, horizon_months INTEGER NOT NULL,
    metric VARCHAR NOT NULL, value DOUBLE
);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id VARCHAR PRIMARY KEY,
    created_utc TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    plan_name VARCHAR NOT NULL,
    plan_sha256 VARCHAR NOT NULL,
    plan_yaml VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    design_json VARCHAR NOT NULL,
    n_variants INTEGER NOT NULL,
    paths BIGINT NOT NULL,
    seed_per_variant BOOLEAN NOT NULL,
    workers INTEGER,
    where_run VARCHAR,
    seconds DOUBLE,
    report_path VARCHAR
);
CREATE TABLE IF NOT EXISTS sweep_variants (
    sweep_id VARCHAR NOT NULL,
    variant INTEGER NOT NULL,
    overrides_json VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    npv_mean_usd DOUBLE NOT NULL,
    npv_p5_usd DOUBLE NOT NULL,
    npv_p50_usd DOUBLE NOT NULL,
    npv_p95_usd DOUBLE NOT NULL,
    p_default_json VARCHAR,
    p_cash_negative_json VARCHAR NOT NULL,
    decision_json VARCHAR,
    seconds DOUBLE NOT NULL,
    PRIMARY KEY (sweep_id, variant)
);
"""
#: A sweep that is still running (its variants arrive) or that finished whole.
SWEEP_RUNNING, SWEEP_COMPLETE = "running", "complete"
TABLES = ("runs", "run_series", "run_sites", "run_npv", "run_tornado")
#: A backtest's scalar figures, one row each in ``backtest_scores``.
BACKTEST_METRICS = ("crps", "spread_skill", "pit_mean", "origins", "independent_windows")


def sha256_text(text: str) -> str:
    """SHA-256 of ``text`` in UTF-8: the plan hash the ledger records.

    Parameters
    ----------
    text : str
        Any text (the effective plan YAML).

    Returns
    -------
    str
        The digest in hex.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def results_sha256(result: PlanResult) -> str:
    """Hash of the run's results: the summary JSON (canonical) and the per-path NPVs.

    Parameters
    ----------
    result : PlanResult
        A finished run.

    Returns
    -------
    str
        :func:`results_sha256_of` of its summary and NPVs, in hex.
    """
    return results_sha256_of(result.summary(), result.npv_values)


def results_sha256_of(summary: dict[str, Any], npv_usd: Any) -> str:
    """The one results hash: SHA-256 of the canonical summary JSON, then the NPVs.

    The NPVs are hashed as little-endian float64. The run (:func:`results_sha256`) and the store's
    copy of it (:func:`stored_results_sha256`) hash through here, so they cannot drift apart.

    Parameters
    ----------
    summary : dict
        The run's summary (``PlanResult.summary()``).
    npv_usd : array_like of float
        NPV of every path [USD], in path order.

    Returns
    -------
    str
        The digest in hex.
    """
    h = hashlib.sha256()
    h.update(json.dumps(summary, sort_keys=True, default=float).encode())
    h.update(np.ascontiguousarray(np.asarray(npv_usd, dtype=np.float64), dtype="<f8").tobytes())
    return h.hexdigest()


#: How long opening the store waits for another process's write to finish [s].
LOCK_WAIT_S = 10.0


def connect(
    path: str | Path = DEFAULT_DB, read_only: bool = False, wait_s: float = LOCK_WAIT_S
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the run store, a DuckDB file.

    Runs hold the store only while they write their final transaction, so a reader or a second
    writer that finds it locked waits up to ``wait_s`` seconds, then gets a one-line error.

    Parameters
    ----------
    path : str or pathlib.Path
        The store's file (default ``hashpivot.duckdb``, :data:`~hashpivot.locations.DEFAULT_DB`).
    read_only : bool
        Open for reading only (the file must exist).
    wait_s : float
        Longest wait for a lock held by another process [s].

    Returns
    -------
    duckdb.DuckDBPyConnection
        An open connection with the schema in place.

    Raises
    ------
    StorageError
        Locked past ``wait_s``, not a DuckDB file, or not writable.
    """
    p = Path(path)
    if read_only and not p.exists():
        raise InputError("db", str(p), "an existing hashpivot DuckDB file")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = duckdb.connect(str(p), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower() and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            if "lock" in str(exc).lower():
                raise StorageError(
                    f"--db: the run store {str(p)!r} is busy (another process is writing a run); "
                    "try again in a moment"
                ) from None
            raise StorageError(f"--db: cannot open {str(p)!r}: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise HashpivotError(f"--db: cannot open {str(p)!r}: {_first_line(exc)}") from None
    if not read_only:
        try:
            con.execute(SCHEMA)
        except duckdb.Error as exc:
            con.close()
            raise StorageError(f"--db: cannot write {str(p)!r}: {_first_line(exc)}") from None
        except RuntimeError as exc:
            # DuckDB answers a Ctrl-C inside a query with RuntimeError("Query interrupted"):
            # it is the user's interrupt, so it travels as one (the CLI reports it, exit 130).
            con.close()
            if "interrupted" in str(exc).lower():
                raise KeyboardInterrupt from None
            raise
    return con


def check_writable(path: str | Path) -> None:
    """Open the store for writing and close it again.

    A bad path, a read-only medium or a corrupt file fails here, before a run's long part, and no
    lock is held meanwhile.

    Parameters
    ----------
    path : str or pathlib.Path
        The store's file.

    Raises
    ------
    StorageError
        The store cannot be opened for writing.
    """
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"--db: cannot create {str(path)!r}: {exc.strerror}") from None
    connect(path).close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def new_run_id() -> str:
    """A run id: the UTC time to the microsecond and six random hex digits."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


@contextlib.contextmanager
def all_or_nothing(con: duckdb.DuckDBPyConnection, what: str) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back on any error.

    A database error becomes a :class:`StorageError` naming ``what`` and the cause (never the
    rollback's own complaint); any other error (an interrupt) travels on unchanged.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    what : str
        What is written, for the error (``"run 2026…"``).

    Yields
    ------
    None
        Inside the transaction.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # a failed COMMIT has already ended the transaction
        if isinstance(exc, duckdb.Error):
            raise StorageError(
                f"--db: {what} was not stored (nothing of it was written): {_first_line(exc)}"
            ) from None
        raise


def save_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    result: PlanResult,
    plan_yaml: str,
    report_path: str | None,
) -> None:
    """Write a finished run in a single transaction.

    A failure (a full disk) rolls it back and raises :class:`StorageError` naming the cause, never
    a rollback's own complaint.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        The run's new id.
    result : PlanResult
        The finished run.
    plan_yaml : str
        The effective plan (after overrides) as YAML.
    report_path : str or None
        Where the HTML report was written, if it was.
    """
    summary = result.summary()  # computed once per result, shared with the report and ledger
    series: list[tuple[Any, ...]] = []
    for name in result.fans:
        fan = result.fans[name]
        for t in range(result.n_months):
            series.append(
                (run_id, name, t, fan.p5[t], fan.p25[t], fan.p50[t], fan.p75[t], fan.p95[t],
                 fan.mean[t])
            )  # fmt: skip
    for name in ("p_cash_negative", "p_cash_negative_ever"):
        for t, v in enumerate(getattr(result, name)):
            series.append((run_id, name, t, None, None, None, None, None, v))
    series_df = pd.DataFrame(
        series, columns=["run_id", "series", "month", "p5", "p25", "p50", "p75", "p95", "mean"]
    )
    npv_df = pd.DataFrame(
        {"run_id": run_id, "path": np.arange(result.npv_values.size), "npv_usd": result.npv_values}
    )
    try:
        with all_or_nothing(con, f"run {run_id}"):
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    result.plan_name,
                    sha256_text(plan_yaml),
                    plan_yaml,
                    result.seed,
                    result.n_paths,
                    result.n_months,
                    result.version,
                    json.dumps(summary, default=float),
                    json.dumps(dict(result.calibration), default=float),
                    results_sha256(result),
                    report_path,
                ],
            )
            con.register("series_df", series_df)
            con.execute("INSERT INTO run_series SELECT * FROM series_df")
            con.register("npv_df", npv_df)
            con.execute("INSERT INTO run_npv SELECT * FROM npv_df")
            con.executemany(
                "INSERT INTO run_sites VALUES (?, ?, ?)",
                [[run_id, s.name, json.dumps(s.to_dict(), default=float)] for s in result.sites],
            )
            if result.tornado:
                con.executemany(
                    "INSERT INTO run_tornado VALUES (?, ?, ?, ?, ?)",
                    [
                        [run_id, r.driver, r.low_npv_usd, r.high_npv_usd, r.base_npv_usd]
                        for r in result.tornado
                    ],
                )
    finally:
        for view in ("series_df", "npv_df"):
            con.unregister(view)


def backtest_rows(backtest_id: str, record: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A backtest's figures as rows ``(id, process, horizon, metric, value)``.

    Parameters
    ----------
    backtest_id : str
        The backtest's id.
    record : dict
        The ``hashpivot backtest --json`` keys.

    Returns
    -------
    list of tuple
        Coverage rates (and their shares below and above, and the interval's ends), CRPS of the
        model and both baselines, spread-skill, mean PIT and the counts, per process and horizon.
    """
    rows: list[tuple[Any, ...]] = []
    for process, by_h in record["coverage_90"].items():
        for h in by_h:
            for name in ("coverage_90", "coverage_50"):
                c = record[name][process][h]
                lo, hi = c["interval_90"]
                for key, v in (("", c["rate"]), ("_below", c["below"]), ("_above", c["above"]),
                               ("_lo", lo), ("_hi", hi)):  # fmt: skip
                    rows.append((backtest_id, process, int(h), name + key, v))
            for name in BACKTEST_METRICS:
                rows.append((backtest_id, process, int(h), name, record[name][process][h]))
            for base, v in record["baseline_crps"][process][h].items():
                rows.append((backtest_id, process, int(h), f"crps_{base}", v))
    return rows


def save_backtest(
    con: duckdb.DuckDBPyConnection,
    backtest_id: str,
    record: dict[str, Any],
    data_sha256: str,
    report_path: str | None,
) -> None:
    """Write a finished backtest in one transaction (all of it or nothing).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    backtest_id : str
        Its new id (:func:`new_run_id`).
    record : dict
        The ``hashpivot backtest --json`` keys.
    data_sha256 : str
        SHA-256 of the history it read (the daily network data).
    report_path : str or None
        Where its HTML report was written.

    Raises
    ------
    StorageError
        The store refused the write (nothing of the backtest was written).
    """
    days = record["origin_days"]
    with all_or_nothing(con, f"backtest {backtest_id}"):
        con.execute(
            "INSERT INTO backtests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                backtest_id,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                record["version"],
                days[0],
                days[-1],
                record["step_months"],
                ",".join(str(h) for h in record["horizons"]),
                record["paths"],
                record["seed"],
                json.dumps(record["calibration"], sort_keys=True),
                json.dumps(record, default=float),
                data_sha256,
                report_path,
            ],
        )
        rows = backtest_rows(backtest_id, record)
        if rows:  # none when no horizon had two outcomes to score
            con.executemany("INSERT INTO backtest_scores VALUES (?, ?, ?, ?, ?)", rows)


def list_backtests(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every stored backtest, oldest first, with its calibration.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.

    Returns
    -------
    list of dict
        ``backtest_id``, ``created_utc``, ``first_origin``, ``last_origin``, ``step_months``,
        ``horizons``, ``paths``, ``seed``, ``calibration``, ``data_sha256``, ``report_path``.
    """
    rows = con.execute(
        "SELECT backtest_id, created_utc, first_origin, last_origin, step_months, horizons, "
        "paths, seed, calibration_json, data_sha256, report_path FROM backtests "
        "ORDER BY created_utc, backtest_id"
    ).fetchall()
    keys = ("backtest_id", "created_utc", "first_origin", "last_origin", "step_months",
            "horizons", "paths", "seed", "calibration", "data_sha256", "report_path")  # fmt: skip
    out = []
    for r in rows:
        d = dict(zip(keys, r, strict=True))
        d["calibration"] = json.loads(d["calibration"])
        for k in ("created_utc", "first_origin", "last_origin"):
            d[k] = str(d[k])
        out.append(d)
    return out


def get_backtest(con: duckdb.DuckDBPyConnection, backtest_id: str) -> dict[str, Any]:
    """A stored backtest's record (the ``--json`` keys).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    backtest_id : str
        Its id.

    Returns
    -------
    dict
        The record as it was written.

    Raises
    ------
    InputError
        No backtest has that id.
    """
    row = con.execute(
        "SELECT scores_json FROM backtests WHERE backtest_id = ?", [backtest_id]
    ).fetchone()
    if row is None:
        raise InputError("backtest_id", backtest_id, "the id of a stored backtest")
    return dict(json.loads(row[0]))


def list_runs(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every stored run, oldest first.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.

    Returns
    -------
    list of dict
        Per run: ``run_id``, ``created_utc`` (ISO time), ``plan``, ``paths``, ``months``,
        ``seed``, ``npv_usd_mean`` [USD] and ``report_path``.
    """
    rows = con.execute(
        "SELECT run_id, created_utc, plan_name, paths, months, seed, summary_json, report_path "
        "FROM runs ORDER BY created_utc, run_id"
    ).fetchall()
    out = []
    for run_id, created, name, paths, months, seed, summary, report in rows:
        s = json.loads(summary)
        out.append(
            {
                "run_id": run_id,
                "created_utc": created.isoformat(),
                "plan": name,
                "paths": paths,
                "months": months,
                "seed": seed,
                "npv_usd_mean": s["npv_usd"]["mean"],
                "report_path": report,
            }
        )
    return out


def resolve_run_id(con: duckdb.DuckDBPyConnection, ref: str) -> str:
    """The stored run ``ref`` names.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    ref : str
        An exact id, ``latest`` (the newest run), or a prefix that only one stored id starts with.

    Returns
    -------
    str
        The full run id.

    Raises
    ------
    InputError
        No run, or more than one, matches ``ref``.
    """
    rows = con.execute("SELECT run_id FROM runs ORDER BY created_utc, run_id").fetchall()
    ids = [r[0] for r in rows]
    if ref in ids:
        return ref
    if ref == "latest" and ids:
        return ids[-1]
    matches = [i for i in ids if ref and i.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InputError(
            "run_id", ref, "a prefix of one run only; it matches " + ", ".join(matches[:10])
        )
    raise InputError(
        "run_id",
        ref,
        "latest, a stored run id or a unique prefix of one: " + (", ".join(ids[-20:]) or "(none)"),
    )


def get_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """One stored run's metadata, summary and calibration.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id (see :func:`resolve_run_id`).

    Returns
    -------
    dict
        The run's row with ``summary`` and ``calibration`` decoded from JSON.

    Raises
    ------
    InputError
        Unknown ``run_id``.
    """
    row = con.execute(
        "SELECT run_id, created_utc, plan_name, plan_sha256, seed, paths, months, version, "
        "summary_json, calibration_json, results_sha256, report_path FROM runs WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        known = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]
        raise InputError(
            "run_id", run_id, "one of the stored runs: " + (", ".join(known) or "(none)")
        )
    keys = [
        "run_id",
        "created_utc",
        "plan",
        "plan_sha256",
        "seed",
        "paths",
        "months",
        "version",
        "summary",
        "calibration",
        "results_sha256",
        "report_path",
    ]
    out = dict(zip(keys, row, strict=True))
    out["created_utc"] = out["created_utc"].isoformat()
    out["summary"] = json.loads(out["summary"])
    out["calibration"] = json.loads(out["calibration"])
    return out


def export_run(con: duckdb.DuckDBPyConnection, run_id: str, directory: str | Path) -> list[Path]:
    """Write every table's rows of ``run_id`` to ``DIR/<table>.parquet``, all or nothing.

    Written through :func:`~hashpivot.files.write_folder`; pandas reads the files with pyarrow.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.
    directory : str or pathlib.Path
        The folder to create (it must not hold earlier exports).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    get_run(con, run_id)  # raises if unknown
    rid = run_id.replace("'", "''")

    def copy(name: str, out: Path) -> None:
        table, path = name.removesuffix(".parquet"), str(out).replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM {table} WHERE run_id = '{rid}') TO '{path}' (FORMAT PARQUET)"
        )

    return write_folder(directory, [f"{table}.parquet" for table in TABLES], copy)


# --------------------------------------------------------------------------- tables people open
#: The sheets of ``runs export --xlsx`` (and the files of ``--csv``), in order.
EXPORT_SHEETS = ("summary", "sites", "fans", "npv_distribution", "assumptions")


def _flatten(prefix: str, value: Any, rows: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, rows)
    elif isinstance(value, list) and value and not all(isinstance(v, int | float) for v in value):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, rows)
    else:
        rows.append((prefix, json.dumps(value) if isinstance(value, list) else value))


def run_frames(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, pd.DataFrame]:
    """One stored run as the tables a spreadsheet user reads (:data:`EXPORT_SHEETS`).

    Units are in the column names: the headline numbers as key/value rows, one row per site, the
    fan quantiles by series and month, every path's NPV, and the assumptions (the plan's sourced
    ones, the market's and the calibration).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per sheet name, in :data:`EXPORT_SHEETS` order.
    """
    run = get_run(con, run_id)
    meta = {k: run[k] for k in ("run_id", "created_utc", "plan", "plan_sha256", "seed", "paths",
                                "months", "version", "results_sha256")}  # fmt: skip
    rows: list[tuple[str, Any]] = []
    _flatten("", meta | {k: v for k, v in run["summary"].items() if k != "market_assumptions"},
             rows)  # fmt: skip
    summary = pd.DataFrame(rows, columns=["key", "value"])
    sites = [
        site_row(json.loads(text))
        for (text,) in con.execute(
            "SELECT result_json FROM run_sites WHERE run_id = ? ORDER BY rowid", [run_id]
        ).fetchall()
    ]
    fans = con.execute(
        "SELECT series, month AS month_index, p5, p25, p50, p75, p95, mean FROM run_series "
        "WHERE run_id = ? ORDER BY series, month",
        [run_id],
    ).df()
    values = stored_npv(con, run_id)
    npv = pd.DataFrame({"path": np.arange(values.size), "npv_usd": values})
    plan_yaml = con.execute("SELECT plan_yaml FROM runs WHERE run_id = ?", [run_id]).fetchone()
    plan = yaml.safe_load(plan_yaml[0]) if plan_yaml else {}
    assumptions = [
        ("plan", str(a.get("what", "")), str(a.get("value", "")), str(a.get("source", "")))
        for a in (plan.get("assumptions") or [])
        if isinstance(a, dict)
    ]
    market: list[tuple[str, Any]] = []
    _flatten("", run["summary"].get("market_assumptions", {}), market)
    calibration: list[tuple[str, Any]] = []
    _flatten("", run["calibration"], calibration)
    assumptions += [("market", k, str(v), "hashpivot calibration") for k, v in market]
    assumptions += [("calibration", k, str(v), "hashpivot calibration") for k, v in calibration]
    return {
        "summary": summary,
        "sites": pd.DataFrame(sites),
        "fans": fans,
        "npv_distribution": npv,
        "assumptions": pd.DataFrame(assumptions, columns=["kind", "what", "value", "source"]),
    }


def export_xlsx(con: duckdb.DuckDBPyConnection, run_id: str, path: str | Path) -> Path:
    """Write one run as an Excel workbook (sheets :data:`EXPORT_SHEETS`, written by openpyxl).

    Atomic: a temporary file beside ``path`` is renamed into place when complete.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.
    path : str or pathlib.Path
        The workbook to write (``.xlsx``).

    Returns
    -------
    pathlib.Path
        The workbook written.
    """
    frames = run_frames(con, run_id)
    with atomic_file(path, suffix=".xlsx") as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name in EXPORT_SHEETS:
            frames[name].to_excel(xl, sheet_name=name, index=False)
    return Path(path)


def export_csv(con: duckdb.DuckDBPyConnection, run_id: str, directory: str | Path) -> list[Path]:
    """Write one run as ``DIR/<sheet>.csv`` (:data:`EXPORT_SHEETS`), all or nothing.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.
    directory : str or pathlib.Path
        The folder to create.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    frames = run_frames(con, run_id)
    return write_folder(
        directory,
        [f"{name}.csv" for name in EXPORT_SHEETS],
        lambda name, out: frames[name.removesuffix(".csv")].to_csv(out, index=False),
    )


# --------------------------------------------------------------------------- reading one run back
def stored_plan_yaml(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The effective plan YAML a stored run was made from.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.

    Returns
    -------
    str
        The YAML, byte for byte as stored.
    """
    row = con.execute("SELECT plan_yaml FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        get_run(con, run_id)  # raises the named error for an unknown id
        raise AssertionError("unreachable")  # pragma: no cover
    return str(row[0])


def stored_npv(con: duckdb.DuckDBPyConnection, run_id: str) -> FloatArray:
    """The NPV of every path of a stored run, in path order.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.

    Returns
    -------
    numpy.ndarray of float
        NPV per path [USD].
    """
    npv: FloatArray = con.execute(
        "SELECT npv_usd FROM run_npv WHERE run_id = ? ORDER BY path", [run_id]
    ).fetchnumpy()["npv_usd"]
    return npv


def stored_results_sha256(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The results hash recomputed from what the store holds, for ``runs verify``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.

    Returns
    -------
    str
        :func:`results_sha256_of` of the stored summary and NPVs, in hex.
    """
    return results_sha256_of(get_run(con, run_id)["summary"], stored_npv(con, run_id))


def stored_series(
    con: duckdb.DuckDBPyConnection, run_id: str
) -> dict[str, dict[str, list[float | None]]]:
    """The monthly fans (and P(cash < 0) series) of a stored run.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    run_id : str
        A full run id.

    Returns
    -------
    dict
        Series name → band (``p5`` … ``p95``) → values by month, in the series' unit (``None``
        where a month has no value).
    """
    rows = con.execute(
        "SELECT series, month, p5, p25, p50, p75, p95, mean FROM run_series "
        "WHERE run_id = ? ORDER BY series, month",
        [run_id],
    ).fetchall()
    bands = ("p5", "p25", "p50", "p75", "p95", "mean")
    series: dict[str, dict[str, list[float | None]]] = {}
    for name, _, *values in rows:
        s = series.setdefault(name, {k: [] for k in bands})
        for k, v in zip(bands, values, strict=True):
            s[k].append(v)
    return series


# --------------------------------------------------------------------------- sweeps
# A sweep is written as it runs: its row first (status "running"), then its variants as they
# arrive, each batch one transaction, and "complete" last. A cancelled or failed sweep is deleted
# whole (discard_sweep); readers list complete sweeps only unless asked, so nothing half-done is
# ever shown as a result.


def begin_sweep(
    con: duckdb.DuckDBPyConnection,
    sweep_id: str,
    *,
    plan_name: str,
    plan_yaml: str,
    version: str,
    design: dict[str, Any],
    n_variants: int,
    paths: int,
    seed_per_variant: bool,
    workers: int,
    where_run: str,
) -> None:
    """Write a new sweep's row, status ``running``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    sweep_id : str
        Its new id (:func:`new_run_id`).
    plan_name : str
        The base plan's name.
    plan_yaml : str
        The base plan's effective YAML (with ``--set`` and ``--paths``).
    version : str
        hashpivot's version.
    design : dict
        The varied keys: ``{"grid": [{key, values}], "lhs": {"points", "ranges"}}``.
    n_variants : int
        Variants in the sweep [-].
    paths : int
        Paths of each variant [-].
    seed_per_variant : bool
        Whether each variant has its own seed.
    workers : int
        Workers it runs on [-].
    where_run : str
        Where it runs, in words.
    """
    with all_or_nothing(con, f"sweep {sweep_id}"):
        con.execute(
            "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            [
                sweep_id,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                SWEEP_RUNNING,
                plan_name,
                sha256_text(plan_yaml),
                plan_yaml,
                version,
                json.dumps(design, sort_keys=True),
                n_variants,
                paths,
                seed_per_variant,
                workers,
                where_run,
            ],
        )


def add_sweep_variants(
    con: duckdb.DuckDBPyConnection, sweep_id: str, rows: list[dict[str, Any]]
) -> None:
    """Append finished variants (their ``to_dict()`` forms) in one transaction.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    sweep_id : str
        The sweep.
    rows : list of dict
        :meth:`hashpivot.engine.sweep.VariantResult.to_dict` of each.
    """
    if not rows:
        return
    with all_or_nothing(con, f"sweep {sweep_id}'s variants"):
        con.executemany(
            "INSERT INTO sweep_variants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    sweep_id,
                    r["index"],
                    json.dumps(r["overrides"]),  # in the order the keys were varied
                    r["seed"],
                    r["npv_usd"]["mean"],
                    r["npv_usd"]["p5"],
                    r["npv_usd"]["p50"],
                    r["npv_usd"]["p95"],
                    None if r["p_default"] is None else json.dumps(r["p_default"]),
                    json.dumps(r["p_cash_negative"]),
                    None if r["decision"] is None else json.dumps(r["decision"], sort_keys=True),
                    r["seconds"],
                ]
                for r in rows
            ],
        )


def finish_sweep(
    con: duckdb.DuckDBPyConnection, sweep_id: str, seconds: float, report_path: str | None
) -> None:
    """Mark a sweep whose every variant is stored ``complete``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    sweep_id : str
        The sweep.
    seconds : float
        Its wall time [s].
    report_path : str or None
        Its HTML report.

    Raises
    ------
    StorageError
        Not every variant is stored (nothing is changed).
    """
    with all_or_nothing(con, f"sweep {sweep_id}"):
        row = con.execute(
            "SELECT s.n_variants, count(v.variant) FROM sweeps s LEFT JOIN sweep_variants v "
            "USING (sweep_id) WHERE sweep_id = ? GROUP BY s.n_variants",
            [sweep_id],
        ).fetchone()
        if row is None or row[0] != row[1]:
            raise StorageError(
                f"sweep {sweep_id}: {0 if row is None else row[1]} of "
                f"{0 if row is None else row[0]} variants stored; not marked complete"
            )
        con.execute(
            "UPDATE sweeps SET status = ?, seconds = ?, report_path = ? WHERE sweep_id = ?",
            [SWEEP_COMPLETE, seconds, report_path, sweep_id],
        )


def discard_sweep(con: duckdb.DuckDBPyConnection, sweep_id: str) -> None:
    """Delete a sweep and its variants (a cancelled or failed one), in one transaction.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    sweep_id : str
        The sweep.
    """
    with all_or_nothing(con, f"sweep {sweep_id}'s removal"):
        con.execute("DELETE FROM sweep_variants WHERE sweep_id = ?", [sweep_id])
        con.execute("DELETE FROM sweeps WHERE sweep_id = ?", [sweep_id])


SWEEP_KEYS = ("sweep_id", "created_utc", "status", "plan_name", "plan_sha256", "version",
              "design", "n_variants", "paths", "seed_per_variant", "workers", "where_run",
              "seconds", "report_path")  # fmt: skip


def _sweep_rows(
    con: duckdb.DuckDBPyConnection, where: str, params: list[Any]
) -> list[dict[str, Any]]:
    """Rows of ``sweeps`` matching ``where`` (SQL with ``?`` for ``params``), oldest first."""
    rows = con.execute(
        "SELECT sweep_id, created_utc, status, plan_name, plan_sha256, version, design_json, "
        "n_variants, paths, seed_per_variant, workers, where_run, seconds, report_path "
        f"FROM sweeps WHERE {where} ORDER BY created_utc, sweep_id",
        params,
    ).fetchall()
    out = []
    for r in rows:
        d = dict(zip(SWEEP_KEYS, r, strict=True))
        d["created_utc"] = str(d["created_utc"])
        d["design"] = json.loads(d["design"])
        out.append(d)
    return out


def list_sweeps(con: duckdb.DuckDBPyConnection, everything: bool = False) -> list[dict[str, Any]]:
    """Stored sweeps, oldest first: complete ones, or all with ``everything``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    everything : bool
        Include sweeps still running (or left by a killed process).

    Returns
    -------
    list of dict
        :data:`SWEEP_KEYS` of each.
    """
    if everything:
        return _sweep_rows(con, "TRUE", [])
    return _sweep_rows(con, "status = ?", [SWEEP_COMPLETE])


def get_sweep(con: duckdb.DuckDBPyConnection, sweep_id: str) -> dict[str, Any]:
    """A stored sweep with its variants in variant order.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`connect`.
    sweep_id : str
        Its id.

    Returns
    -------
    dict
        :data:`SWEEP_KEYS`, ``variants_done`` and ``rows``: each variant's
        ``VariantResult.to_dict()`` form.

    Raises
    ------
    InputError
        No sweep has that id.
    """
    found = _sweep_rows(con, "sweep_id = ?", [sweep_id])
    if not found:
        raise InputError("sweep_id", sweep_id, "the id of a stored sweep (hashpivot sweeps list)")
    rows = con.execute(
        "SELECT variant, overrides_json, seed, npv_mean_usd, npv_p5_usd, npv_p50_usd, "
        "npv_p95_usd, p_default_json, p_cash_negative_json, decision_json, seconds "
        "FROM sweep_variants WHERE sweep_id = ? ORDER BY variant",
        [sweep_id],
    ).fetchall()
    variants = [
        {
            "index": r[0],
            "overrides": json.loads(r[1]),
            "seed": r[2],
            "npv_usd": {"mean": r[3], "p5": r[4], "p50": r[5], "p95": r[6]},
            "p_default": None if r[7] is None else json.loads(r[7]),
            "p_cash_negative": json.loads(r[8]),
            "decision": None if r[9] is None else json.loads(r[9]),
            "seconds": r[10],
        }
        for r in rows
    ]
    return found[0] | {"variants_done": len(variants), "rows": variants}
