"""Whether a calibration can reproduce its export, and what the terminal says of it.

Before a scenario is written, ``calibration_problems`` refuses one whose team
could not carry the export's volume or whose pass probabilities do not add up
to the export's wins; ``calibration_lines`` says what was found and which rule
made each number.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.scenario import STAGES
from sim.crm import capacity
from sim.crm.calibrate import Calibration
from sim.crm.estimates import measured
from sim.crm.read import STALE_FACTOR, closed_cycles

WINS_TOLERANCE = 0.10
"""How far the wins the calibrated rates imply may be from the export's (share of them)."""

MAX_UTILISATION = 1.0
"""A role the calibrated work keeps this busy or more cannot carry the observed volume."""


def matured_wins(cal: Calibration) -> tuple[float, int, int]:
    """Wins the calibrated rates imply among the leads old enough to have finished, and history's.

    A lead is old enough when it arrived longer before the export's end than
    95 % of the won deals' cycles (arrival to win). Such a lead wins with the
    product of the stage pass probabilities, less the share dropped at each
    relay and the share of leads that went cold. Newer leads are left out: how
    many of them have won yet depends on the cycle, not on the rates.

    Returns:
        The implied wins, the wins in history among the same leads, and their number.
    """
    df = cal.history.leads
    won = df["outcome"].astype(str) == "won"
    cycles = closed_cycles(df)
    if len(cycles) == 0:
        return 0.0, 0, 0
    matured = df["arrival_day"] <= cal.history.as_of_day - float(np.quantile(cycles, 0.95))
    win = math.prod(measured(p) for p in cal.pass_prob.values())
    win *= (1.0 - measured(cal.handoff_drop_prob)) ** (len(STAGES) - 1)  # both relays
    win *= 1.0 - cal.went_cold / len(df)
    return win * int(matured.sum()), int((won & matured).sum()), int(matured.sum())


def calibration_problems(cal: Calibration, label: str) -> list[str]:
    """Why the calibrated scenario could not reproduce the export: one line each (none = fine)."""
    problems = []
    for role, load in cal.expected_utilisation.items():
        if load >= MAX_UTILISATION:
            problems.append(
                f"{label}: structures.{cal.structure}.{role}: the calibrated work would keep "
                f"them {load:.0%} busy{_in_busiest(cal)}: the team could not carry the "
                "export's volume (check which columns name the owners, or the effort per stage)"
            )
    implied, history_wins, leads = matured_wins(cal)
    # A small export's win count is noisy: beyond 3 Poisson standard deviations too.
    allowed = max(WINS_TOLERANCE * history_wins, 3.0 * math.sqrt(implied))
    if history_wins and abs(implied - history_wins) > allowed:
        problems.append(
            f"{label}: the calibrated pass probabilities imply {implied:,.0f} wins among the "
            f"{leads:,} leads old enough to have finished, the export has {history_wins:,} "
            f"(more than {WINS_TOLERANCE:.0%} apart, and more than chance allows): the "
            "stages' outcomes do not add up"
        )
    return problems


def _in_busiest(cal: Calibration) -> str:
    return " in the busiest month" if cal.busiest_month > 1.0 else ""


def calibration_lines(cal: Calibration) -> list[str]:
    """What calibration found, for the terminal: rates, team, and the checks it passed."""
    history = cal.history
    lines = [
        f"{history.label}: {len(history.leads):,} leads over {history.as_of_day:.0f} days",
        f"  arrivals per day {cal.arrivals_per_day.value:.3g} ({cal.arrivals_per_day.comment()})",
    ]
    lines += [
        f"  {stage} pass_prob {p.value:.3f} ({p.comment()})" for stage, p in cal.pass_prob.items()
    ]
    if not cal.pods:  # pods carry their own headcounts
        lines += [f"  {role} {capacity.seats(c)}: {c.note}" for role, c in cal.headcount.items()]
    lines += [
        f"  pod {pod['name']} {role} {capacity.seats(c)}: {c.note}"
        for pod in cal.pods
        for role, c in pod["headcount"].items()
    ]
    if cal.stale_open:
        lines.append(f"  {stale_sentence(cal)}")
    if cal.cycle_fit is not None:
        lines += [f"  {line}" for line in cal.cycle_fit.lines()]
    busy = ", ".join(f"{role} {load:.0%}" for role, load in cal.expected_utilisation.items())
    month = (
        f"in the busiest month ({cal.busiest_month:.2f} x the mean arrivals)"
        if cal.busiest_month > 1.0
        else "at the mean arrivals"
    )
    lines.append(f"  expected utilisation {month}, the busiest pod for Pods: {busy}")
    implied, wins, leads = matured_wins(cal)
    if leads:
        lines.append(
            f"  wins among the {leads:,} leads old enough to have finished: {wins:,} in the "
            f"export, {implied:,.0f} implied by the calibrated rates"
        )
    return lines


def stale_sentence(cal: Calibration) -> str:
    """Which open deals counted as gone cold, and why."""
    return (
        f"{cal.stale_open:,} open deals idle for more than {cal.stale_after_days:.0f} days "
        f"({STALE_FACTOR:g} x the won deals' 95th-percentile cycle) count as gone cold, "
        "not as alive: lost where they stood"
    )
