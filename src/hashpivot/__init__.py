"""hashpivot: where should each megawatt go — mine bitcoin, host AI, or sell the power back?

The package is a set of pure functions per concept (``network``, ``hardware``, ``mining`` …) over
NumPy arrays, thin frozen domain objects, and a command line (``hashpivot``) on top.
Importing it configures no logging and touches no network.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hashpivot")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
