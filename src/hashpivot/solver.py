"""The HiGHS solver, quiet: one place that builds instances for every LP and MILP of the package
(the hourly dispatch LP, the portfolio MILP)."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

_HIGHS_LOCK = threading.Lock()
_HIGHS_QUIET = False


def quiet_highs() -> Any:
    """A HiGHS instance with its output off before it can print.

    HiGHS (1.16) prints a banner on the process's standard output (file descriptor 1, below
    Python) when the first instance is built, which would corrupt ``--json`` output: the first
    construction runs with descriptor 1 pointed at ``/dev/null``; every instance then gets
    ``output_flag`` off at once.

    Returns
    -------
    highspy.Highs
        A fresh solver.
    """
    global _HIGHS_QUIET
    import highspy

    with _HIGHS_LOCK:
        if not _HIGHS_QUIET:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _HIGHS_QUIET = True
        else:
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h
