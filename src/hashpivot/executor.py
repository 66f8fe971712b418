"""Where tasks run: in this process, on a ``LocalCluster`` of processes, or on any Dask cluster.

One interface for every fan-out of hashpivot — a plan's path blocks, a sweep's variants, a
backtest's origins. :func:`open_executor` chooses the place; :meth:`Executor.share` sends a large
input to every worker once (Dask's ``scatter``); :meth:`Executor.completed` submits one task per
item and yields ``(index, result)`` as tasks finish, in any order. Callers make their results
independent of that order (each task's seed comes from its index, never from the worker), so a
run gives the same numbers in this process, on a ``LocalCluster`` and on a remote scheduler.

A task that raises cancels the rest and re-raises in the caller; so does an interrupt (Ctrl-C) or
a caller that stops reading. A worker that dies has its tasks re-run elsewhere by the scheduler
(Dask keeps the graph; up to ``distributed.scheduler.allowed-failures`` deaths per task).

Bad places are refused before any task: an unreachable scheduler, a scheduler without workers,
workers whose software (hashpivot, NumPy, numba, SciPy, pandas, highspy, Python, Dask) differs
from this client's (numbers are bit-identical only on identical software).
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import HashpivotError, InputError

#: Work of fewer paths than this in all (variants × paths, origins × paths) runs in this process
#: by default: starting worker processes (~4 s, then each loads the compiled kernels) would cost
#: more than it saves.
SMALL_WORK_PATHS = 100_000
#: Seconds to wait for a scheduler to answer [s].
CONNECT_TIMEOUT_S = 10.0
#: Seconds to wait for a scheduler's first worker [s].
WAIT_FOR_WORKERS_S = 10.0
#: Packages whose versions must match between client and workers for bit-identical numbers (the
#: simulation's, the decision's solver and the cluster's own).
MATCHED_PACKAGES = ("hashpivot", "numpy", "numba", "scipy", "pandas", "highspy", "python", "dask",
                    "distributed")  # fmt: skip
#: glibc's allocator settings for worker processes. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``
#: to 64 KiB so that workers give memory back; that also freezes the mmap threshold at 128 KiB,
#: so every large temporary array of a chunk is a fresh mapping, page-faulted on first touch
#: (measured: a path task 40% slower than in this process). These are the values glibc's own
#: dynamic thresholds reach in a long-running process (mmap 32 MiB, trim twice that).
WORKER_MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(32 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(64 * 2**20),
}


def machine_cores() -> int:
    """Cores this process may use [-] (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def software_versions() -> dict[str, str]:
    """The versions of :data:`MATCHED_PACKAGES` in this process (run on each worker too).

    Returns
    -------
    dict of str to str
        Package → version; ``"python"`` is ``major.minor.micro``.
    """
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    out = {name: installed(name) for name in MATCHED_PACKAGES if name != "python"}
    out["python"] = ".".join(str(v) for v in sys.version_info[:3])
    return out


def version_mismatches(client: dict[str, str], workers: dict[str, dict[str, str]]) -> list[str]:
    """Each worker package whose version differs from the client's, as ``"worker: pkg X ≠ Y"``.

    Parameters
    ----------
    client : dict of str to str
        This process's :func:`software_versions`.
    workers : dict of str to dict
        Worker address → its :func:`software_versions`.

    Returns
    -------
    list of str
        One line per mismatch (empty when every worker matches).
    """
    out = []
    for address, theirs in sorted(workers.items()):
        for name in MATCHED_PACKAGES:
            if theirs.get(name) != client.get(name):
                out.append(
                    f"{address} has {name} {theirs.get(name, 'missing')} "
                    f"(this client: {client.get(name)})"
                )
    return out


def ignore_interrupts_plugin() -> Any:
    """A Dask worker plugin by which a worker process ignores SIGINT (its client handles Ctrl-C).

    Registered by :func:`local_cluster` on the workers it starts (restarted ones too). Built on
    call, so that importing this module does not import ``distributed`` (a second at start-up).

    Returns
    -------
    distributed.WorkerPlugin
        The plugin.
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class IgnoreInterrupts(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            """Ignore SIGINT in the worker's main thread (where signal handlers live)."""
            import signal
            import threading

            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return IgnoreInterrupts()


@dataclass
class Executor:
    """A place to run tasks: this process (``client`` is ``None``) or a Dask cluster.

    Parameters
    ----------
    workers : int
        Worker processes the tasks are spread over [-] (1 in this process).
    where : str
        Where the tasks run, in words for the user (``"on a LocalCluster of 2 worker processes"``).
    client : distributed.Client or None
        The Dask client; ``None`` runs every task here, one after another.
    cluster : distributed.LocalCluster or None
        The cluster this executor started (closed with it); ``None`` for a remote scheduler.
    """

    workers: int
    where: str
    client: Any = None
    cluster: Any = None
    _shared: list[Any] = field(default_factory=list, repr=False)

    @property
    def distributed(self) -> bool:
        """Whether tasks run on Dask workers."""
        return self.client is not None

    def share(self, value: Any) -> Any:
        """``value`` sent to every worker once; pass what this returns to :meth:`completed`.

        Parameters
        ----------
        value : Any
            A large, picklable input shared by many tasks (a calibrated model, dispatch curves).

        Returns
        -------
        Any
            A Dask future of it on a cluster, ``value`` itself in this process.
        """
        if self.client is None:
            return value
        future = self.client.scatter(value, broadcast=True, hash=False)
        self._shared.append(future)
        return future

    def completed(
        self,
        fn: Callable[..., Any],
        items: Sequence[tuple[Any, ...]],
        shared: tuple[Any, ...] = (),
        name: str = "task",
    ) -> Iterator[tuple[int, Any]]:
        """Run ``fn(*shared, *item)`` for each item; yield ``(index, result)`` as each finishes.

        On a cluster every task is submitted at once, impure (each draws its own randomness:
        never merged with another task of the same arguments), and results come back in
        completion order; in this process, in item order. A task's exception cancels the
        remaining tasks and is raised here; so is an interrupt, or the caller closing the
        generator early.

        Parameters
        ----------
        fn : callable
            A module-level function (pickled by reference).
        items : sequence of tuple
            Each task's own arguments.
        shared : tuple
            Arguments every task receives first (from :meth:`share`).
        name : str
            Prefix of the tasks' keys (shown on Dask's dashboard).

        Yields
        ------
        tuple of (int, Any)
            The item's index and ``fn``'s result.
        """
        if self.client is None:
            for i, item in enumerate(items):
                yield i, fn(*shared, *item)
            return
        from distributed import KilledWorker, as_completed
        from distributed.comm import CommClosedError

        token = uuid.uuid4().hex[:8]
        futures = [
            self.client.submit(fn, *shared, *item, key=f"{name}-{i}-{token}", pure=False)
            for i, item in enumerate(items)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures, loop=self.client.loop):
                try:
                    result = future.result()  # a task's own error is raised here, as raised
                except KilledWorker:
                    raise HashpivotError(
                        f"{name} {index[future.key]}: every worker that ran it died (the "
                        "scheduler gave up after distributed.scheduler.allowed-failures "
                        "retries); out of memory? Nothing of this run was stored"
                    ) from None
                except (CommClosedError, OSError) as exc:
                    raise HashpivotError(
                        f"the Dask scheduler was lost while {name}s ran ({exc}); nothing of "
                        "this run was stored"
                    ) from None
                future.release()
                yield index[future.key], result
        finally:  # after an error, an interrupt or a caller that stopped reading: the rest
            unfinished = [f for f in futures if not f.done()]
            if unfinished:
                self.client.cancel(unfinished, force=True)

    def close(self) -> None:
        """Release the shared inputs; close the client and the cluster this executor started."""
        if self.client is None:
            return
        try:
            for future in self._shared:
                future.release()
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_process(reason: str = "") -> Executor:
    """An executor that runs every task here, one after another.

    Parameters
    ----------
    reason : str
        Why (appended to :attr:`Executor.where`, e.g. ``"small run"``).

    Returns
    -------
    Executor
        With ``workers == 1`` and no client.
    """
    return Executor(1, "in this process" + (f" ({reason})" if reason else ""))


def local_cluster(workers: int, threads_per_worker: int | None = None) -> Executor:
    """A ``LocalCluster`` of ``workers`` processes on this machine, each one Dask thread.

    Parameters
    ----------
    workers : int
        Worker processes [-], 1 ≤ workers ≤ this machine's cores.
    threads_per_worker : int or None
        Threads each worker's compiled kernels may use [-]; ``None`` shares the cores out
        (``cores // workers``, at least 1).

    Returns
    -------
    Executor
        Started and connected; :meth:`Executor.close` stops the cluster.

    Raises
    ------
    InputError
        ``workers`` (or ``threads_per_worker``) is not a whole number in range.
    """
    cores = machine_cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= cores:
        raise InputError("workers", workers, f"a whole number of processes from 1 to {cores}")
    threads = max(1, cores // workers) if threads_per_worker is None else threads_per_worker
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError("threads_per_worker", threads, "a whole number ≥ 1")
    import dask
    from distributed import Client, LocalCluster

    one = str(threads)
    # The kernels' thread pools: set in each worker process before it imports numba. glibc's
    # settings must be there before the process starts (the nanny's pre-spawn environment),
    # which the nanny writes into this process's own environment too: put back afterwards.
    threads_env = {"NUMBA_NUM_THREADS": one, "OMP_NUM_THREADS": one, "OPENBLAS_NUM_THREADS": one}
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC_ENV}
    try:
        with dask.config.set(
            {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC_ENV.items()}
        ):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # an HTTP server starts anyway: a free port
                silence_logs=logging.ERROR,
                env=threads_env,
            )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        client = Client(cluster)
        # Ctrl-C in a terminal reaches the whole process group; the client cancels the tasks and
        # stops the cluster, so the workers leave the signal to it (and print no tracebacks)
        client.register_plugin(ignore_interrupts_plugin(), name="hashpivot-ignore-interrupts")
    except BaseException:
        cluster.close()
        raise
    s = "" if workers == 1 else "es"
    return Executor(workers, f"on a LocalCluster of {workers} worker process{s}", client, cluster)


