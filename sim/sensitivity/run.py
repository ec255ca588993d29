"""Running a sensitivity analysis: every assumption's values, in rounds, on common random numbers.

A sales leader's question, "would the answer change if our relays were
worse than we think?", becomes runs: the base scenario, each assumption at
the ends of its range, then the middles the bisection asks for, round after
round until every leader change is pinned within the tolerance. Every run is
seeded by its replication alone, so replication 2 meets the same leads with
the same luck at every value of every assumption: only the assumption changes.

An assumption whose fields all belong to one structure
(``structures.pods.handoff.drop_prob``) changes only that structure's runs:
the other structures' runs are the base scenario's, run once and shared.

Runs are stored as they finish, one parquet part each, under ``runs/`` of
the output folder (a folder with a salesim manifest of its own), named after
a digest of the run's whole scenario and salesim's version. A stopped
analysis started again finds them and does only the rest; the same scenario
and settings give the same tables whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.analysis.sensitivity import Search, anchors, leader, result_rows, searches
from sim.config.assumptions import (
    Assumption,
    SensitivitySettings,
    applicable,
    base_value,
    chosen_assumptions,
    variant,
)
from sim.config.scenario import Scenario, ScenarioError
from sim.files.outdir import OutputFolder
from sim.sweep.spec import RunTask
from sim.version import __version__

Point = tuple[str, float]
"""(assumption name, value): one scenario variant."""
RunKey = tuple[str, str, int]
"""(scenario digest, structure, replication): one run."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """A checked sensitivity analysis, ready to run.

    Attributes:
        scenario: the base scenario, with the analysis' replications.
        structures: the structures compared, in report order.
        objectives: the scenario's ``decision.objectives``.
        assumptions: the assumptions varied (those the scenario has).
        left_out: the chosen assumptions the scenario has no field for.
        bases: the scenario's own value of each assumption, by name.
        tolerance: bisection stops within this share of a range.
        label: the scenario file's name, for messages.
    """

    scenario: Scenario
    structures: tuple[str, ...]
    objectives: tuple[str, ...]
    assumptions: tuple[Assumption, ...]
    left_out: tuple[Assumption, ...]
    bases: dict[str, float]
    tolerance: float
    label: str

    def scenario_at(self, assumption: Assumption, value: float) -> Scenario:
        """The base scenario with one assumption set to ``value``."""
        return variant(assumption, self.scenario, value, self.label)


def make_plan(
    scenario: Scenario,
    settings: SensitivitySettings,
    label: str,
    *,
    only: tuple[str, ...] = (),
    settings_label: str = "sensitivity",
) -> Plan:
    """Choose the assumptions and check both ends of every range before anything runs.

    Raises:
        ScenarioError: one line per unknown assumption or value out of bounds.
    """
    chosen = chosen_assumptions(settings, settings_label, only)
    scenario = scenario.model_copy(update={"replications": settings.replications})
    kept = [a for a in chosen if applicable(a, scenario)]
    problems = []
    for assumption in kept:
        for value in (assumption.low, assumption.high):
            try:
                variant(assumption, scenario, value, label)
            except ScenarioError as exc:
                problems += exc.problems
    if only and (missing := [a.name for a in chosen if a not in kept]):
        problems.append(f"--only: {label} has no field for {', '.join(missing)}")
    if problems:
        raise ScenarioError(problems)
    return Plan(
        scenario=scenario,
        structures=tuple(scenario.structures.names),
        objectives=tuple(scenario.decision.objectives),
        assumptions=tuple(kept),
        left_out=tuple(a for a in chosen if a not in kept),
        bases={a.name: base_value(a, scenario) for a in kept},
        tolerance=settings.tolerance,
        label=label,
    )


def scenario_digest(scenario: Scenario) -> str:
    """What decides a run's result: the whole scenario and salesim's version."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True) + __version__
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class RunCache:
    """Finished runs: in memory, and as parts in ``runs/`` when given a folder."""

    def __init__(self, folder: OutputFolder | None = None):
        self.folder = folder
        self.rows: dict[RunKey, pd.DataFrame] = {}

    @staticmethod
    def part_name(key: RunKey) -> str:
        """The part file of a run."""
        digest, structure, replication = key
        return f"{digest}-{structure}-r{replication:04d}.parquet"

    def get(self, key: RunKey) -> pd.DataFrame | None:
        """A finished run's KPI row, from memory or disk; None when it was never run."""
        if key not in self.rows and self.folder is not None:
            path = self.folder.path / self.part_name(key)
            if path.is_file():
                self.rows[key] = pd.read_parquet(path)
        return self.rows.get(key)

    def put(self, key: RunKey, row: pd.DataFrame) -> None:
        """Keep a finished run; on disk at once (written whole, then swapped in)."""
        row = row.drop(columns=["point", "wall_seconds"], errors="ignore")
        self.rows[key] = row
        if self.folder is not None:
            with self.folder.writing(stale=lambda _: False) as tmp:
                row.to_parquet(tmp / self.part_name(key), index=False)


