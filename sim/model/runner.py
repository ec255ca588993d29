"""Replications x structures: one scenario in, three tidy tables out.

For each replication the lead stream is drawn once and every structure is run
on it (common random numbers); replications use independent seed streams.
This module is the only place that draws a replication and runs structures
on it: ``simulate`` loops over replications for the CLI, the API and the
tests, and the sweep runs one structure in one replication at a time with
``run_once``, so all of them get identical numbers for the same scenario.

Given a backend (``replication_runs``: a local process pool or Dask),
``simulate`` hands each (structure, replication) to a worker as a
``ReplicationRun`` instead; the worker draws the replication's lead stream
itself (milliseconds) and returns the run's tables, and they are put back in
the order of the loop above. A run depends on the scenario, the structure
and the replication alone, so the tables are the same, byte for byte,
whatever the number of workers and the order in which runs finish.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from sim.config.scenario import Scenario
from sim.model.leads import LeadStream, generate_leads
from sim.model.results import SimulationResult
from sim.model.seeding import Streams, replication_streams
from sim.model.structures import RunTables, run_structure
from sim.parallel import Runs, WorkerLost, open_backend

OnRunDone = Callable[[int, str], None]
"""Called with (replication, structure) after each run, for progress."""


@dataclasses.dataclass(frozen=True)
class ReplicationRun:
    """One structure in one replication of a scenario: what a worker process runs."""

    scenario: Scenario
    structure: str
    replication: int

    @property
    def key(self) -> tuple[str, int, int]:
        """(structure, replication, seed): unique in a round that holds both of compare's passes."""
        return (self.structure, self.replication, self.scenario.seed)

    @property
    def label(self) -> str:
        """``STRUCTURE/REPLICATION``, e.g. ``pods/1``: the run in Dask keys and test hooks."""
        return f"{self.structure}/{self.replication}"

    @property
    def kind(self) -> str:
        """The structure: runs of one structure take about as long (``PoolRuns.next_task``)."""
        return self.structure


def run_replication(task: ReplicationRun) -> RunTables:
    """Do one ``ReplicationRun`` (in a worker process): the tables ``simulate`` makes for it."""
    return run_once(task.scenario, task.structure, task.replication)


@contextlib.contextmanager
def replication_runs(
    workers: int, scheduler: str | None = None, connect_seconds: float | None = None
) -> Iterator[Runs | None]:
    """Where ``simulate`` runs replications, open for as many rounds as the caller needs.

    Yields None (this process, the plain loop) for one worker and no
    scheduler, else a started backend (``sim.parallel.open_backend``): its
    local workers are up before the caller starts a thread (a progress bar),
    and the Dask scheduler has answered before the caller writes anything.
    Leaving the block stops the workers and cancels runs not yet done.

    Args:
        workers: local processes (or LocalCluster processes with ``scheduler="local"``).
        scheduler: None, ``"local"`` or a Dask scheduler address.
        connect_seconds: how long a Dask scheduler has to answer.

    Raises:
        sim.parallel.BackendSetupError: a bad address, Dask missing, no scheduler answered.
    """
    if scheduler is None and workers <= 1:
        yield None
        return
    runs = open_backend(run_replication, workers, scheduler, connect_seconds)
    try:
        runs.start()
        yield runs
    finally:
        runs.close()


def simulate(
    scenario: Scenario,
    structures: Iterable[str] | None = None,
    on_run_done: OnRunDone | None = None,
    first_replication: int = 0,
    runs: Runs | None = None,
) -> SimulationResult:
    """Run every structure of the scenario in every replication.

    Args:
        scenario: the validated scenario.
        structures: names to run; defaults to every structure block in the scenario.
        on_run_done: called with (replication, structure) after each run, for progress.
        first_replication: start here (``extend`` adds replications to a run).
        runs: where to run them (``replication_runs``); None: here, one after the other.
            The tables are the same either way.

    Returns:
        The concatenated lead, rep and sample tables.
    """
    names = tuple(structures) if structures is not None else scenario.structures.names
    replications = range(first_replication, scenario.replications)
    if runs is None:
        parts = _run_here(scenario, names, replications, on_run_done)
    else:
        parts = _run_on(runs, _common_tasks(scenario, names, replications), on_run_done)
    return _result(scenario, names, parts)


def _run_here(
    scenario: Scenario, names: tuple[str, ...], replications: range, on_run_done: OnRunDone | None
) -> list[RunTables]:
    """Every structure in every replication, in this process, each lead stream drawn once."""
    parts = []
    for replication in replications:
        streams, stream = draw_replication(scenario, replication)
        for name in names:
            parts.append(run_structure(name, stream, scenario, streams))
            if on_run_done is not None:
                on_run_done(replication, name)
    return parts


def _run_on(
    runs: Runs, tasks: Sequence[ReplicationRun], on_run_done: OnRunDone | None
) -> list[RunTables]:
    """The tasks' tables from a backend, in the tasks' order whatever order they finish in.

    A run that failed raises its exception here (a worker lost twice:
    ``WorkerLost`` naming the run); the caller closes the backend, which
    abandons the runs still going.
    """
    runs.submit(tasks)
    finished: dict[tuple[str, int], RunTables] = {}
    for task, tables in runs:
        if isinstance(tables, WorkerLost):
            raise WorkerLost(f"{task.structure} replication {task.replication}: {tables}")
        if isinstance(tables, BaseException):
            raise tables
        finished[task.key] = tables
        if on_run_done is not None:
            on_run_done(task.replication, task.structure)
    return [finished[task.key] for task in tasks]


