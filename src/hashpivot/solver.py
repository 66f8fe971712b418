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


def highs_lp(
    cost: Any,
    col_lower: Any,
    col_upper: Any,
    a_csc: Any,
    row_lower: Any,
    row_upper: Any,
    integer: Any = None,
) -> Any:
    """A maximising HiGHS model from arrays, infinite bounds as HiGHS's infinity.

    Parameters
    ----------
    cost : numpy.ndarray of float
        Objective coefficient per column [-].
    col_lower : numpy.ndarray of float
        Column lower bounds (``-inf`` for none) [-].
    col_upper : numpy.ndarray of float
        Column upper bounds (``inf`` for none) [-].
    a_csc : scipy.sparse.csc_matrix
        Constraint matrix, column-wise [-].
    row_lower : numpy.ndarray of float
        Row lower bounds (``-inf`` for none) [-].
    row_upper : numpy.ndarray of float
        Row upper bounds (``inf`` for none) [-].
    integer : numpy.ndarray of bool or None
        Integer columns (a MILP); ``None`` for an LP.

    Returns
    -------
    highspy.HighsLp
        The model, ready for ``passModel``.
    """
    import highspy
    import numpy as np

    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), len(row_lower)
    lp.col_cost_ = cost
    lp.col_lower_ = np.where(np.isfinite(col_lower), col_lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_upper), col_upper, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a_csc.indptr
    lp.a_matrix_.index_ = a_csc.indices
    lp.a_matrix_.value_ = a_csc.data
    lp.sense_ = highspy.ObjSense.kMaximize
    if integer is not None:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(i)] for i in integer]
    return lp
