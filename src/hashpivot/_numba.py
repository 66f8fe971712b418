"""Whether numba is available: the one switch for every compiled kernel (the site and company
kernels, the market simulation, bulk SHA-256). numba is a declared dependency; the NumPy paths
keep everything usable without it. Importing this imports numba and nothing of hashpivot."""

from __future__ import annotations

try:
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False
