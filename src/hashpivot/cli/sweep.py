"""``hashpivot sweep``: one plan under many overrides, on this machine or a Dask cluster; and
``hashpivot sweeps list|show`` for the stored ones (registered on the main app)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..fmt import usd_compact
from ..locations import DEFAULT_DB
from .common import INTERRUPTED, JsonFlag, print_json, say_interrupted, where_announcer

if TYPE_CHECKING:
    from ..engine.sweep import VariantResult

console = Console()

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Worker processes on this machine (a Dask LocalCluster); 0 runs in this process. "
        "Default: one per core, or this process for small work (it says which).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="A running Dask scheduler, tcp://HOST:8786 (see docs/scale.md); its workers need "
        "the same hashpivot, NumPy, numba, SciPy, pandas, highspy, Python and Dask.",
    ),
]


def sweep_cmd(
    plan_file: Annotated[Path, typer.Argument(help="Plan YAML (see examples/bitriver.yaml).")],
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="A grid key: KEY=v1,v2,… or KEY=LOW:HIGH:N (N evenly spaced), e.g. "
            "'sites[0].power_usd_per_mwh=30,40,50'; several are crossed.",
        ),
    ] = None,
    lhs: Annotated[
        int | None,
        typer.Option("--lhs", help="Points of a Latin hypercube over the --range keys."),
    ] = None,
    ranges: Annotated[
        list[str] | None,
        typer.Option("--range", help="A hypercube key: KEY=LOW:HIGH (with --lhs N)."),
    ] = None,
    paths: Annotated[
        int | None, typer.Option("--paths", help="Paths of each variant (default: the plan's).")
    ] = None,
    seed_per_variant: Annotated[
        bool,
        typer.Option(
            "--seed-per-variant",
            help="Give each variant its own seed, keyed by its index (default: every variant "
            "the plan's seed — common random numbers, so differences are the parameters').",
        ),
    ] = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field of every variant: KEY=VALUE."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML report.")] = Path("out"),
    db: Annotated[Path, typer.Option("--db", help="DuckDB run store.")] = Path(DEFAULT_DB),
    as_json: JsonFlag = False,
) -> None:
    """Sensitivity sweep: the plan under a grid or Latin hypercube of overrides, each variant a
    full run (the decision too); stored in the run store as results arrive, with a report of
    heat maps per pair of keys and a tornado."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..config.io import read_text
    from ..runs import sweeps

    spec = sweeps.SweepSpec(
        vary=list(vary or []),
        ranges=list(ranges or []),
        lhs=lhs,
        sets=list(overrides or []),
        paths=paths,
        seed_per_variant=seed_per_variant,
    )
    err = Console(stderr=True)
    text = read_text(plan_file)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} variants"),
        TimeElapsedColumn(),
        console=err,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("sweep", total=None)
        try:
            done = sweeps.execute_sweep(
                text,
                str(plan_file),
                spec,
                db=db,
                out=out,
                workers=workers,
                scheduler=scheduler,
                progress=lambda n, total: bar.update(task, completed=n, total=total),
                announce=where_announcer(err, workers, scheduler),
            )
        except KeyboardInterrupt:
            say_interrupted("the sweep's tasks were cancelled and nothing of it was stored")
            raise typer.Exit(INTERRUPTED) from None
    if as_json:
        print_json(done.to_dict())
        return
    _print_sweep(done.to_dict(), list(done.results))


#: Columns of the variants' table the terminal leaves out (the report and the dashboard show them).
CLI_OMITS = ("P50", "P(default) 12m")
#: Shorter headers for the terminal.
HEADERS = {"variant": "#", "P(default) horizon": "P(default)"}


def _print_sweep(d: dict[str, Any], results: list[VariantResult]) -> None:
    from ..engine.sweep import variant_table

    keys = d["keys"]
    columns, rows = variant_table(results, keys)
    shown = [i for i, c in enumerate(columns) if c not in CLI_OMITS]
    table = Table(
        title=f"Sweep {d['sweep_id']} — {len(d['variants'])} variants in {d['seconds']:.1f} s "
        f"on {d['workers']} worker{'s' if d['workers'] != 1 else ''}"
    )
    table.caption = "varied: " + ", ".join(keys) + "; P(default) over the horizon"
    for i in shown:
        c = columns[i]
        # a key's own field name as its header (the caption gives the full path)
        header = c.rsplit(".", 1)[-1] if c in keys else HEADERS.get(c, c)
        if c == "decision":
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, justify="right", overflow="fold")
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    console.print(table)
    from ..engine.sweep import value_label

    torn = Table(title="Tornado of the sweep (mean NPV at each key's ends)")
    for col in ("key", "low", "NPV at low", "high", "NPV at high", "swing"):
        torn.add_column(col, justify="left" if col == "key" else "right")
    for t in d["tornado"]:
        torn.add_row(
            t["key"],
            value_label(t["low_value"]),
            usd_compact(t["low_npv_usd"]),
            value_label(t["high_value"]),
            usd_compact(t["high_npv_usd"]),
            usd_compact(t["swing_usd"]),
        )
    console.print(torn)
    console.print(f"report: {d['report_path']}")


def sweeps_list(
    db: Annotated[Path, typer.Option("--db", help="DuckDB run store.")] = Path(DEFAULT_DB),
    everything: Annotated[
        bool, typer.Option("--all", help="Also sweeps still running or left by a killed process.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List stored sweeps, oldest first."""
    from ..runs import store

    with store.connect(db, read_only=True) as con:
        rows = store.list_sweeps(con, everything)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Sweeps in {db}")
    for col in ("sweep_id", "status", "plan", "variants", "paths", "keys", "workers", "seconds"):
        table.add_column(col, no_wrap=col in ("sweep_id", "status"))
    for r in rows:
        design = r["design"]
        keys = [a["key"] for a in design["grid"]] + [
            x["key"] for x in (design["lhs"] or {}).get("ranges", [])
        ]
        table.add_row(
            r["sweep_id"],
            r["status"],
            r["plan_name"],
            str(r["n_variants"]),
            f"{r['paths']:,}",
            ", ".join(keys),
            str(r["workers"]),
            "" if r["seconds"] is None else f"{r['seconds']:.1f}",
        )
    console.print(table)


def sweeps_show(
    sweep_id: Annotated[str, typer.Argument(help="A sweep id (hashpivot sweeps list).")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB run store.")] = Path(DEFAULT_DB),
) -> None:
    """Print a stored sweep as JSON: its variants, heat maps and tornado."""
    from ..runs import store, sweeps

    with store.connect(db, read_only=True) as con:
        print_json(sweeps.stored_sweep(con, sweep_id))
