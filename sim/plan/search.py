"""Capacity planning: how many reps per role a structure needs for a target of wins.

A sales leader asks "we want 30 new customers a quarter: how big must the team
be?". Dividing the target by a rep's win rate ignores everything that makes a
real team smaller than its seat count: new hires ramping up, leavers and the
empty seat until the replacement arrives, queues in front of a busy role,
leads that go cold while they wait. This module answers by simulation: it
runs the structure, looks at which role is the bottleneck, adds a rep there,
and runs again, on the same leads with the same luck (common random numbers:
every team size sees the same seed), until the target is met.

The search, per structure (``plan_structure``):

1. *Grow.* While the planned wins per quarter are below the target, add one
   rep to the busiest role that works the sales stages (highest utilisation;
   for Pods, the busiest role of the busiest pod). If that rep does not raise
   mean wins per quarter by at least ``min_gain`` (paired over replications,
   default 1 % of the target), try the next busiest role instead. When no
   single rep helps, double every sales role: several roles may be saturated
   at once, so that only a rep in each helps, and one rep's gain is hard to
   tell from noise, a doubled team's is not. If the doubled team does not
   raise wins by ``min_gain`` per added rep either, the target is **not
   reachable**: lead volume, pass rates and losses cap wins, not headcount.
2. *Trim.* Once the target holds (or when the starting team already beats
   it), remove one rep from the least-utilised role while the target still
   holds; a removal that breaks it is undone and the next role is tried.
   Reps go in chunks of a quarter of the role, halved after each chunk that
   breaks the target, down to one rep, so a doubled team shrinks quickly.
   For a target that is not reachable the trim keeps wins within
   ``min_gain`` of the highest found instead, so the table shows the
   smallest team that reaches the ceiling.

Each tried team is one simulation of every replication; ``max_steps`` caps
the tries per structure. Account managers are not searched: they serve won
accounts and work no sales stage, so wins do not depend on them (the
scenario's count is kept; size them on the account book).

"Planned wins" are wins closed in the measured window (after the warm-up)
per 91.25 days, ramp-up, turnover and vacancies included, since they are in
the model. By default the target must hold for the lower bound of the 95 %
confidence interval of the mean over replications (``criterion="ci_low"``),
not just for the mean: the mean comes from a few replications, so a team
sized to it has roughly even odds that its true expected wins fall short,
while the lower bound asks for 97.5 % confidence that they reach the target.
It is no guarantee for any single quarter, whose spread is wider.
``criterion="mean"`` sizes to the mean (and works with one replication).

Plain pandas and numpy on top of ``sim.model.runner.simulate``; no printing.
Each team's replications may run on several processes (``runs``); the
search sees the same numbers, so it takes the same steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from sim.analysis import kpi_values, people, stats
from sim.config.scenario import STAGE_ROLES, Scenario, ScenarioError
from sim.model.runner import simulate

if TYPE_CHECKING:
    from sim.parallel import Runs

QUARTER_DAYS = 91.25
"""Days in a quarter (365 / 4)."""

HEADCOUNT_FIELDS: dict[str, str] = {
    "generalist": "generalists",
    "lead_gen": "lead_gen",
    "qualifier": "qualifiers",
    "closer": "closers",
    "account_manager": "account_managers",
}
"""Role -> the scenario field holding its headcount."""

MAX_DOUBLINGS = 3
"""Most times the search doubles every sales role (8x the team): beyond it, not reachable."""

Criterion = Literal["ci_low", "mean"]
Verdict = Literal["reached", "not_reachable", "max_steps"]

Unit = tuple[str, str]
"""Where a rep is added or removed: (pod name, role); the pod is "" outside Pods."""


def unit_label(unit: Unit) -> str:
    """``closer`` or, in Pods, ``east/closer``."""
    pod, role = unit
    return f"{pod}/{role}" if pod else role


def searched_roles(structure: str) -> tuple[str, ...]:
    """Roles whose headcount the search changes: those working the three sales stages."""
    return tuple(dict.fromkeys(STAGE_ROLES[structure][:3]))


def team_of(scenario: Scenario, structure: str) -> dict[Unit, int]:
    """The structure's headcount per (pod, role), every role including account managers."""
    block = getattr(scenario.structures, structure)
    if block is None:
        raise ScenarioError([f"{scenario.name}: structure {structure!r} is not configured"])
    roles = dict.fromkeys(STAGE_ROLES[structure])
    if structure == "pods":
        return {
            (pod.name, role): getattr(pod, HEADCOUNT_FIELDS[role])
            for pod in block.pods
            for role in roles
        }
    return {("", role): getattr(block, HEADCOUNT_FIELDS[role]) for role in roles}


