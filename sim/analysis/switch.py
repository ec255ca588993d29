"""What a switch of structure costs and buys over time, against staying as you are.

A reorganised structure (``structures.<name>.reorganise``) starts as another
structure and switches on a day; the scenario's block of that other
structure is the run that stays as it is, on the same leads with the same
luck. Their difference per period, replication by replication (paired on
common random numbers), shows the dip after the switch and the recovery:
``switch_dip`` gives it with a 95 % confidence interval per period, and
``switch_summary`` the deepest period and the day the cumulative difference
since the switch comes back to zero (break-even). Time is in days; periods
are whole, as in ``over_time``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.stats import mean_ci
from sim.config.scenario import Scenario

SWITCH_MEASURES: dict[str, str] = {
    "wins": "wins per period",
    "bookings": "bookings per period (currency)",
}
"""What ``switch_dip`` compares per period: column -> what it counts."""


def switch_plans(scenario: Scenario, structures: tuple[str, ...]) -> dict[str, tuple[str, float]]:
    """Each reorganised structure run -> (the structure it starts as, its switch day).

    Only switches that happen in the horizon and whose starting structure was
    run too, as it is (the "stay as you are" run to compare with).
    """
    plans = {}
    for name in structures:
        day = _switch_day(scenario, name)
        start = getattr(scenario.structures, name).reorganise.from_structure if day else None
        if day is not None and start in structures and _switch_day(scenario, start) is None:
            plans[name] = (start, day)
    return plans


def _switch_day(scenario: Scenario, name: str) -> float | None:
    plan = getattr(scenario.structures, name).reorganise
    return None if plan is None else plan.switch_day(scenario.horizon_days)


def switch_dip(leads: pd.DataFrame, scenario: Scenario, bin_days: float = 30.0) -> pd.DataFrame:
    """Per period, a reorganised structure minus the structure it started as, paired.

    Returns:
        One row per (structure, measure, period): structure, from_structure,
        switch_day, measure (``SWITCH_MEASURES``), period_start_day,
        difference (mean over replications), ci_low, ci_high (95 %; NaN with
        one replication). Empty when the run has no switch to compare.
    """
    structures = tuple(str(s) for s in leads["structure"].cat.categories)
    plans = switch_plans(scenario, structures)
    edges = np.arange(0.0, scenario.horizon_days + 1e-9, bin_days)
    won = leads[leads["outcome"] == "won"]
    rows = []
    for name, (start, day) in plans.items():
        per_run = {measure: [] for measure in SWITCH_MEASURES}
        for _, run in won.groupby("replication"):
            moved = run[run["structure"] == name]
            stayed = run[run["structure"] == start]
            for measure, weights in (("wins", None), ("bookings", "deal_value")):
                ours = np.histogram(moved["end_day"], edges, weights=_of(moved, weights))[0]
                theirs = np.histogram(stayed["end_day"], edges, weights=_of(stayed, weights))[0]
                per_run[measure].append(ours - theirs)
        for measure, differences in per_run.items():
            values = np.array(differences, dtype=float)
            for k, period_start in enumerate(edges[:-1]):
                mean, low, high = mean_ci(values[:, k])
                rows.append((name, start, day, measure, period_start, mean, low, high))
    columns = [
        "structure", "from_structure", "switch_day", "measure", "period_start_day",
        "difference", "ci_low", "ci_high",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _of(wins: pd.DataFrame, column: str | None) -> np.ndarray | None:
    return None if column is None else wins[column].to_numpy(dtype=float)


def switch_summary(dip: pd.DataFrame) -> pd.DataFrame:
    """The dip and the recovery of each switch, per measure.

    Returns:
        One row per (structure, measure): structure, from_structure,
        switch_day, measure, deepest_period_start_day and deepest_difference
        (the period after the switch with the lowest mean difference),
        break_even_day (the end of the first period at which the cumulative
        mean difference since the switch is back at or above zero after
        falling below it; NaN if it never falls or never comes back), and
        difference_after_switch (the cumulative mean difference at the
        horizon's last whole period).
    """
    rows = []
    keys = ["structure", "from_structure", "switch_day", "measure"]
    for key, group in dip.groupby(keys, sort=False):
        after = group[group["period_start_day"] + _width(group) > key[2]]
        if after.empty:
            continue
        deepest = after.loc[after["difference"].idxmin()]
        cumulative = after["difference"].cumsum().to_numpy()
        ends = after["period_start_day"].to_numpy() + _width(group)
        rows.append(
            dict(
                zip(keys, key, strict=True),
                deepest_period_start_day=float(deepest["period_start_day"]),
                deepest_difference=float(deepest["difference"]),
                break_even_day=_break_even(cumulative, ends),
                difference_after_switch=float(cumulative[-1]),
            )
        )
    return pd.DataFrame(rows)


def _width(group: pd.DataFrame) -> float:
    starts = np.sort(group["period_start_day"].unique())
    return float(starts[1] - starts[0]) if len(starts) > 1 else 0.0


def _break_even(cumulative: np.ndarray, ends: np.ndarray) -> float:
    """The end of the first period back at or above zero after the sum fell below it."""
    below = np.flatnonzero(cumulative < 0)
    if not len(below):
        return math.nan
    back = np.flatnonzero((cumulative >= 0) & (np.arange(len(cumulative)) > below[0]))
    return float(ends[back[0]]) if len(back) else math.nan
