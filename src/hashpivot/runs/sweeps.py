"""Run a sweep end to end — validate every variant, pick the executor, run, store as results
arrive, write the report — for ``hashpivot sweep``.

The order keeps every fault before the first task or leaves nothing behind:

1. the design and every variant are validated (a key outside the schema, a value outside its
   range: one named error), the run store is opened and closed, and the executor is opened (an
   unreachable scheduler, one without workers or with other software: named errors) — all
   before any task;
2. the sweep's row is written, status ``running``; each variant is stored as it arrives
   (batches of one transaction, at most one a second), so a long sweep shows its progress;
3. the report is written atomically and the sweep marked ``complete``.

A failure or an interrupt (Ctrl-C) at 2 or 3 cancels the remaining tasks and deletes the sweep
whole; earlier runs and sweeps are intact. A killed process leaves a ``running`` sweep, which no
reader shows as a result (``hashpivot sweeps list --all`` shows it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.models import load_plan_text
from ..engine import sweep as sweeping
from ..errors import HashpivotError, StorageError
from ..executor import SMALL_WORK_PATHS, Executor, open_executor
from ..files import write_atomic
from ..reports import sweep as report
from ..version import __version__
from . import store

#: Longest wait between two writes of arriving variants [s].
FLUSH_EVERY_S = 1.0


@dataclass(frozen=True)
class SweepRun:
    """A finished sweep: what ``hashpivot sweep`` prints.

    Parameters
    ----------
    sweep_id : str
        Its id in the store.
    report_path : str
        Its HTML report.
    results : tuple of VariantResult
        Every variant, in variant order.
    keys : tuple of str
        The varied keys, in order.
    heat_maps : tuple of HeatMap
        One per pair of keys.
    tornado : tuple of SweepTornadoRow
        Widest swing first.
    seconds : float
        Wall time from the first task to the last result [s].
    workers : int
        Workers it ran on [-].
    where : str
        Where it ran, in words.
    """

    sweep_id: str
    report_path: str
    results: tuple[sweeping.VariantResult, ...]
    keys: tuple[str, ...]
    heat_maps: tuple[sweeping.HeatMap, ...]
    tornado: tuple[sweeping.SweepTornadoRow, ...]
    seconds: float
    workers: int
    where: str

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` keys: ``sweep_id``, ``variants[]``, ``seconds``, ``workers`` …"""
        return {
            "sweep_id": self.sweep_id,
            "report_path": self.report_path,
            "keys": list(self.keys),
            "variants": [r.to_dict() for r in self.results],
            "heat_maps": [m.to_dict() for m in self.heat_maps],
            "tornado": [t.to_dict() for t in self.tornado],
            "seconds": self.seconds,
            "workers": self.workers,
            "where": self.where,
        }


@dataclass(frozen=True)
class SweepSpec:
    """A sweep as asked for, before anything runs.

    Parameters
    ----------
    vary : sequence of str
        ``--vary`` items.
    ranges : sequence of str
        ``--range`` items.
    lhs : int or None
        ``--lhs`` points.
    sets : sequence of str
        ``--set`` items applied to every variant.
    paths : int or None
        Paths per variant (``None``: the plan's).
    seed_per_variant : bool
        Each variant its own seed (keyed by its index).
    """

    vary: Sequence[str] = ()
    ranges: Sequence[str] = ()
    lhs: int | None = None
    sets: Sequence[str] = ()
    paths: int | None = None
    seed_per_variant: bool = False


def prepare(
    plan_yaml: str, source: str, spec: SweepSpec
) -> tuple[list[sweeping.Variant], dict[str, Any], str]:
    """Step 1's validation: the design and every variant.

    Parameters
    ----------
    plan_yaml : str
        The base plan's YAML text.
    source : str
        Its file name.
    spec : SweepSpec
        The sweep asked for.

    Returns
    -------
    tuple of (list of Variant, dict, str)
        The variants, the design (stored with the sweep) and the base plan's effective YAML.
    """
    base, base_yaml = load_plan_text(plan_yaml, source, list(spec.sets), paths=spec.paths)
    axes = [sweeping.parse_vary(v) for v in spec.vary]
    ranges = [sweeping.parse_range(r) for r in spec.ranges]
    points = sweeping.design(axes, ranges, spec.lhs, base.seed)
    items = sweeping.variants(
        plan_yaml,
        source,
        points,
        sets=spec.sets,
        paths=spec.paths,
        seed_per_variant=spec.seed_per_variant,
    )
    design = {
        "grid": [{"key": a.key, "values": list(a.values)} for a in axes],
        "lhs": None
        if spec.lhs is None
        else {
            "points": spec.lhs,
            "ranges": [{"key": r.key, "low": r.low, "high": r.high} for r in ranges],
        },
    }
    return items, design, base_yaml


def is_small(items: Sequence[sweeping.Variant]) -> bool:
    """Whether a sweep is small enough to run in this process by default: fewer than
    :data:`~hashpivot.executor.SMALL_WORK_PATHS` paths in all and no decisions (a plan with
    alternatives values each of them, seconds a variant whatever its paths).

    Parameters
    ----------
    items : sequence of Variant
        The sweep's variants.

    Returns
    -------
    bool
        ``True``: in this process.
    """
    if any(v.plan.has_alternatives for v in items):
        return False
    return sum(v.plan.paths for v in items) < SMALL_WORK_PATHS


