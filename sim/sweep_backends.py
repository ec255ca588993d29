"""Executing a sweep's runs: one run, and where runs happen.

``run_one`` simulates one (grid point, structure, replication) and returns its
KPI row; it depends on its argument only, so it can run anywhere. ``execute``
starts a list of runs in this process (one worker), in a local process pool
(several workers), or on Dask (``--scheduler``: a LocalCluster or a running
scheduler; an optional dependency imported only then), and yields each
finished run's row, or its exception, as it comes. Storing the rows is
``sweep_store``'s job; the order they finish in never matters.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim import metrics
from sim.leads import generate_leads
from sim.seeding import replication_streams
from sim.structures import run_structure
from sim.sweep_spec import RunTask

CONNECT_SECONDS = 10
"""How long to try to reach a Dask scheduler before giving up."""


# ---------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------


def run_one(task: RunTask) -> pd.DataFrame:
    """Simulate one run and return its KPI row.

    Runs in a worker process (or on a Dask worker); depends on its argument only.

    Returns:
        One row: point, structure, replication, seed, every KPI of
        ``metrics.run_kpis`` and ``wall_seconds`` (kept out of ``sweep.parquet``).
    """
    started = time.perf_counter()
    scenario = task.scenario
    streams = replication_streams(scenario.seed, task.replication)
    leads = generate_leads(scenario, np.random.default_rng(streams.leads))
    tables = run_structure(task.structure, leads, scenario, streams)
    kpis = metrics.run_kpis(tables.leads, tables.reps, scenario)
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
# Executing runs: in this process, a process pool, or Dask
# ---------------------------------------------------------------------------


class SweepSetupError(RuntimeError):
    """The runs cannot be started (Dask missing, scheduler unreachable): one line."""


Outcome = tuple[RunTask, "pd.DataFrame | BaseException"]


def execute(tasks: Sequence[RunTask], workers: int, scheduler: str | None = None) -> Runs:
    """Start ``tasks``; iterate over the result for ``(task, row or exception)`` as each finishes.

    The workers are started here, before anything else of the sweep starts a
    thread (a progress bar), and the returned object must be closed
    (``contextlib.closing``): closing before every run finished (an exception
    or Ctrl-C in the caller) cancels the runs not yet done.

    Args:
        tasks: the runs to do.
        workers: processes to use locally (1 runs them in this process).
        scheduler: None for this machine; ``"local"`` for a Dask LocalCluster of
            ``workers`` processes; an address such as ``tcp://host:8786`` for a
            running Dask cluster.
    """
    if scheduler is not None:
        return DaskRuns(tasks, workers, scheduler)
    if workers <= 1 or len(tasks) <= 1:
        return Runs(tasks)
    return PoolRuns(tasks, min(workers, len(tasks)))


class Runs:
    """Runs done one after the other in this process (one worker)."""

    def __init__(self, tasks: Sequence[RunTask]):
        self.tasks = list(tasks)

    def __iter__(self) -> Iterator[Outcome]:
        for task in self.tasks:
            try:
                result: pd.DataFrame | BaseException = run_one(task)
            except Exception as exc:  # a failed run is reported; the others go on
                result = exc
            yield task, result

    def close(self) -> None:
        """Nothing to stop."""


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C back while child processes start, so that they never see it.

    SIGINT is blocked, not ignored: here it stays pending and is delivered as
    KeyboardInterrupt on leaving, once the children are up and told to ignore it.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _ignore_sigint() -> None:
    # Ctrl-C reaches every process of the terminal's group: only the parent handles it.
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread of its process: nothing to do
        pass


def _pool_worker_init() -> None:
    """Set up a pool worker: leave Ctrl-C to the parent, and die with it.

    A parent killed outright (SIGKILL, OOM killer) cannot stop its workers;
    they would wait for work forever. A watchdog thread ends the worker once
    the parent's end of multiprocessing's sentinel pipe closes, which works
    for fork, forkserver and spawn alike (a worker's OS parent is the fork
    server under forkserver, so watching ``os.getppid()`` would not).
    """
    import multiprocessing
    import threading

    _ignore_sigint()
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent process has gone
        os._exit(1)

    threading.Thread(target=watch, name="salesim-parent-watch", daemon=True).start()


class PoolRuns(Runs):
    """Runs in a local process pool, one run per task."""

    def __init__(self, tasks: Sequence[RunTask], workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        super().__init__(tasks)
        # fork on Linux: a worker starts at once with the model already imported
        # (forkserver and spawn re-import pandas, SciPy and SimPy in every worker,
        # seconds on a busy 2-core machine). Forking is safe only without other
        # threads (the command line starts its progress bar after this).
        import threading

        methods = multiprocessing.get_all_start_methods()
        if sys.platform.startswith("linux") and threading.active_count() == 1:
            method = "fork"
        else:
            method = "forkserver" if "forkserver" in methods else "spawn"
        self.executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_pool_worker_init,
        )
        self.finished = False
        self.futures: dict[Any, RunTask] = {}
        try:
            for task in self.tasks:
                self.futures[self.executor.submit(run_one, task)] = task
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[Outcome]:
        from concurrent.futures import as_completed

        for future in as_completed(self.futures):
            error = future.exception()
            yield self.futures[future], error if error is not None else future.result()
        self.finished = True

    def close(self) -> None:
        """Stop the pool; unless every run finished, cancel the rest and stop the workers."""
        if not self.finished:
            for future in self.futures:
                future.cancel()
            # Runs in flight are abandoned, not awaited: a run may take minutes.
            for process in list(getattr(self.executor, "_processes", {}).values()):
                process.terminate()
        self.executor.shutdown(wait=True, cancel_futures=True)


class DaskRuns(Runs):
    """Runs on Dask distributed: a LocalCluster or a running scheduler."""

    def __init__(self, tasks: Sequence[RunTask], workers: int, scheduler: str):
        try:
            import logging

            from distributed import Client, LocalCluster
        except ImportError:
            raise SweepSetupError(
                "--scheduler needs Dask: pip install 'salesim[dask]' (on every worker too)"
            ) from None
        super().__init__(tasks)
        self.cluster = None
        self.futures: list[Any] = []
        try:
            if scheduler == "local":
                # Ctrl-C reaches the whole terminal group; only this process must act on
                # it (cancel, close the cluster), so the cluster's processes ignore it.
                with _sigint_deferred():
                    self.cluster = LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                    self.client = Client(self.cluster)
                    self.client.run(_ignore_sigint, nanny=True)
                    self.client.run(_ignore_sigint)
            else:
                self.client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise SweepSetupError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        # Keys name the run, plus a token so that two sweeps on one cluster never share results.
        token = os.urandom(4).hex()
        keys = [f"salesim-{t.point}-{t.structure}-{t.replication}-{token}" for t in self.tasks]
        self.futures = self.client.map(run_one, self.tasks, key=keys, pure=False)
        self.by_key = {f.key: t for f, t in zip(self.futures, self.tasks, strict=True)}

    def __iter__(self) -> Iterator[Outcome]:
        from distributed import as_completed

        for future in as_completed(self.futures):
            try:
                result: pd.DataFrame | BaseException = future.result()
            except Exception as exc:
                result = exc
            yield self.by_key[future.key], result
            future.release()

    def close(self) -> None:
        """Cancel what is left, disconnect, and stop a LocalCluster."""
        self.client.cancel(self.futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
