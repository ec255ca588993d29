"""What the market offers each seat a year: the basis of the quota rule.

Sales managers set a territory's quota from its potential: what the leads
arriving in it would bring if every one were worked at once by an average rep.
The scenario alone says that potential (no simulation): leads a year (the
arrival rate over the horizon, seasonality included, referrals left out: they
come from the team's own wins), the chance an average lead passes each stage
(the stage's ``pass_prob`` shifted by latent lead quality, averaged over
quality), and the mean deal value (segment and tier mix averaged over the
horizon). Everything that differs between structures or people (handoff
drops, waiting that cools a lead, competitors that get there first, the
generalist penalty, skill, seniority, segment expertise) is left out on
purpose: the quota asks the same of every structure, and what a structure
loses against it shows in attainment.

Each role's potential is shared equally among the structure's seats of that
role. A working team realises only part of it, and loses more the further
down the funnel a role's credit lies, so the quota counts each stage up to
the credited one at ``quotas.stage_realisation`` of its pass chance: with 0.7
a lead-generation seat is asked for 70 % of its share of meetings, a
qualifier for 49 % of its opportunities, a closer for 34 % of its bookings
(``Scenario.quota``). A role's credit is what counts towards its quota:
meetings booked (leads that pass prospecting) for lead generation, qualified
opportunities (leads that pass qualification) for qualifiers, and bookings
(first-year value of the deals won) for closers and generalists. Account
managers carry a net-revenue-retention quota, a ratio the market does not set.
Pure Python and numpy: nothing here imports SimPy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.config.base import STAGE_ROLES, STAGES
from sim.config.market import arrival_rate, deal_value_drift, shaped

if TYPE_CHECKING:
    from sim.config.schema import Scenario

QUALITY_NODES = 64
"""Gauss-Hermite nodes for the average over lead quality (exact to 1e-12 for smooth curves)."""

DRIFT_STEPS = 1001
"""Points at which drifting segment shares are averaged over the horizon."""

CREDITED_STAGE: dict[str, int] = {"lead_gen": 0, "qualifier": 1, "closer": 2, "generalist": 2}
"""The last stage a lead must pass to count towards the role's quota (its index in ``STAGES``)."""

BOOKINGS_ROLES = ("closer", "generalist")
"""Roles whose credit is bookings (currency); the others count leads passed."""


def organic_leads(scenario: Scenario) -> float:
    """Expected leads arriving in one replication: the integral of the arrival rate.

    The rate is ``arrivals_per_day * (1 + amplitude * cos(2 pi (t - peak) / 365))``
    over ``[0, horizon)`` (``leads.arrival_times``), times the monthly factors and
    the trend when there are some; segments only share it out.
    """
    cfg = scenario.leads
    horizon = scenario.horizon_days
    if shaped(cfg):  # months, trend, campaigns: the rate integrated numerically
        days, rate = _arrival_rate_curve(scenario)
        return float(np.trapezoid(rate, x=days))
    omega = 2.0 * math.pi / 365.0
    swing = (
        math.sin(omega * (horizon - cfg.seasonality_peak_day))
        - math.sin(omega * -cfg.seasonality_peak_day)
    ) / omega
    return cfg.arrivals_per_day * (horizon + cfg.seasonality_amplitude * swing)


def _arrival_rate_curve(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """The arrival rate (leads a day) on a fine grid of the horizon (days, rate)."""
    days = np.linspace(0.0, scenario.horizon_days, 20_001)
    return days, arrival_rate(scenario.leads, days)


def mean_value_drift(scenario: Scenario) -> float:
    """Mean deal-value drift over the horizon's leads (1 without drift).

    Each lead's value is multiplied by ``deal_value_drift`` at its arrival day,
    so the mean is that factor averaged with the arrival rate as the weight.
    """
    if not scenario.leads.deal_value_growth_per_year:
        return 1.0
    days, rate = _arrival_rate_curve(scenario)
    drift = deal_value_drift(scenario.leads, days)
    return float(np.trapezoid(rate * drift, x=days) / np.trapezoid(rate, x=days))


def reach_probabilities(scenario: Scenario) -> np.ndarray:
    """Chance an average lead passes stage 0, stages 0-1 and stages 0-2 (is won).

    A lead of quality ``q`` (standard normal) passes stage ``s`` with
    ``1 / (1 + exp(-(logit p_s + w q)))`` (``lead_table.lead_pass_probabilities``);
    its stages share that ``q``, so the chance of passing several is the
    average over ``q`` of the product, by Gauss-Hermite quadrature.
    """
    base = np.array([scenario.stages.get(s).pass_prob for s in STAGES])
    weight = scenario.leads.quality_weight
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUALITY_NODES)
    weights = weights / weights.sum()
    with np.errstate(divide="ignore"):
        logit = np.log(base) - np.log1p(-base)
    shifted = 1.0 / (1.0 + np.exp(-(logit[None, :] + weight * nodes[:, None])))
    shifted = np.where((base == 0.0) | (base == 1.0), base[None, :], shifted)
    # Products summed by numpy, not ``@``: OpenBLAS picks its kernel by processor, and
    # one with AVX-512 gave other last bits (other quotas, other output hashes).
    return (weights[:, None] * np.cumprod(shifted, axis=1)).sum(axis=0)


