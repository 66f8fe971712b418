"""Scratch arrays reused from chunk to chunk of a run.

A chunk of the plan engine fills a few dozen MB of ``[path, month]`` arrays (shocks, market state,
site cash flows). Freshly allocated, every 4 KiB page of them costs the kernel a page fault on first
touch — about as long as the arithmetic done on it. A :class:`Workspace` hands out the same arrays
again for the next chunk instead. Only the run loop uses one: arrays taken from a workspace are
valid until the same name is asked for again, so nothing that outlives a chunk may keep them
(the accumulator copies what it keeps).
"""

from __future__ import annotations

import numpy as np

from .units import FloatArray


class Workspace:
    """Named scratch arrays of float64, reallocated only when the shape asked for changes."""

    def __init__(self) -> None:
        self._arrays: dict[str, FloatArray] = {}

    def empty(self, name: str, shape: tuple[int, ...]) -> FloatArray:
        """An uninitialised array of ``shape``: the one handed out under ``name`` last time if
        its shape matches."""
        a = self._arrays.get(name)
        if a is None or a.shape != shape:
            a = self._arrays[name] = np.empty(shape)
        return a


def empty(workspace: Workspace | None, name: str, shape: tuple[int, ...]) -> FloatArray:
    """``workspace.empty(name, shape)``, or a fresh array without a workspace.

    Parameters
    ----------
    workspace : Workspace or None
        The run's reusable arrays.
    name : str
        The array's name in the workspace.
    shape : tuple of int
        Its shape [-].

    Returns
    -------
    numpy.ndarray of float
        An uninitialised float64 array.
    """
    return np.empty(shape) if workspace is None else workspace.empty(name, shape)
