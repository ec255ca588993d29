"""What the processes of one structure run share, in small parts with one owner each.

Like a sales floor's noticeboards: the calendar (``Clock``: today, the
horizon, the quota periods), the rulebook for working a lead
(``JourneyRules``, ``TierRules``), the book of accounts (``AccountsBook``),
and beside them the lead log (``records.LeadLog``), the leads
(``lead_table.LeadBook``), the people (``staffing.Staffing``), the teams
(``teams.Org``) and the routing rules (``routing.Routing``). ``Run`` pins
them together; ``structures.build_run`` builds every part before the first
event, and no part is replaced afterwards.

Who writes what while the run goes on:

- ``Clock``, ``TierRules``, ``JourneyRules``, ``routing.Routing``: nobody (frozen;
  ``Routing.of`` sets up the teams' queues and slot boards); ``Clock.add_busy``
  writes to the ``RepLog`` it is given.
- ``LeadLog``: the lead journey, account care and advocacy (``log.add_lead``
  for each referral).
- ``LeadBook``: ``referrals.referral_arrivals`` only.
- ``AccountsBook``: account care (``quiet``) and go-live (the ``ops`` pool).
- ``Staffing``: team construction and turnover (``seat_person``), quota periods
  (``set_person_factors``).
- ``Org``: its teams and reps are the moving parts (queues, owners, loads).

Time unit: days.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.config.scenario import (
    STAGES,
    AccountsConfig,
    FulfilmentConfig,
    OverflowConfig,
    ReferralsConfig,
    Scenario,
    TurnoverConfig,
)
from sim.model.calendar import WorkCalendar
from sim.model.people import period_edges
from sim.model.pools import Pool
from sim.model.records import LeadLog, RepLog

if TYPE_CHECKING:
    from sim.model.expertise import SegmentExperience
    from sim.model.lead_table import LeadBook
    from sim.model.referrals import Advocacy
    from sim.model.reorganisation import Reorganisation
    from sim.model.routing import Routing
    from sim.model.staffing import Staffing
    from sim.model.teams import Org


@dataclass(frozen=True, slots=True)
class Clock:
    """The run's calendar: the environment's now, the horizon, the warm-up, quota periods.

    Attributes:
        env: the environment (its ``now`` is the run's day).
        horizon_days: the run stops here.
        warmup_days: busy time before this day is not counted.
        period_days: length of a quota period.
        period_edges: start of every quota period and the horizon.
        last_period: index of the last quota period.
        calendar: the reps' working days and hours; None = around the clock.
    """

    env: simpy.Environment
    horizon_days: float
    warmup_days: float
    period_days: float
    period_edges: list[float]
    last_period: int
    calendar: WorkCalendar | None = None

    @classmethod
    def of(cls, env: simpy.Environment, scenario: Scenario) -> Clock:
        """The calendar of a run of ``scenario`` in ``env``."""
        edges = period_edges(scenario.horizon_days, scenario.quotas.period_days)
        return cls(
            env,
            scenario.horizon_days,
            scenario.warmup_days,
            scenario.quotas.period_days,
            edges,
            len(edges) - 2,
            WorkCalendar.of(scenario),
        )

    def period_of(self, day: float) -> int:
        """Index of the quota period that contains ``day``."""
        period = int(day / self.period_days)
        return period if period < self.last_period else self.last_period

    def add_busy(self, record: RepLog, start: float, end: float) -> None:
        """Credit a person with work done in [start, end], split by quota period.

        With a calendar, what is credited is the working time in [start, end]
        (working days of the person's seat), else the calendar time.
        """
        low = start if start >= self.warmup_days else self.warmup_days
        high = end if end <= self.horizon_days else self.horizon_days
        if high <= low:
            return
        period = self.period_of(low)
        edges = self.period_edges
        if self.calendar is not None:
            days = self.calendar.seats[record.rep_id]
            low, high = days.worked(low), days.worked(high)
            edges = days.worked_at(edges)
        while period < self.last_period and high > edges[period + 1]:
            record.busy_days[period] += edges[period + 1] - low
            low, period = edges[period + 1], period + 1
        record.busy_days[period] += high - low


@dataclass(frozen=True, slots=True)
class TierRules:
    """What a lead's size tier changes, by tier index (lead journey and account care).

    Attributes:
        effort: multiplier on every effort (key accounts need more work).
        complexity: multiplier on context lost at a relay.
        senior_rule: (pass factor, churn multiplier) when a key account is worked
            without a senior; None = no rule for the tier (or levels off).
    """

    effort: tuple[float, ...]
    complexity: tuple[float, ...]
    senior_rule: tuple[tuple[float, float] | None, ...]

    @classmethod
    def of(cls, scenario: Scenario) -> TierRules:
        """The tier rules of ``scenario``."""
        tiers = scenario.leads.tiers
        return cls(
            effort=tuple(t.effort_multiplier for t in tiers),
            complexity=tuple(t.complexity for t in tiers),
            senior_rule=tuple(
                (t.without_senior_pass_factor, t.without_senior_churn_multiplier)
                if t.senior_required and scenario.people.levels.enabled
                else None
                for t in tiers
            ),
        )


@dataclass(frozen=True, slots=True)
class JourneyRules:
    """The scenario's numbers a lead's journey reads at every stage.

    Attributes:
        mean_effort_days, mean_lag_days: per stage, before the lead's units.
        patience_days: mean patience in a queue; None = leads wait forever.
        half_life_days: waiting time that halves a pass probability; None = no decay.
        competition: whether competitors decide (``COMPETITOR_DAY`` of a lead's row).
        overflow: Pods' overflow rule (threshold and relay), None outside Pods.
        turnover: whether people leave (a lead's owner may resign).
        lose_on_departure: whether a leaver's open deals are lost (else reassigned).
    """

    mean_effort_days: tuple[float, ...]
    mean_lag_days: tuple[float, ...]
    patience_days: float | None
    half_life_days: float | None
    competition: bool
    overflow: OverflowConfig | None
    turnover: bool
    lose_on_departure: bool

    @classmethod
    def of(cls, scenario: Scenario) -> JourneyRules:
        """The journey rules of ``scenario``."""
        turnover = scenario.people.turnover
        pods = scenario.structures.pods
        return cls(
            mean_effort_days=tuple(scenario.stages.get(s).mean_effort_days for s in STAGES),
            mean_lag_days=tuple(scenario.stages.get(s).mean_lag_days for s in STAGES),
            patience_days=scenario.decay.mean_patience_days,
            half_life_days=scenario.decay.half_life_days,
            competition=scenario.competition.enabled,
            overflow=pods.overflow if pods is not None else None,
            turnover=turnover.enabled,
            lose_on_departure=turnover.enabled and turnover.open_deals == "lose",
        )


class AccountsBook:
    """The book of accounts: their rules, their seeds, the ops team, the quiet accounts.

    Attributes:
        cfg: the ``[accounts]`` block.
        seed: parent of each account's own generator (keyed by the lead's key).
        fulfilment: the go-live rules, None when off.
        ops: the operations team that implements new customers, None when off.
        referrals: the referral rules, None when off.
        turnover: the turnover rules (a leaver's accounts turn fragile), None when off.
        quiet_reviews: reviews can do nothing but recognise revenue (no effort,
            churn, expansion, turnover or referrals): such accounts need no process.
        quiet: the accounts whose reviews ``accounts.finish_accounts`` replays
            (appended by account care).
        first_reviews: (lead, key, reviews) of the accounts whose first review
            is to come and whose draws are not made yet (``accounts.review_draws``).
        review_draws: the draws made for accounts before their first review, by lead.
        advocate_candidates: accounts one good review short of advocacy whose
            referral days are not drawn yet (``referrals.draw_days_together``).
        prospects_due: advocates with a referral chance come due whose prospects
            are not drawn yet (``referrals.Advocacy.chance``).
    """

    __slots__ = (
        "cfg",
        "seed",
        "fulfilment",
        "ops",
        "referrals",
        "turnover",
        "quiet_reviews",
        "quiet",
        "first_reviews",
        "review_draws",
        "advocate_candidates",
        "prospects_due",
    )

    def __init__(self, env: simpy.Environment, scenario: Scenario, seed: np.random.SeedSequence):
        cfg: AccountsConfig = scenario.accounts
        fulfilment, referrals = scenario.fulfilment, scenario.referrals
        turnover = scenario.people.turnover
        self.cfg = cfg
        self.seed = seed
        self.fulfilment: FulfilmentConfig | None = fulfilment if fulfilment.enabled else None
        self.ops = Pool(env, capacity=fulfilment.ops_staff) if fulfilment.enabled else None
        self.referrals: ReferralsConfig | None = referrals if referrals.enabled else None
        self.turnover: TurnoverConfig | None = turnover if turnover.enabled else None
        self.quiet_reviews = (
            cfg.mean_review_effort_days == 0
            and cfg.churn_prob_per_review == 0
            and cfg.expansion_prob_per_review == 0
            and self.turnover is None
            and self.referrals is None
        )
        self.quiet: list[int] = []
        self.first_reviews: list[tuple[int, tuple[int, ...], int]] = []
        self.review_draws: dict[int, tuple[array, array, array]] = {}
        self.advocate_candidates: list[Advocacy] = []
        self.prospects_due: list[Advocacy] = []


@dataclass(frozen=True, slots=True)
class Run:
    """Every part of one structure run, built before the first event (``structures.build_run``).

    The lead journey and account care read most parts; other processes take
    only the part they need (``staffing.seat_turnover`` the staffing,
    ``work.stage_work`` the clock).
    """

    clock: Clock
    log: LeadLog
    leads: LeadBook
    tiers: TierRules
    rules: JourneyRules
    accounts: AccountsBook
    staffing: Staffing
    org: Org
    routing: Routing
    experience: SegmentExperience | None = None  # the learning curve, None when off
    reorganisation: Reorganisation | None = None  # a switch of structure at a day, if any