def connect(
    address: str,
    *,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    wait_for_workers_s: float = WAIT_FOR_WORKERS_S,
) -> Executor:
    """Connect to a running Dask scheduler and check its workers before any task.

    Parameters
    ----------
    address : str
        The scheduler, ``tcp://HOST:PORT`` (``dask scheduler`` prints it; port 8786 by default).
    connect_timeout_s : float
        Longest wait for the scheduler to answer [s].
    wait_for_workers_s : float
        Longest wait for its first worker [s].

    Returns
    -------
    Executor
        Connected; :meth:`Executor.close` disconnects (the cluster keeps running).

    Raises
    ------
    InputError
        (field ``scheduler``) Not a scheduler address, unreachable, without workers, or with
        workers whose software differs from this client's.
    """
    allowed = "the address of a running Dask scheduler, e.g. tcp://HOST:8786"
    if not isinstance(address, str) or "://" not in address:
        raise InputError("scheduler", address, allowed)
    from distributed import Client

    try:
        client = Client(address, timeout=connect_timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            "scheduler",
            address,
            f"{allowed} (none answered within {connect_timeout_s:g} s: {str(exc).splitlines()[0]})",
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=wait_for_workers_s)
        except TimeoutError:
            raise InputError(
                "scheduler",
                address,
                f"a scheduler with at least one worker (it had none after {wait_for_workers_s:g}"
                " s; start one with: dask worker " + address + ")",
            ) from None
        try:
            theirs = client.run(software_versions)
        except Exception as exc:  # a worker without hashpivot cannot even import the function
            raise InputError(
                "scheduler",
                address,
                "workers that can import hashpivot (install the same hashpivot on every "
                f"worker: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            ) from None
        wrong = version_mismatches(software_versions(), theirs)
        if wrong:
            raise InputError(
                "scheduler",
                address,
                "workers with the same software as this client (numbers are bit-identical only "
                "then): " + "; ".join(wrong),
            )
    except BaseException:
        client.close()
        raise
    n = len(theirs)
    s = "" if n == 1 else "s"
    return Executor(n, f"on the Dask cluster at {address} ({n} worker{s})", client)


def open_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    small: bool = False,
    tasks: int | None = None,
) -> Executor:
    """The executor the user asked for, or the default for the size of the work.

    Parameters
    ----------
    workers : int or None
        ``0``: in this process; ``N ≥ 1``: a ``LocalCluster`` of ``N`` processes [-].
    scheduler : str or None
        A running Dask scheduler's address (``tcp://HOST:8786``).
    small : bool
        The work is small enough that starting processes would cost more than it saves: with
        neither ``workers`` nor ``scheduler``, it runs in this process (and says so).
    tasks : int or None
        The number of tasks [-]; a default ``LocalCluster`` has no more workers than tasks.

    Returns
    -------
    Executor
        Ready; use it as a context manager.

    Raises
    ------
    InputError
        Both ``workers`` and ``scheduler``, a worker count outside 0 … this machine's cores
        (:func:`check_workers_flag`), or a bad scheduler.
    """
    check_workers_flag(workers)
    if workers is not None and scheduler is not None:
        raise InputError(
            "workers", workers, "either --workers or --scheduler, not both (a cluster has its own)"
        )
    if scheduler is not None:
        return connect(scheduler)
    if workers == 0:
        return in_process("--workers 0")
    if workers is not None:
        return local_cluster(workers)
    cores = machine_cores()
    if small or cores == 1 or tasks == 1:
        return in_process("small run" if small else "one task" if tasks == 1 else "one core")
    return local_cluster(min(cores, tasks or cores))


def check_workers_flag(workers: int | None) -> None:
    """Refuse a bad ``--workers`` before anything else is done.

    Parameters
    ----------
    workers : int or None
        The flag's value [-].

    Raises
    ------
    InputError
        Not ``None``, 0, or a whole number up to this machine's cores.
    """
    cores = machine_cores()
    if workers is not None and not 0 <= workers <= cores:
        raise InputError(
            "workers",
            workers,
            f"0 (in this process) or a number of worker processes from 1 to {cores} (this "
            "machine's cores; for more, start a cluster and pass --scheduler)",
        )
