"""Capacity planning: the cheapest team per structure that reaches a target per quarter.

A sales leader asks "we want 30 new customers (or 2 million of bookings) a
quarter: what is the cheapest team that gets there?". Dividing the target by a
rep's win rate ignores everything that makes a real team smaller than its seat
count: ramp-up, leavers and empty seats, queues, leads going cold. This module
answers by simulation, on the same leads with the same luck for every team
tried (common random numbers), minimising the team's cost (the simulated
``cost`` KPI) subject to the target (``sim.plan.goal``: wins, bookings or
revenue per quarter).

The search, per structure (``plan_structure``):

1. *Grow.* While the target's KPI is below the target, add one rep where it
   buys the most: every sales role within ``NEAR_BUSIEST`` utilisation of the
   busiest (for Pods, per pod) gets one more rep in turn, and of those whose
   paired gain counts (at least ``min_gain``, default 1 % of the target, and
   significant), the one with the best gain per seat cost
   (``seat_cost_per_year``) is kept. If none counts, the other roles are tried,
   busiest first. When no single rep helps, double every sales role: several
   roles may be saturated at once, and a doubled team's gain is easy to tell
   from noise. If the doubled team does not raise the KPI by ``min_gain`` per
   added rep either, the target is **not reachable**.
2. *Trim.* Once the target holds (or when the starting team already beats
   it), remove reps from the role whose seat costs most (the least busy among
   equal seats) while the target still holds; a removal that breaks it is
   undone and the next role is tried. Reps go in chunks of a quarter of the
   role, halved after each chunk that breaks the target, down to one rep. For
   a target that is not reachable the trim keeps the KPI within ``min_gain``
   of the highest found instead.
3. *Budget.* With ``budget_per_year``, a trimmed team that still costs more a
   year is not accepted: the verdict is **over budget**, with that team (the
   cheapest found) and its cost.

Each tried team is one simulation of every replication; ``max_steps`` caps
the tries per structure. Replications go where they decide the answer: when a
decision is left open by the replications run so far (a gain whose paired CI
straddles 0, a team whose CI straddles the target), every team compared from
then on gets twice the replications, up to ``max_replications``; only the
replications a team lacks are simulated (replication ``r`` has the same leads
and luck for every team, ``sim.plan.evaluation``). Account managers are not searched: they serve won
accounts and work no sales stage, so wins do not depend on them (the
scenario's count is kept; size them on the account book).

Wins per quarter are wins closed in the measured window (after the warm-up)
per 91.25 days, ramp-up, turnover and vacancies included. By default the
target must hold for the lower bound of the 95 % confidence interval of the
mean over replications (``criterion="ci_low"``),
not just for the mean: the mean comes from a few replications, so a team
sized to it has roughly even odds that its true expected value falls short,
while the lower bound asks for 97.5 % confidence (``StructurePlan.probability``
says how sure the final team is).
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

from sim.analysis import stats
from sim.config.scenario import Scenario
from sim.plan.evaluation import Evaluation, Step, evaluate, joined
from sim.plan.goal import QUARTER_DAYS, Target, probability_reaching, seat_cost_per_year
from sim.plan.profit import climb
from sim.plan.team import (
    HEADCOUNT_FIELDS,
    Unit,
    role_totals,
    searched_roles,
    team_of,
    team_text,
    unit_label,
    with_team,
)

if TYPE_CHECKING:
    from sim.parallel import Runs

# Re-exported: callers and tests import the team helpers from here.
__all__ = [
    "HEADCOUNT_FIELDS",
    "QUARTER_DAYS",
    "Evaluation",
    "Target",
    "evaluate",
    "plan_structure",
    "role_totals",
    "team_of",
    "team_text",
    "with_team",
]

MAX_DOUBLINGS = 3
"""Most times the search doubles every sales role (8x the team): beyond it, not reachable."""

Criterion = Literal["ci_low", "mean"]
Verdict = Literal["reached", "over_budget", "not_reachable", "max_steps"]

NEAR_BUSIEST = 0.10
"""Roles within this much utilisation of the busiest are all tried, the best gain per cost kept."""


@dataclass(frozen=True)
class StructurePlan:
    """The search's answer for one structure."""

    structure: str
    target: float  # per quarter, of ``kpi``
    criterion: Criterion
    verdict: Verdict
    final: Evaluation
    steps: list[Step] = field(default_factory=list)
    minimal: bool = False  # the trim ended because no single removal kept the answer
    kpi: str = "wins"
    budget_per_year: float | None = None
    max_replications: int = 0  # most replications a decision could take
    objective: str = "cost"

    @property
    def simulations(self) -> int:
        """Teams simulated (each one every replication)."""
        return len(self.steps)

    @property
    def replications(self) -> int:
        """Replications the final team was simulated on (more than the scenario's if needed)."""
        return self.final.replications

    @property
    def probability(self) -> float:
        """Probability that the final team's expected per-quarter value reaches the target."""
        return probability_reaching(self.final.per_quarter[self.kpi], self.target)


