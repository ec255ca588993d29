"""Runs in this process, or in a pool of local processes that survives lost workers.

``Runs`` does them one after the other here (one worker). ``PoolRuns`` hands
them to worker processes, one run at a time per process: a worker killed
under a run (the out-of-memory killer, ``kill -9``) is replaced and its run
started again; a run whose worker dies twice is reported failed
(``WorkerLost``). Ctrl-C is the parent's alone: workers ignore it, and the
parent stops them when it closes the pool. A worker also ends when its parent
dies, so a killed command leaves no process behind.

A task is any picklable object with a ``key`` (hashable, unique in a round)
and a ``label`` (``1/conveyor/0``: what the test hooks of ``_pool_worker``
match). A task may also have a ``kind`` (a replication run's structure):
``PoolRuns`` then hands out the runs of the kind expected to take longest
first (``PoolRuns.next_task``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any, Protocol


class Task(Protocol):
    """What a backend runs: a key naming it in its round, and a label for the test hooks."""

    @property
    def key(self) -> Hashable:
        """Unique among the runs of one round."""

    @property
    def label(self) -> str:
        """``POINT/STRUCTURE/REPLICATION`` or ``STRUCTURE/REPLICATION``."""


Outcome = tuple[Any, Any]
"""(task, its result or the exception it raised)."""


class Runs:
    """Runs done one after the other in this process (one worker)."""

    def __init__(self, work: Callable[[Any], Any]):
        self.work = work
        self.tasks: list[Any] = []

    def start(self) -> None:
        """Nothing to start."""

    def submit(self, tasks: Sequence[Any]) -> None:
        """Hand over the runs of a round."""
        self.tasks = list(tasks)

    def __iter__(self) -> Iterator[Outcome]:
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            try:
                result = self.work(task)
            except Exception as exc:  # a failed run is reported; the others go on
                result = exc
            yield task, result

    def close(self) -> None:
        """Nothing to stop."""


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
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


def ignore_sigint() -> None:
    """Leave Ctrl-C to the parent: it reaches every process of the terminal's group."""
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

    ignore_sigint()
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
    task: Any = None
    started: float = 0.0  # when the task was sent (``time.perf_counter``)