def with_team(scenario: Scenario, structure: str, team: dict[Unit, int]) -> Scenario:
    """A validated copy of the scenario with the structure's headcounts set to ``team``."""
    data = scenario.model_dump(mode="json")
    block = data["structures"][structure]
    pods = {pod["name"]: pod for pod in block.get("pods") or ()}
    for (pod, role), count in team.items():
        (pods[pod] if pod else block)[HEADCOUNT_FIELDS[role]] = int(count)
    return Scenario.from_dict(data, f"{scenario.name} (plan)")


def role_totals(team: dict[Unit, int]) -> dict[str, int]:
    """Headcount per role, summed over pods."""
    totals: dict[str, int] = {}
    for (_, role), count in team.items():
        totals[role] = totals.get(role, 0) + count
    return totals


def team_text(team: dict[Unit, int]) -> str:
    """``lead_gen 3, closer 4, account_manager 3``; pods as ``east: ...; west: ...``."""
    pods = list(dict.fromkeys(pod for pod, _ in team))
    parts = []
    for pod in pods:
        roles = ", ".join(f"{role} {n}" for (p, role), n in team.items() if p == pod)
        parts.append(f"{pod}: {roles}" if pod else roles)
    return "; ".join(parts)


@dataclass(frozen=True)
class Evaluation:
    """One simulated team: its wins per quarter per replication and what it costs."""

    team: dict[Unit, int]
    wins_per_quarter: np.ndarray  # one value per replication, in replication order
    utilisation: dict[Unit, float]  # mean over replications
    kpis: dict[str, float]  # mean and CI of cost and profit

    @property
    def headcount(self) -> int:
        """Seats in the team, account managers included."""
        return sum(self.team.values())

    @property
    def wins(self) -> tuple[float, float, float]:
        """Mean wins per quarter and its 95 % confidence interval."""
        return stats.mean_ci(self.wins_per_quarter)

    def planned_wins(self, criterion: Criterion) -> float:
        """The number compared with the target: the CI's lower bound or the mean."""
        mean, low, _ = self.wins
        return low if criterion == "ci_low" else mean


def evaluate(
    scenario: Scenario,
    structure: str,
    team: dict[Unit, int],
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
) -> Evaluation:
    """Simulate one team of one structure (every replication, the scenario's seed).

    Args:
        scenario: the scenario; its seed fixes the leads and luck of every team.
        structure: the structure to run.
        team: headcount per (pod, role); units not named keep the scenario's count.
        on_run_done: called with (replication, structure) after each run.
        runs: where the replications run (``sim.model.runner.replication_runs``);
            None: in this process. The evaluation does not depend on it.

    Returns:
        Wins per quarter per replication, utilisation per unit, cost and profit.
    """
    sized = with_team(scenario, structure, team)
    result = simulate(sized, (structure,), on_run_done, runs=runs)
    kpis = kpi_values.run_kpis(result.leads, result.reps, sized).sort_values("replication")
    wins = kpis["wins_per_30_days"].to_numpy(dtype=float) * QUARTER_DAYS / 30.0
    per_run = result.reps.groupby(["replication", "pod", "role"], observed=True).apply(
        people.utilisation, include_groups=False
    )
    means = per_run.groupby(level=["pod", "role"]).mean()
    utilisation = {(str(pod), str(role)): float(value) for (pod, role), value in means.items()}
    return Evaluation(
        team=team_of(sized, structure),
        wins_per_quarter=wins,
        utilisation=utilisation,
        kpis=stats.with_ci(kpis, ("cost", "profit")),
    )


