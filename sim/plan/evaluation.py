"""One simulated team of the plan's search, and more replications of it when a decision needs them.

An ``Evaluation`` holds what the search compares, one value per replication:
wins, bookings and revenue per quarter, cost and profit, and each unit's
utilisation. Replication ``r`` runs on the same leads with the same luck for
every team (common random numbers), so two evaluations with the same number
of replications pair replication by replication, and an evaluation can be
extended (``extended``) by simulating only the replications it lacks: the
longer evaluation equals a fresh one of that many replications.

Plain pandas and numpy on top of ``sim.model.runner.simulate``; no printing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from sim.analysis import kpi_values, people, stats
from sim.config.scenario import Scenario
from sim.model.runner import simulate
from sim.plan.goal import per_quarter
from sim.plan.team import Unit, team_of, with_team

if TYPE_CHECKING:
    from sim.parallel import Runs

MONEY = ("cost", "profit", "profit_with_book")
"""The money KPIs an evaluation keeps per replication (horizon totals)."""


@dataclass(frozen=True)
class Evaluation:
    """One simulated team: its wins, bookings and revenue per quarter per replication, its cost."""

    team: dict[Unit, int]
    per_quarter: dict[str, np.ndarray]  # wins/bookings/revenue: one value per replication
    utilisation: dict[Unit, float]  # mean over replications
    kpis: dict[str, float]  # mean and CI of each of MONEY
    cost_per_year: float = math.nan  # the mean cost KPI per 365 days
    # Per replication, what ``extended`` needs to merge more replications in.
    utilisation_runs: dict[Unit, np.ndarray] = field(default_factory=dict, repr=False)
    money_runs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def replications(self) -> int:
        """Replications simulated (the length of each per-replication array)."""
        return len(self.per_quarter["wins"])

    @property
    def headcount(self) -> int:
        """Seats in the team, account managers included."""
        return sum(self.team.values())

    @property
    def wins_per_quarter(self) -> np.ndarray:
        """Wins per quarter per replication, in replication order."""
        return self.per_quarter["wins"]

    @property
    def wins(self) -> tuple[float, float, float]:
        """Mean wins per quarter and its 95 % confidence interval."""
        return stats.mean_ci(self.wins_per_quarter)

    def interval(self, kpi: str) -> tuple[float, float, float]:
        """Mean of a target KPI per quarter and its 95 % confidence interval."""
        return stats.mean_ci(self.per_quarter[kpi])

    def planned(self, kpi: str, criterion: str) -> float:
        """The number compared with a target: the CI's lower bound (``ci_low``) or the mean."""
        mean, low, _ = self.interval(kpi)
        return low if criterion == "ci_low" else mean

    def values(self, kpi: str) -> np.ndarray:
        """One value per replication of a target KPI (per quarter) or a money KPI (horizon)."""
        return self.per_quarter[kpi] if kpi in self.per_quarter else self.money_runs[kpi]

    def planned_wins(self, criterion: str) -> float:
        """The number compared with a target of wins: the CI's lower bound or the mean."""
        return self.planned("wins", criterion)


@dataclass(frozen=True)
class Step:
    """One team tried by the search."""

    number: int  # 0 is the starting team
    phase: Literal["start", "grow", "trim", "profit"]
    change: str  # "+1 closer", "-1 east/lead_gen", "" for the start
    accepted: bool
    reason: str
    evaluation: Evaluation
    gain: float  # mean paired change in the target per quarter against the team it changed
    gain_ci_low: float = math.nan  # its paired 95 % CI
    gain_ci_high: float = math.nan


def summarised(
    team: dict[Unit, int],
    per_quarter_runs: dict[str, np.ndarray],
    utilisation_runs: dict[Unit, np.ndarray],
    money_runs: dict[str, np.ndarray],
    horizon_days: float,
) -> Evaluation:
    """An evaluation from its per-replication values: the means and intervals the search reads."""
    kpis = {}
    for name in MONEY:
        mean, low, high = stats.mean_ci(money_runs[name])
        kpis.update({name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
    with np.errstate(all="ignore"):
        utilisation = {unit: float(np.nanmean(v)) for unit, v in utilisation_runs.items()}
    return Evaluation(
        team=team,
        per_quarter=per_quarter_runs,
        utilisation=utilisation,
        kpis=kpis,
        cost_per_year=kpis["cost"] * 365.0 / horizon_days,
        utilisation_runs=utilisation_runs,
        money_runs=money_runs,
    )


def evaluate(
    scenario: Scenario,
    structure: str,
    team: dict[Unit, int],
    on_run_done: Callable[[int, str], None] | None = None,
    runs: Runs | None = None,
    first_replication: int = 0,
) -> Evaluation:
    """Simulate one team of one structure (the scenario's replications and seed).

    Args:
        scenario: the scenario; its seed fixes the leads and luck of every team.
        structure: the structure to run.
        team: headcount per (pod, role); units not named keep the scenario's count.
        on_run_done: called with (replication, structure) after each run.
        runs: where the replications run (``sim.model.runner.replication_runs``);
            None: in this process. The evaluation does not depend on it.
        first_replication: simulate replications from this one to the scenario's
            count (``extended`` adds replications this way).

    Returns:
        Wins, bookings and revenue per quarter per replication, utilisation per
        unit, cost and profit.
    """
    sized = with_team(scenario, structure, team)
    result = simulate(
        sized, (structure,), on_run_done, runs=runs, first_replication=first_replication
    )
    kpis = kpi_values.run_kpis(result.leads, result.reps, sized).sort_values("replication")
    utilisation_runs = unit_utilisation(result.reps)
    money_runs = {name: kpis[name].to_numpy(dtype=float) for name in MONEY}
    return summarised(
        team_of(sized, structure),
        per_quarter(kpis, sized),
        utilisation_runs,
        money_runs,
        sized.horizon_days,
    )


def unit_utilisation(reps: pd.DataFrame) -> dict[Unit, np.ndarray]:
    """Each (pod, role)'s utilisation per replication, in replication order."""
    per_run = reps.groupby(["replication", "pod", "role"], observed=True).apply(
        people.utilisation, include_groups=False
    )
    by_unit = per_run.unstack(["pod", "role"]).sort_index()
    return {
        (str(pod), str(role)): by_unit[(pod, role)].to_numpy(dtype=float)
        for pod, role in by_unit.columns
    }


def joined(first: Evaluation, more: Evaluation, horizon_days: float) -> Evaluation:
    """``first`` with ``more``'s replications after its own (the same team)."""

    def both(a: dict, b: dict) -> dict:
        return {key: np.concatenate([a[key], b[key]]) for key in a}

    return summarised(
        first.team,
        both(first.per_quarter, more.per_quarter),
        both(first.utilisation_runs, more.utilisation_runs),
        both(first.money_runs, more.money_runs),
        horizon_days,
    )


__all__ = ["Evaluation", "Step", "evaluate", "joined", "summarised"]
