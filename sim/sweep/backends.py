"""Executing a sweep's runs: one run, and where runs happen.

``run_one`` simulates one (grid point, structure, replication) and returns its
KPI row; it depends on its argument only, so it can run anywhere.
``open_backend`` chooses where runs happen: this process (one worker), a
local process pool (several workers), or Dask (``--scheduler``); the
machinery is ``sim.parallel``'s, shared with the commands that run
replications. Runs submitted to it come back as each finishes, as its row or
its exception. Storing the rows is ``sweep_store``'s job; the order they
finish in never matters.

The local pool survives a lost worker: a worker process killed under a run
(the out-of-memory killer, ``kill -9``) is replaced and the run started again;
a run whose worker dies twice is reported failed (``WorkerLost``).
"""

from __future__ import annotations

import time

import pandas as pd

from sim import parallel
from sim.analysis import kpi_values
from sim.model.runner import run_once
from sim.parallel import BackendSetupError, Runs, WorkerLost, default_workers, scheduler_problem
from sim.parallel.cluster import check_scheduler
from sim.sweep.spec import RunTask

__all__ = [
    "CONNECT_SECONDS",
    "PoolRuns",
    "Runs",
    "SweepSetupError",
    "WorkerLost",
    "check_scheduler",
    "default_workers",
    "open_backend",
    "run_one",
    "scheduler_problem",
]

CONNECT_SECONDS = parallel.CONNECT_SECONDS
"""How long a Dask scheduler has to answer (``--scheduler``) before the sweep gives up."""

SweepSetupError = BackendSetupError
"""The runs cannot be started (Dask missing, scheduler unreachable): one line."""


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------


def run_one(task: RunTask) -> pd.DataFrame:
    """Simulate one run and return its KPI row.

    Runs in a worker process (or on a Dask worker); depends on its argument only.

    Returns:
        One row: point, structure, replication, seed, every KPI of
        ``kpi_values.run_kpis`` and ``wall_seconds`` (kept out of ``sweep.parquet``).
    """
    started = time.perf_counter()
    scenario = task.scenario
    tables = run_once(scenario, task.structure, task.replication)
    kpis = kpi_values.run_kpis(tables.leads, tables.reps, scenario)
    if len(kpis) != 1:
        raise RuntimeError(f"expected one KPI row, got {len(kpis)} (did any lead arrive?)")
    row = kpis.drop(columns=["structure", "replication"])
    row.insert(0, "seed", scenario.seed)
    row.insert(0, "replication", task.replication)
    row.insert(0, "structure", task.structure)
    row.insert(0, "point", task.point)
    row["wall_seconds"] = time.perf_counter() - started
    return row.reset_index(drop=True)


# ---------------------------------------------------------------------------
# Executing runs: in this process, a process pool, or Dask (sim.parallel)
# ---------------------------------------------------------------------------


def open_backend(
    workers: int, scheduler: str | None = None, connect_seconds: float | None = None
) -> Runs:
    """Where the sweep's runs happen (``sim.parallel.open_backend`` doing ``run_one``).

    Args:
        workers: processes to use locally (1 runs them in this process).
        scheduler: None for this machine; ``"local"`` for a Dask LocalCluster of
            ``workers`` processes; an address such as ``tcp://host:8786`` for a
            running Dask cluster.
        connect_seconds: how long a Dask scheduler has to answer
            (default ``CONNECT_SECONDS``).

    Raises:
        SweepSetupError: a bad address, Dask missing, or no Dask scheduler answered.
    """
    seconds = CONNECT_SECONDS if connect_seconds is None else connect_seconds
    return parallel.open_backend(run_one, workers, scheduler, seconds)


class PoolRuns(parallel.PoolRuns):
    """A local process pool doing sweep runs (``run_one``)."""

    def __init__(self, workers: int, start_method: str | None = None):
        super().__init__(run_one, workers, start_method)