@dataclass(frozen=True)
class Step:
    """One team tried by the search."""

    number: int  # 0 is the starting team
    phase: Literal["start", "grow", "trim"]
    change: str  # "+1 closer", "-1 east/lead_gen", "" for the start
    accepted: bool
    reason: str
    evaluation: Evaluation
    gain: float  # mean paired change in wins per quarter against the team it changed
    gain_ci_low: float = math.nan  # its paired 95 % CI
    gain_ci_high: float = math.nan


@dataclass(frozen=True)
class StructurePlan:
    """The search's answer for one structure."""

    structure: str
    target: float
    criterion: Criterion
    verdict: Verdict
    final: Evaluation
    steps: list[Step] = field(default_factory=list)
    minimal: bool = False  # the trim ended because no single removal kept the answer

    @property
    def simulations(self) -> int:
        """Teams simulated (each one every replication)."""
        return len(self.steps)


def plan_structure(
    scenario: Scenario,
    structure: str,
    target: float,
    criterion: Criterion = "ci_low",
    max_steps: int = 40,
    min_gain: float | None = None,
    on_step: Callable[[Step], None] | None = None,
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
) -> StructurePlan:
    """Search the smallest team of one structure that reaches ``target`` wins per quarter.

    Args:
        scenario: the scenario; the structure's team in it is the starting point.
        structure: the structure to size.
        target: wins per quarter to reach (> 0).
        criterion: ``"ci_low"`` (the 95 % CI's lower bound must reach the
            target; needs at least 2 replications) or ``"mean"``.
        max_steps: most teams tried after the starting one.
        min_gain: least rise in mean wins per quarter per added rep (paired
            over replications) for adding reps to count as raising wins;
            default 1 % of the target.
        on_step: called with each step as soon as it is simulated.
        on_run_done: called with (replication, structure) after each run.
        runs: where each team's replications run (``sim.model.runner.replication_runs``);
            None: in this process. The plan does not depend on it.

    Returns:
        The plan: verdict, the final team's evaluation and every step tried.
    """
    search = _Search(
        scenario,
        structure,
        target,
        criterion,
        max_steps,
        gain_needed=0.01 * target if min_gain is None else min_gain,
        on_step=on_step,
        on_run_done=on_run_done,
        runs=runs,
    )
    start = evaluate(scenario, structure, team_of(scenario, structure), on_run_done, runs)
    search.record(Step(0, "start", "", True, "the scenario's team", start, math.nan))
    grown, verdict = search.grow(start)
    final, minimal = search.trim(grown, verdict)
    return StructurePlan(
        structure,
        target,
        criterion,
        verdict,
        final,
        search.steps,
        minimal=minimal and verdict != "max_steps",
    )


_TrimGoal = tuple[str, Callable[[Evaluation], bool], Callable[[Evaluation], str]]
"""What a trim must keep: its name, whether a team keeps it, and a team's wins as text."""