class PoolRuns(Runs):
    """Runs in a pool of local processes, one run at a time per process.

    Each worker has its own pipe, so the parent always knows which run a worker
    is doing. A worker that dies (the kernel's out-of-memory killer, ``kill
    -9``) takes only its own run down: the others go on, a new process takes
    its place, and the run is started again; a run whose worker died
    ``ATTEMPTS`` times in a round is reported failed with ``WorkerLost``. Runs
    depend on their task only (each is seeded by its own key), so a retried
    run gives the same result. The workers stay up between rounds.
    """

    def __init__(self, work: Callable[[Any], Any], workers: int, start_method: str | None = None):
        super().__init__(work)
        self.size = workers
        self.start_method = start_method
        self.queue: collections.deque[Any] = collections.deque()
        self.deaths: collections.Counter[Hashable] = collections.Counter()
        self.workers: list[_Worker] = []
        # Seconds taken by the finished runs of each kind (kept across rounds): (sum, count).
        self.seconds_by_kind: dict[Hashable, tuple[float, int]] = {}

    def start(self, most: int | None = None) -> None:
        """Start the workers not running yet (at most ``most`` in all), before any thread starts."""
        wanted = self.size if most is None else min(self.size, most)
        with sigint_deferred():
            while len(self.workers) < wanted:
                self.workers.append(self._start_worker())

    def submit(self, tasks: Sequence[Any]) -> None:
        """Queue a round of runs, starting a worker per run up to ``workers``."""
        self.queue.extend(tasks)
        self.deaths.clear()
        self.start(len(self.queue))

    def _start_worker(self) -> _Worker:
        import multiprocessing

        context = multiprocessing.get_context(self.start_method or _start_method())
        conn, child_conn = multiprocessing.Pipe()
        process = context.Process(
            target=_pool_worker,
            args=(child_conn, self.work),
            name="salesim-worker",
            daemon=True,
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

    def _dispatch(self) -> None:
        """Give each idle worker a run, starting new workers in place of lost ones."""
        while self.queue:
            idle = next((w for w in self.workers if w.task is None), None)
            if idle is None:
                if len(self.workers) >= self.size:
                    return
                with sigint_deferred():
                    idle = self._start_worker()
                self.workers.append(idle)
            elif not idle.process.is_alive():  # died between runs: no run's fault
                self._discard(idle)
                continue
            idle.task, idle.started = self.next_task(), time.perf_counter()
            # Should it die now, the wait in __iter__ finds it, as any other lost worker.
            with contextlib.suppress(OSError):
                idle.conn.send(idle.task)

    def next_task(self) -> Any:
        """The queued run to start next: of the kind expected to take longest, first come first.

        A round that ends with one worker alone on a long run leaves the
        others idle: compare's passes of Conveyor and Pods runs on 2 workers
        lost about a tenth to that, handed out in their order. Longest first
        (the runs' mean time so far, by kind; a kind not timed yet counts as
        longest) leaves short runs for the end, where they fill in. Runs
        without a kind, or before any run is timed, go first come first
        served, as do runs of equal expected time. The order runs start in
        changes no result: each is seeded by its own key.
        """
        queue, seconds = self.queue, self.seconds_by_kind
        if not seconds:
            return queue.popleft()
        best_index, best_seconds = 0, -1.0
        for index, task in enumerate(queue):
            total, count = seconds.get(getattr(task, "kind", None), (math.inf, 1))
            if total / count > best_seconds:
                best_index, best_seconds = index, total / count
        task = queue[best_index]
        del queue[best_index]
        return task

    def _collect(self, worker: _Worker) -> Outcome | None:
        """The run a ready worker finished, or None when its worker died and the run is retried."""
        task = worker.task
        assert task is not None
        worker.task = None
        try:
            outcome = task, worker.conn.recv()
        except (EOFError, OSError):  # the worker died mid-run
            pass
        except Exception as exc:  # the result or error came but does not unpickle here
            return task, exc
        else:
            self._note_seconds(task, time.perf_counter() - worker.started)
            return outcome
        exitcode = self._discard(worker)
        self.deaths[task.key] += 1
        if self.deaths[task.key] < ATTEMPTS:
            self.queue.appendleft(task)
            return None
        return task, WorkerLost(
            f"its worker process died at each of {ATTEMPTS} attempts "
            f"(last: {_exit_reason(exitcode)})"
        )

    def _note_seconds(self, task: Any, seconds: float) -> None:
        """Count a finished run's time towards its kind's mean (``next_task``)."""
        kind = getattr(task, "kind", None)
        if kind is not None:
            total, count = self.seconds_by_kind.get(kind, (0.0, 0))
            self.seconds_by_kind[kind] = (total + seconds, count + 1)

    def _discard(self, worker: _Worker) -> int | None:
        """Forget a dead worker; return its exit code."""
        self.workers.remove(worker)
        worker.process.join(timeout=5)
        worker.conn.close()
        return worker.process.exitcode

    def close(self) -> None:
        """Stop the workers: idle ones are told to exit; busy ones (runs abandoned) terminated."""
        self.queue.clear()
        for worker in self.workers:
            if worker.task is None:
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


def _pool_worker(conn: Any, work: Callable[[Any], Any]) -> None:
    """A pool worker: receive a run, do it, send back its result or its exception; None ends.

    Test hooks, read here only (in a pool worker, never in this process or on
    Dask), for the tests of lost workers and of Ctrl-C; never set them
    otherwise. LABEL is a task's label: ``POINT/STRUCTURE/REPLICATION`` for a
    sweep run (e.g. ``1/conveyor/0``), ``STRUCTURE/REPLICATION`` for a
    replication of simulate, compare, plan or backtest (e.g. ``pods/1``, in
    every pass or team that runs it).

    - ``SALESIM_TEST_KILL_RUN=LABEL``: the worker starting that run kills itself
      with SIGKILL, as the out-of-memory killer would. ``...@FILE`` does so only
      while FILE does not exist, creating it first: the run kills one worker,
      then succeeds.
    - ``SALESIM_TEST_HOLD_RUNS=LABEL@FILE``: every other run waits until FILE
      exists, so the command cannot finish before the test is done with it.
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
            result = work(task)
        except Exception as exc:  # a failed run is reported; the others go on
            result = exc
        try:
            conn.send(result)
        except Exception:  # an exception that cannot be pickled: send its text
            conn.send(RuntimeError(f"{type(result).__name__}: {result}"))


def _test_hook(environ: Mapping[str, str]) -> Callable[[Any], None] | None:
    """The test hooks set in ``environ`` (see ``_pool_worker``), or None: the usual case."""
    kill = environ.get("SALESIM_TEST_KILL_RUN")
    hold = environ.get("SALESIM_TEST_HOLD_RUNS")
    if not kill and not hold:
        return None
    kill_run, _, kill_mark = (kill or "").partition("@")
    free_run, _, gate = (hold or "").partition("@")

    def hook(task: Any) -> None:
        import signal

        name = task.label
        if name == kill_run and not (kill_mark and os.path.exists(kill_mark)):
            if kill_mark:
                open(kill_mark, "x").close()
            os.kill(os.getpid(), signal.SIGKILL)
        while hold and name != free_run and not os.path.exists(gate):
            time.sleep(0.01)

    return hook
