"""What the command modules share: the console, the ``--json`` flag and JSON printing. A module
of its own so that ``cli`` (the root app) and its subcommand modules all import down to it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from ..fmt import jsonable

console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON on stdout, NaN and inf as null (nothing else goes to stdout).

    Parameters
    ----------
    obj : Any
        A JSON-able structure (numpy values allowed).
    """
    sys.stdout.write(json.dumps(jsonable(obj), indent=2) + "\n")


def fmt_usd(x: float) -> str:
    """Whole dollars with thousands separators: $1,234, -$56.

    Parameters
    ----------
    x : float
        An amount [USD].

    Returns
    -------
    str
        The amount, rounded to the dollar.
    """
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


#: Exit code of a command stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130
_interrupt_said = False


def say_interrupted(text: str) -> None:
    """Tell the user, once, what Ctrl-C left behind.

    The entry point adds a generic line only when no command has said anything more specific.

    Parameters
    ----------
    text : str
        What was kept or discarded.
    """
    global _interrupt_said
    if not _interrupt_said:
        sys.stderr.write(f"hashpivot: interrupted; {text}\n")
        _interrupt_said = True


def where_announcer(
    err: Console, workers: int | None, scheduler: str | None
) -> Callable[[str], None] | None:
    """How a command says where its tasks run (``hashpivot: … on a LocalCluster of 2 worker
    processes``): always when the user chose the place, else only on a terminal — the default
    is a hint for a person waiting, kept out of logs, pipes and the README's recorded outputs.

    Parameters
    ----------
    err : rich.console.Console
        The command's stderr console.
    workers : int or None
        ``--workers`` [-].
    scheduler : str or None
        ``--scheduler``.

    Returns
    -------
    callable or None
        Prints ``hashpivot: WHERE`` on ``err``; ``None`` when nothing is to be said.
    """
    if workers is None and scheduler is None and not err.is_terminal:
        return None
    return lambda where: err.print(f"hashpivot: {where}")
