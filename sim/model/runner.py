"""Replications x structures: one scenario in, three tidy tables out.

For each replication the lead stream is drawn once and every structure is run
on it (common random numbers); replications use independent seed streams.
This module is the only place that draws a replication and runs structures
on it: ``simulate`` loops over replications for the CLI, the API and the
tests, and the sweep runs one structure in one replication at a time with
``run_once``, so all of them get identical numbers for the same scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from sim.config.scenario import Scenario
from sim.model.leads import LeadStream, generate_leads
from sim.model.results import SimulationResult
from sim.model.seeding import Streams, replication_streams
from sim.model.structures import RunTables, run_structure


def simulate(
    scenario: Scenario,
    structures: Iterable[str] | None = None,
    on_run_done: Callable[[int, str], None] | None = None,
    first_replication: int = 0,
) -> SimulationResult:
    """Run every structure of the scenario in every replication.

    Args:
        scenario: the validated scenario.
        structures: names to run; defaults to every structure block in the scenario.
        on_run_done: called with (replication, structure) after each run, for progress.
        first_replication: start here (``extend`` adds replications to a run).

    Returns:
        The concatenated lead, rep and sample tables.
    """
    names = tuple(structures) if structures is not None else scenario.structures.names
    leads, reps, samples = [], [], []
    for replication in range(first_replication, scenario.replications):
        streams, stream = draw_replication(scenario, replication)
        for name in names:
            tables = run_structure(name, stream, scenario, streams)
            leads.append(tables.leads)
            reps.append(tables.reps)
            samples.append(tables.samples)
            if on_run_done is not None:
                on_run_done(replication, name)
    return SimulationResult(
        scenario=scenario,
        structures=names,
        leads=_concat(leads, names),
        reps=_concat(reps, names),
        samples=_concat(samples, names),
    )


def extend(
    result: SimulationResult,
    replications: int,
    on_run_done: Callable[[int, str], None] | None = None,
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

    Returns:
        The longer run, its scenario's ``replications`` updated.
    """
    done = result.scenario.replications
    if replications <= done:
        return result
    scenario = result.scenario.model_copy(update={"replications": replications})
    names = result.structures
    more = simulate(scenario, names, on_run_done, first_replication=done)
    return SimulationResult(
        scenario=scenario,
        structures=names,
        leads=_concat([result.leads, more.leads], names),
        reps=_concat([result.reps, more.reps], names),
        samples=_concat([result.samples, more.samples], names),
    )


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
    on_run_done: Callable[[int, str], None] | None = None,
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

    Returns:
        The tables as ``simulate`` returns them, with ``scenario`` unchanged.
    """
    from sim.model.seeding import independent_seed

    names = tuple(structures) if structures is not None else scenario.structures.names
    parts = [
        simulate(
            scenario.model_copy(update={"seed": independent_seed(scenario.seed, name)}),
            (name,),
            on_run_done,
        )
        for name in names
    ]
    return SimulationResult(
        scenario=scenario,
        structures=names,
        leads=_concat([p.leads for p in parts], names),
        reps=_concat([p.reps for p in parts], names),
        samples=_concat([p.samples for p in parts], names),
    )