def plan_structure(
    scenario: Scenario,
    structure: str,
    target: float | Target,
    criterion: Criterion = "ci_low",
    max_steps: int = 40,
    min_gain: float | None = None,
    on_step: Callable[[Step], None] | None = None,
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
    budget_per_year: float | None = None,
    max_replications: int | None = None,
    objective: str = "cost",
) -> StructurePlan:
    """Search the cheapest team of one structure that reaches ``target`` per quarter.

    Args:
        scenario: the scenario; the structure's team in it is the starting point.
        structure: the structure to size.
        target: what to reach per quarter (> 0): a ``Target``, or a number of wins.
        criterion: ``"ci_low"`` (the 95 % CI's lower bound must reach the
            target; needs at least 2 replications) or ``"mean"``.
        max_steps: most teams tried after the starting one.
        min_gain: least rise in the target's KPI per quarter per added rep
            (paired over replications) for adding reps to count as raising it;
            default 1 % of the target.
        on_step: called with each step as soon as it is simulated.
        on_run_done: called with (replication, structure) after each run.
        runs: where each team's replications run (``sim.model.runner.replication_runs``);
            None: in this process. The plan does not depend on it.
        budget_per_year: most the team may cost a year (the simulated ``cost``
            per 365 days); a team that reaches the target above it gets the
            verdict ``over_budget``. None: no budget.
        max_replications: most replications one decision may take. A decision the
            scenario's replications leave open (a gain whose CI straddles 0, a
            team whose CI straddles the target) doubles the replications of
            every team compared from then on, up to this. None: the scenario's
            (no more replications).
        objective: ``cost`` (the cheapest team that reaches the target), or
            ``profit`` / ``profit_with_book``: from there, add reps while one
            raises that KPI significantly, the target holds and the budget is kept
            (``sim.plan.profit``).

    Returns:
        The plan: verdict, the final team's evaluation and every step tried.
    """
    goal = target if isinstance(target, Target) else Target("wins", float(target))
    search = _Search(
        scenario,
        structure,
        goal.per_quarter,
        criterion,
        max_steps,
        gain_needed=0.01 * goal.per_quarter if min_gain is None else min_gain,
        on_step=on_step,
        on_run_done=on_run_done,
        runs=runs,
        goal=goal,
        max_replications=max_replications or scenario.replications,
    )
    start = search.evaluated(team_of(scenario, structure))
    search.record(Step(0, "start", "", True, "the scenario's team", start, math.nan))
    grown, verdict = search.grow(start)
    final, minimal = search.trim(grown, verdict)
    if objective != "cost" and verdict == "reached":
        final = climb(search, final, objective, budget_per_year)
    final = search.level(final)
    if verdict == "reached" and budget_per_year is not None:
        # The trim has made the team as cheap as the search can: if that is still above
        # the budget, no team the search found reaches the target within it.
        verdict = "over_budget" if final.cost_per_year > budget_per_year else verdict
    return StructurePlan(
        structure,
        goal.per_quarter,
        criterion,
        verdict,
        final,
        search.steps,
        minimal=minimal and verdict != "max_steps",
        kpi=goal.kpi,
        budget_per_year=budget_per_year,
        max_replications=search.max_replications,
        objective=objective,
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
    goal: Target | None = None  # None: wins per quarter
    steps: list[Step] = field(default_factory=list)
    last_gain_ci: tuple[float, float] = (math.nan, math.nan)  # of the last team tried
    max_replications: int = 0  # most replications a decision may take; 0: the scenario's
    replications: int = 0  # what every team is now compared on; 0: the scenario's
    known: dict[tuple, Evaluation] = field(default_factory=dict)  # by team, the longest run

    def __post_init__(self) -> None:
        self.replications = self.replications or self.scenario.replications
        self.max_replications = max(self.max_replications, self.replications)

    @property
    def kpi(self) -> str:
        """The target's KPI: wins, bookings or revenue."""
        return "wins" if self.goal is None else self.goal.kpi

    @property
    def target_kind(self) -> Target:
        """The target as a ``Target``."""
        return self.goal or Target("wins", self.target)

    def seat_cost(self, unit: Unit) -> float:
        """What one more rep in this unit's role costs a year (``seat_cost_per_year``)."""
        return seat_cost_per_year(self.scenario, unit[1])

    def record(self, step: Step) -> None:
        """Keep a step and report it."""
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def out_of_steps(self) -> bool:
        """Whether ``max_steps`` teams have been tried after the starting one."""
        return len(self.steps) > self.max_steps

    def meets(self, evaluation: Evaluation) -> bool:
        """Whether a team's planned value of the target's KPI reaches the target.

        While the target lies inside the team's 95 % CI, more replications could
        move the planned value across it: every team then gets more, up to
        ``max_replications``.
        """
        evaluation = self.level(evaluation)
        _, low, high = evaluation.interval(self.kpi)
        while low < self.target <= high and self.more_replications():
            evaluation = self.level(evaluation)
            _, low, high = evaluation.interval(self.kpi)
        value = evaluation.planned(self.kpi, self.criterion)
        return not math.isnan(value) and value >= self.target

    def tried(
        self, current: Evaluation, team: dict[Unit, int], kpi: str | None = None
    ) -> tuple[Evaluation, float]:
        """Simulate a changed team: its evaluation and mean paired gain in ``kpi``.

        ``kpi`` is the target's by default (a gain must reach ``gain_needed``), or a
        money KPI of ``evaluation.MONEY`` (any gain above 0).

        While the gain's paired 95 % CI leaves open whether it counts
        (``gain_undecided``), both teams get more replications, up to
        ``max_replications``. The CI is kept in ``last_gain_ci`` for the step's record.
        """
        kpi = kpi or self.kpi
        needed = self.gain_needed if kpi == self.kpi else 0.0
        trial = self.evaluated(team)
        while True:
            current, trial = self.level(current), self.level(trial)
            gain, low, high = stats.mean_ci(trial.values(kpi) - current.values(kpi))
            if not self.gain_undecided(gain, low, high, needed) or not self.more_replications():
                break
        self.last_gain_ci = (low, high)
        return trial, float(gain)

    @staticmethod
    def gain_undecided(gain: float, low: float, high: float, needed: float) -> bool:
        """Whether more replications could change whether a rising gain counts.

        A gain counts when its mean reaches ``needed`` and its CI excludes 0;
        it is undecided while the mean is above 0 and the CI reaches both a gain that
        would count and one that would not.
        """
        return gain > 0 and high >= needed and (low <= 0 or gain < needed)

    def evaluated(self, team: dict[Unit, int]) -> Evaluation:
        """A team simulated at the search's current number of replications (once per team)."""
        key = _team_key(team)
        known = self.known.get(key)
        if known is not None and known.replications >= self.replications:
            return known
        if known is not None:
            return self.level(known)
        scenario = self.scenario.model_copy(update={"replications": self.replications})
        evaluation = evaluate(scenario, self.structure, team, self.on_run_done, self.runs)
        self.known[_team_key(evaluation.team)] = self.known[key] = evaluation
        return evaluation

    def level(self, evaluation: Evaluation) -> Evaluation:
        """The team with as many replications as the search now runs (only the new ones run).

        Replication ``r`` has the same leads and luck for every team, so teams
        evaluated at the same number of replications pair replication by replication.
        """
        key = _team_key(evaluation.team)
        known = self.known.get(key, evaluation)
        if known.replications >= self.replications:
            return known
        scenario = self.scenario.model_copy(update={"replications": self.replications})
        more = evaluate(
            scenario,
            self.structure,
            known.team,
            self.on_run_done,
            self.runs,
            first_replication=known.replications,
        )
        self.known[key] = extended = joined(known, more, self.scenario.horizon_days)
        return extended

    def more_replications(self) -> bool:
        """Double the replications every team is compared on, up to ``max_replications``.

        Returns False when already there: the decision is taken on what is known.
        """
        if self.replications >= self.max_replications:
            return False
        self.replications = min(2 * self.replications, self.max_replications)
        return True

    def gain_holds(self, gain: float, needed: float) -> tuple[bool, str]:
        """Whether a gain counts: at least ``needed`` and, with 2+ replications, significant.

        Noise is not an effect: a rep whose paired 95 % CI of the gain includes 0
        is not kept, however large the mean. With one replication there is no
        interval and the search says it is guessing.
        """
        low, high = self.last_gain_ci
        show, name = self.target_kind.change, self.target_kind.label
        interval = f" (95 % CI {show(low)} to {show(high)})" if math.isfinite(low) else ""
        interval = interval or " (guessing: no CI)"
        if gain < needed:
            return False, f"raises {name} by {show(gain)}{interval}, less than {show(needed)[1:]}"
        if math.isfinite(low) and low <= 0:
            return False, f"raises {name} by {show(gain)}{interval}: not significant"
        return True, interval

    def _ci_text(self) -> str:
        low, high = self.last_gain_ci
        show = self.target_kind.change
        return f", 95 % CI {show(low)} to {show(high)}" if math.isfinite(low) else ", guessing"

    def busiest_first(self, evaluation: Evaluation) -> list[Unit]:
        """The searched units (sales roles), highest utilisation first."""
        roles = searched_roles(self.structure)
        units = [unit for unit in evaluation.team if unit[1] in roles]
        return sorted(units, key=lambda u: -_utilisation(evaluation, u))

    def costliest_first(self, evaluation: Evaluation) -> list[Unit]:
        """The searched units, dearest seat first, the least busy first among equals.

        The order the trim tries removals in: a rep saved in the dearest role
        saves the most.
        """
        least_busy = list(reversed(self.busiest_first(evaluation)))
        return sorted(least_busy, key=lambda u: -self.seat_cost(u))

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
        """One rep where it buys the most, else in the next busiest role that raises the target.

        Every role within ``NEAR_BUSIEST`` utilisation of the busiest is tried and,
        of those whose gain counts, the one with the highest gain per seat cost is
        kept: two roles that are both nearly full may each lift the target, and the
        cheaper lift wins. If none counts, the other roles are tried, busiest first.

        Returns the team and ``raised``, ``no_gain`` (no single rep did) or ``out_of_steps``.
        """
        ranked = self.busiest_first(current)
        top = _utilisation(current, ranked[0]) if ranked else 0.0
        near = [u for u in ranked if _utilisation(current, u) >= top - NEAR_BUSIEST]
        chosen = self._best_per_cost(current, near)
        if chosen is not None:
            return chosen, "raised"
        for unit in ranked[len(near) :]:
            if self.out_of_steps():
                return current, "out_of_steps"
            trial, gain = self.tried(current, {**current.team, unit: current.team[unit] + 1})
            raised, why = self.gain_holds(gain, self.gain_needed)
            if raised:
                why = (
                    f"next busiest role (utilisation {_utilisation(current, unit):.0%}): "
                    f"{self.target_kind.kpi} {self.target_kind.change(gain)}{why}"
                )
            self._record_added(unit, trial, gain, raised, why)
            if raised:
                return trial, "raised"
        return current, "out_of_steps" if self.out_of_steps() else "no_gain"

    def _best_per_cost(self, current: Evaluation, units: list[Unit]) -> Evaluation | None:
        """Try one more rep in each unit; keep the best counted gain per seat cost (or None).

        The steps are recorded once all are tried, so each says whether it was kept.
        """
        tried = []
        for unit in units:
            if self.out_of_steps():
                break
            trial, gain = self.tried(current, {**current.team, unit: current.team[unit] + 1})
            raised, why = self.gain_holds(gain, self.gain_needed)
            tried.append((unit, trial, gain, raised, why, self.last_gain_ci))
        counted = [t for t in tried if t[3]]
        best = max(counted, key=lambda t: t[2] / self.seat_cost(t[0]), default=None)
        show = self.target_kind.change
        for unit, trial, gain, raised, why, gain_ci in tried:
            kept = best is not None and unit == best[0]
            if raised:
                what = "busiest role" if unit == units[0] else "nearly as busy"
                why = (
                    f"{what} (utilisation {_utilisation(current, unit):.0%}): "
                    f"{self.target_kind.kpi} {show(gain)}{why} for a seat of "
                    f"{self.seat_cost(unit):,.0f} a year"
                    f"{'' if kept else ': another role gains more per cost'}"
                )
            self.last_gain_ci = gain_ci
            self._record_added(unit, trial, gain, kept, why)
        return None if best is None else best[1]

    def _record_added(
        self, unit: Unit, trial: Evaluation, gain: float, kept: bool, why: str
    ) -> None:
        change = f"+1 {unit_label(unit)}"
        self.record(
            Step(len(self.steps), "grow", change, kept, why, trial, gain, *self.last_gain_ci)
        )

    def _double(self, current: Evaluation) -> tuple[Evaluation, str]:
        """Every sales role doubled: the team and ``raised`` or ``no_gain``."""
        units = self.busiest_first(current)
        doubled = {u: current.team[u] * (2 if u in units else 1) for u in current.team}
        trial, gain = self.tried(current, doubled)
        added = trial.headcount - current.headcount
        # The same bar as for one rep, per rep added: many reps that each add
        # little do not count as raising the target's KPI.
        raised, _ = self.gain_holds(gain, self.gain_needed * added)
        verdict_text = "" if raised else ", not enough: headcount is not the limit"
        self.record(
            Step(
                len(self.steps),
                "grow",
                f"x2 every sales role ({current.headcount} -> {trial.headcount} reps)",
                raised,
                f"no single rep raised {self.target_kind.kpi}; doubling raises them by "
                f"{self.target_kind.change(gain)} ({self.target_kind.change(gain / added)} "
                f"per added rep){self._ci_text()}{verdict_text}",
                trial,
                gain,
                *self.last_gain_ci,
            )
        )
        return trial, "raised" if raised else "no_gain"

    def trim(self, current: Evaluation, verdict: Verdict) -> tuple[Evaluation, bool]:
        """Drop reps the answer does not need, dearest seat first (least busy among equals).

        Reached: the target must still hold. Not reachable: the target's KPI must stay at the
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
                f"target {self.target:g}" if self.kpi == "wins" else f"target {self.target:,.0f}",
                self.meets,
                lambda trial: _planned_text(trial, self.criterion, self.target_kind),
            )
        kpi, amount = self.kpi, self.target_kind.amount
        floor = float(np.mean(ceiling.per_quarter[kpi])) - self.gain_needed
        return (
            f"ceiling {amount(floor)}",
            lambda trial: float(np.mean(trial.per_quarter[kpi])) >= floor,
            lambda trial: f"mean {amount(float(np.mean(trial.per_quarter[kpi])))}",
        )

    def _remove_reps(
        self, current: Evaluation, chunk: dict[Unit, int], goal: _TrimGoal
    ) -> tuple[Evaluation, str]:
        """Try removing a chunk from each role, dearest first, until one keeps the answer.

        Returns the team and ``kept`` (a chunk removed), ``halved`` (a chunk broke the
        answer and is halved), ``minimal`` (no removal keeps it) or ``out_of_steps``.
        """
        name, holds, shown = goal
        for unit in self.costliest_first(current):
            size = min(chunk[unit], current.team[unit] - 1)
            if size < 1:
                continue
            if self.out_of_steps():
                return current, "out_of_steps"
            trial, gain = self.tried(current, {**current.team, unit: current.team[unit] - size})
            kept = holds(trial)
            trial = self.level(trial)  # deciding may have given it more replications
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


def _team_key(team: dict[Unit, int]) -> tuple:
    """A team as a key: its units and counts, in a fixed order."""
    return tuple(sorted(team.items()))


def _utilisation(evaluation: Evaluation, unit: Unit) -> float:
    value = evaluation.utilisation.get(unit, math.nan)
    return -1.0 if math.isnan(value) else value


def _planned_text(evaluation: Evaluation, criterion: Criterion, target: Target) -> str:
    label = "CI low" if criterion == "ci_low" else "mean"
    return f"{label} {target.amount(evaluation.planned(target.kpi, criterion))}"
