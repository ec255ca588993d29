"""Executing a sweep's runs: one run, and where runs happen.

``run_one`` simulates one (grid point, structure, replication) and returns its
KPI row; it depends on its argument only, so it can run anywhere.
``open_backend`` chooses where runs happen: this process (one worker), a
local process pool (several workers), or Dask (``--scheduler``: a LocalCluster
or a running scheduler, asked who it is before anything is written; an
optional dependency imported only then). Runs submitted to it come back as
each finishes, as its row or its exception. Storing the rows is
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

import pandas as pd

from sim.analysis import kpi_values
from sim.model.runner import run_once
from sim.sweep.spec import RunTask

CONNECT_SECONDS = 5.0
"""How long a Dask scheduler has to answer (``--scheduler``) before the sweep gives up."""

SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
"""The address schemes ``--scheduler`` takes (besides ``local``): Dask's network protocols."""


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
# Executing runs: in this process, a process pool, or Dask
# ---------------------------------------------------------------------------


class SweepSetupError(RuntimeError):
    """The runs cannot be started (Dask missing, scheduler unreachable): one line."""


Outcome = tuple[RunTask, "pd.DataFrame | BaseException"]


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
    workers: int, scheduler: str | None = None, connect_seconds: float | None = None
) -> Runs:
    """Choose where runs happen; then ``submit`` runs and iterate for ``(task, row or error)``.

    A Dask scheduler is reached and asked who it is here, so that a wrong
    address is reported before the caller writes anything. Local workers start
    on ``submit``, which must come before anything else of the sweep starts a
    thread (a progress bar). The returned object must be closed
    (``contextlib.closing``): closing before every run finished (an exception
    or Ctrl-C in the caller) cancels the runs not yet done.

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
    if scheduler is None:
        return Runs() if workers <= 1 else PoolRuns(workers)
    problem = scheduler_problem(scheduler)
    if problem is not None:
        raise SweepSetupError(problem)
    seconds = CONNECT_SECONDS if connect_seconds is None else connect_seconds
    return DaskRuns(workers, scheduler, seconds)


class Runs:
    """Runs done one after the other in this process (one worker)."""

    def __init__(self) -> None:
        self.tasks: list[RunTask] = []

    def submit(self, tasks: Sequence[RunTask]) -> None:
        """Hand over the runs to do (once)."""
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
"""How many times a run may lose its worker process; the last loss fails the run."""


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

    def __init__(self, workers: int, start_method: str | None = None):
        super().__init__()
        self.size = workers
        self.start_method = start_method
        self.queue: collections.deque[RunTask] = collections.deque()
        self.deaths: collections.Counter[tuple[int, str, int]] = collections.Counter()
        self.workers: list[_Worker] = []
        self.finished = False

    def submit(self, tasks: Sequence[RunTask]) -> None:
        """Start a worker per run, up to ``workers``; each gets its first run when iterated."""
        super().submit(tasks)
        self.queue.extend(self.tasks)
        self.size = min(self.size, len(self.tasks))
        with _sigint_deferred():
            while len(self.workers) < self.size:
                self.workers.append(self._start_worker())

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
            elif not idle.process.is_alive():  # died between runs: no run's fault
                self._discard(idle)
                continue
            idle.task = self.queue.popleft()
            # Should it die now, the wait in __iter__ finds it, as any other lost worker.
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

    def __init__(self, workers: int, scheduler: str, connect_seconds: float):
        try:
            from distributed import Client
        except ImportError:
            raise SweepSetupError(
                "--scheduler needs Dask: pip install 'salesim[dask]' (on every worker too)"
            ) from None
        super().__init__()
        self.cluster = None
        self.client = None
        self.futures: list[Any] = []
        if scheduler == "local":
            self._start_local_cluster(workers)
            return
        check_scheduler(scheduler, connect_seconds)
        try:
            self.client = Client(scheduler, timeout=f"{connect_seconds}s")
        except (OSError, TimeoutError) as exc:
            raise SweepSetupError(_no_scheduler(scheduler, connect_seconds, exc)) from None

    def _start_local_cluster(self, workers: int) -> None:
        import logging

        from distributed import Client, LocalCluster

        try:
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
        except (OSError, TimeoutError) as exc:
            self.close()
            problem = f"--scheduler local: cannot start a Dask cluster ({exc})"
            raise SweepSetupError(problem) from None

    def submit(self, tasks: Sequence[RunTask]) -> None:
        """Send the runs to the scheduler."""
        super().submit(tasks)
        assert self.client is not None
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
        if self.client is not None:
            self.client.cancel(self.futures)
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def check_scheduler(address: str, seconds: float) -> None:
    """Ask ``address`` who it is, as a Dask client does first, and accept only a Dask scheduler.

    A plain ``Client(address)`` can hang on a server that accepts and never
    answers, or misread another protocol's reply (an HTTP server's); this asks
    Dask's ``identity`` and gives up after ``seconds`` whatever happens.

    Raises:
        SweepSetupError: nothing answered in time, or not a Dask scheduler.
    """
    import asyncio
    import threading

    from distributed.comm import connect
    from distributed.security import Security

    async def identity() -> Any:
        # connect() retries a refused connection until its own timeout, which is left
        # longer than the one around the whole exchange, so that one always decides.
        args = Security().get_connection_args("client")
        comm = await connect(address, timeout=seconds + 1, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: dict[str, Any] = {}

    def ask() -> None:
        try:
            answer["reply"] = asyncio.run(asyncio.wait_for(identity(), seconds))
        except Exception as exc:
            answer["error"] = exc

    # In a thread of its own: asyncio.run cannot run where an event loop runs (a notebook).
    thread = threading.Thread(target=ask, name="salesim-scheduler-check", daemon=True)
    thread.start()
    thread.join(seconds + 5)
    reply = answer.get("reply")
    if isinstance(reply, dict) and reply.get("type") == "Scheduler":
        return
    if isinstance(reply, dict) and reply.get("type"):
        reason: str | BaseException = f"a Dask {reply['type']} answered, not a scheduler"
    else:
        reason = answer.get("error") or TimeoutError()
    raise SweepSetupError(_no_scheduler(address, seconds, reason))


def _no_scheduler(address: str, seconds: float, reason: str | BaseException) -> str:
    """The one line saying that no Dask scheduler answered at ``address``."""
    if isinstance(reason, TimeoutError) and not str(reason):
        reason = "no reply to Dask's handshake: is a scheduler running at this address and port?"
    elif isinstance(reason, BaseException):
        reason = f"{type(reason).__name__}: {reason}".rstrip(": ")
    return f"--scheduler: {address}: no Dask scheduler answered within {seconds:g} s ({reason})"


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
