"""Whether numba is available: the one switch for every compiled kernel (the site and company
kernels, the market simulation, bulk SHA-256). numba is a declared dependency; the NumPy paths
keep everything usable without it. Importing this imports numba and nothing of hashpivot."""

from __future__ import annotations

try:
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


def needs_compiling(module_names: tuple[str, ...]) -> bool:
    """Whether running the kernels of ``module_names`` is likely to compile them first.

    About 15 s once: some module has no cache index newer than its source in numba's cache folder
    (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the source; numba names a folder in the user
    cache after the source's own folder). Finds the sources without importing them. A heuristic
    for telling the user, never for correctness.

    Parameters
    ----------
    module_names : tuple of str
        Dotted module names, e.g. ``("hashpivot.sites.kernel",)``.

    Returns
    -------
    bool
        ``True`` when some module looks uncompiled.
    """
    if not HAVE_NUMBA:
        return False
    import os
    from importlib.util import find_spec
    from pathlib import Path

    cache = Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else None
    for name in module_names:
        spec = find_spec(name)
        if spec is None or spec.origin is None:
            return True
        src = Path(spec.origin)
        if cache is None:
            folders = [src.parent / "__pycache__"]
        else:
            folders = [d for d in cache.rglob(f"{src.parent.name}*") if d.is_dir()]
        newest = max(
            (f.stat().st_mtime for d in folders for f in d.glob(f"{src.stem}.*.nbi")),
            default=0.0,
        )
        if newest < src.stat().st_mtime:
            return True
    return False