@dataclasses.dataclass
class Evaluator:
    """Runs what a round needs that the cache lacks, and gives back each point's KPI table.

    Attributes:
        plan: the analysis.
        runs: where runs happen (``sim.parallel``, doing ``sim.sweep.backends.run_one``).
        cache: the finished runs.
        on_round: told (runs in the round, runs found finished) before each round.
        on_run_done: told after each run.
    """

    plan: Plan
    runs: object
    cache: RunCache
    on_round: Callable[[int, int], None] = lambda needed, found: None
    on_run_done: Callable[[], None] = lambda: None

    def _scenarios(self, point: Point) -> dict[str, Scenario]:
        name, value = point
        assumption = next(a for a in self.plan.assumptions if a.name == name)
        changed = self.plan.scenario_at(assumption, value)
        owner = assumption.structure
        return {
            s: changed if owner in (None, s) else self.plan.scenario for s in self.plan.structures
        }

    def tables(self, points: list[Point]) -> dict[Point, pd.DataFrame]:
        """Each point's KPI table (structures in report order, then replications).

        Raises:
            BaseException: the first run that failed (``sim.parallel.WorkerLost``
                for a worker lost twice).
        """
        wanted: dict[Point, list[RunKey]] = {}
        tasks: dict[RunKey, RunTask] = {}
        found = 0
        for point in points:
            keys = wanted[point] = []
            for structure, scenario in self._scenarios(point).items():
                digest = scenario_digest(scenario)
                for replication in range(self.plan.scenario.replications):
                    key = (digest, structure, replication)
                    keys.append(key)
                    if key in tasks:
                        continue
                    if self.cache.get(key) is not None:
                        found += 1
                        continue
                    index = len(tasks)
                    tasks[key] = RunTask(index, structure, replication, scenario)
        self.on_round(len(tasks) + found, found)
        self._run(tasks)
        return {
            point: pd.concat([self.cache.get(key) for key in keys], ignore_index=True)
            for point, keys in wanted.items()
        }

    def _run(self, tasks: dict[RunKey, RunTask]) -> None:
        if not tasks:
            return
        by_index = {task.key: key for key, task in tasks.items()}
        self.runs.submit(list(tasks.values()))
        for task, result in self.runs:
            if isinstance(result, BaseException):
                raise result
            self.cache.put(by_index[task.key], result)
            self.on_run_done()


@dataclasses.dataclass(frozen=True)
class SensitivityResult:
    """What the analysis found.

    Attributes:
        plan: the analysis run.
        table: ``sensitivity.TABLE_COLUMNS``, objectives then assumptions in plan order.
        points: every value run: assumption, value, then the per-run KPI rows.
        rounds: how many rounds of runs it took.
    """

    plan: Plan
    table: pd.DataFrame
    points: pd.DataFrame
    rounds: int


def run_sensitivity(plan: Plan, evaluator: Evaluator) -> SensitivityResult:
    """Run the anchors, bisect every leader change, and tabulate.

    Returns:
        The table of ``sim.analysis.sensitivity`` and every run's KPIs.
    """
    tables: dict[Point, pd.DataFrame] = {}
    first = [(a.name, v) for a in plan.assumptions for v in anchors(a, plan.bases[a.name])]
    tables.update(evaluator.tables(first))
    open_searches: list[Search] = []
    for assumption in plan.assumptions:
        base = plan.bases[assumption.name]
        for objective in plan.objectives:
            leaders = {
                value: leader(tables[(assumption.name, value)], objective)
                for value in anchors(assumption, base)
            }
            open_searches += searches(assumption, base, objective, leaders)
    rounds = 1
    while active := [s for s in open_searches if not s.done(plan.tolerance)]:
        needed = list(dict.fromkeys((s.assumption.name, s.middle()) for s in active))
        tables.update(evaluator.tables(needed))
        rounds += 1
        for search in active:
            value = search.middle()
            search.narrowed(
                value, leader(tables[(search.assumption.name, value)], search.objective)
            )
    return SensitivityResult(
        plan, _table(plan, tables, open_searches), _points(plan, tables), rounds
    )


def _table(plan: Plan, tables: dict[Point, pd.DataFrame], done: list[Search]) -> pd.DataFrame:
    from sim.analysis.sensitivity import TABLE_COLUMNS

    rows = []
    for objective in plan.objectives:
        for assumption in plan.assumptions:
            base = plan.bases[assumption.name]
            mine = {
                value: table for (name, value), table in tables.items() if name == assumption.name
            }
            finished = [
                s for s in done if s.assumption.name == assumption.name and s.objective == objective
            ]
            rows.append(result_rows(assumption, base, objective, mine, finished))
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _points(plan: Plan, tables: dict[Point, pd.DataFrame]) -> pd.DataFrame:
    order = {a.name: i for i, a in enumerate(plan.assumptions)}
    frames = []
    for (name, value), table in sorted(tables.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        frame = table.copy()
        frame.insert(0, "value", value)
        frame.insert(0, "assumption", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@contextlib.contextmanager
def run_folder(out_dir: Path, overwrite: bool):
    """The ``runs/`` subfolder of the output, claimed for storing parts as they finish."""
    with OutputFolder.claim(Path(out_dir) / "runs", overwrite=overwrite) as folder:
        yield folder
