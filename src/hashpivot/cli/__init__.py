"""The ``hashpivot`` command line (Typer): the root app (``app``), shared output helpers
(``common``), the ``ledger``, ``buildout`` and ``serve`` commands.

:func:`main` is the installed entry point. It loads the app inside its own Ctrl-C guard, so an
interrupt while the libraries load (seconds on a cold machine) ends with one line and exit 130,
never a traceback."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``hashpivot`` command line; returns its exit code."""
    try:
        from .app import main as run_app
    except KeyboardInterrupt:
        sys.stderr.write("hashpivot: interrupted while loading; nothing was written\n")
        return 130
    return run_app(argv)
