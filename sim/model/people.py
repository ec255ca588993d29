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
from statistics import NormalDist

from sim.config.scenario import LEVELS, LevelMix, PerformanceConfig


def role_levels(mix: LevelMix, first: int, count: int) -> list[str]:
    """The levels of a role's seats ``first`` to ``first + count - 1`` in a structure.

    Seats of a role are numbered across the whole structure (all pods), and
    seat ``j`` gets the level furthest behind its share after ``j + 1`` seats
    (ties to the more senior level). Every prefix is within one rep of the
    exact mix and there is no randomness, so a role's level mix is the same
    in a structure of one team as in one of several small teams (pods), and
    a one-rep team gets the role's most common level.
    """
    shares = mix.shares()
    counts = [0] * len(LEVELS)
    levels = []
    for seat in range(first + count):
        behind = [(seat + 1) * share - done for share, done in zip(shares, counts, strict=True)]
        pick = max(range(len(LEVELS)), key=lambda i: (behind[i], i))
        counts[pick] += 1
        levels.append(LEVELS[pick])
    return levels[first:]


def initial_tenure(seat: int, ramp_days: float, ramped_share: float) -> float:
    """Tenure (days) at day 0 of the rep in seat ``seat`` (numbered across the structure).

    Ramping seats are spread evenly over *all* seats of a structure (seat ``j``
    ramps when ``floor((j + 1) q)`` exceeds ``floor(j q)``, ``q`` the ramping
    share), not chosen per team: rounding per team would leave every one- or
    two-rep team fully ramped and favour structures of small teams (Pods). The
    ``r``-th ramping seat gets tenure ``ramp_days * frac(r * golden ratio)``:
    the first at 0, the others spread over the ramp without randomness.
    """
    ramping = 1.0 - ramped_share
    if math.floor((seat + 1) * ramping) == math.floor(seat * ramping):
        return ramp_days
    rank = math.floor(seat * ramping)
    return ramp_days * ((rank * 0.6180339887498949) % 1.0)


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


def person_factors(
    level_pass: float,
    level_effort: float,
    skill_z: float,
    performance: PerformanceConfig | None,
    weak_can_hide: bool,
) -> tuple[float, float]:
    """A ramped person's multipliers on pass probability and effort.

    The level's factors times the person's skill: a mean-1 log-normal factor
    ``exp(sd * z - sd^2 / 2)`` on pass probability, and the same on pace (effort
    is divided by it). A below-median person (z < 0) whose pay depends on the
    team's results and whose own numbers nobody watches also takes
    ``free_ride_effort_factor`` times longer per task.
    """
    if performance is None:
        return level_pass, level_effort
    skill_sd, pace_sd = performance.skill_sd, performance.pace_sd
    skill = math.exp(skill_sd * skill_z - 0.5 * skill_sd * skill_sd)
    pace = math.exp(pace_sd * skill_z - 0.5 * pace_sd * pace_sd)
    effort = level_effort / pace
    if weak_can_hide and skill_z < 0:
        effort *= performance.free_ride_effort_factor
    return level_pass * skill, effort


def coaching_gain(relative_time: float, gain: float) -> float:
    """Pass-probability multiplier from coaching time, relative to an even share.

    Returns diminish: ``1 + gain * (1 - exp(-r)) / (1 - exp(-1))``, so an even
    share (r = 1) gives ``1 + gain``, no time gives 1, and nine times an even
    share gives less than twice the gain of one.
    """
    return 1.0 + gain * (1.0 - math.exp(-relative_time)) / (1.0 - math.exp(-1.0))


def coaching_factors(
    skill_z: list[float], performance: PerformanceConfig
) -> tuple[list[float], float]:
    """How a manager's coaching time lifts each person of a team for one period.

    With ``coaching_focus = "poor_performers"`` the weakest
    ``poor_performer_share`` of the people present (at least one, by skill,
    ties to the earlier seat) take ``poor_performer_time_share`` of the time
    and the rest share what is left; with "even", everyone gets the same.
    A team of one gets all the time, which is an even share.

    Returns:
        The multiplier of each person, and the one of a person who is not a
        poor performer (what a new hire gets until the next period).
    """
    gain = performance.coaching_gain
    n = len(skill_z)
    even = coaching_gain(1.0, gain)
    if performance.coaching_focus == "even" or n < 2:
        return [even] * n, even
    poor = max(1, round(performance.poor_performer_share * n))
    time_share = performance.poor_performer_time_share
    poor_factor = coaching_gain(time_share * n / poor, gain)
    rest_factor = coaching_gain((1.0 - time_share) * n / (n - poor), gain)
    weakest = set(sorted(range(n), key=lambda k: skill_z[k])[:poor])
    return [poor_factor if k in weakest else rest_factor for k in range(n)], rest_factor


def weak_skill_threshold(weak_share: float) -> float:
    """Skill score below which a person is in the bottom ``weak_share`` of hires."""
    return NormalDist().inv_cdf(weak_share)
