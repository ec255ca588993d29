"""The plan's profit objective: from the cheapest team that reaches the target, the most profitable.

The cost objective stops at the cheapest team whose target holds. A sales
leader may rather ask for the team that earns most while it reaches the
target: one more closer costs a salary but may win deals worth more. With
``objective="profit"`` (or ``"profit_with_book"``, which counts the value of
the book built, ``sim.analysis.kpis``) the search then climbs: each round it
adds one rep to every searched role in turn (busiest first) and keeps the
change with the largest paired gain in the objective, if that gain's 95 % CI
is above 0 (common random numbers, with more replications where the gain is
open, ``_Search.tried``), the target still holds and the team stays within the
budget. It stops when no added rep raises the objective significantly, or at
``max_steps``.

Removals are not tried: the trim before has left a team from which no single
rep can be removed without breaking the target.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.plan.evaluation import Evaluation, Step
from sim.plan.team import Unit, unit_label

if TYPE_CHECKING:
    from sim.plan.search import _Search


def climb(search: _Search, current: Evaluation, objective: str, budget: float | None) -> Evaluation:
    """Add reps while the best one raises ``objective`` significantly; the team reached."""
    while not search.out_of_steps():
        best = _best_added_rep(search, current, objective, budget)
        if best is None:
            return current
        current = best
    return current


def _best_added_rep(
    search: _Search, current: Evaluation, objective: str, budget: float | None
) -> Evaluation | None:
    """One more rep in each searched role; the best one that counts, or None.

    Every trial is recorded once all are tried, so each says whether it was kept.
    """
    tried: list[tuple[Evaluation, float, tuple[float, float], str, Unit]] = []
    for unit in search.busiest_first(current):
        if search.out_of_steps():
            break
        trial, gain = search.tried(
            current, {**current.team, unit: current.team[unit] + 1}, objective
        )
        gain_ci = search.last_gain_ci
        why = _why_not(search, trial, gain, budget)
        trial = search.level(trial)  # deciding may have given it more replications
        tried.append((trial, gain, gain_ci, why, unit))
    counted = [t for t in tried if not t[3]]
    best = max(counted, key=lambda t: t[1], default=None)
    for trial, gain, ci, why, unit in tried:
        kept = best is not None and best[4] == unit
        if not why:
            why = f"{objective} {_signed(gain)} ({_interval(ci)})" + (
                "" if kept else ": another role gains more"
            )
        step = Step(
            len(search.steps), "profit", f"+1 {unit_label(unit)}", kept, why, trial, gain, *ci
        )
        search.record(step)
    return None if best is None else best[0]


def _why_not(search: _Search, trial: Evaluation, gain: float, budget: float | None) -> str:
    """Why an added rep does not count ("" when it does)."""
    low, high = search.last_gain_ci
    if not gain > 0 or (math.isfinite(low) and low <= 0):
        return f"{_signed(gain)} ({_interval((low, high))}): no significant gain"
    if not search.meets(trial):
        return "the target breaks"
    if budget is not None and trial.cost_per_year > budget:
        return f"over budget ({trial.cost_per_year:,.0f} a year)"
    return ""


def _signed(value: float) -> str:
    return f"{value:+,.0f}"


def _interval(ci: tuple[float, float]) -> str:
    low, high = ci
    return f"95 % CI {_signed(low)} to {_signed(high)}" if math.isfinite(low) else "guessing: no CI"


__all__ = ["climb"]
