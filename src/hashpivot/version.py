"""The installed version of hashpivot (the foundation: imports nothing of hashpivot)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hashpivot")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
