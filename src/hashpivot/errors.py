"""The one place for hashpivot's user-facing errors.

Every error a user can cause names the *field*, the *value* given and what is *allowed*, so the
command line can print it on one line and exit with code 2 (no traceback).
"""

from __future__ import annotations

from typing import Any, TypeVar


class HashpivotError(Exception):
    """Base class of every error hashpivot raises on purpose."""


class InputError(HashpivotError, ValueError):
    """Bad user input: a field, the offending value and what is allowed.

    Parameters
    ----------
    field : str
        Path of the field, e.g. ``sites[3].power_mw`` or ``--difficulty``.
    value : Any
        The value that was given.
    allowed : str
        What would have been accepted, e.g. ``"> 0"`` or ``"one of: S19, S21"``.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value!r} is not allowed; allowed: {allowed}")


class DataRangeError(InputError):
    """A date or height outside the shipped data."""


class ConfigError(HashpivotError, ValueError):
    """A configuration file that cannot be read or does not validate.

    ``messages`` holds one line per problem, each naming the field path; ``locs`` holds the
    same paths as tuples of keys and indices (``()`` where a problem is not about one field), for
    callers that report fields structurally (the web API's 422s).
    """

    def __init__(
        self,
        source: str,
        messages: list[str],
        locs: list[tuple[str | int, ...]] | None = None,
    ) -> None:
        self.source = source
        self.messages = list(messages)
        self.locs = list(locs) if locs is not None else [()] * len(self.messages)
        super().__init__(f"{source}: " + "; ".join(self.messages))


class RunCancelled(HashpivotError):
    """A run stopped on request (``DELETE /api/jobs/{id}``, Ctrl-C) before anything was written."""


class StorageError(HashpivotError):
    """A file or store could not be written (a full disk, a read-only medium, a lock): says
    what was written and what was not."""


class InvalidBitsError(InputError):
    """A compact ``nBits`` value that Bitcoin Core would reject (negative, overflow or zero)."""


def require_positive(field: str, value: float) -> float:
    """Return ``value`` if it is a finite number > 0, else raise :class:`InputError`.

    Parameters
    ----------
    field : str
        The field's name, used in the error.
    value : float
        The value, in the field's unit [any].

    Returns
    -------
    float
        ``value``.
    """
    if not _is_finite(value) or value <= 0:
        raise InputError(field, value, "a finite number > 0")
    return value


def require_fraction(field: str, value: float, *, open_low: bool = False) -> float:
    """Return ``value`` if it lies in [0, 1] (or (0, 1] with ``open_low``), else raise.

    Parameters
    ----------
    field : str
        The field's name, used in the error.
    value : float
        The value [-].
    open_low : bool
        Exclude 0.

    Returns
    -------
    float
        ``value``.

    Raises
    ------
    InputError
        Outside the range or not a finite number.
    """
    low_ok = value > 0 if open_low else value >= 0
    if not _is_finite(value) or not low_ok or value > 1:
        raise InputError(field, value, "a number in (0, 1]" if open_low else "a number in [0, 1]")
    return value


def require_non_negative(field: str, value: float) -> float:
    """Return ``value`` if it is a finite number >= 0, else raise :class:`InputError`.

    Parameters
    ----------
    field : str
        The field's name, used in the error.
    value : float
        The value, in the field's unit [any].

    Returns
    -------
    float
        ``value``.
    """
    if not _is_finite(value) or value < 0:
        raise InputError(field, value, "a finite number >= 0")
    return value


def _is_finite(value: Any) -> bool:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return v == v and v not in (float("inf"), float("-inf"))


_T = TypeVar("_T")


def present(value: _T | None, field: str, allowed: str = "a value") -> _T:
    """``value`` if it is given, else :class:`InputError` naming ``field``.

    For the optional fields that validation makes required together (a site's ``conversion`` when
    its type converts, say), so the code that relies on them says so, typed.

    Parameters
    ----------
    value : object or None
        The optional value.
    field : str
        The field's path, used in the error.
    allowed : str
        What the error says is allowed.

    Returns
    -------
    object
        ``value``, no longer optional.

    Raises
    ------
    InputError
        ``value`` is ``None``.
    """
    if value is None:
        raise InputError(field, None, allowed)
    return value