def _result(
    scenario: Scenario, names: tuple[str, ...], parts: Sequence[RunTables | SimulationResult]
) -> SimulationResult:
    """The runs' tables (or results' tables) concatenated in the order given."""
    return SimulationResult(
        scenario=scenario,
        structures=names,
        leads=_concat([p.leads for p in parts], names),
        reps=_concat([p.reps for p in parts], names),
        samples=_concat([p.samples for p in parts], names),
    )


def extend(
    result: SimulationResult,
    replications: int,
    on_run_done: OnRunDone | None = None,
    runs: Runs | None = None,
) -> SimulationResult:
    """The run with more replications: the same tables ``simulate`` makes with ``replications``.

    Replication ``r`` draws its random numbers from the root seed and ``r``
    alone, so the replications already run are kept and only the new ones are
    simulated; the result equals a fresh run of ``replications`` row for row.
    A sequential procedure (``sim.analysis.selection``) adds replications this
    way until it can decide.

    Args:
        result: a run of ``result.scenario.replications`` replications.
        replications: the total wanted (at least the run's).
        on_run_done: called with (replication, structure) after each new run.
        runs: where to run them (``replication_runs``); None: in this process.

    Returns:
        The longer run, its scenario's ``replications`` updated.
    """
    done = result.scenario.replications
    if replications <= done:
        return result
    scenario = result.scenario.model_copy(update={"replications": replications})
    names = result.structures
    more = simulate(scenario, names, on_run_done, first_replication=done, runs=runs)
    return _result(scenario, names, [result, more])


def draw_replication(scenario: Scenario, replication: int) -> tuple[Streams, LeadStream]:
    """The seed streams and the lead stream of one replication, the same for every structure."""
    streams = replication_streams(scenario.seed, replication)
    return streams, generate_leads(scenario, np.random.default_rng(streams.leads))


def run_once(scenario: Scenario, structure: str, replication: int) -> RunTables:
    """One structure in one replication: exactly the tables ``simulate`` makes for it."""
    streams, stream = draw_replication(scenario, replication)
    return run_structure(structure, stream, scenario, streams)


def _concat(frames: list[pd.DataFrame], names: tuple[str, ...]) -> pd.DataFrame:
    df = pd.concat(frames, ignore_index=True)
    # One category list in report order, so every table sorts structures alike.
    df["structure"] = pd.Categorical(df["structure"].astype(str), categories=list(names))
    return df


def simulate_independent(
    scenario: Scenario,
    structures: Iterable[str] | None = None,
    on_run_done: OnRunDone | None = None,
    runs: Runs | None = None,
) -> SimulationResult:
    """Run each structure on lead streams of its own (no common random numbers).

    The counterpart of ``simulate`` for measuring what common random numbers
    buy: structure ``s`` runs with root seed ``independent_seed(scenario.seed,
    s)``, so no two structures share a lead, a coin toss or an account's luck,
    and replications stay independent as before. Each row's ``seed`` column
    records the seed actually used.

    Args:
        scenario: the validated scenario (its own seed only derives the others).
        structures: names to run; defaults to every structure block in the scenario.
        on_run_done: called with (replication, structure) after each run.
        runs: where to run them (``replication_runs``); None: in this process. Every
            structure's replications go to the workers in one round.

    Returns:
        The tables as ``simulate`` returns them, with ``scenario`` unchanged.
    """
    names = tuple(structures) if structures is not None else scenario.structures.names
    seeded = _independently_seeded(scenario, names)
    if runs is None:
        parts = [simulate(seeded[name], (name,), on_run_done) for name in names]
    else:
        parts = _run_on(runs, _independent_tasks(seeded), on_run_done)
    return _result(scenario, names, parts)


def simulate_both(
    scenario: Scenario,
    structures: Iterable[str] | None = None,
    on_run_done: OnRunDone | None = None,
    runs: Runs | None = None,
) -> tuple[SimulationResult, SimulationResult]:
    """``simulate`` and ``simulate_independent`` of the same structures (compare's two passes).

    On a backend both passes go to the workers as one round. As two rounds,
    each ended with a worker idle while another finished the round's last run,
    and the workers waited while this process put the first pass's tables
    together. The tables are those of the two calls, byte for byte.

    Returns:
        (the run on common random numbers, the run on independent lead streams).
    """
    names = tuple(structures) if structures is not None else scenario.structures.names
    if runs is None:
        return (
            simulate(scenario, names, on_run_done),
            simulate_independent(scenario, names, on_run_done),
        )
    common = _common_tasks(scenario, names, range(scenario.replications))
    own = _independent_tasks(_independently_seeded(scenario, names))
    tables = _run_on(runs, common + own, on_run_done)
    return (
        _result(scenario, names, tables[: len(common)]),
        _result(scenario, names, tables[len(common) :]),
    )


def _common_tasks(
    scenario: Scenario, names: tuple[str, ...], replications: range
) -> list[ReplicationRun]:
    """Every structure in each replication, in ``_run_here``'s order (replication, then name)."""
    return [ReplicationRun(scenario, name, r) for r in replications for name in names]


def _independently_seeded(scenario: Scenario, names: tuple[str, ...]) -> dict[str, Scenario]:
    """Each structure's scenario with its own root seed (``independent_seed``)."""
    from sim.model.seeding import independent_seed

    return {
        name: scenario.model_copy(update={"seed": independent_seed(scenario.seed, name)})
        for name in names
    }


def _independent_tasks(seeded: dict[str, Scenario]) -> list[ReplicationRun]:
    """Every structure's replications on its own seed, structure by structure."""
    return [
        ReplicationRun(own, name, r)
        for name, own in seeded.items()
        for r in range(own.replications)
    ]
