"""Executing a sweep's runs: one run, and where runs happen.

``run_one`` simulates one (grid point, structure, replication) and returns its
KPI row; it depends on its argument only, so it can run anywhere. ``execute``
starts a list of runs in this process (one worker), in a local process pool
(several workers), or on Dask (``--scheduler``: a LocalCluster or a running
scheduler; an optional dependency imported only then), and yields each
finished run's row, or its exception, as it comes. Storing the rows is
``sweep_store``'s job; the order they finish in never matters.

The local pool survives a lost worker: a worker process killed under a run
(the out-of-memory killer, ``kill -9``) is replaced and the run started again;
a run whose worker dies twice is reported failed (``WorkerLost``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
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


class WorkerLost(RuntimeError):
    """A run whose worker process died under it at every attempt (killed, e.g. out of memory)."""


ATTEMPTS = 2
"""Times a run is started in a fresh worker before a dying worker counts as its failure."""


@dataclasses.dataclass(eq=False)
class _Worker:
    """One pool process, the parent's end of its pipe, and the run it is doing."""

    process: Any
    conn: Any
    task: RunTask | None = None


class PoolRuns(Runs):
    """Runs in a pool of local processes, one run at a time per process.

    Each worker has its own pipe, so the parent always knows which run a worker
    is doing. A worker that dies (the kernel's out-of-memory killer, ``kill
    -9``) takes only its own run down: the others go on, a new process takes
    its place, and the run is started again; a run whose worker died
    ``ATTEMPTS`` times is reported failed with ``WorkerLost``. Each run is
    seeded by its own key, so a retried run gives the same row.
    """

    def __init__(self, tasks: Sequence[RunTask], workers: int, start_method: str | None = None):
        super().__init__(tasks)
        self.size = min(workers, len(self.tasks))
        self.start_method = start_method
        self.queue: collections.deque[RunTask] = collections.deque(self.tasks)
        self.deaths: collections.Counter[tuple[int, str, int]] = collections.Counter()
        self.workers: list[_Worker] = []
        self.finished = False
        try:
            with _sigint_deferred():
                self.workers = [self._start_worker() for _ in range(self.size)]
        except BaseException:
            self.close()
            raise

    def _start_worker(self) -> _Worker:
        import multiprocessing

        context = multiprocessing.get_context(self.start_method or _start_method())
        conn, child_conn = multiprocessing.Pipe()
        process = context.Process(
            target=_pool_worker, args=(child_conn,), name="salesim-sweep-worker", daemon=True
        )
        process.start()
        child_conn.close()  # the worker's end lives in the worker only: its death reads as EOF
        return _Worker(process, conn)

    def __iter__(self) -> Iterator[Outcome]:
        from multiprocessing.connection import wait

        while True:
            self._dispatch()
            busy = [w for w in self.workers if w.task is not None]
            if not busy:
                break
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            outcomes = [
                self._collect(w) for w in busy if w.conn in ready or w.process.sentinel in ready
            ]
            self._dispatch()  # the next runs start while the caller stores these
            yield from (outcome for outcome in outcomes if outcome is not None)
        self.finished = True

    def _dispatch(self) -> None:
        """Give each idle worker a run, starting new workers in place of lost ones."""
        while self.queue:
            idle = next((w for w in self.workers if w.task is None), None)
            if idle is None:
                if len(self.workers) >= self.size:
                    return
                with _sigint_deferred():
                    idle = self._start_worker()
                self.workers.append(idle)
            idle.task = self.queue.popleft()
            # A worker that died while idle is found by the wait in __iter__, like any other.
            with contextlib.suppress(OSError):
                idle.conn.send(idle.task)

    def _collect(self, worker: _Worker) -> Outcome | None:
        """The run a ready worker finished, or None when its worker died and the run is retried."""
        task = worker.task
        assert task is not None
        worker.task = None
        try:
            return task, worker.conn.recv()
        except (EOFError, OSError):  # the worker died mid-run
            pass
        except Exception as exc:  # the row or error came but does not unpickle here
            return task, exc
        exitcode = self._discard(worker)
        self.deaths[task.key] += 1
        if self.deaths[task.key] < ATTEMPTS:
            self.queue.appendleft(task)
            return None
        return task, WorkerLost(
            f"its worker process died at each of {ATTEMPTS} attempts "
            f"(last: {_exit_reason(exitcode)})"
        )

    def _discard(self, worker: _Worker) -> int | None:
        """Forget a dead worker; return its exit code."""
        self.workers.remove(worker)
        worker.process.join(timeout=5)
        worker.conn.close()
        return worker.process.exitcode

    def close(self) -> None:
        """Stop the workers: idle ones are told to exit; busy ones (runs abandoned) terminated."""
        for worker in self.workers:
            if self.finished:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            else:
                # Runs in flight are abandoned, not awaited: a run may take minutes.
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.workers = []


def _start_method() -> str:
    """The start method for a new worker: fork while this process has one thread."""
    import multiprocessing
    import threading

    # fork: a worker starts at once with the model already imported (forkserver and
    # spawn re-import pandas, SciPy and SimPy in every worker, seconds on a busy 2-core
    # machine). Forking is safe only without other threads (the command line starts
    # its progress bar after the first workers; a lost one may be replaced later).
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _exit_reason(exitcode: int | None) -> str:
    """How a worker process ended, in words."""
    import signal

    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = ", as the out-of-memory killer does" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit code {exitcode}"


def _pool_worker(conn: Any) -> None:
    """A pool worker: receive a run, do it, send back its row or its exception; None ends.

    Test hooks, read here only (in a pool worker, never in this process or on
    Dask), for the tests of lost workers and of Ctrl-C; never set them otherwise:

    - ``SALESIM_TEST_KILL_RUN=POINT/STRUCTURE/REPLICATION`` (e.g. ``1/conveyor/0``):
      the worker starting that run kills itself with SIGKILL, as the
      out-of-memory killer would. ``...@FILE`` does so only while FILE does not
      exist, creating it first: the run kills one worker, then succeeds.
    - ``SALESIM_TEST_HOLD_RUNS=POINT/STRUCTURE/REPLICATION@FILE``: every other
      run waits until FILE exists, so the sweep cannot finish before the test
      is done with it.
    """
    _pool_worker_init()
    hook = _test_hook(os.environ)
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent has gone
            return
        if task is None:
            return
        if hook is not None:
            hook(task)
        try:
            result: pd.DataFrame | BaseException = run_one(task)
        except Exception as exc:  # a failed run is reported; the others go on
            result = exc
        try:
            conn.send(result)
        except Exception:  # an exception that cannot be pickled: send its text
            conn.send(RuntimeError(f"{type(result).__name__}: {result}"))


def _test_hook(environ: Mapping[str, str]) -> Callable[[RunTask], None] | None:
    """The test hooks set in ``environ`` (see ``_pool_worker``), or None: the usual case."""
    kill = environ.get("SALESIM_TEST_KILL_RUN")
    hold = environ.get("SALESIM_TEST_HOLD_RUNS")
    if not kill and not hold:
        return None
    kill_run, _, kill_mark = (kill or "").partition("@")
    free_run, _, gate = (hold or "").partition("@")

    def hook(task: RunTask) -> None:
        import signal

        name = f"{task.point}/{task.structure}/{task.replication}"
        if name == kill_run and not (kill_mark and os.path.exists(kill_mark)):
            if kill_mark:
                open(kill_mark, "x").close()
            os.kill(os.getpid(), signal.SIGKILL)
        while hold and name != free_run and not os.path.exists(gate):
            time.sleep(0.01)

    return hook


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
