"""The ``hashpivot`` command line (Typer + Rich).

Every command takes ``--json`` for machine-readable output. Any error a user can cause prints one
line naming the field, the value and what is allowed, and exits with code 2 — never a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ConfigError, HashpivotError, InputError, StorageError
from ..files import write_atomic
from ..fmt import usd_compact
from ..locations import DEFAULT_DB, safe_name
from ..version import __version__
from .buildout import buildout_cmd
from .common import (
    INTERRUPTED,
    JsonFlag,
    console,
    fmt_usd,
    print_json,
    say_interrupted,
    where_announcer,
)
from .ledger import ledger_app
from .serve import serve_cmd
from .sweep import SchedulerOption, WorkersOption, sweep_cmd, sweeps_list, sweeps_show

if TYPE_CHECKING:  # annotations only: the commands import what they run
    from ..sites.mining import MarketSeries
    from ..sites.site import Site

app = typer.Typer(
    name="hashpivot",
    help="Where should each megawatt go: mine bitcoin, host AI, or sell the power back?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", help="Show the version and exit.", is_eager=True)
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="The local data store (default: $HASHPIVOT_DATA_DIR, else the user data folder).",
        ),
    ] = None,
) -> None:
    if data_dir is not None:
        os.environ["HASHPIVOT_DATA_DIR"] = str(data_dir)
    if version:
        typer.echo(f"hashpivot {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


# --------------------------------------------------------------------------- network
def _network_cache(date: str | None, value: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Read (or, with ``value``, write) ``hashpivot network``'s answer for ``date``, kept under the
    data store's ``cache/`` and keyed by the daily files (size, mtime), the store's daily version,
    the date and the version — so a warm call needs no pandas. Any problem: no cache."""
    import hashlib
    import json

    from ..data import store
    from ..locations import DAILY_FILES, data_path

    try:
        stats = [(f, os.stat(data_path(f)).st_size, os.stat(data_path(f)).st_mtime_ns)
                 for f in DAILY_FILES]  # fmt: skip
        key_src = [stats, store.current_sha256("btc_daily"), date, __version__]
        key = hashlib.sha256(json.dumps(key_src).encode()).hexdigest()[:32]
        path = store.data_dir() / "cache" / f"network-{key}.json"
        if value is not None:
            write_atomic(path, json.dumps(value))
            return value
        cached: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cached
    except (OSError, ValueError, HashpivotError):
        return None


