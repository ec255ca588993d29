"""The Python API: run a scenario, get tidy tables, compare the structures, write the folder.

The command line is one way in; a notebook is another. A RevOps analyst who
wants to try twenty headcounts in a loop writes::

    import sim

    run = sim.run("scenarios/baseline.toml", replications=10)
    run.summary            # one row per structure and KPI: mean, 95 % CI
    run.kpis               # one row per structure and replication
    comparison = run.compare(reference="allin")
    comparison.differences # paired differences with 95 % CIs (common random numbers)
    run.write("results/baseline-10")   # the same folder ``python -m sim simulate`` writes

Replications run in this process unless given a backend: with
``sim.model.runner.replication_runs(workers=4)`` as ``runs``,
``sim.run(..., runs=runs)`` runs them on four processes (or on Dask with
``scheduler=``), with the same tables, byte for byte.

Everything here is a thin layer over the pipeline (``sim.config`` ->
``sim.model`` -> ``sim.analysis`` -> ``sim.reports``); the CLI calls the same
functions. Tables are plain pandas DataFrames; nothing is printed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.kpis import objective_problems
from sim.analysis.selection import Selection
from sim.config.scenario import Scenario, ScenarioError, without_sales_effects
from sim.files.outdir import OutputFolder, output_folder

if TYPE_CHECKING:  # the heavy modules load only when a run is made
    from sim.analysis.comparison import Comparison
    from sim.model.results import SimulationResult
    from sim.parallel import Runs


def load(scenario: str | Path | Scenario, overrides: Iterable[str] = ()) -> Scenario:
    """A validated scenario from a TOML file (or a Scenario), with ``dotted.key=value`` overrides.

    Args:
        scenario: a path to a scenario file, or a Scenario already loaded.
        overrides: ``--set``-style changes, e.g. ``["replications=10", "seed=3"]``.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: one line per problem, naming the file and the field.
    """
    overrides = tuple(overrides)
    if isinstance(scenario, Scenario):
        loaded = scenario.replace(list(overrides)) if overrides else scenario
    else:
        loaded = Scenario.from_file(scenario, overrides)
    if problems := objective_problems(loaded.decision.objectives):
        label = loaded.name if isinstance(scenario, Scenario) else str(scenario)
        raise ScenarioError([f"{label}: {problem}" for problem in problems])
    return loaded


def run(
    scenario: str | Path | Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    structures: Sequence[str] | None = None,
    overrides: Iterable[str] = (),
    sales_effects: bool = True,
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
) -> Run:
    """Simulate every structure of a scenario on the same lead streams.

    Args:
        scenario: a scenario file or a loaded Scenario.
        replications: independent replications (default: the scenario's).
        seed: the root seed (default: the scenario's).
        structures: which configured structures to run (default: all of them).
        overrides: ``dotted.key=value`` changes, validated like the file.
        sales_effects: False switches every sales effect off (a plain queueing network).
        on_run_done: called with (replication, structure) after each run, for progress.
        runs: where replications run (``sim.model.runner.replication_runs``);
            None: in this process. The tables do not depend on it.

    Returns:
        The run: its tables, KPIs and comparisons.
    """
    from sim.model.runner import simulate

    changes = list(overrides)
    if replications is not None:
        changes.append(f"replications={replications}")
    if seed is not None:
        changes.append(f"seed={seed}")
    loaded = load(scenario, changes)
    if not sales_effects:
        loaded = without_sales_effects(loaded)
    names = tuple(structures) if structures else loaded.structures.names
    unknown = [name for name in names if name not in loaded.structures.names]
    if unknown:
        raise ScenarioError(
            [
                f"{loaded.name}: structures {unknown} are not configured "
                f"(configured: {', '.join(loaded.structures.names)})"
            ]
        )
    return Run(simulate(loaded, names, on_run_done=on_run_done, runs=runs))


def select_best(
    scenario: str | Path | Scenario,
    *,
    indifference: float | None = None,
    precision: float | None = None,
    batch: int = 5,
    max_replications: int = 100,
    structures: Sequence[str] | None = None,
    overrides: Iterable[str] = (),
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
) -> tuple[Run, Selection]:
    """Add replications in batches until the best structure is known, or a precision is reached.

    With ``indifference``: Kim and Nelson's procedure (``sim.analysis.selection``)
    on the scenario's first objective (``decision.objectives``), confidence
    ``decision.confidence``, the scenario's replications as its first stage.
    With ``precision`` instead: until every structure's 95 % CI half-width of
    that objective is at most ``precision`` times its mean. Every structure
    keeps running in every batch, so the report compares all objectives on
    the same replications; the procedure's decisions read only its
    contenders' numbers, so its guarantee is unchanged.

    Args:
        scenario: a scenario file or a loaded Scenario.
        indifference: the smallest difference that matters, in the objective's unit.
        precision: the relative CI half-width to reach (e.g. 0.05).
        batch: replications added per step.
        max_replications: never more than this many replications.
        structures: which configured structures to run (default: all).
        overrides: ``dotted.key=value`` changes.
        on_run_done: called with (replication, structure) after each run.
        runs: where replications run (``sim.model.runner.replication_runs``), each
            batch a round; None: in this process. The run does not depend on it.

    Returns:
        The run (all its replications) and where the procedure stopped.
    """
    from sim.model.runner import extend

    loaded = load(scenario, list(overrides))
    indifference = indifference if indifference is not None else loaded.decision.indifference
    problems = selection_problems(loaded, indifference, precision, max_replications)
    if problems:
        raise ScenarioError(problems)
    first_stage = loaded.replications
    result = run(loaded, structures=structures, on_run_done=on_run_done, runs=runs).result
    while True:
        current = Run(result)
        selection = _selection_step(current, first_stage, indifference, precision)
        replications = result.scenario.replications
        if selection.decided or replications >= max_replications:
            return current, selection
        target = min(replications + batch, max_replications)
        if selection.bound:
            target = min(target, max(selection.bound, replications + 1))
        result = extend(result, target, on_run_done, runs)


def selection_problems(
    scenario: Scenario,
    indifference: float | None,
    precision: float | None,
    max_replications: int,
) -> list[str]:
    """What keeps ``select_best`` from starting, one line each (checked before simulating)."""
    problems = []
    objective = scenario.decision.objectives[0]
    if indifference is None and precision is None:
        problems.append(
            f"{scenario.name}: --select-best needs --indifference: the smallest difference of "
            f"{objective} that matters (or decision.indifference in the scenario), or "
            "--precision"
        )
    if scenario.replications < 2:
        problems.append(
            f"{scenario.name}: --replications: a first stage of at least 2 replications is "
            f"needed, got {scenario.replications}"
        )
    if max_replications < scenario.replications:
        problems.append(
            f"{scenario.name}: --max-replications {max_replications} is below the first "
            f"stage's {scenario.replications}"
        )
    return problems


def _selection_step(
    run: Run, first_stage: int, indifference: float | None, precision: float | None
) -> Selection:
    """The procedure on the run so far (KN, or the precision rule when no indifference)."""
    from sim.analysis.kpis import kpi_spec
    from sim.analysis.selection import kn_select, relative_precision

    scenario = run.scenario
    objective = scenario.decision.objectives[0]
    kpis = run.kpis.sort_values(["structure", "replication"], kind="stable")
    values = {
        name: kpis.loc[kpis["structure"] == name, objective].to_numpy(dtype=float)
        for name in run.structures
    }
    if any(np.isnan(v).any() for v in values.values()):
        raise ScenarioError(
            [f"{scenario.name}: {objective} is undefined in some replication: it cannot select"]
        )
    if indifference is None:
        reached = bool(relative_precision(values, scenario.decision.confidence) <= (precision or 0))
        means = {n: float(np.mean(v)) * kpi_spec(objective).better for n, v in values.items()}
        leader = max(means, key=means.__getitem__)
        return Selection(reached, leader, tuple(run.structures), {}, scenario.replications, 0)
    return kn_select(
        values,
        indifference,
        1 - scenario.decision.confidence,
        first_stage=first_stage,
        better=kpi_spec(objective).better,
    )


def compare(
    scenario: str | Path | Scenario, *, reference: str | None = None, **run_options
) -> Comparison:
    """Run the scenario and compare its structures with ``reference`` (default: the first).

    Takes the options of ``run``; returns ``Run.compare``'s comparison.
    """
    return run(scenario, **run_options).compare(reference)


@dataclass(frozen=True)
class Run:
    """A scenario's run: the raw tables and what the analysis makes of them.

    Attributes:
        result: the raw tables (``leads``, ``reps``, ``samples``) of every
            structure and replication, with the scenario that made them.
    """

    result: SimulationResult

    @property
    def scenario(self) -> Scenario:
        """The resolved scenario the run was made from."""
        return self.result.scenario

    @property
    def structures(self) -> tuple[str, ...]:
        """The structures run, in report order."""
        return self.result.structures

    @property
    def leads(self) -> pd.DataFrame:
        """One row per lead per structure per replication (see the outputs reference)."""
        return self.result.leads

    @property
    def reps(self) -> pd.DataFrame:
        """One row per person per quota period."""
        return self.result.reps

    @property
    def samples(self) -> pd.DataFrame:
        """Work in progress and headcount per team, every ``sample_interval_days``."""
        return self.result.samples

    @functools.cached_property
    def kpis(self) -> pd.DataFrame:
        """Every KPI per structure and replication."""
        from sim.analysis.kpi_values import run_kpis

        return run_kpis(self.leads, self.reps, self.scenario)

    @functools.cached_property
    def summary(self) -> pd.DataFrame:
        """Every KPI per structure: mean and 95 % CI across replications (long format)."""
        from sim.analysis.kpi_values import summarise

        return summarise(self.kpis)

    def headline(self) -> pd.DataFrame:
        """The headline KPIs, one column per structure, as ``simulate`` prints them."""
        from sim.analysis.kpi_values import headline

        return headline(self.summary)

    def compare(self, reference: str | None = None) -> Comparison:
        """Paired differences, claims and red flags against ``reference`` (default: the first)."""
        from sim.analysis.comparison import build_comparison

        chosen = reference or self.structures[0]
        if chosen not in self.structures:
            raise ScenarioError(
                [f"reference {chosen!r} is not among the run's structures {list(self.structures)}"]
            )
        return build_comparison(self.result, chosen)

    def write(
        self,
        out: str | Path | OutputFolder,
        *,
        overwrite: bool = False,
        plots: bool = True,
        scenario_file: str | None = None,
        on_step: Callable[[str], None] | None = None,
        extra: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the results folder ``simulate`` writes (salesim's files only; see ``sim.files``).

        Args:
            out: the folder, or one claimed already (``OutputFolder.claim``).
            overwrite: write into a folder salesim does not own (only its own files change).
            plots: draw the PNG figures.
            scenario_file: the scenario file, recorded in ``summary.json``.
            on_step: called with a short description of each step, for progress.
            extra: adds more files (the comparison report) in the same atomic write.

        Returns:
            The folder.
        """
        from sim.results.folder import write_results

        target = out if isinstance(out, OutputFolder) else Path(out)
        with output_folder(target, overwrite=overwrite) as folder:
            write_results(
                self.result,
                folder,
                scenario_file=scenario_file,
                plots=plots,
                on_step=on_step,
                extra=extra,
                kpis=self.kpis,
            )
            return folder.path
