"""What a capacity plan aims at: the target, what a seat costs, and how sure the answer is.

A sales leader states a target ("30 wins a quarter", or "2 million of bookings a
quarter") and, often, a budget ("the team may cost 1.5 million a year"). The
search (``sim.plan.search``) looks for the cheapest team that reaches the
target. Here live the pieces it reasons with:

* ``Target``: which KPI per quarter must be reached (wins, bookings or
  revenue, each a KPI of the registry, ``sim.analysis.kpis``) and how to read
  it off one run's KPIs.
* ``seat_cost_per_year``: what one more rep in a role costs a year before
  simulating it (the role's salary times the level mix's mean salary factor,
  plus overhead), the order in which the search tries removing reps and the
  denominator of "gain per added cost".
* ``probability_reaching``: how sure the plan is that a team's expected
  per-quarter value reaches the target, from the t distribution of the
  replications' mean.
* ``check_settings``: the plan's settings checked before anything runs, one
  line per problem.

Pure numpy and pandas; no simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import stdtr  # Student t CDF; scipy.stats costs seconds to import

from sim.analysis.kpis import KPIS
from sim.config.base import LEVELS
from sim.config.scenario import Scenario

OBJECTIVES = ("cost", "profit", "profit_with_book")
"""What the plan optimises: the cheapest team, or the most profit while the target holds."""

QUARTER_DAYS = 91.25
"""Days in a quarter (365 / 4)."""

TargetKpi = Literal["wins", "bookings", "revenue"]

TARGETS: tuple[tuple[TargetKpi, str, str], ...] = (
    ("wins", "--wins-per-quarter", "wins_per_30_days"),
    ("bookings", "--bookings-per-quarter", "bookings"),
    ("revenue", "--revenue-per-quarter", "revenue"),
)
"""Each target: its name, the ``plan`` option that sets it, the registry KPI it is read from."""

TARGET_FLAGS: dict[str, str] = {name: flag for name, flag, _ in TARGETS}
"""Target KPI -> the ``plan`` option that sets it."""

_REGISTRY_KPI: dict[str, str] = {name: kpi for name, _, kpi in TARGETS}
"""Target KPI -> the registry KPI it is read from."""


@dataclass(frozen=True)
class Target:
    """A per-quarter value the team must reach: ``Target("wins", 30)``."""

    kpi: TargetKpi
    per_quarter: float

    @property
    def flag(self) -> str:
        """The command-line option that sets this target."""
        return TARGET_FLAGS[self.kpi]

    @property
    def label(self) -> str:
        """``wins per quarter``, ``bookings per quarter``, ``revenue per quarter``."""
        return f"{self.kpi} per quarter"

    @property
    def unit(self) -> str:
        """The registry's unit of the KPI behind the target (``currency`` for money)."""
        return "wins" if self.kpi == "wins" else KPIS[_REGISTRY_KPI[self.kpi]].unit

    @property
    def source(self) -> str:
        """What the per-quarter value is, in the registry's words."""
        kpi = KPIS[_REGISTRY_KPI[self.kpi]]
        if self.kpi == "wins":
            return f"{kpi.label} ({kpi.unit}) x 91.25 / 30"
        return f"{kpi.label} ({kpi.unit}) per 91.25 days of the horizon"

    def amount(self, value: float) -> str:
        """A value of the target's KPI as printed: ``12.3`` wins, ``1,234,567`` money."""
        return f"{value:.1f}" if self.kpi == "wins" else f"{value:,.0f}"

    def change(self, value: float) -> str:
        """A signed change as printed: ``+0.71`` wins, ``+12,345`` money."""
        return f"{value:+.2f}" if self.kpi == "wins" else f"{value:+,.0f}"


def per_quarter(kpis: pd.DataFrame, scenario: Scenario) -> dict[str, np.ndarray]:
    """Wins, bookings and revenue per quarter of each run (rows of ``run_kpis``, in order).

    Wins are counted in the measured window (after the warm-up), like the
    registry's ``wins_per_30_days``; bookings and revenue are the registry's
    horizon totals spread over the horizon: money is counted over the whole
    horizon, as the team's cost is.
    """
    horizon_quarters = scenario.horizon_days / QUARTER_DAYS
    return {
        "wins": kpis["wins_per_30_days"].to_numpy(dtype=float) * QUARTER_DAYS / 30.0,
        "bookings": kpis["bookings"].to_numpy(dtype=float) / horizon_quarters,
        "revenue": kpis["revenue"].to_numpy(dtype=float) / horizon_quarters,
    }


def per_year(cost_over_horizon: float, scenario: Scenario) -> float:
    """A horizon total (the ``cost`` KPI) as a yearly amount."""
    return cost_over_horizon * 365.0 / scenario.horizon_days


def seat_cost_per_year(scenario: Scenario, role: str) -> float:
    """What one more rep in ``role`` costs a year: mean base salary of its level mix plus overhead.

    Commission and bonuses follow results and hiring is a one-off, so they are
    left out: this is the order in which the search tries roles, not the
    plan's cost (that is the simulated ``cost`` KPI).
    """
    levels = scenario.people.levels
    shares = getattr(levels.mix, role).shares()
    factor = sum(
        share * levels.get(level).salary_factor for share, level in zip(shares, LEVELS, strict=True)
    )
    return scenario.money.salary(role) * factor + scenario.money.overhead_per_head


def probability_reaching(values: np.ndarray, target: float) -> float:
    """Probability that the expected value behind ``values`` reaches ``target``.

    The replications' mean ``m`` with standard error ``s / sqrt(n)`` gives,
    read as a t distribution with ``n - 1`` degrees of freedom (the same one
    as the 95 % CI), ``P = T_{n-1}((m - target) / (s / sqrt(n)))``: 0.975 when
    the CI's lower bound sits on the target, 0.5 when the mean does. NaN with
    fewer than 2 values; 1 or 0 when every replication gives the same value.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return math.nan
    mean = float(x.mean())
    error = float(x.std(ddof=1)) / math.sqrt(len(x))
    if error == 0:
        return 1.0 if mean >= target else 0.0
    return float(stdtr(len(x) - 1, (mean - target) / error))


def check_settings(
    scenario: Scenario,
    target: float | Target,
    criterion: str,
    max_steps: int,
    label: str,
    budget_per_year: float | None = None,
    objective: str = "cost",
) -> list[str]:
    """One line per reason the settings cannot be planned (empty when they can)."""
    goal = target if isinstance(target, Target) else Target("wins", float(target))
    problems = []
    if not math.isfinite(goal.per_quarter) or goal.per_quarter <= 0:
        problems.append(f"{label}: {goal.flag}: must be a number above 0, got {goal.per_quarter:g}")
    if budget_per_year is not None and not (math.isfinite(budget_per_year) and budget_per_year > 0):
        problems.append(
            f"{label}: --budget-per-year: must be a number above 0, got {budget_per_year:g}"
        )
    if criterion not in ("ci_low", "mean"):
        problems.append(f"{label}: --criterion: must be ci_low or mean, got {criterion!r}")
    if criterion == "ci_low" and scenario.replications < 2:
        problems.append(
            f"{label}: --replications: the ci_low criterion needs at least 2 replications "
            f"(got {scenario.replications}); or use --criterion mean"
        )
    if max_steps < 1:
        problems.append(f"{label}: --max-steps: must be at least 1, got {max_steps}")
    if objective not in OBJECTIVES:
        problems.append(
            f"{label}: --objective: must be one of {', '.join(OBJECTIVES)}, got {objective!r}"
        )
    return problems