def execute_sweep(
    plan_yaml: str,
    source: str,
    spec: SweepSpec,
    *,
    db: Path,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> SweepRun:
    """Validate, run, store and report a sweep (see the module docstring).

    Parameters
    ----------
    plan_yaml : str
        The base plan's YAML text.
    source : str
        Its file name, for errors.
    spec : SweepSpec
        The sweep asked for.
    db : pathlib.Path
        The run store.
    out : pathlib.Path
        Folder of the report (``OUT/SWEEP_ID/sweep.html``).
    workers : int or None
        ``--workers`` [-]: 0 in this process, N a LocalCluster of N processes.
    scheduler : str or None
        ``--scheduler``: a running Dask scheduler.
    executor : Executor or None
        An executor already open (used as is and left open); overrides the two above.
    progress : callable or None
        Called as ``progress(done, total)`` [-] as variants arrive.
    announce : callable or None
        Told where the sweep runs, once, before the first task.

    Returns
    -------
    SweepRun
        The finished sweep.
    """
    items, design, base_yaml = prepare(plan_yaml, source, spec)
    store.check_writable(db)
    own = executor is None
    ex = executor or open_executor(workers, scheduler, small=is_small(items), tasks=len(items))
    try:
        if announce:
            announce(f"sweep of {len(items)} variants {ex.where}")
        return _run(items, design, base_yaml, ex, db=db, out=out, progress=progress)
    finally:
        if own:
            ex.close()


def _run(
    items: list[sweeping.Variant],
    design: dict[str, Any],
    base_yaml: str,
    ex: Executor,
    *,
    db: Path,
    out: Path,
    progress: Callable[[int, int], None] | None,
) -> SweepRun:
    sweep_id = store.new_run_id()
    base = items[0].plan
    meta: dict[str, Any] = {  # the sweep's row: stored first, and the report's heading
        "plan_name": base.name,
        "version": __version__,
        "n_variants": len(items),
        "paths": base.paths,
        "seed_per_variant": any("seed" in v.overrides for v in items),
        "workers": ex.workers,
        "where_run": ex.where,
    }
    pending: list[dict[str, Any]] = []
    last = time.monotonic()

    def flush() -> None:
        nonlocal last
        if pending:
            with store.connect(db) as con:
                store.add_sweep_variants(con, sweep_id, pending)
            pending.clear()
        last = time.monotonic()

    def arrived(result: sweeping.VariantResult, done: int) -> None:
        pending.append(result.to_dict())
        if time.monotonic() - last >= FLUSH_EVERY_S or done == len(items):
            flush()
        if progress:
            progress(done, len(items))

    try:
        with store.connect(db) as con:
            store.begin_sweep(con, sweep_id, plan_yaml=base_yaml, design=design, **meta)
        start = time.perf_counter()
        results = sweeping.collect(sweeping.run_sweep(items, ex), len(items), arrived)
        seconds = time.perf_counter() - start
        keys = sweeping.varied_keys(results)
        drawn = lhs_keys(design)
        maps = sweeping.heat_maps(results, drawn)
        tornado = sweeping.sweep_tornado(results, drawn)
        report_path = Path(out) / sweep_id / "sweep.html"
        row = {"sweep_id": sweep_id, "seconds": seconds, **meta}
        try:
            write_atomic(report_path, report.render(row, results, maps, tornado, keys))
        except OSError as exc:
            raise StorageError(
                f"--out: the sweep's report {report_path} could not be written ({exc.strerror}); "
                "the sweep was not stored"
            ) from None
        with store.connect(db) as con:
            store.finish_sweep(con, sweep_id, seconds, str(report_path))
    except BaseException:
        _discard(db, sweep_id)
        raise
    return SweepRun(
        sweep_id,
        str(report_path),
        tuple(results),
        tuple(keys),
        tuple(maps),
        tuple(tornado),
        seconds,
        ex.workers,
        ex.where,
    )


def _discard(db: Path, sweep_id: str) -> None:
    """Delete a sweep that did not finish; a store that cannot be opened now keeps it as
    ``running`` (never shown as a result)."""
    try:
        with store.connect(db) as con:
            store.discard_sweep(con, sweep_id)
    except (HashpivotError, OSError):
        pass


def lhs_keys(design: dict[str, Any]) -> list[str]:
    """The keys a sweep's Latin hypercube drew (from its stored design).

    Parameters
    ----------
    design : dict
        The sweep's ``design`` (:func:`prepare`).

    Returns
    -------
    list of str
        In the order of ``--range``.
    """
    return [r["key"] for r in (design.get("lhs") or {}).get("ranges", [])]


def stored_sweep(con: Any, sweep_id: str) -> dict[str, Any]:
    """A stored sweep with its variants, heat maps and tornado (``GET /api/sweeps/{id}``,
    ``hashpivot sweeps show``): the reductions the report draws, recomputed from the rows.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        From :func:`hashpivot.runs.store.connect`.
    sweep_id : str
        The sweep.

    Returns
    -------
    dict
        :func:`hashpivot.runs.store.get_sweep`'s keys with ``variants`` (the rows),
        ``keys``, ``table`` (the variants formatted as the report shows them), ``heat_maps``
        and ``tornado``.
    """
    d = store.get_sweep(con, sweep_id)
    rows = d.pop("rows")
    results = [sweeping.VariantResult.from_dict(r) for r in rows]
    drawn = lhs_keys(d["design"])
    keys = sweeping.varied_keys(results)
    columns, cells = sweeping.variant_table(results, keys)
    return d | {
        "keys": keys,
        "variants": rows,
        "table": {"columns": columns, "rows": cells},
        "heat_maps": [m.to_dict() for m in sweeping.heat_maps(results, drawn)] if results else [],
        "tornado": [t.to_dict() for t in sweeping.sweep_tornado(results, drawn)] if results else [],
    }
