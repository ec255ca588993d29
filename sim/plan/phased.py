"""A hiring plan by quarter: whom to hire when, so that each quarter reaches a growing target.

"We close 20 deals a quarter today and must grow 40 % a year: whom do we
hire, and when?" The cost plan (``sim.plan.search``) sizes one team for one
target over the horizon. Here the target is per quarter of the horizon,
growing at ``growth_per_year`` (quarter *q* asks for ``T (1 + g)^(q / 4)``),
and the answer is dated hires (``structures.<name>.hires``, the hiring plan
of the scenario) on top of today's team.

The search (``plan_hiring``), on the same leads with the same luck for every
plan tried (common random numbers):

1. Simulate the plan so far and find the first quarter whose value misses its
   target (the lower bound of its 95 % CI over replications, or the mean).
2. Try one more rep of each searched role (busiest first) for that quarter: a
   hire whose requisition opens ``lag + ramp`` days before the quarter starts,
   so the person is fully ramped when it begins (``lead_days``); when that day
   is before day 0, a rep added to today's team instead.
3. Keep the one whose paired gain in that quarter counts (at least
   ``min_gain`` and its CI above 0) and is the largest per seat cost; if none
   counts, that quarter is **not reachable** by hiring (the first quarter, while
   the pipeline fills, often is) and the search goes on with the next.

It stops when every quarter reaches its target or is given up (**reached**,
or **not_reachable** naming the quarters missed) or after ``max_steps`` plans
tried (**max_steps**). It only adds: today's team is not
trimmed (run the cost plan for that), and hires are not moved once kept.

Quarters are counted from day 0 (the warm-up's quarters included); wins and
bookings of a quarter are those closed in it. Plain pandas and numpy on top of
``sim.model.runner.simulate``; no printing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from sim.analysis import stats
from sim.config.scenario import Scenario
from sim.model.runner import simulate
from sim.plan.evaluation import unit_utilisation
from sim.plan.goal import QUARTER_DAYS, Target, seat_cost_per_year
from sim.plan.team import Unit, searched_roles, team_of, unit_label, with_team

if TYPE_CHECKING:
    from sim.parallel import Runs

PHASED_KPIS = ("wins", "bookings")
"""Targets a hiring plan by quarter can have (revenue lags its quarter's wins)."""


@dataclass(frozen=True)
class Hire:
    """One planned rep: where, the requisition's day (None: today's team), for which quarter."""

    unit: Unit
    day: float | None
    quarter: int


@dataclass(frozen=True)
class QuarterlyEvaluation:
    """One plan simulated: the target's KPI per quarter (rows) and replication (columns)."""

    hires: tuple[Hire, ...]
    by_quarter: np.ndarray
    utilisation: dict[Unit, float]
    cost: np.ndarray  # the cost KPI over the horizon, per replication

    def interval(self, quarter: int) -> tuple[float, float, float]:
        """Mean of a quarter's value and its 95 % confidence interval."""
        return stats.mean_ci(self.by_quarter[quarter])


@dataclass(frozen=True)
class PhasedStep:
    """One plan tried: the rep added, for which quarter, whether it was kept and why."""

    number: int
    quarter: int
    change: str
    accepted: bool
    reason: str
    evaluation: QuarterlyEvaluation
    gain: float = math.nan
    gain_ci_low: float = math.nan
    gain_ci_high: float = math.nan


@dataclass(frozen=True)
class HiringPlan:
    """The search's answer for one structure."""

    structure: str
    kpi: str
    targets: tuple[float, ...]  # per quarter
    criterion: str
    verdict: Literal["reached", "not_reachable", "max_steps"]
    final: QuarterlyEvaluation
    steps: list[PhasedStep] = field(default_factory=list)
    missed: tuple[int, ...] = ()  # the quarters the final plan misses (from 0)


def quarter_targets(first: float, growth_per_year: float, quarters: int) -> tuple[float, ...]:
    """The target of each quarter: ``first`` growing at ``growth_per_year``, compounded."""
    return tuple(first * (1.0 + growth_per_year) ** (q / 4.0) for q in range(quarters))


def quarters_in(scenario: Scenario) -> int:
    """Whole quarters in the horizon."""
    return int(scenario.horizon_days // QUARTER_DAYS)


def lead_days(scenario: Scenario, role: str) -> float:
    """Days from a requisition to a fully ramped rep: the hiring lag plus the role's ramp."""
    people = scenario.people
    ramp = people.ramp.days.get(role) if people.ramp.enabled else 0.0
    return people.turnover.hiring_lag_days + ramp


def with_hires(scenario: Scenario, structure: str, hires: tuple[Hire, ...]) -> Scenario:
    """The scenario with today's team grown and the dated hires added to its hiring plan."""
    today = team_of(scenario, structure)
    for hire in hires:
        if hire.day is None:
            today[hire.unit] += 1
    sized = with_team(scenario, structure, today)
    dated = [
        {"role": h.unit[1], "day": h.day, "count": 1, "pod": h.unit[0], "lag_days": None}
        for h in hires
        if h.day is not None
    ]
    if not dated:
        return sized
    data = sized.model_dump(mode="json")
    block = data["structures"][structure]
    block["hires"] = [*block.get("hires", []), *dated]
    return Scenario.from_dict(data, scenario.name)


def values_by_quarter(leads: pd.DataFrame, kpi: str, quarters: int) -> np.ndarray:
    """Wins (or bookings) closed in each quarter, per replication: (quarters, replications)."""
    won = leads[leads["outcome"] == "won"]
    quarter = (won["end_day"] // QUARTER_DAYS).astype(int)
    amount = np.ones(len(won)) if kpi == "wins" else won["deal_value"].to_numpy(dtype=float)
    table = (
        pd.DataFrame({"q": quarter.to_numpy(), "r": won["replication"].to_numpy(), "v": amount})
        .query("q < @quarters")
        .pivot_table(index="q", columns="r", values="v", aggfunc="sum", fill_value=0.0)
        .reindex(index=range(quarters), columns=sorted(leads["replication"].unique()))
        .fillna(0.0)
    )
    return table.to_numpy(dtype=float)


def evaluate_hires(
    scenario: Scenario,
    structure: str,
    hires: tuple[Hire, ...],
    kpi: str,
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
) -> QuarterlyEvaluation:
    """Simulate today's team with ``hires`` (every replication, the scenario's seed)."""
    from sim.analysis import kpi_values

    planned = with_hires(scenario, structure, hires)
    result = simulate(planned, (structure,), on_run_done, runs=runs)
    kpis = kpi_values.run_kpis(result.leads, result.reps, planned).sort_values("replication")
    by_unit = unit_utilisation(result.reps)
    return QuarterlyEvaluation(
        hires=hires,
        by_quarter=values_by_quarter(result.leads, kpi, quarters_in(scenario)),
        utilisation={unit: float(np.nanmean(v)) for unit, v in by_unit.items()},
        cost=kpis["cost"].to_numpy(dtype=float),
    )


@dataclass
class _Phased:
    """One structure's search by quarter: its settings and the plans tried so far."""

    scenario: Scenario
    structure: str
    target: Target
    targets: tuple[float, ...]
    criterion: str
    max_steps: int
    min_gain: float
    on_step: Callable[[PhasedStep], None] | None = None
    on_run_done: Callable[[int, str], None] | None = None
    runs: Runs | None = None
    steps: list[PhasedStep] = field(default_factory=list)

    def seat_cost(self, unit: Unit) -> float:
        """What a rep of the unit's role costs a year (``seat_cost_per_year``)."""
        return seat_cost_per_year(self.scenario, unit[1])

    def evaluated(self, hires: tuple[Hire, ...]) -> QuarterlyEvaluation:
        return evaluate_hires(
            self.scenario, self.structure, hires, self.target.kpi, self.on_run_done, self.runs
        )

    def record(self, step: PhasedStep) -> None:
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def missed(self, evaluation: QuarterlyEvaluation) -> list[int]:
        """The quarters whose planned value misses their target, in order."""
        out = []
        for quarter, target in enumerate(self.targets):
            mean, low, _ = evaluation.interval(quarter)
            value = low if self.criterion == "ci_low" else mean
            if math.isnan(value) or value < target:
                out.append(quarter)
        return out

    def hire_for(self, unit: Unit, quarter: int) -> Hire:
        """A rep of ``unit`` ramped by the quarter's start: dated, or in today's team."""
        day = quarter * QUARTER_DAYS - lead_days(self.scenario, unit[1])
        return Hire(unit, round(day, 2) if day > 0 else None, quarter)

    def search(self) -> tuple[QuarterlyEvaluation, str]:
        """Add the best rep for the first missed quarter until none is missed.

        A quarter no single hire raises enough is given up (it stays missed, and
        the verdict says so); the search goes on with the next one.
        """
        current = self.evaluated(())
        self.record(PhasedStep(0, -1, "", True, "today's team", current))
        given_up: set[int] = set()
        while open_quarters := [q for q in self.missed(current) if q not in given_up]:
            if len(self.steps) > self.max_steps:
                return current, "max_steps"
            kept = self._best_hire(current, open_quarters[0])
            if kept is None:
                given_up.add(open_quarters[0])
            else:
                current = kept
        return current, "not_reachable" if given_up else "reached"

    def _best_hire(self, current: QuarterlyEvaluation, quarter: int) -> QuarterlyEvaluation | None:
        """One more rep of each searched role for ``quarter``; the best that counts, or None."""
        roles = searched_roles(self.structure)
        units = [u for u in team_of(self.scenario, self.structure) if u[1] in roles]
        units.sort(key=lambda u: -current.utilisation.get(u, -1.0))
        tried = []
        for unit in units:
            if len(self.steps) + len(tried) > self.max_steps:
                break
            hire = self.hire_for(unit, quarter)
            trial = self.evaluated((*current.hires, hire))
            gain, low, high = stats.mean_ci(trial.by_quarter[quarter] - current.by_quarter[quarter])
            counts = gain >= self.min_gain and not (math.isfinite(low) and low <= 0)
            tried.append((hire, trial, gain, low, high, counts))
        counted = [t for t in tried if t[5]]
        best = max(
            counted,
            key=lambda t: t[2] / seat_cost_per_year(self.scenario, t[0].unit[1]),
            default=None,
        )
        for hire, trial, gain, low, high, counts in tried:
            kept = best is not None and hire == best[0]
            self.record(
                PhasedStep(
                    len(self.steps), quarter, hire_text(hire), kept,
                    self._reason(quarter, gain, low, high, counts, kept), trial, gain, low, high,
                )
            )  # fmt: skip
        return None if best is None else best[1]

    def _reason(
        self, quarter: int, gain: float, low: float, high: float, counts: bool, kept: bool
    ) -> str:
        show = self.target.change
        ci = f"95 % CI {show(low)} to {show(high)}" if math.isfinite(low) else "guessing: no CI"
        what = f"quarter {quarter + 1} {self.target.kpi} {show(gain)} ({ci})"
        if not counts:
            return f"{what}: does not count"
        return what if kept else f"{what}: another role gains more per cost"


def hire_text(hire: Hire) -> str:
    """``+1 closer on day 120`` or ``+1 closer today``."""
    when = "today" if hire.day is None else f"on day {hire.day:g}"
    return f"+1 {unit_label(hire.unit)} {when}"


def plan_hiring(
    scenario: Scenario,
    structure: str,
    target: Target,
    growth_per_year: float,
    criterion: str = "ci_low",
    max_steps: int = 40,
    min_gain: float | None = None,
    on_step: Callable[[PhasedStep], None] | None = None,
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
) -> HiringPlan:
    """Search the hires by quarter that make each quarter of the horizon reach its target.

    Args:
        scenario: the scenario; today's team is the structure's team in it.
        structure: the structure to plan.
        target: the first quarter's target (wins or bookings).
        growth_per_year: how fast the target grows (0.4: 40 % a year).
        criterion: ``ci_low`` or ``mean``, as in ``plan_structure``.
        max_steps: most plans tried after today's team.
        min_gain: least rise in the quarter's value for a hire to count (default 1 %
            of the first quarter's target).
        on_step: called with each plan tried as soon as it is simulated.
        on_run_done: called with (replication, structure) after each run.
        runs: where the replications run (``sim.model.runner.replication_runs``).
    """
    quarters = quarters_in(scenario)
    search = _Phased(
        scenario,
        structure,
        target,
        quarter_targets(target.per_quarter, growth_per_year, quarters),
        criterion,
        max_steps,
        0.01 * target.per_quarter if min_gain is None else min_gain,
        on_step,
        on_run_done,
        runs,
    )
    final, verdict = search.search()
    missed = tuple(search.missed(final))
    return HiringPlan(
        structure, target.kpi, search.targets, criterion, verdict, final, search.steps, missed
    )
