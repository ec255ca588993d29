"""``--workers`` and ``--scheduler``: where a command's runs happen, checked before any work.

Every command that simulates more than one run (``simulate``, ``compare``,
``plan``, ``backtest``, ``sweep``, and ``calibrate`` for its cycle fit)
takes them. By default a process pool over all cores; ``--workers 1`` runs
everything in this process; ``--scheduler`` sends the runs to Dask. The
results never depend on them: each run is seeded by its own replication, and
the runs' tables are put back in one fixed order. A bad value is one line
naming the flag, exit code 2, nothing written: the flags are read here as
text, not by argparse (whose error comes with a usage block), and a
scheduler is asked who it is before the output folder is claimed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from sim.config.scenario import ScenarioError

WORKERS_HELP = "local worker processes (default: all cores; 1 runs in this process)"
SCHEDULER_HELP = (
    "run on Dask: a scheduler address, or 'local' for a LocalCluster of --workers "
    "processes (salesim[dask])"
)


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` and ``--scheduler ADDRESS`` on a command that simulates."""
    parser.add_argument("--workers", metavar="N", help=WORKERS_HELP)
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT|local", help=SCHEDULER_HELP)


def worker_count(args: argparse.Namespace) -> int:
    """The number of workers the command line asks for (all cores when not given).

    Also checks ``--scheduler``'s form, so that both flags are judged before
    anything is simulated.

    Raises:
        ScenarioError: one line naming the flag.
    """
    from sim.parallel import default_workers, scheduler_problem

    problems = []
    if args.scheduler is not None and (problem := scheduler_problem(args.scheduler)):
        problems.append(problem)
    text = args.workers
    workers = default_workers()
    if text is not None:
        try:
            workers = int(text)
        except ValueError:
            workers = 0
        if workers < 1:
            problems.append(f"--workers: must be a whole number of at least 1, got {text!r}")
    if problems:
        raise ScenarioError(problems)
    return workers


def local_workers(args: argparse.Namespace, workers: int, runs_per_round: int) -> int:
    """Worker processes on this machine: a second one for a single run would only cost its start.

    With a remote scheduler there are none here (the memory estimate counts this process only).
    """
    if args.scheduler not in (None, "local"):
        return 1
    return workers if args.scheduler == "local" else max(1, min(workers, runs_per_round))


@dataclasses.dataclass(frozen=True)
class Backend:
    """Where a command's runs happen: ``runs`` for the runner (None: this process), in words."""

    runs: Any
    where: str


@contextlib.contextmanager
def opened_runs(args: argparse.Namespace, workers: int, runs_per_round: int) -> Iterator[Backend]:
    """``sim.model.runner.replication_runs`` for the command line, open for the command.

    Local workers are capped at the runs of the largest round; a Dask scheduler
    that does not answer is one line (``ScenarioError``) before anything is written.
    """
    from sim.model.runner import replication_runs
    from sim.parallel import BackendSetupError

    if args.scheduler is None:
        workers = local_workers(args, workers, runs_per_round)
        place = "in this process" if workers == 1 else f"on {workers} local workers"
    else:
        place = f"on Dask {args.scheduler}"
    try:
        with replication_runs(workers, args.scheduler) as runs:
            yield Backend(runs, place)
    except BackendSetupError as exc:  # raised on opening only: nothing has run yet
        raise ScenarioError([str(exc)]) from None