@app.command()
def network(
    date: Annotated[
        str | None,
        typer.Option(help="UTC day as YYYY-MM-DD (default: the last day of the shipped data)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Network state on a day: height, subsidy, difficulty, hashrate, fees, price, hashprice."""
    from .. import clock

    cached = _network_cache(date)
    if cached is None:  # the first call on these data: compute (pandas) and keep the answer
        from ..bitcoin import history

        d = history.network_state(date).to_dict()
        first, last = (x.isoformat() for x in history.date_range())
        _network_cache(date, {"state": d, "first": first, "last": last})
    else:
        d, first, last = cached["state"], cached["first"], cached["last"]
    keys = [
        "date",
        "height",
        "subsidy_btc",
        "difficulty",
        "hashrate_eh_s",
        "fees_btc_per_day",
        "price_usd",
        "hashprice_usd_per_ph_day",
        "hashprice_btc_per_ph_day",
    ]
    out = {k: d[k] for k in keys} | {k: v for k, v in d.items() if k not in keys}
    age = clock.data_age_note(dt.date.fromisoformat(last)) if date is None else None
    out["data_age"] = age
    if as_json:
        print_json(out)
        return
    state = SimpleNamespace(**d)
    title = f"Bitcoin network on {state.date}"
    if date is None:
        title += f" (latest day in the data, {first} .. {last})"
    table = Table(title=title, show_header=False)
    if age:
        table.add_row("[bold red]FLAG[/bold red]", age)
    table.add_row("block height (end of day)", f"{state.height:,}")
    table.add_row("subsidy", f"{state.subsidy_btc:g} BTC")
    table.add_row("difficulty", f"{state.difficulty / 1e12:,.2f} T")
    table.add_row("hashrate (7-day mean)", f"{state.hashrate_eh_s:,.1f} EH/s")
    table.add_row("hashrate implied by difficulty", f"{state.hashrate_implied_eh_s:,.1f} EH/s")
    table.add_row(
        "fees", f"{state.fees_btc_per_day:,.2f} BTC/day ({state.fees_btc_per_block:.4f}/block)"
    )
    table.add_row("BTC price", fmt_usd(state.price_usd))
    table.add_row("hashprice", f"${state.hashprice_usd_per_ph_day:,.2f} per PH/s per day")
    table.add_row("hashprice (BTC)", f"{state.hashprice_btc_per_ph_day:.8f} BTC per PH/s per day")
    console.print(table)


# --------------------------------------------------------------------------- cost
@app.command()
def cost(
    site_file: Annotated[
        Path | None, typer.Argument(help="Site YAML (see examples/industry_average_2025.yaml).")
    ] = None,
    efficiency_j_per_th: Annotated[
        float | None, typer.Option(help="Quick form: fleet efficiency [J/TH].")
    ] = None,
    power_usd_per_kwh: Annotated[
        float | None, typer.Option(help="Quick form: power price [USD/kWh].")
    ] = None,
    difficulty: Annotated[
        float | None, typer.Option(help="Quick form: network difficulty.")
    ] = None,
    btc_price_usd: Annotated[
        float | None, typer.Option(help="Quick form: BTC price [USD].")
    ] = None,
    fees_btc_per_block: Annotated[
        float | None, typer.Option(help="Quick form: transaction fees per block [BTC].")
    ] = None,
    subsidy_btc: Annotated[
        float | None,
        typer.Option(
            help="Quick form: block subsidy [BTC]; 3.125 (the era since 2024-04-20) if omitted."
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            help="Quick form: take difficulty, price, fees and subsidy from this day of history "
            "(default, when no network value is given: the latest day of data)."
        ),
    ] = None,
    uptime: Annotated[float, typer.Option(help="Share of time hashing, (0, 1].")] = 1.0,
    pool_fee: Annotated[
        float, typer.Option(help="Pool fee, share of gross revenue, [0, 1).")
    ] = 0.0,
    pue: Annotated[float, typer.Option(help="Facility / IT power, [1, 3].")] = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Cost to mine one BTC (energy, cash, all-in) and breakeven power and BTC prices."""
    from ..config import models as config
    from ..sites.mining import site_economics

    quick = {
        "--efficiency-j-per-th": efficiency_j_per_th,
        "--power-usd-per-kwh": power_usd_per_kwh,
        "--difficulty": difficulty,
        "--btc-price-usd": btc_price_usd,
        "--fees-btc-per-block": fees_btc_per_block,
        "--subsidy-btc": subsidy_btc,
        "--date": date,
    }
    given = [k for k, v in quick.items() if v is not None]
    if site_file is not None:
        if given:
            raise InputError(
                given[0], quick[given[0]], "no quick-form options together with a site file"
            )
        sf = config.load_site_file(site_file)
        site, market = sf.site.to_site(), sf.market.to_market()
        market_label = sf.market.describe()
    else:
        site, market, market_label = _quick_site(quick, uptime, pool_fee, pue)
    econ = site_economics(site, market)
    summary = econ.summary()
    if as_json:
        print_json({"site": site.name, "market": market_label} | summary)
        return
    _print_cost_table(site.name, market_label, summary)


def _quick_site(
    quick: dict[str, Any], uptime: float, pool_fee: float, pue: float
) -> tuple[Site, MarketSeries, str]:
    from ..bitcoin import history
    from ..config import models as config

    required = ["--efficiency-j-per-th", "--power-usd-per-kwh"]
    network_opts = ["--difficulty", "--btc-price-usd", "--fees-btc-per-block"]
    for name in required:
        if quick[name] is None:
            raise InputError(name, None, "a value (or give a SITE.yaml file)")
    latest = None
    if quick["--date"] is None and all(quick[n] is None for n in [*network_opts, "--subsidy-btc"]):
        latest = str(history.date_range()[1])  # no network given: the latest day of data
        quick = quick | {"--date": latest}
    if quick["--date"] is not None:
        clash = [n for n in [*network_opts, "--subsidy-btc"] if quick[n] is not None]
        if clash:
            raise InputError(
                clash[0], quick[clash[0]], "not together with --date (the date sets it)"
            )
        market = {"date": quick["--date"]}
    else:
        for name in network_opts:
            if quick[name] is None:
                raise InputError(
                    name,
                    None,
                    "a value, with the other network options (or --date, or none of them for "
                    "the latest day of data)",
                )
        market = {
            "difficulty": quick["--difficulty"],
            "btc_price_usd": quick["--btc-price-usd"],
            "fees_btc_per_block": quick["--fees-btc-per-block"],
            "subsidy_btc": 3.125 if quick["--subsidy-btc"] is None else quick["--subsidy-btc"],
        }
    eff = quick["--efficiency-j-per-th"]
    site = {
        "name": f"quick: {eff:g} J/TH at ${quick['--power-usd-per-kwh']:g}/kWh",
        # 1 MW of IT power: cost per BTC does not depend on size.
        "power_capacity_mw": pue,
        "pue": pue,
        "power_usd_per_mwh": quick["--power-usd-per-kwh"] * 1000.0,
        "uptime": uptime,
        "pool_fee": pool_fee,
        "fleet": [{"efficiency_j_per_th": eff, "share_of_power": 1.0}],
    }
    try:
        sf = config.validate(config.SiteFile, {"site": site, "market": market}, "options")
    except ConfigError as exc:
        raise ConfigError("options", [_option_names(m) for m in exc.messages]) from None
    try:
        market_series = sf.market.to_market()
    except InputError as exc:
        option = _OPTION_OF_FIELD.get(exc.field, exc.field)
        raise type(exc)(option, exc.value, exc.allowed) from None
    label = sf.market.describe()
    if latest is not None:
        from .. import clock

        age = clock.data_age_note(dt.date.fromisoformat(str(latest)))
        label += " (the latest day of the shipped data" + (f"; {age})" if age else ")")
    return sf.site.to_site(), market_series, label


_OPTION_OF_FIELD = {
    "site.power_usd_per_mwh": "--power-usd-per-kwh (x1000, in USD/MWh)",
    "site.uptime": "--uptime",
    "site.pool_fee": "--pool-fee",
    "site.pue": "--pue",
    "site.power_capacity_mw": "--pue",
    "site.fleet[0]": "--efficiency-j-per-th",
    "site.fleet[0].efficiency_j_per_th": "--efficiency-j-per-th",
    "market.difficulty": "--difficulty",
    "market.btc_price_usd": "--btc-price-usd",
    "market.fees_btc_per_block": "--fees-btc-per-block",
    "market.subsidy_btc": "--subsidy-btc",
    "market.date": "--date",
}


def _option_names(message: str) -> str:
    field, _, rest = message.partition(":")
    return f"{_OPTION_OF_FIELD.get(field, field)}:{rest}"


def _print_cost_table(name: str, market_label: str, s: dict[str, Any]) -> None:
    table = Table(title=f"Cost to mine one BTC — {name} ({market_label})")
    table.add_column("cost line")
    table.add_column("USD per BTC", justify="right")
    table.add_column("metric", justify="right")
    per = s["cost_usd_per_btc"]
    table.add_row(
        "electricity",
        fmt_usd(per["energy"]),
        f"energy only {fmt_usd(s['energy_cost_usd_per_btc'])}",
    )
    table.add_row("site opex", fmt_usd(per["site_opex"]), "")
    table.add_row("pool fees", fmt_usd(per["pool_fees"]), "")
    table.add_row(
        "cash SG&A", fmt_usd(per["sga_cash"]), f"cash cost {fmt_usd(s['cash_cost_usd_per_btc'])}"
    )
    table.add_row("depreciation", fmt_usd(per["depreciation"]), "")
    table.add_row("stock compensation", fmt_usd(per["stock_comp"]), "")
    table.add_row(
        "interest", fmt_usd(per["interest"]), f"all-in {fmt_usd(s['all_in_cost_usd_per_btc'])}"
    )
    console.print(table)
    facts = Table(show_header=False)
    facts.add_row(
        "fleet",
        f"{s['hashrate_th_s'] / 1e6:,.3f} EH/s, {s['facility_power_mw']:,.1f} MW at the meter, "
        f"{s['wall_efficiency_j_per_th']:.2f} J/TH incl. PUE",
    )
    facts.add_row("BTC mined", f"{s['btc_mined']:,.2f} BTC over {s['days']:g} days")
    facts.add_row(
        "hashprice earned",
        f"${s['hashprice_usd_per_ph_day']:,.2f} per PH/s per day ({s['btc_per_ph_day']:.8f} BTC)",
    )
    facts.add_row("average BTC price", fmt_usd(s["average_btc_price_usd"]))
    facts.add_row(
        "breakeven power price",
        f"${s['breakeven_power_usd_per_kwh']:.4f}/kWh "
        f"(cash: ${s['cash_breakeven_power_usd_per_kwh']:.4f}/kWh)",
    )
    facts.add_row(
        "breakeven BTC price",
        f"{fmt_usd(s['breakeven_btc_price_usd'])} cash, "
        f"{fmt_usd(s['all_in_breakeven_btc_price_usd'])} all-in",
    )
    console.print(facts)


# --------------------------------------------------------------------------- hardware
@app.command(name="hardware")
def hardware_cmd(
    kind: Annotated[str, typer.Option(help="asic or gpu.")] = "asic",
    as_json: JsonFlag = False,
) -> None:
    """The ASIC (or GPU) catalogue shipped with hashpivot, with sources."""
    from ..sites import hardware

    if kind not in ("asic", "gpu"):
        raise InputError("--kind", kind, "asic or gpu")
    df = hardware.asic_catalogue() if kind == "asic" else hardware.gpu_catalogue()
    if as_json:
        records = df.reset_index().to_dict(orient="records")
        print_json(
            [
                {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                for r in records
            ]
        )
        return
    if kind == "asic":
        cols = ["maker", "release_year", "hashrate_th", "power_w", "efficiency_j_per_th", "cooling"]
        heads = ["maker", "year", "TH/s", "W", "J/TH", "cooling"]
    else:
        cols = [
            "vendor",
            "release_year",
            "memory_gb",
            "tdp_w",
            "msrp_usd_approx",
            "rental_usd_per_gpu_hour_low",
            "rental_usd_per_gpu_hour_high",
        ]
        heads = ["vendor", "year", "GB", "W", "MSRP $", "rent $/h low", "rent $/h high"]
    table = Table(title=f"{kind.upper()} catalogue (per-row sources: --json; see data/SOURCES.md)")
    table.add_column("model")
    for h in heads:
        table.add_column(h, justify="right")
    for model, row in df.iterrows():
        table.add_row(
            model,
            *[
                ""
                if (isinstance(row[c], float) and row[c] != row[c])
                else (f"{row[c]:g}" if isinstance(row[c], float) else str(row[c]))
                for c in cols
            ],
        )
    console.print(table)


# --------------------------------------------------------------------------- schema
@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """The plan and site-file schema (fields, units, ranges, defaults) as Markdown."""
    from ..config import reference as config_schema

    text = config_schema.schema_markdown()
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        write_atomic(out, text + "\n")


# --------------------------------------------------------------------------- plan
@app.command(name="plan")
def plan_cmd(
    plan_file: Annotated[Path, typer.Argument(help="Plan YAML (see examples/bitriver.yaml).")],
    paths: Annotated[int | None, typer.Option("--paths", help="Override the plan's paths.")] = None,
    months: Annotated[
        int | None, typer.Option("--months", help="Override the plan's horizon [months].")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the plan's seed.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Place the plan at a past day YYYY-MM-DD (market.as_of): fits read data up to "
            "it only and the simulation starts the day after.",
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="Paths per chunk (a multiple of 64).")
    ] = 2048,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML report.")] = Path("out"),
    db: Annotated[Path, typer.Option("--db", help="DuckDB run store.")] = Path(DEFAULT_DB),
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a plan field: KEY=VALUE, e.g. sites[0].pue=1.2."),
    ] = None,
    ledger_path: Annotated[
        Path | None,
        typer.Option("--ledger", help="Audit ledger (default: the store's file + .ledger.sqlite)."),
    ] = None,
    max_memory_gb: Annotated[
        float | None,
        typer.Option(
            "--max-memory-gb",
            help="Memory a run may use [GiB] (default: 16 or 70% of this machine's, the lower); "
            "a larger run is refused before it starts, with its estimate.",
        ),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a plan: Monte Carlo over the company's sites → metrics, HTML report, stored run,
    and a record in the audit ledger."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..config import models as config
    from ..runs import runner

    if max_memory_gb is not None and not max_memory_gb > 0:
        raise InputError("--max-memory-gb", max_memory_gb, "a number of GiB > 0")
    sets = list(overrides or [])
    if as_of is not None:
        sets.append(f"market.as_of={as_of}")
    cfg, plan_yaml = config.load_plan(
        plan_file, sets, paths=paths, horizon_months=months, seed=seed
    )
    progress_console = Console(stderr=True)
    _say_if_compiling(progress_console)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} paths"),
        TimeElapsedColumn(),
        console=progress_console,
        disable=as_json or not progress_console.is_terminal,
    ) as bar:
        task = bar.add_task(f"plan {cfg.name}", total=cfg.paths)
        try:
            done = runner.execute_plan(
                cfg,
                plan_yaml,
                db=db,
                out=out,
                ledger_path=ledger_path,
                chunk_size=chunk_size,
                progress=lambda n, total: bar.update(task, completed=n),
                max_memory_bytes=None if max_memory_gb is None else int(max_memory_gb * 2**30),
                memory_flag="--max-memory-gb",
                workers=workers,
                scheduler=scheduler,
                announce=where_announcer(progress_console, workers, scheduler),
            )
        except KeyboardInterrupt:
            # Nothing is written before the simulation ends: the report, the ledger record and
            # the run come after it, each atomic.
            say_interrupted("nothing of this run was written (earlier runs are intact)")
            raise typer.Exit(INTERRUPTED) from None
    if as_json:
        print_json(
            {
                "run_id": done.run_id,
                "report_path": done.report_path,
                "ledger_size": done.ledger_size,
            }
            | done.summary
        )
        return
    _print_plan_table(done.run_id, done.report_path, done.summary)


def _say_if_compiling(err: Console) -> None:
    """Tell the user (on stderr, once) that the first run compiles the numba kernels.

    Only on a terminal: the hint is for a person waiting, and the check is a heuristic (file
    times), so it stays out of logs, pipes and the README's recorded outputs.
    """
    from ..engine.run import kernels_need_compiling

    if err.is_terminal and kernels_need_compiling():
        err.print("hashpivot: compiling kernels, first run only (about 15 s; cached afterwards)")


def _print_decision(s: dict[str, Any]) -> None:
    """The decision table: what each site should do, when, its value against keeping it as it
    is, and the next best with what forcing it would cost; then the portfolio."""
    from ..engine.results import DECISION_COLUMNS, decision_site_rows, portfolio_rows

    d = s["decision"]
    table = Table(
        title=f"Where each megawatt goes — {s['plan']} ({d['scenarios']:,} scenarios, the run's "
        "first paths)"
    )
    rows = decision_site_rows(d, s["start"])
    for i, col in enumerate(DECISION_COLUMNS):
        left = col in ("site", "action", "when", "next best")
        widest = max((len(r[i]) for r in rows), default=0)
        # numbers never wrap or truncate (a narrow terminal wraps the names and headers instead)
        least = min(widest, 8) if left else widest
        table.add_column(col, justify="left" if left else "right", min_width=least, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    port = Table(title="The portfolio", show_header=False)
    for label, text in portfolio_rows(d):
        port.add_row(label, text)
    console.print(port)


def _print_plan_table(run_id: str, report_path: str, s: dict[str, Any]) -> None:
    if "decision" in s:
        _print_decision(s)
    npv = s["npv_usd"]
    head = Table(
        title=f"Plan {s['plan']} — {s['paths']:,} paths × {s['months']} months from {s['start']}",
        show_header=False,
    )
    head.add_row("NPV (USD) mean", fmt_usd(npv["mean"]))
    head.add_row("NPV P5 / P50 / P95", " / ".join(fmt_usd(npv[k]) for k in ("p5", "p50", "p95")))
    head.add_row(
        "P(cumulative cash < 0) by",
        ", ".join(f"{k}: {v:.1%}" for k, v in s["p_cash_negative_by_horizon"].items()),
    )
    for name, by in s.get("p_default_by_scenario", {}).items():
        head.add_row(
            f"P(default) {name.replace('_', ' ')}",
            ", ".join(f"{k}: {v:.1%}" for k, v in by.items()),
        )
    m = s.get("market_assumptions")
    if m:  # runs stored before these keys existed have none
        head.add_row(
            "market start",
            f"{m.get('start', m['start_month'])} from data to {m['data_end']}: "
            f"BTC {fmt_usd(m['start_btc_price_usd'])}, {m['start_hashrate_eh_s']:,.0f} EH/s",
        )
        head.add_row(
            "BTC drift / volatility",
            f"μ {m['mu_annual']:.1%}/yr, σ {m['sigma_annual']:.1%}/√yr — {m['drift_rule_text']}",
        )
        head.add_row("discount rate", f"{m['discount_rate_annual']:.1%}/yr")
        if "backtest_text" in m:
            head.add_row("backtest of the model", m["backtest_text"])
        for flag in m.get("flags", []):
            head.add_row("[bold red]FLAG[/bold red]", flag)
    if "npv_definition" in s:
        head.add_row(
            "NPV is",
            "equity value after default (a defaulted path counts its flows up to the default "
            "month only)"
            if s["npv_definition"].startswith("equity")
            else "the company's cash flows (no company finance)",
        )
    console.print(head)
    sites = Table(title="Cost to mine one BTC by site (medians over paths)")
    for col in ("site", "energy", "cash", "all-in", "breakeven BTC", "BTC mined"):
        sites.add_column(col, justify="left" if col == "site" else "right")
    for name, r in s["sites"].items():
        c = r["cost_usd_per_btc"]
        sites.add_row(
            name,
            *[(fmt_usd(c[k]) if c[k] is not None else "n/a") for k in ("energy", "cash", "all_in")],
            fmt_usd(r["breakeven_btc_price_usd"] or float("nan")),
            f"{r['btc_mined']:,.1f}",
        )
    console.print(sites)
    if s.get("npv_usd_by_policy"):
        dec = Table(title="Convert or keep mining: site NPV by policy (USD)")
        for col in ("site", "never", "now", "fixed date", "optimal (LSM)", "flexibility"):
            dec.add_column(col, justify="left" if col == "site" else "right")
        for name, by in s["npv_usd_by_policy"].items():
            dec.add_row(
                name,
                usd_compact(by["never"]),
                usd_compact(by["now"]),
                f"{usd_compact(by['fixed_date'])} (m{by['fixed_date_month']})",
                usd_compact(by["optimal"]),
                usd_compact(by["value_of_flexibility"]),
            )
        console.print(dec)
    console.print(f"run [bold]{run_id}[/bold] stored; report: {report_path}")
    if "decision" in s:
        from ..engine.results import where_each_mw_goes

        console.print(
            f"[bold]Where each megawatt goes[/bold] ({s['plan']}): "
            f"{where_each_mw_goes(s['decision'])}"
        )


# --------------------------------------------------------------------------- dispatch
@app.command(name="dispatch")
def dispatch_cmd(
    site_file: Annotated[Path, typer.Argument(help="Site YAML with a 'dispatch' section.")],
    prices: Annotated[
        str,
        typer.Option(
            "--prices",
            help="A market name: ercot:LZ_WEST:2023 or ercot:LZ_NORTH:2023 (real time), or "
            "ISO:NODE:da[:YEAR] day ahead (ercot HB_*, caiso NP15/SP15/ZP26, nordpool SE1-SE4, "
            "entsoe DE_LU; see `hashpivot data status`); or a local CSV file with "
            "timestamp_utc, price_usd_per_mwh (never a URL).",
        ),
    ] = "ercot:LZ_WEST:2023",
    month: Annotated[
        str | None, typer.Option("--month", help="Only this month, YYYY-MM (local time).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML chart.")] = Path("out"),
    as_json: JsonFlag = False,
) -> None:
    """Hour-by-hour mining against power prices: an LP on HiGHS (curtailment, sell-back, DR)."""
    from .. import clock
    from ..config import models as config
    from ..data import power_prices as price_data
    from ..dispatch import site_file as dispatch_site
    from ..reports import plan as report

    sf = config.load_site_file(site_file)
    if sf.dispatch is None:
        raise InputError("dispatch", None, f"a 'dispatch' section in {site_file}")
    # A market name, or a local file the user names here (the CLI only: never a URL).
    series = (
        price_data.hourly_prices(prices)
        if re.match(price_data.MARKET_NAME_PATTERN, prices)
        else price_data.hourly_prices_file(prices)
    )
    if month is not None:
        series = series.month(month)
    result, accounts = dispatch_site.run_site_file(sf, series)
    label = f"{sf.site.name}, {series.source}"
    chart = out / safe_name(f"dispatch-{sf.site.name}-{month or Path(prices).name}.html")
    write_atomic(chart, report.render_dispatch(result, accounts, series, label))
    accounts["chart_path"] = str(chart)
    accounts["data_age"] = clock.data_age_note(series.index_local[-1].date())
    if accounts["data_age"]:
        accounts["data_age"] = "prices: " + accounts["data_age"]
    if as_json:
        print_json(accounts)
        return
    table = Table(title=f"Dispatch — {label} ({accounts['hours']:,} hours)", show_header=False)
    table.add_row("status", accounts["status"])
    if accounts["data_age"]:
        table.add_row("[bold red]FLAG[/bold red]", accounts["data_age"])
    for key, unit in (("mwh_mined", "MWh"), ("mwh_curtailed", "MWh"), ("mwh_sold_back", "MWh")):
        table.add_row(key.replace("_", " "), f"{accounts[key]:,.0f} {unit}")
    for key in (
        "revenue_mining_usd",
        "revenue_sellback_usd",
        "revenue_demand_response_usd",
        "power_cost_usd",
        "objective_usd",
    ):
        table.add_row(key.replace("_usd", "").replace("_", " "), fmt_usd(accounts[key]))
    table.add_row("uptime", f"{accounts['uptime']:.1%}")
    table.add_row(
        "strikes (low / high)",
        f"${accounts['strike_low_usd_per_mwh']:,.2f} / "
        f"${accounts['strike_high_usd_per_mwh']:,.2f} per MWh",
    )
    table.add_row("strike policy loses", fmt_usd(accounts["strike_policy_value_lost_usd"]))
    console.print(table)
    console.print(f"chart: {chart}")


# --------------------------------------------------------------------------- data
data_app = typer.Typer(
    help="Datasets: what ships, what you import, and updates fetched from public sources."
)
app.add_typer(data_app, name="data")


@data_app.command("status")
def data_status(as_json: JsonFlag = False) -> None:
    """Every dataset: source, licence, range, rows, content hash and how old its data are."""
    from ..clock import today
    from ..data import catalog

    now = today()
    rows = catalog.status(now)
    if as_json:
        print_json({"today": now.isoformat(), "datasets": rows})
        return
    table = Table(title=f"Datasets (today {now})")
    for col in ("dataset", "kind", "range", "rows", "age", "licence", "sha256"):
        table.add_column(col, justify="right" if col in ("rows", "age") else "left")
    for r in rows:
        span = f"{r['first_date']} .. {r['last_date']}" if r["first_date"] else "catalogue"
        if r["column_last_dates"].get("blocks") not in (None, r["last_date"]):
            span += f" (blocks to {r['column_last_dates']['blocks']})"
        age = "" if r["months_old"] is None else f"{r['months_old']} mo"
        licence = r["licence"] + (" — non-commercial" if r["commercial_use"] is False else "")
        table.add_row(r["name"], r["kind"], span, f"{r['rows']:,}", age, licence, r["sha256"][:12])
    console.print(table)


@data_app.command("update")
def data_update(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="chain (mempool.space-compatible API), price (Bitstamp) or iso (day-ahead "
            "prices through the gridstatus extra; needs --market). Default: chain and price.",
        ),
    ] = None,
    market: Annotated[
        str | None,
        typer.Option("--market", help="iso:LOCATION for --source iso, e.g. ercot:HB_WEST."),
    ] = None,
    chain_url: Annotated[
        str | None, typer.Option("--chain-url", help="API root for chain data.")
    ] = None,
    price_url: Annotated[
        str | None, typer.Option("--price-url", help="API root for BTC/USD daily candles.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch what is new since the data end (needs the internet; resumable, incremental)."""
    from ..bitcoin import updates

    urls = {k: v for k, v in (("chain", chain_url), ("price", price_url)) if v}
    say = None if as_json else (lambda line: console.print(line))
    try:
        done = updates.update(tuple(source or updates.DEFAULT_SOURCES), urls, say, market)
    except KeyboardInterrupt:
        say_interrupted("what was stored before the interrupt is kept; run it again to resume")
        raise typer.Exit(INTERRUPTED) from None
    if as_json:
        print_json({"updates": done})
        return
    for d in done:
        if d["source"] == "iso":
            span = f"{d['from']} .. {d['to']}" if d["hours"] else "nothing new"
            console.print(f"iso: {d['dataset']} {span} ({d['hours']} hours)")
            continue
        span = f"{d['from']} .. {d['to']}" if d["days"] else "nothing new"
        console.print(f"{d['source']}: {span} ({d['days']} days, {d['requests']} requests)")


@data_app.command("import")
def data_import(
    file: Annotated[Path, typer.Argument(help="The CSV file to import.")],
    kind: Annotated[
        str, typer.Option("--kind", help="hourly_prices, btc_daily or fx.")
    ] = "hourly_prices",
    market: Annotated[
        str | None,
        typer.Option("--market", help="user:NAME, the name plans and dispatch --prices use."),
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Clock of times without an offset: UTC or an IANA zone.")
    ] = "UTC",
    column_map: Annotated[
        str | None,
        typer.Option("--column-map", help="ROLE=COLUMN pairs: time=…,price=… (fx: rate=…)."),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option("--currency", help="Prices' currency (default USD); fx: the one quoted."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate a file and store it in the local data store (the earlier version stays)."""
    from ..data import imports, store

    done = imports.import_file(
        file, kind, market=market, tz=tz, column_map=column_map, currency=currency
    )
    v = done.version
    out = {
        "dataset": done.dataset,
        "kind": done.kind,
        "rows": v["rows"],
        "first": v["first"],
        "last": v["last"],
        "sha256": v["sha256"],
        "missing": len(done.missing),
        "data_dir": str(store.data_dir()),
    }
    if as_json:
        print_json(out)
        return
    console.print(
        f"stored {done.dataset} ({done.kind}): {v['rows']:,} rows {v['first']} .. {v['last']}, "
        f"sha256 {v['sha256'][:12]} in {out['data_dir']}"
    )
    if done.missing:
        shown = ", ".join(done.missing[:5]) + (" …" if len(done.missing) > 5 else "")
        console.print(f"{len(done.missing)} hours missing in the file (kept missing): {shown}")


# --------------------------------------------------------------------------- runs
runs_app = typer.Typer(help="Stored runs: list, show, verify, export.", no_args_is_help=False)
app.add_typer(runs_app, name="runs")
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help=f"DuckDB run store (default: the group's --db, else {DEFAULT_DB})."),
]
RunRef = Annotated[
    str, typer.Argument(help="Run id, a unique prefix of one, or 'latest' (see `hashpivot runs`).")
]


LedgerOption = Annotated[
    Path | None, typer.Option("--ledger", help="Audit ledger (default: beside the store).")
]


def _runs_db(ctx: typer.Context, db: Path | None) -> Path:
    """A subcommand's --db, else the one given to ``hashpivot runs --db``, else the default."""
    if db is not None:
        return db
    group = (ctx.obj or {}).get("runs_db") if isinstance(ctx.obj, dict) else None
    return group if group is not None else Path(DEFAULT_DB)


@runs_app.callback(invoke_without_command=True)
def runs_list(ctx: typer.Context, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """List stored runs (when no subcommand is given)."""
    ctx.obj = {"runs_db": db}
    if ctx.invoked_subcommand is not None:
        return
    from ..runs import store

    db = _runs_db(ctx, db)
    con = store.connect(db, read_only=True)
    rows = store.list_runs(con)
    con.close()
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Runs in {db}")
    table.add_column("run_id", no_wrap=True, min_width=22)
    for col in ("created (UTC)", "plan", "paths", "months", "NPV mean"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["run_id"],
            r["created_utc"][:19],
            r["plan"],
            f"{r['paths']:,}",
            str(r["months"]),
            fmt_usd(r["npv_usd_mean"]),
        )
    console.print(table)


@runs_app.command("show")
def runs_show(
    ctx: typer.Context, run_id: RunRef, db: DbOption = None, as_json: JsonFlag = False
) -> None:
    """Show one stored run."""
    from ..runs import store

    con = store.connect(_runs_db(ctx, db), read_only=True)
    run = store.get_run(con, store.resolve_run_id(con, run_id))
    con.close()
    if as_json:
        print_json(run)
        return
    _print_plan_table(run["run_id"], run["report_path"] or "", run["summary"])
    console.print(
        f"plan sha256 {run['plan_sha256']}; results sha256 {run['results_sha256']}; "
        f"hashpivot {run['version']}"
    )


@runs_app.command("verify")
def runs_verify(
    ctx: typer.Context,
    run_id: RunRef,
    db: DbOption = None,
    ledger_path: LedgerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Prove a stored run was not altered: its hashes match the ledger record, and the record is
    included under the ledger's latest signed head."""
    from ..runs import audit, store

    db = _runs_db(ctx, db)
    con = store.connect(db, read_only=True)
    run_id = store.resolve_run_id(con, run_id)
    result = audit.verify_run(con, run_id, ledger_path or audit.default_ledger_path(db))
    con.close()
    if as_json:
        print_json(
            {
                "run_id": run_id,
                "verified": result.ok,
                "ledger_index": result.ledger_index,
                "checks": [{"check": c, "ok": ok, "detail": d} for c, ok, d in result.checks],
                "head": result.head,
            }
        )
    else:
        for check, ok, detail in result.checks:
            console.print(f"{'OK ' if ok else 'FAIL'} {check}" + ("" if ok else f" ({detail})"))
        console.print(f"run {run_id}: {'VERIFIED' if result.ok else 'NOT VERIFIED'}")
    if not result.ok:
        raise typer.Exit(1)


@runs_app.command("relog")
def runs_relog(
    ctx: typer.Context,
    run_id: RunRef,
    db: DbOption = None,
    ledger_path: LedgerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Log a stored run that has no ledger record (after checking its results still match the
    hash stored with them), so that `runs verify` can prove it unaltered from now on."""
    from ..runs import audit, store

    db = _runs_db(ctx, db)
    con = store.connect(db, read_only=True)
    try:
        run_id = store.resolve_run_id(con, run_id)
        index = audit.relog_run(con, run_id, ledger_path or audit.default_ledger_path(db))
    finally:
        con.close()
    if as_json:
        print_json({"run_id": run_id, "ledger_index": index})
    else:
        console.print(f"run {run_id} logged as ledger entry {index}")


@runs_app.command("export")
def runs_export(
    ctx: typer.Context,
    run_id: RunRef,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Folder for the store's tables as Parquet.")
    ] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option(
            "--xlsx",
            help="Excel workbook: summary, sites, fans, NPV distribution, assumptions.",
        ),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Folder for the same sheets as CSV files.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export one run: the store's tables as Parquet, or the tables people open (Excel, CSV)."""
    from ..runs import store

    if parquet is None and xlsx is None and csv is None:
        raise InputError("--parquet/--xlsx/--csv", None, "at least one place to export to")
    con = store.connect(_runs_db(ctx, db), read_only=True)
    try:
        rid = store.resolve_run_id(con, run_id)
        files: list[Path] = []
        if parquet is not None:
            files += store.export_run(con, rid, parquet)
        if xlsx is not None:
            files.append(store.export_xlsx(con, rid, xlsx))
        if csv is not None:
            files += store.export_csv(con, rid, csv)
    finally:
        con.close()
    for f in files:
        console.print(str(f))


# --------------------------------------------------------------------------- backtest
@app.command(name="backtest")
def backtest_cmd(
    plan_file: Annotated[
        Path | None,
        typer.Argument(help="A plan whose market section is tested (default: the defaults)."),
    ] = None,
    origins: Annotated[
        str, typer.Option("--origins", help="First and last origin month, YYYY-MM:YYYY-MM.")
    ] = "2018-06:2024-12",
    step: Annotated[int, typer.Option("--step", help="Months between origins.")] = 1,
    horizons: Annotated[
        str, typer.Option("--horizons", help="Months ahead scored, comma-separated.")
    ] = "3,6,12,24",
    paths: Annotated[int, typer.Option("--paths", help="Paths per origin.")] = 4000,
    model: Annotated[
        str | None,
        typer.Option("--model", help="BTC model: gbm or bootstrap (default: the plan's)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 1,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML report.")] = Path("out"),
    db: Annotated[Path, typer.Option("--db", help="DuckDB run store.")] = Path(DEFAULT_DB),
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Score the market model's fans out of sample: calibrate as of each origin, simulate, and
    compare with what happened (coverage, PIT, CRPS, spread-skill, two naive baselines); write
    the HTML report and store the scores."""
    from ..config import models as config
    from ..engine.run import market_calibration
    from ..executor import open_executor
    from ..market import hindcast
    from ..reports import backtest as report
    from ..runs import store

    first, sep, last = origins.partition(":")
    if not sep:
        raise InputError("--origins", origins, "YYYY-MM:YYYY-MM")
    try:
        hs = tuple(int(h) for h in horizons.split(","))
    except ValueError:
        raise InputError("--horizons", horizons, "whole months separated by commas") from None
    if paths < 64:
        raise InputError("--paths", paths, "at least 64 paths per origin")
    mc = config.MarketModelConfig() if plan_file is None else config.load_plan(plan_file)[0].market
    if not mc.stochastic:
        raise InputError(
            "market.stochastic", False, "true: a backtest scores fans, one median path has none"
        )
    calibration = market_calibration(mc)
    if model is not None:
        if model not in ("gbm", "bootstrap"):
            raise InputError("--model", model, "gbm or bootstrap")
        calibration["btc_model"] = model
    ors = hindcast.month_end_origins(first, last, step)
    store.check_writable(db)  # a bad --db fails now, not after the simulation
    small = len(ors) * paths < hindcast.SMALL_HINDCAST_PATHS
    announce = where_announcer(Console(stderr=True), workers, scheduler)
    with open_executor(workers, scheduler, small=small, tasks=len(ors)) as ex:
        if announce:
            announce(f"backtest of {len(ors)} origins {ex.where}")
        hc = hindcast.run(ors, hs, n_paths=paths, seed=seed, executor=ex, **calibration)
    rec = hindcast.record(hc, calibration, n_paths=paths, seed=seed, step_months=step)
    backtest_id = store.new_run_id()
    report_path = out / backtest_id / "backtest.html"
    try:
        write_atomic(report_path, report.render(rec, hc, backtest_id))
    except OSError as exc:
        raise StorageError(
            f"--out: the backtest's report {report_path} could not be written ({exc.strerror}); "
            "nothing was stored"
        ) from None
    con = store.connect(db)
    try:
        store.save_backtest(con, backtest_id, rec, hindcast.data_sha256(), str(report_path))
    finally:
        con.close()
    if as_json:
        print_json({"backtest_id": backtest_id, "report_path": str(report_path)} | rec)
        return
    out_rec: dict[str, Any] = rec
    table = Table(title=f"Backtest: {len(ors)} origins {first} .. {last}, {paths:,} paths each")
    for col in ("process", "h", "origins\n(indep.)", "90%\nband", "90%\ninterval", "50%\nband",
                "spread-\nskill", "CRPS", "CRPS\nRW", "CRPS\nflat"):  # fmt: skip
        table.add_column(col, justify="left" if col == "process" else "right", no_wrap=True)
    for p in hindcast.PROCESSES:
        for h in hs:
            k = str(h)
            c90 = out_rec["coverage_90"][p].get(k)
            if c90 is None:
                continue
            c50, base = out_rec["coverage_50"][p][k], out_rec["baseline_crps"][p][k]
            table.add_row(
                p,
                f"{h} m",
                f"{out_rec['origins'][p][k]} ({out_rec['independent_windows'][p][k]})",
                f"{c90['rate']:.0%}",
                f"{c90['interval_90'][0]:.0%}–{c90['interval_90'][1]:.0%}",
                f"{c50['rate']:.0%}",
                f"{out_rec['spread_skill'][p][k]:.2f}",
                f"{out_rec['crps'][p][k]:.3f}",
                f"{base['random_walk']:.3f}",
                f"{base['flat']:.3f}",
            )
    console.print(table)
    console.print(
        "Nominal: 90% and 50% of outcomes inside the bands (interval: a block bootstrap's 90% "
        "for the 90% band), spread-skill 1; CRPS on logs, lower is better, against a random "
        "walk (RW) and a flat forecast. Origins overlap: the count in brackets is of "
        "independent windows."
    )
    console.print(f"backtest {backtest_id}: report {report_path}, stored in {db}")


# --------------------------------------------------------------------------- screen
@app.command()
def screen(
    companies: Annotated[Path, typer.Argument(help="CSV of miners (see examples/).")],
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")] = 4096,
    seed: Annotated[int, typer.Option("--seed", help="Seed.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Breakeven hashprice, months of runway and P(default within 12 months) per company."""
    from ..engine import screen as scr

    if paths <= 0:
        raise InputError("--paths", paths, "> 0")
    _say_if_compiling(Console(stderr=True))
    rows = scr.screen(scr.read_companies(companies), paths=paths, seed=seed)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    table = Table(
        title=f"Screen at today's hashprice (${rows[0].hashprice_today_usd_per_ph_day:,.2f}/PH/day)"
        if rows
        else "Screen"
    )
    for col in ("company", "breakeven hashprice", "runway", "P(default 12m)", "monthly burn"):
        table.add_column(col, justify="left" if col == "company" else "right")
    for r in rows:
        table.add_row(
            r.company,
            f"${r.breakeven_hashprice_usd_per_ph_day:,.2f}",
            "profitable" if r.runway_months is None else f"{r.runway_months:,.1f} mo",
            f"{r.p_default_12m:.1%}",
            usd_compact(r.monthly_burn_usd),
        )
    console.print(table)


# --------------------------------------------------------------------------- ledger

app.add_typer(ledger_app, name="ledger")


# --------------------------------------------------------------------------- buildout

app.command(name="buildout")(buildout_cmd)


app.command(name="serve")(serve_cmd)


# --------------------------------------------------------------------------- sweep
app.command(name="sweep")(sweep_cmd)
sweeps_app = typer.Typer(help="Stored sweeps: list, show.", no_args_is_help=True)
sweeps_app.command("list")(sweeps_list)
sweeps_app.command("show")(sweeps_show)
app.add_typer(sweeps_app, name="sweeps")


# --------------------------------------------------------------------------- entry point
#: The library names the field it rejects (``chunk_size``, ``prices`` …); the CLI says which of
#: its flags that is. The ``ledger`` commands name their ledger file ``--db``.
FLAG_OF_FIELD = {
    "chunk_size": "--chunk-size",
    "prices": "--prices",
    "month": "--month",
    "ledger_path": "--ledger",
    "db": "--db",
    "key": "--key",
    "public_key": "--public-key",
    "max_memory_bytes": "--max-memory-gb",
    "workers": "--workers",
    "scheduler": "--scheduler",
    "sweep_id": "SWEEP_ID",
}
FLAG_OF_FIELD_IN_LEDGER_COMMANDS = FLAG_OF_FIELD | {"ledger_path": "--db"}


def _in_flags(exc: HashpivotError, args: list[str]) -> HashpivotError:
    """``exc`` with its field named as the flag the user typed."""
    if not isinstance(exc, InputError):
        return exc
    command = next((a for a in args if not a.startswith("-")), "")
    table = FLAG_OF_FIELD_IN_LEDGER_COMMANDS if command == "ledger" else FLAG_OF_FIELD
    flag = table.get(exc.field)
    return exc if flag is None else type(exc)(flag, exc.value, exc.allowed)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI.

    A user error prints one line naming field, value and what is allowed, and returns exit code 2;
    usage errors (unknown options) also exit 2, via Typer.

    Parameters
    ----------
    argv : list of str or None
        Arguments after the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 for a user or OS error, 130 when interrupted; a command's own exit
        (1 for a failed verification, say) passes through as :class:`SystemExit`.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args)
    except HashpivotError as exc:
        sys.stderr.write(f"hashpivot: error: {_in_flags(exc, args)}\n")
        return 2
    except KeyboardInterrupt:
        say_interrupted("nothing of this command was stored (earlier runs are intact)")
        return INTERRUPTED
    except SystemExit as exc:
        # Typer turns a Ctrl-C outside a command's own handler (while loading, say) into a
        # silent exit 130: say what it left, as for any other interrupt.
        if exc.code == INTERRUPTED:
            say_interrupted("nothing of this command was stored (earlier runs are intact)")
            return INTERRUPTED
        raise
    except OSError as exc:  # a full disk, a read-only medium: one line, never a traceback
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        sys.stderr.write(f"hashpivot: error: {where}{exc.strerror or exc}\n")
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