@dataclass
class _Search:
    """One structure's search: its settings and the steps tried so far."""

    scenario: Scenario
    structure: str
    target: float
    criterion: Criterion
    max_steps: int
    gain_needed: float
    on_step: Callable[[Step], None] | None = None
    on_run_done: Callable[[int, str], None] | None = None
    runs: Runs | None = None
    steps: list[Step] = field(default_factory=list)
    last_gain_ci: tuple[float, float] = (math.nan, math.nan)  # of the last team tried

    def record(self, step: Step) -> None:
        """Keep a step and report it."""
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def out_of_steps(self) -> bool:
        """Whether ``max_steps`` teams have been tried after the starting one."""
        return len(self.steps) > self.max_steps

    def meets(self, evaluation: Evaluation) -> bool:
        """Whether a team's planned wins reach the target."""
        value = evaluation.planned_wins(self.criterion)
        return not math.isnan(value) and value >= self.target

    def tried(self, current: Evaluation, team: dict[Unit, int]) -> tuple[Evaluation, float]:
        """Simulate a changed team: its evaluation and mean paired gain in wins per quarter.

        The gain's paired 95 % CI is kept in ``last_gain_ci`` for the step's record.
        """
        trial = evaluate(self.scenario, self.structure, team, self.on_run_done, self.runs)
        gain, low, high = stats.mean_ci(trial.wins_per_quarter - current.wins_per_quarter)
        self.last_gain_ci = (low, high)
        return trial, float(gain)

    def gain_holds(self, gain: float, needed: float) -> tuple[bool, str]:
        """Whether a gain counts: at least ``needed`` and, with 2+ replications, significant.

        Noise is not an effect: a rep whose paired 95 % CI of the gain includes 0
        is not kept, however large the mean. With one replication there is no
        interval and the search says it is guessing.
        """
        low, high = self.last_gain_ci
        interval = (
            f" (95 % CI {low:+.2f} to {high:+.2f})" if math.isfinite(low) else " (guessing: no CI)"
        )
        if gain < needed:
            return (
                False,
                f"raises wins per quarter by {gain:+.2f}{interval}, less than {needed:.2f}",
            )
        if math.isfinite(low) and low <= 0:
            return False, f"raises wins per quarter by {gain:+.2f}{interval}: not significant"
        return True, interval

    def _ci_text(self) -> str:
        low, high = self.last_gain_ci
        return f", 95 % CI {low:+.2f} to {high:+.2f}" if math.isfinite(low) else ", guessing"

    def busiest_first(self, evaluation: Evaluation) -> list[Unit]:
        """The searched units (sales roles), highest utilisation first."""
        roles = searched_roles(self.structure)
        units = [unit for unit in evaluation.team if unit[1] in roles]
        return sorted(units, key=lambda u: -_utilisation(evaluation, u))

    def grow(self, current: Evaluation) -> tuple[Evaluation, Verdict]:
        """Add reps where the queue is until the target holds: the team and the verdict."""
        doublings = 0
        while not self.meets(current):
            trial, outcome = self._add_one_rep(current)
            if outcome == "no_gain" and self.out_of_steps():
                outcome = "out_of_steps"
            elif outcome == "no_gain" and doublings < MAX_DOUBLINGS:
                # No single rep helps. Either several roles are saturated at once (a conveyor
                # whose every stage runs at the arrival rate, so only a rep in each helps) or
                # headcount is not the limit. Doubling every sales role tells them apart, and
                # is robust to the noise in one rep's gain; trimming later undoes the excess.
                doublings += 1
                trial, outcome = self._double(current)
            if outcome != "raised":
                return current, "max_steps" if outcome == "out_of_steps" else "not_reachable"
            current = trial
        return current, "reached"

    def _add_one_rep(self, current: Evaluation) -> tuple[Evaluation, str]:
        """One rep in the busiest role that raises wins enough, else in the next busiest.

        Returns the team and ``raised``, ``no_gain`` (no single rep did) or ``out_of_steps``.
        """
        for rank, unit in enumerate(self.busiest_first(current)):
            if self.out_of_steps():
                return current, "out_of_steps"
            trial, gain = self.tried(current, {**current.team, unit: current.team[unit] + 1})
            raised, why = self.gain_holds(gain, self.gain_needed)
            if raised:
                why = (
                    f"{'busiest' if rank == 0 else 'next busiest'} role "
                    f"(utilisation {_utilisation(current, unit):.0%}): wins {gain:+.2f}{why}"
                )
            change = f"+1 {unit_label(unit)}"
            self.record(
                Step(len(self.steps), "grow", change, raised, why, trial, gain, *self.last_gain_ci)
            )
            if raised:
                return trial, "raised"
        return current, "no_gain"

    def _double(self, current: Evaluation) -> tuple[Evaluation, str]:
        """Every sales role doubled: the team and ``raised`` or ``no_gain``."""
        units = self.busiest_first(current)
        doubled = {u: current.team[u] * (2 if u in units else 1) for u in current.team}
        trial, gain = self.tried(current, doubled)
        added = trial.headcount - current.headcount
        # The same bar as for one rep, per rep added: many reps that each add
        # little do not count as raising wins.
        raised, _ = self.gain_holds(gain, self.gain_needed * added)
        verdict_text = "" if raised else ", not enough: headcount is not the limit"
        self.record(
            Step(
                len(self.steps),
                "grow",
                f"x2 every sales role ({current.headcount} -> {trial.headcount} reps)",
                raised,
                f"no single rep raised wins; doubling raises them by {gain:+.2f} "
                f"({gain / added:+.2f} per added rep){self._ci_text()}{verdict_text}",
                trial,
                gain,
                *self.last_gain_ci,
            )
        )
        return trial, "raised" if raised else "no_gain"

    def trim(self, current: Evaluation, verdict: Verdict) -> tuple[Evaluation, bool]:
        """Drop reps the answer does not need, least busy role first.

        Reached: the target must still hold. Not reachable: wins must stay at the
        ceiling found (within ``min_gain`` of it), so the table shows the smallest
        team that gets there. A big team (after doubling) sheds reps in chunks of a
        quarter of a role, halved after each chunk that breaks the answer, down to
        single reps.

        Returns:
            The team, and whether the trim ended because no removal kept the answer.
        """
        if verdict == "max_steps":
            return current, False
        goal = self._trim_goal(current, verdict)
        chunk = {u: max(1, n // 4) for u, n in current.team.items()}
        while not self.out_of_steps():
            current, outcome = self._remove_reps(current, chunk, goal)
            if outcome not in ("kept", "halved"):
                return current, outcome == "minimal"
        return current, False

    def _trim_goal(self, ceiling: Evaluation, verdict: Verdict) -> _TrimGoal:
        if verdict == "reached":
            return (
                f"target {self.target:g}",
                self.meets,
                lambda trial: _planned_text(trial, self.criterion),
            )
        floor = float(np.mean(ceiling.wins_per_quarter)) - self.gain_needed
        return (
            f"ceiling {floor:.1f}",
            lambda trial: float(np.mean(trial.wins_per_quarter)) >= floor,
            lambda trial: f"mean {np.mean(trial.wins_per_quarter):.1f}",
        )

    def _remove_reps(
        self, current: Evaluation, chunk: dict[Unit, int], goal: _TrimGoal
    ) -> tuple[Evaluation, str]:
        """Try removing a chunk from each role, least busy first, until one keeps the answer.

        Returns the team and ``kept`` (a chunk removed), ``halved`` (a chunk broke the
        answer and is halved), ``minimal`` (no removal keeps it) or ``out_of_steps``.
        """
        name, holds, shown = goal
        for unit in reversed(self.busiest_first(current)):
            size = min(chunk[unit], current.team[unit] - 1)
            if size < 1:
                continue
            if self.out_of_steps():
                return current, "out_of_steps"
            trial, gain = self.tried(current, {**current.team, unit: current.team[unit] - size})
            kept = holds(trial)
            reason = f"{name} {'still holds' if kept else 'breaks'} ({shown(trial)})"
            change = f"-{size} {unit_label(unit)}"
            self.record(
                Step(len(self.steps), "trim", change, kept, reason, trial, gain, *self.last_gain_ci)
            )
            if kept:
                chunk[unit] = max(1, min(size, trial.team[unit] // 4))
                return trial, "kept"
            if size > 1:
                chunk[unit] = max(1, size // 2)
                return current, "halved"
        return current, "minimal"


def _utilisation(evaluation: Evaluation, unit: Unit) -> float:
    value = evaluation.utilisation.get(unit, math.nan)
    return -1.0 if math.isnan(value) else value


def _planned_text(evaluation: Evaluation, criterion: Criterion) -> str:
    label = "CI low" if criterion == "ci_low" else "mean"
    return f"{label} {evaluation.planned_wins(criterion):.1f}"


def check_settings(
    scenario: Scenario, target: float, criterion: str, max_steps: int, label: str
) -> list[str]:
    """One line per reason the settings cannot be planned (empty when they can)."""
    problems = []
    if not math.isfinite(target) or target <= 0:
        problems.append(f"{label}: --wins-per-quarter: must be a number above 0, got {target:g}")
    if criterion not in ("ci_low", "mean"):
        problems.append(f"{label}: --criterion: must be ci_low or mean, got {criterion!r}")
    if criterion == "ci_low" and scenario.replications < 2:
        problems.append(
            f"{label}: --replications: the ci_low criterion needs at least 2 replications "
            f"(got {scenario.replications}); or use --criterion mean"
        )
    if max_steps < 1:
        problems.append(f"{label}: --max-steps: must be at least 1, got {max_steps}")
    return problems
