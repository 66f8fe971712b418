"""``hashpivot buildout``: a GW-scale AI build-out campaign (registered on the main app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..files import write_atomic
from ..fmt import usd_compact
from ..locations import safe_name
from .common import print_json

console = Console()


def buildout_cmd(
    campaign: Annotated[
        Path, typer.Argument(help="Campaign YAML (see examples/openai_16gw.yaml).")
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a field: KEY=VALUE (e.g. capex_preset=analyst_60)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML report.")] = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """GW-scale AI build-out: capex stack, schedule, financing stack, circular deals, IRRs."""
    from .. import buildout
    from ..config.buildout import load_campaign
    from ..reports import buildout as report_buildout

    cfg, _ = load_campaign(str(campaign), set_)
    b, sens = buildout.run(cfg)
    summary = buildout.result_json(cfg, b, sens)
    page = out / safe_name(f"buildout-{cfg.name}.html")
    write_atomic(page, report_buildout.render(cfg, b, sens))
    summary["report_path"] = str(page)
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"Build-out — {cfg.name}", show_header=False)
    table.add_row("GW", f"{summary['gw_total']:g}")
    table.add_row("build capex", usd_compact(summary["capex_total_usd"]))
    table.add_row("GPU refreshes", usd_compact(summary["refresh_capex_usd"]))
    for name, v in summary["funding_by_source_usd"].items():
        table.add_row(f"  {name}", usd_compact(v))
    table.add_row("funding gap", usd_compact(summary["funding_gap_usd"]))
    for vendor, c in summary["circular_exposure"].items():
        table.add_row(
            f"circular: {vendor}", f"{c['share_of_revenue_self_funded']:.1%} of revenue self-funded"
        )
    for name, irr in summary["irr_by_party"].items():
        p50 = irr["p50"]
        table.add_row(f"IRR P50: {name}", "undefined" if p50 is None else f"{p50:.1%}")
    console.print(table)
    console.print(f"report: {page}")
