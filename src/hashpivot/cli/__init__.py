"""The ``hashpivot`` command line (Typer): the root app (``app``), shared output helpers
(``common``), the ``ledger``, ``buildout`` and ``serve`` commands.

:func:`main` is the installed entry point. It loads the app inside its own Ctrl-C guard, so an
interrupt while the libraries load (seconds on a cold machine) ends with one line and exit 130,
never a traceback."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``hashpivot`` command line (the console entry point).

    A Ctrl-C while the command's modules load is caught here and reported in one line.

    Parameters
    ----------
    argv : list of str or None
        Arguments after the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit code (130 when interrupted while loading).
    """
    try:
        from .app import main as run_app
    except KeyboardInterrupt:
        sys.stderr.write("hashpivot: interrupted while loading; nothing was written\n")
        return 130
    return run_app(argv)