def mean_segment_multiplier(scenario: Scenario) -> float:
    """Mean deal-value multiplier of the segment mix, shares drifting linearly over the horizon."""
    segments = scenario.leads.segments
    start = np.array([s.share for s in segments])
    end = np.array([s.share if s.share_at_end is None else s.share_at_end for s in segments])
    progress = np.linspace(0.0, 1.0, DRIFT_STEPS)[:, None]
    shares = start[None, :] * (1.0 - progress) + end[None, :] * progress
    shares /= shares.sum(axis=1, keepdims=True)
    multipliers = np.array([s.value_multiplier for s in segments])
    return float((shares * multipliers).sum(axis=1).mean())  # not ``@``: reach_probabilities


def mean_deal_value(scenario: Scenario) -> float:
    """Mean first-year value of a lead's deal if won (currency); quality does not move it."""
    tiers = scenario.leads.tiers
    tier_shares = np.array([t.share for t in tiers])
    tier_multiplier = float(
        (tier_shares * np.array([t.value_multiplier for t in tiers])).sum() / tier_shares.sum()
    )
    return (
        scenario.leads.mean_deal_value
        * mean_segment_multiplier(scenario)
        * tier_multiplier
        * mean_value_drift(scenario)
    )


def market_potential_per_year(scenario: Scenario, role: str) -> float:
    """What the market offers a role a year, in the role's credit unit (leads or currency)."""
    leads_per_year = organic_leads(scenario) * 365.0 / scenario.horizon_days
    reached = leads_per_year * float(reach_probabilities(scenario)[CREDITED_STAGE[role]])
    return reached * mean_deal_value(scenario) if role in BOOKINGS_ROLES else reached


def seats(scenario: Scenario, structure: str, role: str) -> int:
    """Seats of ``role`` in ``structure`` as configured (0 when it has none)."""
    config = getattr(scenario.structures, structure)
    if config is None or role not in STAGE_ROLES[structure]:
        return 0
    if structure == "allin":
        return config.generalists
    field = {"lead_gen": "lead_gen", "qualifier": "qualifiers", "closer": "closers"}.get(
        role, "account_managers"
    )
    if structure == "pods":
        return sum(getattr(pod, field) for pod in config.pods)
    return getattr(config, field)


def planned_seats(scenario: Scenario, structure: str, role: str) -> float:
    """The hiring plan's seats of ``role``, each counted for the share of the horizon it is filled.

    A closer starting half-way through the horizon takes half a seat of the
    market's potential, so the quotas of a growing team add up as those of a
    fixed one do.
    """
    config = getattr(scenario.structures, structure)
    if config is None:
        return 0.0
    horizon = scenario.horizon_days
    lag = scenario.people.turnover.hiring_lag_days
    filled = 0.0
    for hire in config.hires:
        if hire.role == role:
            filled += hire.count * max(0.0, horizon - hire.start_day(lag)) / horizon
    return filled


def potential_quota(scenario: Scenario, structure: str, role: str) -> float | None:
    """Annual quota of a seat by the rule: its equal share of the role's potential, discounted.

    Each stage up to the credited one counts ``quotas.stage_realisation`` of
    its pass chance (a working team loses leads at every stage, so the
    discount compounds down the funnel). None for a role the market does not
    set a quota for (account managers) or that the structure does not have.
    """
    count = seats(scenario, structure, role) + planned_seats(scenario, structure, role)
    if role not in CREDITED_STAGE or count == 0:
        return None
    discount = scenario.quotas.stage_realisation ** (CREDITED_STAGE[role] + 1)
    return discount * market_potential_per_year(scenario, role) / count
