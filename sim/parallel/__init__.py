"""Where independent runs happen: this process, a pool of local processes, or Dask.

A run is anything a worker can do from its argument alone: one sweep run
(``sim.sweep.backends.run_one``), one structure in one replication
(``sim.model.runner.run_replication``). A kitchen with one cook or four
serves the same dishes; only the wait changes. Every caller hands its runs to
a backend and puts the results back in its own order, so what it writes
never depends on how many workers there were or in what order runs finished.

``open_backend`` chooses: one worker runs in this process; several, a local
process pool that survives lost workers (``sim.parallel.pool``); a
``--scheduler``, Dask (``sim.parallel.cluster``: a LocalCluster or a running
scheduler, asked who it is before anything is written; an optional
dependency imported only then). A backend takes runs in rounds: ``submit``,
then iterate for ``(task, result or exception)`` until the round is done,
then submit the next round to the same workers (a capacity plan simulates
tens of teams one after the other). Nothing here imports the model: the run
function comes from the caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sim.parallel.pool import PoolRuns, Runs, Task, WorkerLost

__all__ = [
    "CONNECT_SECONDS",
    "BackendSetupError",
    "PoolRuns",
    "Runs",
    "Task",
    "WorkerLost",
    "default_workers",
    "open_backend",
    "scheduler_problem",
]

CONNECT_SECONDS = 5.0
"""How long a Dask scheduler has to answer (``--scheduler``) before the command gives up."""

SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
"""The address schemes ``--scheduler`` takes (besides ``local``): Dask's network protocols."""


class BackendSetupError(RuntimeError):
    """The runs cannot be started (Dask missing, scheduler unreachable): one line."""


def scheduler_problem(scheduler: str) -> str | None:
    """What is wrong with a ``--scheduler`` value, in one line; None when nothing is."""
    scheme, sep, rest = scheduler.partition("://")
    if scheduler == "local" or (sep and scheme in SCHEDULER_SCHEMES and rest):
        return None
    return (
        "--scheduler: expected 'local' or a Dask scheduler address tcp://HOST:PORT "
        f"(also tls://, ws://, wss://), got {scheduler!r}"
    )


def open_backend(
    work: Callable[[Any], Any],
    workers: int,
    scheduler: str | None = None,
    connect_seconds: float | None = None,
) -> Runs:
    """Choose where runs happen; then ``submit`` runs and iterate for ``(task, result or error)``.

    A Dask scheduler is reached and asked who it is here, so that a wrong
    address is reported before the caller writes anything. Local workers start
    on ``start`` or the first ``submit``, which must come before the caller
    starts a thread (a progress bar): forking a process with threads is unsafe,
    and the slower safe way re-imports the model in every worker. The returned
    object must be closed (``contextlib.closing``): closing before every run
    finished (an exception or Ctrl-C in the caller) cancels the runs not yet done.

    Args:
        work: what a worker does with a task: a module-level function (Dask and
            the pool's spawn and forkserver ways send it by name).
        workers: processes to use locally (1 runs them in this process).
        scheduler: None for this machine; ``"local"`` for a Dask LocalCluster of
            ``workers`` processes; an address such as ``tcp://host:8786`` for a
            running Dask cluster.
        connect_seconds: how long a Dask scheduler has to answer
            (default ``CONNECT_SECONDS``).

    Raises:
        BackendSetupError: a bad address, Dask missing, or no Dask scheduler answered.
    """
    if scheduler is None:
        return Runs(work) if workers <= 1 else PoolRuns(work, workers)
    problem = scheduler_problem(scheduler)
    if problem is not None:
        raise BackendSetupError(problem)
    from sim.parallel.cluster import DaskRuns

    seconds = CONNECT_SECONDS if connect_seconds is None else connect_seconds
    return DaskRuns(work, workers, scheduler, seconds)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
