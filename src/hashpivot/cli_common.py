"""What the command modules share: the console, the ``--json`` flag and JSON printing. A module
of its own so that ``cli`` (the root app) and its subcommand modules all import down to it."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from .fmt import jsonable

console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON on stdout, NaN and inf as null (nothing else goes to stdout)."""
    sys.stdout.write(json.dumps(jsonable(obj), indent=2) + "\n")


def fmt_usd(x: float) -> str:
    """Whole dollars with thousands separators: $1,234, -$56."""
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"
