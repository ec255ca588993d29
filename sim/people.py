"""People arithmetic shared by the simulation and the metrics: levels, ramp, quota.

Pure functions, no SimPy and no pandas: the SimPy processes use them while a
run goes on (a ramping rep's pace, whether a rep missed quota last period) and
``metrics.py`` uses the same functions afterwards, so the two can never
disagree about what a rep's quota was.

Ramp-up is linear in tenure: on day 0 a new hire works at
``start_productivity`` of a ramped rep's pace (and their leads pass with
``start_pass_prob_factor`` of the usual probability); both rise in a straight
line to 1 at ``ramp_days``. Time unit: days.
"""

from __future__ import annotations

import math

from sim.scenario import LEVELS, LevelMix


def assign_levels(headcount: int, mix: LevelMix) -> list[str]:
    """The level of each seat of a team, deterministically (largest remainder).

    No randomness, so every structure and replication gets the same mix for
    the same headcount, and a one-rep team gets its role's most common level.

    Returns:
        ``headcount`` level names, juniors first.
    """
    shares = mix.shares()
    exact = [share * headcount for share in shares]
    counts = [math.floor(x) for x in exact]
    # Hand the remaining seats to the largest remainders; ties go to the more senior level.
    by_remainder = sorted(range(len(LEVELS)), key=lambda i: (exact[i] - counts[i], i), reverse=True)
    for i in by_remainder[: headcount - sum(counts)]:
        counts[i] += 1
    return [level for level, count in zip(LEVELS, counts, strict=True) for _ in range(count)]


def initial_tenures(headcount: int, ramp_days: float, ramped_share: float) -> list[float]:
    """Tenure (days) of each seat's rep at day 0.

    ``round(headcount * ramped_share)`` reps are fully ramped; the others are
    spread evenly over the ramp (the newest at tenure 0), as a team that has
    been hiring steadily would be.
    """
    ramped = round(headcount * ramped_share)
    ramping = headcount - ramped
    return [ramp_days] * ramped + [ramp_days * k / ramping for k in range(ramping)]


def ramp_factor(tenure_days: float, ramp_days: float, start: float) -> float:
    """Ramp factor at a tenure: ``start`` on day 0, rising linearly to 1 at ``ramp_days``."""
    if tenure_days >= ramp_days:
        return 1.0
    return start + (1.0 - start) * max(tenure_days, 0.0) / ramp_days


def mean_ramp_factor(first_day: float, last_day: float, ramp_days: float, start: float) -> float:
    """Mean ramp factor over the tenure interval [first_day, last_day] (exact integral)."""
    if last_day <= first_day:
        return ramp_factor(first_day, ramp_days, start)
    if ramp_days <= 0 or first_day >= ramp_days:
        return 1.0
    cut = min(last_day, ramp_days)
    # On [first_day, cut] the factor is linear, so its mean is the mean of the ends.
    ramping = (
        (cut - first_day)
        * 0.5
        * (ramp_factor(first_day, ramp_days, start) + ramp_factor(cut, ramp_days, start))
    )
    return (ramping + (last_day - cut)) / (last_day - first_day)


def period_quota(annual_quota: float, days_present: float, mean_ramp: float) -> float:
    """A rep's quota for one period: annual quota prorated by days present and ramp."""
    return annual_quota * days_present / 365.0 * mean_ramp


def period_edges(horizon_days: float, period_days: float) -> list[float]:
    """Start of every quota period and the horizon: [0, p, 2p, ..., horizon]."""
    count = math.ceil(horizon_days / period_days - 1e-9)
    return [min(k * period_days, horizon_days) for k in range(count)] + [horizon_days]
